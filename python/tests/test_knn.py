"""Cosine kNN (knn.py; docs/METHOD.md §3.1) against brute force."""
import pytest
import torch

from clim_torch import knn
from helpers import naive_knn, unit_rows


@pytest.mark.parametrize("block", [knn.BLOCK_ELEMENTS, 5 * 7])
def test_knn_matches_brute_force_with_exclusion_blocks_and_ties(monkeypatch, block):
    monkeypatch.setattr(knn, "BLOCK_ELEMENTS", block)  # 35 elements: blocks of 7 rows for B = 5
    bank = unit_rows(30, 8, 1)
    bank[20] = bank[3]  # exact ties: the lower index must come first
    bank[27] = bank[3]
    anchors = torch.tensor([3, 0, 20, 29, 11])
    idx, sims = knn.knn(bank[anchors], bank, 6, anchors)
    want_i, want_s = naive_knn(bank[anchors], bank, 6, anchors)
    assert torch.equal(idx, want_i)
    assert torch.allclose(sims, want_s, atol=1e-6)
    assert idx[0, :2].tolist() == [20, 27] and idx[2, :2].tolist() == [3, 27]


def test_knn_count_caps_at_the_bank_size():
    bank = unit_rows(3, 4, 2)
    idx, _ = knn.knn(bank, bank, 10, torch.arange(3))
    assert idx.shape == (3, 2)
    assert knn.knn(bank[:1], bank[:1], 5, torch.tensor([0]))[0].shape == (1, 0)
