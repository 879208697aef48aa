"""Schedules and optimisers (schedule.py, optim.py; docs/METHOD.md §1.2, §1.5, §2.3, §3.4)."""
import pytest
import torch

from clim_torch import optim, schedule
from clim_torch.config import load_config
from clim_torch.model import Encoder


def test_schedules():
    assert [schedule.warmup_cosine(s, 0.1, 4, 14) for s in (0, 3)] == pytest.approx([0.025, 0.1])
    assert schedule.warmup_cosine(9, 0.1, 4, 14) == pytest.approx(0.05)  # halfway down the cosine
    assert schedule.warmup_cosine(20, 0.1, 4, 14) == 0
    assert schedule.warmup_cosine(0, 0.1, 0, 10) == pytest.approx(0.1)
    assert [schedule.bank_refresh_due(d, 3) for d in (1, 3, 6)] == [False, True, True] and not schedule.bank_refresh_due(3, 0)
    assert schedule.clim_warm(99, {"climWarmupSteps": 100}) and not schedule.clim_warm(100, {"climWarmupSteps": 100})


def test_segment_lr_after_an_extension():
    """A run finished at step 30 and extended by 20 (scheduleStart 30, totalSteps 50, warm-up 10), by hand (§1.5):
    step 30 is the segment's first warm-up step, 39 its peak, 45 half-way down the 10-step cosine, 50 its end."""
    lr = lambda s: schedule.segment_lr(s, 0.1, 10, 30, 50)  # noqa: E731
    assert [lr(30), lr(39), lr(45), lr(50)] == pytest.approx([0.01, 0.1, 0.05, 0.0])
    assert lr(42) == pytest.approx(0.05 * (1 + 0.8090169943749475))  # t = 0.2: cos(0.2π)
    assert lr(20) == pytest.approx(schedule.warmup_cosine(20, 0.1, 10, 30)) == pytest.approx(0.05)
    assert schedule.segment_lr(7, 0.1, 4, 0, 14) == schedule.warmup_cosine(7, 0.1, 4, 14)


@pytest.mark.parametrize("kind", optim.OPTIMIZERS)
def test_optimiser_step_decays_weights_only(kind):
    cfg = load_config({"width": 4, "stages": 1, "groups": 2, "projHidden": 4, "projDim": 4, "resolutions": [8], "optimizer": kind, "weightDecay": 0.1, "momentum": 0.9})
    enc = Encoder(cfg, seed=0)
    before = {n: enc.param(n).detach().clone() for n in enc.engine_names()}
    kinds = {n: k for n, k, _ in enc.engine_specs()}
    opt = optim.create_optimizer(enc, cfg)
    optim.set_lr(opt, 0.05)
    for n in enc.engine_names():
        enc.param(n).grad = torch.full_like(enc.param(n), 0.5)
    opt.step()
    for n, w in before.items():
        wd = 0.1 if kinds[n] == "weight" else 0.0
        if kind == "sgd":  # v = g + λw (first step, zero buffer); w ← w − lr·v
            want = w - 0.05 * (0.5 + wd * w)
        else:  # AdamW's first step: m̂/(√v̂ + ε) = g/(|g| + ε) ≈ 1, plus the decoupled λw
            want = w - 0.05 * (0.5 / (0.5 + 1e-8) + wd * w)
        assert torch.allclose(enc.param(n), want, atol=1e-6), n


def test_momentum_update():
    cfg = load_config({"width": 4, "stages": 1, "groups": 2, "projHidden": 4, "projDim": 4, "resolutions": [8]})
    q, k = Encoder(cfg, seed=1), Encoder(cfg, seed=2)
    want = [0.9 * pk.detach() + 0.1 * pq.detach() for pk, pq in zip(k.ordered_parameters(), q.ordered_parameters())]
    optim.momentum_update(k, q, 0.9)
    assert all(torch.allclose(a, b) for a, b in zip(k.ordered_parameters(), want))
