"""Evaluation of a run's frozen f_q (docs/METHOD.md §6), as
src/core/trainer/evaluate.ts ``evaluateRun`` computes it, so the report's
numbers are the Node runner's for the same weights and split:

  kNN top-1      backbone features (``Encoder.features``, before the head) of
                 the centre views at resolutions[0], L2-normalised; the
                 held-out split votes with its evalK nearest training rows,
                 weight exp(s/evalTemperature) (metrics.knn_classify); all
                 of both splits, no subsampling.
  linear top-1   the probe (metrics.linear_probe) on the same features, raw.
  alignment,     f_q's embeddings of two augmented views (at resolutions[0])
  uniformity     of the first min(M, 1000) held-out images (the training
                 images when nothing is held out), the views drawn from a
                 generator seeded with seed ^ 0x7e1a, apart from the run's
                 stream. The draws are torch's, not the engine's xoshiro
                 ones, so these two match the runner's in distribution only.
  cluster purity, NMI, ARI
                 the last k-means assignment of the training bank (§2.4)
                 against the training labels (metrics.cluster_agreement).

kNN and the probe need a labelled held-out split; alignment and uniformity
need two images; the cluster scores need labels and a k-means. On a GPU the
evaluation runs with TF32 off (``float32_only``): the engine computes in
float32, and TF32 convolutions (cuDNN's default on Ampere and later) err by
~1e-3, enough to reorder near neighbours.
"""
from __future__ import annotations

import contextlib
import time
from typing import Iterator, Optional

import torch

from .augment import apply_augment, centre_view, draw_augment, pixels
from .metrics import alignment, cluster_agreement, knn_classify, linear_probe, uniformity
from .model import Encoder, l2_normalize

#: Salt of the evaluation's augmentation draws (evaluate.ts ``EVAL_SALT``).
EVAL_SALT = 0x7E1A
#: Held-out images whose embeddings give alignment and uniformity (evaluate.ts ``EVAL_REPR_MAX``): the N×N Gram matrix stays at 4 MB.
EVAL_REPR_MAX = 1000
#: Images per forward pass (evaluate.ts ``mapChunks(x, 256, …)``); GroupNorm is per image, so the chunking changes no value.
CHUNK = 256


@contextlib.contextmanager
def float32_only() -> Iterator[None]:
    """TF32 off for cuDNN convolutions and CUDA matmuls inside, the previous settings restored after."""
    saved = torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32
    torch.backends.cudnn.allow_tf32 = torch.backends.cuda.matmul.allow_tf32 = False
    try:
        yield
    finally:
        torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32 = saved


@torch.no_grad()
def backbone_features(encoder: Encoder, images: torch.Tensor, r: int) -> torch.Tensor:
    """f_q's backbone features of the centre views at resolution r, in chunks: N×3×S×S → N×F (not normalised)."""
    return torch.cat([encoder.features(centre_view(pixels(images[s:s + CHUNK]), r)) for s in range(0, images.shape[0], CHUNK)])


@torch.no_grad()
@float32_only()
def evaluate_run(
    encoder: Encoder,
    c: dict,
    train_x: torch.Tensor,
    train_y: torch.Tensor,
    test_x: torch.Tensor,
    test_y: torch.Tensor,
    classes: int,
    assignments: Optional[torch.Tensor],
    step: int,
    full: bool,
) -> dict:
    """The evaluation at ``step`` (evaluate.ts ``evaluateRun``): kNN top-1
    always, and with ``full`` the probe, alignment, uniformity and cluster
    agreement. train_x N×3×S×S, train_y N long (−1: unlabelled), test_x
    M×3×S×S, test_y M; classes = max(class names, max train label + 1);
    assignments: the last k-means' N cluster ids or None. → the
    ``EvalResult`` fields (None where not measured)."""
    t0 = time.perf_counter()
    out = {"step": step, "knnTop1": None, "linearTop1": None, "alignment": None, "uniformity": None,
           "clusterPurity": None, "clusterNmi": None, "clusterAri": None}
    r = c["resolutions"][0]
    labelled = train_y.numel() > 0 and bool((train_y >= 0).all())
    if labelled and test_x.shape[0] > 0:
        train_f, test_f = backbone_features(encoder, train_x, r), backbone_features(encoder, test_x, r)
        pred = knn_classify(l2_normalize(train_f), train_y, l2_normalize(test_f), c["evalK"], c["evalTemperature"], classes)
        out["knnTop1"] = float((pred.cpu() == test_y.cpu()).double().mean())
        if full:
            out["linearTop1"], _ = linear_probe(train_f, train_y, test_f, test_y, classes)
    if full:
        images = test_x if test_x.shape[0] > 0 else train_x
        m = min(images.shape[0], EVAL_REPR_MAX)
        if m >= 2:
            gen = torch.Generator().manual_seed((c["seed"] ^ EVAL_SALT) & 0xFFFFFFFF)
            da, db = draw_augment(m, c, gen), draw_augment(m, c, gen)
            x = pixels(images[:m])
            za = torch.cat([encoder(apply_augment(x[s:s + CHUNK], r, da.rows(s, s + CHUNK))) for s in range(0, m, CHUNK)])
            zb = torch.cat([encoder(apply_augment(x[s:s + CHUNK], r, db.rows(s, s + CHUNK))) for s in range(0, m, CHUNK)])
            out["alignment"], out["uniformity"] = alignment(za, zb), uniformity(za)
        if labelled and assignments is not None:
            a = cluster_agreement(assignments.cpu().numpy(), train_y.cpu().numpy())
            out["clusterPurity"], out["clusterNmi"], out["clusterAri"] = a["purity"], a["nmi"], a["ari"]
    out["ms"] = (time.perf_counter() - t0) * 1000
    return out
