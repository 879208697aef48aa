"""The `.climweights` file (issue 15/18): one trained encoder's parameters
under the engine's names, byte-compatible with src/core/weights-file.ts.

Layout (little-endian), version 1 (the container of src/core/checkpoint.ts,
``packContainer``):

    0   8 bytes  MAGIC b"CLIMWTS\\n"
    8   u32      format version (WEIGHTS_VERSION)
    12  u32      header length H (bytes of UTF-8 JSON)
    16  H bytes  header JSON: {architecture, info, table, payloadBytes, checksum}
    ...          0-3 zero bytes so the payload starts 4-aligned (``payload_start``)
    ...          payload: each parameter's float32 values, row-major, in table order

Shapes are the engine's (tfjs) layouts: conv kernels kh×kw×in×out, dense
weights in×out. ``checksum`` is FNV-1a 32 of the payload as 8 hex digits.
The file holds one encoder, the query encoder f_q (docs/METHOD.md §1.2).

Plain data only (numpy, no torch): model.py converts to and from torch.
"""
from __future__ import annotations

import json
import math
import os
import struct
from dataclasses import dataclass, field
from typing import Any, Iterable, Sequence, Union

import numpy as np

WEIGHTS_MAGIC = b"CLIMWTS\n"
#: Readers refuse other versions by name (src/core/weights-file.ts WEIGHTS_VERSION).
WEIGHTS_VERSION = 1
WEIGHTS_FILE_EXTENSION = ".climweights"

#: The config fields that decide every parameter's name and shape, in the engine's order.
ARCHITECTURE_FIELDS = (
    "width",
    "stemStride",
    "stages",
    "blocksPerStage",
    "norm",
    "groups",
    "projHidden",
    "projDim",
)

ParamRecord = tuple  # (name: str, shape: list[int], data: np.ndarray float32)


class WeightsFileError(ValueError):
    """A weights file that cannot be used. ``kind`` is one of the engine's
    WeightsFileError kinds: 'not-a-weights-file', 'truncated', 'corrupt',
    'version', 'mismatch'."""

    KINDS = ("not-a-weights-file", "truncated", "corrupt", "version", "mismatch")

    def __init__(self, kind: str, message: str):
        if kind not in self.KINDS:
            raise ValueError(f"unknown WeightsFileError kind {kind!r}")
        super().__init__(message)
        self.kind = kind


@dataclass
class WeightsFile:
    """What a `.climweights` file holds: ``params`` are (name, shape, float32
    array of that shape) in table order (the engine's creation order)."""

    architecture: dict
    info: dict
    params: list = field(default_factory=list)

    def by_name(self) -> dict:
        return {name: data for name, _, data in self.params}


def fnv1a(data: bytes, seed: int = 0x811C9DC5) -> int:
    """FNV-1a 32 over bytes (checkpoint.ts ``fnv1a``): a guard against
    truncation and bit rot, not an adversary.

    Vectorised in 64 KiB blocks would change nothing (the hash is strictly
    sequential), so this is a plain loop over a memoryview; ~0.1 s per MB.
    """
    h = seed & 0xFFFFFFFF
    for b in memoryview(data):
        h = ((h ^ b) * 0x01000193) & 0xFFFFFFFF
    return h


def checksum_hex(payload: bytes) -> str:
    """FNV-1a of a payload as the header records it (8 lowercase hex digits)."""
    return f"{fnv1a(payload):08x}"


def payload_start(header_length: int) -> int:
    """Where the payload starts after a header of ``header_length`` bytes: 4-aligned."""
    start = 16 + header_length
    return start + (4 - start % 4) % 4


def _js_number(v: float) -> str:
    """A float as JavaScript's JSON.stringify writes it (shortest round trip;
    integers without '.0'; exponent from 1e21 and below 1e-6)."""
    if not math.isfinite(v):
        return "null"  # JSON.stringify(NaN) === 'null'
    if v == 0:
        return "0"
    if v == int(v) and abs(v) < 1e21:
        return str(int(v))
    r = repr(v)  # Python's repr is also the shortest round-trip digits
    if "e" not in r:
        return r
    # Python writes 1e-07 / 1.5e+22, JavaScript 1e-7 / 1.5e+22: re-spell the exponent.
    mant, exp = r.split("e")
    e = int(exp)
    if -7 < e < 21:  # JavaScript spells these positionally
        from decimal import Decimal

        return format(Decimal(r), "f")
    return f"{mant}e{'+' if e > 0 else '-'}{abs(e)}"


def js_json(value: Any) -> str:
    """``JSON.stringify(value)`` for plain JSON data: no spaces, keys in
    insertion order, non-ASCII kept as UTF-8 (not \\u escapes), and numbers
    spelt as JavaScript spells them, so a header written here is byte-identical
    to the one src/core/checkpoint.ts ``packContainer`` writes for the same data."""
    if value is None or value is True or value is False:
        return json.dumps(value)
    if isinstance(value, (bool, np.bool_)):
        return "true" if value else "false"
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        return _js_number(float(value))
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, dict):
        return "{" + ",".join(f"{json.dumps(str(k), ensure_ascii=False)}:{js_json(v)}" for k, v in value.items()) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ",".join(js_json(v) for v in value) + "]"
    raise TypeError(f"js_json: cannot write {type(value).__name__}")


def _elements(shape: Sequence[int]) -> int:
    n = 1
    for d in shape:
        n *= int(d)
    return n


def _is_int(v: Any, lo: int) -> bool:
    # JSON numbers arrive as int, or as float for e.g. 4.0; bool is an int subclass in Python and is not a number in JS.
    if isinstance(v, bool):
        return False
    if isinstance(v, int):
        return v >= lo
    return isinstance(v, float) and v.is_integer() and v >= lo


def architecture_of(config: dict) -> dict:
    """The architecture fields of a config (or of a header's architecture), in ARCHITECTURE_FIELDS order."""
    return {k: config.get(k) for k in ARCHITECTURE_FIELDS}


def encode_weights(architecture: dict, info: dict, params: Iterable[ParamRecord]) -> bytes:
    """The file's bytes (weights-file.ts ``encodeWeights``). ``params``:
    (name, shape, array) with the engine's layouts; arrays are cast to
    little-endian float32 and must hold exactly prod(shape) values."""
    table = []
    chunks = []
    offset = 0
    for name, shape, data in params:
        arr = np.ascontiguousarray(np.asarray(data, dtype="<f4")).reshape(-1)
        shape = [int(d) for d in shape]
        if arr.size != _elements(shape):
            raise ValueError(f"weights {name}: {arr.size} values for shape [{','.join(map(str, shape))}]")
        table.append({"name": name, "shape": shape, "offset": offset})
        chunks.append(arr.tobytes())
        offset += arr.size * 4
    payload = b"".join(chunks)
    header = {
        "architecture": architecture_of(architecture),
        "info": info,
        "table": table,
        "payloadBytes": len(payload),
        "checksum": checksum_hex(payload),
    }
    js = js_json(header).encode("utf-8")
    at = payload_start(len(js))
    out = bytearray(at + len(payload))
    out[0:8] = WEIGHTS_MAGIC
    struct.pack_into("<II", out, 8, WEIGHTS_VERSION, len(js))
    out[16 : 16 + len(js)] = js
    out[at:] = payload
    return bytes(out)


def write_weights(path: Union[str, os.PathLike], architecture: dict, info: dict, params: Iterable[ParamRecord]) -> bytes:
    """Writes ``encode_weights(...)`` to ``path`` and returns the bytes."""
    data = encode_weights(architecture, info, params)
    with open(path, "wb") as f:
        f.write(data)
    return data


def decode_weights(data: bytes) -> WeightsFile:
    """Parses and checks a weights file (weights-file.ts ``decodeWeights``):
    signature, version, header, table, length and checksum, and that the
    architecture names every field. Whether the parameters fit a model is
    ``model.Encoder.load_weights``'s job. Messages are the engine's."""
    data = bytes(data)
    if len(data) < 16 or data[:8] != WEIGHTS_MAGIC:
        raise WeightsFileError(
            "not-a-weights-file",
            f"This is not a CLIM Playground weights file ({WEIGHTS_FILE_EXTENSION}): it does not start with the weights signature.",
        )
    version, h = struct.unpack_from("<II", data, 8)
    if version != WEIGHTS_VERSION:
        raise WeightsFileError(
            "version",
            f"This weights file has format version {version}; this version of the app reads version {WEIGHTS_VERSION} only.",
        )
    if 16 + h > len(data):
        raise WeightsFileError(
            "truncated",
            f"The weights file is truncated: its header alone needs {16 + h} bytes and the file has {len(data)}.",
        )
    try:
        header = json.loads(data[16 : 16 + h].decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise WeightsFileError("corrupt", "The weights file is damaged: its header is not readable.") from None
    if (
        not isinstance(header, dict)
        or not isinstance(header.get("architecture"), dict)
        or not isinstance(header.get("table"), list)
        or not _is_int(header.get("payloadBytes"), 0)
        or not isinstance(header.get("checksum"), str)
    ):
        raise WeightsFileError(
            "corrupt",
            "The weights file is damaged: its header lacks the architecture, the parameter table or the checksum.",
        )
    missing = [k for k in ARCHITECTURE_FIELDS if k not in header["architecture"]]
    if missing:
        raise WeightsFileError("corrupt", f"The weights file's architecture lacks {', '.join(missing)}.")
    at = payload_start(h)
    n_payload = int(header["payloadBytes"])
    if len(data) - at < n_payload:
        raise WeightsFileError(
            "truncated",
            f"The weights file is truncated: {len(data)} bytes of the {at + n_payload} it was written with.",
        )
    payload = data[at : at + n_payload]
    if checksum_hex(payload) != header["checksum"]:
        raise WeightsFileError(
            "corrupt", "The weights file is damaged: its contents do not match the checksum written with them."
        )
    names = set()
    params = []
    for e in header["table"]:
        ok = (
            isinstance(e, dict)
            and isinstance(e.get("name"), str)
            and isinstance(e.get("shape"), list)
            and all(_is_int(d, 1) for d in e["shape"])
            and _is_int(e.get("offset"), 0)
            and int(e["offset"]) % 4 == 0
        )
        if not ok or e["name"] in names or int(e["offset"]) + _elements(e["shape"]) * 4 > len(payload):
            what = e.get("name", e) if isinstance(e, dict) else e
            raise WeightsFileError(
                "corrupt", f"The weights file is damaged: parameter entry {js_json(what)} is invalid."
            )
        names.add(e["name"])
        shape = [int(d) for d in e["shape"]]
        off = int(e["offset"])
        # A copy in native float32: the records outlive the file's bytes.
        arr = np.frombuffer(payload, dtype="<f4", count=_elements(shape), offset=off).astype(np.float32).reshape(shape)
        params.append((e["name"], shape, arr))
    info = header.get("info")
    return WeightsFile(
        architecture=architecture_of(header["architecture"]),
        info=info if info is not None else {"savedAt": ""},
        params=params,
    )


def read_weights(source: Union[str, os.PathLike, bytes, bytearray, memoryview]) -> WeightsFile:
    """A weights file from a path or from its bytes (see ``decode_weights``)."""
    if isinstance(source, (bytes, bytearray, memoryview)):
        return decode_weights(bytes(source))
    with open(source, "rb") as f:
        return decode_weights(f.read())


def weights_mismatch(file: WeightsFile, architecture: dict, want: Sequence[tuple]) -> Union[str, None]:
    """Why ``file`` cannot load into an encoder of ``architecture`` whose
    parameters are ``want`` ((name, shape) pairs in engine order), or None
    when it can (weights-file.ts ``weightsMismatch``, same words): the first
    architecture field that differs, else the first missing, extra or
    reshaped parameter, else the first non-finite value."""
    diff = [k for k in ARCHITECTURE_FIELDS if file.architecture.get(k) != architecture.get(k)]
    if diff:
        parts = ", ".join(f"{k} {_js_str(file.architecture.get(k))} (this run: {_js_str(architecture.get(k))})" for k in diff)
        return (
            f"The weights are for another encoder: {parts}. Set these fields to the file's values, "
            "or pick weights trained with this run's encoder."
        )
    return params_mismatch(file.params, want)


def params_mismatch(params: Sequence[tuple], want: Sequence[tuple]) -> Union[str, None]:
    """The parameter part of ``weights_mismatch``: ``params`` (name, shape,
    data) against ``want`` (name, shape)."""
    have = {p[0]: p for p in params}
    want_names = set()
    for name, shape in want:
        want_names.add(name)
        p = have.get(name)
        if p is None:
            return f'The weights file has no parameter "{name}".'
        if list(p[1]) != list(shape):
            return (
                f'Parameter "{name}" is [{"×".join(map(str, p[1]))}] in the file, '
                f'the encoder needs [{"×".join(map(str, shape))}].'
            )
    extra = [p[0] for p in params if p[0] not in want_names]
    if extra:
        more = f" and {len(extra) - 3} more" if len(extra) > 3 else ""
        quoted = ", ".join('"' + n + '"' for n in extra[:3])
        return f"The weights file has parameters this encoder does not: {quoted}{more}."
    for name, _, data in params:
        flat = np.asarray(data, dtype=np.float32).reshape(-1)
        bad = np.flatnonzero(~np.isfinite(flat))
        if bad.size:
            i = int(bad[0])
            return f'Parameter "{name}" holds a non-finite value ({_js_str(float(flat[i]))}) at position {i}.'
    return None


def _js_str(v: Any) -> str:
    """String(v) as JavaScript writes it, for messages."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if v is None:
        return "undefined"
    if isinstance(v, float):
        if math.isnan(v):
            return "NaN"
        if math.isinf(v):
            return "Infinity" if v > 0 else "-Infinity"
        return _js_number(v)
    return str(v)
