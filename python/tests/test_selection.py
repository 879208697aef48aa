"""Positive selection (selection.py; docs/METHOD.md §3) against naive loops, and the config checks of every module."""
import pytest
import torch

from clim_torch import kmeans, mix, optim, selection
from clim_torch.bank import bank_dim
from clim_torch.config import load_config
from clim_torch.model import Encoder
from helpers import naive_knn, unit_rows


def test_draw_from_kept_by_hand():
    mask = torch.tensor([[1, 0, 1, 1], [0, 0, 0, 0], [0, 1, 0, 0]], dtype=torch.bool)
    nb = torch.tensor([[5, 6, 7, 8], [1, 2, 3, 4], [9, 10, 11, 12]])
    pos, kept = selection.draw_from_kept(mask, nb, torch.tensor([0, 1, 2]), torch.tensor([0.5, 0.3, 0.99999]))
    assert pos.tolist() == [7, 1, 10]  # ⌊0.5·3⌋ = 1 → second kept (7); nothing kept → the anchor
    assert kept.tolist() == [3, 0, 1]


@pytest.mark.parametrize("threshold", selection.CENTRE_THRESHOLDS)
def test_centre_wise_selection_equals_a_naive_loop(threshold):
    bank = unit_rows(60, 6, 6)
    km = kmeans.spherical_kmeans(bank, 4, 5, torch.Generator().manual_seed(1))
    anchors = torch.arange(0, 60, 4)
    u = torch.rand(len(anchors), generator=torch.Generator().manual_seed(2))
    sel = selection.select_positives("center-wise", anchors, bank, km, 5, threshold, u)
    for b, i in enumerate(anchors.tolist()):
        nb, _ = naive_knn(bank[i:i + 1], bank, 5, torch.tensor([i]))
        c = int(km.assignments[i])
        mu = km.centroids[c]
        bar = float(bank[i] @ mu) if threshold == "anchor" else float(km.mean_centre_sim[c])
        kept = [j for j in nb[0].tolist() if int(km.assignments[j]) == c and (float(bank[j] @ mu) > bar if threshold == "anchor" else float(bank[j] @ mu) >= bar)]
        assert int(sel.kept[b]) == len(kept)
        want = kept[min(int(u[b] * len(kept)), len(kept) - 1)] if kept else i
        assert int(sel.positives[b]) == want
        codes = [0 if j in kept else (1 if int(km.assignments[j]) != c else 2) for j in nb[0].tolist()]
        assert sel.reason[b].tolist() == codes


def test_knn_cluster_and_none_policies():
    bank = unit_rows(40, 5, 8)
    km = kmeans.spherical_kmeans(bank, 3, 4, torch.Generator().manual_seed(3))
    anchors = torch.arange(0, 40, 3)
    u = torch.rand(len(anchors), generator=torch.Generator().manual_seed(4))
    s = selection.select_positives("knn", anchors, bank, km, 4, "anchor", u)
    nb, _ = naive_knn(bank[anchors], bank, 4, anchors)
    assert s.positives.tolist() == [int(nb[b, int(u[b] * 4)]) for b in range(len(anchors))]
    s = selection.select_positives("cluster", anchors, bank, km, 4, "anchor", u)
    for b, i in enumerate(anchors.tolist()):
        members = [j for j in range(40) if km.assignments[j] == km.assignments[i] and j != i]
        assert int(s.kept[b]) == len(members)
        assert int(s.positives[b]) == (members[min(int(u[b] * len(members)), len(members) - 1)] if members else i)
    s = selection.select_positives("none", anchors, bank, km, 4, "anchor", u)
    assert torch.equal(s.positives, anchors) and int(s.kept.sum()) == 0
    # Before the first k-means the cluster-based modes fall back to p = i, as the engine's policies do.
    assert torch.equal(selection.select_positives("center-wise", anchors, bank, None, 4, "anchor", u).positives, anchors)


def test_unsupported_values_raise():
    bank = unit_rows(5, 3, 9)
    with pytest.raises(ValueError, match="selection"):
        selection.select_positives("nearest", torch.tensor([0]), bank, None, 2, "anchor", torch.zeros(1))
    with pytest.raises(ValueError, match="centerThreshold"):
        selection.select_positives("center-wise", torch.tensor([0]), bank, None, 2, "median", torch.zeros(1))
    with pytest.raises(ValueError, match="mix"):
        mix.plan_mix("cutout", 2, 0.5, 1.0, torch.Generator())
    cfg = load_config({})
    with pytest.raises(ValueError, match="optimizer"):
        optim.create_optimizer(Encoder(cfg, seed=0), {**cfg, "optimizer": "rmsprop"})
    with pytest.raises(ValueError, match="bankSpace"):
        bank_dim({**cfg, "bankSpace": "pixels"})
