"""python -m clim_torch.train end to end on a temporary folder of PNGs: the
outputs exist and are valid, and a resumed run equals an uninterrupted one."""
import json

import numpy as np
import pytest
import torch
from PIL import Image

from clim_torch import train
from clim_torch.model import Encoder
from clim_torch.weights import read_weights

CONFIG = {
    "resolutions": [12], "width": 8, "stemStride": 1, "stages": 2, "groups": 4, "projHidden": 16, "projDim": 8,
    "batchSize": 8, "queueSize": 16, "knnK": 3, "climWarmupSteps": 2, "clusters": 2, "kmeansEvery": 3, "kmeansIters": 3,
    "warmupSteps": 1, "totalSteps": 20, "evalK": 5,
}


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    """40 PNGs of 12×12 in two class folders: dark noise and bright noise."""
    root = tmp_path_factory.mktemp("images")
    rng = np.random.default_rng(0)
    for label, base in (("dark", 40), ("bright", 170)):
        (root / label).mkdir()
        for i in range(20):
            px = np.clip(base + rng.integers(0, 80, (12, 12, 3)), 0, 255).astype(np.uint8)
            Image.fromarray(px).save(root / label / f"{i:02d}.png")
    cfg = root.parent / "run.json"
    cfg.write_text(json.dumps(CONFIG))
    return root, cfg


def run(monkeypatch, folder, out, *extra):
    for v in ("WORLD_SIZE", "RANK", "LOCAL_RANK"):
        monkeypatch.delenv(v, raising=False)
    root, cfg = folder
    train.main(["--config", str(cfg), "--data", str(root), "--out", str(out), "--quiet", *extra])
    return json.loads((out / "report.json").read_text()), torch.load(out / "checkpoint.pt")


def test_outputs_exist_and_are_valid(monkeypatch, folder, tmp_path):
    rep, ck = run(monkeypatch, folder, tmp_path, "--steps", "4", "--eval-every", "2")
    assert rep["dataset"] == {"id": "folder:images0:40:s=12", "train": 36, "test": 4, "labelled": True}  # 10% of each label held out
    assert rep["load"]["loaded"] == 40 and rep["load"]["fit"] == "crop" and rep["load"]["skipped"]["duplicate"] == 0
    assert [h["step"] for h in rep["history"]] == [1, 2, 3, 4]
    assert set(rep["history"][0]) == {"step", "loss", "lossAnchor", "lossPositive", "lr", "ms", "imagesPerSecond", "coverage", "precision"}
    assert [e["step"] for e in rep["evals"]] == [0, 2, 4]
    assert 0 <= rep["eval"]["knnTop1"] <= 1 and rep["eval"]["initialKnnTop1"] == rep["evals"][0]["knnTop1"]
    # The end's full evaluation fills every eval field; the intermediate ones are kNN only, as the runner's.
    assert all(rep["eval"][k] is not None for k in ("linearTop1", "alignment", "uniformity", "clusterPurity", "clusterNmi", "clusterAri"))
    assert [e["linearTop1"] is None for e in rep["evals"]] == [True, True, False]
    assert rep["evals"][-1]["linearTop1"] == rep["eval"]["linearTop1"] and rep["ruleComparison"] is None
    assert rep["finished"] is False  # --steps 4 of a 20-step schedule
    assert rep["config"]["batchSize"] == 8 and rep["config"]["momentum"] == 0.9  # defaults filled
    assert ck["state"]["step"] == 4 and ck["state"]["kmeans"] is not None
    w = read_weights(tmp_path / "model.climweights")
    assert w.info["steps"] == 4 and w.architecture["width"] == 8
    assert (w.info["knnTop1"], w.info["linearTop1"]) == (rep["eval"]["knnTop1"], rep["eval"]["linearTop1"])
    enc = Encoder(w.architecture)
    enc.load_weights(w)
    saved = ck["state"]["query"]
    assert all(torch.equal(v, saved[k]) for k, v in enc.state_dict().items())


def test_resume_continues_to_the_requested_step_and_equals_an_uninterrupted_run(monkeypatch, folder, tmp_path):
    whole_rep, whole = run(monkeypatch, folder, tmp_path / "whole", "--steps", "6")
    run(monkeypatch, folder, tmp_path / "part", "--steps", "3")
    part_rep, part = run(monkeypatch, folder, tmp_path / "part", "--resume", str(tmp_path / "part" / "checkpoint.pt"), "--steps", "6")
    assert part["state"]["step"] == 6 and [h["step"] for h in part_rep["history"]] == list(range(1, 7))
    # Finished means the run reached config.totalSteps (issue 19): the Node runner's and the app's meaning.
    done_rep, _ = run(monkeypatch, folder, tmp_path / "part", "--resume", str(tmp_path / "part" / "checkpoint.pt"), "--steps", "20")
    assert part_rep["finished"] is False and done_rep["finished"] is True and done_rep["history"][-1]["step"] == 20
    assert [h["loss"] for h in part_rep["history"]] == [h["loss"] for h in whole_rep["history"]]
    for name in ("query", "key"):
        assert all(torch.equal(v, part["state"][name][k]) for k, v in whole["state"][name].items())
    assert torch.equal(whole["state"]["bank"], part["state"]["bank"])
    for a, b in zip(whole["state"]["queues"], part["state"]["queues"]):
        assert torch.equal(a["keys"], b["keys"]) and torch.equal(a["ids"], b["ids"]) and a["ptr"] == b["ptr"]


def test_resume_past_a_finished_run_trains_a_new_schedule_segment(monkeypatch, folder, tmp_path):
    from clim_torch.schedule import segment_lr
    run(monkeypatch, folder, tmp_path, "--steps", "20")
    rep, _ = run(monkeypatch, folder, tmp_path, "--resume", str(tmp_path / "checkpoint.pt"), "--steps", "23")
    assert (rep["config"]["scheduleStart"], rep["config"]["totalSteps"], rep["finished"]) == (20, 23, True)
    # Steps 21-23 (0-based 20-22) warm up again and decay towards 0 at 23, as the page's Train N more steps.
    want = [segment_lr(s, rep["config"]["lr"], CONFIG["warmupSteps"], 20, 23) for s in (20, 21, 22)]
    assert [h["lr"] for h in rep["history"][20:]] == pytest.approx(want, rel=1e-12) and want[0] > 0


def test_resume_refuses_another_config(monkeypatch, folder, tmp_path):
    run(monkeypatch, folder, tmp_path, "--steps", "1")
    with pytest.raises(ValueError, match="seed"):
        run(monkeypatch, folder, tmp_path, "--resume", str(tmp_path / "checkpoint.pt"), "--steps", "2", "--seed", "5")
