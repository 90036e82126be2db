"""The firmware's frame decoder and the Python one agree on every input (issue 15): 1,000,000 random and mutated
inputs, one stream, through both (the C decoder by the ctest program's `frame_stream` harness), event for event:
every frame delivered (type, sequence, length, payload CRC) and every error under the same kind, so their counters
agree too. The inputs: well-formed frames of every type and payload length 0..512, frames whose payload is one or two
bytes over the maximum but whose encoding still fits the buffer, frames of another version or with a wrong length
field, the same with a bit flipped, a byte dropped, inserted or duplicated, a cut, delimiters doubled or lost, and
runs of noise."""

from __future__ import annotations

import subprocess
import zlib
from pathlib import Path

import numpy as np

from vigil.device import protocol as p
from vigil.device.frame_fuzz import stream

INPUTS = 1_000_000
KINDS = {"frame": 1, "crc": 2, "framing": 3, "oversize": 4, "version": 5}  # firmware frame_event_t


def python_events(data: bytes) -> np.ndarray:
    rows = []
    for item in p.StreamDecoder().feed(data):
        if isinstance(item, p.Frame):
            rows.append((1, item.type, item.seq, len(item.payload), zlib.crc32(item.payload)))
        else:
            rows.append((KINDS[item.kind], 0, 0, 0, 0))
    return np.array(rows, dtype=np.int64).reshape(-1, 5)


def c_events(program: Path, data: bytes) -> np.ndarray:
    out = subprocess.run([str(program), "harness", "frame_stream"], input=data, capture_output=True, check=True,
                         timeout=300).stdout  # fmt: skip
    rec = np.frombuffer(out, dtype=np.dtype([("kind", "u1"), ("type", "u1"), ("seq", "<u2"), ("len", "<u2"),
                                              ("crc", "<u4")]))  # fmt: skip
    return np.stack([rec[k].astype(np.int64) for k in ("kind", "type", "seq", "len", "crc")], axis=1)


def test_a_million_inputs_decode_the_same_in_c_and_python(ctest_program: Path) -> None:
    data = stream(INPUTS, seed=15)
    py, c = python_events(data), c_events(ctest_program, data)
    if not np.array_equal(py, c):
        first = next(i for i in range(min(len(py), len(c))) if not np.array_equal(py[i], c[i])) \
            if len(py) and len(c) else 0  # fmt: skip
        raise AssertionError(f"first disagreement at event {first}: python {py[first:first + 3].tolist()}, "
                             f"C {c[first:first + 3].tolist()} ({len(py)} vs {len(c)} events)")
    kinds = {name: int((py[:, 0] == code).sum()) for name, code in KINDS.items()}
    assert all(v > 1000 for v in kinds.values()), kinds  # every outcome exercised, many times
    over = int(((py[:, 0] == 1) & (py[:, 3] > p.MAX_PAYLOAD)).sum())
    assert over == 0, "a payload over the maximum was delivered"
