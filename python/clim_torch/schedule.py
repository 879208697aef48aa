"""Schedules (docs/METHOD.md §1.5, §2.3, §3.4), src/core/schedule.ts."""
from __future__ import annotations

import math


def warmup_cosine(step: int, base: float, warmup: int, total: int) -> float:
    """The learning rate of 0-based ``step`` (schedule.ts ``warmupCosine``):
    linear warm-up to ``base`` over ``warmup`` steps, then cosine to 0 at ``total``."""
    if warmup > 0 and step < warmup:
        return base * (step + 1) / warmup
    t = min(1.0, max(0.0, (step - warmup) / max(1, total - warmup)))
    return 0.5 * base * (1 + math.cos(math.pi * t))


def segment_lr(step: int, base: float, warmup: int, schedule_start: int, total: int) -> float:
    """The learning rate of 0-based ``step`` with the schedule segment config.scheduleStart (§1.5,
    schedule.ts ``segmentLr``): one warm-up and cosine over [schedule_start, total), so an extended run
    ("Train N more steps" in the app) warms up again; steps before it follow a schedule ending at schedule_start."""
    if step < schedule_start:
        return warmup_cosine(step, base, warmup, schedule_start)
    return warmup_cosine(step - schedule_start, base, warmup, total - schedule_start)


def bank_refresh_due(done: int, every: int) -> bool:
    """Whether the whole bank is re-embedded after finished step ``done`` (1-based) (§2.3, schedule.ts ``bankRefreshDue``)."""
    return every > 0 and done % every == 0


def clim_warm(step: int, c: dict) -> bool:
    """Whether 0-based ``step`` is inside CLIM's warm-up (§3.4): plain MoCo v2 (selection and mixing 'none')."""
    return step < c["climWarmupSteps"]
