"""CutMix and Mixup (mix.py; docs/METHOD.md §4.1) by hand."""
import pytest
import torch

from clim_torch import mix


def test_cutmix_box_rounds_edges_and_resets_lambda():
    plan = mix.MixPlan("cutmix", torch.tensor([True, False]), torch.tensor([0.5, 1.0], dtype=torch.float64),
                        torch.tensor([[0.5, 0.25, 0.5, 0.5], [0, 0, 0, 0]], dtype=torch.float64))
    # At r = 8: rows [2, 6), columns [0, 4) → 16 of 64 pixels pasted, λ = 0.75.
    assert mix.cutmix_pixel_box(plan, 8).tolist() == [[2, 6, 0, 4], [0, 0, 0, 0]]
    a, p = torch.zeros(2, 3, 8, 8), torch.ones(2, 3, 8, 8)
    mixed, lam = mix.apply_mix(plan, a, p)
    assert lam.tolist() == [0.75, 1.0]
    assert mixed[0, :, 2:6, 0:4].eq(1).all() and mixed[0].sum() == 3 * 16 and mixed[1].sum() == 0
    # At r = 5 the edges 1.25, 3.75 and −0.0, 2.5 round to 1, 4 and 0, 3 (halves up): λ = 1 − 9/25.
    assert mix.cutmix_pixel_box(plan, 5)[0].tolist() == [1, 4, 0, 3]
    assert mix.apply_mix(plan, torch.zeros(2, 3, 5, 5), torch.ones(2, 3, 5, 5))[1][0] == pytest.approx(1 - 9 / 25)


def test_mixup_none_and_plan_draws():
    plan = mix.plan_mix("mixup", 500, 0.8, 1.0, torch.Generator().manual_seed(0))
    assert 0.7 < plan.applied.double().mean() < 0.9
    assert (plan.lam[~plan.applied] == 1).all() and 0.4 < plan.lam[plan.applied].mean() < 0.6
    a, p = torch.rand(500, 3, 4, 4), torch.rand(500, 3, 4, 4)
    mixed, lam = mix.apply_mix(plan, a, p)
    l4 = plan.lam.float().view(-1, 1, 1, 1)
    assert torch.allclose(mixed, l4 * a + (1 - l4) * p) and torch.equal(mixed[~plan.applied], a[~plan.applied])
    mixed, lam = mix.apply_mix(mix.plan_mix("none", 500, 0.8, 1.0, torch.Generator()), a, p)
    assert torch.equal(mixed, a) and (lam == 1).all()
    cut = mix.plan_mix("cutmix", 500, 1.0, 1.0, torch.Generator().manual_seed(1))
    assert (cut.boxes[:, 2] <= torch.sqrt(1 - cut.lam) + 1e-12).all()
