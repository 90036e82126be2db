"""Random and mutated input for the frame decoders: what the differential fuzz (tests/test_protocol_differential.py)
streams through both decoders and what benchmarks/asan_fuzz.py streams into the firmware under the sanitizers.

Well-formed frames of every type and payload length 0..512, frames whose payload is one or two bytes over the maximum
but whose encoding still fits the buffer, frames of another version or with a wrong length field, the same with a bit
flipped, a byte dropped, inserted or duplicated, a cut, delimiters doubled or lost, and runs of noise."""

from __future__ import annotations

import random
import struct
import zlib

from vigil.device import protocol as p


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
