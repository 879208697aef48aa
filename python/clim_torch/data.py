"""A folder of images as a CLIM data set, with the upload rules of the page
and the Node runner (issue 4): src/core/data/folder.ts (layout and labels,
squaring), src/core/data/upload.ts (what is skipped and why),
src/io/load-images.ts (hash, pixel limit, decode) and src/cli/decode-node.ts
(folder walk, PNG/JPEG decoding, resize). Labels come from the sub-folder
names and are only ever used to measure (docs/METHOD.md §6).

Per file, in path order:
  hidden or system file → ignored silently (counted in ``hidden_count``);
  symbolic link → 'symlink' (never followed); pipe/socket/device → 'not-image';
  not an image extension → 'not-image'; zero bytes → 'empty';
  same bytes as an earlier file → 'duplicate' (the first is kept);
  header over ``max_pixels`` → 'too-large' (never decoded);
  a format other than PNG/JPEG → 'unsupported' (as the Node runner: it reads
  PNG and JPEG only); anything the decoder refuses → 'corrupt'.
The kind strings are upload.ts's SKIP_KINDS; reasons are the runner's words.

Pixels: decode.py (the runner's PNG/JPEG decoding, squaring and area
resize; PNG gives identical bytes, JPEG may differ by a few levels).
"""
from __future__ import annotations

import hashlib
import os
import stat as statmod
from dataclasses import dataclass, field
from typing import Optional

import numpy as np
import torch

from .decode import decode_image, header_size, pixel_limit_reason, square_box

#: File extensions read as images, compared case-insensitively (folder.ts IMAGE_EXTENSIONS).
IMAGE_EXTENSIONS = ("png", "jpg", "jpeg", "webp", "gif", "bmp", "avif")
#: upload.ts SKIP_KINDS, in report order.
SKIP_KINDS = ("not-image", "empty", "duplicate", "too-large", "corrupt", "unsupported", "encrypted", "unpack-limit", "symlink")
SKIP_TITLES = {
    "not-image": "not an image file",
    "empty": "empty file (0 bytes)",
    "duplicate": "duplicate content (kept once)",
    "too-large": "over the pixel limit",
    "corrupt": "corrupt or truncated image",
    "unsupported": "format not decodable here",
    "encrypted": "encrypted zip entry (password-protected)",
    "unpack-limit": "over the unpack limits (zip bomb guard)",
    "symlink": "symbolic link (not followed)",
}
#: load-images.ts DEFAULT_MAX_PIXELS: above any phone camera's still, far below exhausting memory.
DEFAULT_MAX_PIXELS = 40_000_000
#: Operating-system files that are never images and never worth a message (folder.ts SYSTEM_FILES).
SYSTEM_FILES = frozenset({"thumbs.db", "ehthumbs.db", "desktop.ini"})



class DatasetPathError(ValueError):
    """The root names nothing readable as an image folder (decode-node.ts DatasetPathError)."""


# ---------------------------------------------------------------- layout (folder.ts)


def _segments(path: str) -> list:
    return [s for s in path.replace("\\", "/").split("/") if s not in ("", ".")]


def _is_hidden(seg: list) -> bool:
    return any(s.startswith(".") or s == "__MACOSX" for s in seg) or (seg[-1].lower() if seg else "") in SYSTEM_FILES


def is_hidden_path(path: str) -> bool:
    seg = _segments(path)
    return len(seg) == 0 or _is_hidden(seg)


def _has_image_extension(name: str) -> bool:
    dot = name.rfind(".")
    return dot > 0 and name[dot + 1 :].lower() in IMAGE_EXTENSIONS


def _utf16_key(s: str) -> bytes:
    """JavaScript's plain `<` on strings compares UTF-16 code units; Python compares code points."""
    return s.encode("utf-16-be")


def labels_from_paths(paths: list) -> dict:
    """folder.ts ``labelsFromPaths``: which paths are images and their labels.
    Returns {keep, labels (list or None), class_names, ignored, problems}."""
    keep, kept, ignored = [], [], []
    for i, p in enumerate(paths):
        seg = _segments(p)
        if not seg or _is_hidden(seg) or not _has_image_extension(seg[-1]):
            ignored.append(p)
        else:
            keep.append(i)
            kept.append(seg)
    out = {"keep": keep, "labels": None, "class_names": [], "ignored": ignored, "problems": []}
    if not kept:
        out["problems"].append(f"no image files found (supported extensions: {', '.join(IMAGE_EXTENSIONS)})")
        return out
    rel = kept
    top = kept[0][0]
    if all(len(s) >= 2 and s[0] == top for s in kept):
        rel = [s[1:] for s in kept]  # a dropped folder: strip it
    at_top = sum(1 for s in rel if len(s) == 1)
    in_folders = len(rel) - at_top
    if in_folders == 0:
        return out
    if at_top > 0:
        out["problems"].append(
            f"mixed layout: {at_top} image{'' if at_top == 1 else 's'} at the top level and {in_folders} inside folders; "
            "labels need every image in a class folder (<label>/<image>), so the images are used unlabelled"
        )
        return out
    names = sorted({s[0] for s in rel}, key=_utf16_key)
    if len(names) < 2:
        return out  # one folder is not a class split
    ids = {n: i for i, n in enumerate(names)}
    out["labels"] = [ids[s[0]] for s in rel]  # the FIRST folder level; deeper nesting folds into it
    out["class_names"] = names
    return out


# ---------------------------------------------------------------- the folder


@dataclass
class _Found:
    rel: str
    full: str
    size: int = 0
    skip: Optional[tuple] = None  # (kind, reason) decided while listing


def _walk(root: str, rel: str, out: list) -> None:
    """Everything under root, relative paths joined with '/'. Links are listed and never followed (decode-node.ts ``walk``)."""
    d = os.path.join(root, rel) if rel else root
    try:
        entries = list(os.scandir(d))
    except OSError as e:
        raise DatasetPathError(f"cannot list the folder {d} ({e.strerror or e})") from None
    for e in entries:
        r = f"{rel}/{e.name}" if rel else e.name
        full = os.path.join(root, r)
        st = os.lstat(full)
        if statmod.S_ISLNK(st.st_mode):
            try:
                target = f" to {os.readlink(full)}"
            except OSError:
                target = ""
            reason = f"a symbolic link{target}; links are not followed, so nothing outside the folder is read"
            out.append(_Found(r, full, st.st_size, ("symlink", reason)))
        elif statmod.S_ISDIR(st.st_mode):
            _walk(root, r, out)
        elif statmod.S_ISREG(st.st_mode):
            out.append(_Found(r, full, st.st_size))
        else:
            what = (
                "a named pipe (FIFO)" if statmod.S_ISFIFO(st.st_mode)
                else "a socket" if statmod.S_ISSOCK(st.st_mode)
                else "a device file" if statmod.S_ISBLK(st.st_mode) or statmod.S_ISCHR(st.st_mode)
                else None
            )
            if what:
                out.append(_Found(r, full, st.st_size, ("not-image", f"{what}, not a regular file; not read")))


def _read_no_follow(full: str) -> bytes:
    """The file's bytes, refusing a link swapped in after the listing (O_NOFOLLOW)."""
    fd = os.open(full, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    with os.fdopen(fd, "rb") as f:
        return f.read()


def _extension(path: str) -> str:
    name = path.replace("\\", "/").split("/")[-1]
    dot = name.rfind(".")
    return name[dot + 1 :].lower() if dot > 0 else ""


@dataclass
class ImageFolder:
    """A folder of images (one sub-folder per label, or none) at side ``size``.

    After construction:
      images       torch.uint8 N×3×S×S RGB (the engine's bytes, channels first);
                   ``as_float()`` gives float32 in [0, 1], the engine's scale (byte/255)
      labels       torch.int64 N, class ids, all −1 when unlabelled
      class_names  names indexed by id (empty when unlabelled)
      paths        N relative paths of the loaded images, in path order
      skipped      [{path, kind, reason}] in path order, kinds from SKIP_KINDS
      hidden_count hidden and system files ignored without a message
      notes        layout remarks (mixed layout, one label, lost labels)

    ``channels`` must be 3: the engine's stem conv reads RGB (grey images are
    repeated into three channels). ``fit``: 'crop' (centre square, the
    runner's default) or 'pad' (black bars). Raises DatasetPathError when
    ``root`` is no folder or no image could be loaded (with the report).
    """

    root: str
    size: int
    channels: int = 3
    fit: str = "crop"
    max_pixels: int = DEFAULT_MAX_PIXELS
    images: torch.Tensor = field(init=False)
    labels: torch.Tensor = field(init=False)
    class_names: list = field(init=False)
    paths: list = field(init=False)
    skipped: list = field(init=False)
    hidden_count: int = field(init=False)
    notes: list = field(init=False)
    files: int = field(init=False)

    def __post_init__(self):
        if self.channels != 3:
            raise ValueError(f"channels must be 3 (got {self.channels}): the engine's encoder reads RGB images")
        if not isinstance(self.size, int) or self.size < 1:
            raise ValueError(f"size must be a positive whole number (got {self.size!r})")
        square_box(1, 1, self.fit)  # checks fit
        root = os.fspath(self.root)
        if not os.path.exists(root):
            raise DatasetPathError(f"{root}: no such file or folder")
        if not os.path.isdir(root):
            raise DatasetPathError(f"{root} is not a folder; ImageFolder takes a folder of images (one subfolder per label)")
        found: list = []
        _walk(root, "", found)
        found.sort(key=lambda f: _utf16_key(f.rel))
        self.files = len(found)
        self._load(found)

    def _load(self, found: list) -> None:
        layout = labels_from_paths([f.rel for f in found])
        label_of = {e: (layout["labels"][i] if layout["labels"] is not None else -1) for i, e in enumerate(layout["keep"])}
        skipped = []  # (entry, path, kind, reason)
        candidates = []  # (entry, label)
        hidden = 0
        for i, f in enumerate(found):
            label = label_of.get(i)
            if label is None:
                if is_hidden_path(f.rel):  # silent even when it is a link (load-images.ts ``planSources``)
                    hidden += 1
                elif f.skip:  # a link or pipe listed under its own kind, not as 'not an image'
                    skipped.append((i, f.rel, *f.skip))
                else:
                    ext = _extension(f.rel)
                    reason = f".{ext} is not an image type this app reads" if ext else "no file extension, so not read as an image"
                    skipped.append((i, f.rel, "not-image", reason))
            elif f.skip:
                skipped.append((i, f.rel, *f.skip))
            elif f.size == 0:
                skipped.append((i, f.rel, "empty", "the file has 0 bytes"))
            else:
                candidates.append((i, label))

        first_with_hash: dict = {}
        ok = []  # (entry, label, rgb)
        for entry, label in candidates:
            path = found[entry].rel
            try:
                data = _read_no_follow(found[entry].full)
            except OSError as e:
                skipped.append((entry, path, "corrupt", f"could not be read ({e.strerror or e})"))
                continue
            h = hashlib.sha256(data).hexdigest()
            if h in first_with_hash:
                skipped.append((entry, path, "duplicate", f"same bytes as {first_with_hash[h]}"))
                continue
            first_with_hash[h] = path
            wh = header_size(data)
            if wh:
                over = pixel_limit_reason(wh[0], wh[1], self.max_pixels)
                if over:
                    skipped.append((entry, path, "too-large", over))
                    continue
            res = decode_image(data, self.size, self.fit)
            if res[0]:
                ok.append((entry, label, res[1]))
            else:
                skipped.append((entry, path, res[1], res[2]))

        skipped.sort(key=lambda s: s[0])
        self.skipped = [{"path": p, "kind": k, "reason": r} for _, p, k, r in skipped]
        self.hidden_count = hidden
        notes = [p for p in layout["problems"] if not p.startswith("no image files found")]
        # Labels whose images were all skipped are dropped and ids re-numbered (upload.ts ``finishUpload``).
        names = layout["class_names"]
        labels = [-1] * len(ok)
        class_names: list = []
        if names:
            present = sorted({l for _, l, _ in ok})
            if len(present) >= 2:
                remap = {old: i for i, old in enumerate(present)}
                labels = [remap[l] for _, l, _ in ok]
                class_names = [names[l] for l in present]
                lost = [n for l, n in enumerate(names) if l not in remap]
                if lost:
                    notes.append(
                        f"label{'' if len(lost) == 1 else 's'} {', '.join(lost)} had no loadable image and "
                        f"{'is' if len(lost) == 1 else 'are'} left out"
                    )
            elif len(present) == 1:
                notes.append(
                    f"only one label ({names[present[0]]}) has loadable images: the images train unlabelled and evaluation is off"
                )
        elif ok and not layout["problems"]:
            notes.append("no class folders (<label>/<image>): the images train unlabelled and evaluation is off")
        self.notes = notes
        self.class_names = class_names
        self.paths = [found[e].rel for e, _, _ in ok]
        s = self.size
        arr = np.stack([rgb for _, _, rgb in ok]) if ok else np.zeros((0, s, s, 3), np.uint8)
        self.images = torch.from_numpy(np.ascontiguousarray(arr.transpose(0, 3, 1, 2)))
        self.labels = torch.tensor(labels, dtype=torch.int64)
        if not ok:
            n_img = len(layout["keep"])
            extra = "" if n_img else f" (no file has an image extension: {', '.join(IMAGE_EXTENSIONS)})"
            raise DatasetPathError(f"no decodable image in {self.root}{extra}\n" + "\n".join(self.report()))

    def __len__(self) -> int:
        return int(self.images.shape[0])

    def as_float(self) -> torch.Tensor:
        """float32 N×3×S×S in [0, 1] (byte/255, src/core/trainer/images.ts): what ``model.Encoder`` takes."""
        return self.images.to(torch.float32) / 255

    def images_nhwc(self) -> np.ndarray:
        """uint8 N×S×S×3, the engine's Dataset layout (data/dataset.ts)."""
        return np.ascontiguousarray(self.images.numpy().transpose(0, 2, 3, 1))

    @property
    def labelled(self) -> bool:
        return len(self.class_names) > 0

    def counts_by_kind(self) -> dict:
        out = {k: 0 for k in SKIP_KINDS}
        for s in self.skipped:
            out[s["kind"]] += 1
        return out

    def report(self) -> list:
        """The load as text lines, as upload.ts ``formatReport`` (the Node runner prints these)."""
        n = len(self) if hasattr(self, "images") else 0
        per = (
            [(name, int((self.labels == i).sum())) for i, name in enumerate(self.class_names)]
            if self.labelled
            else [("all images", n)]
        )
        lines = [
            f"{n} image{'' if n == 1 else 's'} loaded from {self.files} file{'' if self.files == 1 else 's'}"
            + (f", {len(per)} labels" if self.labelled else ", unlabelled")
        ]
        lines += [f"  {name}: {count}" for name, count in per]
        if self.skipped:
            lines.append(f"{len(self.skipped)} skipped:")
        for k in SKIP_KINDS:
            of = [s for s in self.skipped if s["kind"] == k]
            if of:
                lines.append(f"  {SKIP_TITLES[k]} ({len(of)}):")
                lines += [f"    {s['path']}: {s['reason']}" for s in of]
        if self.hidden_count:
            lines.append(f"{self.hidden_count} hidden or system file{'' if self.hidden_count == 1 else 's'} ignored")
        lines += [f"note: {x}" for x in self.notes]
        return lines
