"""Embedding equivalence between clim_torch and the engine (tfjs CPU
backend), both directions (issue 18):

(a) weights the TypeScript side wrote (public/models/*.climweights) → the
    embeddings PyTorch computes equal tfjs's;
(b) weights PyTorch wrote (a random Encoder, write_weights) → tfjs loads them
    (as --init-weights does) and its embeddings equal PyTorch's.

The engine side is scripts/embed-weights.ts, run with `npx tsx`. Tolerance
1e-5 max abs on the L2-normalised projection (float32 both sides, different
summation orders). Measured (2-core CPU, torch 1.13, tfjs 4.22 cpu):
(a) projection 1.0e-7, backbone features 1.2e-6 (features up to ~4 in size);
(b) projection 1.7e-7, features 4.8e-7 (max |f| 2-4). Features are compared relative to their
scale, 1e-5 · max(1, max |f|).
"""
import glob
import json
import os
import shutil
import subprocess

import numpy as np
import pytest
import torch

from clim_torch.model import Encoder
from clim_torch.weights import read_weights, write_weights

from conftest import REPO_ROOT

pytestmark = pytest.mark.skipif(
    not os.path.isdir(os.path.join(REPO_ROOT, "node_modules")) or shutil.which("npx") is None,
    reason="node_modules is absent (run `npm ci`): the engine side of the comparison needs tfjs",
)

SHIPPED = sorted(glob.glob(os.path.join(REPO_ROOT, "public", "models", "*.climweights")))
TOL = 1e-5


def engine_embeddings(weights_path, images_nhwc, tmp_path):
    """(embed N×d, features N×F) from scripts/embed-weights.ts for float32 N×H×W×3 pixels in [0, 1]."""
    images = tmp_path / "images.bin"
    out = tmp_path / "out.bin"
    np.ascontiguousarray(images_nhwc, dtype="<f4").tofile(images)
    (tmp_path / "images.bin.json").write_text(json.dumps({"shape": list(images_nhwc.shape)}))
    r = subprocess.run(
        ["npx", "tsx", "scripts/embed-weights.ts", "--weights", str(weights_path), "--images", str(images), "--out", str(out)],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert r.returncode == 0, f"embed-weights.ts failed:\n{r.stderr[-3000:]}"
    meta = json.loads((tmp_path / "out.bin.json").read_text())
    assert meta["backend"] == "cpu"
    (n, d), (n2, f) = meta["embed"], meta["features"]
    flat = np.fromfile(out, dtype="<f4")
    assert flat.size == n * d + n2 * f
    return flat[: n * d].reshape(n, d), flat[n * d :].reshape(n2, f)


def torch_embeddings(enc, images_nhwc):
    x = torch.from_numpy(np.ascontiguousarray(images_nhwc, dtype=np.float32)).permute(0, 3, 1, 2)
    with torch.no_grad():
        f = enc.features(x)
        return enc.project(f).numpy(), f.numpy()


def compare(z_py, f_py, z_js, f_js):
    assert z_py.shape == z_js.shape and f_py.shape == f_js.shape
    dz = float(np.abs(z_py - z_js).max())
    df = float(np.abs(f_py - f_js).max())
    print(f"max |Δ| projection {dz:.3g}, features {df:.3g} (max |f| {np.abs(f_js).max():.3g})")
    assert dz < TOL
    assert df < TOL * max(1.0, float(np.abs(f_js).max()))
    return dz, df


@pytest.mark.parametrize("path", SHIPPED, ids=os.path.basename)
def test_ts_written_weights_embed_the_same_in_pytorch(path, tmp_path):
    wf = read_weights(path)
    size = int((wf.info.get("config") or {}).get("resolutions", [24])[0])
    rng = np.random.default_rng(0)
    x = rng.random((8, size, size, 3), dtype=np.float32)
    enc = Encoder(wf.architecture)
    enc.load_weights(wf)
    compare(*torch_embeddings(enc, x), *engine_embeddings(path, x, tmp_path))


@pytest.mark.parametrize(
    "arch,size",
    [
        (dict(width=4, stemStride=2, stages=2, blocksPerStage=2, norm="group", groups=3, projHidden=16, projDim=8), 16),
        (dict(width=6, stemStride=1, stages=3, blocksPerStage=1, norm="none", groups=8, projHidden=12, projDim=6), 12),
    ],
    ids=["group-stride2", "none-stride1"],
)
def test_pytorch_written_weights_embed_the_same_in_tfjs(arch, size, tmp_path):
    enc = Encoder(arch, seed=7)
    with torch.no_grad():  # non-trivial γ/β and biases, so every term is compared
        for name, kind, _ in enc.engine_specs():
            if kind != "weight":
                enc.param(name).add_(torch.randn(enc.param(name).shape, generator=torch.Generator().manual_seed(1)) * 0.2)
    path = tmp_path / "py.climweights"
    write_weights(path, arch, {"savedAt": "", "note": "clim_torch test_equivalence"}, enc.to_engine_params())
    rng = np.random.default_rng(1)
    x = rng.random((8, size, size, 3), dtype=np.float32)
    compare(*torch_embeddings(enc, x), *engine_embeddings(path, x, tmp_path))
