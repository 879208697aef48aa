"""The key queue and the own-key mask (key_queue.py; docs/METHOD.md §1.3, §1.4) against naive loops."""
import torch

from clim_torch import key_queue


def test_queue_is_a_fifo_and_keeps_the_last_k_of_a_long_batch():
    q = key_queue.KeyQueue(4, 2, torch.device("cpu"))
    q.fill(torch.zeros(4, 2), torch.full((4,), -1))
    q.enqueue(torch.tensor([[1.0, 0], [2, 0], [3, 0]]), torch.tensor([10, 11, 12]))
    assert q.keys[:, 0].tolist() == [1, 2, 3, 0] and q.ptr == 3
    q.enqueue(torch.tensor([[4.0, 0], [5, 0], [6, 0], [7, 0], [8, 0], [9, 0]]), torch.arange(20, 26))
    # 6 keys into 4 rows from pointer 3: the FIFO holds 6, 7, 8, 9, the oldest (6) at the pointer.
    assert q.ptr == (3 + 6) % 4 == 1
    assert q.keys[:, 0].tolist() == [9, 6, 7, 8]
    assert q.ids.tolist() == [25, 22, 23, 24]


def naive_slot_table(q, n):
    t = [0] * n
    for i in range(q.size):  # oldest first, so the newest row of an id wins
        row = (q.ptr + i) % q.size
        if 0 <= q.ids[row] < n:
            t[int(q.ids[row])] = row + 1
    return t


def test_slot_table_and_own_key_mask_match_a_loop():
    q = key_queue.KeyQueue(6, 2, torch.device("cpu"))
    q.fill(torch.zeros(6, 2), torch.tensor([3, 1, 3, -1, 5, 1]))
    q.ptr = 2  # rows 2..5, 0, 1 are oldest → newest
    assert q.slot_table(7).tolist() == naive_slot_table(q, 7) == [0, 2, 0, 1, 0, 5, 0]
    mask = key_queue.own_key_mask(q, 7, torch.tensor([3, 0]), torch.tensor([1, 5]))
    want = torch.zeros(2, 6)
    want[0, 0] = want[0, 1] = key_queue.OWN_KEY_MASK  # anchor 3 newest at row 0, positive 1 at row 1
    want[1, 4] = key_queue.OWN_KEY_MASK  # anchor 0 absent, positive 5 at row 4
    assert torch.equal(mask, want)
    assert key_queue.own_key_mask(key_queue.KeyQueue(0, 2, torch.device("cpu")), 7, torch.tensor([0]), torch.tensor([0])) is None
