"""One CLIM run's state and step (docs/METHOD.md §1–§5), src/core/train.ts
``Trainer``: both encoders, the optimiser, the queues, the bank, k-means, the
sampler and the run's generators, on this process's share of the global
batch; dist.py supplies the collectives. train.py drives it from the command
line and evaluates it (evaluate.py).

Shapes: W processes, B = batchSize per process, N training images S×S,
R resolutions, d = projDim, D bank row width, K = queueSize.
"""
from __future__ import annotations

import copy
import time
from dataclasses import dataclass
from typing import List, Optional

import torch
import torch.nn as nn
from torch.nn.parallel import DistributedDataParallel

from . import augment, bank, mix, optim, schedule, selection
from .augment import centre_view, pixels
from .bank import MemoryBank, bank_dim, bank_rows
from .config import require_choice
from .dist import Comm, EpochSampler, ShardRows, all_reduce_sum, gather_keys, refresh_bank, write_bank
from .key_queue import KeyQueue, own_key_mask
from .kmeans import KMeansState, spherical_kmeans
from .losses import multi_resolution_loss
from .mix import MixPlan
from .model import Encoder, l2_normalize
from .selection import select_positives

#: Salts of the run's independent streams, all derived from the config's seed.
INIT_SALT, SAMPLER_SALT, KMEANS_SALT = 0x1A17, 0x5A3B, 0x63A1


@dataclass
class StepDraws:
    """Every random draw of one global step (train.ts ``drawStep``), for all W·B rows."""

    anchors: torch.Tensor
    u: torch.Tensor
    plan: MixPlan
    views: List[dict]
    selection: str


def draw_step(c: dict, global_batch: int, warm: bool, sampler: EpochSampler, gen: torch.Generator) -> StepDraws:
    """The next W·B anchors, then u, the mixing plan and the 4R view draws
    (qa, qp, ka, kp per resolution) from the run's stream, in a fixed order
    so a resumed run replays them; inside the CLIM warm-up (§3.4) selection
    and mixing are 'none'."""
    anchors = sampler.next(global_batch)
    u = torch.rand(global_batch, generator=gen)
    plan = mix.plan_mix("none" if warm else c["mix"], global_batch, c["mixProb"], c["mixAlpha"], gen)
    views = [{v: augment.draw_augment(global_batch, c, gen) for v in ("qa", "qp", "ka", "kp")} for _ in c["resolutions"]]
    return StepDraws(anchors, u, plan, views, "none" if warm else c["selection"])


class QueryViews(nn.Module):
    """f_q over a list of views (one per resolution): one DDP forward call
    per step, so gradients are reduced once for the whole R×R loss."""

    def __init__(self, encoder: Encoder):
        super().__init__()
        self.encoder = encoder

    def forward(self, views: List[torch.Tensor]) -> List[torch.Tensor]:
        return [self.encoder(v) for v in views]


def check_choices(c: dict) -> None:
    """Raises for any enumerated config value this trainer does not implement."""
    for field, allowed in (
        ("selection", selection.SELECTION_MODES),
        ("centerThreshold", selection.CENTRE_THRESHOLDS),
        ("mix", mix.MIX_MODES),
        ("optimizer", optim.OPTIMIZERS),
        ("bankView", bank.BANK_VIEWS),
        ("bankSpace", bank.BANK_SPACES),
    ):
        require_choice(c[field], allowed, field)


class ClimTrainer:
    """One CLIM run (train.ts ``Trainer``) on this process's share of the
    global batch. images: N×3×S×S training images (uint8 or float);
    labels: N long, −1 when unlabelled (measuring only, §6)."""

    def __init__(self, c: dict, images: torch.Tensor, labels: torch.Tensor, comm: Comm):
        check_choices(c)
        self.c = c
        self.comm = comm
        dev = comm.device
        self.images = images.to(dev)
        self.labels = labels.to(dev)
        self.n = images.shape[0]
        self.batch = min(c["batchSize"], self.n // comm.world)
        if self.batch < 1:
            raise ValueError(f"{self.n} training images cannot feed {comm.world} processes")
        self.gen = torch.Generator().manual_seed(c["seed"])
        self.kmeans_gen = torch.Generator().manual_seed(c["seed"] ^ KMEANS_SALT)
        self.sampler = EpochSampler(self.n, c["seed"] ^ SAMPLER_SALT)
        # The same seeded init on every rank; DDP's broadcast from rank 0 then changes nothing.
        self.query = Encoder(c, seed=c["seed"] ^ INIT_SALT).to(dev)
        self.key = copy.deepcopy(self.query).requires_grad_(False)
        views = QueryViews(self.query)
        self.model = DistributedDataParallel(views, device_ids=[dev.index] if dev.type == "cuda" else None) if comm.distributed else views
        self.opt = optim.create_optimizer(self.query, c)
        self.bank = MemoryBank(self.n, bank_dim(c), dev)
        self.queues = [KeyQueue(c["queueSize"], c["projDim"], dev) for _ in c["resolutions"]]
        self.km: Optional[KMeansState] = None
        self.step = 0

    # ---------------------------------------------------------------- set-up and upkeep (§1.3, §2)

    def start(self) -> None:
        """A fresh run's state before step 1 (``Trainer.create``): the bank
        from f_k's clean views, real keys in the queues, the first k-means."""
        self.refresh_bank()
        self.seed_queues()
        self.recluster()

    def refresh_bank(self) -> None:
        """Every bank row from its image's clean centre view (§2.1, §2.3)."""
        refresh_bank(self.comm, self.bank, lambda x: bank_rows(self.key, self.c, pixels(x)), self.images)

    @torch.no_grad()
    def seed_queues(self) -> None:
        """Each queue from K keys of randomly drawn images (§1.3,
        bank-rows.ts ``seedQueues``): bank rows in projection space, f_k of
        the centre views in backbone space (the bank holds no keys then)."""
        r0 = self.c["resolutions"][0]
        for q in self.queues:
            if q.size == 0:
                continue
            idx = torch.randint(self.n, (q.size,), generator=self.gen).to(self.comm.device)
            if self.c["bankSpace"] == "projection":
                rows = self.bank.rows[idx]
            else:
                rows = torch.cat([self.key(centre_view(pixels(self.images[idx[s:s + bank.BANK_CHUNK]]), r0)) for s in range(0, q.size, bank.BANK_CHUNK)])
            q.fill(rows, idx)

    def recluster(self) -> None:
        """Spherical k-means on the bank (§2.4), warm-started from the last centroids."""
        init = self.km.centroids if self.km is not None else None
        self.km = spherical_kmeans(self.bank.rows, self.c["clusters"], self.c["kmeansIters"], self.kmeans_gen, init, ShardRows(self.comm))

    # ---------------------------------------------------------------- one step (§1–§5)

    @torch.no_grad()
    def embed_keys(self, xa: torch.Tensor, xp: torch.Tensor, views: List[dict]):
        """Per resolution, f_k of the anchors' and positives' key views in one
        pass (B×d each), and with bankView 'augmented' the anchors' bank rows
        from the first resolution's key views (§2.2). → (pairs, rows or None)."""
        b = xa.shape[0]
        pairs, rows = [], None
        for i, (r, v) in enumerate(zip(self.c["resolutions"], views)):
            f = self.key.features(torch.cat([augment.apply_augment(xa, r, v["ka"]), augment.apply_augment(xp, r, v["kp"])]))
            k = self.key.project(f)
            if i == 0 and self.c["bankView"] == "augmented":
                rows = k[:b] if self.c["bankSpace"] == "projection" else l2_normalize(f[:b])
            pairs.append((k[:b], k[b:]))
        return pairs, rows

    def mix_queries(self, xa: torch.Tensor, xp: torch.Tensor, views: List[dict], plan: MixPlan):
        """Per resolution, the anchor's and positive's query views mixed by the plan (§4.1): (views B×3×r×r, λ B)."""
        mixed = [mix.apply_mix(plan, augment.apply_augment(xa, r, v["qa"]), augment.apply_augment(xp, r, v["qp"])) for r, v in zip(self.c["resolutions"], views)]
        return [m for m, _ in mixed], [lam for _, lam in mixed]

    def train_step(self) -> dict:
        """One step, in the order of train.ts ``trainStep`` (METHOD §5 "One
        step, in order"), on this rank's B of the W·B global anchors; returns
        the step's metrics over the global batch."""
        t0 = time.perf_counter()
        c, comm, dev = self.c, self.comm, self.comm.device
        g = self.batch * comm.world
        lo, hi = EpochSampler.local(comm, g)
        lr = schedule.segment_lr(self.step, c["lr"], c["warmupSteps"], c["scheduleStart"], c["totalSteps"])
        d = draw_step(c, g, schedule.clim_warm(self.step, c), self.sampler, self.gen)
        views = [{k: v.rows(lo, hi) for k, v in vs.items()} for vs in d.views]
        anchors = d.anchors[lo:hi].to(dev)
        xa = pixels(self.images[anchors])
        if c["bankView"] == "clean":
            write_bank(comm, self.bank, anchors, bank_rows(self.key, c, xa))
        sel = select_positives(d.selection, anchors, self.bank.rows, self.km, c["knnK"], c["centerThreshold"], d.u[lo:hi])
        xp = pixels(self.images[sel.positives])
        keys, aug_rows = self.embed_keys(xa, xp, views)
        queries, lambdas = self.mix_queries(xa, xp, views, d.plan.rows(lo, hi))
        masks = [own_key_mask(q, self.n, anchors, sel.positives) if c["maskOwnKeys"] else None for q in self.queues]

        # Each rank's loss is the mean over its B rows; DDP averages the gradients over ranks: the global mean.
        total, la, lp = multi_resolution_loss(self.model(queries), [lam.to(dev) for lam in lambdas], keys, [q.keys for q in self.queues], c["temperature"], masks)
        self.opt.zero_grad(set_to_none=True)
        total.backward()
        optim.set_lr(self.opt, lr)
        self.opt.step()

        optim.momentum_update(self.key, self.query, c["keyMomentum"])
        for q, (k_anchor, _) in zip(self.queues, keys):
            q.enqueue(*gather_keys(comm, k_anchor, anchors))
        if aug_rows is not None:
            write_bank(comm, self.bank, anchors, aug_rows)
        self.step += 1
        if schedule.bank_refresh_due(self.step, c["bankRefreshEvery"]):
            self.refresh_bank()
        if self.step % c["kmeansEvery"] == 0:
            self.recluster()
        return self.metrics(total, la, lp, anchors, sel, lambdas[0], lr, t0)

    def metrics(self, total, la, lp, anchors, sel, lam, lr, t0) -> dict:
        """The step's report row (§6, step.ts ``stepMetrics``) over the global
        batch: losses averaged over ranks, coverage = share of anchors with a
        kept positive, precision = share of chosen positives (p ≠ i) with the
        anchor's label (None without labels or choices)."""
        chosen = sel.positives != anchors
        agree = chosen & (self.labels[sel.positives] == self.labels[anchors])
        sums = torch.stack([total.detach(), la.detach(), lp.detach(), (sel.kept > 0).sum().float(), chosen.sum().float(), agree.sum().float(), lam.sum()]).double()
        all_reduce_sum(self.comm, sums)
        loss, l_a, l_p, covered, n_chosen, n_agree, lam_sum = sums.tolist()
        w, g = self.comm.world, self.batch * self.comm.world
        ms = (time.perf_counter() - t0) * 1000
        labelled = bool((self.labels >= 0).all())
        return {
            "step": self.step,
            "loss": loss / w,
            "lossAnchor": l_a / w,
            "lossPositive": l_p / w,
            "lr": lr,
            "ms": ms,
            "imagesPerSecond": g * 1000 / max(ms, 1e-6),
            "coverage": covered / g,
            "precision": n_agree / n_chosen if labelled and n_chosen > 0 else None,
            "lambdaMean": lam_sum / g,
        }

    # ---------------------------------------------------------------- state (checkpoints)

    def state_dict(self) -> dict:
        """Everything the next steps depend on (run-state.ts ``captureRun``): a resumed run replays the uninterrupted one."""
        return {
            "query": {k: v.cpu() for k, v in self.query.state_dict().items()},
            "key": {k: v.cpu() for k, v in self.key.state_dict().items()},
            "optimizer": self.opt.state_dict(),
            "bank": self.bank.rows.cpu(),
            "queues": [q.state_dict() for q in self.queues],
            "kmeans": self.km.state_dict() if self.km is not None else None,
            "sampler": self.sampler.state_dict(),
            "generator": self.gen.get_state(),
            "kmeansGenerator": self.kmeans_gen.get_state(),
            "torchRng": torch.get_rng_state(),
            "cudaRng": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else None,
            "step": self.step,
        }

    def load_state_dict(self, st: dict) -> None:
        dev = self.comm.device
        self.query.load_state_dict(st["query"])
        self.key.load_state_dict(st["key"])
        self.opt.load_state_dict(st["optimizer"])
        self.bank.set_all(st["bank"].to(dev))
        for q, qs in zip(self.queues, st["queues"], strict=True):
            q.load_state_dict(qs)
        self.km = KMeansState.from_state_dict(st["kmeans"], dev) if st["kmeans"] is not None else None
        self.sampler.load_state_dict(st["sampler"])
        self.gen.set_state(st["generator"])
        self.kmeans_gen.set_state(st["kmeansGenerator"])
        torch.set_rng_state(st["torchRng"])
        if st["cudaRng"] is not None and torch.cuda.is_available():
            torch.cuda.set_rng_state_all(st["cudaRng"])
        self.step = int(st["step"])
