"""`vigil verify`: every device output against its Python twin, integer for integer.

Stages compared (each in windows, so a mismatch names where it is):
- accel_derivative: per 30-s epoch of samples, index = sample
- epoch_features: per epoch, index = feature name (context sleep model)
- stft_columns: per column, index = frequency bin (sleep CNN)
- epoch_image: per epoch (first column and CRC of the whole int8 image) (sleep CNN)
- ppg_filtered: per 60-s segment of samples, index = sample
- ppg_beats: per segment, index = beat number within the segment
- hrv_features: per segment, index = feature name
- sleep: per decided epoch, index = field of the SLEEP record (int8 outputs, class, motion level, delay)
- stress: per segment, index = field of the STRESS record (features CRC, each model's P(stress), NN logits,
  votes, weighted probability, decision, unanimity, alert, reasons, motion)
A missing or extra output is a mismatch too. The model stages' twin is vigil.bundle.consensus_twin with the models
of models/ (or $VIGIL_MODELS_DIR); the device must announce the same models in HELLO (``check_models``). The device
computes the sleep input its sleep model takes, so the report lists the stages of that input only
(``stages(sleep_input)``): epoch_features for the context model, stft_columns and epoch_image for the CNN."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

import numpy as np

from vigil.data.recording import Recording
from vigil.dsp import accel as accel_twin
from vigil.dsp import config as dsp
from vigil.dsp import ppg as ppg_twin
from vigil.dsp import stft as stft_twin
from vigil.dsp.epoch_features import FEATURE_NAMES, epoch_features
from vigil.dsp.epoch_image import epoch_images
from vigil.replay import VIRTUAL_INSTRUCTIONS_PER_SECOND, DeviceOutputs
from vigil.device import protocol as p
from vigil.device.board import counts_instructions
from vigil.errors import VigilError
from vigil.bundle import consensus_twin

if TYPE_CHECKING:
    from vigil.device.link import Link

#: Every stage vigil verify knows, in report order; a device runs those of its sleep model's input (``stages``).
STAGES = ("accel_derivative", "epoch_features", "stft_columns", "epoch_image", "ppg_filtered", "ppg_beats",
          "hrv_features", "sleep", "stress")  # fmt: skip
SLEEP_INPUT_STAGES = {"context": ("epoch_features",), "image": ("stft_columns", "epoch_image")}


def stages(sleep_input: str) -> tuple[str, ...]:
    """The stages a device whose sleep model takes ``sleep_input`` ("context" or "image") runs, in report order."""
    other = {s for k, v in SLEEP_INPUT_STAGES.items() if k != sleep_input for s in v}
    return tuple(s for s in STAGES if s not in other)


@dataclass
class Mismatch:
    stage: str
    window: int
    index: Any
    device: Any
    twin: Any

    def __str__(self) -> str:
        return f"{self.stage}: window {self.window}, index {self.index}: device {self.device}, twin {self.twin}"


@dataclass
class StageResult:
    windows: int = 0
    mismatches: int = 0
    first: Mismatch | None = None

    def add(self, mismatch: Mismatch | None) -> None:
        self.windows += 1
        if mismatch is not None:
            self.mismatches += 1
            if self.first is None:
                self.first = mismatch


@dataclass
class TwinOutputs:
    deriv: np.ndarray
    columns: np.ndarray  # (n, 65) int8; empty for a context model
    images: list  # EpochImage; empty for a context model
    ppg_filtered: np.ndarray
    beats: np.ndarray
    hrv: list[dict[str, int]]
    sleep: list[dict[str, int]] = field(default_factory=list)
    stress: list[dict[str, int]] = field(default_factory=list)
    features: np.ndarray = field(default_factory=lambda: np.zeros((0, dsp.EPOCH_FEATURES), np.int8))  # context model
    sleep_input: str = "image"  # what the sleep model takes: "context" or "image"


def check_models(hello: p.Hello, hashes: dict[str, bytes]) -> None:
    """Refuse to compare a device whose models are not the twin's: every model of the twin's models folder
    (``hashes``: name -> HELLO hash, e.g. ``DeviceModels.hashes`` or ``model_bundle.bundle_hashes``) must be
    announced in HELLO with the same hash."""
    carried = {m.name: m.hash for m in hello.models}
    for name, digest in hashes.items():
        if carried.get(name) != digest:
            got = carried[name].hex() if name in carried else "none"
            raise VigilError(
                f"{consensus_twin.models_dir()}: the device's {name} is not the twin's (device hash {got}, twin hash "
                f"{digest.hex()}): rebuild the firmware with these models, or point VIGIL_MODELS_DIR at the device's")


def twin_outputs(rec: Recording, ppg_rate_hz: int, models: consensus_twin.DeviceModels | None = None) -> TwinOutputs:
    deriv = accel_twin.derivative(accel_twin.magnitude(rec.accel))
    wrist = accel_twin.derivative_motion(deriv)  # the beats' motion reference and the baseline's stillness
    motion = wrist.epochs  # the alert's context too
    if len(rec.ppg):
        filtered, beats, segments = ppg_twin.ppg_chain(rec.ppg, ppg_rate_hz, motion=wrist)
        hrv = [{name: int(getattr(seg, name)) for name in p.HRV_FIELDS} for seg in segments]
    else:
        filtered, beats, hrv = np.zeros(0, np.int64), np.zeros(0, np.int64), []
    models = models or consensus_twin.DeviceModels.load()
    columns = np.zeros((0, dsp.STFT_BINS), np.int8)
    images: list = []
    features = np.zeros((0, dsp.EPOCH_FEATURES), np.int8)
    if models.sleep_input == "context":
        features = epoch_features(rec.accel, deriv)
        sleep = consensus_twin.context_sleep_records(features, motion, models)
    else:
        columns = stft_twin.stft_columns(deriv)
        images = epoch_images(columns)
        sleep = consensus_twin.sleep_records(images, motion, models)
    stress = consensus_twin.stress_records(hrv, sleep, models)
    sleep_rows = [dict(zip(p.SLEEP_FIELDS, r.fields())) for r in sleep]
    return TwinOutputs(deriv, columns, images, np.asarray(filtered), np.asarray(beats), hrv, sleep_rows, stress,
                       features, models.sleep_input)  # fmt: skip


def _compare_records(result: StageResult, stage: str, device: list[dict[str, int]], twin: list[dict[str, int]],
                     key: str, fields: tuple[str, ...]) -> None:
    """Records by their window number (``key``), every field compared; missing, extra and repeated ones too."""
    dev: dict[int, dict[str, int]] = {}
    repeated = set()
    for r in device:
        if r[key] in dev:
            repeated.add(r[key])
        dev[r[key]] = r
    want = {r[key]: r for r in twin}
    for w in sorted(set(dev) | set(want)):
        got, exp = dev.get(w), want.get(w)
        mismatch = None
        if got is None or exp is None:
            mismatch = Mismatch(stage, w, None, "missing" if got is None else "extra", None)
        elif w in repeated:
            mismatch = Mismatch(stage, w, None, "repeated", None)
        else:
            for name in fields:
                if got[name] != exp[name]:
                    mismatch = Mismatch(stage, w, name, got[name], exp[name])
                    break
        result.add(mismatch)


def _compare_series(result: StageResult, stage: str, device: np.ndarray, twin: np.ndarray, window: int) -> None:
    n_windows = max(-(-max(len(device), len(twin)) // window), 0)
    for w in range(n_windows):
        d, t = device[w * window : (w + 1) * window], twin[w * window : (w + 1) * window]
        mismatch = None
        diff = np.nonzero(d[: len(t)] != t[: len(d)])[0]
        if len(diff):
            i = int(diff[0])
            mismatch = Mismatch(stage, w, w * window + i, int(d[i]), int(t[i]))
        elif len(d) != len(t):
            i = w * window + min(len(d), len(t))
            mismatch = Mismatch(stage, w, i, "missing" if len(d) < len(t) else "extra", len(t) - len(d))
        result.add(mismatch)


def compare(device: DeviceOutputs, twin: TwinOutputs, ppg_rate_hz: int) -> dict[str, StageResult]:
    results = {stage: StageResult() for stage in stages(twin.sleep_input)}
    _compare_series(results["accel_derivative"], "accel_derivative", device.deriv_array(), twin.deriv, dsp.EPOCH_SAMPLES)
    if twin.sleep_input == "context":
        _compare_features(results["epoch_features"], device, twin.features)
    else:
        _compare_image_stages(results, device, twin)
    _compare_ppg_stages(results, device, twin, ppg_rate_hz)
    _compare_records(results["sleep"], "sleep", device.sleep, twin.sleep, "epoch", p.SLEEP_FIELDS)
    _compare_records(results["stress"], "stress", device.stress, twin.stress, "segment", p.STRESS_FIELDS)
    return results


def _compare_features(result: StageResult, device: DeviceOutputs, twin: np.ndarray) -> None:
    """Feature vectors by epoch, every feature; missing, extra and repeated epochs too. A device that also sends the
    epoch image's outputs runs the other sleep path: a mismatch of its own."""
    dev: dict[int, tuple[int, ...]] = {}
    repeated = set()
    for f in device.features:
        if f.epoch in dev:
            repeated.add(f.epoch)
        dev[f.epoch] = f.features
    for e in range(max(len(twin), max(dev, default=-1) + 1)):
        got = dev.get(e)
        mismatch = None
        if got is None or e >= len(twin):
            mismatch = Mismatch("epoch_features", e, None, "missing" if got is None else "extra", None)
        elif e in repeated:
            mismatch = Mismatch("epoch_features", e, None, "repeated", None)
        else:
            for j, name in enumerate(FEATURE_NAMES):
                if got[j] != int(twin[e][j]):
                    mismatch = Mismatch("epoch_features", e, name, got[j], int(twin[e][j]))
                    break
        result.add(mismatch)
    if device.columns or device.images:
        result.add(Mismatch("epoch_features", len(twin), "sleep input",
                            f"{len(device.columns)} SPEC_COLUMN, {len(device.images)} EPOCH_IMAGE", "none"))


def _compare_image_stages(results: dict[str, StageResult], device: DeviceOutputs, twin: TwinOutputs) -> None:
    dev_cols = {c.index: np.frombuffer(c.values, dtype=np.int8) for c in device.columns}
    for j in range(max(len(twin.columns), max(dev_cols, default=-1) + 1)):
        got = dev_cols.get(j)
        mismatch = None
        if got is None or j >= len(twin.columns):
            mismatch = Mismatch("stft_columns", j, None, "missing" if got is None else "extra", None)
        else:
            diff = np.nonzero(got != twin.columns[j])[0]
            if len(diff):
                b = int(diff[0])
                mismatch = Mismatch("stft_columns", j, b, int(got[b]), int(twin.columns[j][b]))
        results["stft_columns"].add(mismatch)

    dev_images = {img.epoch: img for img in device.images}
    for k in range(max(len(twin.images), max(dev_images, default=-1) + 1)):
        got = dev_images.get(k)
        want = twin.images[k] if k < len(twin.images) else None
        mismatch = None
        if got is None or want is None:
            mismatch = Mismatch("epoch_image", k, None, "missing" if got is None else "extra", None)
        elif (got.first_column, got.crc) != (want.first_column, want.crc):
            mismatch = Mismatch("epoch_image", k, "crc", f"{got.first_column}/{got.crc:08x}", f"{want.first_column}/{want.crc:08x}")
        results["epoch_image"].add(mismatch)
    if device.features:  # the device runs the context model's path: a mismatch of its own
        results["epoch_image"].add(Mismatch("epoch_image", len(twin.images), "sleep input",
                                            f"{len(device.features)} EPOCH_FEATURES", "none"))


def _compare_ppg_stages(results: dict[str, StageResult], device: DeviceOutputs, twin: TwinOutputs,
                        ppg_rate_hz: int) -> None:  # fmt: skip
    segment = dsp.SEGMENT_S * ppg_rate_hz
    _compare_series(results["ppg_filtered"], "ppg_filtered", device.ppg_filtered_array(), twin.ppg_filtered, segment)

    dev_beats, twin_beats = np.asarray(device.beats, dtype=np.int64), np.asarray(twin.beats, dtype=np.int64)
    n_seg = int(max(dev_beats.max(initial=-1), twin_beats.max(initial=-1)) // segment + 1)
    for s in range(n_seg):
        d = dev_beats[(dev_beats // segment) == s]
        t = twin_beats[(twin_beats // segment) == s]
        mismatch = None
        diff = np.nonzero(d[: len(t)] != t[: len(d)])[0]
        if len(diff):
            i = int(diff[0])
            mismatch = Mismatch("ppg_beats", s, i, int(d[i]), int(t[i]))
        elif len(d) != len(t):
            mismatch = Mismatch("ppg_beats", s, min(len(d), len(t)), f"{len(d)} beats", f"{len(t)} beats")
        results["ppg_beats"].add(mismatch)

    dev_hrv = {h["segment"]: h for h in device.hrv}
    for s in range(max(len(twin.hrv), max(dev_hrv, default=-1) + 1)):
        got = dev_hrv.get(s)
        want = twin.hrv[s] if s < len(twin.hrv) else None
        mismatch = None
        if got is None or want is None:
            mismatch = Mismatch("hrv_features", s, None, "missing" if got is None else "extra", None)
        else:
            for name in p.HRV_FIELDS:
                if got[name] != want[name]:
                    mismatch = Mismatch("hrv_features", s, name, got[name], want[name])
                    break
        results["hrv_features"].add(mismatch)


STAGE_RATES = {
    p.Stage.ACCEL_DERIVATIVE: "accel",
    p.Stage.STFT: "accel",
    p.Stage.EPOCH_IMAGE: "accel",
    p.Stage.PPG_FILTER: "ppg",
    p.Stage.PPG_BEATS: "ppg",
    p.Stage.HRV: "ppg",
    p.Stage.SLEEP_CNN: "accel",
    p.Stage.STRESS: "ppg",
    p.Stage.EPOCH_FEATURES: "accel",
}
#: Stages that run once per window: COST also reports instructions per call (per epoch, per segment).
PER_CALL_STAGES = {p.Stage.SLEEP_CNN: "instructions_per_epoch", p.Stage.STRESS: "instructions_per_segment"}


def cost_table(costs: list[p.StageCost], rec: Recording, ppg_rate_hz: int, ticks_per_second: int, board: str) -> dict:
    """Per stage: ticks, and on the virtual board instructions per second of signal."""
    seconds = {"accel": len(rec.accel) / rec.accel_rate_hz, "ppg": len(rec.ppg) / ppg_rate_hz if len(rec.ppg) else 0.0}
    per_tick = VIRTUAL_INSTRUCTIONS_PER_SECOND / ticks_per_second if counts_instructions(board) else None
    out: dict[str, Any] = {}
    total = 0.0
    for c in costs:
        name = p.Stage(c.stage).name.lower()
        sig = seconds[STAGE_RATES[p.Stage(c.stage)]]
        entry: dict[str, Any] = {"calls": c.calls, "ticks": c.ticks, "samples": c.samples}
        if per_tick is not None:
            entry["instructions"] = round(c.ticks * per_tick)
            entry["instructions_per_second_of_signal"] = round(c.ticks * per_tick / sig) if sig else 0
            total += entry["instructions_per_second_of_signal"]
            if p.Stage(c.stage) in PER_CALL_STAGES:
                entry[PER_CALL_STAGES[p.Stage(c.stage)]] = round(c.ticks * per_tick / c.calls) if c.calls else 0
        out[name] = entry
    if per_tick is not None:
        out["total_instructions_per_second_of_signal"] = round(total)
    return out


def summary(results: dict[str, StageResult]) -> dict[str, Any]:
    first = next((r.first for r in results.values() if r.first is not None), None)
    return {
        "ok": all(r.mismatches == 0 for r in results.values()),
        "stages": {name: {"windows": r.windows, "mismatches": r.mismatches, "first_mismatch": str(r.first) if r.first else None}
                   for name, r in results.items()},  # fmt: skip
        "first_mismatch": None if first is None else {"stage": first.stage, "window": first.window, "index": first.index,
                                                       "device": first.device, "twin": first.twin},  # fmt: skip
    }


def verify_recording(link: Link, rec: Recording, progress: Callable[[int], None] | None = None) -> dict[str, Any]:
    """Replay ``rec`` through the device on ``link`` and compare everything: the report of
    `vigil verify --json`."""
    from vigil.replay import replay

    hello = link.hello or link.request_hello()
    models = consensus_twin.DeviceModels.load()
    check_models(hello, models.hashes)
    outputs = replay(link, rec, progress=progress)
    rate = outputs.config.ppg_rate_hz if outputs.config else p.PPG_RATE_HZ
    report = summary(compare(outputs, twin_outputs(rec, rate, models), rate))
    report["board"] = hello.board
    report["device_errors"] = [e.code_name for e in outputs.errors]
    report["ok"] = report["ok"] and not outputs.errors
    report["cost"] = cost_table(outputs.cost, rec, rate, hello.ticks_per_second, hello.board)
    return report


def verify_file(port: str, path: Path, progress: Callable[[str, int], Callable[[int], None] | None] | None = None
                ) -> dict[str, Any]:
    """`vigil verify`: verify_recording of the recording at ``path`` on the device at ``port``; the report names
    the recording. ``progress(description, total)`` may return a per-frame callback."""
    from vigil.device.link import Link
    from vigil.replay import frame_count

    rec = Recording.load(path)
    with Link.open(port) as link:
        link.request_hello()
        report = verify_recording(link, rec, progress=progress("replay", frame_count(rec)) if progress else None)
    report["recording"] = str(path)
    return report
