"""Live mode on the host: start a device's live session, check its outputs against the twins while it streams, and
keep the session as a recording that `vigil verify` can replay.

In live mode the device samples its own sources on its own clock (on boards without sensors, the seeded wrist of
firmware/core/sensors/seeded_wrist.c). With the raw tap it sends each chunk of samples it processes (RAW_SAMPLES)
before the outputs computed from it, so when a tap frame arrives every output of the chunks before it has arrived:
the twins run on the tap up to that frame must give exactly those outputs, no more, no fewer. ``LiveVerifier``
remembers that point at each tap frame (a ``Checkpoint``); ``check`` compares there while the session runs and
``finish`` compares everything once the device has stopped, as `vigil verify` does for a replay.

Lost samples are never silent: the device counts what its sources' FIFOs dropped (STATS live_dropped) and holds
each in its place (the last delivered sample repeated, in tap frames flagged RAW_FLAG_HELD), so its pipelines keep
the sources' timeline and the twins see what it processed. The host checks that the held samples are as many as the
dropped ones, that the tap's indices have no gap (a gap is a tap frame lost on the way) and that the STATS sample CRC
equals the CRC of the tap it received (nothing lost or altered between the device's pipelines and the host)."""

from __future__ import annotations

import threading
import time
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np

from vigil.bundle import consensus_twin
from vigil.data.recording import Recording
from vigil.device import protocol as p
from vigil.device.link import Link, LinkEvent
from vigil.errors import LinkError
from vigil.replay import DeviceOutputs

#: How often `vigil monitor --live` asks for STATS (what the sources dropped), unless --stats-every says.
LIVE_STATS_EVERY_S = 2.0

#: The DeviceOutputs lists a checkpoint cuts (every output the twins compare).
OUTPUT_LISTS = ("deriv", "ppg_filtered", "columns", "images", "features", "beats", "hrv", "sleep", "stress")


@dataclass(frozen=True)
class Checkpoint:
    """A point in the stream where every output of the samples tapped so far has arrived."""

    accel: int  # tapped accelerometer samples (xyz triplets) before it
    ppg: int  # tapped PPG samples before it
    outputs: dict[str, int]  # the lengths of DeviceOutputs' lists there

    @property
    def signal_s(self) -> float:
        return self.accel / p.ACCEL_RATE_HZ


@dataclass
class TapGap:
    channel: str
    at: int  # the source's sample number where the gap starts
    missing: int


@dataclass
class LiveVerifier:
    """Listens to a link in live mode with the raw tap: the tapped samples, the device's outputs and checkpoints."""

    ppg_rate_hz: int
    models: consensus_twin.DeviceModels
    sample_crc_start: int = 0  # STATS sample_crc before the session (the device's CRC runs since boot)
    outputs: DeviceOutputs = field(default_factory=DeviceOutputs)
    gaps: list[TapGap] = field(default_factory=list)  # tap frames lost on the way (never expected)
    held: dict[str, int] = field(default_factory=lambda: {"accel": 0, "ppg": 0})  # samples standing in for drops
    checked: Checkpoint | None = None  # the latest checkpoint compared
    mismatches: int = 0
    first_mismatch: dict[str, Any] | None = None
    first_mismatch_signal_s: float | None = None
    _accel: list[np.ndarray] = field(default_factory=list)  # the tapped chunks, int16 (accelerometer: n x 3)
    _ppg: list[np.ndarray] = field(default_factory=list)
    _accel_n: int = 0
    _ppg_n: int = 0
    _next_index: dict[int, int] = field(default_factory=dict)
    _crc: int = 0
    _mark: Checkpoint | None = None
    _started: bool = False  # the session's CONFIG_ACK has come: what came before belongs to an earlier session
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self._crc = self.sample_crc_start

    # ------------------------------------------------------------ the link's reader thread

    def on_event(self, event: LinkEvent) -> None:
        frame = event.frame
        if frame is None:
            return
        if not self._started:  # a frame still in the port from before this session (an ERROR, a record) is not ours
            if frame.type == p.MsgType.CONFIG_ACK:
                ack = p.ConfigAck.unpack(frame.payload)
                self._started = ack.status == p.CONFIG_OK and bool(ack.flags & p.CONFIG_FLAG_LIVE)
            return
        if frame.type != p.MsgType.RAW_SAMPLES:
            self.outputs.on_event(event)
            return
        header = p.Samples.HEADER.size
        if len(frame.payload) < header or (len(frame.payload) - header) % 2:
            p.Samples.unpack(frame.payload)  # raises the decoder's own error for a malformed payload
        channel, flags, first_index = p.Samples.HEADER.unpack_from(frame.payload)
        values = np.frombuffer(frame.payload, "<i2", offset=header)  # the samples once, not as Python ints too
        with self._lock:
            self._mark = Checkpoint(self._accel_n, self._ppg_n, self._lengths())
            expected = self._next_index.get(channel, 0)
            if first_index != expected:
                name = p.Channel(channel).name.lower() if channel in (0, 1) else str(channel)
                self.gaps.append(TapGap(name, expected, (first_index - expected) & 0xFFFFFFFF))
            count = len(values) // (3 if channel == p.Channel.ACCEL else 1)
            self._next_index[channel] = first_index + count
            if flags & p.RAW_FLAG_HELD and channel in (p.Channel.ACCEL, p.Channel.PPG):
                self.held[p.Channel(channel).name.lower()] += count
            self._crc = zlib.crc32(frame.payload[header:], zlib.crc32(frame.payload[:1], self._crc))
            if channel == p.Channel.ACCEL:
                self._accel.append(values.reshape(-1, 3))
                self._accel_n += count
            elif channel == p.Channel.PPG:
                self._ppg.append(values)
                self._ppg_n += count

    def _lengths(self) -> dict[str, int]:
        return {name: len(getattr(self.outputs, name)) for name in OUTPUT_LISTS}

    # ------------------------------------------------------------ the host's thread

    @property
    def signal_s(self) -> float:
        """Seconds of accelerometer signal tapped so far."""
        return self._accel_n / p.ACCEL_RATE_HZ

    @property
    def sample_crc(self) -> int:
        return self._crc

    def recording(self, upto: Checkpoint | None = None, **meta: Any) -> Recording:
        """The tapped samples (up to a checkpoint, or all) as a recording."""
        with self._lock:
            accel = np.concatenate(self._accel) if self._accel else np.zeros((0, 3), np.int16)
            ppg = np.concatenate(self._ppg) if self._ppg else np.zeros(0, np.int16)
        if upto is not None:
            accel, ppg = accel[: upto.accel], ppg[: upto.ppg]
        return Recording.from_arrays(accel, ppg, self.ppg_rate_hz, source={"kind": "live", **meta})

    def _outputs_upto(self, mark: Checkpoint | None) -> DeviceOutputs:
        with self.outputs._lock:
            cut = DeviceOutputs(errors=list(self.outputs.errors), cost=list(self.outputs.cost),
                                config=self.outputs.config)  # fmt: skip
            for name in OUTPUT_LISTS:
                values = getattr(self.outputs, name)
                setattr(cut, name, list(values if mark is None else values[: mark.outputs[name]]))
        return cut

    def check(self, final: bool = False) -> dict[str, Any]:
        """Compare the device with the twins at the latest checkpoint (``final``: on everything, once the device has
        stopped). Returns vigil verify's summary; the first mismatch of the session is kept."""
        from vigil.verify import compare, summary, twin_outputs

        with self._lock:
            mark = None if final else self._mark
        if not final and (mark is None or mark == self.checked):
            return {"ok": self.first_mismatch is None, "checked_s": self.checked.signal_s if self.checked else 0.0}
        rec = self.recording(mark)
        report = summary(compare(self._outputs_upto(mark), twin_outputs(rec, self.ppg_rate_hz, self.models),
                                 self.ppg_rate_hz))  # fmt: skip
        self.checked = mark or Checkpoint(len(rec.accel), len(rec.ppg), self._lengths())
        self.mismatches = sum(s["mismatches"] for s in report["stages"].values())
        if not report["ok"] and self.first_mismatch is None:
            self.first_mismatch = report["first_mismatch"]
            self.first_mismatch_signal_s = self.checked.signal_s
        report["checked_s"] = self.checked.signal_s
        return report


@dataclass
class LiveSettings:
    seed: int = 0
    speed: int = 1  # the seeded wrist's clock, times the board's
    ppg_rate_hz: int = p.PPG_RATE_HZ
    signal_s: float | None = None  # stop after this much signal (None: at the duration, or Ctrl-C)
    duration_s: float | None = None  # stop after this much wall time
    check_every_s: float = 2.0  # wall seconds between live checks
    sensors: bool = False  # the board's own sensors instead of the seeded wrist (seed and speed then unused)


def start_live(link: Link, settings: LiveSettings, tap: bool = True) -> p.ConfigAck:
    """CONFIG the device into live mode (with the raw tap and the traces when ``tap``); refuses loudly."""
    flags = p.CONFIG_FLAG_LIVE | (p.CONFIG_FLAG_RAW_TAP | p.CONFIG_FLAG_TRACE if tap else 0)
    flags |= p.CONFIG_FLAG_SENSORS if settings.sensors else 0
    speed = 1 if settings.sensors else settings.speed  # a chip samples at its own rate
    link.send(p.MsgType.CONFIG, p.Config(settings.ppg_rate_hz, flags, settings.seed, speed).pack())
    ack = p.ConfigAck.unpack(link.expect(p.MsgType.CONFIG_ACK).payload)
    if ack.status == p.CONFIG_UNSUPPORTED_RATE:
        raise LinkError(f"{link.path}: the device refused a PPG rate of {settings.ppg_rate_hz} Hz")
    if ack.status == p.CONFIG_NO_SENSORS:
        raise LinkError(f"{link.path}: the board has no sensors that answered at a PPG rate of "
                        f"{settings.ppg_rate_hz} Hz (a Nano 33 BLE Sense rev1 with a MAX3010x on the header runs at "
                        "100 Hz: --ppg-rate 100; boards without sensors run live mode on the seeded wrist: drop "
                        "--sensors)")  # fmt: skip
    if ack.status != p.CONFIG_OK:
        raise LinkError(f"{link.path}: the device refused live mode (speed {settings.speed}: 1 to "
                        f"{p.LIVE_SPEED_MAX}; a firmware older than live mode answers this too)")  # fmt: skip
    return ack


#: How long the end of a session may go without a frame before the device counts as gone.
STOP_IDLE_S = 30.0


def stop_live(link: Link, ppg_rate_hz: int, idle_s: float = STOP_IDLE_S) -> None:
    """End live mode (a CONFIG without it): the device has sent every output of what it processed once the
    CONFIG_ACK is here. The ACK queues behind the session's backlog, which a host slower than the device may take
    minutes to read: it waits as long as frames keep coming, and gives up after ``idle_s`` without one."""
    link.send(p.MsgType.CONFIG, p.Config(ppg_rate_hz, 0).pack())
    while True:
        try:
            frame = link.recv(idle_s)
        except LinkError as exc:
            raise LinkError(f"{exc}; the session's end (CONFIG_ACK) never came") from None
        if frame.type == p.MsgType.CONFIG_ACK:
            return


@dataclass
class LiveResult:
    report: dict[str, Any]
    verifier: LiveVerifier


def run_live_verify(link: Link, settings: LiveSettings, rec_path: Path | None = None,
                    on_update: Callable[[LiveVerifier], None] | None = None) -> LiveResult:  # fmt: skip
    """`vigil monitor --verify`'s session on an open link: live mode with the raw tap, checked as it streams, until
    the signal or wall time is up (or Ctrl-C); then the device is stopped, everything compared, the drops and the
    tap's CRC accounted for, and the tapped samples written to ``rec_path`` (.vrec)."""
    hello = link.hello or link.request_hello()
    models = consensus_twin.DeviceModels.load()
    from vigil.verify import check_models

    check_models(hello, models.hashes)
    crc0 = link.stats()["sample_crc"]
    verifier = LiveVerifier(settings.ppg_rate_hz, models, sample_crc_start=crc0)
    update = on_update or (lambda v: None)
    link.listeners.append(verifier.on_event)
    started = time.monotonic()
    try:
        verifier.outputs.config = start_live(link, settings)
        next_check = started + settings.check_every_s
        try:
            while not _session_over(settings, verifier, started):
                time.sleep(0.05)
                link.drain()
                if time.monotonic() >= next_check:
                    verifier.check()
                    next_check = time.monotonic() + settings.check_every_s
                update(verifier)
        except KeyboardInterrupt:
            pass
        stop_live(link, settings.ppg_rate_hz)
        stats = link.stats()
    finally:
        link.listeners.remove(verifier.on_event)
        link.drain()
    report = verifier.check(final=True)
    update(verifier)
    report.update(_accounting(verifier, stats, crc0))
    source = {"sources": "sensors"} if settings.sensors else {"sources": "seeded wrist", "seed": settings.seed,
                                                                  "speed": settings.speed}  # fmt: skip
    report.update(board=hello.board, boot_id=hello.boot_id, **source,
                  ppg_rate_hz=settings.ppg_rate_hz, wall_s=round(time.monotonic() - started, 3),
                  first_mismatch_signal_s=verifier.first_mismatch_signal_s,
                  device_errors=[e.code_name for e in verifier.outputs.errors])  # fmt: skip
    report["ok"] = bool(report["ok"] and verifier.first_mismatch is None and not report["device_errors"]
                        and report["drops_explained"] and report["tap_crc_ok"])  # fmt: skip
    if rec_path is not None:
        verifier.recording(board=hello.board, boot_id=hello.boot_id, **source,
                           dropped=report["dropped"], held=report["held"]).save(rec_path)  # fmt: skip
        report["recording"] = str(rec_path)
    return LiveResult(report, verifier)


def _session_over(settings: LiveSettings, verifier: LiveVerifier, started: float) -> bool:
    if settings.signal_s is not None and verifier.signal_s >= settings.signal_s:
        return True
    return settings.duration_s is not None and time.monotonic() - started >= settings.duration_s


def _accounting(verifier: LiveVerifier, stats: dict[str, int], crc0: int) -> dict[str, Any]:
    """Where every sample went: delivered and tapped, or dropped by a FIFO (STATS) and held in the tap."""
    held = sum(verifier.held.values())
    tapped = verifier._accel_n + verifier._ppg_n - held
    dropped = stats.get("live_dropped", 0)
    return {
        "signal_s": round(verifier.signal_s, 3),
        "samples": {"accel": verifier._accel_n, "ppg": verifier._ppg_n, "device_delivered": stats.get("live_samples", 0)},
        "dropped": dropped,
        "held": dict(verifier.held),
        "overruns": stats.get("live_overruns", 0),
        "tap_gaps": [g.__dict__ for g in verifier.gaps],
        # every sample the sources delivered reached the host, every one they lost was held in its place, and no tap
        # frame went missing on the way
        "drops_explained": stats.get("live_samples", 0) == tapped and held == dropped and not verifier.gaps,
        "tap_crc_ok": stats.get("sample_crc") == verifier.sample_crc,
    }


def verify_live(port: str, settings: LiveSettings, rec_path: Path | None, log: Path | None = None,
                on_update: Callable[[LiveVerifier], None] | None = None) -> dict[str, Any]:  # fmt: skip
    """`vigil monitor --verify` on ``port``: run_live_verify, every frame also logged to ``log`` (JSON Lines)."""
    from contextlib import nullcontext

    from vigil.monitor import JsonlLog, event_record

    with Link.open(port) as link, (JsonlLog(log) if log else nullcontext()) as jsonl:
        if jsonl is not None:
            link.listeners.append(lambda event: jsonl.write(event_record(event, port)))
        link.request_hello()
        result = run_live_verify(link, settings, rec_path, on_update)
    if log is not None:
        result.report["log"] = str(log)
    return result.report
