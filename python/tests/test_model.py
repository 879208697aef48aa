"""clim_torch.model against values computed another way: a hand-worked
'same' conv, a naive GroupNorm loop, a numpy NHWC forward written from
docs/METHOD.md §1.1, and the engine's parameter list for small encoders."""
import math

import numpy as np
import pytest
import torch

from clim_torch.model import (
    Encoder,
    WeightsMismatch,
    conv2d_same,
    effective_groups,
    engine_to_torch,
    feature_dim,
    param_specs,
    same_pad,
)
from clim_torch.weights import WeightsFile, WeightsFileError

TINY = dict(width=8, stemStride=1, stages=2, blocksPerStage=1, norm="group", groups=4, projHidden=32, projDim=16)


def test_same_pad_is_tensorflows():
    # total = max((ceil(n/s) − 1)·s + k − n, 0); the odd pixel goes after.
    assert same_pad(4, 3, 2) == (0, 1)
    assert same_pad(4, 3, 1) == (1, 1)
    assert same_pad(4, 1, 2) == (0, 0)
    assert same_pad(5, 3, 2) == (1, 1)
    assert same_pad(6, 4, 1) == (1, 2)


def test_strided_same_conv_hand_worked():
    # x = 0…15 on a 4×4 grid; stride 2, 3×3 of ones. TF pads 0 rows/cols before and 1 after,
    # so output (i, j) sums x[2i:2i+3, 2j:2j+3] clipped to the image:
    #   (0,0): 0+1+2+4+5+6+8+9+10 = 45   (0,1): 2+3+6+7+10+11 = 39
    #   (1,0): 8+9+10+12+13+14 = 66      (1,1): 10+11+14+15 = 50
    x = torch.arange(16, dtype=torch.float32).view(1, 1, 4, 4)
    w = torch.ones(1, 1, 3, 3)
    assert conv2d_same(x, w, 2).view(2, 2).tolist() == [[45, 39], [66, 50]]
    # Only the top-left tap set: a correlation (no kernel flip) reads x[2i, 2j].
    # PyTorch's symmetric padding=1 would read x[2i−1, 2j−1] and give [[0, 0], [0, 5]].
    w = torch.zeros(1, 1, 3, 3)
    w[0, 0, 0, 0] = 1
    assert conv2d_same(x, w, 2).view(2, 2).tolist() == [[0, 2], [8, 10]]
    # Stride 1 pads one on every side: the top-left tap reads x[i−1, j−1].
    out = conv2d_same(x, w, 1).view(4, 4)
    assert out[1:, 1:].tolist() == x.view(4, 4)[:3, :3].tolist()
    assert out[0].abs().sum() == 0 and out[:, 0].abs().sum() == 0


def test_effective_groups():
    assert effective_groups(8, 16) == 8
    assert effective_groups(8, 4) == 4  # clipped to C
    assert effective_groups(8, 12) == 6  # lowered to a divisor
    assert effective_groups(5, 7) == 1


def naive_group_norm(x, gamma, beta, groups, eps=1e-5):
    """B×C×H×W, statistics per (sample, group) over H, W and the group's channels, biased variance."""
    b, c, h, w = x.shape
    out = np.zeros_like(x, dtype=np.float64)
    cg = c // groups
    for i in range(b):
        for g in range(groups):
            vals = [float(x[i, ch, r, q]) for ch in range(g * cg, (g + 1) * cg) for r in range(h) for q in range(w)]
            mu = sum(vals) / len(vals)
            var = sum((v - mu) ** 2 for v in vals) / len(vals)
            for ch in range(g * cg, (g + 1) * cg):
                out[i, ch] = (x[i, ch] - mu) / math.sqrt(var + eps) * gamma[ch] + beta[ch]
    return out


def test_group_norm_matches_a_naive_loop():
    enc = Encoder(dict(TINY, groups=3), seed=0)  # 3 groups of 8 channels → 2 groups (effective_groups)
    rng = np.random.default_rng(1)
    x = rng.normal(2.0, 3.0, (2, 8, 3, 5)).astype(np.float32)
    gamma = rng.normal(1, 0.5, 8).astype(np.float32)
    beta = rng.normal(0, 0.5, 8).astype(np.float32)
    with torch.no_grad():
        enc.param("stem.norm.gamma").copy_(torch.from_numpy(gamma))
        enc.param("stem.norm.beta").copy_(torch.from_numpy(beta))
        got = enc._norm_act(torch.from_numpy(x), "stem.norm", relu=False).numpy()
    want = naive_group_norm(x, gamma, beta, effective_groups(3, 8))
    assert np.abs(got - want).max() < 1e-5


def expected_names(arch):
    """The engine's list for TINY-like encoders, written out by hand from encoder.ts."""
    def nm(prefix):
        return [f"{prefix}.gamma", f"{prefix}.beta"] if arch["norm"] == "group" else [f"{prefix}.beta"]

    out = ["stem.conv"] + nm("stem.norm")
    out += ["s0.b0.conv1"] + nm("s0.b0.norm1") + ["s0.b0.conv2"] + nm("s0.b0.norm2")
    out += ["s1.b0.conv1"] + nm("s1.b0.norm1") + ["s1.b0.conv2"] + nm("s1.b0.norm2")
    out += ["s1.b0.short"] + nm("s1.b0.shortnorm")
    out += ["head.fc1.w", "head.fc1.b", "head.fc2.w", "head.fc2.b"]
    return out


@pytest.mark.parametrize("norm", ["group", "none"])
def test_engine_names_order_and_shapes(norm):
    arch = dict(TINY, norm=norm)
    enc = Encoder(arch, seed=0)
    assert enc.engine_names() == expected_names(arch)
    shapes = {n: s for n, s, _ in enc.to_engine_params()}
    assert shapes["stem.conv"] == [3, 3, 3, 8]
    assert shapes["s0.b0.conv2"] == [3, 3, 8, 8]
    assert shapes["s1.b0.conv1"] == [3, 3, 8, 16]
    assert shapes["s1.b0.short"] == [1, 1, 8, 16]
    assert shapes["head.fc1.w"] == [16, 32] and shapes["head.fc2.w"] == [32, 16]
    # Every parameter is a registered nn.Parameter (what DDP and optimisers see), in engine order.
    assert [p.data_ptr() for p in enc.parameters()] == [p.data_ptr() for p in enc.ordered_parameters()]


def test_default_config_encoder_has_the_shipped_file_size():
    # The default encoder (width 16, stem stride 2, 3 stages × 1 block, GroupNorm, 128-128 head):
    # public/models/README.md's 411,784-byte file is its floats plus a header of a few kB.
    arch = dict(width=16, stemStride=2, stages=3, blocksPerStage=1, norm="group", groups=8, projHidden=128, projDim=128)
    n = sum(int(np.prod(s)) for _, _, s in param_specs(arch))
    assert feature_dim(arch) == 64
    assert n == sum(p.numel() for p in Encoder(arch).parameters())
    assert n * 4 < 411_784 < n * 4 + 8_000  # the rest is the header


def test_he_init_statistics():
    enc = Encoder(dict(TINY, width=32, stages=1), seed=3)
    w = enc.to_engine_params()
    by = {n: a for n, _, a in w}
    fan_in = 3 * 3 * 32
    assert abs(by["s0.b0.conv2"].std() / math.sqrt(2 / fan_in) - 1) < 0.05
    assert np.all(by["stem.norm.gamma"] == 1) and np.all(by["stem.norm.beta"] == 0)
    assert np.all(by["head.fc1.b"] == 0)
    # Seeded: the same seed gives the same net.
    again = Encoder(dict(TINY, width=32, stages=1), seed=3).to_engine_params()
    assert all(np.array_equal(a[2], b[2]) for a, b in zip(w, again))


def test_engine_layout_conversion():
    enc = Encoder(TINY, seed=0)
    k = enc.param("s1.b0.conv1").detach().numpy()  # out×in×kh×kw
    eng = {n: a for n, _, a in enc.to_engine_params()}["s1.b0.conv1"]  # kh×kw×in×out
    assert eng[2, 0, 5, 11] == k[11, 5, 2, 0]
    assert torch.equal(engine_to_torch(eng), enc.param("s1.b0.conv1").detach())


def test_load_engine_params_round_trip_and_dict_form():
    a = Encoder(TINY, seed=1)
    b = Encoder(TINY, seed=2)
    b.load_engine_params(a.to_engine_params())
    x = torch.rand(3, 3, 16, 16)
    with torch.no_grad():
        assert torch.equal(a(x), b(x))
    c = Encoder(TINY, seed=3)
    c.load_engine_params({n: arr for n, _, arr in a.to_engine_params()})
    with torch.no_grad():
        assert torch.equal(a.features(x), c.features(x))


def test_load_engine_params_names_the_first_offending_parameter():
    enc = Encoder(TINY, seed=0)
    good = enc.to_engine_params()
    before = [p.detach().clone() for p in enc.parameters()]

    missing = [r for r in good if r[0] != "s0.b0.conv2"]
    with pytest.raises(WeightsMismatch, match=r'has no parameter "s0\.b0\.conv2"') as e:
        enc.load_engine_params(missing)
    assert isinstance(e.value, ValueError) and isinstance(e.value, WeightsFileError) and e.value.kind == "mismatch"

    reshaped = [(n, [3, 3, 8, 9], np.zeros((3, 3, 8, 9), np.float32)) if n == "s1.b0.conv1" else (n, s, a) for n, s, a in good]
    with pytest.raises(WeightsMismatch, match=r'"s1\.b0\.conv1" is \[3×3×8×9\] in the file, the encoder needs \[3×3×8×16\]'):
        enc.load_engine_params(reshaped)

    extra = good + [("s2.b0.conv1", [1], np.zeros(1, np.float32))]
    with pytest.raises(WeightsMismatch, match=r'parameters this encoder does not: "s2\.b0\.conv1"'):
        enc.load_engine_params(extra)

    nan = [(n, s, np.full(s, np.nan, np.float32)) if n == "head.fc1.b" else (n, s, a) for n, s, a in good]
    with pytest.raises(WeightsMismatch, match=r'"head\.fc1\.b" holds a non-finite value \(NaN\) at position 0'):
        enc.load_engine_params(nan)
    # Nothing was written by any refused load.
    assert all(torch.equal(p, q) for p, q in zip(before, enc.parameters()))


def test_load_weights_checks_the_architecture_first():
    enc = Encoder(TINY, seed=0)
    other = dict(TINY, width=4, projDim=8)
    wf = WeightsFile(architecture=other, info={}, params=Encoder(other, seed=0).to_engine_params())
    with pytest.raises(WeightsMismatch, match=r"another encoder: width 4 \(this run: 8\), projDim 8 \(this run: 16\)"):
        enc.load_weights(wf)


# ---------------------------------------------------------------- an independent forward pass in numpy (NHWC)


def np_conv_same(x, k, s):
    """x: B×H×W×Ci, k: kh×kw×Ci×Co (engine layout), TF 'same' padding, as a sum over taps."""
    b, h, w, _ = x.shape
    kh = k.shape[0]
    ho, wo = -(-h // s), -(-w // s)
    top = max((ho - 1) * s + kh - h, 0) // 2
    left = max((wo - 1) * s + kh - w, 0) // 2
    xp = np.zeros((b, h + 2 * kh, w + 2 * kh, x.shape[3]))
    xp[:, top : top + h, left : left + w] = x
    out = np.zeros((b, ho, wo, k.shape[3]))
    for a in range(kh):
        for c in range(kh):
            patch = xp[:, a : a + (ho - 1) * s + 1 : s, c : c + (wo - 1) * s + 1 : s]
            out += patch @ k[a, c]
    return out


def np_forward(params, arch, x):
    p = {n: a.astype(np.float64) for n, _, a in params}

    def norm_act(h, name, relu):
        if arch["norm"] == "none":
            y = h + p[f"{name}.beta"]
        else:
            c = h.shape[3]
            g = effective_groups(arch["groups"], c)
            hg = h.reshape(h.shape[0], h.shape[1], h.shape[2], g, c // g)
            mu = hg.mean(axis=(1, 2, 4), keepdims=True)
            var = ((hg - mu) ** 2).mean(axis=(1, 2, 4), keepdims=True)
            y = ((hg - mu) / np.sqrt(var + 1e-5)).reshape(h.shape) * p[f"{name}.gamma"] + p[f"{name}.beta"]
        return np.maximum(y, 0) if relu else y

    h = norm_act(np_conv_same((x - 0.5) * 4, p["stem.conv"], arch["stemStride"]), "stem.norm", True)
    for st in range(arch["stages"]):
        for b in range(arch["blocksPerStage"]):
            q = f"s{st}.b{b}"
            s = 2 if st > 0 and b == 0 else 1
            y = norm_act(np_conv_same(h, p[f"{q}.conv1"], s), f"{q}.norm1", True)
            y = norm_act(np_conv_same(y, p[f"{q}.conv2"], 1), f"{q}.norm2", False)
            sc = norm_act(np_conv_same(h, p[f"{q}.short"], s), f"{q}.shortnorm", False) if f"{q}.short" in p else h
            h = np.maximum(y + sc, 0)
    f = h.mean(axis=(1, 2))
    z = np.maximum(f @ p["head.fc1.w"] + p["head.fc1.b"], 0) @ p["head.fc2.w"] + p["head.fc2.b"]
    return f, z / (np.linalg.norm(z, axis=1, keepdims=True) + 1e-12)


@pytest.mark.parametrize(
    "arch",
    [
        TINY,
        dict(TINY, stemStride=2, stages=3, blocksPerStage=2, groups=3, width=6),
        dict(TINY, norm="none", width=4),
    ],
)
def test_forward_matches_a_numpy_nhwc_reference(arch):
    enc = Encoder(arch, seed=5)
    with torch.no_grad():  # non-trivial γ/β and biases so every term counts
        for name, kind, _ in enc.engine_specs():
            if kind != "weight":
                enc.param(name).add_(torch.randn(enc.param(name).shape) * 0.3)
    rng = np.random.default_rng(0)
    x = rng.random((3, 16, 16, 3)).astype(np.float32)
    f_ref, z_ref = np_forward(enc.to_engine_params(), arch, x.astype(np.float64))
    xt = torch.from_numpy(x).permute(0, 3, 1, 2)
    with torch.no_grad():
        f = enc.features(xt).numpy()
        z = enc(xt).numpy()
    assert f.shape == (3, feature_dim(arch)) and z.shape == (3, arch["projDim"])
    assert np.abs(f - f_ref).max() < 1e-4 * max(1, np.abs(f_ref).max())
    assert np.abs(z - z_ref).max() < 1e-5
    assert np.allclose(np.linalg.norm(z, axis=1), 1, atol=1e-6)
    rows = enc.bank_rows(xt, "backbone").detach().numpy()
    assert np.allclose(rows, f_ref / np.linalg.norm(f_ref, axis=1, keepdims=True), atol=1e-5)


def test_every_parameter_gets_a_gradient():
    enc = Encoder(dict(TINY, stemStride=2), seed=0)
    z = enc(torch.rand(4, 3, 16, 16))
    (z[:, 0].sum() - z[:, 1].sum()).backward()
    for name in enc.engine_names():
        g = enc.param(name).grad
        assert g is not None and torch.isfinite(g).all(), name
