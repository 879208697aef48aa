"""The distributed pieces of CLIM training (issue 18): process-group set-up,
the collectives that keep every replica's queues, bank and clusters equal,
the sharded k-means and the epoch sampler.

One process per GPU under torchrun (NCCL on CUDA, gloo on the CPU); without
torchrun's environment it is one process and every collective is a no-op.

**Global batch.** ``batchSize`` is per process, as with torch's
DistributedSampler: a step trains on B·W images. Every process draws the
whole global batch's random numbers (anchors, u, mixing plan, view
parameters) from the same seeded generators and keeps its own rows, so the
draws of image b do not depend on the number of processes, and W processes
with batch B train what one process does with batch B·W (test_dist.py).

**Replicated bank, not sharded.** Every process holds the whole N×D bank.
For ImageNet-1k, 1.28M × 128 float32 is 655 MB per replica (328 MB for the
64-wide backbone space), under 1% of an 80 GB H100, so replication costs
little memory, while it makes kNN (§3.1), the center-wise filter (§3.2),
the same-cluster draws and the own-key table purely local: each process
searches its B anchors against its own copy with no communication, and the
total search work (B·W × N) is what a sharded bank would do too. A sharded
bank would need two collectives per step inside selection (queries out,
top-k′ candidates back, then the candidates' rows for the centre test).
What replication does need is that every write reaches every copy: the B·W
anchor rows of a step are all-gathered as (index, row) pairs and written on
every rank (``write_bank``), a few hundred KB per step. Sharding becomes
worth it when N·D·4 bytes approaches a GPU's memory (e.g. 10M rows × 2048).

Heavy whole-bank work is split by rows and combined: the initial pass and
the full refresh embed 256-image chunks round-robin over the ranks and
all-gather them (``refresh_bank``); spherical k-means assigns each rank's
row slice and all-reduces the per-cluster sums and counts every Lloyd
iteration (``ShardRows``). k-means++ seeding runs on the replicated bank,
identically on every rank, from the shared generator.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Callable, Tuple

import torch
import torch.distributed as tdist

from .bank import BANK_CHUNK, MemoryBank
from .kmeans import LocalRows


@dataclass
class Comm:
    """This process's place in the job: rank, world size, local rank, device, backend ('gloo', 'nccl' or None for a single process)."""

    rank: int
    world: int
    local_rank: int
    device: torch.device
    backend: str | None

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        return self.backend is not None


def init_distributed(use_cuda: bool | None = None) -> Comm:
    """Joins torchrun's job from RANK, WORLD_SIZE and LOCAL_RANK (and
    MASTER_ADDR/PORT), or returns a single-process Comm when WORLD_SIZE is
    absent. NCCL with one GPU per process (cuda:LOCAL_RANK) when CUDA is
    used, gloo on the CPU otherwise; ``use_cuda`` None means "if available"."""
    cuda = torch.cuda.is_available() if use_cuda is None else use_cuda
    if "WORLD_SIZE" not in os.environ:
        return Comm(0, 1, 0, torch.device("cuda:0" if cuda else "cpu"), None)
    rank, world = int(os.environ["RANK"]), int(os.environ["WORLD_SIZE"])
    local = int(os.environ.get("LOCAL_RANK", rank))
    if cuda:
        torch.cuda.set_device(local)
    backend = "nccl" if cuda else "gloo"
    tdist.init_process_group(backend, rank=rank, world_size=world)
    return Comm(rank, world, local, torch.device(f"cuda:{local}" if cuda else "cpu"), backend)


def shutdown(comm: Comm) -> None:
    """Leaves the process group (a no-op for a single process)."""
    if comm.distributed:
        tdist.destroy_process_group()


def all_gather_cat(comm: Comm, t: torch.Tensor) -> torch.Tensor:
    """Every rank's t (same shape on all ranks) concatenated along dim 0 in rank order: W·B×… ."""
    if not comm.distributed:
        return t
    parts = [torch.empty_like(t) for _ in range(comm.world)]
    tdist.all_gather(parts, t.contiguous())
    return torch.cat(parts)


def all_reduce_sum(comm: Comm, t: torch.Tensor) -> torch.Tensor:
    """t summed over ranks, in place (and returned)."""
    if comm.distributed:
        tdist.all_reduce(t)
    return t


def broadcast_(comm: Comm, t: torch.Tensor, src: int = 0) -> torch.Tensor:
    """t replaced by rank ``src``'s t on every rank, in place (and returned)."""
    if comm.distributed:
        tdist.broadcast(t, src)
    return t


def write_bank(comm: Comm, bank: MemoryBank, idx: torch.Tensor, rows: torch.Tensor) -> None:
    """Writes every rank's bank rows (§2.2): (idx B, rows B×D) all-gathered, so
    all W·B anchors' rows land in every replica, identical everywhere."""
    bank.write(all_gather_cat(comm, idx.to(comm.device)), all_gather_cat(comm, rows))


def gather_keys(comm: Comm, keys: torch.Tensor, ids: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
    """A step's anchor keys (B×d) and their image ids (B) from every rank, in
    rank order (= global batch order), for the enqueue (§1.3): W·B×d, W·B."""
    return all_gather_cat(comm, keys), all_gather_cat(comm, ids.to(comm.device))


@torch.no_grad()
def refresh_bank(comm: Comm, bank: MemoryBank, rows_of: Callable[[torch.Tensor], torch.Tensor], images: torch.Tensor) -> None:
    """Re-embeds every bank row (§2.1 initial pass, §2.3 refresh): images
    N×3×S×S → ``rows_of`` → N×D. 256-image chunks go round-robin to the ranks
    (chunk j to rank j mod W) and are all-gathered each round, so every chunk
    is embedded in the same batch as a single process embeds it; a rank with
    no chunk left in the last round sends zeros that are dropped."""
    n, dim = images.shape[0], bank.rows.shape[1]
    chunks = range(0, n, BANK_CHUNK)
    rounds = -(-len(chunks) // comm.world)
    out = []
    for t in range(rounds):
        j = t * comm.world + comm.rank
        mine = torch.zeros(BANK_CHUNK, dim, device=comm.device)
        if j < len(chunks):
            rows = rows_of(images[chunks[j]:chunks[j] + BANK_CHUNK].to(comm.device))
            mine[: rows.shape[0]] = rows
        out.append(all_gather_cat(comm, mine))
    bank.set_all(torch.cat(out)[:n])


class ShardRows(LocalRows):
    """k-means' row split over the ranks (kmeans.spherical_kmeans ``rows``):
    rank r assigns rows [r·⌈N/W⌉, (r+1)·⌈N/W⌉) ∩ [0, N); per-cluster sums,
    counts and centre cosines are all-reduced each Lloyd iteration, and the
    assignment is all-gathered (padded to equal slices) when needed whole."""

    def __init__(self, comm: Comm):
        self.comm = comm

    def _size(self, n: int) -> int:
        return -(-n // self.comm.world)

    def bounds(self, n: int) -> Tuple[int, int]:
        s = self._size(n)
        return min(n, self.comm.rank * s), min(n, (self.comm.rank + 1) * s)

    def sum_(self, t: torch.Tensor) -> torch.Tensor:
        return all_reduce_sum(self.comm, t)

    def gather(self, t: torch.Tensor, n: int) -> torch.Tensor:
        s = self._size(n)
        padded = torch.zeros(s, *t.shape[1:], dtype=t.dtype, device=t.device)
        padded[: t.shape[0]] = t
        return all_gather_cat(self.comm, padded)[:n]


class EpochSampler:
    """Anchors without replacement, one seeded permutation per epoch
    (sampler.ts ``EpochSampler``), drawn for the global batch: every rank
    holds the same generator and order, takes the same W·B indices and keeps
    its slice (``local``), as torch's DistributedSampler does with a
    per-epoch seed. An epoch boundary inside a batch reshuffles without
    repeating an index in that batch; the global batch must be ≤ N."""

    def __init__(self, n: int, seed: int):
        self.n = n
        self.gen = torch.Generator().manual_seed(seed)
        self.order = torch.randperm(n, generator=self.gen)
        self.pos = 0
        self.epoch = 0

    def next(self, b: int) -> torch.Tensor:
        """b distinct image indices (b ≤ N), long."""
        if b > self.n:
            raise ValueError(f"a global batch of {b} images does not fit {self.n} training images")
        out, seen = [], set()
        while len(out) < b:
            if self.pos >= self.n:
                self.order = torch.randperm(self.n, generator=self.gen)
                self.pos = 0
                self.epoch += 1
            v = int(self.order[self.pos])
            self.pos += 1
            if v not in seen:
                seen.add(v)
                out.append(v)
        return torch.tensor(out, dtype=torch.int64)

    @staticmethod
    def local(comm: Comm, global_rows: int) -> Tuple[int, int]:
        """[lo, hi) of this rank's rows in a global batch of ``global_rows`` (= W·B)."""
        b = global_rows // comm.world
        return comm.rank * b, (comm.rank + 1) * b

    def state_dict(self) -> dict:
        return {"order": self.order.clone(), "pos": self.pos, "epoch": self.epoch, "gen": self.gen.get_state()}

    def load_state_dict(self, st: dict) -> None:
        if st["order"].shape[0] != self.n:
            raise ValueError(f"sampler state has {st['order'].shape[0]} indices for {self.n} images")
        self.order = st["order"].clone()
        self.pos = int(st["pos"])
        self.epoch = int(st["epoch"])
        self.gen.set_state(st["gen"])
