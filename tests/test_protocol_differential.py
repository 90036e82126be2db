"""The firmware's frame decoder and the Python one agree on every input (issue 15): 1,000,000 random and mutated
inputs, one stream, through both (the C decoder by the ctest program's `frame_stream` harness), event for event:
every frame delivered (type, sequence, length, payload CRC) and every error under the same kind, so their counters
agree too. The inputs: well-formed frames of every type and payload length 0..512, frames whose payload is one or two
bytes over the maximum but whose encoding still fits the buffer, frames of another version or with a wrong length
field, the same with a bit flipped, a byte dropped, inserted or duplicated, a cut, delimiters doubled or lost, and
runs of noise."""

from __future__ import annotations

import random
import struct
import subprocess
import zlib
from pathlib import Path

import numpy as np

from vigil.device import protocol as p

INPUTS = 1_000_000
KINDS = {"frame": 1, "crc": 2, "framing": 3, "oversize": 4, "version": 5}  # firmware frame_event_t


def raw_frame(rng: random.Random) -> bytes:
    """A frame body + CRC, mostly well formed; sometimes too long, another version or a wrong length field."""
    roll = rng.random()
    size = rng.choice([0, 1, 2, 31, 32, 33, 253, 254, 255, 511, 512]) if roll < 0.05 else int(rng.expovariate(1 / 24))
    size = min(size, p.MAX_PAYLOAD)
    if 0.05 <= roll < 0.06:
        size = p.MAX_PAYLOAD + rng.choice([1, 2])  # over the maximum, encoding under the buffer when zeros are inside
    payload = bytes(rng.getrandbits(8) if rng.random() < 0.7 else 0 for _ in range(size))
    version = p.PROTOCOL_VERSION if rng.random() < 0.98 else rng.randrange(256)
    length = len(payload) if rng.random() < 0.98 else rng.randrange(0x10000)
    body = struct.pack("<BBHH", version, rng.randrange(256), rng.randrange(0x10000), length) + payload
    return body + struct.pack("<I", zlib.crc32(body))


def mutate(wire: bytes, rng: random.Random) -> bytes:
    kind = rng.randrange(8)
    i = rng.randrange(len(wire))
    if kind == 0:
        return wire[:i] + bytes([wire[i] ^ (1 << rng.randrange(8))]) + wire[i + 1 :]
    if kind == 1:
        return wire[:i] + wire[i + 1 :]
    if kind == 2:
        return wire[:i] + bytes([rng.randrange(256)]) + wire[i:]
    if kind == 3:
        return wire[:i] + wire[i : i + 1] * 2 + wire[i + 1 :]
    if kind == 4:
        return wire[:i] + b"\0"
    if kind == 5:
        return b"\0" + wire
    if kind == 6:
        return wire[:-1]  # the delimiter lost: merges with the next input
    return bytes(rng.getrandbits(8) for _ in range(rng.randrange(1, 64))) + (b"\0" if rng.random() < 0.5 else b"")


def stream(n: int, seed: int) -> bytes:
    rng = random.Random(seed)
    parts = []
    for _ in range(n):
        wire = p.cobs.encode(raw_frame(rng)) + b"\0"
        parts.append(mutate(wire, rng) if rng.random() < 0.5 else wire)
    parts.append(b"\0")  # ends whatever the last mutation left open
    return b"".join(parts)


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
