"""HRV-feature CSV files (one row per 60-s segment) → an `HrvDataset` in the device's integer units.

    ds = load_hrv_csv("potgieter_hrv_segments.csv")     # layout detected from the file

Three layouts (``detect_layout``):

``potgieter``  the stress proposal's ``data.csv``: no header; ``Time, AVHR, AVRR, SDRR, RMSSD, ppNN50, ppNN20,
    State``. Time is ``hh:mm:ss dd-mm-yy`` (a few rows use ``d/m/yyyy h:mm``); AVHR in bpm; AVRR, SDRR and RMSSD in
    samples of the 31.25-Hz sensor (32 ms each: AVHR x AVRR = 1875 on every row), converted here to ms (x 32);
    ppNN50 / ppNN20 in %; State ``relax`` / ``stress``.
``potgieter-new``  the proposal's ``new.csv`` (10 "unseen" rows): no header; 8 columns, Time ``mm:ss.s``, label
    0 / 1 last. Its author read it with the ``data.csv`` names, which cannot be right (column 2 x column 3 is
    about 5600, not 1875). What the numbers show: columns 3 and 4 are AVHR (bpm) and AVRR in sensor samples with
    AVHR x AVRR = 2400 on every row, i.e. 25-ms samples (a 40-Hz sensor); the sample period is taken from that
    product (``60000 / (AVHR x AVRR)``), so it is checked, not assumed. The rest is an inference, not a documented
    fact: column 5 SDRR (same samples), column 6 RMSSD already in ms, column 7 pNN50 (%), column 2 pNN20 (%)
    (pNN20 >= pNN50 on every row, and both match a normal successive-difference spread of RMSSD's size).
``header``  vigil's documented generic form: a header row, then rows. Columns (any order, case-insensitive):
    ``time`` (ISO 8601 ``2015-08-25T07:16:37`` or seconds), ``avhr_bpm``, ``avrr_ms``, ``sdrr_ms``, ``rmssd_ms``,
    ``pnn50_pct``, ``pnn20_pct``, ``label`` (``relax``/``stress`` or 0/1), optional ``group`` (integer). E.g.::

        time,avhr_bpm,avrr_ms,sdrr_ms,rmssd_ms,pnn50_pct,pnn20_pct,label,group
        2015-08-25T07:16:37,74.39,806.52,60.29,54.72,16.67,22.22,relax,0

Units out (as ``vigil.dsp.hrv.HrvFeatures``): AVHR 0.01 bpm, AVRR / SDRR / RMSSD 0.01 ms, pNN50 / pNN20 0.01 %,
int32, rounded to nearest (ties to even). Labels 0 relax, 1 stress. Timestamps int64 POSIX seconds (the files'
local times read as UTC; ``potgieter-new`` has no date: seconds from the top of the hour).

Groups (for leave-group-out protocols): the ``group`` column where given; otherwise recording sessions:
consecutive rows (file order) stay in one session while they are on the same calendar day, or less than an
hour apart across midnight. ``data.csv`` so splits into 9 sessions (50, 23, 9, 30, 9, 9, 28, 55, 87 rows) of
its four unnamed subjects; the file names no subject, so these sessions are the finest honest grouping.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from vigil.dsp.config import HRV_FEATURES
from vigil.errors import VigilError

FEATURE_NAMES: tuple[str, ...] = HRV_FEATURES
#: device units of FEATURE_NAMES: hundredths of bpm, ms, ms, ms, %, %
FEATURE_UNITS: tuple[str, ...] = ("0.01 bpm", "0.01 ms", "0.01 ms", "0.01 ms", "0.01 %", "0.01 %")
LAYOUTS: tuple[str, ...] = ("potgieter", "potgieter-new", "header")
LABELS = {"relax": 0, "stress": 1, "0": 0, "1": 1}
POTGIETER_SAMPLE_MS = 32.0  # 31.25-Hz sensor
SESSION_MIDNIGHT_GAP_S = 3600  # rows on different days closer than this stay in one session
HEADER_COLUMNS: tuple[str, ...] = ("time", "avhr_bpm", "avrr_ms", "sdrr_ms", "rmssd_ms", "pnn50_pct", "pnn20_pct",
                                   "label")  # fmt: skip


@dataclass
class HrvDataset:
    """Segments of HRV features with labels. ``features`` (n, 6) int32 in FEATURE_NAMES order and device units."""

    features: np.ndarray
    labels: np.ndarray  # int64, 0 relax / 1 stress
    timestamps: np.ndarray  # int64 seconds
    groups: np.ndarray  # int64 session / subject id
    source: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        n = len(self.labels)
        if self.features.shape != (n, len(FEATURE_NAMES)) or len(self.timestamps) != n or len(self.groups) != n:
            raise ValueError("features (n, 6), labels, timestamps and groups must have n rows each")

    def __len__(self) -> int:
        return len(self.labels)

    def physical(self) -> np.ndarray:
        """Features in bpm, ms and % (float64)."""
        return self.features.astype(np.float64) / 100.0

    def subset(self, index: np.ndarray) -> HrvDataset:
        return HrvDataset(self.features[index], self.labels[index], self.timestamps[index], self.groups[index],
                          dict(self.source))  # fmt: skip


#: The largest feature value a row may hold: the device's int32 in hundredths (bpm, ms, %).
MAX_FEATURE_VALUE = np.iinfo(np.int32).max // 100


def to_device_units(physical: np.ndarray) -> np.ndarray:
    """bpm / ms / % (float) → int32 hundredths, nearest (ties to even)."""
    scaled = np.rint(np.asarray(physical, dtype=np.float64) * 100.0)
    if np.any(np.abs(scaled) > np.iinfo(np.int32).max):
        raise ValueError("feature out of int32 range")
    return scaled.astype(np.int32)


# ---------------------------------------------------------------- parsing helpers


class _Row:
    """One CSV row with its origin, for FILE:LINE errors."""

    def __init__(self, path: Path, line: int, cells: list[str]) -> None:
        self.path, self.line, self.cells = path, line, [c.strip() for c in cells]

    def fail(self, expected: str) -> VigilError:
        return VigilError(f"{self.path}:{self.line}: expected {expected}")

    def number(self, i: int, what: str, positive: bool = False) -> float:
        try:
            value = float(self.cells[i])
        except (ValueError, IndexError):
            raise self.fail(f"{what} as a number in column {i + 1}, got {self._cell(i)!r}") from None
        if not np.isfinite(value) or value < 0 or (positive and value == 0):
            raise self.fail(f"{what} as a {'positive' if positive else 'non-negative'} finite number in column "
                            f"{i + 1}, got {self._cell(i)!r}")  # fmt: skip
        if value > MAX_FEATURE_VALUE:
            raise self.fail(f"{what} of at most {MAX_FEATURE_VALUE} in column {i + 1} (the device keeps hundredths "
                            f"in an int32), got {self._cell(i)!r}")  # fmt: skip
        return value

    def label(self, i: int) -> int:
        value = self._cell(i).lower()
        if value not in LABELS:
            raise self.fail(f"a label relax/stress or 0/1 in column {i + 1}, got {value!r}")
        return LABELS[value]

    def _cell(self, i: int) -> str:
        return self.cells[i] if i < len(self.cells) else ""


_POTGIETER_TIME = re.compile(r"(\d{1,2}):(\d{2}):(\d{2}) (\d{2})-(\d{2})-(\d{2})$")
_POTGIETER_TIME_ALT = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4}) (\d{1,2}):(\d{2})$")
_MINUTE_SECOND = re.compile(r"(\d{1,2}):(\d{2}(?:\.\d*)?)$")


def _posix(y: int, mo: int, d: int, h: int, mi: int, s: int) -> int:
    return int(datetime(y, mo, d, h, mi, s, tzinfo=timezone.utc).timestamp())


def _potgieter_time(row: _Row) -> int:
    text = row.cells[0]
    try:
        if m := _POTGIETER_TIME.match(text):
            h, mi, s, d, mo, y = (int(g) for g in m.groups())
            return _posix(2000 + y, mo, d, h, mi, s)
        if m := _POTGIETER_TIME_ALT.match(text):
            d, mo, y, h, mi = (int(g) for g in m.groups())
            return _posix(y, mo, d, h, mi, 0)
    except ValueError:
        pass
    raise row.fail(f"a time 'hh:mm:ss dd-mm-yy' (or 'd/m/yyyy h:mm') in column 1, got {text!r}")


def _header_time(row: _Row, i: int) -> int:
    text = row.cells[i]
    try:
        return int(round(float(text)))
    except ValueError:
        pass
    try:
        t = datetime.fromisoformat(text)
    except ValueError:
        raise row.fail(f"a time (ISO 8601 or seconds) in column {i + 1}, got {text!r}") from None
    return int((t if t.tzinfo else t.replace(tzinfo=timezone.utc)).timestamp())


# ---------------------------------------------------------------- layouts


def _parse_potgieter(row: _Row) -> tuple[int, list[float], int]:
    if len(row.cells) != 8:
        raise row.fail(f"8 columns (Time, AVHR, AVRR, SDRR, RMSSD, ppNN50, ppNN20, State), got {len(row.cells)}")
    t = _potgieter_time(row)
    avhr = row.number(1, "AVHR (bpm)", positive=True)
    avrr, sdrr, rmssd = (row.number(i, name + " (32-ms samples)", positive=(i == 2))
                         for i, name in ((2, "AVRR"), (3, "SDRR"), (4, "RMSSD")))  # fmt: skip
    pnn50, pnn20 = row.number(5, "ppNN50 (%)"), row.number(6, "ppNN20 (%)")
    ms = POTGIETER_SAMPLE_MS
    return t, [avhr, avrr * ms, sdrr * ms, rmssd * ms, pnn50, pnn20], row.label(7)


def _parse_potgieter_new(row: _Row) -> tuple[int, list[float], int]:
    if len(row.cells) != 8:
        raise row.fail(f"8 columns (mm:ss.s, pNN20, AVHR, AVRR, SDRR, RMSSD, pNN50, 0/1), got {len(row.cells)}")
    m = _MINUTE_SECOND.match(row.cells[0])
    if not m:
        raise row.fail(f"a time 'mm:ss.s' in column 1, got {row.cells[0]!r}")
    t = int(round(int(m[1]) * 60 + float(m[2])))
    pnn20 = row.number(1, "pNN20 (%)")
    avhr = row.number(2, "AVHR (bpm)", positive=True)
    avrr = row.number(3, "AVRR (sensor samples)", positive=True)
    sdrr = row.number(4, "SDRR (sensor samples)")
    rmssd, pnn50 = row.number(5, "RMSSD (ms)"), row.number(6, "pNN50 (%)")
    sample_ms = 60000.0 / (avhr * avrr)
    return t, [avhr, avrr * sample_ms, sdrr * sample_ms, rmssd, pnn50, pnn20], row.label(7)


def _header_parser(header: _Row) -> Callable[[_Row], tuple[int, list[float], int, int | None]]:
    names = [c.lower() for c in header.cells]
    missing = [c for c in HEADER_COLUMNS if c not in names]
    if missing:
        raise header.fail(f"header columns {', '.join(HEADER_COLUMNS)} (+ optional group); missing {', '.join(missing)}")
    col = {name: names.index(name) for name in (*HEADER_COLUMNS, *(("group",) if "group" in names else ()))}

    def parse(row: _Row) -> tuple[int, list[float], int, int | None]:
        if len(row.cells) != len(names):
            raise row.fail(f"{len(names)} columns as in the header, got {len(row.cells)}")
        feats = [row.number(col[c], c, positive=c in ("avhr_bpm", "avrr_ms")) for c in HEADER_COLUMNS[1:7]]
        group = None
        if "group" in col:
            try:
                group = int(row.cells[col["group"]])
            except ValueError:
                raise row.fail(f"an integer group in column {col['group'] + 1}, got {row.cells[col['group']]!r}") from None
        return _header_time(row, col["time"]), feats, row.label(col["label"]), group

    return parse


def detect_layout(rows: Sequence[list[str]]) -> str:
    """Which of LAYOUTS the first row looks like (a header, or the two headerless proposal files)."""
    first = [c.strip() for c in rows[0]] if rows else []
    if any(c.lower() in HEADER_COLUMNS for c in first):
        return "header"
    if len(first) == 8 and _MINUTE_SECOND.match(first[0]) and first[7] in ("0", "1"):
        return "potgieter-new"
    return "potgieter"


def session_groups(timestamps: np.ndarray) -> np.ndarray:
    """Recording sessions in file order: a new session starts where the calendar day changes, unless the rows
    are less than SESSION_MIDNIGHT_GAP_S apart (a session running over midnight)."""
    t = np.asarray(timestamps, dtype=np.int64)
    groups = np.zeros(len(t), dtype=np.int64)
    for i in range(1, len(t)):
        new_day = t[i] // 86400 != t[i - 1] // 86400
        groups[i] = groups[i - 1] + int(new_day and abs(int(t[i] - t[i - 1])) >= SESSION_MIDNIGHT_GAP_S)
    return groups


def load_hrv_csv(path: str | Path, layout: str | None = None) -> HrvDataset:
    """Read an HRV-feature CSV (layout detected unless given; see the module doc). A malformed row raises
    VigilError ``FILE:LINE: expected ...``."""
    path = Path(path)
    if layout is not None and layout not in LAYOUTS:
        raise VigilError(f"HRV CSV layout {layout!r}: expected one of {', '.join(LAYOUTS)}")
    try:
        with path.open(newline="") as f:
            rows = [(i, cells) for i, cells in enumerate(csv.reader(f), start=1) if any(c.strip() for c in cells)]
    except OSError as exc:
        raise VigilError(f"{path}: cannot read: {exc.strerror}") from None
    except (UnicodeDecodeError, csv.Error) as exc:
        raise VigilError(f"{path}: expected a text CSV file ({exc})") from None
    if not rows:
        raise VigilError(f"{path}:1: expected HRV feature rows, the file is empty")
    layout = layout or detect_layout([rows[0][1]])
    times, feats, labels, groups = [], [], [], []
    if layout == "header":
        parse_header = _header_parser(_Row(path, rows[0][0], rows[0][1]))
        for line, cells in rows[1:]:
            t, x, y, g = parse_header(_Row(path, line, cells))
            times.append(t), feats.append(x), labels.append(y), groups.append(g)
    else:
        parse = _parse_potgieter if layout == "potgieter" else _parse_potgieter_new
        for line, cells in rows:
            t, x, y = parse(_Row(path, line, cells))
            times.append(t), feats.append(x), labels.append(y), groups.append(None)
    if not labels:
        raise VigilError(f"{path}:{rows[0][0] + 1}: expected data rows after the header")
    ts = np.asarray(times, dtype=np.int64)
    group_ids = (np.asarray(groups, dtype=np.int64) if all(g is not None for g in groups) else session_groups(ts))
    return HrvDataset(
        features=to_device_units(np.asarray(feats)),
        labels=np.asarray(labels, dtype=np.int64),
        timestamps=ts,
        groups=group_ids,
        source={"kind": "hrv-csv", "path": str(path.resolve()), "layout": layout},
    )


def save_hrv_csv(dataset: HrvDataset, path: str | Path) -> None:
    """Write a dataset in the generic ``header`` layout (times as seconds, features in bpm / ms / %)."""
    with Path(path).open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow([*HEADER_COLUMNS, "group"])
        for t, x, y, g in zip(dataset.timestamps, dataset.features, dataset.labels, dataset.groups):
            w.writerow([int(t), *(f"{v / 100:.2f}" for v in x), ("relax", "stress")[int(y)], int(g)])
