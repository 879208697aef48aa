"""dist.py on 2 gloo processes (torch.multiprocessing.spawn) against one
process: DDP steps on 2×B images equal single-process steps on the same 2B
images, and the distributed bank, queues, kNN and k-means equal the
single-process ones on every rank."""
import os
import socket

import pytest
import torch
import torch.distributed as tdist
import torch.multiprocessing as mp
import torch.nn.functional as F

from clim_torch import kmeans, knn
from clim_torch.bank import MemoryBank
from clim_torch.config import load_config
from clim_torch.dist import Comm, ShardRows, all_gather_cat, write_bank
from clim_torch.trainer import ClimTrainer

WORLD = 2
STEPS = 3
#: Every CLIM piece on: two resolutions, center-wise selection from step 1, CutMix, own-key mask, k-means after step 2.
CONFIG = {
    "resolutions": [16, 8], "width": 8, "stemStride": 1, "stages": 2, "groups": 4, "projHidden": 32, "projDim": 16,
    "queueSize": 24, "knnK": 4, "climWarmupSteps": 1, "clusters": 3, "kmeansEvery": 2, "kmeansIters": 3,
    "warmupSteps": 1, "totalSteps": 10, "mixProb": 1.0,
}
B = 4


def images():
    g = torch.Generator().manual_seed(0)
    return (torch.rand(40, 3, 16, 16, generator=g) * 255).to(torch.uint8), torch.arange(40) % 2


def run_state(batch: int, comm: Comm) -> dict:
    """STEPS steps of a run with per-process batch ``batch``: parameters, queues, bank and clusters after them."""
    x, y = images()
    t = ClimTrainer(load_config({**CONFIG, "batchSize": batch}), x, y, comm)
    t.start()
    for _ in range(STEPS):
        t.train_step()
    return {
        "params": [p.detach().clone() for p in t.query.ordered_parameters()],
        "key": [p.detach().clone() for p in t.key.ordered_parameters()],
        "queues": [(q.keys.clone(), q.ids.clone(), q.ptr) for q in t.queues],
        "bank": t.bank.rows.clone(),
        "assignments": t.km.assignments.clone(),
        "centroids": t.km.centroids.clone(),
    }


def bank_pieces(comm: Comm) -> dict:
    """A bank written through write_bank from each rank's rows, its kNN of each rank's anchors, gathered, and sharded k-means."""
    rows = F.normalize(torch.randn(50, 6, generator=torch.Generator().manual_seed(5)), dim=1)
    bank = MemoryBank(50, 6, comm.device)
    mine = torch.arange(comm.rank, 50, comm.world)  # each rank writes every other row
    write_bank(comm, bank, mine, rows[mine])
    anchors = torch.arange(0, 48, 3)[comm.rank::comm.world]
    idx, sims = knn.knn(bank.rows[anchors], bank.rows, 5, anchors)
    km = kmeans.spherical_kmeans(bank.rows, 4, 6, torch.Generator().manual_seed(9), None, ShardRows(comm))
    km_warm = kmeans.spherical_kmeans(bank.rows, 4, 2, torch.Generator(), km.centroids, ShardRows(comm))
    return {"bank": bank.rows.clone(), "knn": all_gather_cat(comm, idx), "sims": all_gather_cat(comm, sims), "km": km.state_dict(), "warm": km_warm.state_dict()}


def worker(rank: int, port: int, out_dir: str) -> None:
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    torch.set_num_threads(1)
    tdist.init_process_group("gloo", rank=rank, world_size=WORLD)
    try:
        comm = Comm(rank, WORLD, rank, torch.device("cpu"), "gloo")
        torch.save({"run": run_state(B, comm), "bank": bank_pieces(comm)}, os.path.join(out_dir, f"rank{rank}.pt"))
    finally:
        tdist.destroy_process_group()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def ranks(tmp_path_factory):
    out = tmp_path_factory.mktemp("dist")
    mp.spawn(worker, args=(free_port(), str(out)), nprocs=WORLD, join=True)
    return [torch.load(out / f"rank{r}.pt") for r in range(WORLD)]


@pytest.fixture(scope="module")
def single():
    single = Comm(0, 1, 0, torch.device("cpu"), None)
    return {"run": run_state(B * WORLD, single), "bank": bank_pieces(single)}


def test_ddp_steps_equal_single_process_steps_on_the_global_batch(ranks, single):
    want = single["run"]
    for r in ranks:
        for a, b in zip(r["run"]["params"] + r["run"]["key"], want["params"] + want["key"]):
            assert torch.allclose(a, b, atol=1e-5, rtol=0), float((a - b).abs().max())
        assert torch.equal(r["run"]["assignments"], want["assignments"])
        assert torch.allclose(r["run"]["centroids"], want["centroids"], atol=1e-5)
        assert torch.allclose(r["run"]["bank"], want["bank"], atol=1e-5)
        for (k, ids, ptr), (wk, wids, wptr) in zip(r["run"]["queues"], want["queues"]):
            assert torch.equal(ids, wids) and ptr == wptr  # keys gathered in global-batch order
            assert torch.allclose(k, wk, atol=1e-5)


def test_bank_and_queues_are_identical_on_every_rank(ranks):
    a, b = (r["run"] for r in ranks)
    assert torch.equal(a["bank"], b["bank"])
    for (k, ids, ptr), (k2, ids2, ptr2) in zip(a["queues"], b["queues"]):
        assert torch.equal(k, k2) and torch.equal(ids, ids2) and ptr == ptr2
    assert all(torch.equal(p, q) for p, q in zip(a["params"], b["params"]))


def test_distributed_bank_knn_and_kmeans_equal_single_process(ranks, single):
    want = single["bank"]
    for r in ranks:
        got = r["bank"]
        assert torch.equal(got["bank"], want["bank"])
        # Each rank searched its anchors; gathered in rank order they are [rank 0's; rank 1's].
        order = torch.cat([torch.arange(0, 16)[i::WORLD] for i in range(WORLD)])
        assert torch.equal(got["knn"], want["knn"][order])
        assert torch.allclose(got["sims"], want["sims"][order], atol=1e-6)
        for key in ("km", "warm"):
            for f in ("assignments", "sizes", "order", "start", "rank"):
                assert torch.equal(got[key][f], want[key][f]), (key, f)
            assert torch.allclose(got[key]["centroids"], want[key]["centroids"], atol=1e-6)
            assert torch.allclose(got[key]["mean_centre_sim"], want[key]["mean_centre_sim"], atol=1e-6)
