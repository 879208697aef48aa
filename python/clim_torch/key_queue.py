"""The negatives queue and the own-key mask (docs/METHOD.md §1.3, §1.4),
src/core/clim/queue.ts and own-key-mask.ts. K = queueSize, d = projDim.
"""
from __future__ import annotations

from typing import Optional

import torch

#: Added to masked negative logits after the division by T (own-key-mask.ts ``OWN_KEY_MASK``).
OWN_KEY_MASK = -1e4


class KeyQueue:
    """One resolution's negative queue (§1.3, queue.ts ``KeyQueue``): a K×d
    FIFO ring of key embeddings plus the K image ids they came from (−1:
    none), and the pointer to the next row to overwrite."""

    def __init__(self, size: int, dim: int, device: torch.device):
        self.size = size
        self.keys = torch.zeros(size, dim, device=device)
        self.ids = torch.full((size,), -1, dtype=torch.int64, device=device)
        self.ptr = 0

    def fill(self, rows: torch.Tensor, ids: torch.Tensor) -> None:
        """Replaces every row (K×d) with keys of images ``ids`` (K); the pointer goes to 0."""
        if rows.shape != self.keys.shape or ids.shape != (self.size,):
            raise ValueError(f"queue fill expects {tuple(self.keys.shape)} rows and {self.size} ids, got {tuple(rows.shape)}, {tuple(ids.shape)}")
        self.keys.copy_(rows)
        self.ids.copy_(ids)
        self.ptr = 0

    def enqueue(self, keys: torch.Tensor, ids: torch.Tensor) -> None:
        """Enqueues B×d keys of images ``ids`` (B), oldest rows first out;
        with B > K only the last K survive, where a FIFO puts them."""
        if self.size == 0:
            return
        b = keys.shape[0]
        take = min(b, self.size)
        # Advance past the dropped keys first so the survivors land where a FIFO puts them.
        start = (self.ptr + b - take) % self.size
        rows = (start + torch.arange(take, device=self.keys.device)) % self.size
        self.keys[rows] = keys[b - take:]
        self.ids[rows] = ids[b - take:].to(self.ids.device)
        self.ptr = (self.ptr + b) % self.size

    def slot_table(self, n: int) -> torch.Tensor:
        """For each image id in [0, n): 1 + the row holding its newest key, 0
        when no row holds it (queue.ts ``slotTable``). n long."""
        age = (torch.arange(self.size, device=self.ids.device) - self.ptr) % self.size  # 0 = oldest row
        valid = (self.ids >= 0) & (self.ids < n)
        ids, age = self.ids[valid], age[valid]
        # Sorted by (id, age), the last entry of each id's run is its newest key: one write per id.
        order = torch.argsort(ids * self.size + age)
        ids, age = ids[order], age[order]
        last = torch.ones_like(ids, dtype=torch.bool)
        last[:-1] = ids[1:] != ids[:-1]
        table = torch.zeros(n, dtype=torch.int64, device=self.ids.device)
        table[ids[last]] = (age[last] + self.ptr) % self.size + 1
        return table

    def state_dict(self) -> dict:
        return {"keys": self.keys.cpu(), "ids": self.ids.cpu(), "ptr": self.ptr}

    def load_state_dict(self, st: dict) -> None:
        self.fill(st["keys"].to(self.keys.device), st["ids"].to(self.ids.device))
        self.ptr = int(st["ptr"])


def own_key_mask(queue: KeyQueue, n: int, anchors: torch.Tensor, positives: torch.Tensor) -> Optional[torch.Tensor]:
    """The own-key mask (§1.4, own-key-mask.ts ``ownKeyMask``): B×K, −10⁴ at
    the row of the newest queued key of anchor i and of its positive p, 0
    elsewhere; None for an empty queue. Added to the negative logits after
    the division by T, so those rows drop out of the softmax."""
    if queue.size == 0:
        return None
    table = queue.slot_table(n)
    rows = torch.arange(1, queue.size + 1, device=table.device)
    hit = (table[anchors].unsqueeze(1) == rows) | (table[positives].unsqueeze(1) == rows)
    return hit.to(torch.float32) * OWN_KEY_MASK
