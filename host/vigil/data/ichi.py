"""ICHI-2014 sleep-lab nights (Borazio et al., TU Darmstadt) -> recording.

One night is one ``pNNN.npy`` file (``pNNa.npy`` / ``pNNb.npy``: two nights of patient NN), a
NumPy structured array, one row per run of identical 100 Hz samples:

* ``t`` float: the run's timestamp in days, MATLAB datenum style (719529 = 1970-01-01), on the
  sleep lab's local clock;
* ``d`` uint8: the run length, how many consecutive 100 Hz samples the row stands for (1-255);
* ``x y z`` uint8: the wrist accelerometer in 8-bit counts (zero g near 128, a +-4 g range);
* ``l`` uint16: light (not kept: a recording has no channel for it);
* ``gt`` int: polysomnography per sample: 0 unknown, 1-3 = sleep stages 3-1, 5 REM, 6 wake,
  7 movement.

What the converter does:

* checks the fields and their types, then each row (timestamps finite and increasing, run
  lengths 1-255, counts 0-255, PSG codes known); errors name ``FILE:row N`` (N = array index);
* expands the runs (``np.repeat``) into the 100 Hz stream. The timestamps are checked against
  the run lengths: a step more than GAP_S longer than its run explains is a gap in the logger's
  data. Gaps are reported (meta and a ConversionWarning) and the samples on either side are
  joined end to end (labels stay with their samples; the epoch holding the junction is
  unscored). The stream's sample clock runs slightly fast against the timestamps on the 31
  training nights (100.0-100.4 Hz over a night); the measured rate is stated in meta and the
  stream is taken at its nominal 100 Hz;
* calibrates counts -> milli-g for this night from gravity (``calibrate``): 1-s windows whose
  every axis is still (std <= STILL_STD_COUNTS) feel 1 g, so an offset and a gain per axis are
  fitted to make their mean vectors lie on the unit sphere;
* resamples 100 -> 50 Hz through ``vigil.data.resample.resample_uniform`` (the anti-aliasing
  polyphase filter every uniform source goes through) and rounds to int16 milli-g;
* labels each whole 30-s epoch of the 50 Hz stream with the majority class of its 3000
  per-sample PSG codes mapped to classes: 1-3 -> NREM, 5 -> REM, 6 -> wake, 0 and 7 -> unscored
  (so an epoch mostly unknown or movement is unscored); ties go to the first of unscored,
  wake, NREM, REM. ``sleep_labels_start_s`` is 0.

Speed: a 9-hour night (3.3 M samples) loads in about 1 s, so nothing is cached on disk.
"""

from __future__ import annotations

import math
import tokenize
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from vigil.data import resample as rs
from vigil.data.recording import (
    ACCEL_UNITS,
    LABEL_NREM,
    LABEL_REM,
    LABEL_UNSCORED,
    LABEL_WAKE,
    Recording,
    iso_utc,
    warn,
)
from vigil.dsp.config import ACCEL_RATE_HZ, EPOCH_S
from vigil.errors import RecordingFormatError, VigilError

FIELDS = ("t", "d", "x", "y", "z", "l", "gt")
EXPECTED = "expected an ICHI-2014 night (fields t d x y z l gt)"
PATIENT_INFO = "pat_inf.npy"
NPY_MAGIC = b"\x93NUMPY"
SOURCE_RATE_HZ = 100
SECONDS_PER_DAY = 86400.0
# MATLAB datenum of 1970-01-01 (datenum counts days from year 0; Python's date.toordinal from
# year 1, so datenum = ordinal + 366 and 1970-01-01's ordinal is 719163).
DATENUM_UNIX_EPOCH = 719529
# The data set was recorded in 2011 (every training night: 2011-05-10 to 2011-10-23, starting
# 20:12-22:56, checked by converting each night's t[0]); a start outside these years means the
# timestamps are not datenums and start_time is left empty.
PLAUSIBLE_YEARS = (2010, 2014)
GAP_S = 1.0  # a step this much longer than its run is a gap (the jitter seen is at most 0.34 s)
CLOCK_TOLERANCE = 0.02  # timestamps vs run lengths over the night: 100 Hz +- 2 % (seen: +0.0..+0.4 %)

# PSG code -> class; codes absent here (4, > 7, < 0) are errors
PSG_TO_LABEL = {
    0: LABEL_UNSCORED,  # unknown
    1: LABEL_NREM,  # stage 3
    2: LABEL_NREM,  # stage 2
    3: LABEL_NREM,  # stage 1
    5: LABEL_REM,
    6: LABEL_WAKE,
    7: LABEL_UNSCORED,  # movement
}
LABEL_MAPPING = "1-3 (stages 3-1) -> NREM 1; 5 REM -> 2; 6 wake -> 0; 0 unknown, 7 movement -> -1"
# majority vote order: a tie goes to the first of these
_VOTE_ORDER = (LABEL_UNSCORED, LABEL_WAKE, LABEL_NREM, LABEL_REM)

# Calibration (see ``calibrate``)
STILL_WINDOW = SOURCE_RATE_HZ  # 1 s
STILL_STD_COUNTS = 0.5  # per axis; a still 8-bit axis is constant or flickers between two counts
MIN_STILL_WINDOWS = 60  # fewer still seconds than this: the typical calibration below, with a warning
SIDE_G = 0.3  # the per-axis fit needs still windows beyond +-0.3 g on both sides of every axis ...
MIN_SIDE_WINDOWS = 3  # ... at least this many on each side (else one gain for all axes, offsets typical)
ROBUST_SCALE_G = 0.05  # soft-L1 loss: residuals beyond ~50 mg (a hand moving slowly) weigh less
OFFSET_RANGE_COUNTS = 16.0  # a fit may move the offset at most 0.5 g from 128 ...
GAIN_RANGE = (20.0, 45.0)  # ... and put the gain in this range; at a bound the fit has failed
# The ICHI logger's typical calibration: the median of the per-axis fits over the 31 training
# nights (spread between nights: offsets +-0.5-1 count, gains +-0.3 counts/g). The data set's
# notes say "about 128, 28-30 counts per g"; an 8-bit +-4 g range gives 256 / 8 = 32 counts per g,
# and the fits agree with that (32.0-33.1). Used when a night has too few still seconds.
TYPICAL_OFFSET_COUNTS = (129.0, 127.4, 124.0)
TYPICAL_GAIN_COUNTS_PER_G = (32.8, 33.1, 32.0)

_NIGHT_NAME = re.compile(r"^p(\d+)([ab]?)$")


@dataclass
class IchiNight:
    """The rows of one night file, checked."""

    path: Path
    t: np.ndarray  # (rows,) float64 days
    d: np.ndarray  # (rows,) int64 run lengths
    counts: np.ndarray  # (rows, 3) uint8
    gt: np.ndarray  # (rows,) int64 PSG codes


@dataclass
class Calibration:
    method: str  # "sphere" (offset and gain per axis), "gain" (one gain, typical offsets), "typical"
    offset_counts: np.ndarray  # (3,)
    gain_counts_per_g: np.ndarray  # (3,)
    still_windows: int
    magnitude_mg: dict[str, float]  # the still windows' |a| after calibration: median, p5, p95

    def to_milli_g(self, counts: np.ndarray) -> np.ndarray:
        return (counts - self.offset_counts) * (1000.0 / self.gain_counts_per_g)

    def as_meta(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "offset_counts": [round(float(v), 3) for v in self.offset_counts],
            "gain_counts_per_g": [round(float(v), 3) for v in self.gain_counts_per_g],
            "still_windows": self.still_windows,
            "still_window_s": STILL_WINDOW / SOURCE_RATE_HZ,
            "still_std_counts": STILL_STD_COUNTS,
            "still_magnitude_mg": self.magnitude_mg,
            "rule": "mean vectors of still 1-s windows fitted to 1 g (per-axis offset and gain, soft-L1 loss); "
            "too few orientations: one gain, typical offsets; too few still windows: typical values",
        }


# ---------------------------------------------------------------- files and names


def night_name(path: str | Path) -> tuple[str, str | None]:
    """(subject, night) of a night file: ``p005.npy`` -> ("p005", None), ``p08a.npy`` -> ("p008", "a").
    The subject is the patient: both nights of one person share it (three-digit, as the single nights)."""
    stem = Path(path).stem
    match = _NIGHT_NAME.match(stem)
    if not match:
        return stem, None
    return f"p{int(match.group(1)):03d}", match.group(2) or None


def ichi_nights(folder: str | Path) -> list[Path]:
    """The night files of an ICHI folder (``p*.npy`` but not ``pat_inf.npy``), sorted by name."""
    return sorted(p for p in Path(folder).glob("p*.npy") if p.name != PATIENT_INFO and p.is_file())


def is_ichi_file(path: str | Path) -> bool:
    """True for a ``.npy`` file holding a structured array with the ICHI fields (read lazily)."""
    path = Path(path)
    if path.suffix.lower() != ".npy" or not path.is_file():
        return False
    try:
        arr = np.load(path, mmap_mode="r", allow_pickle=False)
    except (ValueError, OSError, EOFError):
        return False
    names = getattr(getattr(arr, "dtype", None), "names", None) or ()
    return set(FIELDS) <= set(names)


def find_ichi_night(src: str | Path, night: str | None = None) -> Path:
    """The night file: ``src`` itself, or in a folder the night named ``night`` (``p002``, ``p08a``), or its
    only night."""
    src = Path(src)
    if src.is_file():
        if night is not None and night != src.stem:
            raise VigilError(f"--subject {night} but {src} is night {src.stem}")
        return src
    if not src.is_dir():
        raise VigilError(f"{src}: no such file or folder")
    nights = ichi_nights(src)
    if not nights:
        raise RecordingFormatError(f"{src}: no p*.npy night files; {EXPECTED}")
    names = [p.stem for p in nights]
    if night is None:
        if len(nights) > 1:
            raise VigilError(f"{src} holds {len(nights)} nights ({', '.join(names)}); pick one with --subject")
        return nights[0]
    if night not in names:
        raise VigilError(f"night {night} is not in {src}; available: {', '.join(names)}")
    return nights[names.index(night)]


def patient_info(night_file: Path) -> dict[str, Any] | None:
    """Age, sex and diagnosis of the night's patient from ``pat_inf.npy`` beside it (a byte-string table, first
    row the headers, ids like ``002`` / ``08a``), or None when it is absent or unreadable. It is read without
    pickle: a table that needs it is skipped rather than trusted."""
    table_file = night_file.parent / PATIENT_INFO
    try:
        table = np.load(table_file, allow_pickle=False)
    except (ValueError, OSError, EOFError):
        return None
    if table.ndim != 2 or table.shape[0] < 2 or table.dtype.kind not in "SU":
        return None
    header = [_text(v).lower() for v in table[0]]
    want = night_file.stem.removeprefix("p")
    for row in table[1:]:
        if _text(row[0]) == want:
            info = dict(zip(header, (_text(v) for v in row)))
            return {
                "age": int(info["age"]) if info.get("age", "").isdigit() else None,
                # the table is German: "w" (weiblich) is female
                "sex": {"m": "m", "w": "f", "f": "f"}.get(info.get("gender", ""), None),
                "diagnosis": info.get("diagnosis") or None,
            }
    return None


def _text(value: Any) -> str:
    return value.decode("utf-8", "replace").strip() if isinstance(value, bytes) else str(value).strip()


# ---------------------------------------------------------------- reading and checking


def read_ichi(path: str | Path) -> IchiNight:
    """Load and check one night file (see the module doc)."""
    path = Path(path)
    arr = _load_array(path)
    names = arr.dtype.names
    for name in FIELDS:
        if name not in names:
            raise RecordingFormatError(f"{path}: field {name!r} missing; {EXPECTED}")
    for name in FIELDS:
        kind = arr.dtype[name].kind
        if (name == "t" and kind != "f") or (name != "t" and kind not in "iu"):
            want = "a float (days)" if name == "t" else "integers"
            raise RecordingFormatError(f"{path}: field {name!r} is {arr.dtype[name]}; expected {want}; {EXPECTED}")
    if arr.ndim != 1 or arr.size == 0:
        what = "no rows" if arr.size == 0 else f"shape {arr.shape}"
        raise RecordingFormatError(f"{path}: {what}; {EXPECTED}, one row per run of samples")
    t = np.asarray(arr["t"], dtype=np.float64)
    _check_rows(path, arr, t)
    counts = np.column_stack([arr[c] for c in "xyz"]).astype(np.uint8)
    return IchiNight(path, t, arr["d"].astype(np.int64), counts, arr["gt"].astype(np.int64))


def _load_array(path: Path) -> np.ndarray:
    if not path.is_file():
        raise RecordingFormatError(f"{path}: no such file; {EXPECTED}")
    with open(path, "rb") as f:
        magic = f.read(len(NPY_MAGIC))
    if magic != NPY_MAGIC:  # np.load would try it as a pickle and say so, which misleads
        what = "empty" if not magic else "an .npz archive" if magic.startswith(b"PK") else "not a NumPy .npy file"
        raise RecordingFormatError(f"{path}: {what}; {EXPECTED}")
    _check_npy_size(path)
    try:
        arr = np.load(path, allow_pickle=False)
    except (ValueError, OSError, EOFError) as exc:  # truncated, or an object array (pickles are never loaded)
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise RecordingFormatError(f"{path}: unreadable .npy ({reason}); {EXPECTED}") from None
    if arr.dtype.names is None:
        raise RecordingFormatError(f"{path}: a plain {arr.dtype} array of shape {arr.shape}, not a structured "
                                   f"array; {EXPECTED}")  # fmt: skip
    return arr


NPY_HEADER_READERS = {(1, 0): np.lib.format.read_array_header_1_0, (2, 0): np.lib.format.read_array_header_2_0}


def _check_npy_size(path: Path) -> None:
    """Refuse a .npy whose header does not parse or does not match the file's size, before anything is allocated
    (a damaged header can claim any shape; numpy's parser raises SyntaxError or TokenError on some)."""
    try:
        with open(path, "rb") as f:
            version = np.lib.format.read_magic(f)
            read_header = NPY_HEADER_READERS.get(version)
            if read_header is None:
                raise ValueError(f".npy format version {version[0]}.{version[1]}, not 1.0 or 2.0")
            shape, _fortran, dtype = read_header(f)
            data_bytes = path.stat().st_size - f.tell()
    except (ValueError, OSError, EOFError, SyntaxError, TypeError, KeyError, UnicodeDecodeError,
            tokenize.TokenError) as exc:  # fmt: skip
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise RecordingFormatError(f"{path}: unreadable .npy header ({reason}); {EXPECTED}") from None
    if dtype.hasobject:
        raise RecordingFormatError(f"{path}: an array of Python objects (never loaded: it could run code); {EXPECTED}")
    need = math.prod(shape) * dtype.itemsize
    if need != data_bytes:
        raise RecordingFormatError(f"{path}: the header says {shape} of {dtype.itemsize}-byte rows ({need} bytes), the "
                                   f"file holds {data_bytes}: cut short or damaged; {EXPECTED}")  # fmt: skip


def _check_rows(path: Path, arr: np.ndarray, t: np.ndarray) -> None:
    """The first bad row of each field, as ``FILE:row N: ...``."""

    def where(row: int) -> str:
        return f"{path}:row {row}"

    bad = np.flatnonzero(~np.isfinite(t))
    if len(bad):
        raise RecordingFormatError(f"{where(int(bad[0]))}: timestamp {t[bad[0]]}; expected days (datenum)")
    rs.check_increasing(t, where)
    d = arr["d"]
    bad = np.flatnonzero((d < 1) | (d > 255))
    if len(bad):
        raise RecordingFormatError(f"{where(int(bad[0]))}: run length {d[bad[0]]}; expected 1–255")
    for axis in "xyz":
        v = arr[axis]
        bad = np.flatnonzero((v < 0) | (v > 255))
        if len(bad):
            raise RecordingFormatError(f"{where(int(bad[0]))}: {axis} {v[bad[0]]}; expected 8-bit counts 0–255")
    bad = np.flatnonzero(~np.isin(arr["gt"], list(PSG_TO_LABEL)))
    if len(bad):
        raise RecordingFormatError(
            f"{where(int(bad[0]))}: gt {arr['gt'][bad[0]]}; expected 0 (unknown), 1-3 (stages 3-1), 5 (REM), "
            "6 (wake) or 7 (movement)"
        )


def expand(night: IchiNight) -> tuple[np.ndarray, np.ndarray]:
    """The 100 Hz stream: counts (n, 3) uint8 and PSG codes (n,), each row repeated ``d`` times."""
    return np.repeat(night.counts, night.d, axis=0), np.repeat(night.gt, night.d)


# ---------------------------------------------------------------- timing


def timing(night: IchiNight) -> dict[str, Any]:
    """The run lengths against the timestamps: gaps (row where the jump lands, its excess in s, the sample index
    of the junction) and the sample rate the timestamps show over the whole night."""
    steps_s = np.diff(night.t) * SECONDS_PER_DAY
    excess = steps_s - night.d[:-1] / SOURCE_RATE_HZ
    rows = np.flatnonzero(excess > GAP_S)
    starts = np.concatenate([[0], np.cumsum(night.d)])
    span_s = float((night.t[-1] - night.t[0]) * SECONDS_PER_DAY)
    samples = int(starts[-1])
    return {
        "rows": len(night.t),
        "samples_100hz": samples,
        "run_length_duration_s": samples / SOURCE_RATE_HZ,
        "timestamp_span_s": round(span_s, 3),
        "timestamp_rate_hz": round(float(starts[-2]) / span_s, 4) if span_s > 0 else None,
        "gaps": [[int(r) + 1, round(float(excess[r]), 3), int(starts[r + 1])] for r in rows],
    }


def _timing_warnings(path: Path, info: dict[str, Any]) -> list[str]:
    out = []
    gaps = info["gaps"]
    if gaps:
        largest = max(gaps, key=lambda g: g[1])
        out.append(
            f"{path}: {len(gaps)} gap(s) where the timestamps jump more than the run lengths explain (largest "
            f"{largest[1]:.1f} s before row {largest[0]}, {sum(g[1] for g in gaps):.1f} s in all); the samples "
            "are joined end to end, the epochs holding a junction are unscored, clock times after a gap are early"
        )
    rate = info["timestamp_rate_hz"]
    if rate is not None and abs(rate / SOURCE_RATE_HZ - 1) > CLOCK_TOLERANCE and not gaps:
        out.append(
            f"{path}: the run lengths hold {rate:.2f} samples per second of timestamps; expected "
            f"{SOURCE_RATE_HZ} Hz (± {CLOCK_TOLERANCE:.0%}); the stream is taken at {SOURCE_RATE_HZ} Hz"
        )
    return out


def start_unix(t0_days: float) -> float | None:
    """Seconds since 1970 of a datenum, or None when it is not in the data set's years (not a datenum)."""
    # to the millisecond: a datenum in float64 days carries ~10 us of rounding (20:28:19.999996 for 20:28:20)
    unix = round((t0_days - DATENUM_UNIX_EPOCH) * SECONDS_PER_DAY, 3)
    if not math.isfinite(unix):
        return None
    year = 1970 + unix / (365.2425 * SECONDS_PER_DAY)
    return unix if PLAUSIBLE_YEARS[0] <= year < PLAUSIBLE_YEARS[1] + 1 else None


# ---------------------------------------------------------------- calibration


def still_means(counts: np.ndarray) -> np.ndarray:
    """Mean count vector (k, 3) of each 1-s window (of the 100 Hz stream) whose axes all have a standard deviation
    of at most STILL_STD_COUNTS."""
    n = len(counts) // STILL_WINDOW * STILL_WINDOW
    windows = counts[:n].reshape(-1, STILL_WINDOW, 3).astype(np.float32)
    still = (windows.std(axis=1) <= STILL_STD_COUNTS).all(axis=1)
    return windows[still].mean(axis=1).astype(np.float64)


def calibrate(counts: np.ndarray) -> Calibration:
    """Counts -> g for one night, from its still seconds (which feel gravity alone, 1 g).

    With enough still windows pointing both ways along every axis (MIN_SIDE_WINDOWS beyond +-SIDE_G), an offset
    and a gain per axis are fitted so that ``|(m - offset) / gain| = 1`` for the windows' mean vectors ``m``
    (scipy least_squares, soft-L1 loss at ROBUST_SCALE_G so that windows of slow movement weigh less; identical
    mean vectors are merged with their count as weight, which gives the same fit faster). A fit that ends on a
    bound of OFFSET_RANGE_COUNTS / GAIN_RANGE has found no sphere; then, or when the orientations are too few,
    the typical offsets are kept and one factor scales the typical gains so that the median still magnitude is
    1 g. With fewer than MIN_STILL_WINDOWS still windows the typical calibration is used as it is."""
    typical_o = np.array(TYPICAL_OFFSET_COUNTS)
    typical_g = np.array(TYPICAL_GAIN_COUNTS_PER_G)
    means = still_means(counts)
    if len(means) < MIN_STILL_WINDOWS:
        return _calibration("typical", typical_o, typical_g, means)
    fitted = _sphere_fit(means) if _covers_both_sides(means) else None
    if fitted is not None:
        return _calibration("sphere", fitted[0], fitted[1], means)
    scale = float(np.median(np.linalg.norm((means - typical_o) / typical_g, axis=1)))
    return _calibration("gain", typical_o, typical_g * scale, means)


def _covers_both_sides(means: np.ndarray) -> bool:
    g = (means - np.array(TYPICAL_OFFSET_COUNTS)) / np.array(TYPICAL_GAIN_COUNTS_PER_G)
    above = np.count_nonzero(g > SIDE_G, axis=0)
    below = np.count_nonzero(g < -SIDE_G, axis=0)
    return bool(np.all(above >= MIN_SIDE_WINDOWS) and np.all(below >= MIN_SIDE_WINDOWS))


def _sphere_fit(means: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    from scipy.optimize import least_squares  # here: scipy.optimize costs every `vigil` command ~0.4 s to import

    points, weights = np.unique(means, axis=0, return_counts=True)
    root_w = np.sqrt(weights)

    def residuals(p: np.ndarray) -> np.ndarray:
        return (np.linalg.norm((points - p[:3]) / p[3:], axis=1) - 1.0) * root_w

    lo = [128 - OFFSET_RANGE_COUNTS] * 3 + [GAIN_RANGE[0]] * 3
    hi = [128 + OFFSET_RANGE_COUNTS] * 3 + [GAIN_RANGE[1]] * 3
    start = [*TYPICAL_OFFSET_COUNTS, *TYPICAL_GAIN_COUNTS_PER_G]
    fit = least_squares(residuals, start, bounds=(lo, hi), loss="soft_l1", f_scale=ROBUST_SCALE_G)
    at_bound = np.isclose(fit.x, lo, atol=1e-3) | np.isclose(fit.x, hi, atol=1e-3)
    if not fit.success or at_bound.any():
        return None
    return fit.x[:3], fit.x[3:]


def _calibration(method: str, offset: np.ndarray, gain: np.ndarray, means: np.ndarray) -> Calibration:
    magnitude: dict[str, float] = {}
    if len(means):
        mg = np.linalg.norm((means - offset) * (1000.0 / gain), axis=1)
        p5, p50, p95 = np.percentile(mg, [5, 50, 95])
        magnitude = {"median": round(float(p50), 1), "p5": round(float(p5), 1), "p95": round(float(p95), 1)}
    return Calibration(method, np.asarray(offset, dtype=np.float64), np.asarray(gain, dtype=np.float64),
                       len(means), magnitude)  # fmt: skip


# ---------------------------------------------------------------- labels


def epoch_labels(gt: np.ndarray, n_epochs: int, junctions: list[int] | None = None) -> np.ndarray:
    """One class per 30-s epoch from per-sample (100 Hz) PSG codes: the majority of the mapped classes over the
    epoch's samples (see the module doc); epochs holding a junction (a sample index) are unscored."""
    per_epoch = int(EPOCH_S * SOURCE_RATE_HZ)
    lut = np.full(max(PSG_TO_LABEL) + 1, LABEL_UNSCORED, dtype=np.int64)
    for code, label in PSG_TO_LABEL.items():
        lut[code] = label
    n = min(len(gt), n_epochs * per_epoch)
    vote = np.array([_VOTE_ORDER.index(int(c)) for c in lut])[gt[:n]]  # class -> column in vote order
    epoch = np.arange(n) // per_epoch
    tally = np.bincount(epoch * len(_VOTE_ORDER) + vote, minlength=n_epochs * len(_VOTE_ORDER))
    winner = tally.reshape(n_epochs, len(_VOTE_ORDER)).argmax(axis=1)  # argmax: first on ties
    labels = np.array(_VOTE_ORDER, dtype=np.int8)[winner]
    for sample in junctions or []:
        if sample // per_epoch < n_epochs:
            labels[sample // per_epoch] = LABEL_UNSCORED
    return labels


# ---------------------------------------------------------------- conversion


def load_ichi(path: str | Path) -> Recording:
    """A recording of one ICHI-2014 night file (see the module doc)."""
    night = read_ichi(path)
    path = night.path
    info = timing(night)
    warnings = _timing_warnings(path, info)
    counts, gt = expand(night)
    cal = calibrate(counts)
    if cal.method != "sphere":
        warnings.append(_calibration_warning(path, cal))
    mg = rs.resample_uniform(cal.to_milli_g(counts), SOURCE_RATE_HZ, ACCEL_RATE_HZ)
    accel, clipped = rs.to_int16(mg)
    if clipped:
        warnings.append(f"{path}: {clipped} values beyond the int16 range (±32.767 g) clipped")
    n_epochs = len(accel) // int(EPOCH_S * ACCEL_RATE_HZ)
    junctions = [g[2] for g in info["gaps"]]
    labels = epoch_labels(gt, n_epochs, junctions)
    meta = _meta(night, info, cal, clipped, labels, gt, junctions)
    if warnings:
        meta["warnings"] = warnings
        for message in warnings:
            warn(message)
    return Recording(accel, ACCEL_RATE_HZ, np.zeros(0, dtype=np.int16), None, meta, labels)


def _calibration_warning(path: Path, cal: Calibration) -> str:
    if cal.method == "typical":
        return (f"{path}: only {cal.still_windows} still 1-s windows (need {MIN_STILL_WINDOWS}); the ICHI logger's "
                "typical calibration is used")  # fmt: skip
    return (f"{path}: the still windows do not point both ways along every axis (or the fit failed); typical "
            f"offsets kept, one gain fitted ({cal.still_windows} still windows)")  # fmt: skip


def _meta(night: IchiNight, info: dict[str, Any], cal: Calibration, clipped: int, labels: np.ndarray,
          gt: np.ndarray, junctions: list[int]) -> dict[str, Any]:  # fmt: skip
    subject, letter = night_name(night.path)
    unix = start_unix(float(night.t[0]))
    source: dict[str, Any] = {"kind": "ichi", "path": str(night.path), "subject": subject, "night": letter,
                              "file": night.path.name, "t0_days": float(night.t[0])}  # fmt: skip
    patient = patient_info(night.path)
    if patient is not None:
        source["patient"] = patient
    codes, code_counts = np.unique(gt, return_counts=True)
    return {
        "accel_units": ACCEL_UNITS,
        "ppg_units": None,
        "ppg_counts_per_unit": None,
        "start_time": iso_utc(unix) if unix is not None else None,
        "sleep_labels_start_s": 0.0,
        "source": source,
        "notes": (
            f"ICHI-2014 night {night.path.stem} (patient {subject}): 100 Hz 8-bit wrist accelerometer, run lengths "
            f"expanded, calibrated from gravity ({cal.method}), resampled to {ACCEL_RATE_HZ} Hz; PSG labels per "
            "30-s epoch by majority. start_time is the sleep lab's local clock (Germany) written as if UTC"
            + ("" if unix is not None else " (t[0] is not a datenum of 2010-2014: left empty)")
            + "; the light channel (l) is not kept"
        ),
        "conversion": {
            "accel": {
                "source_units": "8-bit counts",
                "source_rate_hz": SOURCE_RATE_HZ,
                "resampling": f"resample_poly up 1 down 2 ({SOURCE_RATE_HZ} -> {ACCEL_RATE_HZ} Hz)",
                "clipped": clipped,
            },
            "calibration": cal.as_meta(),
            "timing": info,
            "labels": {
                "mapping": LABEL_MAPPING,
                "rule": "majority of the epoch's per-sample classes; ties: unscored, wake, NREM, REM in that order",
                "psg_samples": {str(int(c)): int(n) for c, n in zip(codes, code_counts)},
                "gap_epochs_unscored": len({j // int(EPOCH_S * SOURCE_RATE_HZ) for j in junctions}),
                "epochs": len(labels),
            },
        },
    }
