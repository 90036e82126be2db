"""Twin of the firmware's PPG stages 3 and 4 (``firmware/core/dsp/ibi_filter.c``, ``ppg_quality.c``,
``hrv_features.c``, driven by ``ppg_segments`` in ``ppg_pipeline.c``): IBIs with artifact rejection,
raw-signal quality and time-domain HRV features per 60-s segment, the same integers exactly.

Units (``HrvFeatures``): avhr 0.01 bpm, avrr/sdrr/rmssd 0.01 ms, pnn50/pnn20 0.01 %; ``as_dict()``
gives them in bpm, ms and % as the proposal's dataset has them (AVHR = 60000 / AVRR).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from enum import IntEnum, IntFlag

import numpy as np

from vigil.dsp import ppg_tables as tables
from vigil.dsp.accel import WristMotion
from vigil.dsp.hrv_spectrum import hrv_spectrum
from vigil.dsp.isqrt import isqrt

Flag = IntFlag("Flag", {name: bit for name, (bit, _) in tables.FLAGS.items()}, module=__name__)
Flag.__doc__ = "Reasons a segment is invalid (``HRV_FLAG_*``, from ppg_tables.FLAGS)."


class Verdict(IntEnum):
    NONE = 0
    ACCEPT = 1
    REJECT_RANGE = 2
    REJECT_CHANGE = 3
    INTERPOLATED = 4  # one missed beat: two IBIs of ibi // 2 and ibi - ibi // 2
    MOVING = 5  # the wrist moved during the interval: left out, neither accepted nor rejected


@dataclass(frozen=True)
class HrvFeatures:
    """Mirror of ``hrv_features_t``."""

    segment: int
    valid: int
    flags: int
    n_beats: int
    n_ibis: int
    n_rejected: int
    avhr: int  # 0.01 bpm
    avrr: int  # 0.01 ms
    sdrr: int  # 0.01 ms
    rmssd: int  # 0.01 ms
    pnn50: int  # 0.01 %
    pnn20: int  # 0.01 %
    # relative to the wearer's baseline (vigil.dsp.hrv_baseline): feature - baseline median, same units
    baseline_n: int = 0
    baseline_ready: int = 0
    rel_avhr: int = 0
    rel_avrr: int = 0
    rel_sdrr: int = 0
    rel_rmssd: int = 0
    rel_pnn50: int = 0
    rel_pnn20: int = 0
    # beyond the proposal's six (hrv_features.h; 0 unless valid, and lf .. lfhf unless spectrum_ready)
    sd1: int = 0  # 0.01 ms
    sd2: int = 0  # 0.01 ms
    pamp: int = 0  # 0.01 raw counts
    lf: int = 0  # 0.01 ms^2
    hf: int = 0  # 0.01 ms^2
    lfhf: int = 0  # 0.01
    spectrum_ready: int = 0

    def as_dict(self) -> dict[str, object]:
        """The raw integers plus the features in physical units (bpm, ms, %) and the flag names."""
        d: dict[str, object] = asdict(self)
        d.update(
            AVHR=self.avhr / 100,
            AVRR=self.avrr / 100,
            SDRR=self.sdrr / 100,
            RMSSD=self.rmssd / 100,
            pNN50=self.pnn50 / 100,
            pNN20=self.pnn20 / 100,
            SD1=self.sd1 / 100,
            SD2=self.sd2 / 100,
            LF=self.lf / 100,
            HF=self.hf / 100,
            LFHF=self.lfhf / 100,
            reasons=[f.name for f in Flag if self.flags & f],
        )
        return d


@dataclass(frozen=True)
class IbiResult:
    verdict: Verdict
    ibi: int  # samples
    diff: int | None  # ibi - previous ibi when both are accepted and adjacent


class IbiFilter:
    """``ibi_filter_t``: range rule, then the successive-change rule against the median of the last
    IBI_HISTORY in-range IBIs, then the missed-beat rule for a rejected span of about two reference
    intervals (see ibi_filter.h)."""

    def __init__(self, fs: int) -> None:
        t = tables.rate_table(fs)
        self.ibi_min, self.ibi_max = t.ibi_min, t.ibi_max
        self.history: list[int] = []  # oldest first, at most IBI_HISTORY
        self.last_beat: int | None = None
        self.prev_accepted = False
        self.prev_ibi = 0

    def push(self, beat: int, moving: bool = False) -> IbiResult:
        """``moving``: the accelerometer saw the wrist move during the span since the previous beat."""
        if self.last_beat is None:
            self.last_beat = beat
            return IbiResult(Verdict.NONE, 0, None)
        span = (beat - self.last_beat) & 0xFFFFFFFF
        self.last_beat = beat
        ibi = min(span, 0xFFFF)
        if moving and span <= 2 * self.ibi_max + 1:
            self.prev_accepted = False
            self.prev_ibi = ibi
            return IbiResult(Verdict.MOVING, ibi, None)
        ref = sorted(self.history)[len(self.history) // 2] if len(self.history) >= tables.IBI_MIN_HISTORY else None
        if span < self.ibi_min or span > self.ibi_max:
            verdict = Verdict.REJECT_RANGE
        else:
            verdict = Verdict.REJECT_CHANGE
            if ref is not None and 100 * abs(span - ref) <= tables.IBI_CHANGE_PCT * ref:
                verdict = Verdict.ACCEPT
            self.history = (self.history + [ibi])[-tables.IBI_HISTORY :]
        if (verdict != Verdict.ACCEPT and ref is not None and self.prev_accepted and span // 2 >= self.ibi_min
                and span - span // 2 <= self.ibi_max
                and 100 * abs(span - 2 * ref) <= tables.IBI_CHANGE_PCT * ref):  # fmt: skip
            verdict = Verdict.INTERPOLATED
        diff = ibi - self.prev_ibi if verdict == Verdict.ACCEPT and self.prev_accepted else None
        self.prev_accepted = verdict == Verdict.ACCEPT
        self.prev_ibi = ibi
        return IbiResult(verdict, ibi, diff)


def ibi_verdicts(beats: np.ndarray, fs: int, moving: np.ndarray | None = None) -> list[IbiResult]:
    """The IBI filter's result for every beat of a stream, in order (the first is NONE); ``moving``: per beat, whether
    the wrist moved since the previous one (``beats_moving``; None: never)."""
    f = IbiFilter(fs)
    moving = np.zeros(len(beats), dtype=bool) if moving is None else moving
    return [f.push(int(b), bool(m)) for b, m in zip(beats, moving)]


def beats_moving(beats: np.ndarray, fs: int, seconds: np.ndarray | None) -> np.ndarray | None:
    """Per beat, whether any 1-s motion level from the previous beat's second to its own is above BEAT_MOTION_MAX
    (``interval_moving`` in ppg_pipeline.c); a second past the accelerometer's end counts as moving. ``seconds``: the
    accelerometer's level per second (``vigil.dsp.accel.wrist_motion``); None or empty: no accelerometer (None back)."""
    if seconds is None or len(seconds) == 0:
        return None
    beats = np.asarray(beats, dtype=np.int64)
    loud = np.ones(int(beats[-1]) // fs + 1 if len(beats) else 0, dtype=bool)
    known = min(len(seconds), len(loud))
    loud[:known] = np.asarray(seconds, dtype=np.int64)[:known] > tables.BEAT_MOTION_MAX
    ends = np.concatenate([[0], np.cumsum(loud)])  # ends[k]: loud seconds before second k
    moving = np.zeros(len(beats), dtype=bool)
    first, last = beats[:-1] // fs, beats[1:] // fs
    moving[1:] = ends[last + 1] - ends[first] > 0
    return moving


def segment_quality(raw: np.ndarray, fs: int) -> int:
    """FLAT | CLIPPED of one segment's raw samples (``ppg_quality_flags``)."""
    t = tables.rate_table(fs)
    x = np.asarray(raw, dtype=np.int64)
    if len(x) == 0:
        return 0
    flags = 0
    change = np.flatnonzero(np.diff(x) != 0)
    bounds = np.concatenate([[-1], change, [len(x) - 1]])
    if int(np.diff(bounds).max()) >= t.flat_run:
        flags |= Flag.FLAT
    hi, lo = x.max(), x.min()
    plateau = int(np.sum((x[1:] == hi) & (x[:-1] == hi)) + np.sum((x[1:] == lo) & (x[:-1] == lo)))
    if hi > lo and plateau >= t.clip_min:
        flags |= Flag.CLIPPED
    return flags


def _round_div(num: int, den: int) -> int:
    return (2 * num + den) // (2 * den)


def hrv_features(ibis: list[int], diffs: list[int], fs: int) -> dict[str, int]:
    """The six features of ``hrv_features_compute`` and Poincare SD1/SD2 from accepted IBIs and successive
    differences (samples); needs len(ibis) >= 2 and len(diffs) >= 1."""
    n, m = len(ibis), len(diffs)
    s, s2 = sum(ibis), sum(x * x for x in ibis)
    d2 = sum(d * d for d in diffs)
    nn50 = sum(1 for d in diffs if abs(d) * 1000 > tables.PNN_HIGH_MS * fs)
    nn20 = sum(1 for d in diffs if abs(d) * 1000 > tables.PNN_LOW_MS * fs)
    ten10 = 10**10
    q_sdrr = (n * s2 - s * s) * ten10 // (fs * fs * n * (n - 1))
    q_sd1 = d2 * ten10 // (2 * fs * fs * m)
    return {
        "avhr": _round_div(6000 * fs * n, s),
        "avrr": _round_div(100000 * s, fs * n),
        "sdrr": int(isqrt(np.uint64(q_sdrr))),
        "rmssd": int(isqrt(np.uint64(d2 * ten10 // (fs * fs * m)))),
        "pnn50": _round_div(10000 * nn50, m),
        "pnn20": _round_div(10000 * nn20, m),
        "sd1": int(isqrt(np.uint64(q_sd1))),
        "sd2": int(isqrt(np.uint64(max(2 * q_sdrr - q_sd1, 0)))),
    }


def pulse_amplitude(amps: np.ndarray) -> int:
    """``pamp``: the mean of the segment's beat amplitudes (filtered peaks, Q12), 0.01 raw counts."""
    if not len(amps):
        return 0
    return _round_div(100 * int(np.sum(np.asarray(amps, dtype=np.int64))), len(amps) << tables.FILT_SHIFT)


def segments_completed(beats: np.ndarray, n_samples: int, fs: int) -> int:
    """How many segments ``ppg_segments`` has output after a whole stream of n_samples: each one whose
    samples are all in, whose beats are all known (a later beat exists, or the detector has run
    `latency` samples past its end) and judged (the detector has run BEAT_HOLD_S past its last beat)."""
    t = tables.rate_table(fs)
    beats = np.asarray(beats, dtype=np.int64)
    last_beat = int(beats[-1]) if len(beats) else -1
    hold = tables.BEAT_HOLD_S * fs
    s = 0
    while (s + 1) * t.segment_len <= n_samples:
        end = (s + 1) * t.segment_len
        if not (last_beat >= end or n_samples >= end + t.latency):
            break
        before = int(np.searchsorted(beats, end))  # the segment's beats and those before it
        if before and n_samples < int(beats[before - 1]) + hold:
            break
        s += 1
    return s


def hrv_segments(beats: np.ndarray, raw: np.ndarray, fs: int, amps: np.ndarray, motion: WristMotion | None
                 ) -> list[HrvFeatures]:  # fmt: skip
    """Stages 3 + 4 over a whole stream: the features of every completed segment, with the wearer's baseline;
    ``amps`` are the beats' amplitudes (the filtered signal at each beat, ``detect_beats``); ``motion`` the
    accelerometer's motion levels per epoch and per second of the same stream (``vigil.dsp.accel.wrist_motion``),
    None without one."""
    from vigil.dsp.hrv_baseline import with_baseline

    t = tables.rate_table(fs)
    beats = np.asarray(beats, dtype=np.int64)
    amps = np.asarray(amps, dtype=np.int64)
    if len(amps) != len(beats):
        raise ValueError(f"{len(amps)} amplitudes for {len(beats)} beats")
    raw = np.asarray(raw, dtype=np.int16)
    results = ibi_verdicts(beats, fs, beats_moving(beats, fs, None if motion is None else motion.seconds))
    seg_of_beat = beats // t.segment_len
    accepted = np.array([r.verdict == Verdict.ACCEPT for r in results], dtype=bool)
    spectrum_beats = beats[accepted]  # the pairs the pipeline pushes to hrv_spectrum, in order
    spectrum_ibis = np.array([r.ibi for r in results], dtype=np.int64)[accepted]
    out = []
    for s in range(segments_completed(beats, len(raw), fs)):
        idx = np.flatnonzero(seg_of_beat == s)
        res = [results[i] for i in idx]
        ibis = [r.ibi for r in res if r.verdict == Verdict.ACCEPT]
        ibis += [half for r in res if r.verdict == Verdict.INTERPOLATED for half in (r.ibi // 2, r.ibi - r.ibi // 2)]
        diffs = [r.diff for r in res if r.diff is not None]
        rejected = sum(1 for r in res if r.verdict in (Verdict.REJECT_RANGE, Verdict.REJECT_CHANGE))
        flags = segment_quality(raw[s * t.segment_len : (s + 1) * t.segment_len], fs)
        if len(ibis) < tables.MIN_IBIS or len(diffs) < tables.MIN_DIFFS:
            flags |= Flag.TOO_FEW_BEATS
        if 100 * rejected > tables.MAX_REJECT_PCT * (len(ibis) + rejected):
            flags |= Flag.REJECTS
        accepted = sum(1 for r in res if r.verdict == Verdict.ACCEPT)
        interpolated = sum(1 for r in res if r.verdict == Verdict.INTERPOLATED)
        if 100 * accepted < tables.MIN_CLEAN_PCT * (accepted + interpolated + rejected):
            flags |= Flag.FEW_CLEAN
        feats: dict[str, int] = {}
        if flags == 0:
            end = (s + 1) * t.segment_len
            pushed = int(np.searchsorted(spectrum_beats, end))  # pushed by the time the segment closes
            held = slice(max(0, pushed - tables.SPECTRUM_CAPACITY), pushed)
            spectrum = hrv_spectrum(spectrum_beats[held], spectrum_ibis[held], end, fs)
            feats = hrv_features(ibis, diffs, fs) | {"pamp": pulse_amplitude(amps[idx])} | {
                "lf": spectrum["lf"], "hf": spectrum["hf"], "lfhf": spectrum["lfhf"],
                "spectrum_ready": spectrum["ready"]}  # fmt: skip
        out.append(
            HrvFeatures(
                segment=s,
                valid=int(flags == 0),
                flags=int(flags),
                n_beats=len(idx),
                n_ibis=len(ibis),
                n_rejected=rejected,
                **(dict.fromkeys(tables.HRV_FEATURES, 0) | feats),
            )
        )
    return with_baseline(out, None if motion is None else motion.epochs)
