"""The losses (docs/METHOD.md §1.4, §4.2, §5), src/core/losses/: InfoNCE
against a shared queue with the own-key mask, its λ-weighted mixed form and
the R×R multi-resolution sum. B rows, d = projDim, K = queueSize.
"""
from __future__ import annotations

from typing import Optional, Sequence, Tuple

import torch


def info_nce(q: torch.Tensor, keys: Sequence[torch.Tensor], queue: torch.Tensor, temperature: float, mask: Optional[torch.Tensor] = None) -> torch.Tensor:
    """InfoNCE of q (B×d) against J positive-key batches (B×d each) sharing
    the negatives queue (K×d) (§1.4, infonce.ts ``infoNCEShared``):
    ℓ_jb = logsumexp([q_b·k_jb, q_b·Q + M_b]/T…) − q_b·k_jb/T, where the
    mask M (B×K) is added after the division by T. K = 0 gives 0. → J×B.
    Keys and queue get no gradient (they come from f_k)."""
    neg = (q @ queue.detach().T) / temperature  # B×K, computed once for all J keys
    if mask is not None:
        neg = neg + mask
    out = []
    for k in keys:
        pos = (q * k.detach()).sum(1, keepdim=True) / temperature
        logits = torch.cat([pos, neg], 1)
        out.append(torch.logsumexp(logits, 1) - logits[:, 0])
    return torch.stack(out)


def mixed_info_nce(q, k_anchor, k_positive, queue, lam, temperature, mask=None) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """The λ-weighted loss (§4.2, infonce.ts ``mixedInfoNCE``):
    mean_b [λ_b·ℓ(q_b, k_i,b) + (1 − λ_b)·ℓ(q_b, k_p,b)] and the unweighted
    means of both terms. q, keys B×d; queue K×d; lam B; mask B×K or None."""
    la, lp = info_nce(q, [k_anchor, k_positive], queue, temperature, mask)
    return (lam * la + (1 - lam) * lp).mean(), la.mean(), lp.mean()


def multi_resolution_loss(queries, lambdas, keys, queues, temperature, masks) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """The R×R loss (§5, multires.ts ``multiResolutionLoss``): 1/R² Σ_r Σ_s
    mixed_info_nce(q_r, k_i,s, k_p,s, Q_s, λ_r, T, M_s), r outer, s inner.
    queries, lambdas: R each (B×d, B); keys: R pairs (B×d, B×d); queues: R
    tensors K×d; masks: R (B×K or None). → (total, anchor, positive) scalars."""
    r_count = len(queries)
    if not len(lambdas) == len(keys) == len(queues) == len(masks) == r_count:
        raise ValueError(f"multi-resolution loss needs {r_count} of each input")
    terms = [mixed_info_nce(queries[r], keys[s][0], keys[s][1], queues[s], lambdas[r], temperature, masks[s]) for r in range(r_count) for s in range(r_count)]
    pairs = r_count * r_count
    return tuple(torch.stack(t).sum() / pairs for t in zip(*terms))
