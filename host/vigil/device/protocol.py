"""The vigil serial protocol: frame codec and message payloads.

This module is the one source of the protocol's constants: the C header
``firmware/core/protocol/vigil_protocol.h`` is generated from it
(``python -m vigil.device.codegen``) and a test checks the committed header.

Wire format (little endian), see ``docs/protocol.md``::

    raw   = version:u8 type:u8 seq:u16 len:u16 payload[len] crc32:u32
    wire  = COBS(raw) 0x00

The CRC is CRC-32/ISO-HDLC (``zlib.crc32``) over everything before it.
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Iterator

from cobs import cobs

from vigil.records import SLEEP_CLASS_UNKNOWN  # noqa: F401  (re-exported: the protocol's constant, generated)
from vigil.records import (HRV_FIELDS, HRV_FORMAT, SLEEP_CLASS_NAMES, SLEEP_FIELDS, SLEEP_FORMAT, STRESS_FIELDS,
                           STRESS_FORMAT, readable_sleep, readable_stress)

PROTOCOL_VERSION = 1
HEADER_SIZE = 6
CRC_SIZE = 4
MAX_PAYLOAD = 512
MAX_RAW = HEADER_SIZE + MAX_PAYLOAD + CRC_SIZE
# COBS adds one byte per 254 and one at the start; the delimiter is extra.
MAX_ENCODED = MAX_RAW + MAX_RAW // 254 + 1
DELIMITER = 0x00

# Device configuration announced in HELLO; shared with the firmware through the generated header.
SAMPLE_SLOTS = 4  # sample frames the device can hold before the host must wait for credit
SAMPLE_CHANNELS = 8
ACCEL_RATE_HZ = 50
PPG_RATE_HZ = 64
STRING_MAX = 32  # longest string field in HELLO
MODEL_HASH_SIZE = 16
MODELS_MAX = 8
PING_MAX = 32


CONFIG_SIZE = 3  # ppg_rate_hz:u16 flags:u8
CONFIG_LIVE_SIZE = 9  # ... then live_seed:u32 live_speed:u16


class MsgType(IntEnum):
    """Frame types. Host-to-device below 0x80, device-to-host from 0x80."""

    HELLO_REQ = 0x01
    PING = 0x02
    ECHO = 0x03
    SAMPLES = 0x04
    STATS_REQ = 0x05
    RESET = 0x06
    SAMPLES_HOLD = 0x07
    CONFIG = 0x08
    COST_REQ = 0x09
    NN_INPUT = 0x0A
    NN_RUN = 0x0B
    HELLO = 0x81
    PONG = 0x82
    ECHO_REPLY = 0x83
    CREDIT = 0x84
    STATS = 0x85
    CONFIG_ACK = 0x86
    COST = 0x87
    ERROR = 0x8F
    # DSP outputs (see docs/protocol.md, "Signal processing outputs")
    SPEC_COLUMN = 0x90
    EPOCH_IMAGE = 0x91
    BEAT = 0x92
    HRV = 0x93
    TRACE_DERIV = 0x94
    TRACE_PPG = 0x95
    # the int8 engine (see docs/protocol.md, "Neural networks")
    NN_RESULT = 0x96
    NN_OUTPUT = 0x97
    NN_OP_COST = 0x98
    # the models (see docs/protocol.md, "Models")
    SLEEP = 0x99
    STRESS = 0x9A
    # the context sleep model's input (see docs/protocol.md, "Signal processing outputs")
    EPOCH_FEATURES = 0x9B
    # live mode's raw tap (see docs/protocol.md, "Live mode")
    RAW_SAMPLES = 0x9C


#: The payload length (min, max bytes) of each host-to-device type with a fixed shape; the device refuses any other
#: length with ERROR bad payload and counts it (generated into vigil_protocol.h: vigil_payload_len_ok). SAMPLES and
#: NN_INPUT check their own layouts; ECHO takes any payload up to MAX_PAYLOAD.
PAYLOAD_BOUNDS: dict[MsgType, tuple[int, int]] = {
    MsgType.HELLO_REQ: (0, 0),
    MsgType.PING: (0, PING_MAX),
    MsgType.STATS_REQ: (0, 0),
    MsgType.RESET: (0, 0),
    MsgType.SAMPLES_HOLD: (1, 1),
    MsgType.CONFIG: (CONFIG_SIZE, CONFIG_LIVE_SIZE),
    MsgType.COST_REQ: (0, 0),
    MsgType.NN_RUN: (0, 1),
}


#: Types whose payload takes one of a few lengths only, within PAYLOAD_BOUNDS (a short and a long form).
PAYLOAD_LENGTHS: dict[MsgType, tuple[int, ...]] = {
    MsgType.CONFIG: (CONFIG_SIZE, CONFIG_LIVE_SIZE),
}


def payload_len_ok(mtype: int, length: int) -> bool:
    """Whether a host-to-device frame of ``mtype`` may carry ``length`` bytes (PAYLOAD_BOUNDS and PAYLOAD_LENGTHS;
    any other type: yes)."""
    low, high = PAYLOAD_BOUNDS.get(mtype, (0, MAX_PAYLOAD))  # type: ignore[call-overload]
    lengths = PAYLOAD_LENGTHS.get(mtype)  # type: ignore[call-overload]
    return low <= length <= high and (lengths is None or length in lengths)


class ErrorCode(IntEnum):
    """Codes of an ERROR frame: why the device refused a well-formed frame."""

    UNKNOWN_TYPE = 1
    BAD_PAYLOAD = 2
    NO_CREDIT = 3
    BAD_CHANNEL = 4
    #: the device could not run a model: offending_type is the record it could not fill (SLEEP or STRESS),
    #: offending_seq the epoch or segment (its low 16 bits); the record still goes out, marked (docs/protocol.md)
    MODEL_FAILED = 5
    #: a SAMPLES frame while the device is live (it samples its own sources): refused, counted in bad_payloads
    LIVE = 6


class Channel(IntEnum):
    """SAMPLES channels. ACCEL carries x, y, z interleaved (first_index counts xyz triplets)."""

    ACCEL = 0
    PPG = 1


class Stage(IntEnum):
    """Device processing stages whose cost COST reports."""

    ACCEL_DERIVATIVE = 1  # magnitude (isqrt) + first difference
    STFT = 2  # window, FFT, log power, int8 column
    EPOCH_IMAGE = 3  # column ring -> epoch image CRC
    PPG_FILTER = 4  # band-pass biquads
    PPG_BEATS = 5  # beat detector
    HRV = 6  # IBIs, artifact rejection, segment features
    SLEEP_CNN = 7  # the sleep model (engine plan) -> class, per decided epoch: the CNN on an epoch image, or the
    #               context model on the unrolled context (the name stays: it is COST's key "sleep_cnn")
    STRESS = 8  # features -> tree, SVM, stress NN, consensus, alert, per segment
    EPOCH_FEATURES = 9  # posture windows -> per-epoch features -> sleep context ring (context model builds)


class NnStatus(IntEnum):
    """NN_RESULT status."""

    OK = 0
    NO_MODEL = 1
    ARENA_TOO_SMALL = 2
    UNSUPPORTED = 3
    BAD_INPUT = 4


NN_CHUNK = 256  # tensor bytes per NN_INPUT / NN_OUTPUT frame
NN_OP_COST_MAX = 64  # per-op tick counts per NN_OP_COST frame


@dataclass(frozen=True)
class NnResult:
    status: int
    model: int
    n_ops: int
    ticks: int
    output_bytes: int

    FORMAT = struct.Struct("<BBHQH")

    @classmethod
    def unpack(cls, payload: bytes) -> NnResult:
        return cls(*_Reader(payload, "NN_RESULT").take(cls.FORMAT.format))


CONFIG_FLAG_TRACE = 0x01  # also stream intermediate signals (TRACE_DERIV, TRACE_PPG) for verification
CONFIG_FLAG_LIVE = 0x02  # sample the device's own sources on its own clock (live mode)
CONFIG_FLAG_RAW_TAP = 0x04  # in live mode, also stream every processed chunk of samples (RAW_SAMPLES)
CONFIG_FLAG_SENSORS = 0x08  # in live mode, read the board's own sensors instead of the seeded wrist
CONFIG_FLAGS_ALL = CONFIG_FLAG_TRACE | CONFIG_FLAG_LIVE | CONFIG_FLAG_RAW_TAP | CONFIG_FLAG_SENSORS
RAW_FLAG_HELD = 0x01  # RAW_SAMPLES flags: held samples, standing in for ones the source dropped (the last repeated)
CONFIG_OK = 0
CONFIG_UNSUPPORTED_RATE = 1
CONFIG_BAD_LIVE = 2  # live settings the device cannot take (speed, raw tap without live, unknown flags)
CONFIG_NO_SENSORS = 3  # live mode on the board's sensors: none answered, or not at this PPG rate
LIVE_SPEED_MAX = 1000  # the seeded wrist's clock at most this many times the board's (firmware: SEEDED_WRIST_SPEED_MAX)
TRACE_PPG_MAX = 64  # filtered PPG values per TRACE_PPG frame (int32 each)


# Order is the wire order of the STATS payload (u32 each). Append only: hosts read what they know.
STATS_FIELDS: tuple[tuple[str, str], ...] = (
    ("frames_rx", "valid frames received"),
    ("frames_tx", "frames sent"),
    ("bytes_rx", "bytes received on the serial port"),
    ("crc_errors", "frames whose CRC did not match"),
    ("framing_errors", "invalid COBS, too short, or length field not matching"),
    ("oversize_errors", "frames longer than the receive buffer (dropped until the next delimiter)"),
    ("version_errors", "frames of another protocol version"),
    ("seq_gaps", "host frames missing according to sequence numbers"),
    ("unknown_types", "frames of a type the device does not know"),
    ("bad_payloads", "frames whose payload did not fit their type"),
    ("samples_rx", "samples accepted"),
    ("sample_frames_rx", "sample frames accepted"),
    ("sample_frames_consumed", "sample frames processed (cumulative credit)"),
    ("sample_overflows", "sample frames refused for lack of credit"),
    ("sample_index_gaps", "sample frames whose first index did not follow the previous one"),
    ("sample_crc", "CRC-32 over channel byte + sample bytes of every consumed frame, in order"),
    ("sample_queue_high_water", "most sample slots ever in use"),
    ("sample_queue_slots", "sample slots available"),
    ("stack_high_water", "deepest stack use in bytes (0: unknown)"),
    ("stack_size", "stack size in bytes (0: unknown)"),
    ("uptime_ms", "milliseconds since boot"),
    ("live_samples", "samples the live sources delivered since live mode started (xyz triplets and PPG samples)"),
    ("live_dropped", "samples the live sources lost to FIFO overflow since live mode started"),
    ("live_overruns", "reads of a live source that found its FIFO overflowed"),
)


class ProtocolError(ValueError):
    """A frame that is not valid; ``kind`` says which counter it belongs to."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind


@dataclass(frozen=True)
class Frame:
    type: int
    seq: int
    payload: bytes = b""
    version: int = PROTOCOL_VERSION

    @property
    def name(self) -> str:
        try:
            return MsgType(self.type).name
        except ValueError:
            return f"0x{self.type:02X}"


def crc32(data: bytes) -> int:
    return zlib.crc32(data) & 0xFFFFFFFF


def pack_raw(frame: Frame) -> bytes:
    if len(frame.payload) > MAX_PAYLOAD:
        raise ValueError(f"payload of {len(frame.payload)} bytes exceeds {MAX_PAYLOAD}")
    head = struct.pack("<BBHH", frame.version, frame.type, frame.seq & 0xFFFF, len(frame.payload))
    body = head + frame.payload
    return body + struct.pack("<I", crc32(body))


def encode(frame: Frame) -> bytes:
    """Frame -> bytes on the wire, delimiter included."""
    return cobs.encode(pack_raw(frame)) + bytes([DELIMITER])


def unpack_raw(raw: bytes) -> Frame:
    if len(raw) < HEADER_SIZE + CRC_SIZE:
        raise ProtocolError("framing", f"frame of {len(raw)} bytes is shorter than {HEADER_SIZE + CRC_SIZE}")
    if len(raw) > MAX_RAW:  # the firmware's COBS decode has no room for it: a framing error there too
        raise ProtocolError("framing", f"frame of {len(raw)} bytes: a payload over {MAX_PAYLOAD} bytes")
    version, mtype, seq, length = struct.unpack_from("<BBHH", raw)
    if length != len(raw) - HEADER_SIZE - CRC_SIZE:
        raise ProtocolError("framing", f"length field {length} but {len(raw) - HEADER_SIZE - CRC_SIZE} payload bytes")
    (crc,) = struct.unpack_from("<I", raw, len(raw) - CRC_SIZE)
    if crc != crc32(raw[:-CRC_SIZE]):
        raise ProtocolError("crc", "CRC mismatch")
    if version != PROTOCOL_VERSION:
        raise ProtocolError("version", f"protocol version {version}, expected {PROTOCOL_VERSION}")
    return Frame(mtype, seq, bytes(raw[HEADER_SIZE:-CRC_SIZE]), version)


def decode(encoded: bytes) -> Frame:
    """One encoded frame (without its delimiter) -> Frame, or ProtocolError."""
    if len(encoded) > MAX_ENCODED:
        raise ProtocolError("oversize", f"{len(encoded)} encoded bytes exceed {MAX_ENCODED}")
    try:
        raw = cobs.decode(encoded)
    except cobs.DecodeError as exc:
        raise ProtocolError("framing", f"invalid COBS: {exc}") from exc
    return unpack_raw(raw)


@dataclass
class StreamDecoder:
    """Splits a byte stream at delimiters and decodes each frame.

    Errors never stop the stream: each is counted under its kind and decoding
    resumes at the next delimiter, as the firmware's decoder does.
    """

    errors: dict[str, int] = field(default_factory=lambda: {"crc": 0, "framing": 0, "oversize": 0, "version": 0})
    _buf: bytearray = field(default_factory=bytearray)
    _overflow: bool = False

    def feed(self, data: bytes) -> Iterator[Frame | ProtocolError]:
        for byte in data:
            if byte != DELIMITER:
                if len(self._buf) < MAX_ENCODED:
                    self._buf.append(byte)
                else:
                    self._overflow = True
                continue
            chunk, overflow = bytes(self._buf), self._overflow
            self._buf.clear()
            self._overflow = False
            if overflow:
                err = ProtocolError("oversize", f"frame longer than {MAX_ENCODED} encoded bytes")
            elif not chunk:
                continue  # back-to-back delimiters are idle fill, not errors
            else:
                try:
                    yield decode(chunk)
                    continue
                except ProtocolError as exc:
                    err = exc
            self.errors[err.kind] += 1
            yield err


# ---------------------------------------------------------------- payloads


def _pack_str(text: str) -> bytes:
    data = text.encode()
    if len(data) > STRING_MAX:
        raise ValueError(f"string {text!r} longer than {STRING_MAX} bytes")
    return bytes([len(data)]) + data


class _Reader:
    def __init__(self, data: bytes, what: str) -> None:
        self.data, self.pos, self.what = data, 0, what

    def take(self, fmt: str) -> tuple:
        size = struct.calcsize(fmt)
        if self.pos + size > len(self.data):
            raise ProtocolError("payload", f"{self.what} payload too short ({len(self.data)} bytes)")
        values = struct.unpack_from(fmt, self.data, self.pos)
        self.pos += size
        return values

    def string(self) -> str:
        (n,) = self.take("<B")
        (raw,) = self.take(f"<{n}s")
        return raw.decode(errors="replace")

    def rest(self) -> bytes:
        out = self.data[self.pos :]
        self.pos = len(self.data)
        return out


@dataclass(frozen=True)
class ModelInfo:
    name: str
    hash: bytes  # first MODEL_HASH_SIZE bytes of the model file's SHA-256


@dataclass(frozen=True)
class Hello:
    protocol_version: int
    boot_id: int
    board: str
    firmware_version: str
    build_id: str
    accel_rate_hz: int
    ppg_rate_hz: int
    max_payload: int
    sample_slots: int
    ticks_per_second: int
    models: tuple[ModelInfo, ...] = ()

    def pack(self) -> bytes:
        out = struct.pack("<BI", self.protocol_version, self.boot_id)
        out += _pack_str(self.board) + _pack_str(self.firmware_version) + _pack_str(self.build_id)
        out += struct.pack(
            "<HHHHIB",
            self.accel_rate_hz,
            self.ppg_rate_hz,
            self.max_payload,
            self.sample_slots,
            self.ticks_per_second,
            len(self.models),
        )
        for model in self.models:
            out += _pack_str(model.name) + model.hash[:MODEL_HASH_SIZE].ljust(MODEL_HASH_SIZE, b"\0")
        return out

    @classmethod
    def unpack(cls, payload: bytes) -> Hello:
        r = _Reader(payload, "HELLO")
        version, boot_id = r.take("<BI")
        board, fw, build = r.string(), r.string(), r.string()
        accel, ppg, max_payload, slots, tps, n_models = r.take("<HHHHIB")
        models = []
        for _ in range(n_models):
            name = r.string()
            (digest,) = r.take(f"<{MODEL_HASH_SIZE}s")
            models.append(ModelInfo(name, digest))
        return cls(version, boot_id, board, fw, build, accel, ppg, max_payload, slots, tps, tuple(models))

    def as_dict(self) -> dict:
        d = self.__dict__.copy()
        d["boot_id"] = f"{self.boot_id:08x}"
        d["models"] = [{"name": m.name, "hash": m.hash.hex()} for m in self.models]
        return d


@dataclass(frozen=True)
class Samples:
    channel: int
    first_index: int
    samples: tuple[int, ...]
    flags: int = 0  # RAW_SAMPLES: RAW_FLAG_HELD; SAMPLES: 0

    HEADER = struct.Struct("<BBI")
    MAX_SAMPLES = (MAX_PAYLOAD - HEADER.size) // 2

    def pack(self) -> bytes:
        if len(self.samples) > self.MAX_SAMPLES:
            raise ValueError(f"{len(self.samples)} samples exceed {self.MAX_SAMPLES} per frame")
        return self.HEADER.pack(self.channel, self.flags, self.first_index) + struct.pack(
            f"<{len(self.samples)}h", *self.samples
        )

    @classmethod
    def unpack(cls, payload: bytes) -> Samples:
        if len(payload) < cls.HEADER.size or (len(payload) - cls.HEADER.size) % 2:
            raise ProtocolError("payload", f"SAMPLES payload of {len(payload)} bytes")
        channel, flags, first = cls.HEADER.unpack_from(payload)
        n = (len(payload) - cls.HEADER.size) // 2
        return cls(channel, first, struct.unpack_from(f"<{n}h", payload, cls.HEADER.size), flags)


@dataclass(frozen=True)
class Credit:
    sample_frames_consumed: int
    sample_slots: int

    FORMAT = struct.Struct("<IH")

    def pack(self) -> bytes:
        return self.FORMAT.pack(self.sample_frames_consumed, self.sample_slots)

    @classmethod
    def unpack(cls, payload: bytes) -> Credit:
        r = _Reader(payload, "CREDIT")
        return cls(*r.take(cls.FORMAT.format))


@dataclass(frozen=True)
class Pong:
    device_ms: int
    echo: bytes

    def pack(self) -> bytes:
        return struct.pack("<I", self.device_ms) + self.echo

    @classmethod
    def unpack(cls, payload: bytes) -> Pong:
        r = _Reader(payload, "PONG")
        (ms,) = r.take("<I")
        return cls(ms, r.rest())


@dataclass(frozen=True)
class ErrorReport:
    code: int
    offending_type: int
    offending_seq: int

    FORMAT = struct.Struct("<BBH")

    def pack(self) -> bytes:
        return self.FORMAT.pack(self.code, self.offending_type, self.offending_seq)

    @classmethod
    def unpack(cls, payload: bytes) -> ErrorReport:
        return cls(*_Reader(payload, "ERROR").take(cls.FORMAT.format))

    @property
    def code_name(self) -> str:
        try:
            return ErrorCode(self.code).name
        except ValueError:
            return str(self.code)


@dataclass(frozen=True)
class Config:
    """CONFIG: the short form (rate, flags) unless live mode is asked for, which adds the seeded source's seed and
    speed (its clock's multiple of the board's)."""

    ppg_rate_hz: int
    flags: int = CONFIG_FLAG_TRACE
    live_seed: int = 0
    live_speed: int = 1

    FORMAT = struct.Struct("<HB")
    LIVE_FORMAT = struct.Struct("<HBIH")

    def pack(self) -> bytes:
        if self.flags & (CONFIG_FLAG_LIVE | CONFIG_FLAG_RAW_TAP | CONFIG_FLAG_SENSORS):
            return self.LIVE_FORMAT.pack(self.ppg_rate_hz, self.flags, self.live_seed, self.live_speed)
        return self.FORMAT.pack(self.ppg_rate_hz, self.flags)


@dataclass(frozen=True)
class ConfigAck:
    ppg_rate_hz: int
    flags: int
    status: int

    FORMAT = struct.Struct("<HBB")

    @classmethod
    def unpack(cls, payload: bytes) -> ConfigAck:
        return cls(*_Reader(payload, "CONFIG_ACK").take(cls.FORMAT.format))


@dataclass(frozen=True)
class StageCost:
    stage: int
    calls: int
    ticks: int
    samples: int  # signal samples the stage consumed (per channel sample, not per value)


#: One stage of a COST frame: stage u8, calls u32, ticks u64, samples u32 (VIGIL_COST_ENTRY_SIZE in C).
COST_ENTRY_FORMAT = struct.Struct("<BIQI")


def unpack_cost(payload: bytes) -> list[StageCost]:
    r = _Reader(payload, "COST")
    (n,) = r.take("<B")
    return [StageCost(*r.take(COST_ENTRY_FORMAT.format)) for _ in range(n)]


@dataclass(frozen=True)
class SpecColumn:
    index: int
    values: bytes  # int8 per bin

    @classmethod
    def unpack(cls, payload: bytes) -> SpecColumn:
        r = _Reader(payload, "SPEC_COLUMN")
        (index,) = r.take("<I")
        return cls(index, r.rest())


@dataclass(frozen=True)
class EpochImage:
    epoch: int
    first_column: int
    frames: int
    bins: int
    crc: int

    FORMAT = struct.Struct("<IiHHI")

    @classmethod
    def unpack(cls, payload: bytes) -> EpochImage:
        return cls(*_Reader(payload, "EPOCH_IMAGE").take(cls.FORMAT.format))


@dataclass(frozen=True)
class EpochFeatures:
    """EPOCH_FEATURES: one epoch's feature vector (vigil.dsp.epoch_features: code - 128 per feature)."""

    epoch: int
    features: tuple[int, ...]  # int8[EPOCH_FEATURES]: activity above floor, direction change, still windows, elapsed

    FORMAT = struct.Struct("<I4b")

    def pack(self) -> bytes:
        return self.FORMAT.pack(self.epoch, *self.features)

    @classmethod
    def unpack(cls, payload: bytes) -> EpochFeatures:
        epoch, *features = _Reader(payload, "EPOCH_FEATURES").take(cls.FORMAT.format)
        return cls(epoch, tuple(features))


@dataclass(frozen=True)
class Trace:
    """TRACE_DERIV (int16 values) or TRACE_PPG (int32 values) from sample first_index on."""

    first_index: int
    values: tuple[int, ...]

    @classmethod
    def unpack(cls, payload: bytes, width: int) -> Trace:
        r = _Reader(payload, "TRACE")
        (first,) = r.take("<I")
        rest = r.rest()
        if len(rest) % width:
            raise ProtocolError("payload", f"TRACE payload of {len(payload)} bytes")
        code = {2: "h", 4: "i"}[width]
        return cls(first, struct.unpack(f"<{len(rest) // width}{code}", rest))




def unpack_hrv(payload: bytes) -> dict[str, int]:
    return dict(zip(HRV_FIELDS, _Reader(payload, "HRV").take(HRV_FORMAT.format)))


SLEEP_CLASS_COUNT = len(SLEEP_CLASS_NAMES)  # sleep model outputs per SLEEP record (VIGIL_SLEEP_CLASSES in C)


def unpack_sleep(payload: bytes) -> dict[str, int]:
    return dict(zip(SLEEP_FIELDS, _Reader(payload, "SLEEP").take(SLEEP_FORMAT.format)))


def pack_sleep(record: dict[str, int]) -> bytes:
    return SLEEP_FORMAT.pack(*(record[name] for name in SLEEP_FIELDS))


def unpack_stress(payload: bytes) -> dict[str, int]:
    return dict(zip(STRESS_FIELDS, _Reader(payload, "STRESS").take(STRESS_FORMAT.format)))


def pack_stress(record: dict[str, int]) -> bytes:
    return STRESS_FORMAT.pack(*(record[name] for name in STRESS_FIELDS))


def pack_stats(values: dict[str, int]) -> bytes:
    return struct.pack(f"<{len(STATS_FIELDS)}I", *(values.get(name, 0) for name, _ in STATS_FIELDS))


def unpack_stats(payload: bytes) -> dict[str, int]:
    """STATS payload -> {field: value}; fields unknown to this host are kept as ``field_N``."""
    if len(payload) % 4:
        raise ProtocolError("payload", f"STATS payload of {len(payload)} bytes is not a multiple of 4")
    values = struct.unpack(f"<{len(payload) // 4}I", payload)
    names = [name for name, _ in STATS_FIELDS]
    return {(names[i] if i < len(names) else f"field_{i}"): v for i, v in enumerate(values)}


def describe(frame: Frame) -> dict:
    """A JSON-ready view of a frame's content, for logs and --json output."""
    out: dict = {"type": frame.name, "seq": frame.seq}
    try:
        if frame.type == MsgType.HELLO:
            out.update(Hello.unpack(frame.payload).as_dict())
        elif frame.type == MsgType.STATS:
            out.update(unpack_stats(frame.payload))
        elif frame.type == MsgType.CREDIT:
            out.update(Credit.unpack(frame.payload).__dict__)
        elif frame.type == MsgType.PONG:
            pong = Pong.unpack(frame.payload)
            out.update(device_ms=pong.device_ms, echo=pong.echo.hex())
        elif frame.type == MsgType.SPEC_COLUMN:
            col = SpecColumn.unpack(frame.payload)
            out.update(index=col.index, values=list(struct.unpack(f"<{len(col.values)}b", col.values)))
        elif frame.type == MsgType.EPOCH_IMAGE:
            out.update(EpochImage.unpack(frame.payload).__dict__)
        elif frame.type == MsgType.EPOCH_FEATURES:
            features = EpochFeatures.unpack(frame.payload)
            out.update(epoch=features.epoch, features=list(features.features))
        elif frame.type == MsgType.BEAT:
            out["index"] = _Reader(frame.payload, "BEAT").take("<I")[0]
        elif frame.type == MsgType.HRV:
            out.update(unpack_hrv(frame.payload))
        elif frame.type == MsgType.SLEEP:
            record = unpack_sleep(frame.payload)
            out.update(record, readable=readable_sleep(record))  # the raw integers verify, the readable a person
        elif frame.type == MsgType.STRESS:
            record = unpack_stress(frame.payload)
            out.update(record, readable=readable_stress(record))
        elif frame.type in (MsgType.TRACE_DERIV, MsgType.TRACE_PPG):
            trace = Trace.unpack(frame.payload, 2 if frame.type == MsgType.TRACE_DERIV else 4)
            out.update(first_index=trace.first_index, values=list(trace.values))
        elif frame.type == MsgType.RAW_SAMPLES:
            raw = Samples.unpack(frame.payload)
            out.update(channel=raw.channel, first_index=raw.first_index, held=bool(raw.flags & RAW_FLAG_HELD),
                       values=list(raw.samples))
        elif frame.type == MsgType.CONFIG_ACK:
            out.update(ConfigAck.unpack(frame.payload).__dict__)
        elif frame.type == MsgType.COST:
            out["stages"] = [c.__dict__ for c in unpack_cost(frame.payload)]
        elif frame.type == MsgType.ERROR:
            err = ErrorReport.unpack(frame.payload)
            out.update(code=err.code_name, offending_type=err.offending_type, offending_seq=err.offending_seq)
        else:
            out["payload"] = frame.payload.hex()
    except ProtocolError as exc:
        out.update(payload=frame.payload.hex(), error=str(exc))
    return out
