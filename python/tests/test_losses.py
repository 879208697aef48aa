"""InfoNCE, its mixed and multi-resolution forms (losses.py; docs/METHOD.md §1.4, §4.2, §5) against the formulas."""
import math
import pytest
import torch

from clim_torch import key_queue, losses
from helpers import unit_rows


def naive_info_nce(q, k, queue, t, mask=None):
    out = []
    for b in range(q.shape[0]):
        logits = [float(q[b] @ k[b]) / t] + [float(q[b] @ queue[j]) / t + (0 if mask is None else float(mask[b, j])) for j in range(queue.shape[0])]
        m = max(logits)
        out.append(m + math.log(sum(math.exp(v - m) for v in logits)) - logits[0])
    return torch.tensor(out)


def test_info_nce_mixed_and_multi_resolution_equal_the_formulas():
    q, ka, kp, queue = unit_rows(4, 6, 10), unit_rows(4, 6, 11), unit_rows(4, 6, 12), unit_rows(7, 6, 13)
    mask = torch.zeros(4, 7)
    mask[1, 3] = key_queue.OWN_KEY_MASK
    la, lp = losses.info_nce(q, [ka, kp], queue, 0.2, mask)
    assert torch.allclose(la, naive_info_nce(q, ka, queue, 0.2, mask), atol=1e-5)
    assert torch.allclose(lp, naive_info_nce(q, kp, queue, 0.2, mask), atol=1e-5)
    # The mask removes row 3 for query 1: equal to a queue without it.
    assert la[1] == pytest.approx(float(naive_info_nce(q[1:2], ka[1:2], queue[[0, 1, 2, 4, 5, 6]], 0.2)[0]), abs=1e-5)
    assert torch.equal(losses.info_nce(q, [ka], queue[:0], 0.2), torch.zeros(1, 4))
    lam = torch.tensor([1.0, 0.5, 0.25, 0.0])
    total, a, p = losses.mixed_info_nce(q, ka, kp, queue, lam, 0.2, mask)
    assert float(total) == pytest.approx(float((lam * la + (1 - lam) * lp).mean()), abs=1e-6)
    q2, lam2 = unit_rows(4, 6, 14), torch.tensor([0.3, 0.6, 1.0, 0.9])
    keys = [(ka, kp), (kp, ka)]
    queues = [queue, unit_rows(5, 6, 15)]
    total, a, p = losses.multi_resolution_loss([q, q2], [lam, lam2], keys, queues, 0.2, [mask, None])
    want = sum(losses.mixed_info_nce(qr, keys[s][0], keys[s][1], queues[s], lr, 0.2, [mask, None][s])[0] for qr, lr in ((q, lam), (q2, lam2)) for s in range(2)) / 4
    assert float(total) == pytest.approx(float(want), abs=1e-6)


def test_info_nce_sends_no_gradient_to_keys_or_queue():
    q = unit_rows(3, 4, 16).requires_grad_()
    k, queue = unit_rows(3, 4, 17).requires_grad_(), unit_rows(5, 4, 18).requires_grad_()
    losses.info_nce(q, [k], queue, 0.2).sum().backward()
    assert q.grad is not None and k.grad is None and queue.grad is None
