"""The memory bank (docs/METHOD.md §2.1, §2.2), src/core/clim/bank.ts and
trainer/bank-rows.ts: N×D unit rows, D = projDim ('projection') or the
backbone width F ('backbone').
"""
from __future__ import annotations

import torch

from .augment import centre_view
from .config import require_choice
from .model import Encoder

BANK_VIEWS = ("clean", "augmented")
BANK_SPACES = ("projection", "backbone")
#: Rows per chunk of the initial bank pass and the full refresh (trainer/bank-rows.ts, ``mapChunks(images, 256, …)``).
BANK_CHUNK = 256


class MemoryBank:
    """The memory bank (§2.1, bank.ts ``MemoryBank``): N×D unit rows, one per
    training image, in the configured ``bankSpace``."""

    def __init__(self, n: int, dim: int, device: torch.device):
        self.rows = torch.zeros(n, dim, device=device)

    def write(self, idx: torch.Tensor, rows: torch.Tensor) -> None:
        """rows[idx[b]] ← rows_b for distinct indices idx (B) and rows B×D."""
        self.rows[idx.to(self.rows.device)] = rows.to(self.rows.dtype)

    def set_all(self, rows: torch.Tensor) -> None:
        """Overwrites every row (N×D): the initial pass and the full refresh (§2.3)."""
        if rows.shape != self.rows.shape:
            raise ValueError(f"bank expects {tuple(self.rows.shape)}, got {tuple(rows.shape)}")
        self.rows.copy_(rows)


def bank_dim(c: dict) -> int:
    """D: projDim in 'projection' space, F = width·2^(stages−1) in 'backbone' space (config.ts ``bankDim``)."""
    space = require_choice(c["bankSpace"], BANK_SPACES, "bankSpace")
    return c["projDim"] if space == "projection" else c["width"] * 2 ** (c["stages"] - 1)


@torch.no_grad()
def bank_rows(key: Encoder, c: dict, x: torch.Tensor) -> torch.Tensor:
    """Bank rows (§2.2 'clean', bank-rows.ts ``bankRows``) of images x
    (B×3×S×S): f_k of their centre views at the first resolution, in the
    bank's space. B×D unit rows."""
    return key.bank_rows(centre_view(x, c["resolutions"][0]), require_choice(c["bankSpace"], BANK_SPACES, "bankSpace"))
