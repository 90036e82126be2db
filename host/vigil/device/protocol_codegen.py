"""Generates the protocol's C header and the codec test vectors from ``vigil.device.protocol``.

    python -m vigil.device.protocol_codegen          # rewrite the generated files
    python -m vigil.device.protocol_codegen --check  # exit 1 if a committed file differs

Outputs (all committed, all checked by ``tests/test_generated.py``):
- ``firmware/core/protocol/vigil_protocol.h``: constants, message types, STATS field order.
- ``tests/vectors/protocol.json``: encode vectors and byte streams with their expected decoder events.
- ``firmware/tests/protocol_vectors.h``: the same vectors for the C tests.
"""

from __future__ import annotations

import json
import random
import struct
import sys
from pathlib import Path

from vigil.codegen import BANNER, repo_root, write_or_check
from vigil.device import protocol as p

def protocol_header() -> str:
    lines = [BANNER.format(module=__spec__.name if __spec__ else __name__, source="host/vigil/device/protocol.py")]
    lines += ["#ifndef VIGIL_PROTOCOL_H", "#define VIGIL_PROTOCOL_H", ""]
    consts = {
        "PROTOCOL_VERSION": p.PROTOCOL_VERSION,
        "FRAME_HEADER_SIZE": p.HEADER_SIZE,
        "FRAME_CRC_SIZE": p.CRC_SIZE,
        "FRAME_MAX_PAYLOAD": p.MAX_PAYLOAD,
        "FRAME_MAX_RAW": p.MAX_RAW,
        "FRAME_MAX_ENCODED": p.MAX_ENCODED,
        "SAMPLE_SLOTS": p.SAMPLE_SLOTS,
        "SAMPLE_CHANNELS": p.SAMPLE_CHANNELS,
        "SAMPLE_HEADER_SIZE": p.Samples.HEADER.size,
        "ACCEL_RATE_HZ": p.ACCEL_RATE_HZ,
        "PPG_RATE_HZ": p.PPG_RATE_HZ,
        "STRING_MAX": p.STRING_MAX,
        "MODEL_HASH_SIZE": p.MODEL_HASH_SIZE,
        "MODELS_MAX": p.MODELS_MAX,
        "PING_MAX": p.PING_MAX,
        "TRACE_PPG_MAX": p.TRACE_PPG_MAX,
        "CONFIG_FLAG_TRACE": p.CONFIG_FLAG_TRACE,
        "CONFIG_FLAG_LIVE": p.CONFIG_FLAG_LIVE,
        "CONFIG_FLAG_RAW_TAP": p.CONFIG_FLAG_RAW_TAP,
        "CONFIG_FLAG_SENSORS": p.CONFIG_FLAG_SENSORS,
        "CONFIG_FLAGS_ALL": p.CONFIG_FLAGS_ALL,
        "CONFIG_SIZE": p.CONFIG_SIZE,
        "CONFIG_LIVE_SIZE": p.CONFIG_LIVE_SIZE,
        "LIVE_SPEED_MAX": p.LIVE_SPEED_MAX,
        "RAW_FLAG_HELD": p.RAW_FLAG_HELD,
        "NN_CHUNK": p.NN_CHUNK,
        "NN_OP_COST_MAX": p.NN_OP_COST_MAX,
        "SLEEP_CLASSES": p.SLEEP_CLASS_COUNT,
        "SLEEP_CLASS_UNKNOWN": p.SLEEP_CLASS_UNKNOWN,
        "SLEEP_SIZE": p.SLEEP_FORMAT.size,
        "STRESS_SIZE": p.STRESS_FORMAT.size,
        "HRV_SIZE": p.HRV_FORMAT.size,
        "EPOCH_FEATURES_SIZE": p.EpochFeatures.FORMAT.size,
        "COST_ENTRY_SIZE": p.COST_ENTRY_FORMAT.size,
        "CONFIG_OK": p.CONFIG_OK,
        "CONFIG_UNSUPPORTED_RATE": p.CONFIG_UNSUPPORTED_RATE,
        "CONFIG_BAD_LIVE": p.CONFIG_BAD_LIVE,
        "CONFIG_NO_SENSORS": p.CONFIG_NO_SENSORS,
    }
    lines += [f"#define VIGIL_{name} {value}u" for name, value in consts.items()]
    lines += ["", "typedef enum vigil_msg_type {"]
    lines += [f"    VIGIL_MSG_{m.name} = 0x{m.value:02X}," for m in p.MsgType]
    lines += ["} vigil_msg_type_t;", "", "typedef enum vigil_error_code {"]
    lines += [f"    VIGIL_ERR_{e.name} = {e.value}," for e in p.ErrorCode]
    lines += ["} vigil_error_code_t;", "", "typedef enum vigil_channel {"]
    lines += [f"    VIGIL_CHANNEL_{c.name} = {c.value}," for c in p.Channel]
    lines += ["} vigil_channel_t;", "", "typedef enum vigil_stage {"]
    lines += [f"    VIGIL_STAGE_{st.name} = {st.value}," for st in p.Stage]
    lines += [f"    VIGIL_STAGE_COUNT = {len(p.Stage)},", "} vigil_stage_t;", "", "typedef enum vigil_nn_status {"]
    lines += [f"    VIGIL_NN_{st.name} = {st.value}," for st in p.NnStatus]
    lines += ["} vigil_nn_status_t;", "", "/* STATS payload: one u32 per field, in this order. */", "typedef enum vigil_stat {"]
    lines += [f"    VIGIL_STAT_{name.upper()}, /* {doc} */" for name, doc in p.STATS_FIELDS]
    lines += ["    VIGIL_STAT_COUNT", "} vigil_stat_t;", ""]
    lines += ["/* Payload lengths of the host-to-device types with a fixed shape (protocol.PAYLOAD_BOUNDS); other types: any. */",
              "static inline int vigil_payload_len_ok(unsigned type, unsigned len)", "{", "    switch (type) {"]
    for mtype, (low, high) in p.PAYLOAD_BOUNDS.items():
        test = f"len == {low}u" if low == high else (f"len <= {high}u" if low == 0 else f"len >= {low}u && len <= {high}u")
        if mtype in p.PAYLOAD_LENGTHS:
            test = " || ".join(f"len == {n}u" for n in p.PAYLOAD_LENGTHS[mtype])
        lines += [f"    case VIGIL_MSG_{mtype.name}:", f"        return {test};"]
    lines += ["    default:", "        return 1;", "    }", "}", "", "#endif /* VIGIL_PROTOCOL_H */", ""]
    return "\n".join(lines)


# ---------------------------------------------------------------- test vectors

DECODE_KINDS = ("frame", "crc", "framing", "oversize", "version")


def _encode_cases() -> list[p.Frame]:
    rng = random.Random(20261122)
    cases = [
        p.Frame(p.MsgType.HELLO_REQ, 0),
        p.Frame(p.MsgType.PING, 1, bytes([0x11, 0x22, 0x33, 0x44])),
        p.Frame(p.MsgType.ECHO, 0xFFFF, bytes(8)),  # zeros everywhere: COBS's worst case for short blocks
        p.Frame(p.MsgType.ECHO, 2, bytes(range(1, 255))),  # one block of exactly 254 non-zero bytes
        p.Frame(p.MsgType.ECHO, 3, bytes([0xFF] * 300)),  # a block boundary inside the payload
        p.Frame(p.MsgType.SAMPLES, 4, p.Samples(0, 0, tuple(range(-8, 8))).pack()),
        p.Frame(p.MsgType.CREDIT, 5, p.Credit(7, p.SAMPLE_SLOTS).pack()),
        p.Frame(p.MsgType.ECHO, 6, rng.randbytes(p.MAX_PAYLOAD)),
    ]
    cases += [p.Frame(p.MsgType.ECHO, 100 + i, rng.randbytes(rng.randrange(0, 64))) for i in range(8)]
    return cases


def _stream_cases() -> list[tuple[str, bytes]]:
    """Byte streams with faults: each one must decode to exactly the events the Python decoder gives."""
    rng = random.Random(4)
    good = [p.encode(p.Frame(p.MsgType.ECHO, i, rng.randbytes(20))) for i in range(4)]
    long = p.encode(p.Frame(p.MsgType.ECHO, 9, bytes([0x55] * p.MAX_PAYLOAD)))

    def flip(data: bytes, index: int, bit: int) -> bytes:
        out = bytearray(data)
        out[index] ^= 1 << bit
        return bytes(out)

    bad_version = p.cobs.encode(p.pack_raw(p.Frame(p.MsgType.ECHO, 1, b"v", version=2))) + b"\0"
    raw = p.pack_raw(p.Frame(p.MsgType.ECHO, 1, b"abc"))
    wrong_len = p.cobs.encode(raw[:4] + bytes([9, 0]) + raw[6:]) + b"\0"

    def over_max(extra: int) -> bytes:  # a well-formed frame whose payload is too long, its encoding still short
        body = struct.pack("<BBHH", p.PROTOCOL_VERSION, p.MsgType.ECHO, 7, p.MAX_PAYLOAD + extra)
        body += bytes(i % 200 for i in range(p.MAX_PAYLOAD + extra))  # a zero every 200 bytes: no COBS overhead
        return p.cobs.encode(body + struct.pack("<I", p.crc32(body))) + b"\0"

    return [
        ("clean", b"".join(good)),
        ("idle delimiters", b"\0\0" + good[0] + b"\0\0\0" + good[1]),
        ("flipped bit in payload", flip(good[0], 10, 3) + good[1]),
        ("flipped bit in CRC", flip(good[0], len(good[0]) - 2, 0) + good[1]),
        ("flipped bit in COBS code byte", flip(good[0], 0, 4) + good[1]),
        ("dropped byte", good[0][:7] + good[0][8:] + good[1]),
        ("dropped delimiter", good[0][:-1] + good[1] + good[2]),
        ("truncated frame", good[0][:12] + b"\0" + good[1]),
        ("garbage between frames", good[0] + bytes([0x13, 0x37, 0xC0, 0xDE]) + b"\0" + good[1]),
        ("garbage without delimiter", good[0] + bytes([0x02, 0x41]) + good[1] + good[2]),
        ("too short", bytes([0x03, 0x01, 0x01]) + b"\0" + good[3]),
        ("length field wrong", wrong_len + good[3]),
        ("other protocol version", bad_version + good[3]),
        ("oversize run", bytes([0x42] * (p.MAX_ENCODED + 40)) + b"\0" + good[2]),
        ("max payload", long + good[3]),
        ("payload one over the max", over_max(1) + good[3]),
        ("payload two over the max", over_max(2) + good[3]),
        ("random noise", rng.randbytes(200) + b"\0" + good[0]),
    ]


def _events(stream: bytes) -> list[dict]:
    events = []
    for item in p.StreamDecoder().feed(stream):
        if isinstance(item, p.Frame):
            events.append({"kind": "frame", "type": item.type, "seq": item.seq, "payload": item.payload.hex()})
        else:
            events.append({"kind": item.kind})
    return events


def vectors() -> dict:
    return {
        "generator": "python -m vigil.device.protocol_codegen",
        "protocol_version": p.PROTOCOL_VERSION,
        "encode": [
            {"type": f.type, "seq": f.seq, "payload": f.payload.hex(), "wire": p.encode(f).hex()} for f in _encode_cases()
        ],
        "streams": [{"name": name, "wire": data.hex(), "events": _events(data)} for name, data in _stream_cases()],
    }


def _c_bytes(name: str, data: bytes) -> str:
    body = ", ".join(f"0x{b:02X}" for b in data) or "0"
    return f"static const uint8_t {name}[] = {{{body}}};"


def vectors_header(vec: dict) -> str:
    out = [BANNER.format(module=__spec__.name if __spec__ else __name__, source="tests/vectors/protocol.json")]
    out += [
        "#ifndef VIGIL_PROTOCOL_VECTORS_H",
        "#define VIGIL_PROTOCOL_VECTORS_H",
        "#include <stddef.h>",
        "#include <stdint.h>",
        "",
        "typedef enum { VEC_FRAME, VEC_CRC, VEC_FRAMING, VEC_OVERSIZE, VEC_VERSION } vec_kind_t;",
        "typedef struct { uint8_t type; uint16_t seq; const uint8_t *payload; size_t payload_len;"
        " const uint8_t *wire; size_t wire_len; } vec_encode_t;",
        "typedef struct { vec_kind_t kind; uint8_t type; uint16_t seq; const uint8_t *payload; size_t payload_len; } vec_event_t;",
        "typedef struct { const char *name; const uint8_t *wire; size_t wire_len;"
        " const vec_event_t *events; size_t n_events; } vec_stream_t;",
        "",
    ]
    for i, case in enumerate(vec["encode"]):
        out.append(_c_bytes(f"enc{i}_payload", bytes.fromhex(case["payload"])))
        out.append(_c_bytes(f"enc{i}_wire", bytes.fromhex(case["wire"])))
    out.append("static const vec_encode_t ENCODE_VECTORS[] = {")
    for i, case in enumerate(vec["encode"]):
        n_payload = len(case["payload"]) // 2
        n_wire = len(case["wire"]) // 2
        out.append(f"    {{{case['type']}, {case['seq']}, enc{i}_payload, {n_payload}, enc{i}_wire, {n_wire}}},")
    out += ["};", f"#define N_ENCODE_VECTORS {len(vec['encode'])}u", ""]
    for i, stream in enumerate(vec["streams"]):
        out.append(_c_bytes(f"stream{i}_wire", bytes.fromhex(stream["wire"])))
        events = []
        for j, ev in enumerate(stream["events"]):
            kind = "VEC_" + ev["kind"].upper()
            if ev["kind"] == "frame":
                out.append(_c_bytes(f"stream{i}_ev{j}_payload", bytes.fromhex(ev["payload"])))
                events.append(
                    f"{{{kind}, {ev['type']}, {ev['seq']}, stream{i}_ev{j}_payload, {len(ev['payload']) // 2}}}"
                )
            else:
                events.append(f"{{{kind}, 0, 0, NULL, 0}}")
        out.append(f"static const vec_event_t stream{i}_events[] = {{{', '.join(events) or '{VEC_FRAME, 0, 0, NULL, 0}'}}};")
    out.append("static const vec_stream_t STREAM_VECTORS[] = {")
    for i, stream in enumerate(vec["streams"]):
        out.append(
            f"    {{\"{stream['name']}\", stream{i}_wire, {len(stream['wire']) // 2}, stream{i}_events,"
            f" {len(stream['events'])}}},"
        )
    out += ["};", f"#define N_STREAM_VECTORS {len(vec['streams'])}u", "", "#endif", ""]
    return "\n".join(out)


def generated_files() -> dict[Path, str]:
    root = repo_root()
    vec = vectors()
    return {
        root / "firmware/core/protocol/vigil_protocol.h": protocol_header(),
        root / "tests/vectors/protocol.json": json.dumps(vec, indent=1) + "\n",
        root / "firmware/tests/protocol_vectors.h": vectors_header(vec),
    }


def main(argv: list[str] | None = None) -> int:
    return write_or_check(generated_files(), argv)


if __name__ == "__main__":
    sys.exit(main())
