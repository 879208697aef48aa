"""Shared test helpers (pytest puts python/tests on sys.path)."""
import torch
import torch.nn.functional as F


def unit_rows(n, d, seed):
    """n seeded random unit rows of width d: n×d float32."""
    return F.normalize(torch.randn(n, d, generator=torch.Generator().manual_seed(seed)), dim=1)


def naive_knn(q, bank, k, exclude):
    """Brute-force cosine kNN by sorting (−cosine, index): B×k indices and similarities."""
    out_i, out_s = [], []
    for b in range(q.shape[0]):
        cands = [(-float(q[b] @ bank[j]), j) for j in range(bank.shape[0]) if exclude is None or j != int(exclude[b])]
        cands.sort()
        out_i.append([j for _, j in cands[:k]])
        out_s.append([-s for s, _ in cands[:k]])
    return torch.tensor(out_i), torch.tensor(out_s)
