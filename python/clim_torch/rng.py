"""Random draws of the trainer (docs/METHOD.md §1.6, §4.1), the distributions
of src/core/rng.ts. Every draw takes an explicit ``torch.Generator``; the
numbers differ from the engine's xoshiro stream and its per-image draw order
(draws are vectorised over the batch here), the distributions do not.
(split.py ports the xoshiro stream itself, for the held-out split.)
"""
from __future__ import annotations

import torch


def uniform(gen: torch.Generator, n: int, lo: float = 0.0, hi: float = 1.0) -> torch.Tensor:
    """n draws U[lo, hi), float64 (the engine draws parameters in doubles)."""
    return lo + (hi - lo) * torch.rand(n, generator=gen, dtype=torch.float64)


def beta(gen: torch.Generator, n: int, alpha: float) -> torch.Tensor:
    """n draws of Beta(α, α) as X/(X+Y), X, Y ~ Gamma(α) (rng.ts ``beta``), float64."""
    a = torch.full((n,), float(alpha), dtype=torch.float64)
    x = torch._standard_gamma(a, generator=gen)
    y = torch._standard_gamma(a, generator=gen)
    return x / (x + y)
