"""The encoder f = backbone + 2-layer MLP projection head, output
L2-normalised (docs/METHOD.md §1.1): the exact architecture and parameter
names of src/core/models/encoder.ts, in PyTorch.

Backbone: stem 3×3 conv (``width`` channels, stride ``stemStride``) →
``stages`` stages of ``blocksPerStage`` basic residual blocks with
width·2^s channels, the first block of every stage after the first with
stride 2 and a 1×1 projection shortcut → global average pool → B×F,
F = width·2^(stages−1). GroupNorm (or a bias only with ``norm: 'none'``).
Head: F → projHidden → ReLU → projDim, then row-wise L2 normalisation.

Layouts. The engine (tfjs) is NHWC with conv kernels kh×kw×in×out; here
activations are B×C×H×W and conv kernels are held as out×in×kh×kw (what
``F.conv2d`` takes), dense weights stay in×out (``x @ w``, the engine's
matMul). ``to_engine_params``/``load_engine_params`` convert. Parameter
names are the engine's ("stem.conv", "s1.b0.conv2", "head.fc2.w"); a module
attribute cannot contain '.', so they live in an ``nn.ParameterDict`` under
the name with '.' → '__' and ``engine_names()`` lists them in the engine's
creation order (the weights file's table order).

Padding is TensorFlow's 'same' (src/core/models/conv.ts ``samePadBefore``):
total = max((⌈n/s⌉−1)·s + k − n, 0), ⌊total/2⌋ before and the rest AFTER —
for the stride-2 3×3 convs on even sides that is 0 before, 1 after, where
PyTorch's symmetric ``padding=1`` would shift the sampling grid by a pixel.
"""
from __future__ import annotations

import math
from typing import Mapping, Optional, Sequence, Union

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from .weights import ARCHITECTURE_FIELDS, WeightsFile, WeightsFileError, architecture_of, params_mismatch, weights_mismatch

#: GroupNorm's ε (groupnorm.ts EPS, as torch.nn.GroupNorm).
GN_EPS = 1e-5
#: ε of the row-wise L2 normalisation (encoder.ts ``l2Normalize``): keeps zero rows finite.
L2_EPS = 1e-12


class WeightsMismatch(WeightsFileError):
    """Weights that do not fit this encoder (kind 'mismatch'); the message
    names the first offending architecture field or parameter."""

    def __init__(self, message: str):
        super().__init__("mismatch", message)


def feature_dim(arch: Mapping) -> int:
    """F = width·2^(stages−1), the backbone's pooled feature width (config.ts ``featureDim``)."""
    return int(arch["width"]) * 2 ** (int(arch["stages"]) - 1)


def effective_groups(groups: int, channels: int) -> int:
    """The group count actually used (groupnorm.ts ``effectiveGroups``): clipped to C, lowered to a divisor of C."""
    g = max(1, min(int(groups), int(channels)))
    while channels % g:
        g -= 1
    return g


def same_pad(n: int, k: int, s: int) -> tuple:
    """TensorFlow 'same' padding (before, after) of a side n for kernel k and stride s (conv.ts ``samePadBefore``)."""
    out = -(-n // s)
    total = max((out - 1) * s + k - n, 0)
    return total // 2, total - total // 2


def conv2d_same(x: torch.Tensor, w: torch.Tensor, stride: int = 1) -> torch.Tensor:
    """'same' conv. x: B×Ci×H×W, w: Co×Ci×k×k → B×Co×⌈H/s⌉×⌈W/s⌉ (TF padding, extra row/col after)."""
    k = w.shape[-1]
    ph = same_pad(x.shape[2], k, stride)
    pw = same_pad(x.shape[3], k, stride)
    if ph[0] == ph[1] and pw[0] == pw[1]:
        # Symmetric: let the conv pad (no padded copy of x).
        return F.conv2d(x, w, stride=stride, padding=(ph[0], pw[0]))
    return F.conv2d(F.pad(x, (pw[0], pw[1], ph[0], ph[1])), w, stride=stride)


def param_specs(arch: Mapping) -> list:
    """(engine name, kind, engine (tfjs) shape) in the order encoder.ts ``Encoder.create`` adds them.
    kind: 'weight' (conv kh×kw×in×out or dense in×out), 'bias', 'norm' (GroupNorm γ/β)."""
    specs = []
    width = int(arch["width"])

    def norm(name: str, c: int) -> None:
        if arch["norm"] == "none":
            specs.append((f"{name}.beta", "bias", [c]))
        else:
            specs.append((f"{name}.gamma", "norm", [c]))
            specs.append((f"{name}.beta", "norm", [c]))

    specs.append(("stem.conv", "weight", [3, 3, 3, width]))
    norm("stem.norm", width)
    ci = width
    for s in range(int(arch["stages"])):
        co = width * 2**s
        for b in range(int(arch["blocksPerStage"])):
            p = f"s{s}.b{b}"
            specs.append((f"{p}.conv1", "weight", [3, 3, ci, co]))
            norm(f"{p}.norm1", co)
            specs.append((f"{p}.conv2", "weight", [3, 3, co, co]))
            norm(f"{p}.norm2", co)
            if ci != co or (s > 0 and b == 0):
                specs.append((f"{p}.short", "weight", [1, 1, ci, co]))
                norm(f"{p}.shortnorm", co)
            ci = co
    f, hid, d = feature_dim(arch), int(arch["projHidden"]), int(arch["projDim"])
    specs += [
        ("head.fc1.w", "weight", [f, hid]),
        ("head.fc1.b", "bias", [hid]),
        ("head.fc2.w", "weight", [hid, d]),
        ("head.fc2.b", "bias", [d]),
    ]
    return specs


def _key(name: str) -> str:
    return name.replace(".", "__")


def engine_to_torch(arr: Union[np.ndarray, torch.Tensor]) -> torch.Tensor:
    """A value in the engine's layout → this module's: conv kh×kw×in×out → out×in×kh×kw; others unchanged."""
    t = torch.as_tensor(np.ascontiguousarray(np.asarray(arr, dtype=np.float32)))
    return t.permute(3, 2, 0, 1).contiguous() if t.dim() == 4 else t.clone()


def torch_to_engine(t: torch.Tensor) -> np.ndarray:
    """This module's layout → the engine's (inverse of ``engine_to_torch``), float32 numpy."""
    t = t.detach().to("cpu", torch.float32)
    if t.dim() == 4:
        t = t.permute(2, 3, 1, 0)
    return np.ascontiguousarray(t.numpy())


class Encoder(nn.Module):
    """f_q / f_k of docs/METHOD.md §1.1. ``arch``: a dict with the
    ARCHITECTURE_FIELDS (a full ClimConfig works too; other fields are ignored).

    forward(x): B×3×H×W float32 pixels in [0, 1] (the engine's scale: byte/255,
    src/core/trainer/images.ts) → B×projDim, unit rows.
    """

    def __init__(self, arch: Mapping, seed: Optional[int] = None, generator: Optional[torch.Generator] = None):
        super().__init__()
        missing = [k for k in ARCHITECTURE_FIELDS if k not in arch]
        if missing:
            raise ValueError(f"Encoder: the architecture lacks {', '.join(missing)}")
        self.arch = architecture_of(arch)
        if self.arch["norm"] not in ("group", "none"):
            raise ValueError(f"Encoder: norm must be one of group, none (got {self.arch['norm']!r})")
        self._specs = param_specs(self.arch)
        self.params = nn.ParameterDict()
        for name, kind, shape in self._specs:
            self.params[_key(name)] = nn.Parameter(torch.empty(engine_to_torch(np.zeros(shape, np.float32)).shape))
        if generator is None and seed is not None:
            generator = torch.Generator().manual_seed(int(seed))
        self.reset_parameters(generator)

    # ---------------------------------------------------------------- parameters

    @torch.no_grad()
    def reset_parameters(self, generator: Optional[torch.Generator] = None) -> None:
        """He-normal weights, std √(2/fan_in) with fan_in = prod(engine shape[:-1])
        (kh·kw·in for convs, in for dense), GroupNorm γ = 1, every β and bias 0
        (encoder.ts ``Encoder.create``). Drawn in the engine's layout, then
        permuted, so fan-in is the engine's; the values differ from tfjs' (its
        own seeded generator), the distribution does not."""
        for name, kind, shape in self._specs:
            p = self.params[_key(name)]
            if kind == "weight":
                fan_in = int(np.prod(shape[:-1]))
                v = torch.randn(shape, generator=generator) * math.sqrt(2.0 / fan_in)
                p.copy_(engine_to_torch(v.numpy()))
            elif kind == "norm" and name.endswith(".gamma"):
                p.fill_(1.0)
            else:
                p.zero_()

    def engine_names(self) -> list:
        """Every parameter's engine name, in the engine's creation order."""
        return [name for name, _, _ in self._specs]

    def engine_specs(self) -> list:
        """(name, kind, engine shape) per parameter; kind 'weight' | 'bias' | 'norm' (for weight decay: the engine's optimiser decays 'weight' only)."""
        return [(n, k, list(s)) for n, k, s in self._specs]

    def param(self, name: str) -> nn.Parameter:
        """The parameter with engine name ``name`` (this module's layout)."""
        try:
            return self.params[_key(name)]
        except KeyError:
            raise KeyError(f"encoder has no parameter {name}") from None

    def has(self, name: str) -> bool:
        return _key(name) in self.params

    def ordered_parameters(self) -> list:
        """Parameters in engine order (``nn.ParameterDict`` keeps insertion order, but say so explicitly)."""
        return [self.param(n) for n in self.engine_names()]

    def to_engine_params(self) -> list:
        """(name, engine shape, float32 numpy array in the engine's layout) in engine order: a weights file's params."""
        out = []
        for name, _, shape in self._specs:
            arr = torch_to_engine(self.param(name))
            assert list(arr.shape) == shape, (name, arr.shape, shape)
            out.append((name, list(shape), arr))
        return out

    @torch.no_grad()
    def load_engine_params(self, params: Union[Sequence, Mapping]) -> None:
        """Loads engine-layout values: a list of (name, shape, data) (a
        ``WeightsFile.params``), or a dict name → array (shape taken from the
        array). Every name and shape is checked before anything is written;
        the first missing, extra, reshaped or non-finite parameter raises
        ``WeightsMismatch`` naming it (weights-file.ts ``weightsMismatch``)."""
        if isinstance(params, Mapping):
            recs = [(n, list(np.shape(v)), v) for n, v in params.items()]
        else:
            recs = []
            for r in params:
                if isinstance(r, Mapping):
                    recs.append((r["name"], list(r["shape"]), r["data"]))
                else:
                    name, shape, data = r
                    recs.append((name, list(shape), data))
        for name, shape, data in recs:
            if int(np.prod(shape)) != np.size(data):
                raise WeightsMismatch(f'Parameter "{name}" has {np.size(data)} values for its shape [{"×".join(map(str, shape))}].')
        why = params_mismatch(recs, [(n, s) for n, _, s in self._specs])
        if why:
            raise WeightsMismatch(why)
        by = {n: (s, d) for n, s, d in recs}
        for name, _, shape in self._specs:
            s, d = by[name]
            p = self.param(name)
            p.copy_(engine_to_torch(np.asarray(d, dtype=np.float32).reshape(shape)).to(p.device, p.dtype))

    def load_weights(self, file: WeightsFile) -> None:
        """Loads a weights file (weights.py ``read_weights``): its architecture
        must equal this encoder's field by field, then as ``load_engine_params``."""
        why = weights_mismatch(file, self.arch, [(n, s) for n, _, s in self._specs])
        if why:
            raise WeightsMismatch(why)
        self.load_engine_params(file.params)

    # ---------------------------------------------------------------- forward

    def _norm_act(self, x: torch.Tensor, name: str, relu: bool) -> torch.Tensor:
        if self.arch["norm"] == "none":
            y = x + self.param(f"{name}.beta").view(1, -1, 1, 1)
        else:
            g = effective_groups(self.arch["groups"], x.shape[1])
            y = F.group_norm(x, g, self.param(f"{name}.gamma"), self.param(f"{name}.beta"), eps=GN_EPS)
        return F.relu(y) if relu else y

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """x: B×3×H×W in [0, 1] → backbone features B×F (before the head,
        NOT normalised: ``Encoder.features`` of encoder.ts). The bank's
        'backbone' space normalises them (``bank_rows``)."""
        if x.dim() != 4 or x.shape[1] != 3:
            raise ValueError(f"Encoder: expected B×3×H×W pixels, got {tuple(x.shape)}")
        a = self.arch
        # Centre the pixels: keeps early activations O(1) with He init (§1.1).
        h = (x - 0.5) * 4
        h = self._norm_act(conv2d_same(h, self.param("stem.conv"), int(a["stemStride"])), "stem.norm", True)
        for st in range(int(a["stages"])):
            for b in range(int(a["blocksPerStage"])):
                p = f"s{st}.b{b}"
                stride = 2 if st > 0 and b == 0 else 1
                y = self._norm_act(conv2d_same(h, self.param(f"{p}.conv1"), stride), f"{p}.norm1", True)
                y = self._norm_act(conv2d_same(y, self.param(f"{p}.conv2")), f"{p}.norm2", False)
                if self.has(f"{p}.short"):
                    sc = self._norm_act(conv2d_same(h, self.param(f"{p}.short"), stride), f"{p}.shortnorm", False)
                else:
                    sc = h
                h = F.relu(y + sc)
        return h.mean(dim=(2, 3))

    def project(self, f: torch.Tensor) -> torch.Tensor:
        """Backbone features B×F → projected, L2-normalised embeddings B×d."""
        h = F.relu(f @ self.param("head.fc1.w") + self.param("head.fc1.b"))
        z = h @ self.param("head.fc2.w") + self.param("head.fc2.b")
        return l2_normalize(z)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x: B×3×H×W in [0, 1] → L2-normalised embeddings B×projDim (``Encoder.embed``)."""
        return self.project(self.features(x))

    embed = forward

    def bank_rows(self, x: torch.Tensor, bank_space: str) -> torch.Tensor:
        """Memory-bank rows (§2.1, trainer/bank-rows.ts): 'projection' → the
        embedding B×d; 'backbone' → the normalised features B×F."""
        if bank_space == "projection":
            return self.forward(x)
        if bank_space == "backbone":
            return l2_normalize(self.features(x))
        raise ValueError(f"bankSpace must be one of projection, backbone (got {bank_space!r})")


def l2_normalize(z: torch.Tensor) -> torch.Tensor:
    """Row-wise z / (‖z‖ + 1e-12), B×d → B×d (encoder.ts ``l2Normalize``: ε added to the norm, not clamped)."""
    return z / (z.norm(dim=1, keepdim=True) + L2_EPS)


def images_to_input(images: Union[np.ndarray, torch.Tensor]) -> torch.Tensor:
    """uint8 N×H×W×3 (the engine's stored layout, data/dataset.ts) or
    uint8 N×3×H×W → float32 N×3×H×W in [0, 1] (byte/255, trainer/images.ts)."""
    t = torch.as_tensor(images)
    if t.dim() != 4:
        raise ValueError(f"expected 4-D images, got shape {tuple(t.shape)}")
    if t.shape[-1] == 3 and t.shape[1] != 3:
        t = t.permute(0, 3, 1, 2)
    if t.dtype == torch.uint8:
        return t.to(torch.float32) / 255
    return t.to(torch.float32)
