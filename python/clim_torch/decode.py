"""One image file's bytes → the engine's pixels, as the Node runner decodes
them (src/cli/decode-node.ts ``NodeDecoder``): PNG/JPEG only, the format
from the header (the signature as the fallback), PIL decoding to RGBA, EXIF
orientation for JPEG (pixels.ts ``orientRgba``), alpha over white (folder.ts
``toRgb``), the square box per ``fit`` (folder.ts ``squareBoxes``) resized
by exact area averaging (pixels.ts ``resizeBoxRgb``: the same integers).
data.py walks the folder and applies the upload rules around it.

Differences from the runner: JPEG is decoded by libjpeg here and by jpeg-js
there, whose IDCT and chroma upsampling can differ by a few levels per
pixel; PNG (decoded losslessly by both) gives identical bytes. 16-bit grey
PNGs are taken to 8 bits by rounding v/257, which may differ from pngjs.
"""
from __future__ import annotations

import io
from typing import Optional

import numpy as np
from PIL import Image, UnidentifiedImageError

#: PIL format names → the display names decode-node.ts uses, and which of them the page (a browser) decodes.
FORMAT_NAMES = {"GIF": "GIF", "WEBP": "WebP", "BMP": "BMP", "DIB": "BMP", "AVIF": "AVIF", "HEIF": "HEIF", "TIFF": "TIFF",
                "ICO": "ICO", "CUR": "CUR", "PSD": "PSD", "JPEG2000": "JPEG 2000", "TGA": "TGA", "DDS": "DDS",
                "ICNS": "ICNS", "PPM": "PNM"}
BROWSER_FORMATS = frozenset({"GIF", "WebP", "BMP", "AVIF", "ICO", "CUR"})


def square_box(w: int, h: int, fit: str) -> tuple:
    """folder.ts ``squareBoxes`` for one image: (x, y, side, side); the extra pixel of an odd difference goes right/bottom."""
    if fit == "crop":
        s = min(w, h)
        return (w - s) // 2, (h - s) // 2, s, s
    if fit == "pad":
        s = max(w, h)
        return -((s - w) // 2), -((s - h) // 2), s, s
    raise ValueError(f"fit must be 'crop' or 'pad' (got {fit!r})")


def orient_rgba(px: np.ndarray, orientation: int) -> np.ndarray:
    """pixels.ts ``orientRgba``: H×W×4 as stored → as meant to be seen, per the EXIF Orientation tag (1-8)."""
    if orientation not in range(2, 9):
        return px
    return {
        2: lambda a: a[:, ::-1],
        3: lambda a: a[::-1, ::-1],
        4: lambda a: a[::-1, :],
        5: lambda a: a.transpose(1, 0, 2),
        6: lambda a: a[::-1, :].transpose(1, 0, 2),  # rotate 90° clockwise
        7: lambda a: a[::-1, ::-1].transpose(1, 0, 2),
        8: lambda a: a[:, ::-1].transpose(1, 0, 2),  # rotate 90° counter-clockwise
    }[orientation](px).copy()


def rgba_over_white(px: np.ndarray) -> np.ndarray:
    """folder.ts ``toRgb`` for RGBA: round((c·a + 255·(255 − a)) / 255), halves up; H×W×4 → H×W×3 uint8."""
    c = px[..., :3].astype(np.int64)
    a = px[..., 3:4].astype(np.int64)
    num = c * a + 255 * (255 - a)
    return ((2 * num + 255) // 510).astype(np.uint8)


def _taps(offset: int, span: int, size: int, limit: int) -> np.ndarray:
    """size×limit integer overlaps (pixels.ts ``taps``): output cell i covers
    [offset·size + i·span, + span) in units of 1/size source pixel; parts outside 0…limit−1 are left out (black)."""
    m = np.zeros((size, limit), dtype=np.float64)
    for i in range(size):
        a = offset * size + i * span
        b = a + span
        first = max(0, a // size)
        last = min(limit - 1, -(-b // size) - 1)
        for s in range(first, last + 1):
            ov = min(b, (s + 1) * size) - max(a, s * size)
            if ov > 0:
                m[i, s] = ov
    return m


def resize_box_rgb(rgb: np.ndarray, box: tuple, size: int) -> np.ndarray:
    """pixels.ts ``resizeBoxRgb``: the source ``box`` (x, y, w, h) of an H×W×3
    image resampled to size×size×3 by area averaging, rounded half up; outside
    the image counts as black. Every product and sum is a whole number below
    2^53, so float64 matrix products are exact and equal the TS integers."""
    h, w, _ = rgb.shape
    bx, by, bw, bh = box
    tx = _taps(bx, bw, size, w)  # size×W
    ty = _taps(by, bh, size, h)  # size×H
    src = rgb.astype(np.float64)
    acc = np.einsum("jy,yxc,ix->jic", ty, src, tx, optimize=True)  # size×size×3 sums
    num = np.rint(acc).astype(np.int64)
    den = bw * bh
    return ((2 * num + den) // (2 * den)).astype(np.uint8)


def pixel_limit_reason(w: int, h: int, max_pixels: int) -> Optional[str]:
    """upload.ts ``pixelLimitReason``: "6000×4000 = 24.0 MP, over the 16.8 MP limit", or None."""
    if w * h <= max_pixels:
        return None
    mp = lambda v: f"{_to_fixed1(v / 1e6)} MP"  # noqa: E731
    return f"{w}×{h} = {mp(w * h)}, over the {mp(max_pixels)} limit"


def _to_fixed1(v: float) -> str:
    """Number.prototype.toFixed(1) (rounds the exact binary value half up, as Python's Decimal does)."""
    from decimal import ROUND_HALF_UP, Decimal

    return str(Decimal(v).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))


def _starts(b: bytes, sig: bytes, at: int = 0) -> bool:
    return b[at : at + len(sig)] == sig


def _detect(data: bytes) -> tuple:
    """('png'|'jpg', None), (None, display name) for another format, or (None, None) for none recognised
    (decode-node.ts ``detect``: the header's type first, the signature as the fallback)."""
    try:
        with Image.open(io.BytesIO(data)) as im:
            fmt = im.format
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError):
        fmt = None
    if fmt == "PNG":
        return "png", None
    if fmt in ("JPEG", "MPO"):  # MPO: a JPEG with extra frames (phone cameras); jpeg-js reads the first
        return "jpg", None
    if fmt:
        return None, FORMAT_NAMES.get(fmt, fmt.upper())
    if _starts(data, b"\x89PNG\r\n\x1a\n"):
        return "png", None
    if _starts(data, b"\xff\xd8\xff"):
        return "jpg", None
    if _starts(data, b"GIF8"):
        return None, "GIF"
    if _starts(data, b"RIFF") and _starts(data, b"WEBP", 8):
        return None, "WebP"
    if _starts(data, b"BM"):
        return None, "BMP"
    if _starts(data, b"ftyp", 4):
        return None, "HEIF/AVIF"
    head = data[:512].lstrip().lower()
    if head.startswith(b"<svg") or (head.startswith(b"<?xml") and b"<svg" in head):
        return None, "SVG"
    return None, None


def header_size(data: bytes) -> Optional[tuple]:
    try:
        with Image.open(io.BytesIO(data)) as im:
            return im.size
    except Exception:  # noqa: BLE001 - any failure means "no header": the decoder words it
        return None


def decode_image(data: bytes, size: int, fit: str = "crop") -> tuple:
    """One file's bytes → (True, size×size×3 uint8 RGB) or (False, kind, reason), as decode-node.ts ``NodeDecoder``."""
    fmt, other = _detect(data)
    if fmt is None and other is None:
        return False, "corrupt", "could not be decoded (not a PNG or JPEG, and no other image format recognised in its first bytes)"
    if other is not None:
        where = "is decoded in the browser only" if other in BROWSER_FORMATS else "is not decoded here"
        return False, "unsupported", f"{other} {where}; the Node runner reads PNG and JPEG"
    try:
        with Image.open(io.BytesIO(data)) as im:
            orientation = im.getexif().get(0x0112, 1) if fmt == "jpg" else 1
            im.load()
            if im.mode in ("I;16", "I;16B", "I;16L", "I"):
                # 16-bit grey: to 8 bits by the high byte's rounding (PIL's convert would clip at 255).
                arr = np.asarray(im, dtype=np.float64)
                im = Image.fromarray(np.clip(np.rint(arr / 257), 0, 255).astype(np.uint8), "L")
            rgba = np.asarray(im.convert("RGBA"), dtype=np.uint8)
    except Exception as e:  # noqa: BLE001 - every decoder failure is a 'corrupt' line, never a crash
        return False, "corrupt", f"could not be decoded ({e})"
    if fmt == "jpg":
        rgba = orient_rgba(rgba, int(orientation) if isinstance(orientation, int) else 1)
    h, w = rgba.shape[:2]
    if w < 1 or h < 1:
        return False, "corrupt", f"decoded to {w}×{h} pixels"
    return True, resize_box_rgb(rgba_over_white(rgba), square_box(w, h, fit), size)
