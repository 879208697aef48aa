"""The evaluation measures (metrics.py, evaluate.py; docs/METHOD.md §6)
against naive loops and hand-worked examples."""
import math

import numpy as np
import pytest
import torch

from clim_torch import evaluate, metrics
from clim_torch.config import load_config
from clim_torch.evaluate import backbone_features, evaluate_run
from clim_torch.model import Encoder, l2_normalize
from helpers import naive_knn, unit_rows


def test_knn_classify_is_the_weighted_vote_of_a_loop():
    train, test = unit_rows(40, 6, 1), unit_rows(15, 6, 2)
    labels = torch.arange(40) % 4
    pred = metrics.knn_classify(train, labels, test, 7, 0.1, 5)
    idx, sims = naive_knn(test, train, 7, None)
    for i in range(15):
        score = [0.0] * 5
        for j in range(7):
            score[int(labels[idx[i, j]])] += math.exp(float(sims[i, j]) / 0.1)
        assert int(pred[i]) == max(range(5), key=lambda c: (score[c], -c))


def test_knn_vote_ties_go_to_the_lower_class_and_k_caps_at_n():
    train = torch.tensor([[1.0, 0.0], [1.0, 0.0]])  # one neighbour of each class, equal weights
    assert metrics.knn_classify(train, torch.tensor([1, 0]), torch.tensor([[1.0, 0.0]]), 5, 0.1, 2).tolist() == [0]


def naive_probe(x, y, xt, classes):
    """linear-probe.ts step by step in float64 numpy."""
    mean, std = x.mean(0), np.maximum(x.std(0), 1e-6)
    x, xt = (x - mean) / std, (xt - mean) / std
    onehot = np.eye(classes)[y]
    w, b = np.zeros((x.shape[1], classes)), np.zeros(classes)
    vw, vb = np.zeros_like(w), np.zeros_like(b)
    for _ in range(metrics.PROBE_STEPS):
        z = x @ w + b
        p = np.exp(z - z.max(1, keepdims=True))
        dz = (p / p.sum(1, keepdims=True) - onehot) / len(x)
        vw = metrics.PROBE_MOMENTUM * vw + x.T @ dz + metrics.PROBE_WEIGHT_DECAY * w
        vb = metrics.PROBE_MOMENTUM * vb + dz.sum(0)
        w, b = w - metrics.PROBE_LR * vw, b - metrics.PROBE_LR * vb
    return xt @ w + b


def test_linear_probe_equals_the_engine_steps_in_float64():
    g = torch.Generator().manual_seed(0)
    centres = torch.randn(3, 5, generator=g) * 2
    y, yt = torch.arange(60) % 3, torch.arange(30) % 3
    x = centres[y] + 1.5 * torch.randn(60, 5, generator=g) + 10  # offset and scale: standardisation matters
    xt = centres[yt] + 1.5 * torch.randn(30, 5, generator=g) + 10
    top1, confusion = metrics.linear_probe(x, y, xt, yt, 4)  # class 3 never occurs, as a class name without images
    logits = naive_probe(x.double().numpy(), y.numpy(), xt.double().numpy(), 4)
    pred = logits.argmax(1)
    assert top1 == pytest.approx((pred == yt.numpy()).mean())
    want = np.zeros((4, 4), dtype=np.int64)
    np.add.at(want, (yt.numpy(), pred), 1)
    assert confusion.tolist() == want.tolist() and 0.5 < top1 < 1
    assert metrics.linear_probe(x, y, xt[:0], yt[:0], 3)[0] == 0


def test_alignment_and_uniformity_equal_the_pair_loops():
    a, b = unit_rows(9, 4, 3), unit_rows(9, 4, 4)
    assert metrics.alignment(a, b) == pytest.approx(sum(float((a[i] - b[i]).norm()) ** 2 for i in range(9)) / 9, rel=1e-5)
    pairs = [math.exp(-2 * float((a[i] - a[j]).norm()) ** 2) for i in range(9) for j in range(9) if i != j]
    assert metrics.uniformity(a) == pytest.approx(math.log(sum(pairs) / len(pairs)), rel=1e-4)
    assert metrics.uniformity(torch.tensor([[1.0, 0.0], [1.0, 0.0]])) == pytest.approx(0, abs=1e-6)  # identical: log e⁰
    with pytest.raises(ValueError, match="at least 2"):
        metrics.uniformity(a[:1])


def naive_agreement(c, l):
    """Purity, NMI, ARI from the dense contingency table by the textbook formulas."""
    n = len(c)
    table = {(ci, li): sum(1 for x, y in zip(c, l) if (x, y) == (ci, li)) for ci in set(c) for li in set(l)}
    a = {ci: c.count(ci) for ci in set(c)}
    b = {li: l.count(li) for li in set(l)}
    purity = sum(max(table[ci, li] for li in b) for ci in a) / n
    h = lambda counts: -sum(v / n * math.log(v / n) for v in counts)  # noqa: E731
    mi = sum(v / n * math.log(n * v / (a[ci] * b[li])) for (ci, li), v in table.items() if v)
    ch2 = lambda v: v * (v - 1) / 2  # noqa: E731
    sa, sb = sum(map(ch2, a.values())), sum(map(ch2, b.values()))
    e = sa * sb / ch2(n)
    return purity, mi / ((h(a.values()) + h(b.values())) / 2), (sum(map(ch2, table.values())) - e) / ((sa + sb) / 2 - e)


def test_cluster_agreement_by_hand_and_against_the_formulas():
    got = metrics.cluster_agreement(np.array([0, 0, 1, 1, 1, 2]), np.array([0, 0, 0, 1, 1, 1]))
    # Cells (c, l): (0,0)=2, (1,0)=1, (1,1)=2, (2,1)=1; purity (2+2+1)/6; ARI (2 − 24/15)/(5 − 24/15).
    assert got["purity"] == pytest.approx(5 / 6) and got["ari"] == pytest.approx(0.4 / 3.4)
    rng = np.random.default_rng(5)
    c, l = rng.integers(0, 7, 80) * 3, rng.integers(0, 4, 80)  # non-contiguous cluster ids
    got = metrics.cluster_agreement(c, l)
    assert (got["purity"], got["nmi"], got["ari"]) == pytest.approx(naive_agreement(c.tolist(), l.tolist()))


def test_cluster_agreement_conventions():
    same = metrics.cluster_agreement(np.array([4, 4, 9]), np.array([1, 1, 0]))
    assert same == pytest.approx({"purity": 1, "nmi": 1, "ari": 1})  # equal up to renaming
    assert metrics.cluster_agreement(np.zeros(0), np.zeros(0)) == {"purity": 1.0, "nmi": 1.0, "ari": 1.0}
    assert metrics.cluster_agreement(np.zeros(4), np.zeros(4)) == {"purity": 1.0, "nmi": 1.0, "ari": 1.0}
    one = metrics.cluster_agreement(np.zeros(4), np.array([0, 1, 0, 1]))
    assert one["nmi"] == 0 and one["purity"] == 0.5 and one["ari"] == 0  # only one partition single-valued
    with pytest.raises(ValueError, match="negative"):
        metrics.cluster_agreement(np.array([0, -1]), np.array([0, 0]))


def test_evaluate_run_votes_with_normalised_backbone_features_of_centre_views():
    c = load_config({"resolutions": [8, 12], "width": 8, "stemStride": 1, "stages": 2, "groups": 4, "projHidden": 16, "projDim": 8, "evalK": 3})
    enc = Encoder(c, seed=1)
    g = torch.Generator().manual_seed(2)
    x, xt = torch.randint(0, 256, (20, 3, 12, 12), generator=g, dtype=torch.uint8), torch.randint(0, 256, (6, 3, 12, 12), generator=g, dtype=torch.uint8)
    y, yt = torch.arange(20) % 2, torch.arange(6) % 2
    f, ft = backbone_features(enc, x, 8), backbone_features(enc, xt, 8)
    assert f.shape == (20, 16)  # F = width·2^(stages−1), before the head
    want = metrics.knn_classify(l2_normalize(f), y, l2_normalize(ft), 3, c["evalTemperature"], 2)
    km = torch.arange(20) % 3
    e = evaluate_run(enc, c, x, y, xt, yt, 2, km, 5, full=True)
    assert e["step"] == 5 and e["knnTop1"] == pytest.approx(float((want == yt).double().mean()))
    assert e["linearTop1"] == metrics.linear_probe(f, y, ft, yt, 2)[0]
    assert e["clusterPurity"] == metrics.cluster_agreement(km.numpy(), y.numpy())["purity"]
    assert e["alignment"] > 0 and e["uniformity"] < 0
    quick = evaluate_run(enc, c, x, y, xt, yt, 2, km, 5, full=False)
    assert quick["knnTop1"] == e["knnTop1"] and quick["linearTop1"] is None and quick["alignment"] is None
    unlabelled = evaluate_run(enc, c, x, torch.full((20,), -1), xt[:0], yt[:0], 0, km, 5, full=True)
    assert unlabelled["knnTop1"] is None and unlabelled["clusterNmi"] is None and unlabelled["uniformity"] is not None


def test_evaluate_run_turns_tf32_off_and_restores_it(monkeypatch):
    c = load_config({"resolutions": [8], "width": 8, "stemStride": 1, "stages": 2, "groups": 4, "projHidden": 16, "projDim": 8, "evalK": 3})
    seen = []
    monkeypatch.setattr(evaluate, "knn_classify", lambda *a: seen.append(torch.backends.cudnn.allow_tf32) or metrics.knn_classify(*a))
    monkeypatch.setattr(torch.backends.cudnn, "allow_tf32", True)
    x = torch.rand(6, 3, 8, 8)
    evaluate_run(Encoder(c, seed=1), c, x, torch.arange(6) % 2, x[:2], torch.arange(2), 2, None, 0, full=False)
    assert seen == [False] and torch.backends.cudnn.allow_tf32
