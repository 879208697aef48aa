"""Issue 18's done-means: the weights clim_torch writes open in the Node
runner (``--init-weights``), and on the same folder, seed and held-out split
the runner measures the kNN top-1 the Python report gives (within 0.5
points; they are equal here), and the linear probe's top-1 too.

The runner evaluates with ``--steps 0 --full-eval``: the loaded f_q, no
training. Alignment/uniformity (augmentations drawn by another generator)
and the cluster scores (the runner's own k-means of its own bank) are
compared in distribution only, so not here."""
import json
import os
import shutil
import subprocess

import numpy as np
import pytest
from PIL import Image

from clim_torch import train
from conftest import REPO_ROOT

CONFIG = {
    "resolutions": [12, 16], "width": 8, "stemStride": 1, "stages": 2, "groups": 4, "projHidden": 16, "projDim": 8,
    "batchSize": 8, "queueSize": 16, "knnK": 3, "climWarmupSteps": 2, "clusters": 3, "kmeansEvery": 3, "kmeansIters": 3,
    "warmupSteps": 1, "totalSteps": 20, "evalK": 5, "seed": 3,
}
#: Half of each label held out: 30 test images, so one prediction moves top-1 by 3.3 points.
HOLDOUT = "0.5"


def folder(root):
    """60 PNGs of 16×16 in 3 label folders: a square of the label's colour at
    a random place and size on grey noise, so kNN is neither at chance nor
    at 100% (about 0.7 for this config)."""
    rng = np.random.default_rng(0)
    for label, colour in (("red", (200, 60, 60)), ("green", (60, 180, 80)), ("blue", (70, 90, 200))):
        (root / label).mkdir(parents=True)
        for i in range(20):
            px = 60 + rng.integers(0, 120, (16, 16, 3))
            y, x = rng.integers(0, 9, 2)
            s = rng.integers(4, 8)
            px[y:y + s, x:x + s] = colour
            Image.fromarray(px.astype(np.uint8)).save(root / label / f"{i:02d}.png")


@pytest.mark.skipif(not os.path.isdir(os.path.join(REPO_ROOT, "node_modules")) or shutil.which("npx") is None,
                    reason="node_modules or npx absent: `npm ci` first to compare with the Node runner")
def test_runner_measures_the_python_reports_knn_top1_on_the_same_weights(monkeypatch, tmp_path):
    for v in ("WORLD_SIZE", "RANK", "LOCAL_RANK"):
        monkeypatch.delenv(v, raising=False)
    images, out = tmp_path / "shapes", tmp_path / "out"
    folder(images)
    cfg = tmp_path / "run.json"
    cfg.write_text(json.dumps(CONFIG))
    train.main(["--config", str(cfg), "--data", str(images), "--out", str(out), "--steps", "4", "--holdout", HOLDOUT, "--quiet"])
    py = json.loads((out / "report.json").read_text())
    runner = tmp_path / "runner.json"
    res = subprocess.run(
        ["npx", "tsx", "src/cli/train.ts", "--dataset", str(images), "--config", str(cfg), "--init-weights", str(out / "model.climweights"),
         "--steps", "0", "--backend", "cpu", "--holdout", HOLDOUT, "--full-eval", "--out", str(runner), "--quiet"],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=180,
    )
    assert res.returncode == 0, res.stderr[-2000:]
    node = json.loads(runner.read_text())
    assert node["dataset"] == py["dataset"]  # same images, same split
    assert {k: v for k, v in node["load"].items() if k != "seconds"} == {k: v for k, v in py["load"].items() if k != "seconds"}
    knn_py, knn_node = py["eval"]["knnTop1"], node["eval"]["knnTop1"]
    assert 0.4 < knn_py < 1  # a measurement that can differ, not a foregone one
    assert abs(knn_py - knn_node) <= 0.005, (knn_py, knn_node)
    # The probe is deterministic (zero init, full batch): float noise could flip at most a borderline image.
    assert abs(py["eval"]["linearTop1"] - node["eval"]["linearTop1"]) <= 1 / 30 + 1e-9, (py["eval"]["linearTop1"], node["eval"]["linearTop1"])
