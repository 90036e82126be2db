"""Walch et al. 2019 (PhysioNet "sleep-accel", Apple Watch) -> recording.

Layout of the PhysioNet folder (one file per subject in each):

* ``motion/<id>_acceleration.txt``: ``t x y z`` separated by spaces; ``t`` in seconds from the
  PSG start (negative before it; the watch often recorded long before the night), x y z in g,
  about 50 Hz with jitter (real steps run from 0.8 ms to 0.26 s around a 20 ms median);
* ``labels/<id>_labeled_sleep.txt``: ``t stage`` per 30-s epoch: 0 wake, 1-4 NREM (N1-N4),
  5 REM, -1 unscored;
* ``heart_rate/<id>_heartrate.txt``: ``t,bpm`` (only summarised in the recording's meta).

What the converter does:

* exact repeats of a row are dropped (Walch's own pipeline does the same); any other
  non-increasing time is an error;
* the median step must be within WALCH_RATE_TOLERANCE of 50 Hz (anything else is not an
  Apple Watch file of this study);
* the samples are interpolated (linearly, at their timestamps) onto a uniform 50 Hz grid.
  With labels, the grid starts on the labels' 30-s grid, MARGIN_EPOCHS epochs before the first
  label where motion exists, and ends MARGIN_EPOCHS after the last; so device epoch ``e``
  (samples ``[1500 e, 1500 e + 1500)``) is label ``e - sleep_labels_start_s / 30``. The margin
  gives the first epochs' spectrogram images real context. Without labels the grid starts at
  the first sample;
* steps longer than GAP_S are gaps: bridged by the interpolation (a straight line), reported,
  and every epoch touching one is labelled unscored (-1);
* g -> milli-g, rounded; values beyond int16 (±32.767 g) clipped, counted and warned.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from vigil.data import resample as rs
from vigil.data.csv_source import read_numeric_table
from vigil.data.recording import (
    ACCEL_UNITS,
    LABEL_NREM,
    LABEL_REM,
    LABEL_UNSCORED,
    LABEL_WAKE,
    Recording,
    warn,
)
from vigil.dsp.config import ACCEL_RATE_HZ, EPOCH_S
from vigil.errors import RecordingFormatError, VigilError

MOTION_DIR, LABELS_DIR, HEART_RATE_DIR = "motion", "labels", "heart_rate"
MOTION_SUFFIX = "_acceleration.txt"
LABELS_SUFFIX = "_labeled_sleep.txt"
HEART_RATE_SUFFIX = "_heartrate.txt"

WALCH_RATE_HZ = 50.0
WALCH_RATE_TOLERANCE = 0.10
GAP_S = 1.0
MARGIN_EPOCHS = 2
# PhysioNet stage -> recording label
STAGE_TO_LABEL = {
    -1: LABEL_UNSCORED,
    0: LABEL_WAKE,
    1: LABEL_NREM,
    2: LABEL_NREM,
    3: LABEL_NREM,
    4: LABEL_NREM,
    5: LABEL_REM,
}
_EPS = 1e-6


class SubjectError(VigilError):
    """--subject is missing, ambiguous or unknown."""


@dataclass
class WalchFiles:
    subject: str
    motion: Path
    labels: Path | None
    heart_rate: Path | None


@dataclass
class Motion:
    t: np.ndarray  # seconds from PSG start, strictly increasing
    g: np.ndarray  # (n, 3) in g
    duplicates_dropped: int
    median_rate_hz: float


@dataclass
class Labels:
    t0: float  # time of the first epoch, seconds from PSG start
    labels: np.ndarray  # int8, one per 30-s epoch from t0 (missing epochs filled with -1)
    raw_stages: np.ndarray  # PhysioNet stages as read, -1 for filled epochs
    filled: int  # epochs missing from the file (filled as unscored)


# ---------------------------------------------------------------- files and subjects


def subject_of(path: Path) -> str:
    """``46343`` for ``46343_acceleration.txt`` (and for ``46343_acceleration_snippet.txt``)."""
    marker = MOTION_SUFFIX.removesuffix(".txt")
    return path.name.split(marker)[0] if marker in path.name else path.stem


def walch_subjects(folder: str | Path) -> list[str]:
    """Subject ids with a motion file in a Walch folder (or in its ``motion/`` folder)."""
    motion_dir = _motion_dir(Path(folder))
    return sorted(subject_of(p) for p in motion_dir.glob(f"*{MOTION_SUFFIX}"))


def _motion_dir(folder: Path) -> Path:
    return folder / MOTION_DIR if (folder / MOTION_DIR).is_dir() else folder


def find_walch_files(src: str | Path, subject: str | None = None) -> WalchFiles:
    """The motion file (and labels, heart rate when present) of one subject. ``src`` is the
    PhysioNet folder, its ``motion/`` folder, or one acceleration file."""
    src = Path(src)
    if src.is_file():
        found = subject_of(src)
        if subject is not None and subject != found:
            raise SubjectError(f"--subject {subject} but {src} is subject {found}'s file")
        motion, root = src, (src.parent.parent if src.parent.name == MOTION_DIR else src.parent)
        return WalchFiles(
            found,
            motion,
            _sibling(root, src.parent, LABELS_DIR, found + LABELS_SUFFIX),
            _sibling(root, src.parent, HEART_RATE_DIR, found + HEART_RATE_SUFFIX),
        )
    if not src.is_dir():
        raise VigilError(f"{src}: no such file or folder")
    motion_dir = _motion_dir(src)
    root = src if motion_dir != src else (src.parent if src.name == MOTION_DIR else src)
    subjects = walch_subjects(src)
    if not subjects:
        raise RecordingFormatError(
            f"{src}: no {MOTION_DIR}/<id>{MOTION_SUFFIX} files; expected a Walch sleep-accel folder"
        )
    if subject is None:
        if len(subjects) > 1:
            raise SubjectError(f"{src} holds {len(subjects)} subjects ({', '.join(subjects)}); pick one with --subject")
        subject = subjects[0]
    elif subject not in subjects:
        raise SubjectError(f"subject {subject} is not in {src}; available: {', '.join(subjects)}")
    return WalchFiles(
        subject,
        motion_dir / f"{subject}{MOTION_SUFFIX}",
        _sibling(root, motion_dir, LABELS_DIR, subject + LABELS_SUFFIX),
        _sibling(root, motion_dir, HEART_RATE_DIR, subject + HEART_RATE_SUFFIX),
    )


def _sibling(root: Path, here: Path, folder: str, name: str) -> Path | None:
    for candidate in (root / folder / name, here / name):
        if candidate.is_file():
            return candidate
    return None


# ---------------------------------------------------------------- reading


def read_motion(path: str | Path) -> Motion:
    """Parse and check a ``<id>_acceleration.txt`` file."""
    table = read_numeric_table(Path(path), ["t", "x", "y", "z"])
    v = table.values
    repeat = np.zeros(len(v), dtype=bool)
    repeat[1:] = np.all(v[1:] == v[:-1], axis=1)
    kept = np.flatnonzero(~repeat)
    t = v[kept, 0]

    def where(row: int) -> str:
        return table.where(int(kept[row]))

    rs.check_increasing(t, where)
    if len(t) < 2:
        raise RecordingFormatError(f"{table.where(0)}: a single sample; expected about 50 rows per second")
    median_step = float(np.median(np.diff(t)))
    rate = 1.0 / median_step
    if abs(rate - WALCH_RATE_HZ) > WALCH_RATE_TOLERANCE * WALCH_RATE_HZ:
        raise RecordingFormatError(
            f"{table.where(0)}: median time step {median_step:.4g} s ({rate:.3g} Hz); expected the Apple Watch's "
            f"{WALCH_RATE_HZ:g} Hz (± {WALCH_RATE_TOLERANCE:.0%})"
        )
    return Motion(t, v[kept, 1:], int(repeat.sum()), rate)


def map_walch_stages(stages: np.ndarray) -> np.ndarray:
    """PhysioNet stages (0 wake, 1-4 NREM, 5 REM, -1 unscored) -> labels (0, 1, 2, -1)."""
    lut = np.full(7, LABEL_UNSCORED, dtype=np.int8)  # index stage + 1
    for stage, label in STAGE_TO_LABEL.items():
        lut[stage + 1] = label
    stages = np.asarray(stages)
    if not np.isin(stages, list(STAGE_TO_LABEL)).all():
        raise ValueError(f"stages outside -1..5: {sorted(set(stages.tolist()) - set(STAGE_TO_LABEL))}")
    return lut[stages.astype(np.int64) + 1]


def read_labels(path: str | Path) -> Labels:
    """Parse and check a ``<id>_labeled_sleep.txt`` file."""
    table = read_numeric_table(Path(path), ["t", "stage"])
    t, stage = table.values[:, 0], table.values[:, 1]
    bad = np.flatnonzero((stage != np.round(stage)) | ~np.isin(stage, list(STAGE_TO_LABEL)))
    if len(bad):
        row = int(bad[0])
        raise RecordingFormatError(
            f"{table.where(row)}: stage {stage[row]:g}; expected -1 (unscored), 0 (wake), 1-4 (NREM) or 5 (REM)"
        )
    rs.check_increasing(t, table.where)
    offset = (t - t[0]) / EPOCH_S
    index = np.round(offset).astype(np.int64)
    off_grid = np.flatnonzero(np.abs(offset - index) > _EPS)
    if len(off_grid):
        row = int(off_grid[0])
        raise RecordingFormatError(
            f"{table.where(row)}: epoch time {t[row]:g} s; expected {t[0]:g} s plus a multiple of {EPOCH_S} s"
        )
    raw = np.full(int(index[-1]) + 1, -1, dtype=np.int8)
    raw[index] = stage.astype(np.int8)
    return Labels(float(t[0]), map_walch_stages(raw), raw, len(raw) - len(t))


def heart_rate_summary(path: Path, start: float, stop: float) -> dict[str, Any]:
    """Count and mean/min/max bpm of ``t,bpm`` rows within [start, stop] (PSG seconds)."""
    table = read_numeric_table(path, ["t", "bpm"], delimiter=",")
    t, bpm = table.values[:, 0], table.values[:, 1]
    inside = bpm[(t >= start) & (t <= stop)]
    summary: dict[str, Any] = {"file": str(path), "samples": len(inside)}
    if len(inside):
        summary.update(
            mean_bpm=round(float(inside.mean()), 2), min_bpm=float(inside.min()), max_bpm=float(inside.max())
        )
    return summary


# ---------------------------------------------------------------- conversion


def load_walch(src: str | Path, *, subject: str | None = None) -> Recording:
    """A recording of one Walch subject (see the module doc)."""
    files = find_walch_files(src, subject)
    motion = read_motion(files.motion)
    labels = read_labels(files.labels) if files.labels else None
    t0, n = _grid(motion, labels, files)
    stop = t0 + (n - 1) / ACCEL_RATE_HZ
    warnings: list[str] = []
    mg = rs.interpolate_to_grid(motion.t, motion.g, t0, ACCEL_RATE_HZ, n) * 1000.0
    accel, clipped = rs.to_int16(mg)
    if clipped:
        _warn(warnings, f"{files.motion.name}: {clipped} values beyond the int16 range (±32.767 g) clipped")
    gaps = _gaps(motion.t, t0, stop)
    if gaps:
        total = sum(b - a for a, b in gaps)
        _warn(
            warnings,
            f"{files.motion.name}: {len(gaps)} gap(s) longer than {GAP_S:g} s ({total:.1f} s in all) "
            "bridged by interpolation; their epochs are unscored",
        )
    meta: dict[str, Any] = {
        "accel_units": ACCEL_UNITS,
        "ppg_units": None,
        "ppg_counts_per_unit": None,
        "start_time": None,
        "source": {
            "kind": "walch",
            "path": str(src),
            "subject": files.subject,
            "motion_file": str(files.motion),
            "labels_file": str(files.labels) if files.labels else None,
            "psg_time_s": round(t0, 6),
        },
        "notes": (
            f"Walch sleep-accel subject {files.subject}: Apple Watch motion (about {motion.median_rate_hz:.2f} Hz, "
            f"jittered) interpolated onto a uniform {ACCEL_RATE_HZ} Hz grid starting {t0:g} s from the PSG start"
        ),
        "conversion": {
            "accel": {
                "source_units": "g",
                "median_source_rate_hz": round(motion.median_rate_hz, 4),
                "resampling": f"linear interpolation at the timestamps onto {ACCEL_RATE_HZ} Hz",
                "clipped": clipped,
                "duplicate_rows_dropped": motion.duplicates_dropped,
                "gaps": [[round(a, 3), round(b, 3)] for a, b in gaps],
            }
        },
    }
    sleep_labels = None
    if labels is not None:
        sleep_labels, first = _labels_on_grid(labels, gaps, t0, n, meta)
        if sleep_labels is not None:
            meta["sleep_labels_start_s"] = round(first - t0, 6)
    else:
        meta["conversion"]["labels"] = "no labels file found"
    if files.heart_rate:
        meta["heart_rate"] = heart_rate_summary(files.heart_rate, t0, stop)
    if warnings:
        meta["warnings"] = warnings
    return Recording(accel, ACCEL_RATE_HZ, np.zeros(0, dtype=np.int16), None, meta, sleep_labels)


def _grid(motion: Motion, labels: Labels | None, files: WalchFiles) -> tuple[float, int]:
    """Start (PSG seconds) and length of the uniform 50 Hz grid."""
    first, last = float(motion.t[0]), float(motion.t[-1])
    if labels is None:
        return first, math.floor((last - first) * ACCEL_RATE_HZ + _EPS) + 1
    label_end = labels.t0 + EPOCH_S * len(labels.labels)
    lo = max(first, labels.t0 - EPOCH_S * MARGIN_EPOCHS)
    hi = min(last, label_end + EPOCH_S * MARGIN_EPOCHS)
    t0 = labels.t0 + EPOCH_S * math.ceil((lo - labels.t0) / EPOCH_S - _EPS)
    if hi - t0 < EPOCH_S:
        raise RecordingFormatError(
            f"{files.motion}: motion (t {first:g} to {last:g} s) and labels in {files.labels} "
            f"(t {labels.t0:g} to {label_end:g} s) share no whole 30-s epoch; expected them to overlap"
        )
    return t0, math.floor((hi - t0) * ACCEL_RATE_HZ + _EPS) + 1


def _gaps(t: np.ndarray, start: float, stop: float) -> list[tuple[float, float]]:
    steps = np.diff(t)
    idx = np.flatnonzero(steps > GAP_S)
    out = []
    for i in idx:
        a, b = max(float(t[i]), start), min(float(t[i + 1]), stop)
        if b > a:
            out.append((a, b))
    return out


def _labels_on_grid(
    labels: Labels, gaps: list[tuple[float, float]], t0: float, n: int, meta: dict[str, Any]
) -> tuple[np.ndarray | None, float]:
    """The labels of the epochs wholly inside the grid (gap epochs unscored), and the time
    (PSG seconds) of the first one."""
    grid_end = t0 + n / ACCEL_RATE_HZ
    starts = labels.t0 + EPOCH_S * np.arange(len(labels.labels))
    keep = np.flatnonzero((starts >= t0 - _EPS) & (starts + EPOCH_S <= grid_end + _EPS))
    info: dict[str, Any] = {
        "file_epochs": int(len(labels.labels) - labels.filled),
        "missing_epochs_filled_unscored": labels.filled,
        "epochs_outside_motion": int(len(labels.labels) - len(keep)),
        "mapping": "0 wake -> 0; 1-4 NREM -> 1; 5 REM -> 2; -1 -> -1",
    }
    meta["conversion"]["labels"] = info
    if len(keep) == 0:
        return None, t0
    out = labels.labels[keep[0] : keep[-1] + 1].copy()
    kept_starts = starts[keep[0] : keep[-1] + 1]
    touched = np.zeros(len(out), dtype=bool)
    for a, b in gaps:
        touched |= (kept_starts < b) & (kept_starts + EPOCH_S > a)
    info["gap_epochs_unscored"] = int(np.count_nonzero(touched & (out != LABEL_UNSCORED)))
    out[touched] = LABEL_UNSCORED
    return out, float(kept_starts[0])


def _warn(warnings: list[str], message: str) -> None:
    warnings.append(message)
    warn(message)
