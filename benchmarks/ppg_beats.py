"""PPG beat detection: vigil's fixed-point chain beside HeartPy and NeuroKit2.

    .venv/bin/python benchmarks/ppg_beats.py [--quick]

Three tables:
1. Synthetic PPG with known beats (vigil.data.synthetic_ppg), every supported rate and difficulty:
   beat F1 against the true systolic peaks (tolerance TOL_MS) for vigil, HeartPy and NeuroKit2
   (its default peak finder, Elgendi's, i.e. a float zero-phase TERMA), and vigil's IBI error.
   (NeuroKit2's "bishop" (MSPTD) finder is left out: it builds an n x n/2 scalogram of the whole
   record, 8 GB and minutes for two minutes at 128 Hz.)
2. The real PPG recordings that ship with HeartPy (heartpy.load_exampledata(0..2): 100 Hz, ~117 Hz
   with a millisecond timer, ~100.4 Hz with jittered timestamps), resampled with scipy to each
   supported rate: beat agreement (F1 of vigil's beats against each tool's, and of the tools against
   each other) and heart-rate agreement (mean absolute difference of the 10-s-window heart rates).
3. vigil's per-segment HRV features on the synthetic records against the same features computed
   (same integer definitions, vigil.dsp.hrv.hrv_features) from the true beats: share of segments
   valid and mean absolute errors of the valid ones.

vigil's beats are peaks of the causally band-passed signal, later than the raw systolic peaks by about
the filter's group delay; they are compared after subtracting it (ppg_tables.rate_table(fs).group_delay,
a design constant, not a fitted one). HeartPy and NeuroKit2 run zero-phase filters on the whole record.
tests/test_dsp_ppg.py imports this module and holds floors just below the numbers it prints.
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from dataclasses import dataclass

import numpy as np
from scipy import signal

from vigil.data.synthetic_ppg import DIFFICULTY, synthetic_ppg
from vigil.dsp import config, ppg_tables
from vigil.dsp.hrv import hrv_features
from vigil.dsp.ppg import ppg_chain

TOL_MS = 100  # a detected beat matches a reference beat within +-100 ms
HR_WINDOW_S = 10


# ---------------------------------------------------------------- scoring


def match_beats(ref: np.ndarray, det: np.ndarray, tol: int) -> list[tuple[int, int]]:
    """One-to-one pairs (i, j) with |det[j] - ref[i]| <= tol, both sorted, matched greedily in order."""
    pairs = []
    i = j = 0
    while i < len(ref) and j < len(det):
        d = int(det[j]) - int(ref[i])
        if abs(d) <= tol:
            pairs.append((i, j))
            i += 1
            j += 1
        elif d < 0:
            j += 1
        else:
            i += 1
    return pairs


def beat_f1(ref: np.ndarray, det: np.ndarray, fs: int) -> float:
    """F1 of det against ref with the tolerance TOL_MS."""
    if len(ref) == 0 and len(det) == 0:
        return 1.0
    tp = len(match_beats(ref, det, TOL_MS * fs // 1000))
    return 2.0 * tp / (len(ref) + len(det))


def ibi_errors_ms(ref: np.ndarray, det: np.ndarray, fs: int) -> np.ndarray:
    """det's IBI minus ref's IBI (ms), for each pair of consecutive beats matched in both."""
    pairs = match_beats(ref, det, TOL_MS * fs // 1000)
    err = [
        ((det[j1] - det[j0]) - (ref[i1] - ref[i0])) * 1000.0 / fs
        for (i0, j0), (i1, j1) in zip(pairs, pairs[1:])
        if i1 == i0 + 1 and j1 == j0 + 1
    ]
    return np.asarray(err, dtype=np.float64)


def window_hr(beats: np.ndarray, fs: int, n: int) -> np.ndarray:
    """Heart rate (bpm) per HR_WINDOW_S window from the 300-2000 ms IBIs whose later beat is in it
    (NaN where a window has fewer than 3 of them)."""
    beats = np.asarray(beats, dtype=np.int64)
    ibi = np.diff(beats) * 1000.0 / fs
    later = beats[1:]
    ok = (ibi >= 300) & (ibi <= 2000)
    w = HR_WINDOW_S * fs
    out = []
    for start in range(0, n - w + 1, w):
        sel = ok & (later >= start) & (later < start + w)
        out.append(60000.0 / ibi[sel].mean() if sel.sum() >= 3 else np.nan)
    return np.asarray(out)


def hr_mae(a: np.ndarray, b: np.ndarray, fs: int, n: int) -> float:
    ha, hb = window_hr(a, fs, n), window_hr(b, fs, n)
    both = ~np.isnan(ha) & ~np.isnan(hb)
    return float(np.abs(ha[both] - hb[both]).mean()) if both.any() else float("nan")


# ---------------------------------------------------------------- the methods


def vigil_beats(raw: np.ndarray, fs: int) -> np.ndarray:
    """vigil's beats moved back by the band-pass's group delay (to the raw signal's time)."""
    _, beats, _ = ppg_chain(raw, fs, motion=None)
    return beats - ppg_tables.rate_table(fs).group_delay


def heartpy_beats(raw: np.ndarray, fs: int) -> np.ndarray:
    """HeartPy's accepted peaks, its documented way for raw PPG: band-pass 0.7-3.5 Hz, then process."""
    import heartpy as hp

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        x = hp.filter_signal(raw.astype(np.float64), [0.7, 3.5], sample_rate=fs, order=3, filtertype="bandpass")
        try:
            wd, _ = hp.process(hp.scale_data(x), sample_rate=fs)
        except Exception:  # HeartPy gives up on records it cannot analyse
            return np.zeros(0, dtype=np.int64)
    peaks = np.asarray(wd["peaklist"], dtype=np.int64)
    keep = np.asarray(wd["binary_peaklist"], dtype=bool)
    return peaks[keep]


def neurokit_beats(raw: np.ndarray, fs: int, method: str = "elgendi") -> np.ndarray:
    """NeuroKit2's peaks: nk.ppg_clean then nk.ppg_findpeaks (ppg_process's path) with `method`."""
    import neurokit2 as nk

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        clean = nk.ppg_clean(raw.astype(np.float64), sampling_rate=fs)
        info = nk.ppg_findpeaks(clean, sampling_rate=fs, method=method)
    return np.asarray(info["PPG_Peaks"], dtype=np.int64)


METHODS = {
    "vigil": vigil_beats,
    "HeartPy": heartpy_beats,
    "NeuroKit2": neurokit_beats,
}


# ---------------------------------------------------------------- data


def heartpy_example(index: int, fs: int) -> np.ndarray:
    """HeartPy's example PPG `index` (0, 1, 2) resampled to fs, as int16 counts (its 10-bit ADC values)."""
    import heartpy as hp

    if index == 0:
        x, _ = hp.load_exampledata(0)
        t = np.arange(len(x)) / 100.0
    elif index == 1:
        x, timer = hp.load_exampledata(1)
        t = (np.asarray(timer, dtype=np.float64) - float(timer[0])) / 1000.0
    elif index == 2:
        x, stamps = hp.load_exampledata(2)
        us = np.array([np.datetime64(s) for s in stamps]).astype("datetime64[us]").astype(np.int64)
        t = (us - us[0]) / 1e6
    else:
        raise ValueError(f"HeartPy has example records 0, 1, 2, not {index}")
    x = np.asarray(x, dtype=np.float64)
    # Timestamps repeat and jump (record 2): average duplicates, then band-limited resampling on a
    # uniform grid (linear interpolation to 4 x fs, then an anti-aliased polyphase decimation by 4,
    # whose first and last quarter second are edge transients and are dropped).
    t_u, inv = np.unique(t, return_inverse=True)
    x_u = np.bincount(inv, weights=x) / np.bincount(inv)
    fine = np.interp(np.arange(0.0, t_u[-1], 1.0 / (4 * fs)), t_u, x_u)
    y = signal.resample_poly(fine, 1, 4)[fs // 4 : -(fs // 4)]
    return np.clip(np.round(y), -32768, 32767).astype(np.int16)


# ---------------------------------------------------------------- tables


@dataclass
class SyntheticRow:
    fs: int
    difficulty: str
    f1: dict[str, float]
    ibi_mae_ms: float
    ibi_p95_ms: float


def synthetic_row(fs: int, difficulty: str, seeds: range, seconds: float, methods: list[str]) -> SyntheticRow:
    f1: dict[str, list[float]] = {m: [] for m in methods}
    errors = []
    for seed in seeds:
        raw, truth = synthetic_ppg(seconds, fs, seed, stress=(seed % 4) / 3, difficulty=difficulty)
        for m in methods:
            det = METHODS[m](raw, fs)
            f1[m].append(beat_f1(truth, det, fs))
            if m == "vigil":
                errors.append(np.abs(ibi_errors_ms(truth, det, fs)))
    err = np.concatenate(errors)
    return SyntheticRow(fs, difficulty, {m: float(np.mean(v)) for m, v in f1.items()}, float(err.mean()),
                        float(np.percentile(err, 95)))


FEATURES = ("avhr", "sdrr", "rmssd", "pnn50", "pnn20")


def true_features(truth: np.ndarray, fs: int, segment: int) -> dict[str, int]:
    """The features of one segment from the true beats (every true IBI accepted)."""
    seg_len = config.SEGMENT_S * fs
    ibis = np.diff(truth)[(truth[1:] >= segment * seg_len) & (truth[1:] < (segment + 1) * seg_len)]
    return hrv_features(ibis.tolist(), np.diff(ibis).tolist(), fs)


@dataclass
class FeatureRow:
    fs: int
    difficulty: str
    valid: int
    segments: int
    mae: dict[str, float]  # in bpm, ms, %


def feature_row(fs: int, difficulty: str, seeds: range, seconds: float) -> FeatureRow:
    errors: dict[str, list[float]] = {k: [] for k in FEATURES}
    valid = total = 0
    for seed in seeds:
        raw, truth = synthetic_ppg(seconds, fs, seed, stress=(seed % 4) / 3, difficulty=difficulty)
        for seg in ppg_chain(raw, fs, motion=None)[2]:
            total += 1
            if seg.valid:
                valid += 1
                want = true_features(truth, fs, seg.segment)
                for k in FEATURES:
                    errors[k].append(abs(getattr(seg, k) - want[k]) / 100)
    return FeatureRow(fs, difficulty, valid, total, {k: float(np.mean(v)) if v else float("nan") for k, v in errors.items()})


@dataclass
class RealRow:
    record: int
    fs: int
    seconds: float
    n_beats: dict[str, int]
    f1: dict[str, float]  # "a~b": F1 of a's beats against b's
    hr_mae: dict[str, float]


PAIRS = [("vigil", "HeartPy"), ("vigil", "NeuroKit2"), ("HeartPy", "NeuroKit2")]


def real_row(record: int, fs: int) -> RealRow:
    raw = heartpy_example(record, fs)
    beats = {m: METHODS[m](raw, fs) for m in METHODS}
    return RealRow(
        record,
        fs,
        len(raw) / fs,
        {m: len(b) for m, b in beats.items()},
        {f"{a}~{b}": beat_f1(beats[b], beats[a], fs) for a, b in PAIRS},
        {f"{a}~{b}": hr_mae(beats[a], beats[b], fs, len(raw)) for a, b in PAIRS},
    )


def print_tables(quick: bool) -> None:
    methods = list(METHODS)
    seconds, seeds = (120.0, range(2)) if quick else (300.0, range(4))
    print(f"Synthetic PPG ({len(seeds)} x {seconds:.0f} s per row, stress 0..1): beat F1 vs the true peaks "
          f"(+-{TOL_MS} ms), vigil's IBI error")
    print(f"{'fs':>4} {'difficulty':10}" + "".join(f"{m:>12}" for m in methods) + f"{'IBI MAE ms':>12}{'IBI p95 ms':>12}")
    for difficulty in DIFFICULTY:
        for fs in config.PPG_RATES_HZ:
            r = synthetic_row(fs, difficulty, seeds, seconds, methods)
            print(f"{fs:>4} {difficulty:10}" + "".join(f"{r.f1[m]:>12.4f}" for m in methods)
                  + f"{r.ibi_mae_ms:>12.2f}{r.ibi_p95_ms:>12.1f}")
    print()
    print(f"HeartPy example PPG, resampled: beats per method; F1 of a's beats vs b's (+-{TOL_MS} ms); "
          f"heart-rate MAE over {HR_WINDOW_S}-s windows (bpm)")
    head = f"{'rec':>3} {'fs':>4} {'s':>5} " + " ".join(f"{m[:7]:>7}" for m in methods)
    head += "".join(f"{'F1 ' + a[:5] + '~' + b[:9]:>20}" for a, b in PAIRS)
    head += "".join(f"{'HR ' + a[:5] + '~' + b[:9]:>20}" for a, b in PAIRS)
    print(head)
    for record in (0, 1, 2):
        for fs in config.PPG_RATES_HZ:
            r = real_row(record, fs)
            line = f"{r.record:>3} {r.fs:>4} {r.seconds:>5.0f} " + " ".join(f"{r.n_beats[m]:>7}" for m in methods)
            line += "".join(f"{r.f1[f'{a}~{b}']:>20.4f}" for a, b in PAIRS)
            line += "".join(f"{r.hr_mae[f'{a}~{b}']:>20.2f}" for a, b in PAIRS)
            print(line)
    print()
    print("HRV features of the synthetic records' segments vs the features of the true beats: valid share, "
          "mean absolute errors of the valid segments")
    print(f"{'fs':>4} {'difficulty':10}{'valid':>8}{'AVHR bpm':>10}{'SDRR ms':>9}{'RMSSD ms':>10}{'pNN50 %':>9}{'pNN20 %':>9}")
    for difficulty in DIFFICULTY:
        for fs in config.PPG_RATES_HZ:
            fr = feature_row(fs, difficulty, seeds, seconds)
            print(f"{fs:>4} {difficulty:10}{fr.valid:>4}/{fr.segments:<3}" + "".join(
                f"{fr.mae[k]:>{w}.2f}" for k, w in zip(FEATURES, (10, 9, 10, 9, 9))))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="fewer and shorter synthetic records")
    args = ap.parse_args(argv)
    t0 = time.time()
    print_tables(args.quick)
    print(f"\n({time.time() - t0:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
