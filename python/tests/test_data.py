"""clim_torch.data: the upload layout and skip rules, exact pixels (hand-worked
and against the Node runner's own loader, src/io/load-images.ts with
src/cli/decode-node.ts's NodeDecoder)."""
import base64
import io
import json
import os
import shutil
import subprocess

import numpy as np
import pytest
import torch
from PIL import Image

from clim_torch.data import DatasetPathError, ImageFolder, SKIP_KINDS, labels_from_paths
from clim_torch.decode import decode_image, orient_rgba, pixel_limit_reason, resize_box_rgb, rgba_over_white, square_box

from conftest import REPO_ROOT

HAVE_NODE = os.path.isdir(os.path.join(REPO_ROOT, "node_modules")) and shutil.which("npx") is not None


def png_bytes(arr, mode=None):
    b = io.BytesIO()
    Image.fromarray(np.asarray(arr, dtype=np.uint8), mode).save(b, format="PNG")
    return b.getvalue()


def write(path, data):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def make_messy_folder(root):
    """Two labels in a dropped folder, plus one of every kind of file the loader must skip or ignore."""
    rng = np.random.default_rng(0)
    top = root / "pets"
    write(top / "cats" / "a.png", png_bytes(rng.integers(0, 256, (12, 10, 3))))
    write(top / "cats" / "nested" / "deep" / "b.PNG", png_bytes(rng.integers(0, 256, (9, 9, 3))))
    rgba = rng.integers(0, 256, (8, 11, 4))
    write(top / "dogs" / "c.png", png_bytes(rgba, "RGBA"))
    write(top / "dogs" / "grey.png", png_bytes(rng.integers(0, 256, (7, 7)), "L"))
    write(top / "dogs" / "tiny.png", png_bytes([[[10, 200, 30]]]))  # 1×1: upsampled, not skipped
    write(top / "dogs" / "copy.png", (top / "cats" / "a.png").read_bytes())  # duplicate of cats/a.png
    write(top / "dogs" / "broken.png", png_bytes(rng.integers(0, 256, (16, 16, 3)))[:60])  # cut short
    write(top / "dogs" / "notes.txt", b"hello")
    write(top / "dogs" / "fake.jpg", b"this is text, not a JPEG at all")
    write(top / "dogs" / "empty.png", b"")
    gif = io.BytesIO()
    Image.fromarray(rng.integers(0, 256, (4, 4, 3)).astype(np.uint8)).save(gif, format="GIF")
    write(top / "dogs" / "anim.gif", gif.getvalue())
    write(top / "dogs" / ".DS_Store", b"\0\0\0\1")
    write(top / "__MACOSX" / "dogs" / "._c.png", b"resource fork")
    write(top / "cats" / "Thumbs.db", b"x")
    os.symlink(os.path.join(top, "cats", "a.png"), top / "dogs" / "link.png")
    os.symlink("/etc/hostname", top / "dogs" / "outside.png")
    os.mkfifo(top / "dogs" / "pipe.png")
    return top


EXPECTED_SKIPS = [
    ("dogs/anim.gif", "unsupported"),
    ("dogs/broken.png", "corrupt"),
    ("dogs/copy.png", "duplicate"),
    ("dogs/empty.png", "empty"),
    ("dogs/fake.jpg", "corrupt"),
    ("dogs/link.png", "symlink"),
    ("dogs/notes.txt", "not-image"),
    ("dogs/outside.png", "symlink"),
    ("dogs/pipe.png", "not-image"),
]


def test_messy_folder_skip_kinds_labels_and_report(tmp_path):
    root = make_messy_folder(tmp_path)
    ds = ImageFolder(str(tmp_path), size=8)
    assert [(s["path"], s["kind"]) for s in ds.skipped] == [("pets/" + p, k) for p, k in EXPECTED_SKIPS]
    assert all(s["kind"] in SKIP_KINDS for s in ds.skipped)
    reasons = {s["path"]: s["reason"] for s in ds.skipped}
    assert reasons["pets/dogs/copy.png"] == "same bytes as pets/cats/a.png"
    assert reasons["pets/dogs/notes.txt"] == ".txt is not an image type this app reads"
    assert reasons["pets/dogs/empty.png"] == "the file has 0 bytes"
    assert reasons["pets/dogs/anim.gif"] == "GIF is decoded in the browser only; the Node runner reads PNG and JPEG"
    assert reasons["pets/dogs/fake.jpg"].startswith("could not be decoded (not a PNG or JPEG")
    assert reasons["pets/dogs/outside.png"].startswith("a symbolic link to /etc/hostname; links are not followed")
    assert reasons["pets/dogs/pipe.png"] == "a named pipe (FIFO), not a regular file; not read"
    assert ds.hidden_count == 3  # .DS_Store, __MACOSX/…, Thumbs.db
    # The dropped folder 'pets' is stripped; the label is the first folder level (nested/deep folds into cats).
    assert ds.class_names == ["cats", "dogs"]
    assert ds.paths == ["pets/cats/a.png", "pets/cats/nested/deep/b.PNG", "pets/dogs/c.png", "pets/dogs/grey.png", "pets/dogs/tiny.png"]
    assert ds.labels.tolist() == [0, 0, 1, 1, 1]
    assert ds.images.dtype == torch.uint8 and tuple(ds.images.shape) == (5, 3, 8, 8)
    assert torch.equal(ds.as_float(), ds.images.float() / 255)
    # The tiny image is upsampled to one flat colour.
    assert ds.images[4].reshape(3, -1).tolist() == [[10] * 64, [200] * 64, [30] * 64]
    lines = ds.report()
    assert lines[0] == "5 images loaded from 17 files, 2 labels"
    assert "  corrupt or truncated image (2):" in lines and "3 hidden or system files ignored" in lines


def test_unlabelled_layouts_and_lost_labels(tmp_path):
    rng = np.random.default_rng(1)
    write(tmp_path / "flat" / "a.png", png_bytes(rng.integers(0, 256, (4, 4, 3))))
    write(tmp_path / "flat" / "b.png", png_bytes(rng.integers(0, 256, (4, 4, 3))))
    ds = ImageFolder(str(tmp_path / "flat"), size=4)
    assert ds.class_names == [] and ds.labels.tolist() == [-1, -1]
    assert ds.notes == ["no class folders (<label>/<image>): the images train unlabelled and evaluation is off"]

    write(tmp_path / "mixed" / "top.png", png_bytes(rng.integers(0, 256, (4, 4, 3))))
    write(tmp_path / "mixed" / "x" / "in.png", png_bytes(rng.integers(0, 256, (4, 4, 3))))
    ds = ImageFolder(str(tmp_path / "mixed"), size=4)
    assert ds.labels.tolist() == [-1, -1] and ds.notes[0].startswith("mixed layout: 1 image at the top level and 1 inside folders")

    write(tmp_path / "lost" / "a" / "1.png", png_bytes(rng.integers(0, 256, (4, 4, 3))))
    write(tmp_path / "lost" / "b" / "2.png", png_bytes(rng.integers(0, 256, (4, 4, 3))))
    write(tmp_path / "lost" / "c" / "3.png", b"not a png")
    ds = ImageFolder(str(tmp_path / "lost"), size=4)
    assert ds.class_names == ["a", "b"] and ds.labels.tolist() == [0, 1]
    assert ds.notes == ["label c had no loadable image and is left out"]


def test_labels_from_paths_sorts_by_utf16_and_ignores_hidden():
    r = labels_from_paths(["b/1.png", "a/2.jpg", "B/3.jpeg", ".git/x.png", "a/notes.md"])
    assert r["class_names"] == ["B", "a", "b"] and r["labels"] == [2, 1, 0] and r["keep"] == [0, 1, 2]
    assert r["ignored"] == [".git/x.png", "a/notes.md"]


def test_errors_for_bad_roots_and_nothing_loadable(tmp_path):
    with pytest.raises(DatasetPathError, match="no such file or folder"):
        ImageFolder(str(tmp_path / "nope"), size=8)
    write(tmp_path / "f.png", b"x")
    with pytest.raises(DatasetPathError, match="is not a folder"):
        ImageFolder(str(tmp_path / "f.png"), size=8)
    write(tmp_path / "d" / "a.txt", b"x")
    with pytest.raises(DatasetPathError, match=r"no decodable image .*\(no file has an image extension"):
        ImageFolder(str(tmp_path / "d"), size=8)
    with pytest.raises(ValueError, match="channels must be 3"):
        ImageFolder(str(tmp_path), size=8, channels=1)


def test_too_large_is_never_decoded(tmp_path):
    write(tmp_path / "x" / "big.png", png_bytes(np.zeros((20, 30, 3))))
    write(tmp_path / "x" / "ok.png", png_bytes(np.ones((2, 2, 3))))
    ds = ImageFolder(str(tmp_path / "x"), size=2, max_pixels=500)
    assert ds.skipped == [{"path": "big.png", "kind": "too-large", "reason": "30×20 = 0.0 MP, over the 0.0 MP limit"}]
    assert pixel_limit_reason(6000, 4000, 16_777_216) == "6000×4000 = 24.0 MP, over the 16.8 MP limit"


# ---------------------------------------------------------------- pixels, hand-worked


def test_square_boxes():
    assert square_box(10, 6, "crop") == (2, 0, 6, 6)
    assert square_box(7, 4, "crop") == (1, 0, 4, 4)  # the odd pixel goes right
    assert square_box(10, 6, "pad") == (0, -2, 10, 10)
    assert square_box(4, 7, "pad") == (-1, 0, 7, 7)


def test_area_resize_hand_worked():
    # A 4×4 grey ramp (values 0…15 ·10) halved: each output is the mean of a 2×2 block, half up.
    v = (np.arange(16).reshape(4, 4) * 10).astype(np.uint8)
    rgb = np.repeat(v[:, :, None], 3, axis=2)
    out = resize_box_rgb(rgb, (0, 0, 4, 4), 2)[:, :, 0]
    assert out.tolist() == [[25, 45], [105, 125]]  # (0+10+40+50)/4 = 25, …
    # 3 → 2: cells span 1.5 source pixels; cell 0 = (a·1 + b·0.5)/1.5 per axis.
    row = np.array([[0, 90, 255]], dtype=np.uint8)
    rgb = np.repeat(np.repeat(row[:, :, None], 3, axis=2), 3, axis=0)  # 3×3, every row 0, 90, 255
    out = resize_box_rgb(rgb, (0, 0, 3, 3), 2)[0, :, 0]
    assert out.tolist() == [round((0 * 2 + 90) / 3), round((90 + 255 * 2) / 3)]  # 30, 200
    # Padding is black: a 1×2 white strip padded to 2×2 and kept at 2×2.
    white = np.full((1, 2, 3), 255, np.uint8)
    out = resize_box_rgb(white, square_box(2, 1, "pad"), 2)[:, :, 0]
    assert out.tolist() == [[255, 255], [0, 0]]


def test_alpha_over_white_and_orientation():
    px = np.array([[[0, 0, 0, 0], [0, 0, 0, 255], [200, 100, 0, 128]]], dtype=np.uint8)
    # round((c·a + 255·(255 − a)) / 255): transparent → white; 128 alpha over white
    assert rgba_over_white(px).tolist() == [[[255, 255, 255], [0, 0, 0], [227, 177, 127]]]
    a = np.arange(6 * 4, dtype=np.uint8).reshape(2, 3, 4)  # 2 rows × 3 cols
    r6 = orient_rgba(a, 6)  # rotate 90° clockwise: the stored bottom-left pixel lands top-left
    assert r6.shape == (3, 2, 4) and (r6[0, 0] == a[1, 0]).all() and (r6[0, 1] == a[0, 0]).all()
    r8 = orient_rgba(a, 8)
    assert (r8[0, 0] == a[0, 2]).all() and (r8[2, 0] == a[0, 0]).all()
    assert orient_rgba(a, 1) is a and orient_rgba(a, 9) is a


def test_decode_grey_palette_and_transparency():
    grey = np.array([[0, 255], [128, 64]], dtype=np.uint8)
    ok, rgb = decode_image(png_bytes(grey, "L"), 2)
    assert ok and rgb[:, :, 0].tolist() == grey.tolist() and (rgb[:, :, 0] == rgb[:, :, 2]).all()
    im = Image.fromarray(np.array([[0, 1]], dtype=np.uint8), "P")
    im.putpalette([255, 0, 0, 0, 0, 255])
    im.info["transparency"] = 1
    b = io.BytesIO()
    im.save(b, format="PNG", transparency=1)
    ok, rgb = decode_image(b.getvalue(), 1, "crop")  # centre crop of 2×1 → the left pixel (red)
    assert ok and rgb.tolist() == [[[255, 0, 0]]]
    ok, rgb = decode_image(b.getvalue(), 2, "pad")  # transparent blue → white; pad row below black
    assert rgb.tolist() == [[[255, 0, 0], [255, 255, 255]], [[0, 0, 0], [0, 0, 0]]]


# ---------------------------------------------------------------- against the Node runner's loader


@pytest.mark.skipif(not HAVE_NODE, reason="node_modules is absent (run `npm ci`): cannot run the Node runner's loader")
@pytest.mark.parametrize("fit", ["crop", "pad"])
def test_same_images_labels_and_skips_as_the_node_runner(tmp_path, fit):
    make_messy_folder(tmp_path)
    rng = np.random.default_rng(2)
    for i, (h, w) in enumerate([(31, 17), (5, 40), (64, 64), (13, 12)]):
        write(tmp_path / "pets" / "cats" / f"odd{i}.png", png_bytes(rng.integers(0, 256, (h, w, 4)), "RGBA"))
    script = tmp_path / "load.mts"  # .mts: an ES module, for the top-level await
    script.write_text(
        f"import {{ nodeFiles, NodeDecoder }} from {json.dumps(os.path.join(REPO_ROOT, 'src', 'cli', 'decode-node.ts'))};\n"
        f"import {{ loadImages, DEFAULT_MAX_PIXELS }} from {json.dumps(os.path.join(REPO_ROOT, 'src', 'io', 'load-images.ts'))};\n"
        f"const {{ files }} = await nodeFiles({json.dumps(str(tmp_path))});\n"
        f"const r = await loadImages(files, new NodeDecoder(), {{ size: 12, fit: {json.dumps(fit)}, maxPixels: DEFAULT_MAX_PIXELS }});\n"
        "process.stdout.write(JSON.stringify({ images: Buffer.from(r.images).toString('base64'),"
        " labels: r.labels ? Array.from(r.labels) : null, classNames: r.classNames,"
        " skipped: r.report.skipped.map((s) => [s.path, s.kind, s.reason]), hidden: r.report.hiddenCount,"
        " notes: r.report.notes }));\n"
    )
    r = subprocess.run(["npx", "tsx", str(script)], cwd=REPO_ROOT, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr[-2000:]
    ts = json.loads(r.stdout)
    ds = ImageFolder(str(tmp_path), size=12, fit=fit)
    # Same kinds for the same files; the decoder's own words differ only for the cut-off PNG (pngjs vs PIL).
    assert [(p, k) for p, k, _ in ts["skipped"]] == [(s["path"], s["kind"]) for s in ds.skipped]
    for (p, k, why), s in zip(ts["skipped"], ds.skipped):
        if k != "corrupt":
            assert why == s["reason"], p
    assert ts["classNames"] == ds.class_names and ts["labels"] == ds.labels.tolist()
    assert ts["hidden"] == ds.hidden_count and ts["notes"] == ds.notes
    # Byte-identical pixels (all PNG): same decode, compositing, box and area resize.
    ts_images = np.frombuffer(base64.b64decode(ts["images"]), np.uint8).reshape(-1, 12, 12, 3)
    assert np.array_equal(ts_images, ds.images_nhwc())
