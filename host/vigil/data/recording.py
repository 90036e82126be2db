"""The recording format: one file per session (``.vrec``), what `vigil convert` writes and
`vigil replay` / `vigil verify` read.

A ``.vrec`` file is a NumPy ``.npz`` archive (``np.savez_compressed``) holding

==================  =========================  =============================================
``accel``           int16, shape (n, 3)        milli-g at ``accel_rate_hz`` (50); may have 0 rows
``ppg``             int16, shape (m,)          ADC counts at ``ppg_rate_hz``; may be empty
``sleep_labels``    int8, shape (k,), optional one per 30-s epoch: 0 wake, 1 NREM, 2 REM, -1 unscored
``meta``            0-d unicode string         JSON, see below
==================  =========================  =============================================

``meta`` is ``{"format": "vigil-recording", "version": 1, "accel_rate_hz": 50, "ppg_rate_hz":
64|100|128|null, "accel_units": "milli-g", "ppg_units": ..., "ppg_counts_per_unit": float|null,
"start_time": ISO-8601 UTC|null, "duration_s": float, "source": {"kind", "path", "subject", ...},
"notes": ..., "sleep_labels_start_s": float (only with labels), ...}``; converters add more keys
(``conversion``, ``warnings``, ...). Label ``k`` covers ``[sleep_labels_start_s + 30 k,
sleep_labels_start_s + 30 (k + 1))`` seconds from the recording's first sample. The archive is
read with ``allow_pickle=False``: a ``.vrec`` cannot run code.
"""

from __future__ import annotations

import copy
import json
import math
import os
import warnings
import zipfile
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np

from vigil.dsp.config import ACCEL_RATE_HZ, EPOCH_S, PPG_RATES_HZ
from vigil.errors import RecordingFormatError, VigilError

FORMAT = "vigil-recording"
VERSION = 1
SUFFIX = ".vrec"

LABEL_UNSCORED = -1
LABEL_WAKE = 0
LABEL_NREM = 1
LABEL_REM = 2
LABEL_NAMES = {LABEL_UNSCORED: "unscored", LABEL_WAKE: "wake", LABEL_NREM: "NREM", LABEL_REM: "REM"}

ACCEL_UNITS = "milli-g"
#: "live": a device's live session as its raw tap delivered it (vigil monitor --verify --rec)
SOURCE_KINDS = ("walch", "empatica", "csv", "synthetic", "ichi", "live")
# Keys of the stored JSON that are not kept in Recording.meta: they are fields or derived.
_DERIVED_KEYS = ("format", "version", "accel_rate_hz", "ppg_rate_hz", "duration_s")
_ARRAYS = ("accel", "ppg", "sleep_labels", "meta")


class ConversionWarning(UserWarning):
    """Something a converter changed in the data (clipping, gaps bridged, samples trimmed).
    Each one is also listed in the recording's ``meta["warnings"]``."""


@dataclass
class Recording:
    """One session: accelerometer and PPG channels at the device's rates, plus metadata."""

    accel: np.ndarray
    accel_rate_hz: int
    ppg: np.ndarray
    ppg_rate_hz: int | None
    meta: dict[str, Any] = field(default_factory=dict)
    sleep_labels: np.ndarray | None = None

    @classmethod
    def from_arrays(
        cls,
        accel: np.ndarray | None = None,
        ppg: np.ndarray | None = None,
        ppg_rate_hz: int | None = None,
        *,
        sleep_labels: np.ndarray | None = None,
        sleep_labels_start_s: float = 0.0,
        source: dict[str, Any] | None = None,
        start_time: str | None = None,
        notes: str = "",
        **meta: Any,
    ) -> Recording:
        """A validated recording from integer arrays (any integer dtype whose values fit:
        ``accel`` (n, 3) milli-g at 50 Hz, ``ppg`` counts at ``ppg_rate_hz``); either may be
        None. ``source`` defaults to ``{"kind": "synthetic"}``; extra keywords go into meta."""
        full_meta: dict[str, Any] = {
            "source": source if source is not None else {"kind": "synthetic"},
            "start_time": start_time,
            "notes": notes,
            **meta,
        }
        labels = None
        if sleep_labels is not None:
            labels = _exact_cast(sleep_labels, np.int8, "sleep_labels")
            full_meta["sleep_labels_start_s"] = float(sleep_labels_start_s)
        accel_arr = np.zeros((0, 3), np.int16) if accel is None else _exact_cast(accel, np.int16, "accel")
        ppg_arr = np.zeros(0, np.int16) if ppg is None else _exact_cast(ppg, np.int16, "ppg")
        rec = cls(accel_arr, ACCEL_RATE_HZ, ppg_arr, ppg_rate_hz, full_meta, labels)
        rec.validate("from_arrays")
        return rec

    # ------------------------------------------------------------ derived facts

    @property
    def accel_seconds(self) -> float:
        return len(self.accel) / self.accel_rate_hz

    @property
    def ppg_seconds(self) -> float:
        return len(self.ppg) / self.ppg_rate_hz if self.ppg_rate_hz else 0.0

    @property
    def duration_s(self) -> float:
        """The longer of the two channels, in seconds."""
        return max(self.accel_seconds, self.ppg_seconds)

    @property
    def sleep_labels_start_s(self) -> float | None:
        return self.meta.get("sleep_labels_start_s") if self.sleep_labels is not None else None

    def epoch_labels(self) -> np.ndarray:
        """The label of each whole 30-s device epoch of ``accel`` (epoch ``e`` = samples
        ``[1500 e, 1500 (e + 1))``), -1 where there is none. Needs labels that start on that
        grid (``sleep_labels_start_s`` a multiple of 30, as the Walch converter writes them)."""
        n_epochs = len(self.accel) // (EPOCH_S * self.accel_rate_hz)
        out = np.full(n_epochs, LABEL_UNSCORED, dtype=np.int8)
        if self.sleep_labels is None:
            return out
        start = float(self.meta["sleep_labels_start_s"])
        first = round(start / EPOCH_S)
        if abs(first * EPOCH_S - start) > 1e-6:
            raise VigilError(
                f"sleep labels start at {start:g} s, not on the 30-s epoch grid of the recording; "
                "excerpt at a multiple of 30 s to keep them aligned"
            )
        for k, label in enumerate(self.sleep_labels):
            if 0 <= first + k < n_epochs:
                out[first + k] = label
        return out

    # ------------------------------------------------------------ validation

    def validate(self, origin: str | Path = "recording") -> None:
        """Raise RecordingFormatError (naming ``origin``) unless every array and meta field
        has the format's dtype, shape, units and rate."""
        problem = self._problem()
        if problem:
            raise RecordingFormatError(f"{origin}: {problem}")

    def _problem(self) -> str | None:
        return (
            _check_accel(self.accel, self.accel_rate_hz)
            or _check_ppg(self.ppg, self.ppg_rate_hz)
            or _check_labels(self.sleep_labels, self.meta)
            or _check_meta(self.meta)
        )

    # ------------------------------------------------------------ file I/O

    def meta_json(self) -> dict[str, Any]:
        """The ``meta`` object as stored: standard keys first, then the rest."""
        m = self.meta
        has_ppg = len(self.ppg) > 0
        head: dict[str, Any] = {
            "format": FORMAT,
            "version": VERSION,
            "accel_rate_hz": int(self.accel_rate_hz),
            "ppg_rate_hz": int(self.ppg_rate_hz) if self.ppg_rate_hz is not None else None,
            "accel_units": m.get("accel_units", ACCEL_UNITS),
            "ppg_units": m.get("ppg_units", "counts" if has_ppg else None),
            "ppg_counts_per_unit": m.get("ppg_counts_per_unit"),
            "start_time": m.get("start_time"),
            "duration_s": round(self.duration_s, 6),
            "source": m.get("source", {}),
            "notes": m.get("notes", ""),
        }
        rest = {k: v for k, v in m.items() if k not in head}
        return {**head, **rest}

    def save(self, path: str | Path) -> None:
        """Write ``path`` (any suffix; ``.vrec`` by convention) atomically."""
        path = Path(path)
        self.validate(path)
        arrays: dict[str, np.ndarray] = {
            "accel": np.ascontiguousarray(self.accel),
            "ppg": np.ascontiguousarray(self.ppg),
            "meta": np.array(json.dumps(self.meta_json(), default=_json_default)),
        }
        if self.sleep_labels is not None:
            arrays["sleep_labels"] = np.ascontiguousarray(self.sleep_labels)
        tmp = path.with_name(path.name + ".part")
        try:
            with open(tmp, "wb") as f:  # a file object: savez would otherwise append ".npz"
                np.savez_compressed(f, **arrays)  # type: ignore[arg-type]
            os.replace(tmp, path)
        except OSError as exc:
            raise VigilError(f"{path}: cannot write the recording ({exc.strerror or exc})") from None
        finally:
            tmp.unlink(missing_ok=True)

    @classmethod
    def load(cls, path: str | Path) -> Recording:
        """Read and validate a ``.vrec`` file."""
        path = Path(path)
        if not path.is_file():
            raise RecordingFormatError(f"{path}: no such recording file")
        try:
            with np.load(path, allow_pickle=False) as npz:
                arrays = {name: npz[name] for name in npz.files}
        except (zipfile.BadZipFile, ValueError, OSError, EOFError) as exc:
            raise RecordingFormatError(
                f"{path}: not a vigil recording (expected a .npz archive from `vigil convert`: {exc})"
            ) from None
        return cls._from_npz(arrays, path)

    @classmethod
    def _from_npz(cls, arrays: dict[str, np.ndarray], path: Path) -> Recording:
        missing = [name for name in ("accel", "ppg", "meta") if name not in arrays]
        if missing:
            raise RecordingFormatError(f"{path}: not a vigil recording (missing arrays: {', '.join(missing)})")
        extra = sorted(set(arrays) - set(_ARRAYS))
        if extra:
            raise RecordingFormatError(f"{path}: unexpected arrays {', '.join(extra)}")
        stored = _parse_meta(arrays["meta"], path)
        rec = cls(
            accel=arrays["accel"],
            accel_rate_hz=stored["accel_rate_hz"],
            ppg=arrays["ppg"],
            ppg_rate_hz=stored["ppg_rate_hz"],
            meta={k: v for k, v in stored.items() if k not in _DERIVED_KEYS},
            sleep_labels=arrays.get("sleep_labels"),
        )
        rec.validate(path)
        if not math.isclose(float(stored["duration_s"]), rec.duration_s, abs_tol=1e-3):
            raise RecordingFormatError(
                f"{path}: meta says duration_s {stored['duration_s']} but the samples last {rec.duration_s:.3f} s"
            )
        return rec

    # ------------------------------------------------------------ excerpts

    def excerpt(self, start_s: float, duration_s: float | None = None) -> Recording:
        """The part from ``start_s`` for ``duration_s`` seconds (to the end when None).

        The start is rounded to the accelerometer's sample grid (20 ms) and the PPG cut at the
        nearest PPG sample to it. A duration past the end is shortened (with a
        ConversionWarning); labels are kept for the epochs lying wholly inside the excerpt."""
        total = self.duration_s
        if not math.isfinite(start_s) or start_s < 0 or start_s >= total:
            raise VigilError(f"excerpt start {start_s:g} s is outside the recording (0 to {total:.3f} s)")
        if duration_s is not None and (not math.isfinite(duration_s) or duration_s <= 0):
            raise VigilError(f"excerpt duration must be a positive number of seconds, not {duration_s:g}")
        start_q = round(start_s * self.accel_rate_hz) / self.accel_rate_hz
        available = total - start_q
        notes_out: list[str] = []
        if duration_s is None:
            length = available
        else:
            length = min(duration_s, available)
            if duration_s > available + 1e-9:
                notes_out.append(
                    f"asked for {duration_s:g} s from {start_q:g} s; the recording has only {available:.3f} s there"
                )
        end_q = start_q + length
        accel = self.accel[_index(start_q, self.accel_rate_hz) : _index(end_q, self.accel_rate_hz)]
        ppg = self.ppg
        if self.ppg_rate_hz:
            ppg = self.ppg[_index(start_q, self.ppg_rate_hz) : _index(end_q, self.ppg_rate_hz)]
        meta = copy.deepcopy(self.meta)
        labels = self._excerpt_labels(meta, start_q, end_q)
        previous = meta.get("excerpt", {}).get("start_s", 0.0)
        meta["excerpt"] = {"start_s": round(previous + start_q, 6), "duration_s": round(length, 6)}
        if meta.get("start_time"):
            meta["start_time"] = shift_iso(meta["start_time"], start_q)
        if notes_out:
            meta["warnings"] = [*meta.get("warnings", []), *notes_out]
            warn(notes_out[0])
        return Recording(accel, self.accel_rate_hz, ppg, self.ppg_rate_hz, meta, labels)

    def _excerpt_labels(self, meta: dict[str, Any], start: float, end: float) -> np.ndarray | None:
        if self.sleep_labels is None:
            return None
        first = float(meta["sleep_labels_start_s"])
        epoch_start = first + EPOCH_S * np.arange(len(self.sleep_labels))
        keep = (epoch_start >= start - 1e-6) & (epoch_start + EPOCH_S <= end + 1e-6)
        idx = np.flatnonzero(keep)
        if len(idx) == 0:
            meta.pop("sleep_labels_start_s", None)
            return None
        meta["sleep_labels_start_s"] = round(float(epoch_start[idx[0]] - start), 6)
        return self.sleep_labels[idx[0] : idx[-1] + 1].copy()

    # ------------------------------------------------------------ summaries

    def label_counts(self) -> dict[str, int]:
        if self.sleep_labels is None:
            return {}
        values, counts = np.unique(self.sleep_labels, return_counts=True)
        return {LABEL_NAMES[int(v)]: int(c) for v, c in zip(values, counts)}

    def summary(self) -> dict[str, Any]:
        """Rates, sample counts, duration and labels, for printing."""
        return {
            "accel_rate_hz": self.accel_rate_hz,
            "accel_samples": len(self.accel),
            "ppg_rate_hz": self.ppg_rate_hz,
            "ppg_samples": len(self.ppg),
            "duration_s": round(self.duration_s, 3),
            "start_time": self.meta.get("start_time"),
            "sleep_labels": len(self.sleep_labels) if self.sleep_labels is not None else 0,
            "sleep_labels_start_s": self.sleep_labels_start_s,
            "label_counts": self.label_counts(),
        }


# ---------------------------------------------------------------- helpers


def warn(message: str) -> None:
    warnings.warn(message, ConversionWarning, stacklevel=3)


def iso_utc(unix_s: float) -> str:
    """ISO-8601 UTC with a ``Z`` suffix (microseconds only when present)."""
    dt = datetime.fromtimestamp(unix_s, tz=UTC)
    text = dt.isoformat(timespec="microseconds" if dt.microsecond else "seconds")
    return text.replace("+00:00", "Z")


def shift_iso(iso: str, seconds: float) -> str:
    dt = datetime.fromisoformat(iso) + timedelta(seconds=seconds)
    return iso_utc(dt.timestamp())


def _index(t: float, rate: float) -> int:
    return round(t * rate)


def _exact_cast(values: Any, dtype: type[np.integer], name: str) -> np.ndarray:
    arr = np.asarray(values)
    if arr.dtype.kind not in "iu":
        raise RecordingFormatError(f"from_arrays: {name} must hold integers, not {arr.dtype}")
    info = np.iinfo(dtype)
    if arr.size and (arr.min() < info.min or arr.max() > info.max):
        raise RecordingFormatError(
            f"from_arrays: {name} values run {arr.min()}..{arr.max()}, beyond {np.dtype(dtype).name}"
        )
    return arr.astype(dtype)


def _json_default(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"meta value {value!r} is not JSON")


def _parse_meta(array: np.ndarray, path: Path) -> dict[str, Any]:
    if array.shape != () or array.dtype.kind != "U":
        raise RecordingFormatError(f"{path}: meta must be a JSON string")
    try:
        meta = json.loads(str(array[()]))
    except json.JSONDecodeError as exc:
        raise RecordingFormatError(f"{path}: meta is not valid JSON ({exc})") from None
    if not isinstance(meta, dict):
        raise RecordingFormatError(f"{path}: meta must be a JSON object")
    if meta.get("format") != FORMAT:
        raise RecordingFormatError(f"{path}: meta format is {meta.get('format')!r}, expected {FORMAT!r}")
    if meta.get("version") != VERSION:
        raise RecordingFormatError(
            f"{path}: recording format version {meta.get('version')!r}; this vigil reads version {VERSION}"
        )
    for key in ("accel_rate_hz", "ppg_rate_hz", "duration_s"):
        if key not in meta:
            raise RecordingFormatError(f"{path}: meta lacks {key!r}")
    if not isinstance(meta["duration_s"], (int, float)):
        raise RecordingFormatError(f"{path}: meta duration_s must be a number")
    return meta


def _check_accel(accel: Any, rate: Any) -> str | None:
    if not isinstance(accel, np.ndarray) or accel.dtype != np.int16:
        return f"accel must be an int16 array, not {getattr(accel, 'dtype', type(accel).__name__)}"
    if accel.ndim != 2 or accel.shape[1] != 3:
        return f"accel must have shape (n, 3), not {accel.shape}"
    if isinstance(rate, bool) or not isinstance(rate, (int, np.integer)) or rate != ACCEL_RATE_HZ:
        return f"accel_rate_hz is {rate!r}; the device samples the accelerometer at {ACCEL_RATE_HZ} Hz"
    return None


def _check_ppg(ppg: Any, rate: Any) -> str | None:
    if not isinstance(ppg, np.ndarray) or ppg.dtype != np.int16:
        return f"ppg must be an int16 array, not {getattr(ppg, 'dtype', type(ppg).__name__)}"
    if ppg.ndim != 1:
        return f"ppg must have shape (m,), not {ppg.shape}"
    if rate is None:
        return f"ppg has {len(ppg)} samples but ppg_rate_hz is null" if len(ppg) else None
    if isinstance(rate, bool) or not isinstance(rate, (int, np.integer)) or rate not in PPG_RATES_HZ:
        return f"ppg_rate_hz is {rate!r}; the device supports {', '.join(map(str, PPG_RATES_HZ))} Hz"
    return None


def _check_labels(labels: Any, meta: dict[str, Any]) -> str | None:
    if labels is None:
        return None
    if not isinstance(labels, np.ndarray) or labels.dtype != np.int8 or labels.ndim != 1:
        return "sleep_labels must be a 1-D int8 array"
    bad = ~np.isin(labels, list(LABEL_NAMES))
    if bad.any():
        return f"sleep_labels[{int(np.argmax(bad))}] is {int(labels[bad][0])}; labels are -1, 0, 1, 2"
    start = meta.get("sleep_labels_start_s")
    if isinstance(start, bool) or not isinstance(start, (int, float)) or not math.isfinite(start) or start < 0:
        return f"meta sleep_labels_start_s must be a number of seconds >= 0 with sleep_labels, not {start!r}"
    return None


def _check_meta(meta: Any) -> str | None:
    if not isinstance(meta, dict):
        return "meta must be a dict"
    if meta.get("accel_units", ACCEL_UNITS) != ACCEL_UNITS:
        return f"accel_units is {meta['accel_units']!r}; recordings hold {ACCEL_UNITS}"
    start = meta.get("start_time")
    if start is not None:
        try:
            datetime.fromisoformat(str(start))
        except ValueError:
            return f"start_time {start!r} is not ISO-8601"
    scale = meta.get("ppg_counts_per_unit")
    if scale is not None and (not isinstance(scale, (int, float)) or not scale > 0):
        return f"ppg_counts_per_unit must be a positive number or null, not {scale!r}"
    source = meta.get("source", {})
    if not isinstance(source, dict):
        return "meta source must be an object"
    kind = source.get("kind")
    if kind is not None and kind not in SOURCE_KINDS:
        return f"source kind {kind!r} is not one of {', '.join(SOURCE_KINDS)}"
    return None
