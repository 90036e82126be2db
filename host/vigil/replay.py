"""Streaming a recording into a device (`vigil replay`) and collecting what it computes.

Samples go out in time order, accelerometer and PPG interleaved, under the link's credit
flow control, so nothing is lost at any link speed. Every output frame the device sends
back is collected (and optionally logged as JSON Lines, like `vigil monitor`)."""

from __future__ import annotations

import threading
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np

from vigil.data.recording import Recording
from vigil.device import protocol as p
from vigil.device.link import Link, LinkEvent
from vigil.errors import LinkError

ACCEL_SAMPLES_PER_FRAME = p.Samples.MAX_SAMPLES // 3  # xyz triplets
PPG_SAMPLES_PER_FRAME = p.Samples.MAX_SAMPLES
# On the virtual board the device's clock runs on instructions (-icount shift=0): 1 ns each.
VIRTUAL_INSTRUCTIONS_PER_SECOND = 1_000_000_000


@dataclass
class DeviceOutputs:
    """Everything the device computed during one replay, in arrival order."""

    deriv: list[tuple[int, tuple[int, ...]]] = field(default_factory=list)  # (first_index, values)
    ppg_filtered: list[tuple[int, tuple[int, ...]]] = field(default_factory=list)
    columns: list[p.SpecColumn] = field(default_factory=list)
    images: list[p.EpochImage] = field(default_factory=list)
    features: list[p.EpochFeatures] = field(default_factory=list)  # EPOCH_FEATURES (context sleep model)
    beats: list[int] = field(default_factory=list)
    hrv: list[dict[str, int]] = field(default_factory=list)
    sleep: list[dict[str, int]] = field(default_factory=list)  # SLEEP records (protocol.SLEEP_FIELDS)
    stress: list[dict[str, int]] = field(default_factory=list)  # STRESS records (protocol.STRESS_FIELDS)
    errors: list[p.ErrorReport] = field(default_factory=list)
    cost: list[p.StageCost] = field(default_factory=list)
    config: p.ConfigAck | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def on_event(self, event: LinkEvent) -> None:
        frame = event.frame
        if frame is None:
            return
        t, data = frame.type, frame.payload
        with self._lock:
            if t == p.MsgType.TRACE_DERIV:
                tr = p.Trace.unpack(data, 2)
                self.deriv.append((tr.first_index, tr.values))
            elif t == p.MsgType.TRACE_PPG:
                tr = p.Trace.unpack(data, 4)
                self.ppg_filtered.append((tr.first_index, tr.values))
            elif t == p.MsgType.SPEC_COLUMN:
                self.columns.append(p.SpecColumn.unpack(data))
            elif t == p.MsgType.EPOCH_IMAGE:
                self.images.append(p.EpochImage.unpack(data))
            elif t == p.MsgType.EPOCH_FEATURES:
                self.features.append(p.EpochFeatures.unpack(data))
            elif t == p.MsgType.BEAT:
                self.beats.append(int.from_bytes(data[:4], "little"))
            elif t == p.MsgType.HRV:
                self.hrv.append(p.unpack_hrv(data))
            elif t == p.MsgType.SLEEP:
                self.sleep.append(p.unpack_sleep(data))
            elif t == p.MsgType.STRESS:
                self.stress.append(p.unpack_stress(data))
            elif t == p.MsgType.ERROR:
                self.errors.append(p.ErrorReport.unpack(data))

    @staticmethod
    def _concat(chunks: list[tuple[int, tuple[int, ...]]], what: str) -> np.ndarray:
        values: list[int] = []
        for first, chunk in chunks:
            if first != len(values):
                raise LinkError(f"{what} trace jumps from sample {len(values)} to {first}: device output lost")
            values.extend(chunk)
        return np.asarray(values, dtype=np.int64)

    def deriv_array(self) -> np.ndarray:
        return self._concat(self.deriv, "derivative")

    def ppg_filtered_array(self) -> np.ndarray:
        return self._concat(self.ppg_filtered, "filtered PPG")


def frame_count(rec: Recording) -> int:
    """How many SAMPLES frames ``sample_frames(rec)`` makes, without making them."""
    n = -(-len(rec.accel) // ACCEL_SAMPLES_PER_FRAME)
    if rec.ppg_rate_hz and len(rec.ppg):
        n += -(-len(rec.ppg) // PPG_SAMPLES_PER_FRAME)
    return n


def sample_frames(rec: Recording) -> list[p.Samples]:
    """The recording as SAMPLES frames in order of their start time."""
    timed: list[tuple[float, int, p.Samples]] = []
    accel = rec.accel.astype(np.int16)
    for start in range(0, len(accel), ACCEL_SAMPLES_PER_FRAME):
        block = accel[start : start + ACCEL_SAMPLES_PER_FRAME]
        timed.append((start / rec.accel_rate_hz, 0, p.Samples(p.Channel.ACCEL, start, tuple(int(v) for v in block.ravel()))))
    if rec.ppg_rate_hz and len(rec.ppg):
        ppg = rec.ppg.astype(np.int16)
        for start in range(0, len(ppg), PPG_SAMPLES_PER_FRAME):
            block = ppg[start : start + PPG_SAMPLES_PER_FRAME]
            timed.append((start / rec.ppg_rate_hz, 1, p.Samples(p.Channel.PPG, start, tuple(int(v) for v in block))))
    timed.sort(key=lambda item: (item[0], item[1]))
    return [frame for _, _, frame in timed]


def configure(link: Link, ppg_rate_hz: int, trace: bool = True) -> p.ConfigAck:
    """Start a fresh processing session on the device."""
    link.send(p.MsgType.CONFIG, p.Config(ppg_rate_hz, p.CONFIG_FLAG_TRACE if trace else 0).pack())
    ack = p.ConfigAck.unpack(link.expect(p.MsgType.CONFIG_ACK).payload)
    if ack.status != p.CONFIG_OK:
        raise LinkError(f"{link.path}: the device refused a PPG rate of {ppg_rate_hz} Hz")
    return ack


def request_cost(link: Link) -> list[p.StageCost]:
    link.send(p.MsgType.COST_REQ)
    return p.unpack_cost(link.expect(p.MsgType.COST).payload)


def replay(
    link: Link,
    rec: Recording,
    trace: bool = True,
    progress: Callable[[int], None] | None = None,
    default_ppg_rate_hz: int = p.PPG_RATE_HZ,
) -> DeviceOutputs:
    """Stream ``rec`` through the device; returns what it computed."""
    outputs = DeviceOutputs()
    link.listeners.append(outputs.on_event)
    try:
        outputs.config = configure(link, rec.ppg_rate_hz or default_ppg_rate_hz, trace)
        link.send_samples(sample_frames(rec), timeout=60, progress=progress)
        outputs.cost = request_cost(link)
    finally:
        link.listeners.remove(outputs.on_event)
    return outputs


def replay_recording(port: str, path: Path, log: Path | None = None, any_models: bool = False,
                     progress: Callable[[str, int], Callable[[int], None] | None] | None = None,
                     csv_stem: Path | None = None) -> dict[str, Any]:
    """`vigil replay`: stream the recording at ``path`` through the device on ``port`` and count what came back,
    logging every frame to ``log`` (JSON Lines, appended) when given. The device's models (HELLO) must be those of
    models/ ($VIGIL_MODELS_DIR) unless ``any_models``. ``progress(description, total)`` may return a per-frame
    callback. With ``csv_stem``, the SLEEP and STRESS records also go to CSV_STEM.sleep.csv / .stress.csv
    (vigil.results_csv). Returns the summary `vigil replay --json` prints."""
    from vigil.monitor import JsonlLog, event_record

    rec = Recording.load(path)
    with Link.open(port) as link, (JsonlLog(log) if log else nullcontext()) as jsonl:
        if jsonl is not None:
            link.listeners.append(lambda event: jsonl.write(event_record(event, port)))
        hello = link.request_hello()
        if not any_models:
            from vigil.bundle.consensus_twin import models_dir
            from vigil.bundle.model_bundle import bundle_hashes
            from vigil.verify import check_models

            check_models(hello, bundle_hashes(models_dir()))
        outputs = replay(link, rec, progress=progress("replay", frame_count(rec)) if progress else None)
    csv_files = []
    if csv_stem is not None:
        from vigil.results_csv import write_results_csv

        csv_files = [str(f) for f in write_results_csv(csv_stem, outputs.sleep, outputs.stress)]
    return {
        "board": hello.board,
        "csv": csv_files,
        "columns": len(outputs.columns),
        "epoch_images": len(outputs.images),
        "epoch_features": len(outputs.features),
        "beats": len(outputs.beats),
        "hrv_segments": len(outputs.hrv),
        "sleep_epochs": len(outputs.sleep),
        "stress_segments": len(outputs.stress),
        "alerts": sum(r["alert"] for r in outputs.stress),
        "device_errors": [e.code_name for e in outputs.errors],
    }
