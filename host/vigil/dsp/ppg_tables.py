"""Per-rate constants of the PPG chain (band-pass, beat detector, IBI rules, signal quality), for the
twins (``vigil.dsp.ppg``, ``vigil.dsp.hrv``) and the firmware (``firmware/core/dsp/ppg_tables.{h,c}``,
generated from this module).

    python -m vigil.dsp.ppg_tables [--check]

Everything that depends on the sampling rate is computed here, once, for each rate of
``config.PPG_RATES_HZ``; the C kernels and the twins read the same integers.

Band-pass: ``scipy.signal.butter(2, [0.5, 8] Hz, "bandpass", output="sos")``, the filter of Elgendi's
TERMA detector (Elgendi et al. 2013, PLoS ONE 8(10): e76585), run causally. Order 2 per edge (two
biquads): 40 dB/decade on each side removes baseline wander and sensor noise well enough for the
detector, while a higher order adds group delay (already ~85 ms at 1.5 Hz here), ringing around motion
artifacts that the detector would take for beats, and coefficient sensitivity at the 0.5 Hz poles.
The section with the zeros at z = 1 (high-pass side) runs first, with numerator exactly [1, -2, 1]:
it blocks DC exactly, so priming its input history with the first sample starts the filter in its
steady state (no start-up transient), and the later section never sees the ADC offset.

Q formats: coefficients Q30 (int32, [-2, 2)), stored as {b0, b1, b2, -a1, -a2} so that the kernel only
adds products; direct form I, int64 accumulator, round half up, first-order error feedback (see
biquad_cascade_q30.h: without it the 0.5 Hz poles hold a DC offset of up to 0.05 counts after every
transient). Samples enter as raw counts x 2^FILT_SHIFT (Q12 counts) and leave in the same Q12 counts.
``filter_bounds`` proves from the L1 norms of the (partial) impulse responses that no int32 state and
no int64 accumulator can overflow for any int16 input, so the kernel's saturation is never reached.
Measured: the quantized response is within 1e-6 dB of the float design over 0.5-8 Hz (0.03 dB at
worst below 0.1 Hz), and the fixed-point output within 6 Q12 steps (0.0015 counts, SNR > 110 dB) of
float filtering with the quantized coefficients (tests/test_dsp_ppg.py).

Detector, IBI rules, signal quality and features: see beat_detect_terma.h, ibi_filter.h,
ppg_quality.h and hrv_features.h; their thresholds are below, their per-rate values in PpgRateTable.
"""

from __future__ import annotations

import math
import sys
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np
from scipy import signal

from vigil.codegen import BANNER, repo_root, write_or_check
from vigil.dsp import config

# ---------------------------------------------------------------- rate-independent constants
BAND_HZ = (0.5, 8.0)  # band-pass edges (Elgendi 2013)
BUTTER_ORDER = 2  # per edge: two second-order sections
SECTIONS = 2
COEF_FRAC = 30  # Q30 coefficients
FILT_SHIFT = 12  # filtered samples are counts in Q12
DET_SHIFT = 8  # detector energy input: z = max(f, 0) >> DET_SHIFT (counts in Q4)
Z_MAX = (1 << 22) - 1  # z clamp (never reached: |f| < 2^29 by filter_bounds), so y = z^2 < 2^44
RING = 128  # detector ring of filtered samples (power of two, >= W2 + 1 at every rate)
ALPHA_BLOCKS = 4  # the threshold offset uses the mean energy of the last 4 complete 1-s blocks
ALPHA_PRE_SHIFT = 8  # alpha = ((Q >> 8) * ALPHA_Q16) >> 8, Q = energy sum of those blocks
GATE_MUL = 4  # amplitude gate: a beat's peak must reach 1/4 of the running beat amplitude ...
AMP_SHIFT = 3  # ... which moves 1/8 of the way to each block's peak
BETA = 0.02  # TERMA's offset: alpha = beta * mean(y) (Elgendi 2013)
W1_S = 0.111  # TERMA's peak window (s)
W2_S = 0.667  # TERMA's beat window (s)
BLOCK_MAX_S = 1.0  # a block of interest longer than this is an artifact, not a systole
IBI_MIN_MS = 300  # 200 bpm
IBI_MAX_MS = 2000  # 30 bpm
IBI_CHANGE_PCT = 25  # successive-change rule: |IBI - ref| * 100 <= 25 * ref, ref = median of recent in-range IBIs
IBI_HISTORY = 5  # in-range IBIs the reference is the median of
IBI_MIN_HISTORY = 3  # no IBI is accepted before 3 in-range IBIs form a reference
FLAT_RUN_S = 2  # FLAT: the raw signal holds one exact value for >= 2 s
CLIP_FRAC_PCT = 1  # CLIPPED: >= 1 % of the segment's samples sit on a plateau at its max or min
MIN_IBIS = 20  # TOO_FEW_BEATS: fewer accepted IBIs (interpolated halves included) than this in the segment ...
MIN_DIFFS = 10  # ... or fewer successive differences of accepted IBIs than this
MAX_REJECT_PCT = 50  # REJECTS: more than half of the segment's IBIs were rejected ...
MIN_CLEAN_PCT = 40  # FEW_CLEAN: ... or under 40 % of its beat-to-beat spans were accepted as measured (an
# interpolated span counts once): beats at random intervals, which the interpolation would otherwise pass off as a
# rhythm. On WESAD's 10 training subjects (sync-tap aligned) these keep 88 % of the Base/TSST wrist minutes with
# leave-one-subject-out logistic regression at 0.90; 20 % rejects and no interpolation kept 40 % (at 0.96); see
# docs/stress.md.
PNN_LOW_MS, PNN_HIGH_MS = 20, 50
HRV_FEATURES = config.HRV_FEATURES
HRV_EXTRA_FEATURES = config.HRV_EXTRA_FEATURES
BASELINE_SEGMENTS = 120  # personal baseline: the median of each feature over the last 120 valid segments (2 h of
# valid minutes; 2.9 KB) ...
BASELINE_WARMUP = 10  # ... ready once 10 valid segments are in it (before, the relative features are 0)
FLAGS = {  # reasons a segment is invalid: hrv_features_t.flags bits (HRV_FLAG_*), vigil.dsp.hrv.Flag
    "TOO_FEW_BEATS": (0x01, f"fewer than {MIN_IBIS} accepted IBIs or {MIN_DIFFS} successive differences"),
    "FLAT": (0x02, f"the raw signal held one value for >= {FLAT_RUN_S} s"),
    "CLIPPED": (0x04, f">= {CLIP_FRAC_PCT} % of the samples on plateaus at the segment's max or min"),
    "REJECTS": (0x08, f"more than {MAX_REJECT_PCT} % of the IBIs rejected"),
    "FEW_CLEAN": (0x10, f"fewer than {MIN_CLEAN_PCT} % of the beat-to-beat spans accepted without interpolation"),
}


@dataclass(frozen=True)
class PpgRateTable:
    """Everything the chain needs at one sampling rate (field names as in ``ppg_rate_table_t``)."""

    fs_hz: int
    sos_q30: tuple[tuple[int, int, int, int, int], ...]  # per section {b0, b1, b2, -a1, -a2}, Q30
    w1: int  # TERMA peak window, odd, samples
    w2: int  # TERMA beat window, odd, samples
    block_max: int  # longest accepted block of interest, samples
    alpha_q16: int  # round(beta * W1 * W2 / (ALPHA_BLOCKS * fs) * 2^16)
    latency: int  # every beat with index < E is out once E + latency samples went through the detector
    ibi_min: int  # samples, ceil(0.3 s * fs)
    ibi_max: int  # samples, floor(2 s * fs)
    flat_run: int  # samples
    clip_min: int  # plateau samples per segment
    group_delay: int  # samples, the band-pass's group delay at 1.5 Hz (beats lag the raw systolic peak by it)

    @property
    def h1(self) -> int:
        return self.w1 // 2

    @property
    def h2(self) -> int:
        return self.w2 // 2

    @property
    def segment_len(self) -> int:
        return config.SEGMENT_S * self.fs_hz


def _odd(x: float) -> int:
    """The odd integer nearest to x (a centred window has an odd length)."""
    return 2 * int(math.floor((x - 1) / 2 + 0.5)) + 1


def design_sos(fs: int) -> np.ndarray:
    """The float design, sections reordered so that the DC-blocking one comes first and gains
    moved so that its numerator is exactly [1, -2, 1]."""
    sos = signal.butter(BUTTER_ORDER, BAND_HZ, btype="bandpass", fs=fs, output="sos")
    dc_gain = np.abs(sos[:, :3].sum(axis=1)) / np.abs(sos[:, :3]).max(axis=1)
    assert len(sos) == SECTIONS and sorted(dc_gain)[0] < 1e-12 < sorted(dc_gain)[1]
    hp, lp = sos[np.argmin(dc_gain)], sos[np.argmax(dc_gain)]
    hp_s, lp_s = hp.copy(), lp.copy()
    gain = hp_s[0]  # scipy puts the overall gain in one section; give it to the low-pass side
    hp_s[:3] /= gain
    lp_s[:3] *= gain
    assert np.allclose(hp_s[:3], [1, -2, 1])
    return np.vstack([hp_s, lp_s])


def quantize_sos(sos: np.ndarray) -> tuple[tuple[int, int, int, int, int], ...]:
    one = 1 << COEF_FRAC
    out = []
    for b0, b1, b2, a0, a1, a2 in sos:
        assert a0 == 1.0
        q = tuple(int(round(v * one)) for v in (b0, b1, b2, -a1, -a2))
        assert all(-(1 << 31) <= v < (1 << 31) for v in q), "coefficient outside Q30's [-2, 2)"
        out.append(q)
    hp = out[0]
    out[0] = (1 << COEF_FRAC, -(2 << COEF_FRAC), 1 << COEF_FRAC, hp[3], hp[4])  # exact [1, -2, 1]
    return tuple(out)  # type: ignore[return-value]


def quantized_sos_float(q: tuple[tuple[int, ...], ...]) -> np.ndarray:
    """The quantized coefficients back as a float SOS matrix (to compare responses)."""
    one = float(1 << COEF_FRAC)
    return np.array([[b0 / one, b1 / one, b2 / one, 1.0, -na1 / one, -na2 / one] for b0, b1, b2, na1, na2 in q])


def _l1(sos: np.ndarray, n: int) -> float:
    imp = np.zeros(n)
    imp[0] = 1.0
    return float(np.abs(signal.sosfilt(sos, imp)).sum())


def filter_bounds(fs: int) -> dict[str, float]:
    """Worst-case magnitudes over all int16 inputs (L1 norm of each partial cascade's impulse
    response times 2^15 * 2^FILT_SHIFT), with margin for rounding noise."""
    sos = quantized_sos_float(rate_table(fs).sos_q30)
    n = 60 * fs  # the slowest pole's impulse response has decayed far below 1e-12 by then
    x_max = float(1 << (15 + FILT_SHIFT))
    states = [x_max] + [x_max * _l1(sos[: k + 1], n) + 64.0 for k in range(len(sos))]
    coef_max = float(1 << 31)
    acc = max(5 * coef_max * s for s in states) + float(1 << (COEF_FRAC - 1))  # + the fed-back rounding error
    return {"state_max": max(states), "acc_max": acc, "l1": _l1(sos, n)}


@cache
def rate_table(fs: int) -> PpgRateTable:
    if fs not in config.PPG_RATES_HZ:
        raise ValueError(f"unsupported PPG rate {fs} Hz: expected one of {config.PPG_RATES_HZ}")
    w1, w2 = _odd(W1_S * fs), _odd(W2_S * fs)
    block_max = int(round(BLOCK_MAX_S * fs))
    sos = design_sos(fs)
    _, gd = signal.group_delay(signal.sos2tf(sos), [1.5], fs=fs)
    return PpgRateTable(
        fs_hz=fs,
        sos_q30=quantize_sos(sos),
        w1=w1,
        w2=w2,
        block_max=block_max,
        alpha_q16=int(round(BETA * w1 * w2 / (ALPHA_BLOCKS * fs) * (1 << 16))),
        latency=block_max + w2 // 2,
        ibi_min=math.ceil(IBI_MIN_MS * fs / 1000),
        ibi_max=IBI_MAX_MS * fs // 1000,
        flat_run=FLAT_RUN_S * fs,
        clip_min=config.SEGMENT_S * fs * CLIP_FRAC_PCT // 100,
        group_delay=int(round(float(gd[0]))),
    )


def tables() -> list[PpgRateTable]:
    return [rate_table(fs) for fs in config.PPG_RATES_HZ]


def _check(t: PpgRateTable) -> None:
    b = filter_bounds(t.fs_hz)
    assert b["state_max"] < 2**30, f"{t.fs_hz} Hz: filter state could reach {b['state_max']:.3g}"
    assert b["acc_max"] < 2**63, f"{t.fs_hz} Hz: accumulator could reach {b['acc_max']:.3g}"
    assert (Z_MAX * Z_MAX) * t.w1 * t.w2 < 2**63 and (Z_MAX * Z_MAX) * ALPHA_BLOCKS * t.fs_hz < 2**63
    assert t.w2 + 1 <= RING
    assert t.latency < t.segment_len, "a segment must be final before the next one ends"
    assert t.ibi_max < 2**16 and t.segment_len < 2**16
    assert MIN_IBIS >= 2 and MIN_DIFFS >= 1, "the features need n >= 2 IBIs and m >= 1 differences"
    # hrv_features_compute's largest product: (n sum x^2 - (sum x)^2) * 10^10 with n accepted IBIs in
    # [ibi_min, ibi_max] ending in one segment (an interpolated span, up to 2 ibi_max + 1, ends there with
    # both its halves), so n <= (segment + 2 ibi_max + 1) / ibi_min
    n_max = (t.segment_len + 2 * t.ibi_max + 1) // t.ibi_min
    assert n_max**2 * ((t.ibi_max - t.ibi_min) / 2) ** 2 * 10**10 < 2**64 and n_max < 2**16


# ---------------------------------------------------------------- C output

MODULE = "vigil.dsp.ppg_tables"
SOURCE = "host/vigil/dsp/ppg_tables.py"

_FIELDS = (  # C field, what it holds
    ("w1", "TERMA peak window (odd, samples)"),
    ("w2", "TERMA beat window (odd, samples)"),
    ("block_max", "longest block of interest that can hold a beat (samples)"),
    ("alpha_q16", "beta * W1 * W2 / (PPG_ALPHA_BLOCKS * fs), Q16"),
    ("latency", "detector latency bound (samples)"),
    ("ibi_min", "shortest accepted IBI (samples)"),
    ("ibi_max", "longest accepted IBI (samples)"),
    ("flat_run", "FLAT when one raw value holds this long (samples)"),
    ("clip_min", "CLIPPED when this many plateau samples sit at the segment's max or min"),
    ("group_delay", "band-pass group delay at 1.5 Hz (samples): beats lag the raw systolic peak by about this"),
)


def tables_header() -> str:
    rates = config.PPG_RATES_HZ
    lines = [BANNER.format(module=MODULE, source=SOURCE)]
    lines += [
        "#ifndef VIGIL_PPG_TABLES_H",
        "#define VIGIL_PPG_TABLES_H",
        "",
        "#include <stdint.h>",
        "",
        "#include \"dsp/dsp_config.h\"",
        "",
        f"#define PPG_RATE_COUNT {len(rates)}u",
        f"#define PPG_RATE_MIN_HZ {min(rates)}u",
        f"#define PPG_BIQUAD_SECTIONS {SECTIONS}u",
        f"#define PPG_COEF_FRAC {COEF_FRAC} /* coefficients are Q30 */",
        f"#define PPG_FILT_SHIFT {FILT_SHIFT} /* filtered samples are raw counts in Q12 */",
        f"#define PPG_DET_SHIFT {DET_SHIFT} /* detector input z = max(f, 0) >> 8: counts in Q4 */",
        f"#define PPG_Z_MAX {Z_MAX}u /* clamp of z, so that z^2 < 2^44 */",
        f"#define PPG_RING {RING}u /* detector ring of filtered samples (power of two >= W2 + 1) */",
        f"#define PPG_ALPHA_BLOCKS {ALPHA_BLOCKS}u /* alpha from the mean energy of the last 4 one-second blocks */",
        f"#define PPG_ALPHA_PRE_SHIFT {ALPHA_PRE_SHIFT}u /* alpha = ((Q >> 8) * alpha_q16) >> 8 */",
        f"#define PPG_GATE_MUL {GATE_MUL} /* a beat's peak must reach 1/{GATE_MUL} of the running beat amplitude */",
        f"#define PPG_AMP_SHIFT {AMP_SHIFT} /* the running amplitude moves 1/{1 << AMP_SHIFT} of the way per block */",
        f"#define PPG_W1_MIN {min(t.w1 for t in tables())}u /* the shortest TERMA peak window over all rates */",
        f"#define PPG_LATENCY_MAX {max(t.latency for t in tables())}u",
        f"#define PPG_IBI_HISTORY {IBI_HISTORY}u",
        f"#define PPG_IBI_MIN_HISTORY {IBI_MIN_HISTORY}u",
        f"#define PPG_IBI_CHANGE_PCT {IBI_CHANGE_PCT}u",
        f"#define PPG_MIN_IBIS {MIN_IBIS}u",
        f"#define PPG_MIN_DIFFS {MIN_DIFFS}u",
        f"#define PPG_MAX_REJECT_PCT {MAX_REJECT_PCT}u",
        f"#define PPG_MIN_CLEAN_PCT {MIN_CLEAN_PCT}u",
        f"#define PPG_PNN_LOW_MS {PNN_LOW_MS}u",
        f"#define PPG_PNN_HIGH_MS {PNN_HIGH_MS}u",
        f"#define HRV_FEATURE_COUNT {len(HRV_FEATURES)}u /* {' '.join(HRV_FEATURES)} */",
        f"#define HRV_EXTRA_COUNT {len(HRV_EXTRA_FEATURES)}u /* {' '.join(HRV_EXTRA_FEATURES)} */",
        f"#define HRV_BASELINE_SEGMENTS {BASELINE_SEGMENTS}u /* the personal baseline's window of valid segments */",
        f"#define HRV_BASELINE_WARMUP {BASELINE_WARMUP}u /* valid segments before the baseline is ready */",
        "",
        "/* Reasons a segment is invalid (hrv_features_t.flags); valid == (flags == 0). */",
        *[f"#define HRV_FLAG_{name} 0x{bit:02X}u /* {doc} */" for name, (bit, doc) in FLAGS.items()],
        "",
        f"#if DSP_PPG_RATE_COUNT != {len(rates)}u || DSP_SEGMENT_S != {config.SEGMENT_S}u",
        f"#error ppg_tables.h is stale: run `python -m {MODULE}`",
        "#endif",
        "",
        "typedef struct ppg_rate_table {",
        "    uint16_t fs_hz;",
        "    int32_t sos_q30[PPG_BIQUAD_SECTIONS][5]; /* per section {b0, b1, b2, -a1, -a2}, Q30; section 0 is [1, -2, 1] */",
    ]
    lines += [f"    uint32_t {name}; /* {doc} */" for name, doc in _FIELDS]
    lines += [
        "} ppg_rate_table_t;",
        "",
        "/* One entry per rate of DSP_PPG_RATES_HZ, in that order. */",
        "extern const ppg_rate_table_t PPG_RATE_TABLES[PPG_RATE_COUNT];",
        "",
        "#endif /* VIGIL_PPG_TABLES_H */",
        "",
    ]
    return "\n".join(lines)


def tables_source() -> str:
    lines = [BANNER.format(module=MODULE, source=SOURCE)]
    lines += ["#include \"dsp/ppg_tables.h\"", "", "const ppg_rate_table_t PPG_RATE_TABLES[PPG_RATE_COUNT] = {"]
    for t in tables():
        _check(t)
        sos = ", ".join("{" + ", ".join("INT32_MIN" if v == -(2**31) else str(v) for v in s) + "}" for s in t.sos_q30)
        lines.append("    {")
        lines.append(f"        .fs_hz = {t.fs_hz}u,")
        lines.append(f"        .sos_q30 = {{{sos}}},")
        lines += [f"        .{name} = {getattr(t, name)}u," for name, _ in _FIELDS]
        lines.append("    },")
    lines += ["};", ""]
    return "\n".join(lines)


def generated_files() -> dict[Path, str]:
    root = repo_root() / "firmware/core/dsp"
    return {root / "ppg_tables.h": tables_header(), root / "ppg_tables.c": tables_source()}


if __name__ == "__main__":
    sys.exit(write_or_check(generated_files(), sys.argv[1:]))
