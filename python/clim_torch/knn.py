"""Cosine k-nearest neighbours (docs/METHOD.md §3.1), src/core/clim/knn.ts:
B queries against N unit rows, searched in blocks.
"""
from __future__ import annotations

import math
from typing import Optional, Tuple

import torch

#: Elements per block of bank products (§3.1, §2.4 work in blocks so no B×N or N×C matrix of a large bank is held at once).
BLOCK_ELEMENTS = 1 << 22


def knn_count(k: int, n: int, excluding: bool) -> int:
    """k′ = min(k, N − [excluding]), never below 0 (knn.ts ``knnCount``)."""
    return max(0, min(int(k), n - (1 if excluding else 0)))


def knn(query: torch.Tensor, bank: torch.Tensor, k: int, exclude: Optional[torch.Tensor]) -> Tuple[torch.Tensor, torch.Tensor]:
    """Cosine kNN (§3.1, knn.ts ``knn``): query B×D, bank N×D (unit rows),
    exclude B bank indices to leave out (each anchor's own row) or None →
    (indices B×k′ long, similarities B×k′), by descending cosine.

    The bank is searched in blocks of rows, each keeping its own top k′
    candidates, so no B×N matrix of a large bank exists. The merged list is
    ordered by (−cosine, index): equal cosines go to the lower bank index as
    in the engine. A tie straddling a block's k′-th place may keep either
    row, since torch.topk does not specify which of equal values it returns.
    """
    b, n = query.shape[0], bank.shape[0]
    kk = knn_count(k, n, exclude is not None)
    if kk == 0:
        return torch.zeros(b, 0, dtype=torch.int64, device=bank.device), torch.zeros(b, 0, device=bank.device)
    step = max(1, BLOCK_ELEMENTS // max(1, b))
    cand_s, cand_i = [], []
    for start in range(0, n, step):
        block = query @ bank[start:start + step].T  # B×rows
        if exclude is not None:
            local = exclude.to(bank.device) - start
            inside = (local >= 0) & (local < block.shape[1])
            block[inside.nonzero().squeeze(1), local[inside]] = -math.inf
        top = block.topk(min(kk, block.shape[1]), dim=1)
        cand_s.append(top.values)
        cand_i.append(top.indices + start)
    sims, idx = torch.cat(cand_s, 1), torch.cat(cand_i, 1)
    # Lower index first among equal cosines: sort by index, then stably by cosine.
    by_index = idx.argsort(dim=1)
    sims, idx = sims.gather(1, by_index), idx.gather(1, by_index)
    order = torch.sort(sims, dim=1, descending=True, stable=True).indices[:, :kk]
    return idx.gather(1, order), sims.gather(1, order)
