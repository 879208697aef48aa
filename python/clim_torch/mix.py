"""Mixing an anchor's view with its positive's (docs/METHOD.md §4.1),
src/core/clim/mix.ts: CutMix or Mixup by a per-batch plan drawn once in
resolution-free fractions and applied at every resolution. B rows.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Dict, Tuple

import torch

from .config import require_choice
from .rng import beta, uniform

MIX_MODES = ("none", "cutmix", "mixup")


@dataclass
class MixPlan:
    """One batch's mixing plan in resolution-free fractions (mix.ts
    ``MixPlan``): applied B bool; lam B float64 (λ ~ Beta(α, α), 1 where not
    applied); boxes B×4 (cy, cx, h, w) of the clipped CutMix box (zeros
    where not applied and for other modes)."""

    mode: str
    applied: torch.Tensor
    lam: torch.Tensor
    boxes: torch.Tensor

    def rows(self, lo: int, hi: int) -> "MixPlan":
        """Images lo..hi−1 of the plan."""
        return MixPlan(self.mode, self.applied[lo:hi], self.lam[lo:hi], self.boxes[lo:hi])


def plan_mix(mode: str, batch: int, prob: float, alpha: float, gen: torch.Generator) -> MixPlan:
    """Draws a batch's plan (§4.1, ``Mixer.plan``): applied ~ Bernoulli(mixProb),
    λ ~ Beta(mixAlpha, mixAlpha) where applied; for CutMix a box of side
    √(1 − λ) around a uniform centre, clipped to the image. 'none' draws nothing."""
    require_choice(mode, MIX_MODES, "mix")
    if not 0 <= prob <= 1:
        raise ValueError(f"mix probability must be in [0, 1] (got {prob})")
    if not alpha > 0:
        raise ValueError(f"mix α must be > 0 (got {alpha})")
    one = torch.ones(batch, dtype=torch.float64)
    boxes = torch.zeros(batch, 4, dtype=torch.float64)
    if mode == "none":
        return MixPlan(mode, torch.zeros(batch, dtype=torch.bool), one, boxes)
    applied = uniform(gen, batch) < prob
    lam = torch.where(applied, beta(gen, batch, alpha), one)
    if mode == "cutmix":
        side = torch.sqrt(1 - lam)
        cy, cx = uniform(gen, batch), uniform(gen, batch)
        y1, y2 = (cy - side / 2).clamp_min(0), (cy + side / 2).clamp_max(1)
        x1, x2 = (cx - side / 2).clamp_min(0), (cx + side / 2).clamp_max(1)
        boxes = torch.where(applied.unsqueeze(1), torch.stack([(y1 + y2) / 2, (x1 + x2) / 2, y2 - y1, x2 - x1], 1), boxes)
    return MixPlan(mode, applied, lam, boxes)


def cutmix_pixel_box(plan: MixPlan, r: int) -> torch.Tensor:
    """Integer bounds (y1, y2, x1, x2) per image at resolution r (mix.ts
    ``cutmixPixelBox``): edges rounded to the nearest pixel edge (halves up,
    as JS Math.round), clipped to [0, r]; zeros where not applied. B×4 long."""
    cy, cx, h, w = plan.boxes.unbind(1)
    edge = lambda v: torch.floor(v * r + 0.5).clamp(0, r).to(torch.int64)  # noqa: E731
    box = torch.stack([edge(cy - h / 2), edge(cy + h / 2), edge(cx - w / 2), edge(cx + w / 2)], 1)
    return torch.where(plan.applied.unsqueeze(1), box, torch.zeros_like(box))


def mix_none(plan: MixPlan, anchor: torch.Tensor, positive: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
    """'none': the anchor's view, λ = 1."""
    return anchor, torch.ones(anchor.shape[0], device=anchor.device)


def mix_mixup(plan: MixPlan, anchor: torch.Tensor, positive: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
    """'mixup': x = λ·a + (1 − λ)·p (λ = 1 gives the anchor exactly)."""
    lam = plan.lam.to(torch.float32).to(anchor.device)
    l4 = lam.view(-1, 1, 1, 1)
    return anchor * l4 + positive * (1 - l4), lam


def mix_cutmix(plan: MixPlan, anchor: torch.Tensor, positive: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
    """'cutmix': the positive's pixels inside the box at this resolution,
    λ reset to the share of anchor pixels left: 1 − box area / r²."""
    b, _, h, w = anchor.shape
    if h != w:
        raise ValueError(f"cutmix expects square views (got {h}×{w})")
    box = cutmix_pixel_box(plan, h).to(anchor.device)
    i = torch.arange(h, device=anchor.device)
    rows = (i >= box[:, 0:1]) & (i < box[:, 1:2])  # B×h
    cols = (i >= box[:, 2:3]) & (i < box[:, 3:4])  # B×w
    inside = (rows.unsqueeze(2) & cols.unsqueeze(1)).unsqueeze(1)  # B×1×h×w
    lam = 1 - ((box[:, 1] - box[:, 0]) * (box[:, 3] - box[:, 2])).to(torch.float32) / (h * w)
    return torch.where(inside, positive, anchor), lam


#: Every mode of config.ts ``MIX_MODES`` (mix.ts ``MIXERS``).
MIXERS: Dict[str, Callable[[MixPlan, torch.Tensor, torch.Tensor], Tuple[torch.Tensor, torch.Tensor]]] = {
    "none": mix_none,
    "cutmix": mix_cutmix,
    "mixup": mix_mixup,
}


def apply_mix(plan: MixPlan, anchor: torch.Tensor, positive: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
    """Mixes one resolution's query views (B×3×r×r each) by the plan → (mixed B×3×r×r, λ B)."""
    if anchor.shape != positive.shape:
        raise ValueError(f"anchor {tuple(anchor.shape)} and positive {tuple(positive.shape)} views must match")
    return MIXERS[plan.mode](plan, anchor, positive)
