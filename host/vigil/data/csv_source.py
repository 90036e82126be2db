"""Numeric text tables with ``FILE:LINE`` errors (used by every loader), and the plain CSV
source of `vigil convert`.

Parsing is fast and streamed: the file is read in blocks of about CHUNK_BYTES cut at line
ends, each block parsed by ``np.loadtxt`` (numpy's C parser: about 0.7 s for a 100 MB Walch
night, as fast as ``np.fromstring`` and 3x faster than splitting in Python). Only when a
block fails (or holds NaN, or a row of the wrong width) is it walked again line by line to
name the first bad line and what was expected there.

Plain CSV: a header row naming the columns (case does not matter), then one row per sample:

* ``t`` / ``time`` / ``timestamp`` (seconds), optional when a rate is given;
* ``x``, ``y``, ``z`` (accelerometer; units ``milli-g`` by default, or ``g``, or raw ``counts``
  with a counts-per-g factor) and/or ``ppg`` (or ``bvp``: PPG, taken as ADC counts after
  multiplying by ``ppg_counts_per_unit``, 1 by default);
* other columns are ignored (they may hold anything, but every row must have the header's
  number of fields).

Separators: comma, semicolon, tab or spaces, told from the header. Times above 1e9 are taken
as Unix seconds and give the recording's start time.
"""

from __future__ import annotations

import bisect
import io
import math
import re
import warnings as pywarnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from vigil.data import resample as rs
from vigil.data.recording import ACCEL_UNITS, ConversionWarning, Recording, iso_utc, warn
from vigil.dsp.config import ACCEL_RATE_HZ, PPG_RATES_HZ
from vigil.errors import RecordingFormatError

__all__ = [
    "ACCEL_UNIT_CHOICES",
    "ConversionWarning",
    "NumericTable",
    "load_csv",
    "read_header",
    "read_numeric_table",
]

CHUNK_BYTES = 8 << 20
_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?|[+-]?(nan|inf|infinity)", re.ASCII | re.IGNORECASE)
TIME_COLUMNS = ("t", "time", "timestamp")
ACCEL_COLUMNS = ("x", "y", "z")
PPG_COLUMNS = ("ppg", "bvp")
ACCEL_UNIT_CHOICES = ("milli-g", "g", "counts")
UNIX_TIME_THRESHOLD_S = 1e9  # 2001-09-09: a time column beyond this is wall-clock Unix time


# ---------------------------------------------------------------- numeric tables


@dataclass
class NumericTable:
    """Rows of numbers from a text file, with the line each row came from."""

    path: Path
    values: np.ndarray  # (rows, columns) float64, all finite
    # (first row, its line, the line of each row or None when the block had no blank line)
    blocks: list[tuple[int, int, np.ndarray | None]]

    def line_of(self, row: int) -> int:
        starts = [b[0] for b in self.blocks]
        row0, line0, lines = self.blocks[bisect.bisect_right(starts, row) - 1]
        return int(lines[row - row0]) if lines is not None else line0 + row - row0

    def where(self, row: int) -> str:
        return f"{self.path}:{self.line_of(row)}"

    def __len__(self) -> int:
        return len(self.values)


def read_header(path: Path, lines: int) -> list[str]:
    """The first ``lines`` lines of a text file (without line ends)."""
    out = []
    with open(path, "rb") as f:
        for number in range(1, lines + 1):
            raw = f.readline()
            if not raw:
                break
            out.append(_decode(raw, path, number).rstrip("\r\n"))
    return out


def read_numeric_table(
    path: Path,
    names: Sequence[str],
    *,
    delimiter: str | None = None,
    skip_lines: int = 0,
    usecols: Sequence[int] | None = None,
    width: int | None = None,
    allow_empty: bool = False,
) -> NumericTable:
    """Parse the numeric rows after ``skip_lines`` header lines. ``names`` name the columns
    kept (for messages); ``usecols`` picks them from rows of ``width`` fields (default: all
    fields, ``width = len(names)``). Blank lines are skipped. Raises RecordingFormatError
    ``FILE:LINE: ...`` for a row of another width, a value that is not a finite number, or no
    rows at all (unless ``allow_empty``)."""
    path = Path(path)
    width = width if width is not None else len(names)
    if usecols is not None and list(usecols) == list(range(width)):
        usecols = None
    spec = _RowSpec(path, list(names), delimiter, list(usecols) if usecols is not None else None, width)
    parts: list[np.ndarray] = []
    blocks: list[tuple[int, int, np.ndarray | None]] = []
    rows = 0
    for start_line, text in _line_blocks(path, skip_lines):
        block, lines = _parse_block(spec, text, start_line)
        if len(block):
            blocks.append((rows, start_line, lines))
            parts.append(block)
            rows += len(block)
    if rows == 0 and allow_empty:
        return NumericTable(path, np.zeros((0, len(spec.names))), [(0, skip_lines + 1, None)])
    if rows == 0:
        raise RecordingFormatError(f"{path}:{skip_lines + 1}: no data; expected rows of {_describe(spec)}")
    return NumericTable(path, np.concatenate(parts) if len(parts) > 1 else parts[0], blocks)


@dataclass
class _RowSpec:
    path: Path
    names: list[str]
    delimiter: str | None
    usecols: list[int] | None
    width: int


def _describe(spec: _RowSpec) -> str:
    if spec.usecols is None:
        sep = " " if spec.delimiter is None else spec.delimiter
        return f"'{sep.join(spec.names)}'"
    return f"{spec.width} fields"


def _line_blocks(path: Path, skip_lines: int) -> Iterator[tuple[int, str]]:
    """(line number of the block's first line, text of whole lines) of about CHUNK_BYTES."""
    with open(path, "rb") as f:
        for _ in range(skip_lines):
            f.readline()
        line = skip_lines + 1
        rest = b""
        while True:
            data = f.read(CHUNK_BYTES)
            if not data:
                if rest:
                    yield line, _decode(rest, path, line)
                return
            data = rest + data
            cut = data.rfind(b"\n")
            if cut < 0:
                rest = data
                continue
            block, rest = data[: cut + 1], data[cut + 1 :]
            yield line, _decode(block, path, line)
            line += block.count(b"\n")


def _decode(raw: bytes, path: Path, first_line: int) -> str:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        bad_line = first_line + raw[: exc.start].count(b"\n")
        raise RecordingFormatError(f"{path}:{bad_line}: not UTF-8 text; expected numbers") from None
    if first_line == 1:
        text = text.removeprefix("\ufeff")
    return text.replace("\r\n", "\n") if "\r" in text else text


def _parse_block(spec: _RowSpec, text: str, start_line: int) -> tuple[np.ndarray, np.ndarray | None]:
    """Rows of one block, and their line numbers when blank lines were skipped (else None)."""
    try:
        with pywarnings.catch_warnings():
            pywarnings.simplefilter("ignore", UserWarning)  # "input contained no data": all blank
            block = np.loadtxt(
                io.StringIO(text),
                delimiter=spec.delimiter,
                comments=None,
                ndmin=2,
                dtype=np.float64,
                usecols=spec.usecols,
            )
    except ValueError:
        _locate(spec, text, start_line)
        raise RecordingFormatError(f"{spec.path}:{start_line}: unreadable rows; expected {_describe(spec)}") from None
    if block.size == 0:
        return np.zeros((0, len(spec.names))), None
    wrong_width = block.shape[1] != len(spec.names)
    if wrong_width or not np.isfinite(block).all() or (spec.usecols is not None and not _widths_ok(spec, text)):
        _locate(spec, text, start_line)
    n_lines = text.count("\n") + (0 if text.endswith("\n") else 1)
    if len(block) == n_lines:
        return block, None
    lines = [start_line + i for i, line in enumerate(text.split("\n")) if not _blank(spec, line)]
    return block, np.asarray(lines[: len(block)], dtype=np.int64)


def _widths_ok(spec: _RowSpec, text: str) -> bool:
    """Every non-blank line has spec.width fields (loadtxt with usecols does not check)."""
    assert spec.delimiter is not None
    raw = np.frombuffer(text.encode("utf-8"), dtype=np.uint8)
    newline = raw == ord("\n")
    line_of_byte = np.cumsum(newline) - newline
    n_lines = int(line_of_byte[-1]) + 1
    length = np.bincount(line_of_byte[~newline], minlength=n_lines)
    seps = np.bincount(line_of_byte[raw == ord(spec.delimiter)], minlength=n_lines)
    return bool(np.all((seps == spec.width - 1) | (length == 0)))


def _blank(spec: _RowSpec, line: str) -> bool:
    return not line.strip() if spec.delimiter is None else line == ""


def _locate(spec: _RowSpec, text: str, start_line: int) -> None:
    """Raise the error for the first bad line of ``text`` (return if none is found)."""
    wanted = spec.usecols if spec.usecols is not None else list(range(spec.width))
    for i, line in enumerate(text.split("\n")):
        if _blank(spec, line):
            continue
        where = f"{spec.path}:{start_line + i}"
        fields = line.split(spec.delimiter) if spec.delimiter is not None else line.split()
        if len(fields) != spec.width:
            raise RecordingFormatError(
                f"{where}: {len(fields)} field{'s' if len(fields) != 1 else ''} where {spec.width} "
                f"{'were' if spec.width != 1 else 'was'} expected ({_describe(spec)})"
            )
        for name, col in zip(spec.names, wanted):
            value = fields[col].strip()
            if not _NUMBER.fullmatch(value):  # what np.loadtxt reads (float() also takes "1_0", "١")
                shown = repr(value) if value else "empty"
                raise RecordingFormatError(f"{where}: {name} is {shown}; expected a number")
            if not math.isfinite(float(value)):
                raise RecordingFormatError(f"{where}: {name} is {value}; expected a finite number")


# ---------------------------------------------------------------- plain CSV


@dataclass
class CsvLayout:
    delimiter: str | None
    header: list[str]
    time: int | None
    accel: list[int] | None
    ppg: int | None


def csv_layout(path: Path) -> CsvLayout:
    """Read and check the header row."""
    header = read_header(path, 1)
    if not header or not header[0].strip():
        raise RecordingFormatError(f"{path}:1: empty; expected a header row naming the columns (t, x, y, z, ppg)")
    line = header[0]
    delimiter = next((d for d in (",", ";", "\t") if d in line), None)
    names = [n.strip().strip("\"'").strip().lower() for n in (line.split(delimiter) if delimiter else line.split())]
    numeric = [n for n in names if is_number(n)]
    if numeric:
        raise RecordingFormatError(
            f"{path}:1: found {numeric[0]!r} where a column name belongs; "
            "expected a header row naming the columns (t, x, y, z, ppg)"
        )
    dupes = sorted({n for n in names if names.count(n) > 1 and n})
    if dupes:
        raise RecordingFormatError(f"{path}:1: column {dupes[0]!r} appears twice; expected each column once")
    time = _one_of(path, names, TIME_COLUMNS)
    ppg = _one_of(path, names, PPG_COLUMNS)
    present = [c for c in ACCEL_COLUMNS if c in names]
    if present and len(present) < 3:
        raise RecordingFormatError(
            f"{path}:1: found accelerometer column(s) {', '.join(present)}; expected x, y and z together"
        )
    accel = [names.index(c) for c in ACCEL_COLUMNS] if present else None
    if accel is None and ppg is None:
        raise RecordingFormatError(
            f"{path}:1: no signal columns in {', '.join(names)}; expected x, y, z and/or ppg (or bvp)"
        )
    return CsvLayout(delimiter, names, time, accel, ppg)


def _one_of(path: Path, names: list[str], choices: Sequence[str]) -> int | None:
    found = [n for n in choices if n in names]
    if len(found) > 1:
        raise RecordingFormatError(f"{path}:1: columns {' and '.join(found)} both present; expected only one of them")
    return names.index(found[0]) if found else None


def is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def accel_scale_to_mg(units: str, counts_per_g: float | None) -> float:
    if units not in ACCEL_UNIT_CHOICES:
        raise RecordingFormatError(f"accelerometer units {units!r}; expected one of {', '.join(ACCEL_UNIT_CHOICES)}")
    if units == "g":
        return 1000.0
    if units == "milli-g":
        return 1.0
    if not counts_per_g or counts_per_g <= 0:
        raise RecordingFormatError("accelerometer units 'counts' need the sensor's counts per g (--counts-per-g)")
    return 1000.0 / counts_per_g


def load_csv(
    path: str | Path,
    *,
    rate_hz: float | None = None,
    accel_units: str = ACCEL_UNITS,
    counts_per_g: float | None = None,
    ppg_rate_hz: int | None = None,
    ppg_counts_per_unit: float = 1.0,
) -> Recording:
    """A recording from a plain CSV file (see the module doc)."""
    path = Path(path)
    if rate_hz is not None and not (math.isfinite(rate_hz) and rate_hz > 0):
        raise RecordingFormatError(f"--rate must be a positive number of Hz, not {rate_hz:g}")
    if not (math.isfinite(ppg_counts_per_unit) and ppg_counts_per_unit > 0):
        raise RecordingFormatError(f"PPG counts per unit must be positive, not {ppg_counts_per_unit:g}")
    mg_per_unit = accel_scale_to_mg(accel_units, counts_per_g)
    layout = csv_layout(path)
    sensors = [name for name, present in (("accelerometer", layout.accel), ("PPG", layout.ppg)) if present is not None]
    for sensor in sensors if rate_hz is not None else ():
        rs.check_source_rate(rate_hz, sensor, f"--rate {rate_hz:g} for {path.name}")  # type: ignore[arg-type]
    cols = [c for c in (layout.time, *(layout.accel or []), layout.ppg) if c is not None]
    names = [layout.header[c] for c in cols]
    table = read_numeric_table(
        path, names, delimiter=layout.delimiter, skip_lines=1, usecols=cols, width=len(layout.header)
    )
    values = table.values
    notes: list[str] = []
    conversion: dict[str, Any] = {}
    start_time = None
    if layout.time is not None:
        t = values[:, 0]
        values = values[:, 1:]
        rate, values = _uniform_from_time_column(table, t, values, rate_hz, conversion, sensors)
        if t[0] >= UNIX_TIME_THRESHOLD_S:
            start_time = iso_utc(float(t[0]))
    elif rate_hz is None:
        raise RecordingFormatError(f"{path}:1: no time column (t, time or timestamp); expected one, or give --rate")
    else:
        rate = rate_hz
        conversion["time"] = f"no time column; rate {rate:g} Hz as given"
    warnings: list[str] = []
    accel = np.zeros((0, 3), dtype=np.int16)
    if layout.accel is not None:
        accel, info = rs_accel(values[:, :3] * mg_per_unit, rate, warnings, f"{path.name} accelerometer")
        conversion["accel"] = {"source_units": accel_units, "milli_g_per_unit": mg_per_unit, **info}
    ppg = np.zeros(0, dtype=np.int16)
    ppg_rate: int | None = None
    if layout.ppg is not None:
        ppg_rate = ppg_rate_hz or (int(rate) if rate in PPG_RATES_HZ else rs.nearest_ppg_rate(rate))
        ppg, info = rs_ppg(values[:, -1] * ppg_counts_per_unit, rate, ppg_rate, warnings, f"{path.name} PPG")
        conversion["ppg"] = {"counts_per_unit": ppg_counts_per_unit, **info}
    meta: dict[str, Any] = {
        "accel_units": ACCEL_UNITS,
        "ppg_units": "counts" if ppg_counts_per_unit == 1.0 else "csv units",
        "ppg_counts_per_unit": ppg_counts_per_unit if layout.ppg is not None else None,
        "start_time": start_time,
        "source": {"kind": "csv", "path": str(path), "subject": None, "columns": layout.header},
        "notes": "; ".join(notes + [f"{len(values)} rows at {rate:g} Hz"]),
        "conversion": conversion,
    }
    if layout.ppg is None:
        meta["ppg_units"] = None
    if warnings:
        meta["warnings"] = warnings
    return Recording(accel, ACCEL_RATE_HZ, ppg, ppg_rate, meta)


def _uniform_from_time_column(
    table: NumericTable, t: np.ndarray, values: np.ndarray, rate_hz: float | None, conversion: dict[str, Any],
    sensors: list[str],
) -> tuple[float, np.ndarray]:
    """Check the time column and return (rate, samples on a uniform grid at that rate); the rate is checked against
    each of ``sensors``' plausible range before any grid is built."""
    rs.check_increasing(t, table.where)
    if len(t) < 2:
        if rate_hz is None:
            raise RecordingFormatError(
                f"{table.where(0)}: a single row; expected two or more to tell the rate (or --rate)"
            )
        conversion["time"] = f"single row; rate {rate_hz:g} Hz as given"
        return rate_hz, values
    # steps first, against the median (robust to a gap); then the rate from the whole span
    rs.check_uniform_steps(t, 1.0 / float(np.median(np.diff(t))), table.where)
    if rate_hz is not None:
        rs.check_rate_agrees(t, rate_hz, table.where)
        rate = rate_hz
    else:
        rate = rs.uniform_rate_from_times(t)
        for sensor in sensors:
            rs.check_source_rate(rate, sensor, f"{table.where(0)}-{table.where(len(t) - 1).rsplit(':', 1)[-1]} "
                                 "(the time column)")  # fmt: skip
    if rs.on_uniform_clock(t, rate):
        conversion["time"] = f"uniform at {rate:g} Hz"
        return rate, values
    n = math.floor((t[-1] - t[0]) * rate + 1e-9) + 1
    conversion["time"] = f"times off a uniform {rate:g} Hz clock by more than half a sample: interpolated onto it"
    return rate, rs.interpolate_to_grid(t, values, float(t[0]), rate, n)


def rs_accel(x_mg: np.ndarray, rate: float, warnings: list[str], what: str) -> tuple[np.ndarray, dict[str, Any]]:
    """Accelerometer (float milli-g at ``rate``) -> int16 at the device rate, with a report."""
    rs.check_source_rate(rate, "accelerometer", what)
    y = rs.resample_uniform(x_mg, rate, ACCEL_RATE_HZ)
    out, clipped = rs.to_int16(y)
    if clipped:
        _warn(warnings, f"{what}: {clipped} values beyond the int16 range (±32.767 g) clipped")
    return out, {"source_rate_hz": rate, "resampling": _how(rate, ACCEL_RATE_HZ), "clipped": clipped}


def rs_ppg(
    x_counts: np.ndarray, rate: float, to_rate: int, warnings: list[str], what: str
) -> tuple[np.ndarray, dict[str, Any]]:
    """PPG (float counts at ``rate``) -> int16 counts at ``to_rate``, with a report."""
    if to_rate not in PPG_RATES_HZ:
        raise RecordingFormatError(f"PPG rate {to_rate} Hz; the device supports {', '.join(map(str, PPG_RATES_HZ))} Hz")
    rs.check_source_rate(rate, "PPG", what)
    y = rs.resample_uniform(x_counts, rate, to_rate)
    out, clipped = rs.to_int16(y)
    if clipped:
        _warn(warnings, f"{what}: {clipped} samples beyond the int16 range saturated")
    return out, {"source_rate_hz": rate, "resampling": _how(rate, to_rate), "clipped": clipped}


def _how(from_hz: float, to_hz: float) -> str:
    ratio = rs.rate_fraction(to_hz) / rs.rate_fraction(from_hz)
    if ratio == 1:
        return "none"
    return f"resample_poly up {ratio.numerator} down {ratio.denominator} ({from_hz:g} -> {to_hz:g} Hz)"


def _warn(warnings: list[str], message: str) -> None:
    warnings.append(message)
    warn(message)
