"""Spherical k-means (kmeans.py; docs/METHOD.md §2.4) against a naive Lloyd loop."""
import numpy as np
import pytest
import torch

from clim_torch import kmeans
from helpers import unit_rows


def naive_kmeans(x, mu, iters):
    for _ in range(iters):
        a = [int(np.argmax([float(x[i] @ m) for m in mu])) for i in range(x.shape[0])]
        new = []
        for c in range(mu.shape[0]):
            s = sum((x[i] for i in range(x.shape[0]) if a[i] == c), torch.zeros(x.shape[1]))
            new.append(s / s.norm() if s.norm() > 1e-12 else mu[c])
        mu = torch.stack(new)
    return mu, a


def test_kmeans_warm_start_equals_a_naive_lloyd_loop_and_builds_cluster_runs():
    x = unit_rows(40, 5, 3)
    init = x[[0, 10, 20, 30]].clone()
    km = kmeans.spherical_kmeans(x, 4, 5, torch.Generator(), init)
    mu, a = naive_kmeans(x, init, 5)
    assert torch.allclose(km.centroids, mu, atol=1e-5)
    assert km.assignments.tolist() == a  # the assignment the returned centres were updated from
    assert km.sizes.tolist() == [a.count(c) for c in range(4)]
    for i in range(40):
        c = int(km.assignments[i])
        assert int(km.order[km.start[c] + km.rank[i]]) == i
        assert km.rank[i] == sum(1 for j in range(i) if a[j] == c)
    for c in range(4):
        members = [i for i in range(40) if a[i] == c]
        assert km.mean_centre_sim[c] == pytest.approx(float(np.mean([float(x[i] @ km.centroids[c]) for i in members])), abs=1e-5)


def test_kmeans_reseeds_empty_clusters_and_leaves_extra_ones_empty():
    x = unit_rows(12, 4, 4)
    # Two identical initial centres: the second gets no member and takes the worst-fitting point.
    init = torch.stack([x[0], x[0], x[5]])
    km = kmeans.spherical_kmeans(x, 3, 1, torch.Generator(), init)
    assert (km.sizes > 0).all() and int(km.sizes.sum()) == 12
    km = kmeans.spherical_kmeans(x[:2], 4, 3, torch.Generator().manual_seed(0))
    assert km.sizes.tolist()[2:] == [0, 0] and torch.equal(km.centroids[2:], torch.zeros(2, 4))
    assert km.start.tolist()[2:] == [2, 2]


def test_kmeans_plus_plus_seeds_are_distinct_rows_and_seeded():
    x = unit_rows(50, 6, 5)
    a = kmeans.seed_plus_plus(x, 5, torch.Generator().manual_seed(7))
    b = kmeans.seed_plus_plus(x, 5, torch.Generator().manual_seed(7))
    assert torch.equal(a, b)
    rows = {int((x == r).all(1).nonzero()) for r in a}
    assert len(rows) == 5
