"""Empatica E4 CSV folder (also WESAD's wrist data, ``S<n>/S<n>_E4_Data/``) -> recording.

Files (each: row 1 = the start as Unix seconds, one per column; row 2 = the sampling rate in
Hz, one per column; then one sample per row):

* ``ACC.csv``: x, y, z at 32 Hz in units of 1/64 g (the E4's ±2 g range) -> milli-g
  (x 15.625), then ``resample_poly`` 32 -> 50 Hz (up 25, down 16);
* ``BVP.csv``: the PPG (blood volume pulse) at 64 Hz as floats in the E4's own arbitrary
  unit -> int16 counts at a fixed EMPATICA_BVP_COUNTS_PER_UNIT (16 counts per unit: ±2048
  units fit, 0.0625 unit steps; real E4 BVP runs about ±50 at rest and a few hundred in
  motion). Samples beyond int16 saturate, counted and warned. 64 Hz is a device rate, so it
  is kept unless another rate is asked for;
* ``HR.csv`` (row 1 start, row 2 rate 1 Hz, then bpm) and ``IBI.csv`` (row 1 ``start, IBI``,
  then ``seconds since start, interval in s``; its rows may run past BVP): summarised in meta.

ACC and BVP are aligned on their start times and trimmed to the span both cover (meta
``conversion.alignment`` says what was cut). Either one alone is accepted.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from vigil.data.csv_source import (UNIX_TIME_THRESHOLD_S, NumericTable, read_header, read_numeric_table, rs_accel,
                                   rs_ppg)
from vigil.data.recording import ACCEL_UNITS, Recording, iso_utc
from vigil.data.resample import check_source_rate, nearest_ppg_rate
from vigil.dsp.config import ACCEL_RATE_HZ, PPG_RATES_HZ
from vigil.errors import RecordingFormatError, VigilError

ACC_FILE, BVP_FILE, HR_FILE, IBI_FILE = "ACC.csv", "BVP.csv", "HR.csv", "IBI.csv"
ACC_MILLI_G_PER_UNIT = 1000.0 / 64.0
EMPATICA_BVP_COUNTS_PER_UNIT = 16.0
_START_TOLERANCE_S = 1e-6
#: ACC.csv and BVP.csv of one E4 session end within a second of each other (the 10 WESAD wrists: 0.03-0.16 s); more
#: than this is warned about: an excerpt cut by rows, or a wrong rate row (64 for the 32-Hz ACC squeezes it into half
#: the time), and the longer file's end is dropped.
E4_END_TOLERANCE_S = 30.0


@dataclass
class E4Signal:
    path: Path
    start_unix: float
    rate_hz: float
    table: NumericTable

    @property
    def values(self) -> np.ndarray:
        return self.table.values

    @property
    def end_unix(self) -> float:
        return self.start_unix + len(self.values) / self.rate_hz


def e4_folder(src: str | Path) -> Path:
    """The folder holding ACC.csv / BVP.csv: ``src`` itself or its one ``*_E4_Data`` folder."""
    src = Path(src)
    if not src.is_dir():
        raise VigilError(f"{src}: no such folder")
    if (src / ACC_FILE).is_file() or (src / BVP_FILE).is_file():
        return src
    inner = [p for p in src.glob("*_E4_Data") if p.is_dir()]
    if len(inner) == 1 and ((inner[0] / ACC_FILE).is_file() or (inner[0] / BVP_FILE).is_file()):
        return inner[0]
    raise RecordingFormatError(f"{src}: no {ACC_FILE} or {BVP_FILE}; expected an Empatica E4 folder")


def _header_row(path: Path, lines: list[str], number: int, columns: int, what: str) -> float:
    """The one value of header row ``number`` (repeated per column)."""
    if len(lines) < number or not lines[number - 1].strip():
        raise RecordingFormatError(f"{path}:{number}: missing; expected {what}, one per column")
    fields = [f.strip() for f in lines[number - 1].split(",")]
    try:
        values = [float(f) for f in fields]
    except ValueError:
        raise RecordingFormatError(
            f"{path}:{number}: {lines[number - 1].strip()!r}; expected {what}, one per column"
        ) from None
    if len(values) != columns:
        raise RecordingFormatError(
            f"{path}:{number}: {len(values)} values; expected {columns} ({what}, one per column)"
        )
    if not all(math.isfinite(v) for v in values) or max(values) - min(values) > _START_TOLERANCE_S:
        raise RecordingFormatError(f"{path}:{number}: {', '.join(fields)}; expected one finite {what} for all columns")
    return values[0]


def read_e4_signal(path: str | Path, names: list[str], sensor: str) -> E4Signal:
    """Parse and check one E4 signal file (``ACC.csv``: x y z; ``BVP.csv``: bvp; ``HR.csv``: hr); ``sensor``: its
    kind for the rate's plausible range (``vigil.data.resample.SOURCE_RATE_RANGE_HZ``)."""
    path = Path(path)
    if path.exists() and not path.is_file():
        raise RecordingFormatError(f"{path}: a folder; expected the E4's {path.name} file")
    lines = read_header(path, 2)
    if not lines or not lines[0].strip():
        raise RecordingFormatError(f"{path}:1: empty file; expected the start time (Unix s) in row 1")
    start = _header_row(path, lines, 1, len(names), "start time (Unix s)")
    rate = _header_row(path, lines, 2, len(names), "sampling rate (Hz)")
    check_source_rate(rate, sensor, f"{path}:2")
    table = read_numeric_table(path, names, delimiter=",", skip_lines=2)
    # a second session appended to the file brings its header rows along: a Unix start time among the samples
    big = np.flatnonzero(np.any(np.abs(table.values) >= UNIX_TIME_THRESHOLD_S, axis=1))
    if len(big):
        raise RecordingFormatError(f"{table.where(int(big[0]))}: {table.values[big[0]][0]:.0f} among the samples looks "
                                   "like a session's start time (Unix s); expected one session per file, not two "
                                   "concatenated")  # fmt: skip
    return E4Signal(path, start, rate, table)


def ibi_summary(path: Path, recording_start_unix: float, duration_s: float) -> dict[str, Any]:
    """Row count, mean interval and how many rows lie past the recording."""
    lines = read_header(path, 1)
    if not lines or not lines[0].strip():
        raise RecordingFormatError(f"{path}:1: empty file; expected 'start time, IBI'")
    first = lines[0].split(",")[0].strip()
    try:
        start = float(first)
    except ValueError:
        raise RecordingFormatError(f"{path}:1: {first!r}; expected the start time (Unix s)") from None
    table = read_numeric_table(path, ["t", "ibi"], delimiter=",", skip_lines=1, allow_empty=True)
    t = start + table.values[:, 0] - recording_start_unix
    summary: dict[str, Any] = {"file": str(path), "intervals": len(table)}
    if len(table):
        summary.update(
            mean_ibi_s=round(float(table.values[:, 1].mean()), 4),
            outside_recording=int(np.count_nonzero((t < 0) | (t > duration_s))),
        )
    return summary


def hr_summary(path: Path) -> dict[str, Any]:
    signal = read_e4_signal(path, ["hr"], "heart rate")
    hr = signal.values[:, 0]
    return {"file": str(path), "samples": len(hr), "rate_hz": signal.rate_hz, "mean_bpm": round(float(hr.mean()), 2)}


def _span(signal: E4Signal, start: float, end: float) -> tuple[np.ndarray, dict[str, float]]:
    """The samples of ``signal`` within [start, end) and what was cut at each end (s)."""
    i0 = math.ceil((start - signal.start_unix) * signal.rate_hz - 1e-6)
    i1 = math.floor((end - signal.start_unix) * signal.rate_hz + 1e-6)
    cut = {"trimmed_start_s": round(i0 / signal.rate_hz, 6), "trimmed_end_s": round(signal.end_unix - end, 6)}
    return signal.values[i0:i1], cut


def load_empatica(src: str | Path, *, ppg_rate_hz: int | None = None) -> Recording:
    """A recording from an E4 folder (see the module doc)."""
    folder = e4_folder(src)
    if ppg_rate_hz is not None and ppg_rate_hz not in PPG_RATES_HZ:
        raise VigilError(f"--ppg-rate {ppg_rate_hz}; the device supports {', '.join(map(str, PPG_RATES_HZ))} Hz")
    acc = read_e4_signal(folder / ACC_FILE, ["x", "y", "z"], "accelerometer") if (folder / ACC_FILE).exists() else None
    bvp = read_e4_signal(folder / BVP_FILE, ["bvp"], "PPG") if (folder / BVP_FILE).exists() else None
    present = [s for s in (acc, bvp) if s is not None]
    start = max(s.start_unix for s in present)
    end = min(s.end_unix for s in present)
    if end - start <= 0:
        spans = " and ".join(f"{s.path.name} (Unix {s.start_unix:.0f} to {s.end_unix:.0f})" for s in present)
        raise RecordingFormatError(f"{folder}: {spans} do not overlap in time; expected one session")
    duration = end - start
    warnings: list[str] = []
    if acc is not None and bvp is not None and abs(acc.end_unix - bvp.end_unix) > E4_END_TOLERANCE_S:
        longer, shorter = (acc, bvp) if acc.end_unix > bvp.end_unix else (bvp, acc)
        warnings.append(f"{longer.path.name} ({len(longer.values)} rows at {longer.rate_hz:g} Hz) runs "
                        f"{longer.end_unix - shorter.end_unix:.0f} s past {shorter.path.name} ({len(shorter.values)} "
                        f"rows at {shorter.rate_hz:g} Hz): those seconds are dropped; the files of one E4 session end "
                        "together, so check both rate rows (line 2) if this is a whole session")  # fmt: skip
    conversion: dict[str, Any] = {"alignment": {"start_unix": start, "end_unix": end}}
    accel = np.zeros((0, 3), dtype=np.int16)
    if acc is not None:
        raw, cut = _span(acc, start, end)
        conversion["alignment"]["acc"] = cut
        accel, info = rs_accel(raw * ACC_MILLI_G_PER_UNIT, acc.rate_hz, warnings, f"{folder.name}/{ACC_FILE}")
        accel = accel[: math.floor(duration * ACCEL_RATE_HZ + 1e-6)]
        conversion["accel"] = {"source_units": "1/64 g", "milli_g_per_unit": ACC_MILLI_G_PER_UNIT, **info}
    ppg = np.zeros(0, dtype=np.int16)
    ppg_rate = None
    if bvp is not None:
        raw, cut = _span(bvp, start, end)
        conversion["alignment"]["bvp"] = cut
        source_rate = bvp.rate_hz
        ppg_rate = ppg_rate_hz or (int(source_rate) if source_rate in PPG_RATES_HZ else nearest_ppg_rate(source_rate))
        ppg, info = rs_ppg(
            raw[:, 0] * EMPATICA_BVP_COUNTS_PER_UNIT, source_rate, ppg_rate, warnings, f"{folder.name}/{BVP_FILE}"
        )
        ppg = ppg[: math.floor(duration * ppg_rate + 1e-6)]
        conversion["ppg"] = {"counts_per_unit": EMPATICA_BVP_COUNTS_PER_UNIT, **info}
    trims = {k: v for k, v in conversion["alignment"].items() if isinstance(v, dict)}
    cut_text = ", ".join(
        f"{name} trimmed {c['trimmed_start_s']:g} s at the start and {c['trimmed_end_s']:g} s at the end"
        for name, c in trims.items()
        if c["trimmed_start_s"] > 0 or c["trimmed_end_s"] > 0
    )
    missing = [name for name, s in ((ACC_FILE, acc), (BVP_FILE, bvp)) if s is None]
    meta: dict[str, Any] = {
        "accel_units": ACCEL_UNITS,
        "ppg_units": "empatica-bvp" if bvp is not None else None,
        "ppg_counts_per_unit": EMPATICA_BVP_COUNTS_PER_UNIT if bvp is not None else None,
        "start_time": iso_utc(start),
        "source": {"kind": "empatica", "path": str(src), "subject": _subject(folder), "folder": str(folder)},
        "notes": "; ".join(
            [f"Empatica E4: ACC and BVP aligned on their start times ({duration:g} s in common)"]
            + ([cut_text] if cut_text else [])
            + ([f"no {' or '.join(missing)}"] if missing else [])
        ),
        "conversion": conversion,
    }
    if (folder / HR_FILE).is_file():
        meta["heart_rate"] = hr_summary(folder / HR_FILE)
    if (folder / IBI_FILE).is_file():
        meta["ibi"] = ibi_summary(folder / IBI_FILE, start, duration)
    if warnings:
        meta["warnings"] = warnings
    return Recording(accel, ACCEL_RATE_HZ, ppg, ppg_rate, meta)


def _subject(folder: Path) -> str:
    return folder.name.removesuffix("_E4_Data")
