"""clim_torch.weights against the files the TypeScript side writes
(public/models/*.climweights) and against src/core/weights-file.ts's error kinds."""
import glob
import json
import os
import shutil
import struct
import subprocess

import numpy as np
import pytest
import torch

from clim_torch.model import Encoder
from clim_torch.weights import (
    WEIGHTS_MAGIC,
    WeightsFileError,
    checksum_hex,
    decode_weights,
    encode_weights,
    fnv1a,
    js_json,
    payload_start,
    read_weights,
    write_weights,
)

from conftest import REPO_ROOT

SHIPPED = sorted(glob.glob(os.path.join(REPO_ROOT, "public", "models", "*.climweights")))
TINY = dict(width=4, stemStride=1, stages=2, blocksPerStage=1, norm="group", groups=2, projHidden=8, projDim=4)


def test_there_is_a_shipped_file():
    assert SHIPPED, "public/models/ has no .climweights file"


def test_fnv1a_known_values():
    # Published FNV-1a 32 test vectors.
    assert fnv1a(b"") == 0x811C9DC5
    assert fnv1a(b"a") == 0xE40C292C
    assert fnv1a(b"foobar") == 0xBF9CF968
    assert checksum_hex(b"a") == "e40c292c"


def test_payload_start_is_4_aligned():
    assert [payload_start(h) for h in range(4, 9)] == [20, 24, 24, 24, 24]


@pytest.mark.parametrize("path", SHIPPED, ids=os.path.basename)
def test_shipped_file_reads_verifies_loads_and_round_trips_byte_identically(path):
    raw = open(path, "rb").read()
    wf = read_weights(path)
    # The checksum in the header is the FNV-1a of the payload we find at the aligned offset.
    h = struct.unpack_from("<I", raw, 12)[0]
    header = json.loads(raw[16 : 16 + h])
    at = payload_start(h)
    assert checksum_hex(raw[at : at + header["payloadBytes"]]) == header["checksum"]
    assert [n for n, _, _ in wf.params] == [e["name"] for e in header["table"]]

    enc = Encoder(wf.architecture)
    enc.load_weights(wf)  # every name and shape fits the engine's encoder
    assert [n for n, _, _ in wf.params] == enc.engine_names()
    out = enc(torch.rand(2, 3, 24, 24))
    assert torch.isfinite(out).all()

    # js_json spells the header as JSON.stringify did, so re-encoding gives the same bytes.
    assert encode_weights(wf.architecture, wf.info, wf.params) == raw
    # And through the encoder: its engine-layout export is the file's values bit for bit.
    assert encode_weights(wf.architecture, wf.info, enc.to_engine_params()) == raw


def test_python_written_file_round_trips(tmp_path):
    enc = Encoder(TINY, seed=4)
    info = {"savedAt": "2026-01-01T00:00:00.000Z", "steps": 3, "note": "clim_torch test — ünïcode"}
    path = tmp_path / "tiny.climweights"
    data = write_weights(path, TINY, info, enc.to_engine_params())
    assert data[:8] == WEIGHTS_MAGIC and open(path, "rb").read() == data
    wf = read_weights(path)
    assert wf.architecture == TINY and wf.info == info
    again = Encoder(TINY, seed=9)
    again.load_weights(wf)
    for (n1, s1, a1), (n2, s2, a2) in zip(enc.to_engine_params(), again.to_engine_params()):
        assert n1 == n2 and s1 == s2 and np.array_equal(a1, a2)
    assert encode_weights(wf.architecture, wf.info, wf.params) == data


def _tiny_bytes():
    return encode_weights(TINY, {"savedAt": ""}, Encoder(TINY, seed=0).to_engine_params())


def _with_header(data, header):
    """The same payload under a replaced header (lengths and alignment redone)."""
    h = struct.unpack_from("<I", data, 12)[0]
    payload = data[payload_start(h) :]
    js = js_json(header).encode()
    at = payload_start(len(js))
    return data[:12] + struct.pack("<I", len(js)) + js + b"\0" * (at - 16 - len(js)) + payload


def _header(data):
    h = struct.unpack_from("<I", data, 12)[0]
    return json.loads(data[16 : 16 + h])


def test_error_kinds_and_messages():
    good = _tiny_bytes()

    def kind_of(data):
        with pytest.raises(WeightsFileError) as e:
            decode_weights(data)
        assert isinstance(e.value, ValueError)
        return e.value.kind, str(e.value)

    assert kind_of(b"PK\x03\x04 not weights at all")[0] == "not-a-weights-file"
    assert kind_of(good[:10])[0] == "not-a-weights-file"
    assert kind_of(b"CLIMRUN\n" + good[8:]) == (
        "not-a-weights-file",
        "This is not a CLIM Playground weights file (.climweights): it does not start with the weights signature.",
    )
    v2 = bytearray(good)
    struct.pack_into("<I", v2, 8, 2)
    assert kind_of(bytes(v2)) == (
        "version",
        "This weights file has format version 2; this version of the app reads version 1 only.",
    )
    h = struct.unpack_from("<I", good, 12)[0]
    k, msg = kind_of(good[: 16 + h - 1])
    assert k == "truncated" and f"needs {16 + h} bytes" in msg
    k, msg = kind_of(good[:-4])
    assert k == "truncated" and f"{len(good) - 4} bytes of the {len(good)}" in msg

    flipped = bytearray(good)
    flipped[-1] ^= 0x40
    assert kind_of(bytes(flipped)) == (
        "corrupt",
        "The weights file is damaged: its contents do not match the checksum written with them.",
    )
    bad_json = bytearray(good)
    bad_json[16] = ord("[") if bad_json[16] != ord("[") else ord("{")
    bad_json[17] = 0xFF  # not UTF-8 either
    assert kind_of(bytes(bad_json)) == ("corrupt", "The weights file is damaged: its header is not readable.")

    hdr = _header(good)
    del hdr["architecture"]["groups"]
    assert kind_of(_with_header(good, hdr)) == ("corrupt", "The weights file's architecture lacks groups.")
    hdr = _header(good)
    del hdr["checksum"]
    assert "lacks the architecture, the parameter table or the checksum" in kind_of(_with_header(good, hdr))[1]
    hdr = _header(good)
    hdr["table"][1]["offset"] = 2  # not 4-aligned
    assert kind_of(_with_header(good, hdr)) == (
        "corrupt",
        'The weights file is damaged: parameter entry "stem.norm.gamma" is invalid.',
    )
    hdr = _header(good)
    hdr["table"][2]["name"] = hdr["table"][1]["name"]  # a repeated name
    assert kind_of(_with_header(good, hdr))[0] == "corrupt"
    hdr = _header(good)
    hdr["table"][-1]["shape"] = [10_000]  # runs past the payload
    assert kind_of(_with_header(good, hdr))[0] == "corrupt"


def test_missing_info_reads_as_empty_saved_at():
    good = _tiny_bytes()
    hdr = _header(good)
    del hdr["info"]
    assert decode_weights(_with_header(good, hdr)).info == {"savedAt": ""}


JS_VALUES = [0, 1, -1, 0.5, 0.1, 5e-4, 1e-6, 5e-7, 1e-7, 1.5e-10, 123456.789, 2**32 - 1, 1e21, 1.5e20, 1e300, -2.5e-8,
             "a\"b\\c\n\u00e9\u2028", True, False, None, [], {}, {"b": 1, "a": [1, 2.25]}]


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed: cannot compare with JSON.stringify")
def test_js_json_spells_values_as_json_stringify():
    script = "const v = JSON.parse(require('fs').readFileSync(0, 'utf8')); process.stdout.write(JSON.stringify(v.map((x) => JSON.stringify(x))));"
    out = subprocess.run(["node", "-e", script], input=json.dumps(JS_VALUES), capture_output=True, text=True, check=True)
    assert [js_json(v) for v in JS_VALUES] == json.loads(out.stdout)
