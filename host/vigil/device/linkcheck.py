"""Link proofs run against a live device: echo (zero loss, order), sample replay under
flow control (nothing dropped), and injected faults (each detected, counted and
resynchronized, never delivered). Used by `vigil linktest`, `make demo` and the tests."""

from __future__ import annotations

import random
import struct
import time
import zlib
from dataclasses import asdict, dataclass, field
from typing import Any, Callable

import numpy as np

from vigil.device import protocol as p
from vigil.device.link import Link

Progress = Callable[[int], None]
#: ``new(description, total)`` -> a Progress callback or None (vigil.console.bars)
Bars = Callable[[str, int], Progress | None]


@dataclass
class EchoResult:
    frames: int
    replies: int
    mismatched: int  # replies out of order or with other content
    payload_bytes: int
    seconds: float

    @property
    def ok(self) -> bool:
        return self.replies == self.frames and self.mismatched == 0

    @property
    def round_trips_per_second(self) -> float:
        return self.frames / self.seconds if self.seconds else 0.0


def echo_test(
    link: Link, count: int = 10_000, max_payload: int = 48, window: int = 8, seed: int = 0, progress: Progress | None = None
) -> EchoResult:
    """Send ``count`` ECHO frames (``window`` in flight) and check every reply, in order."""
    rng = random.Random(seed)
    pending: list[bytes] = []
    replies = mismatched = payload_bytes = 0
    start = time.perf_counter()
    sent = 0
    while replies < count:
        while sent < count and len(pending) < window:
            payload = struct.pack("<I", sent) + rng.randbytes(rng.randrange(0, max_payload - 3))
            link.send(p.MsgType.ECHO, payload)
            pending.append(payload)
            payload_bytes += len(payload)
            sent += 1
        reply = link.expect(p.MsgType.ECHO_REPLY)
        if reply.payload != pending.pop(0):
            mismatched += 1
        replies += 1
        if progress and replies % 100 == 0:
            progress(replies)
    return EchoResult(count, replies, mismatched, payload_bytes, time.perf_counter() - start)


@dataclass
class ReplayResult:
    frames: int
    samples: int
    bytes: int
    seconds: float
    device_samples: int
    device_frames: int
    overflows: int
    index_gaps: int
    crc_expected: int
    crc_device: int
    queue_high_water: int
    queue_slots: int

    @property
    def ok(self) -> bool:
        return (
            self.device_samples == self.samples
            and self.device_frames == self.frames
            and self.overflows == 0
            and self.index_gaps == 0
            and self.crc_device == self.crc_expected
        )


# The link proofs use channels the firmware carries but does not process (the signal
# channels 0 and 1 feed the DSP, which wants real signals and whole xyz triplets).
RAW_CHANNEL_BASE = 2


def frame_count(total_bytes: int) -> int:
    """How many frames ``sample_frames(total_bytes)`` makes."""
    return -(-total_bytes // (2 * p.Samples.MAX_SAMPLES))


def sample_frames(total_bytes: int, channels: int = 3, seed: int = 1) -> list[p.Samples]:
    """Random int16 sample frames, round-robin over ``channels`` raw channels, about ``total_bytes`` of samples."""
    rng = np.random.default_rng(seed)
    per_frame = p.Samples.MAX_SAMPLES
    n_frames = frame_count(total_bytes)
    data = rng.integers(-32768, 32768, size=(n_frames, per_frame), dtype=np.int16)
    index = [0] * channels
    frames = []
    for k in range(n_frames):
        ch = k % channels
        frames.append(p.Samples(RAW_CHANNEL_BASE + ch, index[ch], tuple(int(v) for v in data[k])))
        index[ch] += per_frame
    return frames


def replay_test(link: Link, total_bytes: int = 1_000_000, seed: int = 1, progress: Progress | None = None) -> ReplayResult:
    """Stream ~total_bytes of samples under credit flow control; the device's sample counters
    and its running CRC of what it consumed must match what was sent."""
    frames = sample_frames(total_bytes, seed=seed)
    before = link.stats()
    crc = before["sample_crc"]
    for f in frames:
        crc = zlib.crc32(bytes([f.channel]), crc)
        crc = zlib.crc32(struct.pack(f"<{len(f.samples)}h", *f.samples), crc)
    start = time.perf_counter()
    link.send_samples(frames, progress=progress, timeout=30)
    seconds = time.perf_counter() - start
    after = link.stats()
    n_samples = sum(len(f.samples) for f in frames)
    return ReplayResult(
        frames=len(frames),
        samples=n_samples,
        bytes=2 * n_samples,
        seconds=seconds,
        device_samples=after["samples_rx"] - before["samples_rx"],
        device_frames=after["sample_frames_consumed"] - before["sample_frames_consumed"],
        overflows=after["sample_overflows"] - before["sample_overflows"],
        index_gaps=after["sample_index_gaps"] - before["sample_index_gaps"],
        crc_expected=crc & 0xFFFFFFFF,
        crc_device=after["sample_crc"],
        queue_high_water=after["sample_queue_high_water"],
        queue_slots=after["sample_queue_slots"],
    )


FAULT_KINDS = ("flip_bit", "drop_byte", "truncate", "garbage_between", "garbage_prefix", "oversize")
ERROR_STATS = {"crc": "crc_errors", "framing": "framing_errors", "oversize": "oversize_errors", "version": "version_errors"}


def corrupt(wire: bytes, kind: str, rng: random.Random) -> bytes:
    """A damaged copy of one encoded frame (delimiter included)."""
    if kind == "flip_bit":
        i = rng.randrange(len(wire))
        return wire[:i] + bytes([wire[i] ^ (1 << rng.randrange(8))]) + wire[i + 1 :]
    if kind == "drop_byte":
        i = rng.randrange(len(wire))
        return wire[:i] + wire[i + 1 :]
    if kind == "truncate":
        return wire[: rng.randrange(1, len(wire) - 1)] + b"\0"
    if kind == "garbage_between":
        return wire + bytes(rng.randrange(1, 256) for _ in range(rng.randrange(1, 40))) + b"\0"
    if kind == "garbage_prefix":  # noise with no delimiter glued onto the frame
        return bytes(rng.randrange(1, 256) for _ in range(rng.randrange(1, 40))) + wire
    if kind == "oversize":
        return bytes([0x41] * (p.MAX_ENCODED + rng.randrange(1, 100))) + b"\0" + wire
    raise ValueError(f"unknown fault {kind!r}")


@dataclass
class FaultResult:
    rounds: int
    by_kind: dict[str, int] = field(default_factory=dict)
    predicted_errors: dict[str, int] = field(default_factory=dict)
    device_errors: dict[str, int] = field(default_factory=dict)
    predicted_gaps: int = 0
    device_gaps: int = 0
    valid_frames: int = 0  # frames that survived their damage intact (e.g. garbage between) or markers
    replies: int = 0
    foreign_replies: int = 0  # replies to anything that was not a valid frame: must be 0

    @property
    def ok(self) -> bool:
        return (
            self.device_errors == self.predicted_errors
            and self.device_gaps == self.predicted_gaps
            and self.replies == self.valid_frames
            and self.foreign_replies == 0
        )


def fault_test(link: Link, rounds: int = 120, seed: int = 2) -> FaultResult:
    """Each round sends one damaged ECHO frame followed by an intact marker ECHO. The Python
    decoder (proven identical to the firmware's by the shared vectors) predicts what the
    device must see; the device's counters and replies must match exactly."""
    rng = random.Random(seed)
    result = FaultResult(rounds)
    predicted = {name: 0 for name in ERROR_STATS.values()}
    before = link.stats()
    prev_seq = (link.next_seq() - 1) & 0xFFFF  # the STATS_REQ just sent
    for r in range(rounds):
        kind = FAULT_KINDS[r % len(FAULT_KINDS)]
        result.by_kind[kind] = result.by_kind.get(kind, 0) + 1
        damaged_seq = link.skip_seq()
        damaged = corrupt(p.encode(p.Frame(p.MsgType.ECHO, damaged_seq, b"damaged" + struct.pack("<I", r))), kind, rng)
        marker_seq = link.skip_seq()
        marker_payload = b"marker" + struct.pack("<I", r)
        marker = p.encode(p.Frame(p.MsgType.ECHO, marker_seq, marker_payload))
        expected_replies = []
        for item in p.StreamDecoder().feed(damaged + marker):
            if isinstance(item, p.Frame):
                result.valid_frames += 1
                expected_replies.append(item.payload)
                result.predicted_gaps += (item.seq - prev_seq - 1) & 0xFFFF
                prev_seq = item.seq
            else:
                predicted[ERROR_STATS[item.kind]] += 1
        link.write_raw(damaged + marker)
        for want in expected_replies:
            got = link.expect(p.MsgType.ECHO_REPLY).payload
            result.replies += 1
            if got != want:
                result.foreign_replies += 1
    stats_seq = link.next_seq()
    result.predicted_gaps += (stats_seq - prev_seq - 1) & 0xFFFF
    after = link.stats()
    result.foreign_replies += sum(1 for f in link.drain() if f.type == p.MsgType.ECHO_REPLY)
    result.predicted_errors = predicted
    result.device_errors = {name: after[name] - before[name] for name in ERROR_STATS.values()}
    result.device_gaps = after["seq_gaps"] - before["seq_gaps"]
    return result


def as_dict(result: EchoResult | ReplayResult | FaultResult) -> dict:
    out = asdict(result)
    out["ok"] = result.ok
    if isinstance(result, EchoResult):
        out["round_trips_per_second"] = round(result.round_trips_per_second, 1)
    return out


# ---------------------------------------------------------------- the commands' checks


@dataclass
class PingResult:
    """`vigil ping`: who the device is and how long each round trip took."""

    port: str
    hello: p.Hello
    round_trips_s: list[float]
    link: dict

    def as_dict(self) -> dict[str, Any]:
        """What `vigil ping --json` prints."""
        return {"port": self.port, "hello": self.hello.as_dict(),
                "round_trip_ms": [round(1000 * r, 3) for r in self.round_trips_s], "link": self.link}


def ping(port: str, count: int = 3, timeout: float = 5.0) -> PingResult:
    """HELLO, then ``count`` PING/PONG round trips, on the device at ``port``."""
    with Link.open(port) as link:
        hello = link.request_hello(timeout=timeout)
        rtts = [link.ping(nonce=f"ping{i}".encode(), timeout=timeout)[1] for i in range(count)]
    return PingResult(port, hello, rtts, link.counters.as_dict())


def link_report(link: Link, echo: int, replay_bytes: int, faults: int, progress: Bars | None = None) -> dict:
    """Echo, replay and fault proofs (each skipped when its count is 0) with the device's STATS after them: the
    report `vigil linktest --json` prints; ``ok`` when every proof run passed."""
    new = progress or (lambda description, total: None)
    hello = link.request_hello()
    report: dict[str, Any] = {"hello": hello.as_dict()}
    if echo:
        report["echo"] = as_dict(echo_test(link, echo, progress=new("echo", echo)))
    if replay_bytes:
        report["replay"] = as_dict(replay_test(link, replay_bytes, progress=new("replay", frame_count(replay_bytes))))
    if faults:
        report["faults"] = as_dict(fault_test(link, faults))
    report["device_stats"] = link.stats()
    report["host_link"] = link.counters.as_dict()
    report["ok"] = all(report[k]["ok"] for k in ("echo", "replay", "faults") if k in report)
    return report


def linktest(port: str, echo: int = 10_000, replay_bytes: int = 1_000_000, faults: int = 120,
             progress: Bars | None = None) -> dict:
    """`vigil linktest`: link_report on the device at ``port``."""
    with Link.open(port) as link:
        return link_report(link, echo, replay_bytes, faults, progress)


def reset_test(link: Link) -> dict:
    """Reset the device: a new boot id, and the host counts exactly one reboot."""
    before = link.hello.boot_id if link.hello else 0
    after = link.reset().boot_id
    return {"before": f"{before:08x}", "after": f"{after:08x}", "reboots": link.counters.reboots,
            "ok": after != before and link.counters.reboots == 1}
