"""Frequency-domain HRV: the C kernel (firmware/core/dsp/hrv_spectrum.c, through `program harness hrv_spectrum`, see
firmware/tests/test_hrv_spectrum.c) against its twin (vigil.dsp.hrv_spectrum), bit for bit, and the twin against a
float periodogram (scipy.signal.periodogram) of the same tachogram."""

from __future__ import annotations

import math
import re
import struct
import subprocess
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from scipy import signal

from vigil.dsp import config, ppg_tables
from vigil.dsp.hrv_spectrum import HrvSpectrum, band_sums, held_pairs, hrv_spectrum, lf_hf_ratio, resample, windowed

RATES = config.PPG_RATES_HZ
OUT_FMT = "<iiiB"  # lf, hf, lfhf, ready
KEYS = ("lf", "hf", "lfhf", "ready")
U32 = 2**32


@dataclass(frozen=True)
class Request:
    fs: int
    end: int
    beats: np.ndarray  # pushed in this order
    ibis: np.ndarray

    def pack(self) -> bytes:
        pairs = np.zeros(len(self.beats), dtype=[("beat", "<u4"), ("ibi", "<u2")])
        pairs["beat"], pairs["ibi"] = self.beats, self.ibis
        return struct.pack("<HII", self.fs, self.end, len(self.beats)) + pairs.tobytes()


def run_harness(program: Path, requests: list[Request]) -> list[dict[str, int]]:
    proc = subprocess.run([str(program), "harness", "hrv_spectrum"], input=b"".join(r.pack() for r in requests),
                          capture_output=True, timeout=300, check=False)  # fmt: skip
    assert proc.returncode == 0, proc.stderr.decode()
    size = struct.calcsize(OUT_FMT)
    assert len(proc.stdout) == size * len(requests)
    return [dict(zip(KEYS, struct.unpack_from(OUT_FMT, proc.stdout, i * size))) for i in range(len(requests))]


def twin(r: Request) -> dict[str, int]:
    return hrv_spectrum(r.beats, r.ibis, r.end, r.fs)


def assert_twin(program: Path, requests: list[Request]) -> list[dict[str, int]]:
    got = run_harness(program, requests)
    for i, (r, g) in enumerate(zip(requests, got)):
        want = twin(r)
        assert g == want, f"request {i} (fs {r.fs}, end {r.end}, {len(r.beats)} pairs): C {g}, twin {want}"
    return got


# ---------------------------------------------------------------- series


def beats_of(ibis: np.ndarray, first: int = 0) -> np.ndarray:
    return first + np.cumsum(np.asarray(ibis, dtype=np.int64))


def modulated_ibis(fs: int, seconds: float, components: list[tuple[float, float]], mean_ms: float = 850.0,
                   noise_ms: float = 0.0, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
    """(beats, ibis) in samples: IBI(t) = mean + sum of amp sin(2 pi f t) ms (+ Gaussian noise), t = the previous
    beat's time; each beat rounded to the sample grid and each IBI the exact difference of beat indices."""
    rng = np.random.default_rng(seed)
    t, beats = 0.0, [0]
    while t < seconds:
        ms = mean_ms + sum(a * math.sin(2 * math.pi * f * t) for f, a in components) + rng.normal(0, noise_ms)
        t += ms / 1000
        beats.append(round(t * fs))
    b = np.array(beats, dtype=np.int64)
    return b[1:], np.diff(b)


def random_request(rng: np.random.Generator, case: int) -> Request:
    """One of several families, chosen by case: regular rhythms with jitter, random walks over the whole accepted
    range, gaps, extremes at the bounds, more pairs than the ring holds, and the edge cases the kernel must refuse."""
    fs = int(rng.choice(RATES))
    t = ppg_tables.rate_table(fs)
    lo, hi = t.ibi_min, t.ibi_max
    window = ppg_tables.SPECTRUM_WINDOW_S * fs
    kind = case % 8
    if kind == 0:  # a rhythm with jitter and a slow modulation
        mean = int(rng.integers(lo + 10, hi - 10))
        n = int(1.3 * window / mean)
        ibis = mean + rng.integers(-5, 6, n) + np.round(
            (hi - lo) / 8 * np.sin(2 * np.pi * rng.uniform(0.03, 0.45) * np.arange(n) * mean / fs))
    elif kind == 1:  # random walk over [ibi_min, ibi_max]
        n = int(1.2 * window / ((lo + hi) / 2)) + 50
        ibis = np.clip(np.cumsum(rng.integers(-8, 9, n)) + (lo + hi) // 2, lo, hi)
    elif kind == 2:  # extremes: alternating or square waves between the bounds
        n = int(window / lo) + 20
        period = int(rng.choice([1, 2, 5, 13, 40]))
        ibis = np.where((np.arange(n) // period) % 2 == 0, lo, hi)
    elif kind == 3:  # gaps: spans of rejected beats (never pushed)
        n = int(1.5 * window / ((lo + hi) / 2))
        ibis = rng.integers(lo, hi + 1, n)
    elif kind == 4:  # more than the ring holds, at the fastest accepted rhythm
        n = ppg_tables.SPECTRUM_CAPACITY + int(rng.integers(1, 600))
        ibis = rng.integers(lo, lo + 8, n)
    elif kind == 5:  # out-of-range IBIs and out-of-order beats mixed in
        n = int(1.2 * window / ((lo + hi) / 2))
        ibis = rng.integers(lo, hi + 1, n)
    elif kind == 6:  # near the end of the uint32 sample counter
        n = int(1.1 * window / ((lo + hi) / 2))
        ibis = rng.integers(lo, hi + 1, n)
    else:  # coverage around the 75 % threshold
        mean = int(rng.integers(lo, hi + 1))
        n = int(window * rng.uniform(0.70, 0.80) / mean)
        ibis = np.full(n, mean) + rng.integers(-1, 2, n)
    ibis = np.clip(np.asarray(ibis, dtype=np.int64), 1, 65535)
    first = int(rng.integers(0, 5 * window))
    if kind == 6:
        first = U32 - int(ibis.sum()) - int(rng.integers(1, 2000))
    beats = beats_of(ibis, first)
    keep = np.ones(len(beats), bool)
    if kind == 3:
        for _ in range(int(rng.integers(1, 5))):
            a = int(rng.integers(0, len(beats)))
            keep[a : a + int(rng.integers(5, 60))] = False
    beats, ibis = beats[keep], ibis[keep]
    if kind == 5:
        bad = rng.choice(len(ibis), max(1, len(ibis) // 20), replace=False)
        ibis = ibis.copy()
        ibis[bad] = rng.choice([0, lo - 1, hi + 1, 65535], len(bad))
        back = rng.choice(len(beats), 3, replace=False)
        beats = beats.copy()
        beats[back] = np.maximum(beats[back] - rng.integers(0, 3 * hi, 3), 0)
    last = int(beats[-1])
    end = last + int(rng.integers(1, 2 * hi))
    if case % 13 == 0:
        end = int(rng.integers(0, window))  # before a full window
    if case % 17 == 0:
        end = last + int(rng.integers(window // 2, window))  # the window's end uncovered
    if kind == 6:
        end = min(end, U32 - 1)
    if case % 29 == 0:
        fs = int(rng.choice([0, 50, 65, 256]))  # no table
    return Request(fs, end, beats, ibis)


# ---------------------------------------------------------------- C unit checks


def test_c_unit_checks_pass(ctest_program: Path) -> None:
    cmd = [str(ctest_program), "hrv_spectrum"]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=False)
    summary = re.search(r"^hrv_spectrum\s+(\d+) checks passed, (\d+) failed$", proc.stdout, re.MULTILINE)
    assert summary and summary.group(2) == "0" and proc.returncode == 0, proc.stdout
    assert int(summary.group(1)) >= 38


# ---------------------------------------------------------------- bit-exact twin


def test_twin_matches_c_on_random_inputs(ctest_program: Path) -> None:
    rng = np.random.default_rng(20240611)
    requests = [random_request(rng, case) for case in range(480)]
    got = assert_twin(ctest_program, requests)
    # not a comparison of zeros: most requests are ready, with power in both bands
    ready = [g for g in got if g["ready"]]
    assert len(ready) > 0.5 * len(got) and sum(g["lf"] > 0 and g["hf"] > 0 for g in ready) > 0.9 * len(ready)
    assert len({(g["lf"], g["hf"]) for g in ready}) > 0.9 * len(ready)
    assert any(not g["ready"] for g in got[::13]) and any(r.fs not in RATES for r in requests)


@pytest.mark.parametrize("fs", RATES)
def test_twin_matches_c_on_modulated_series(ctest_program: Path, fs: int) -> None:
    requests = []
    for seed, comps in enumerate([[(0.1, 60.0)], [(0.25, 40.0)], [(0.07, 30.0), (0.3, 20.0)], [(0.04, 80.0)]]):
        beats, ibis = modulated_ibis(fs, 330, comps, noise_ms=5.0, seed=seed)
        requests += [Request(fs, int(beats[-1]) + d, beats, ibis) for d in (1, 37, 60 * fs)]
    got = assert_twin(ctest_program, requests)
    assert all(g["ready"] for g in got)


def test_the_class_pushes_as_the_function_does() -> None:
    rng = np.random.default_rng(3)
    for case in range(40):
        r = random_request(rng, case)
        s = HrvSpectrum()
        for b, i in zip(r.beats, r.ibis):
            s.push(int(b), int(i))
        assert s.compute(r.end, r.fs) == twin(r)


def test_the_ring_keeps_the_last_capacity_increasing_pairs() -> None:
    cap = ppg_tables.SPECTRUM_CAPACITY
    beats = list(range(100, 100 + 80 * (cap + 30), 80))
    ibis = [80 + k % 5 for k in range(len(beats))]
    b, i = held_pairs(beats + [beats[-1], beats[-1] - 7], ibis + [90, 90])  # the last two are ignored
    assert len(b) == cap and b[0] == beats[30] and b[-1] == beats[-1] and list(i) == ibis[30:]


# ---------------------------------------------------------------- against a float periodogram


def float_band_powers(beats: np.ndarray, ibis: np.ndarray, end: int, fs: int) -> tuple[float, float]:
    """LF and HF power (0.01 ms^2) of scipy's periodogram (periodic Hann, constant detrend, one-sided density) of the
    tachogram in ms linearly interpolated on the same 4-Hz grid."""
    start = end - ppg_tables.SPECTRUM_WINDOW_S * fs
    sel = (beats >= start) & (beats < end)
    grid = start + np.arange(ppg_tables.SPECTRUM_POINTS) * fs / ppg_tables.SPECTRUM_GRID_HZ
    y = np.interp(grid, beats[sel].astype(float), ibis[sel] * 1000.0 / fs)
    f, pxx = signal.periodogram(y, fs=ppg_tables.SPECTRUM_GRID_HZ, window="hann", detrend="constant")
    df = f[1] - f[0]
    (lf_lo, lf_hi), (hf_lo, hf_hi) = ppg_tables.SPECTRUM_LF_BINS, ppg_tables.SPECTRUM_HF_BINS
    return 100 * float(pxx[lf_lo:lf_hi].sum() * df), 100 * float(pxx[hf_lo:hf_hi].sum() * df)


SERIES = [[(0.1, 60.0), (0.3, 20.0)], [(0.25, 40.0), (0.06, 15.0)], [(0.12, 25.0), (0.2, 25.0)]]  # (Hz, ms amplitude)


@pytest.mark.parametrize("fs", RATES)
@pytest.mark.parametrize("comps", SERIES)
def test_band_powers_match_a_float_periodogram(fs: int, comps: list[tuple[float, float]]) -> None:
    # measured: within 0.06 % (LF and HF), LF/HF within 1.4 % (its 0.01 steps at ratios near 0.2), every case here
    beats, ibis = modulated_ibis(fs, 320, comps, noise_ms=5.0, seed=fs)
    end = int(beats[-1]) + 3
    got = hrv_spectrum(beats, ibis, end, fs)
    lf, hf = float_band_powers(beats, ibis, end, fs)
    assert got["ready"] and lf > 1000 and hf > 1000
    assert abs(got["lf"] - lf) <= 0.005 * lf and abs(got["hf"] - hf) <= 0.005 * hf, (got, lf, hf)
    assert abs(got["lfhf"] - 100 * lf / hf) <= 0.005 * 100 * lf / hf + 0.5


def test_spectrum_den_is_the_periodogram_normalisation() -> None:
    w = np.array(ppg_tables.spectrum_hann_q15(), dtype=float) / 2**15
    # off by the Q15 rounding and the >> 1 (and a 1/32768 tilt: the table peaks at 32767): < 1.5 LSB
    assert np.abs(w - signal.get_window("hann", ppg_tables.SPECTRUM_POINTS)).max() < 1.5 / 2**15
    for fs in RATES:
        # 2 |X|^2 / (N sum w^2) ms^2, X of Q8 samples (1000 / (256 fs) ms) with the Q15 window and Q15 cosines
        ms2_per_unit = 2 / (ppg_tables.SPECTRUM_POINTS * (w**2).sum()) * (1000 / (256 * fs)) ** 2
        assert ppg_tables.rate_table(fs).spectrum_den == pytest.approx(1 / (100 * ms2_per_unit), rel=1e-6)


# ---------------------------------------------------------------- placement and arithmetic


@pytest.mark.parametrize("fs", RATES)
def test_power_lands_in_its_band(fs: int) -> None:
    for f_mod, band in [(0.05, "lf"), (0.08, "lf"), (0.1, "lf"), (0.13, "lf"), (0.18, "hf"), (0.25, "hf"),
                        (0.3, "hf"), (0.37, "hf")]:  # fmt: skip
        beats, ibis = modulated_ibis(fs, 300, [(f_mod, 50.0)])
        got = hrv_spectrum(beats, ibis, int(beats[-1]) + 1, fs)
        other = "hf" if band == "lf" else "lf"
        assert got["ready"] and got[band] > 20 * got[other], (f_mod, got)
        assert (got["lfhf"] > 2000) if band == "lf" else (got["lfhf"] < 5), (f_mod, got)
    beats, ibis = modulated_ibis(fs, 300, [(0.01, 50.0), (0.6, 50.0)])  # below LF and above HF
    got = hrv_spectrum(beats, ibis, int(beats[-1]) + 1, fs)
    assert got["lf"] < 2000 and got["hf"] < 2000, got  # against 125 000 for each wave inside a band


def test_constant_ibis_have_no_power_and_too_little_coverage_is_not_ready() -> None:
    for fs in RATES:
        ibis = np.full(400, fs * 4 // 5)
        beats = beats_of(ibis)
        assert hrv_spectrum(beats, ibis, int(beats[-1]) + 1, fs) == {"lf": 0, "hf": 0, "lfhf": 0, "ready": 1}
        window = ppg_tables.SPECTRUM_WINDOW_S * fs
        need = -(-ppg_tables.SPECTRUM_MIN_COVER_PCT * window // 100)  # samples of IBIs for 75 %
        ibi = fs * 4 // 5
        for n, ready in (((need - 1) // ibi, 0), ((need - 1) // ibi + 1, 1)):  # just under, just over 75 %
            few = np.full(n, ibi)
            beats = beats_of(few, first=window)
            assert hrv_spectrum(beats, few, int(beats[-1]) + 1, fs)["ready"] == ready, (fs, n)


def test_lf_hf_ratio_rounds_half_up_and_scales_down_big_sums() -> None:
    assert lf_hf_ratio(0, 0) == 0 and lf_hf_ratio(5, 0) == 0
    assert lf_hf_ratio(1, 200) == 1 and lf_hf_ratio(1, 201) == 0  # 0.5 -> 1, 0.4975 -> 0
    assert lf_hf_ratio(3, 2) == 150 and lf_hf_ratio(2**40, 1) == 2**31 - 1
    big = 2**60
    assert lf_hf_ratio(big, big // 3) == 300  # shifted to fit, the ratio survives
    assert lf_hf_ratio(big, 255) == 2**31 - 1  # S_hf shifted to 0: the ratio exceeds 2^48


def test_worst_case_inputs_stay_within_the_proven_bounds() -> None:
    """Square waves between the bounds put the most power in the bands that any accepted IBIs can: their sums stay
    below ppg_tables.spectrum_bounds, which the generator's check holds under 64 bits."""
    for fs in RATES:
        t = ppg_tables.rate_table(fs)
        bounds = ppg_tables.spectrum_bounds(t)
        for half_period in (1, 3, 8, 20, 60):
            ibis = np.where((np.arange(2000) // half_period) % 2 == 0, t.ibi_min, t.ibi_max)
            beats = beats_of(ibis)
            start = int(beats[-1]) + 1 - ppg_tables.SPECTRUM_WINDOW_S * fs
            sel = beats >= start
            s_lf, s_hf = band_sums(windowed(resample(beats[sel], ibis[sel], start, fs)))
            assert s_lf < bounds["s_lf"] and s_hf < bounds["s_hf"]
        assert bounds["s_lf"] < ppg_tables.SPECTRUM_LFHF_LIMIT and bounds["s_lf"] + bounds["s_hf"] < 2**63


# ---------------------------------------------------------------- the generated tables


def test_generated_tables_are_current() -> None:
    for path, text in ppg_tables.generated_files().items():
        assert path.read_text() == text, f"{path} is stale: run python -m vigil.dsp.ppg_tables"


def test_spectrum_constants() -> None:
    assert ppg_tables.SPECTRUM_POINTS == 960
    assert ppg_tables.SPECTRUM_LF_BINS == (10, 36) and ppg_tables.SPECTRUM_HF_BINS == (36, 96)
    assert ppg_tables.SPECTRUM_CAPACITY == max(
        math.ceil(300 * fs / ppg_tables.rate_table(fs).ibi_min) + 1 for fs in RATES) == 1001  # fmt: skip
    c = np.array(ppg_tables.spectrum_cos_q15())
    i = np.arange(960)
    assert np.abs(c - 32767 * np.cos(2 * np.pi * i / 960)).max() <= 0.5 + 1e-9  # the tie at i = 160: 16383.5
    sin = c[(i + 720) % 960]
    assert np.abs(sin - 32767 * np.sin(2 * np.pi * i / 960)).max() <= 0.5 + 1e-9
    header = (ppg_tables.repo_root() / "firmware/core/dsp/ppg_tables.h").read_text()
    for name, value in [("WINDOW_S", 240), ("GRID_HZ", 4), ("POINTS", 960), ("LF_LO", 10), ("LF_HI", 36),
                        ("HF_LO", 36), ("HF_HI", 96), ("CAPACITY", 1001), ("MIN_COVER_PCT", 75)]:  # fmt: skip
        assert re.search(rf"^#define HRV_SPECTRUM_{name} {value}u\b", header, re.MULTILINE), name
