"""Trains a CLIM encoder (docs/METHOD.md §1–§5) on an image folder, one
process or many under torchrun/DDP, and writes what the Node runner writes.

    PYTHONPATH=python python -m clim_torch.train --config run.json --data DIR --out OUT
        [--steps N] [--resume OUT/checkpoint.pt] [--seed S] [--eval-every N] [--checkpoint-every N]

    PYTHONPATH=python torchrun --nproc_per_node 2 --redirects 1 --tee 1 \\
        -m clim_torch.train --config run.json --data DIR --out OUT --steps 10

Debian's torch 1.13 on Python 3.11: plain ``torchrun`` dies in its launcher
with ``AttributeError: 'NoneType' object has no attribute 'get'`` before
this module runs; ``torchrun --redirects 1 --tee 1`` works (docs/METHOD.md §8).

Outputs (rank 0): ``OUT/checkpoint.pt``, the whole run state (both
encoders, optimiser, queues, bank, k-means, sampler and generator states,
step, history), every ``--checkpoint-every`` steps and at the end;
``OUT/model.climweights``, f_q in the page's weights format;
``OUT/report.json``, the Node runner's report fields (src/cli/train.ts
``RunReport``). ``--steps`` counts from the run's start, so a resumed
30-step checkpoint with ``--steps 40`` trains 10 more, and the report's
history runs from step 1. The images and the held-out split are the Node
runner's (data.py, split.py): squared by ``--fit`` (crop) at the largest
resolution, ``--holdout`` (0.1) of each label of a labelled folder held out
with the config's seed; an unlabelled folder is all training.

Evaluation (evaluate.py, §6) is the runner's: kNN top-1 at the start and
every ``--eval-every`` steps, and at the end the full evaluation the runner
does with ``--full-eval`` (linear probe, alignment, uniformity, cluster
purity/NMI/ARI), so the report's ``eval`` has every field but
``ruleComparison`` (null: the selection-rule comparison is not ported).

``batchSize`` is per process (dist.py); every process loads the folder and
the checkpoint itself, so they must be on a file system all can read.
"""
from __future__ import annotations

import argparse
import datetime
import hashlib
import json
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

import torch

from .dist import Comm, init_distributed, shutdown
from .evaluate import evaluate_run
from .split import DEFAULT_HOLDOUT, holdout_split
from .trainer import ClimTrainer

CHECKPOINT_VERSION = 1
TORCHRUN_HINT = "hint: with Debian's torch 1.13, run torchrun with --redirects 1 --tee 1 (plain torchrun fails with 'NoneType' object has no attribute 'get')"





@dataclass
class FolderSplit:
    """A loaded folder split as the Node runner splits it: images N×3×S×S
    uint8, labels N long (−1: unlabelled); ``classes`` counts the class
    names (0 when unlabelled)."""

    id: str
    classes: int
    train_x: torch.Tensor
    train_y: torch.Tensor
    test_x: torch.Tensor
    test_y: torch.Tensor
    load: dict

    def fingerprint(self) -> str:
        """Counts, labels and per-image pixel sums hashed: a checkpoint resumes only on the data it was trained on."""
        h = hashlib.sha1()
        for t in (self.train_y, self.test_y, self.train_x.to(torch.float64).sum((1, 2, 3)), self.test_x.to(torch.float64).sum((1, 2, 3))):
            h.update(t.cpu().numpy().tobytes())
        return h.hexdigest()[:16]


def load_folder(path: str, c: dict, fit: str = "crop", holdout: float = DEFAULT_HOLDOUT) -> FolderSplit:
    """The folder at ``path`` through data.ImageFolder at the largest
    resolution (the Node runner's image size), split as the Node runner does
    (datasets.ts ``loadFolderDataset``): ``holdout`` of each label held out
    with the config's seed, nothing when unlabelled. The id and the load
    summary are the runner's (``folder:<name>:<N>:s=<S>``, ``LoadSummary``)."""
    from .data import ImageFolder

    t0 = time.perf_counter()
    size = max(c["resolutions"])
    folder = ImageFolder(path, size, 3, fit)
    images, labels = folder.images, folder.labels
    train, test = holdout_split(len(folder), labels.tolist() if folder.labelled else None, holdout if folder.labelled else 0.0, c["seed"])
    load = {"path": path, "fit": fit, "files": folder.files, "loaded": len(folder), "hidden": folder.hidden_count,
            "skipped": folder.counts_by_kind(), "seconds": time.perf_counter() - t0}
    tr, te = torch.as_tensor(train), torch.as_tensor(test)
    name = Path(path).resolve().name
    return FolderSplit(f"folder:{name}:{len(folder)}:s={size}", len(folder.class_names), images[tr], labels[tr], images[te], labels[te], load)


def save_atomic(obj, path: Path) -> None:
    """torch.save to a temporary file, then rename: an interrupted save never leaves a torn checkpoint."""
    tmp = path.with_name(path.name + ".tmp")
    torch.save(obj, tmp)
    os.replace(tmp, path)


def checkpoint(t: ClimTrainer, data: FolderSplit, history: list, evals: list) -> dict:
    """The resumable checkpoint: the trainer's state plus what the report needs to continue."""
    return {
        "version": CHECKPOINT_VERSION,
        "config": t.c,
        "world": t.comm.world,
        "dataset": {"id": data.id, "train": int(data.train_x.shape[0]), "test": int(data.test_x.shape[0]), "fingerprint": data.fingerprint()},
        "history": history,
        "evals": evals,
        "state": t.state_dict(),
    }


def check_resume(ck: dict, c: dict, world: int, data: FolderSplit) -> None:
    """Raises unless the checkpoint continues this run: same config, processes and data."""
    if ck.get("version") != CHECKPOINT_VERSION:
        raise ValueError(f"checkpoint version {ck.get('version')} is not {CHECKPOINT_VERSION}")
    if ck["config"] != c:
        diff = sorted(k for k in set(ck["config"]) | set(c) if ck["config"].get(k) != c.get(k))
        raise ValueError(f"the checkpoint's config differs in {', '.join(diff)}")
    if ck["world"] != world:
        raise ValueError(f"the checkpoint was trained by {ck['world']} processes (global batch {ck['world']}·batchSize), this run has {world}")
    if ck["dataset"]["fingerprint"] != data.fingerprint():
        raise ValueError(f"the checkpoint was trained on other images ({ck['dataset']})")


def weights_info(t: ClimTrainer, data: FolderSplit, final: dict) -> dict:
    """The weights file's info block (weights-file.ts ``WeightsInfo``)."""
    return {
        "savedAt": datetime.datetime.now(datetime.timezone.utc).isoformat().replace("+00:00", "Z"),
        "trainedOn": {"id": data.id, "train": int(data.train_x.shape[0]), "test": int(data.test_x.shape[0])},
        "steps": t.step,
        "config": t.c,
        "knnTop1": final["knnTop1"],
        "linearTop1": final["linearTop1"],
        "note": f"clim_torch, {t.comm.world} process(es), {t.comm.backend or 'single'}",
    }


def report(t: ClimTrainer, data: FolderSplit, history: list, evals: list, final: dict, wall: float) -> dict:
    """The Node runner's report (src/cli/train.ts ``RunReport``) plus
    ``world``; ``final`` is the last, full evaluation (evaluate.py).
    ``ruleComparison`` is null: the selection-rule comparison is not ported."""
    initial = evals[0]
    return {
        "version": 1,
        "config": t.c,
        "backend": f"torch-{t.comm.backend or 'single'}-{t.comm.device.type}",
        "world": t.comm.world,
        "dataset": {"id": data.id, "train": int(data.train_x.shape[0]), "test": int(data.test_x.shape[0]), "labelled": bool((data.train_y >= 0).all())},
        "load": data.load,
        "history": [{k: h[k] for k in ("step", "loss", "lossAnchor", "lossPositive", "lr", "ms", "imagesPerSecond", "coverage", "precision")} for h in history],
        "eval": {
            "step": final["step"],
            "knnTop1": final["knnTop1"],
            "initialKnnTop1": initial["knnTop1"],
            **{k: final[k] for k in ("linearTop1", "alignment", "uniformity", "clusterPurity", "clusterNmi", "clusterAri")},
        },
        # The run reached config.totalSteps, the end of its learning-rate schedule: the app's finished run (issue 19).
        "finished": t.step >= t.c["totalSteps"],
        "ruleComparison": None,
        "evals": evals,
        "wallSeconds": wall,
    }


def parse_args(argv=None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(prog="python -m clim_torch.train", description="Train a CLIM encoder on an image folder (one process, or torchrun/DDP).", epilog=TORCHRUN_HINT)
    ap.add_argument("--config", help="run config JSON (ClimConfig fields; defaults filled); optional with --resume")
    ap.add_argument("--data", required=True, help="image folder (one subfolder per label, or none)")
    ap.add_argument("--out", required=True, help="output folder: checkpoint.pt, model.climweights, report.json")
    ap.add_argument("--steps", type=int, help="train until this step, counted from the run's start (default: totalSteps)")
    ap.add_argument("--resume", help="checkpoint.pt to continue")
    ap.add_argument("--seed", type=int, help="override the config's seed")
    ap.add_argument("--fit", choices=("crop", "pad"), default="crop", help="square the images by a centre crop (default) or black padding, as the Node runner's --fit")
    ap.add_argument("--holdout", type=float, default=DEFAULT_HOLDOUT, help=f"fraction of each label held out for evaluation, 0 to 0.9 (default {DEFAULT_HOLDOUT}), as the Node runner's --holdout")
    ap.add_argument("--eval-every", type=int, default=0, help="also evaluate kNN top-1 every N steps")
    ap.add_argument("--checkpoint-every", type=int, default=100, help="save OUT/checkpoint.pt every N steps (and at the end)")
    ap.add_argument("--quiet", action="store_true", help="no per-step log")
    args = ap.parse_args(argv)
    if not args.config and not args.resume:
        ap.error("--config is required unless --resume is given")
    return args


def run_config(args: argparse.Namespace, ck: Optional[dict]) -> dict:
    """The run's validated config: --config (or the checkpoint's), with --seed laid over it."""
    from .config import load_config

    raw = load_config(args.config) if args.config else dict(ck["config"])
    if args.seed is not None:
        raw = {**raw, "seed": args.seed}
    return load_config(raw)


def set_cpu_threads(comm: Comm) -> None:
    """On the CPU, shares the cores among the processes of this machine, which would otherwise each take all of them."""
    if comm.device.type == "cpu":
        local = int(os.environ.get("LOCAL_WORLD_SIZE", comm.world))
        torch.set_num_threads(max(1, (os.cpu_count() or 1) // local))


def train(args: argparse.Namespace, comm: Comm) -> Optional[dict]:
    """The run (rank 0 returns the report, others None)."""
    started = time.perf_counter()
    ck = torch.load(args.resume, map_location="cpu") if args.resume else None
    c = run_config(args, ck)
    data = load_folder(args.data, c, args.fit, args.holdout)
    out = Path(args.out)
    if comm.is_main:
        out.mkdir(parents=True, exist_ok=True)
    t = ClimTrainer(c, data.train_x, data.train_y, comm)
    test_x = data.test_x.to(comm.device)
    classes = max(data.classes, int(data.train_y.max()) + 1) if data.classes else 0  # evaluate.ts ``classes``

    def evaluate(full: bool = False) -> dict:
        """f_q evaluated now (rank 0 only; the others wait at the next collective)."""
        assignments = t.km.assignments if t.km is not None else None
        return evaluate_run(t.query, c, t.images, t.labels, test_x, data.test_y, classes, assignments, t.step, full)

    def row(e: dict) -> dict:
        """A row of the report's ``evals``."""
        return {"step": e["step"], "seconds": time.perf_counter() - started, "knnTop1": e["knnTop1"], "linearTop1": e["linearTop1"]}

    if ck is not None:
        check_resume(ck, c, comm.world, data)
        t.load_state_dict(ck["state"])
        history, evals = list(ck["history"]), list(ck["evals"])
    else:
        t.start()
        history, evals = [], [row(evaluate()) if comm.is_main else None]
    steps = c["totalSteps"] if args.steps is None else args.steps
    if ck is not None and t.step >= c["totalSteps"] and steps > t.step:
        # A finished run goes on as the page's "Train N more steps" does (§1.5): a new warm-up and
        # cosine segment from its last step to ``--steps``, not the rate 0 its schedule ended on.
        c["scheduleStart"], c["totalSteps"] = t.step, steps
    log = comm.is_main and not args.quiet
    if log:
        print(f"clim_torch: {comm.world} process(es) on {comm.device} ({comm.backend or 'single'}), train={t.n} test={data.test_x.shape[0]}, global batch {t.batch * comm.world}, step {t.step} → {steps}", flush=True)
    while t.step < steps:
        m = t.train_step()
        if not torch.isfinite(torch.tensor(m["loss"])):
            raise FloatingPointError(f"loss became {m['loss']} at step {m['step']}")
        history.append(m)
        if log and (m["step"] % 10 == 0 or m["step"] == 1):
            print(f"step {m['step']}/{steps} loss {m['loss']:.4f} lr {m['lr']:.4f} {m['ms']:.0f} ms ({m['imagesPerSecond']:.0f} img/s) coverage {m['coverage']:.2f}", flush=True)
        if comm.is_main and args.eval_every and t.step % args.eval_every == 0 and t.step < steps:
            evals.append(row(evaluate()))
        if comm.is_main and args.checkpoint_every and t.step % args.checkpoint_every == 0 and t.step < steps:
            save_atomic(checkpoint(t, data, history, evals), out / "checkpoint.pt")
    if not comm.is_main:
        return None
    final = evaluate(full=True)
    # One row per step: a resumed run that trains nothing more re-measures its last row.
    evals = [e for e in evals if e["step"] != t.step] + [row(final)]
    save_atomic(checkpoint(t, data, history, evals), out / "checkpoint.pt")
    from .weights import architecture_of, write_weights

    write_weights(out / "model.climweights", architecture_of(c), weights_info(t, data, final), t.query.to_engine_params())
    rep = report(t, data, history, evals, final, time.perf_counter() - started)
    (out / "report.json").write_text(json.dumps(rep, indent=1))
    if log:
        print(f"done: step {t.step}, kNN top-1 {evals[0]['knnTop1']} → {final['knnTop1']}, linear top-1 {final['linearTop1']}; wrote {out}/report.json, checkpoint.pt, model.climweights", flush=True)
    return rep


def main(argv=None) -> None:
    args = parse_args(argv)
    comm = init_distributed()
    set_cpu_threads(comm)
    try:
        train(args, comm)
    finally:
        shutdown(comm)


if __name__ == "__main__":
    main(sys.argv[1:])
