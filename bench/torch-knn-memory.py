#!/usr/bin/python3
"""Memory and time of clim_torch's kNN over a replicated 1.28M × 128 bank
(issue 18: replicated or sharded?). Peak resident memory before the bank,
with it, and after one 64-query search (k = 10), which runs in blocks so no
64 × 1.28M matrix is held.

  /usr/bin/python3 bench/torch-knn-memory.py [--rows 1280000] [--dim 128]
"""
import argparse
import resource
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / 'python'))
from clim_torch.knn import knn  # noqa: E402


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument('--rows', type=int, default=1_280_000)
    ap.add_argument('--dim', type=int, default=128)
    a = ap.parse_args()
    torch.manual_seed(0)
    before = peak_mb()
    bank = torch.randn(a.rows, a.dim)
    bank /= bank.norm(dim=1, keepdim=True)  # in place: no second copy in the peak
    with_bank = peak_mb()
    q = torch.arange(64)
    t = time.perf_counter()
    knn(bank[q], bank, 10, q)
    ms = (time.perf_counter() - t) * 1000
    print(f'bank {bank.numel() * 4 / 1e6:.0f} MB; peak RSS {before:.0f} MB before, {with_bank:.0f} MB with the bank, '
          f'{peak_mb():.0f} MB after a 64-query kNN (k = 10) taking {ms:.0f} ms on {torch.get_num_threads()} thread(s)')


if __name__ == '__main__':
    main()
