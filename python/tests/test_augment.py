"""View augmentation (augment.py; docs/METHOD.md §1.6) by hand."""
import torch
import torch.nn.functional as F

from clim_torch import augment
from clim_torch.config import load_config


def plain_draw(n, **over):
    d = augment.AugmentDraw(
        boxes=torch.tensor([[0.0, 0.0, 1.0, 1.0]] * n, dtype=torch.float64),
        jitter=torch.zeros(n, dtype=torch.bool), brightness=torch.ones(n, dtype=torch.float64), contrast=torch.ones(n, dtype=torch.float64),
        saturation=torch.ones(n, dtype=torch.float64), hue=torch.zeros(n, dtype=torch.float64), gray=torch.zeros(n, dtype=torch.bool))
    for k, v in over.items():
        setattr(d, k, v)
    return d


def test_crop_flip_and_centre_view():
    x = torch.rand(2, 3, 8, 8, generator=torch.Generator().manual_seed(0))
    assert torch.allclose(augment.apply_augment(x, 8, plain_draw(2)), x, atol=1e-6)
    flipped = plain_draw(2, boxes=torch.tensor([[0.0, 1.0, 1.0, 0.0]] * 2, dtype=torch.float64))
    assert torch.allclose(augment.apply_augment(x, 8, flipped), x.flip(3), atol=1e-6)
    quarter = plain_draw(2, boxes=torch.tensor([[0.0, 0.0, 0.5, 0.5]] * 2, dtype=torch.float64))
    assert torch.allclose(augment.apply_augment(x, 4, quarter), x[:, :, :4, :4], atol=1e-6)
    assert torch.allclose(augment.centre_view(x, 4), F.interpolate(x, size=(4, 4), mode="bilinear", align_corners=False), atol=1e-6)
    assert augment.centre_view(x, 8) is x


def test_colour_ops_by_hand():
    x = torch.rand(1, 3, 4, 4, generator=torch.Generator().manual_seed(1)) * 0.5
    luma = torch.einsum("bchw,c->bhw", x, torch.tensor(augment.LUMA, dtype=torch.float32)).unsqueeze(1)
    on = torch.ones(1, dtype=torch.bool)
    f = lambda v: torch.tensor([v], dtype=torch.float64)  # noqa: E731
    assert torch.allclose(augment.apply_augment(x, 4, plain_draw(1, jitter=on, brightness=f(1.5))), x * 1.5, atol=1e-6)
    assert torch.allclose(augment.apply_augment(x, 4, plain_draw(1, jitter=on, contrast=f(0.5))), 0.5 * x + 0.5 * luma.mean(), atol=1e-6)
    assert torch.allclose(augment.apply_augment(x, 4, plain_draw(1, jitter=on, saturation=f(0.0))), luma.expand_as(x), atol=1e-6)
    assert torch.allclose(augment.apply_augment(x, 4, plain_draw(1, gray=on)), luma.expand_as(x), atol=1e-6)
    assert torch.allclose(augment.apply_augment(x, 4, plain_draw(1, jitter=on, hue=f(1.0))), x, atol=1e-5)  # a full turn
    mid = 0.4 + 0.4 * x  # pale colours: the rotated chroma stays inside [0, 1], unclipped
    shifted = augment.apply_augment(mid, 4, plain_draw(1, jitter=on, hue=f(0.25)))
    assert not torch.allclose(shifted, mid, atol=1e-3)
    grey = lambda v: torch.einsum("bchw,c->bhw", v, torch.tensor(augment.LUMA, dtype=torch.float32))  # noqa: E731
    assert torch.allclose(grey(shifted), grey(mid), atol=1e-5)  # hue keeps luma


def test_draw_augment_ranges():
    cfg = load_config({})
    d = augment.draw_augment(2000, cfg, torch.Generator().manual_seed(3))
    w = (d.boxes[:, 3] - d.boxes[:, 1]).abs()
    h = d.boxes[:, 2] - d.boxes[:, 0]
    area = w * h
    assert (area >= cfg["cropScaleMin"] - 1e-9).all() and (area <= 1 + 1e-9).all()
    assert ((w / h) >= 0.75 - 1e-9).all() and ((w / h) <= 4 / 3 + 1e-9).all() or (area == 1).any()
    assert 0.45 < float((d.boxes[:, 1] > d.boxes[:, 3]).double().mean()) < 0.55  # flips
    assert 0.75 < float(d.jitter.double().mean()) < 0.85 and 0.45 < float(d.gray.double().mean()) < 0.55
    assert (d.hue.abs() <= cfg["hue"]).all() and (d.brightness >= 0.6).all() and (d.brightness <= 1.4).all()
