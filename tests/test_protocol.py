"""The Python frame codec: shared vectors, round trips, and resynchronization after faults."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vigil.device import protocol as p

VECTORS = json.loads((Path(__file__).parent / "vectors" / "protocol.json").read_text())


@pytest.mark.parametrize("case", VECTORS["encode"], ids=lambda c: f"type{c['type']}-seq{c['seq']}")
def test_encode_vectors(case: dict) -> None:
    frame = p.Frame(case["type"], case["seq"], bytes.fromhex(case["payload"]))
    wire = p.encode(frame)
    assert wire.hex() == case["wire"]
    assert p.decode(wire[:-1]) == frame


@pytest.mark.parametrize("case", VECTORS["streams"], ids=lambda c: c["name"])
def test_stream_vectors(case: dict) -> None:
    events = []
    for item in p.StreamDecoder().feed(bytes.fromhex(case["wire"])):
        if isinstance(item, p.Frame):
            events.append({"kind": "frame", "type": item.type, "seq": item.seq, "payload": item.payload.hex()})
        else:
            events.append({"kind": item.kind})
    assert events == case["events"]


def test_stream_vectors_cover_every_fault_class() -> None:
    kinds = {e["kind"] for case in VECTORS["streams"] for e in case["events"]}
    assert kinds == {"frame", "crc", "framing", "oversize", "version"}


@settings(max_examples=300, deadline=None)
@given(
    mtype=st.integers(0, 255),
    seq=st.integers(0, 0xFFFF),
    payload=st.binary(max_size=p.MAX_PAYLOAD),
    split=st.integers(1, 50),
)
def test_round_trip_through_any_chunking(mtype: int, seq: int, payload: bytes, split: int) -> None:
    wire = p.encode(p.Frame(mtype, seq, payload)) * 2
    assert b"\0" not in wire[: wire.index(b"\0")]
    decoder = p.StreamDecoder()
    got = [item for i in range(0, len(wire), split) for item in decoder.feed(wire[i : i + split])]
    assert got == [p.Frame(mtype, seq, payload)] * 2


@settings(max_examples=300, deadline=None)
@given(payload=st.binary(min_size=1, max_size=200), index=st.integers(0, 10_000), bit=st.integers(0, 7))
def test_single_bit_flip_is_never_delivered(payload: bytes, index: int, bit: int) -> None:
    wire = bytearray(p.encode(p.Frame(p.MsgType.ECHO, 7, payload)))
    index %= len(wire)
    wire[index] ^= 1 << bit
    marker = p.encode(p.Frame(p.MsgType.ECHO, 8, b"marker"))
    decoder = p.StreamDecoder()
    items = list(decoder.feed(bytes(wire) + marker))
    frames = [i for i in items if isinstance(i, p.Frame)]
    errors = [i for i in items if isinstance(i, p.ProtocolError)]
    assert all(f.payload == b"marker" for f in frames), "a damaged frame was delivered"
    assert errors, "the damage went unnoticed"
    assert sum(decoder.errors.values()) == len(errors)


def test_oversize_payload_is_refused() -> None:
    with pytest.raises(ValueError, match="exceeds"):
        p.encode(p.Frame(p.MsgType.ECHO, 0, bytes(p.MAX_PAYLOAD + 1)))


def test_hello_round_trip() -> None:
    hello = p.Hello(1, 0xDEADBEEF, "vwrist", "0.1.0", "abc123", 50, 64, 512, 4, 25_000_000,
                    (p.ModelInfo("sleep_cnn", bytes(range(16))),))  # fmt: skip
    assert p.Hello.unpack(hello.pack()) == hello
    assert hello.as_dict()["boot_id"] == "deadbeef"


def test_truncated_hello_names_the_message() -> None:
    with pytest.raises(p.ProtocolError, match="HELLO payload too short"):
        p.Hello.unpack(b"\x01\x00")


def test_stats_unknown_fields_are_kept() -> None:
    values = {name: i for i, (name, _) in enumerate(p.STATS_FIELDS)}
    payload = p.pack_stats(values) + (77).to_bytes(4, "little")
    out = p.unpack_stats(payload)
    assert out["frames_rx"] == 0 and out[p.STATS_FIELDS[-1][0]] == len(p.STATS_FIELDS) - 1
    assert out[f"field_{len(p.STATS_FIELDS)}"] == 77


def test_samples_pack_limits() -> None:
    frame = p.Samples(2, 1000, tuple(range(-5, 5)))
    assert p.Samples.unpack(frame.pack()) == frame
    with pytest.raises(ValueError):
        p.Samples(0, 0, (0,) * (p.Samples.MAX_SAMPLES + 1)).pack()
    with pytest.raises(p.ProtocolError):
        p.Samples.unpack(b"\x00\x00\x00\x00\x00\x00\x01")
