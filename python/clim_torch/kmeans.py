"""Spherical k-means on the bank (docs/METHOD.md §2.4),
src/core/clim/kmeans.ts, with the N×C work split by rows so dist.py can
shard it over processes. N rows, D wide, C clusters.
"""
from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Optional, Tuple

import numpy as np
import torch

from . import knn

#: Norms below this mean a cluster's members cancel out (kmeans.ts ``NORM_EPS``).
NORM_EPS = 1e-12


@dataclass
class KMeansState:
    """The result of spherical k-means (§2.4, kmeans.ts ``KMeansState``).

    centroids C×D (zero rows for clusters that cannot be filled, C > N);
    assignments N long; sizes C long; mean_centre_sim C (mean cos(z_j, μ_c)
    over members, the 'cluster-mean' threshold); order N (members grouped by
    cluster, ascending index inside one), start C (offsets into order), rank
    N (position of i inside its cluster's run): O(B) same-cluster draws.
    """

    centroids: torch.Tensor
    assignments: torch.Tensor
    sizes: torch.Tensor
    mean_centre_sim: torch.Tensor
    order: torch.Tensor
    start: torch.Tensor
    rank: torch.Tensor

    def state_dict(self) -> dict:
        return {f.name: getattr(self, f.name).cpu() for f in fields(self)}

    @staticmethod
    def from_state_dict(st: dict, device: torch.device) -> "KMeansState":
        return KMeansState(**{f.name: st[f.name].to(device) for f in fields(KMeansState)})


class LocalRows:
    """The rows a process works on in k-means' N×C steps, and how partial
    results combine. This single-process version owns all rows; dist.py's
    ``ShardRows`` owns a slice and all-reduces / all-gathers."""

    def bounds(self, n: int) -> Tuple[int, int]:
        """[lo, hi) of the rows this process assigns."""
        return 0, n

    def sum_(self, t: torch.Tensor) -> torch.Tensor:
        """Sums t over processes, in place."""
        return t

    def gather(self, t: torch.Tensor, n: int) -> torch.Tensor:
        """Per-process row slices (this one: ``bounds``) → all n rows, in row order."""
        return t


def seed_plus_plus(x: torch.Tensor, clusters: int, gen: torch.Generator) -> torch.Tensor:
    """k-means++ seeding on the sphere (kmeans.ts ``seedPlusPlus``): the
    first seed uniform, each next one drawn ∝ 1 − max cos to the seeds so far
    (half the squared chord distance); one uniform per seed from ``gen``.
    x N×D → C×D seed rows."""
    n = x.shape[0]
    first = int(torch.randint(n, (1,), generator=gen))
    seeds = [first]
    nearest = x @ x[first]
    for _ in range(1, clusters):
        u = float(torch.rand(1, generator=gen, dtype=torch.float64))
        cdf = torch.cumsum(torch.relu(1 - nearest).double(), 0)
        # Smallest i with cdf[i] > u·total; zero-weight rows (already seeds) never qualify.
        idx = min(int((cdf <= u * cdf[-1]).sum()), n - 1)
        seeds.append(idx)
        nearest = torch.maximum(nearest, x @ x[idx])
    return x[seeds].clone()


def normalise_rows(m: torch.Tensor, fallback: Optional[torch.Tensor]) -> torch.Tensor:
    """Rows scaled to unit length; rows of norm ≤ 1e-12 take ``fallback``'s
    row (the previous centre) or stay zero (kmeans.ts ``normaliseRows``)."""
    norm = m.norm(dim=1, keepdim=True)
    unit = m / norm.clamp_min(NORM_EPS)
    return unit if fallback is None else torch.where(norm > NORM_EPS, unit, fallback)


def assign_rows(x: torch.Tensor, mu: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
    """c(i) = argmax_c x_i·μ_c and that best cosine, in row blocks of the
    N×C product. x N×D, mu C×D → (N long, N)."""
    step = max(1, knn.BLOCK_ELEMENTS // max(1, mu.shape[0]))
    parts = [(x[s:s + step] @ mu.T).max(1) for s in range(0, x.shape[0], step)]
    return torch.cat([p.indices for p in parts]), torch.cat([p.values for p in parts])


def cluster_sums(x: torch.Tensor, assign: torch.Tensor, clusters: int) -> Tuple[torch.Tensor, torch.Tensor]:
    """Per-cluster sums C×D and member counts C (float64: exact integers) of rows x N×D."""
    sums = torch.zeros(clusters, x.shape[1], device=x.device, dtype=x.dtype).index_add_(0, assign, x)
    counts = torch.zeros(clusters, device=x.device, dtype=torch.float64).index_add_(0, assign, torch.ones_like(assign, dtype=torch.float64))
    return sums, counts


def reseed_empty(assign: torch.Tensor, best: torch.Tensor, sizes: torch.Tensor) -> torch.Tensor:
    """Fills empty clusters (kmeans.ts ``reseedEmpty``): each, in cluster
    order, takes the point least similar to its own centre (lowest cosine
    first, ties by lower index) whose cluster keeps ≥ 1 member. assign, best:
    all N rows; sizes C (updated in place). A rare, sequential path: on the CPU."""
    a = assign.cpu().clone()
    sz = sizes.cpu()
    empties = [int(c) for c in (sz == 0).nonzero().flatten()]
    order = np.lexsort((np.arange(len(a)), best.cpu().double().numpy()))
    for i in order:
        if not empties:
            break
        if sz[a[i]] < 2:
            continue
        c = empties.pop(0)
        sz[a[i]] -= 1
        sz[c] += 1
        a[i] = c
    sizes.copy_(sz)
    return a.to(assign.device)


def cluster_runs(assign: torch.Tensor, sizes: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """order N (indices grouped by cluster, ascending inside one), start C
    (exclusive prefix sum of sizes) and rank N (i's position in its run), so
    order[start[c(i)] + rank[i]] = i."""
    n = assign.shape[0]
    order = torch.sort(assign, stable=True).indices
    start = torch.cumsum(sizes, 0) - sizes
    rank = torch.empty_like(order)
    rank[order] = torch.arange(n, device=assign.device) - start[assign[order]]
    return order, start, rank


def spherical_kmeans(
    x: torch.Tensor,
    clusters: int,
    iters: int,
    gen: torch.Generator,
    init: Optional[torch.Tensor] = None,
    rows: LocalRows = LocalRows(),
) -> KMeansState:
    """Spherical k-means (§2.4, kmeans.ts ``sphericalKMeans``) over x N×D
    (unit rows, the same on every process) into C clusters.

    Init: ``init`` (C×D, the previous centroids: warm start, no draws) or
    k-means++ seeding from ``gen``. Each of max(1, iters) Lloyd iterations:
    assign c(i) = argmax_c x_i·μ_c; per-cluster sums and counts; when a
    cluster is empty, re-seed it (``reseed_empty``) and recount; μ =
    normalise(sums), a zero sum keeping the previous centre. The returned
    centroids are the update from the returned assignment. With C > N, Lloyd
    runs on the first N clusters and the rest stay empty (zero centre, size
    0, start N).

    ``rows`` splits the N×C work: each process assigns rows ``rows.bounds``
    and sums them, ``rows.sum_`` adds the partial sums and counts across
    processes each iteration, and ``rows.gather`` rebuilds the full
    assignment (dist.py ``ShardRows``).
    """
    n, d = x.shape
    if n < 1:
        raise ValueError("spherical k-means: the bank is empty")
    if init is not None and tuple(init.shape) != (clusters, d):
        raise ValueError(f"spherical k-means: init is {tuple(init.shape)}, expected {(clusters, d)}")
    live = min(clusters, n)
    lo, hi = rows.bounds(n)
    mine = x[lo:hi]
    mu = normalise_rows(init[:live], None) if init is not None else seed_plus_plus(x, live, gen)
    for _ in range(max(1, iters)):
        assign, best = assign_rows(mine, mu)
        sums, counts = cluster_sums(mine, assign, live)
        rows.sum_(sums)
        rows.sum_(counts)
        sizes = counts.round().to(torch.int64)
        if bool((sizes == 0).any()):
            moved = reseed_empty(rows.gather(assign, n), rows.gather(best, n), sizes)
            assign = moved[lo:hi]
            sums, counts = cluster_sums(mine, assign, live)
            rows.sum_(sums)
            rows.sum_(counts)
        mu = normalise_rows(sums, mu)
    full = rows.gather(assign, n)
    sim_sum = torch.zeros(live, device=x.device, dtype=torch.float64).index_add_(0, assign, (mine * mu[assign]).sum(1).double())
    rows.sum_(sim_sum)
    all_sizes = torch.zeros(clusters, dtype=torch.int64, device=x.device)
    all_sizes[:live] = sizes
    mean = torch.zeros(clusters, device=x.device)
    mean[:live] = torch.where(sizes > 0, sim_sum / sizes.clamp_min(1), torch.zeros_like(sim_sum)).to(mean.dtype)
    centroids = torch.zeros(clusters, d, device=x.device, dtype=x.dtype)
    centroids[:live] = mu
    order, start, rank = cluster_runs(full, all_sizes)
    return KMeansState(centroids, full, all_sizes, mean, order, start, rank)
