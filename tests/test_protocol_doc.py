"""The byte-level examples in docs/protocol.md are what the codec really produces."""

from __future__ import annotations

import re
from pathlib import Path

from vigil.device import protocol as p

DOC = (Path(__file__).resolve().parents[1] / "docs" / "protocol.md").read_text()
EXAMPLES = re.findall(r"frame: type=0x([0-9a-f]{2}) seq=(\d+) payload=([0-9a-f ]*)\nraw: +([0-9a-f ]+)\nwire: +([0-9a-f ]+)", DOC)


def test_doc_has_examples() -> None:
    assert len(EXAMPLES) >= 5


def test_every_doc_example_matches_the_codec() -> None:
    for mtype, seq, payload, raw, wire in EXAMPLES:
        frame = p.Frame(int(mtype, 16), int(seq), bytes.fromhex(payload))
        assert p.pack_raw(frame).hex(" ") == raw.strip(), f"raw bytes of {frame}"
        assert p.encode(frame).hex(" ") == wire.strip(), f"wire bytes of {frame}"
        assert p.decode(bytes.fromhex(wire)[:-1]) == frame
