#!/usr/bin/python3
"""Images per second of python/clim_torch for 1 and N processes (issue 18).

Trains the same config and global batch under `python -m clim_torch.train`
(1 process) and `torchrun --nproc_per_node N` (gloo on CPU, NCCL on CUDA)
on one image folder, alternating the two several times so a busy machine
hurts both alike, and writes bench/results/torch-scaling.json with the
median images/s of the steps after a warm-up (the report's per-step `ms`,
which excludes evaluation and set-up).

  /usr/bin/python3 bench/torch-scaling.py --data /tmp/fm --config run.json \
      [--procs 2] [--steps 60] [--warmup 10] [--rounds 2] [--batch 128]

`--batch` is the global batch: each of N processes takes batch/N images
(clim_torch's batchSize is per process). Steps inside the CLIM warm-up and
k-means steps are part of the median, as in any run of the same length.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run(procs: int, cfg: dict, data: str, steps: int) -> list:
    """Per-step ms of one run with `procs` processes (history of its report)."""
    with tempfile.TemporaryDirectory() as tmp:
        cfg_path = Path(tmp) / 'run.json'
        cfg_path.write_text(json.dumps(cfg))
        out = Path(tmp) / 'out'
        module = ['-m', 'clim_torch.train', '--config', str(cfg_path), '--data', data,
                  '--steps', str(steps), '--out', str(out), '--quiet']
        if procs == 1:
            cmd = [sys.executable, *module]
        else:
            # Debian's torch 1.13: torchrun needs --redirects/--tee (docs/METHOD.md §8).
            cmd = [sys.executable, '-m', 'torch.distributed.run', '--nproc_per_node', str(procs),
                   '--redirects', '1', '--tee', '1', *module]
        env = dict(os.environ, PYTHONPATH=str(ROOT / 'python'), PYTHONDONTWRITEBYTECODE='1')
        subprocess.run(cmd, cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL)
        report = json.loads((out / 'report.json').read_text())
        return [h['ms'] for h in report['history']]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--data', required=True)
    ap.add_argument('--config', required=True)
    ap.add_argument('--procs', type=int, default=2)
    ap.add_argument('--steps', type=int, default=60)
    ap.add_argument('--warmup', type=int, default=10)
    ap.add_argument('--rounds', type=int, default=2)
    ap.add_argument('--batch', type=int, default=128)
    ap.add_argument('--out', default=str(ROOT / 'bench' / 'results' / 'torch-scaling.json'))
    a = ap.parse_args()
    base = json.loads(Path(a.config).read_text())
    ms = {1: [], a.procs: []}
    for _ in range(a.rounds):
        for p in (1, a.procs):
            cfg = dict(base, batchSize=a.batch // p)
            ms[p] += run(p, cfg, a.data, a.steps)[a.warmup:]
    rows = []
    for p, xs in ms.items():
        med = statistics.median(xs)
        rows.append({'processes': p, 'batchPerProcess': a.batch // p, 'steps': len(xs),
                     'medianMs': round(med, 1), 'imagesPerSecond': round(a.batch / med * 1000, 1)})
        print(f'{p} process(es), {a.batch // p} images each: median {med:.1f} ms/step, '
              f'{a.batch / med * 1000:.0f} images/s over {len(xs)} steps')
    result = {
        'date': time.strftime('%Y-%m-%d'),
        'cpus': os.cpu_count(),
        'device': 'cuda' if __import__('torch').cuda.is_available() else 'cpu (gloo)',
        'data': a.data,
        'globalBatch': a.batch,
        'resolutions': base.get('resolutions'),
        'rows': rows,
        'speedup': round(rows[0]['medianMs'] / rows[1]['medianMs'], 3),
    }
    Path(a.out).write_text(json.dumps(result, indent=1) + '\n')
    print(f'speed-up {result["speedup"]}x; wrote {a.out}')


if __name__ == '__main__':
    main()
