"""Measures of frozen features (docs/METHOD.md §6), the functions of
src/core/eval/: the weighted kNN vote (knn-monitor.ts), the linear probe
(linear-probe.ts), alignment and uniformity (representation.ts) and the
agreement of a clustering with labels (cluster-metrics.ts). Labels are for
measuring only, never for training. evaluate.py applies them to a run.

Shapes: N training rows, M held-out rows, F feature width, K classes.
"""
from __future__ import annotations

import math
from typing import Dict, Tuple

import numpy as np
import torch

from .knn import knn

#: linear-probe.ts ``DEFAULT_PROBE``: full-batch steps, learning rate, heavy-ball momentum, L2 on W.
PROBE_STEPS, PROBE_LR, PROBE_MOMENTUM, PROBE_WEIGHT_DECAY = 300, 0.5, 0.9, 1e-4


def knn_classify(train: torch.Tensor, train_labels: torch.Tensor, test: torch.Tensor, k: int, tau: float, classes: int) -> torch.Tensor:
    """The kNN monitor (§6, knn-monitor.ts ``knnClassify``): each held-out
    row votes with its min(k, N) most cosine-similar training rows, weighted
    by exp(s/τ) in float64; the class with the largest total wins, ties to
    the lower class id (argmax's first maximum, as ``weightedVote``).
    train N×F, test M×F, both unit rows; train_labels N long → M long."""
    idx, sims = knn(test, train, k, None)
    score = torch.zeros(test.shape[0], classes, dtype=torch.float64, device=test.device)
    score.scatter_add_(1, train_labels.to(test.device)[idx], torch.exp(sims.double() / tau))
    return score.argmax(1)


def linear_probe(train: torch.Tensor, train_labels: torch.Tensor, test: torch.Tensor, test_labels: torch.Tensor, classes: int) -> Tuple[float, torch.Tensor]:
    """The linear probe (§6, linear-probe.ts ``linearProbe`` with
    ``DEFAULT_PROBE``): softmax regression on features standardised by the
    training split's mean and population σ (floored at 1e-6), from zero
    weights, 300 full-batch steps of heavy-ball momentum (v ← μv + g,
    θ ← θ − lr·v) on mean cross-entropy + (λ/2)‖W‖², the gradients written
    out as ``probeGradients`` so the float32 arithmetic follows the engine's.
    train N×F, test M×F raw backbone features; labels long → (held-out
    top-1, 0 when M = 0; confusion K×K long, row = true class)."""
    x, xt = train.float(), test.float()
    mean, std = x.mean(0), x.var(0, unbiased=False).sqrt().clamp_min(1e-6)
    x, xt = (x - mean) / std, (xt - mean) / std
    y = torch.nn.functional.one_hot(train_labels.to(x.device), classes).float()
    w = torch.zeros(x.shape[1], classes, device=x.device)
    b = torch.zeros(classes, device=x.device)
    vw, vb = torch.zeros_like(w), torch.zeros_like(b)
    for _ in range(PROBE_STEPS):
        dz = (torch.exp(torch.log_softmax(x @ w + b, 1)) - y) / x.shape[0]
        vw = PROBE_MOMENTUM * vw + (x.T @ dz + PROBE_WEIGHT_DECAY * w)
        vb = PROBE_MOMENTUM * vb + dz.sum(0)
        w, b = w - PROBE_LR * vw, b - PROBE_LR * vb
    pred = (xt @ w + b).argmax(1).cpu()
    truth = test_labels.cpu()
    confusion = torch.zeros(classes * classes, dtype=torch.int64).index_add_(0, truth * classes + pred, torch.ones_like(pred)).view(classes, classes)
    return (float((pred == truth).double().mean()) if truth.numel() else 0.0), confusion


def alignment(a: torch.Tensor, b: torch.Tensor, alpha: float = 2) -> float:
    """Wang & Isola 2020 eq. 4 (representation.ts ``alignment``): mean over i
    of ‖a_i − b_i‖^α; a, b N×d unit rows, row i of a paired with row i of b."""
    return float((a - b).norm(dim=1).pow(alpha).mean())


def uniformity(z: torch.Tensor, t: float = 2) -> float:
    """Wang & Isola 2020 eq. 5 (representation.ts ``uniformity``): log of the
    mean of exp(−t‖z_i − z_j‖²) over the N(N−1) ordered pairs i ≠ j, with
    ‖z_i − z_j‖² = max(0, 2 − 2 z_i·z_j); the diagonal is pushed out of
    range (+10⁴) rather than subtracted, as the engine does. z N×d unit rows, N ≥ 2."""
    n = z.shape[0]
    if n < 2:
        raise ValueError(f"uniformity needs at least 2 embeddings (got {n})")
    sq = (2 - 2 * (z @ z.T)).clamp_min(0) + 1e4 * torch.eye(n, device=z.device)
    return math.log(float(torch.exp(-t * sq).sum()) / (n * (n - 1)))


def cluster_agreement(clusters: np.ndarray, labels: np.ndarray) -> Dict[str, float]:
    """Purity, NMI (arithmetic normalisation) and ARI of cluster ids against
    labels (§6, cluster-metrics.ts ``clusterAgreement``), with its
    conventions: N = 0 gives 1 for all three; NMI is 1 when both partitions
    are single-valued, 0 when only one is, clamped to [0, 1]; ARI is 1 when
    its denominator is 0. clusters, labels: N non-negative ints."""
    c, l = np.asarray(clusters, dtype=np.int64), np.asarray(labels, dtype=np.int64)
    if c.shape != l.shape:
        raise ValueError(f"cluster metrics: {c.size} assignments but {l.size} labels")
    if (c < 0).any() or (l < 0).any():
        raise ValueError("cluster metrics: negative id")
    n = c.size
    if n == 0:
        return {"purity": 1.0, "nmi": 1.0, "ari": 1.0}
    # Non-zero cells of the contingency table n_cl with the dense slot of each cluster and label.
    (cs, ls), cells = np.unique(np.stack([c, l]), axis=1, return_counts=True)
    _, c_slot = np.unique(cs, return_inverse=True)
    _, l_slot = np.unique(ls, return_inverse=True)
    a = np.bincount(c_slot, weights=cells)  # a_c: cluster sizes
    b = np.bincount(l_slot, weights=cells)  # b_l: label sizes
    best = np.zeros(a.size)
    np.maximum.at(best, c_slot, cells)  # each cluster's majority-label count
    purity = float(best.sum()) / n
    h = lambda v: float(-(v / n * np.log(v / n)).sum())  # noqa: E731  (Shannon entropy, nats)
    hc, hl = h(a), h(b)
    if hc == 0 and hl == 0:
        nmi = 1.0
    else:
        mi = float((cells / n * np.log(n * cells / (a[c_slot] * b[l_slot]))).sum())
        nmi = min(1.0, max(0.0, mi / ((hc + hl) / 2)))  # rounding can leave [0, 1] by a hair
    pairs = lambda v: v * (v - 1) / 2  # noqa: E731  (v choose 2)
    total = pairs(n)
    sum_a, sum_b = float(pairs(a).sum()), float(pairs(b).sum())
    ari = 1.0
    if total > 0:
        expected = sum_a * sum_b / total
        denom = (sum_a + sum_b) / 2 - expected
        if denom != 0:
            ari = (float(pairs(cells).sum()) - expected) / denom
    return {"purity": purity, "nmi": nmi, "ari": ari}
