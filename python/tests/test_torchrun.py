"""``torchrun --nproc_per_node 2`` end to end (gloo on the CPU): the outputs
exist and are valid, and ``--resume`` continues the run to a later step with
the whole history. Also the launcher fault the CLI's hint names."""
import json
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest
import torch
from PIL import Image

from clim_torch import train
from clim_torch.model import Encoder
from clim_torch.weights import read_weights
from conftest import PYTHON_DIR

CONFIG = {
    "resolutions": [8], "width": 4, "stemStride": 1, "stages": 2, "groups": 2, "projHidden": 8, "projDim": 4,
    "batchSize": 4, "queueSize": 8, "knnK": 2, "climWarmupSteps": 2, "clusters": 2, "kmeansEvery": 3, "kmeansIters": 2,
    "warmupSteps": 1, "totalSteps": 20, "evalK": 3,
}


def torchrun() -> list:
    """The launcher: Debian's /usr/bin/torchrun, or the module it wraps."""
    return [shutil.which("torchrun")] if shutil.which("torchrun") else [sys.executable, "-m", "torch.distributed.run"]


def launch(*args, redirects=True):
    """torchrun with 2 CPU processes on this machine; the worker's env gets python/ on its path and no GPU."""
    env = {**os.environ, "PYTHONPATH": PYTHON_DIR, "CUDA_VISIBLE_DEVICES": ""}
    for v in ("WORLD_SIZE", "RANK", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT"):
        env.pop(v, None)
    fix = ["--redirects", "1", "--tee", "1"] if redirects else []
    cmd = [*torchrun(), "--standalone", "--nproc_per_node", "2", *fix, "-m", "clim_torch.train", *args]
    return subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120)


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    """24 PNGs of 8×8 in two label folders."""
    root = tmp_path_factory.mktemp("tiny")
    rng = np.random.default_rng(1)
    for label, base in (("dark", 30), ("bright", 160)):
        (root / label).mkdir()
        for i in range(12):
            Image.fromarray((base + rng.integers(0, 90, (8, 8, 3))).astype(np.uint8)).save(root / label / f"{i:02d}.png")
    cfg = root.parent / "tiny.json"
    cfg.write_text(json.dumps(CONFIG))
    return root, cfg


def test_two_processes_train_save_and_resume(folder, tmp_path):
    root, cfg = folder
    res = launch("--config", str(cfg), "--data", str(root), "--out", str(tmp_path), "--steps", "6", "--quiet")
    assert res.returncode == 0, (res.stdout + res.stderr)[-3000:]
    rep = json.loads((tmp_path / "report.json").read_text())
    assert rep["world"] == 2 and rep["backend"] == "torch-gloo-cpu"
    assert [h["step"] for h in rep["history"]] == list(range(1, 7)) and rep["eval"]["step"] == 6
    ck = torch.load(tmp_path / "checkpoint.pt")
    assert ck["world"] == 2 and ck["state"]["step"] == 6
    w = read_weights(tmp_path / "model.climweights")
    assert w.info["steps"] == 6 and w.info["knnTop1"] == rep["eval"]["knnTop1"]
    enc = Encoder(w.architecture)
    enc.load_weights(w)
    assert all(torch.equal(v, ck["state"]["query"][k]) for k, v in enc.state_dict().items())

    # --steps counts from the run's start: 3 more steps, and the report keeps the whole history.
    res = launch("--resume", str(tmp_path / "checkpoint.pt"), "--data", str(root), "--out", str(tmp_path), "--steps", "9", "--quiet")
    assert res.returncode == 0, (res.stdout + res.stderr)[-3000:]
    rep = json.loads((tmp_path / "report.json").read_text())
    assert [h["step"] for h in rep["history"]] == list(range(1, 10))
    assert [e["step"] for e in rep["evals"]] == [0, 6, 9] and torch.load(tmp_path / "checkpoint.pt")["state"]["step"] == 9
    assert read_weights(tmp_path / "model.climweights").info["steps"] == 9


def test_plain_torchrun_fails_in_its_launcher_as_the_hint_says(folder, tmp_path):
    root, cfg = folder
    res = launch("--config", str(cfg), "--data", str(root), "--out", str(tmp_path), "--steps", "1", redirects=False)
    if res.returncode == 0 and "object has no attribute 'get'" not in res.stderr:
        pytest.skip("this torch's torchrun runs without --redirects: the hint does not apply")
    assert "'NoneType' object has no attribute 'get'" in res.stderr and "'NoneType' object has no attribute 'get'" in train.TORCHRUN_HINT
    assert not (tmp_path / "report.json").exists()  # the launcher died before the module ran
    helped = subprocess.run([sys.executable, "-m", "clim_torch.train", "--help"], env={**os.environ, "PYTHONPATH": PYTHON_DIR},
                            capture_output=True, text=True, timeout=60)
    assert "--redirects 1 --tee 1" in " ".join(helped.stdout.split())
