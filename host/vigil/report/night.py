"""The night: an accelerometer recording made into what the device computes of it (spectrogram columns, sleep
stages per 30-s epoch) and what the hypnogram shows.

Spectrogram columns come from the DSP twin (``vigil.dsp.accel``), or from a device log (its SPEC_COLUMN frames).
The stages, the sleep model's int8 outputs and the motion level are SLEEP records: the device log's, else the twin's
of a models/ bundle; only with a training folder and no bundle does the host's model predict (either kind, through
``vigil.ml.sleep_evaluate.device_outputs``: the twin's inputs and TFLM, no motion).

    night, rec, name = build_night(Path("night.vrec"), bundle=load_model_bundle(Path("models")))

Sleep classes: 0 wake, 1 NREM, 2 REM (``vigil.records.SLEEP_CLASS_LABELS``), -1 unscored / none.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import numpy as np

from vigil.data.recording import Recording
from vigil.dsp import accel as accel_twin
from vigil.dsp import config as dsp
from vigil.errors import VigilError
from vigil.report.device_log import DeviceLog
from vigil.report.frozen import freeze
from vigil.report.model_folders import SleepModel
from vigil.report.model_records import (
    NONE,
    ModelBundle,
    Progress,
    records_agreement,
    sleep_arrays,
    timed_twin_records,
)
from vigil.report.recording_source import conversion_notes, load_recording_source
from vigil.report.stage_labels import OTHER, PSG, SYNTHETIC, LabelWords, label_words

TWIN_COLUMNS = "twin (vigil.dsp, bit-exact with the device)"
#: What each kind of sleep model reads of the recording (the twin makes it, as the device does).
MODEL_INPUTS = {"seed": "epoch images", "context": "epoch feature contexts"}


@dataclass(frozen=True)
class NightData:
    """One night (or any accelerometer recording): spectrogram, per-epoch truth and prediction. Arrays are
    read-only, lists tuples (``vigil.report.frozen``)."""

    source: str
    columns: np.ndarray  # (n_cols, 65) int8 spectrogram columns (device quantization: IMAGE_SCALE_DB, zero point)
    n_epochs: int  # whole 30-s epochs of the recording (the arrays below have this length)
    true_labels: np.ndarray | None  # (n_epochs,) int8, -1 unscored; None: the recording has no labels
    predicted: np.ndarray | None  # (n_epochs,) int64 class, -1 where no prediction (last epochs lack an image)
    probabilities: np.ndarray | None  # (n_epochs, 3) float wake/NREM/REM, NaN where no prediction
    columns_from: str = "twin"  # "twin ..." or "device log <path>"
    predictions_from: str | None = None
    notes: tuple[str, ...] = ()
    outputs: np.ndarray | None = None  # (n_epochs, 3) int8 model outputs of the SLEEP records (0 where none)
    motion: np.ndarray | None = None  # (n_epochs,) motion level of the SLEEP records (milli-g), -1 none
    start_time: str | None = None  # the recording's meta["start_time"] (ISO-8601), None when it has none
    label_kind: str = "other"  # what the labels are (report.stage_labels): "psg", "synthetic" or "other"
    model: str | None = None  # how the page names the sleep model ("sleep CNN", "context model"); None unknown

    def __post_init__(self) -> None:
        freeze(self)

    @property
    def label_words(self) -> LabelWords:
        """What the page calls the labels: PSG only for a sleep lab's scoring (``report.stage_labels``)."""
        return {w.kind: w for w in (PSG, SYNTHETIC, OTHER)}[self.label_kind]

    @property
    def model_label(self) -> str:
        return self.model or "sleep model"

    def start_datetime(self) -> datetime | None:
        """The recording's start on its own clock (naive: the clock the recording carries, shown as it is)."""
        if not self.start_time:
            return None
        return datetime.fromisoformat(str(self.start_time)).replace(tzinfo=None)

    def column_times_s(self) -> np.ndarray:
        """Centre of each column: column j covers derivative samples [64 j, 64 j + 128)."""
        j = np.arange(len(self.columns))
        return (j * dsp.STFT_HOP + dsp.STFT_N / 2) / dsp.ACCEL_RATE_HZ

    def column_db(self) -> np.ndarray:
        """(n_cols, 65) float: dB of (milli-g)^2 power, from the int8 quantization."""
        return dsp.IMAGE_SCALE_DB * (self.columns.astype(np.float64) - dsp.IMAGE_ZERO_POINT)

    def epoch_starts_s(self) -> np.ndarray:
        return np.arange(self.n_epochs) * float(dsp.EPOCH_S)


@dataclass(frozen=True)
class Stages:
    """The night's predicted stages and where they come from (SLEEP records, or the host's model)."""

    source: str
    predicted: np.ndarray  # (n_epochs,) int64, -1 none
    probabilities: np.ndarray | None  # (n_epochs, 3), NaN none; None: no output quantization to read them
    outputs: np.ndarray | None = None  # SLEEP records only: (n_epochs, 3) int8 outputs, 0 none
    motion: np.ndarray | None = None  # SLEEP records only: (n_epochs,) milli-g, -1 none


def device_columns(log: DeviceLog, twin_columns: np.ndarray, rec_name: str, notes: list[str]) -> np.ndarray:
    """The log's spectrogram columns (they must be as many as the twin's), and a note how many equal the twin's."""
    dev = log.column_array()
    if len(dev) != len(twin_columns):
        raise VigilError(f"{log.path}: {len(dev)} spectrogram columns, but {rec_name} makes {len(twin_columns)}; "
                         "is this the log of that recording?")  # fmt: skip
    same = int(np.sum(np.all(dev == twin_columns, axis=1)))
    notes.append(f"Spectrogram columns are the device's (from {log.path}); {same} of {len(dev)} equal the twin's.")
    return dev


def night_predictions(rec: Recording, n_epochs: int, model: SleepModel, progress: Progress | None = None
                      ) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
    """The host's sleep model (either kind) on ``rec`` through the twin and TFLM
    (``vigil.ml.sleep_evaluate.device_outputs``): classes (n_epochs,) -1 none, probabilities (n_epochs, 3) NaN
    none."""
    from vigil.ml.sleep import device_class

    step = f"{model.label} (TFLM)"
    if progress:
        progress(step, 0, 1)
    epochs, outputs = model.predict_recording(rec)
    if progress:
        progress(step, 1, 1)
    predicted = np.full(n_epochs, NONE, dtype=np.int64)
    probs = np.full((n_epochs, 3), np.nan)
    inside = epochs < n_epochs
    if inside.any():
        predicted[epochs[inside]] = device_class(outputs[inside])
        probs[epochs[inside]] = model.probabilities(outputs[inside])
    return predicted, probs


def record_stages(records: list[dict[str, int]], n_epochs: int, source: str, model: SleepModel | None,
                  notes: list[str]) -> Stages:  # fmt: skip
    """The stages, model outputs, probabilities (through ``model``'s output quantization) and motion of SLEEP
    records."""
    arrays = sleep_arrays(records, n_epochs, model, source)
    if arrays.probabilities is None:
        notes.append("No sleep model to read the model's output quantization: no probabilities.")
    return Stages(source, arrays.predicted, arrays.probabilities, arrays.outputs, arrays.motion)


def build_night(
    source: Path | Recording,
    model: SleepModel | None = None,
    log: DeviceLog | None = None,
    progress: Progress | None = None,
    bundle: ModelBundle | None = None,
    more_notes: Sequence[str] = (),
) -> tuple[NightData, Recording, str]:
    """The night of ``source``: columns of the twin (or ``log``), stages of the log's SLEEP records, else of the
    twin of ``bundle``, else of ``model`` through TFLM; ``more_notes`` come last. Also the recording and its name."""
    rec, name = load_recording_source(source, "night")
    if len(rec.accel) < dsp.STFT_N:
        raise VigilError(f"{name}: no accelerometer samples to make a spectrogram of "
                         "(a night needs the wrist accelerometer)")  # fmt: skip
    notes = conversion_notes(rec, name)
    columns, columns_from = accel_twin.accel_columns(rec.accel), TWIN_COLUMNS
    if log is not None and log.columns:
        columns, columns_from = device_columns(log, columns, name, notes), f"device log {log.path}"
    try:
        labels = rec.epoch_labels() if rec.sleep_labels is not None else None
    except VigilError as exc:  # labels off the device's epoch grid
        raise VigilError(f"{name}: {exc}") from None
    n_epochs = len(rec.accel) // dsp.EPOCH_SAMPLES
    if labels is None:
        notes.append(f"{name} has no sleep labels: the hypnogram shows the prediction only.")
    quant = bundle.sleep if bundle is not None else model  # whose output quantization reads the int8 outputs
    twin = timed_twin_records(rec, bundle, "night: twin of the device's models", progress)
    stages = None
    if log is not None and log.sleep:
        stages = record_stages(log.sleep, n_epochs, f"device log {log.path}", quant, notes)
        notes.append(f"Sleep stages, model outputs and motion are the device's SLEEP records ({log.path}, "
                     f"{len(log.sleep)} epochs).")  # fmt: skip
        if twin is not None:
            same, total = records_agreement(log.sleep, twin.sleep, "epoch")
            notes.append(f"{same} of {total} SLEEP records equal the {twin.source}'s in every field.")
        elif model is not None:  # the device's engine must agree with TFLM: say whether it did
            host, _ = night_predictions(rec, n_epochs, model, progress)
            both = (stages.predicted >= 0) & (host >= 0)
            same = int(np.sum(stages.predicted[both] == host[both]))
            notes.append(f"The device's stage equals {model.path}'s (TFLM on the twin's inputs) on "
                         f"{same} of {int(both.sum())} epochs.")  # fmt: skip
    elif twin is not None:
        stages = record_stages(twin.sleep, n_epochs, twin.source, quant, notes)
        notes.append(f"Sleep stages, model outputs and motion are the {twin.source} ({len(twin.sleep)} SLEEP "
                     "records, the integers the device sends).")  # fmt: skip
    elif model is not None:
        predicted, probabilities = night_predictions(rec, n_epochs, model, progress)
        stages = Stages(f"{model.path} ({model.label}) through TFLM on the twin's {MODEL_INPUTS[model.arch]}",
                        predicted, probabilities)  # fmt: skip
        if model.arch == "context":
            notes.append(f"The context model decides epoch t when epoch t + {dsp.SLEEP_CONTEXT_DELAY} ends (it reads "
                         f"the last {dsp.SLEEP_CONTEXT_EPOCHS} epochs' features): the last "
                         f"{dsp.SLEEP_CONTEXT_DELAY} epochs of the recording have no prediction.")  # fmt: skip
    notes += more_notes
    described = {"start_time": rec.meta.get("start_time") or None, "label_kind": label_words(rec).kind,
                 "model": quant.label if quant is not None else None}  # fmt: skip
    if stages is None:
        night = NightData(name, columns, n_epochs, labels, None, None, columns_from, None, notes, **described)
        return night, rec, name
    night = NightData(name, columns, n_epochs, labels, stages.predicted, stages.probabilities, columns_from,
                      stages.source, notes, stages.outputs, stages.motion, **described)  # fmt: skip
    return night, rec, name
