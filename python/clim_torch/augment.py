"""View augmentation (docs/METHOD.md §1.6), src/core/augment/augment.ts:
RandomResizedCrop + flip + colour jitter + grayscale, drawn per image as
parameters (``draw_augment``) and applied as one crop-resize and one affine
colour map (``apply_augment``). Images are B×3×H×W float32 in [0, 1].
"""
from __future__ import annotations

import math
from dataclasses import dataclass, fields

import numpy as np
import torch
import torch.nn.functional as F

from .rng import uniform


#: ITU-R BT.601 luma (augment.ts ``LUMA``).
LUMA = np.array([0.299, 0.587, 0.114])
YIQ = np.array([[0.299, 0.587, 0.114], [0.596, -0.274, -0.322], [0.211, -0.523, 0.312]])
#: The exact inverse, so a zero hue rotation is the identity (augment.ts ``YIQ_INV``).
YIQ_INV = np.linalg.inv(YIQ)
#: Row form (x ↦ x·K): every channel becomes the pixel's luma.
GREY_K = np.outer(LUMA, np.ones(3))
#: Row form of YIQ⁻¹·J·YIQ, J the quarter turn of the (I, Q) plane (augment.ts ``CHROMA_S``).
CHROMA_S = (YIQ_INV @ np.array([[0, 0, 0], [0, 0, -1], [0, 1, 0]]) @ YIQ).T
#: RandomResizedCrop's tries before the centre-crop fallback (augment.ts ``drawAugment``).
CROP_TRIES = 10
#: Aspect-ratio range of the crops (width/height, log-uniform); the config does not expose it.
RATIO_RANGE = (3 / 4, 4 / 3)


@dataclass
class AugmentDraw:
    """A batch's drawn view parameters (augment.ts ``AugmentDraw``), float64/bool, B rows each.

    boxes: B×4 crop edges (y1, x1, y2, x2) as fractions of the side, x1 > x2 when flipped.
    jitter, gray: B bool; brightness, contrast, saturation: B factors; hue: B turns.
    """

    boxes: torch.Tensor
    jitter: torch.Tensor
    brightness: torch.Tensor
    contrast: torch.Tensor
    saturation: torch.Tensor
    hue: torch.Tensor
    gray: torch.Tensor

    def rows(self, lo: int, hi: int) -> "AugmentDraw":
        """Images lo..hi−1 of the draw (a rank's share of a global batch)."""
        return AugmentDraw(**{f.name: getattr(self, f.name)[lo:hi] for f in fields(self)})


def draw_augment(batch: int, c: dict, gen: torch.Generator) -> AugmentDraw:
    """Draws B views' parameters (§1.6, augment.ts ``drawAugment``).

    Crop: up to 10 tries of area s ~ U[cropScaleMin, cropScaleMax] and ratio
    ρ log-uniform in [3/4, 4/3], w = √(sρ), h = √(s/ρ), the first that fits;
    otherwise the whole image. Flip with ``flipProb`` (swaps the box's x
    edges). Jitter with ``jitterProb``: brightness, contrast, saturation
    factors U[max(0, 1 − v), 1 + v], hue U[−hue, hue] turns; grayscale with
    ``grayscaleProb``. All tries are drawn at once (B×10), so the stream
    differs from the engine's sequential one, the distribution does not.
    """
    lo, hi = c["cropScaleMin"], c["cropScaleMax"]
    if not 0 < lo <= hi <= 1:
        raise ValueError(f"crop scale range must satisfy 0 < min ≤ max ≤ 1 (got {lo}, {hi})")
    s = uniform(gen, batch * CROP_TRIES, lo, hi).view(batch, CROP_TRIES)
    ratio = torch.exp(uniform(gen, batch * CROP_TRIES, math.log(RATIO_RANGE[0]), math.log(RATIO_RANGE[1]))).view(batch, CROP_TRIES)
    w_try, h_try = torch.sqrt(s * ratio), torch.sqrt(s / ratio)
    fits = (w_try <= 1) & (h_try <= 1)
    first = fits.to(torch.int64).argmax(1, keepdim=True)  # first fitting try (0 when none fits)
    found = fits.any(1)
    # The fallback is the whole image: 1 lies inside the ratio range, as for every square input.
    w = torch.where(found, w_try.gather(1, first).squeeze(1), torch.ones(batch, dtype=torch.float64))
    h = torch.where(found, h_try.gather(1, first).squeeze(1), torch.ones(batch, dtype=torch.float64))
    y1 = uniform(gen, batch) * (1 - h)
    x1 = uniform(gen, batch) * (1 - w)
    flip = uniform(gen, batch) < c["flipProb"]
    left = torch.where(flip, x1 + w, x1)
    right = torch.where(flip, x1, x1 + w)
    factor = lambda v: uniform(gen, batch, max(0.0, 1 - v), 1 + v)  # noqa: E731
    return AugmentDraw(
        boxes=torch.stack([y1, left, y1 + h, right], 1),
        jitter=uniform(gen, batch) < c["jitterProb"],
        brightness=factor(c["brightness"]),
        contrast=factor(c["contrast"]),
        saturation=factor(c["saturation"]),
        hue=uniform(gen, batch, -c["hue"], c["hue"]),
        gray=uniform(gen, batch) < c["grayscaleProb"],
    )


def colour_coefficients(d: AugmentDraw) -> torch.Tensor:
    """Per image, (p, q, r, o) with y = p·x + q·(x·K) + r·(x·S) + o·μ·1, μ the
    crop's mean luma: brightness, contrast, saturation, hue, then grayscale
    composed in the commutative algebra spanned by I, K, S (augment.ts
    ``colourCoefficients``, where the derivation lives). B → B×4 float64."""
    n = d.jitter.shape[0]
    p, q, r, o = torch.ones(n, dtype=torch.float64), torch.zeros(n, dtype=torch.float64), torch.zeros(n, dtype=torch.float64), torch.zeros(n, dtype=torch.float64)

    def linear(on, p2, q2, r2):
        nonlocal p, q, r, o
        np_, nq, nr = p * p2 - r * r2, p * q2 + q * p2 + q * q2 + r * r2, p * r2 + r * p2
        p, q, r = torch.where(on, np_, p), torch.where(on, nq, q), torch.where(on, nr, r)
        o = torch.where(on, o * (p2 + q2), o)

    j = d.jitter
    zero = torch.zeros(n, dtype=torch.float64)
    linear(j, d.brightness, zero, zero)
    cf = d.contrast
    o = torch.where(j, cf * o + (1 - cf) * (p + q + o), o)
    p, q, r = torch.where(j, cf * p, p), torch.where(j, cf * q, q), torch.where(j, cf * r, r)
    linear(j, d.saturation, 1 - d.saturation, zero)
    t = -2 * math.pi * d.hue  # negated: +hue moves red towards yellow (augment.ts ``hueAngle``)
    linear(j, torch.cos(t), 1 - torch.cos(t), torch.sin(t))
    linear(d.gray, zero, torch.ones(n, dtype=torch.float64), zero)
    return torch.stack([p, q, r, o], 1)


def crop_resize(x: torch.Tensor, boxes: torch.Tensor, out: int) -> torch.Tensor:
    """Bilinear crops of edge boxes (B×4, y1 x1 y2 x2 fractions) → B×3×out×out.

    Output pixel j of n samples the source at (e1 + (e2 − e1)(j + ½)/n)·S − ½
    in pixel-centre coordinates, clamped at the border: torch's
    align_corners=False resize, which the engine reproduces with its padded
    cropAndResize (augment.ts ``samplingBoxes``). A flipped box (x1 > x2)
    samples right to left."""
    b = boxes.to(torch.float32).to(x.device)
    theta = torch.zeros(x.shape[0], 2, 3, device=x.device)
    theta[:, 0, 0] = b[:, 3] - b[:, 1]
    theta[:, 0, 2] = b[:, 1] + b[:, 3] - 1
    theta[:, 1, 1] = b[:, 2] - b[:, 0]
    theta[:, 1, 2] = b[:, 0] + b[:, 2] - 1
    grid = F.affine_grid(theta, [x.shape[0], x.shape[1], out, out], align_corners=False)
    return F.grid_sample(x, grid, mode="bilinear", padding_mode="border", align_corners=False)


def apply_augment(x: torch.Tensor, out: int, d: AugmentDraw) -> torch.Tensor:
    """Applies a draw (§1.6, augment.ts ``applyAugment``): x B×3×S×S in [0, 1]
    → B×3×out×out in [0, 1]. One crop-resize, then one affine colour map per
    image and a single clip (no clip between the colour ops)."""
    if x.shape[1] != 3:
        raise ValueError(f"augmentation expects RGB images (B×3×S×S), got {x.shape[1]} channels")
    crops = crop_resize(x, d.boxes, out)
    coef = colour_coefficients(d).to(torch.float32).to(x.device)
    per = lambda i: coef[:, i].view(-1, 1, 1, 1)  # noqa: E731
    k = torch.as_tensor(GREY_K, dtype=torch.float32, device=x.device)
    s = torch.as_tensor(CHROMA_S, dtype=torch.float32, device=x.device)
    x_k = torch.einsum("bchw,cd->bdhw", crops, k)
    x_s = torch.einsum("bchw,cd->bdhw", crops, s)
    mu = x_k[:, :1].mean(dim=(2, 3), keepdim=True)  # every channel of x·K is the luma
    y = per(0) * crops + per(1) * x_k + per(2) * x_s + per(3) * mu
    return y.clamp(0, 1)


def centre_view(x: torch.Tensor, out: int) -> torch.Tensor:
    """The deterministic view (§1.6, augment.ts ``centreView``): the whole
    image resized to out (B×3×S×S → B×3×out×out); x itself when S = out."""
    if x.shape[2] == out and x.shape[3] == out:
        return x
    boxes = torch.tensor([[0.0, 0.0, 1.0, 1.0]]).expand(x.shape[0], 4)
    return crop_resize(x, boxes, out)


def pixels(x: torch.Tensor) -> torch.Tensor:
    """Stored images (uint8 bytes or float [0, 1]) → float32 [0, 1], B×3×S×S (bytes/255, trainer/images.ts)."""
    return x.to(torch.float32) / 255 if x.dtype == torch.uint8 else x.to(torch.float32)
