"""The held-out split of an image folder, exactly as the Node runner draws it
(src/cli/train.ts ``loadFolderDataset`` → src/core/data/folder.ts
``holdOutSplit`` with ``new Rng(seed)``): the engine's xoshiro128** stream
(src/core/rng.ts) is ported bit for bit, so the same images in the same
order and the same seed give the same train and test indices in both.
"""
from __future__ import annotations

import math
from typing import List, Optional, Sequence, Tuple

import numpy as np

#: Held-out fraction of a labelled folder (train.ts ``DEFAULT_HOLDOUT``); an unlabelled one holds out nothing.
DEFAULT_HOLDOUT = 0.1
_M32 = 0xFFFFFFFF


def _imul(a: int, b: int) -> int:
    """JavaScript's Math.imul, as an unsigned 32-bit result."""
    return (a * b) & _M32


def _rotl(x: int, k: int) -> int:
    return ((x << k) | (x >> (32 - k))) & _M32


class XoshiroRng:
    """rng.ts ``Rng``: xoshiro128** seeded through splitmix32. Only the draws
    the split needs (``next``, ``int``, ``shuffle``)."""

    def __init__(self, seed: int):
        s = seed & _M32
        state = []
        for _ in range(4):
            s = (s + 0x9E3779B9) & _M32
            z = _imul(s ^ (s >> 16), 0x85EBCA6B)
            z = _imul(z ^ (z >> 13), 0xC2B2AE35)
            state.append((z ^ (z >> 16)) & _M32)
        if not any(state):
            state[0] = 1
        self.s = state

    def next_u32(self) -> int:
        s = self.s
        result = _imul(_rotl(_imul(s[1], 5), 7), 9)
        t = (s[1] << 9) & _M32
        s[2] ^= s[0]
        s[3] ^= s[1]
        s[1] ^= s[2]
        s[0] ^= s[3]
        s[2] ^= t
        s[3] = _rotl(s[3], 11)
        return result

    def next(self) -> float:
        """Uniform in [0, 1)."""
        return self.next_u32() / 4294967296

    def int(self, n: int) -> int:
        """Integer in [0, n)."""
        return math.floor(self.next() * n)

    def shuffle(self, arr: List[int]) -> List[int]:
        """Fisher–Yates in place, as rng.ts."""
        for i in range(len(arr) - 1, 0, -1):
            j = self.int(i + 1)
            arr[i], arr[j] = arr[j], arr[i]
        return arr


def held_out_count(count: int, fraction: float, stratified: bool) -> int:
    """How many of a label's ``count`` images are held out (folder.ts ``heldOutCount``)."""
    if fraction == 0 or count < 2:
        return 0
    k = math.floor(fraction * count + 0.5)  # JS Math.round
    return min(count - 1, max(1, k) if stratified else k)


def holdout_split(n: int, labels: Optional[Sequence[int]], fraction: float, seed: int) -> Tuple[np.ndarray, np.ndarray]:
    """Sorted, disjoint train and test indices of n images (folder.ts
    ``holdOutSplit``): stratified per label when labelled (round(f·c) of a
    label's c images, at least 1 and at most c − 1), overall otherwise;
    labels are visited in ascending order, each group shuffled by one
    shared stream seeded with ``seed``."""
    if n < 1:
        raise ValueError(f"need at least one image to split (got n = {n})")
    if not 0 <= fraction <= 0.9:
        raise ValueError(f"held-out fraction must be a number from 0 to 0.9 (got {fraction})")
    groups: dict = {}
    for i in range(n):
        groups.setdefault(int(labels[i]) if labels is not None else 0, []).append(i)
    rng = XoshiroRng(seed)
    test = np.zeros(n, dtype=bool)
    for label in sorted(groups):
        g = rng.shuffle(groups[label])
        test[g[: held_out_count(len(g), fraction, labels is not None)]] = True
    return np.flatnonzero(~test), np.flatnonzero(test)
