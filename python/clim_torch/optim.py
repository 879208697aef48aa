"""Optimisers and the momentum update (docs/METHOD.md §1.2, §1.5), src/core/optim.ts."""
from __future__ import annotations

import torch

from .config import require_choice
from .model import Encoder

OPTIMIZERS = ("sgd", "adam")


def create_optimizer(encoder: Encoder, c: dict) -> torch.optim.Optimizer:
    """The optimiser of optim.ts over f_q's parameters, weight decay on conv
    and dense weights only (never norm gains or biases): 'sgd' is
    torch.optim.SGD with heavy-ball momentum and L2 decay (v ← μv + g + λw,
    w ← w − lr·v, as ``SgdMomentum``); 'adam' is torch.optim.AdamW (β 0.9,
    0.999, ε 1e-8, decoupled decay, as ``AdamW``). The learning rate is set
    every step (``set_lr``)."""
    kind = require_choice(c["optimizer"], OPTIMIZERS, "optimizer")
    kinds = {name: k for name, k, _ in encoder.engine_specs()}
    decay = [encoder.param(n) for n in encoder.engine_names() if kinds[n] == "weight"]
    rest = [encoder.param(n) for n in encoder.engine_names() if kinds[n] != "weight"]
    groups = [{"params": decay, "weight_decay": c["weightDecay"]}, {"params": rest, "weight_decay": 0.0}]
    if kind == "sgd":
        return torch.optim.SGD(groups, lr=c["lr"], momentum=c["momentum"])
    return torch.optim.AdamW(groups, lr=c["lr"], betas=(0.9, 0.999), eps=1e-8)


def set_lr(opt: torch.optim.Optimizer, lr: float) -> None:
    """Sets every parameter group's learning rate (the schedule's value for this step)."""
    for g in opt.param_groups:
        g["lr"] = lr


@torch.no_grad()
def momentum_update(key: Encoder, query: Encoder, m: float) -> None:
    """θ_k ← m·θ_k + (1 − m)·θ_q for every parameter, norm gains and biases included (§1.2)."""
    for pk, pq in zip(key.ordered_parameters(), query.ordered_parameters()):
        pk.mul_(m).add_(pq.detach(), alpha=1 - m)
