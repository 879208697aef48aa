"""Positive selection (docs/METHOD.md §3), src/core/clim/selection.ts: a
positive p per anchor i by policy 'none' (MoCo v2), 'knn', 'cluster' or
'center-wise' (CLIM), drawn uniformly among the kept candidates (§3.3).
B anchors, N bank rows, k′ = min(k, N − 1) neighbours.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Callable, Dict, Optional, Tuple

import torch

from .config import require_choice
from .kmeans import KMeansState
from .knn import knn

SELECTION_MODES = ("none", "knn", "cluster", "center-wise")
CENTRE_THRESHOLDS = ("anchor", "cluster-mean")


@dataclass
class Selection:
    """A positive per anchor (selection.ts ``SelectionOutput``): positives B
    long (the anchor itself when nothing is kept), kept B long; for the kNN
    modes also neighbours B×k′, similarities B×k′ and reason codes B×k′."""

    positives: torch.Tensor
    kept: torch.Tensor
    neighbours: Optional[torch.Tensor] = None
    similarities: Optional[torch.Tensor] = None
    reason: Optional[torch.Tensor] = None


#: selection.ts ``REASON``.
REASON_KEPT, REASON_DIFFERENT_CLUSTER, REASON_FARTHER, REASON_NOT_SELECTED = 0, 1, 2, 3


def draw_index(u: torch.Tensor, count: torch.Tensor) -> torch.Tensor:
    """⌊u·count⌋ clamped to count − 1 (a float32 u just below 1 can round up), B."""
    return torch.minimum(torch.floor(u * count), (count - 1).clamp_min(0))


def draw_from_kept(mask: torch.Tensor, neighbours: torch.Tensor, anchors: torch.Tensor, u: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
    """§3.3 (selection.ts ``drawFromKept``): j = min(⌊u·count⌋, count − 1),
    the j-th kept neighbour in similarity order; the anchor when nothing is
    kept. mask, neighbours B×k′; anchors, u B → (positives B, kept B)."""
    if mask.shape[1] == 0:
        return anchors.clone(), torch.zeros_like(anchors)
    m = mask.to(torch.float32)
    count = m.sum(1)
    j = draw_index(u, count)
    hit = m * (torch.cumsum(m, 1) == (j + 1).unsqueeze(1)).to(torch.float32)
    chosen = neighbours.gather(1, hit.argmax(1, keepdim=True)).squeeze(1)
    return torch.where(count > 0, chosen, anchors), count.to(torch.int64)


def centre_similarities(bank: torch.Tensor, km: KMeansState, anchors: torch.Tensor, neighbours: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
    """cos(z_i, μ_c(i)) (B) and cos(z_j, μ_c(i)) for each neighbour j (B×k′) (selection.ts ``centreSimilarities``)."""
    mu = km.centroids[km.assignments[anchors]]  # B×D
    anchor = (bank[anchors] * mu).sum(1)
    return anchor, torch.einsum("bkd,bd->bk", bank[neighbours], mu)


def select_none(anchors, bank, km, k, threshold, u) -> Selection:
    """'none' (MoCo v2): p = i, nothing kept."""
    return Selection(anchors.clone(), torch.zeros_like(anchors))


def select_knn(anchors, bank, km, k, threshold, u) -> Selection:
    """'knn' (NNCLR-like): a uniform draw among N_k(i)."""
    nb, sims = knn(bank[anchors], bank, k, anchors)
    pos, kept = draw_from_kept(torch.ones_like(nb, dtype=torch.bool), nb, anchors, u)
    return Selection(pos, kept, nb, sims, torch.full_like(nb, REASON_KEPT))


def select_cluster(anchors, bank, km, k, threshold, u) -> Selection:
    """'cluster': any other member of c(i), drawn in O(B) from the cluster
    runs (the r-th other member is order[start[c] + r], shifted one past the
    anchor's own rank); the anchor when it is alone or before any k-means."""
    if km is None:
        return select_none(anchors, bank, km, k, threshold, u)
    n = km.order.shape[0]
    c = km.assignments[anchors]
    size = km.sizes[c]
    others = (size - 1).clamp_min(0)
    r = draw_index(u, others.to(torch.float32)).to(torch.int64)
    skip = (r >= km.rank[anchors]).to(torch.int64)
    at = (km.start[c] + r + skip).clamp_max(n - 1)
    return Selection(torch.where(size > 1, km.order[at], anchors), others)


def select_centre_wise(anchors, bank, km, k, threshold, u) -> Selection:
    """'center-wise' (§3.2): keep j ∈ N_k(i) with c(j) = c(i) and, for
    threshold 'anchor', cos(z_j, μ_c) > cos(z_i, μ_c), for 'cluster-mean',
    cos(z_j, μ_c) ≥ meanCentreSim[c]; draw among the kept (§3.3). Before any
    k-means (or with k′ = 0) every neighbour is 'not selected' and p = i."""
    require_choice(threshold, CENTRE_THRESHOLDS, "centerThreshold")
    nb, sims = knn(bank[anchors], bank, k, anchors)
    if km is None or nb.shape[1] == 0:
        none = select_none(anchors, bank, km, k, threshold, u)
        return replace(none, neighbours=nb, similarities=sims, reason=torch.full_like(nb, REASON_NOT_SELECTED))
    c = km.assignments[anchors]
    same = km.assignments[nb] == c.unsqueeze(1)
    anchor_cs, nb_cs = centre_similarities(bank, km, anchors, nb)
    if threshold == "anchor":
        closer = nb_cs > anchor_cs.unsqueeze(1)
    else:
        closer = nb_cs >= km.mean_centre_sim[c].unsqueeze(1)
    reason = torch.where(same, torch.where(closer, REASON_KEPT, REASON_FARTHER), REASON_DIFFERENT_CLUSTER)
    pos, kept = draw_from_kept(reason == REASON_KEPT, nb, anchors, u)
    return Selection(pos, kept, nb, sims, reason)


#: Every mode of config.ts ``SELECTION_MODES`` (selection.ts ``SELECTION_POLICIES``).
SELECTION_POLICIES: Dict[str, Callable[..., Selection]] = {
    "none": select_none,
    "knn": select_knn,
    "cluster": select_cluster,
    "center-wise": select_centre_wise,
}


def select_positives(mode: str, anchors: torch.Tensor, bank: torch.Tensor, km: Optional[KMeansState], k: int, threshold: str, u: torch.Tensor) -> Selection:
    """A positive per anchor (§3) by policy ``mode``: anchors B long, bank
    N×D, u B uniforms (the only randomness)."""
    return SELECTION_POLICIES[require_choice(mode, SELECTION_MODES, "selection")](anchors, bank, km, k, threshold, u.to(bank.device))
