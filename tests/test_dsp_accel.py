"""Accelerometer -> spectrogram columns: the C kernels (firmware/core/dsp, through the C test
program's `harness accel`) against their twin (vigil.dsp.accel / vigil.dsp.stft), bit for bit, and
the twin's fixed-point log power against a float64 STFT."""

from __future__ import annotations

import struct
import subprocess
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vigil.data.synthetic_accel import synthetic_accel
from vigil.dsp import accel, config, stft, stft_tables

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
REAL_FILE = SHARED_DATA / "46343_acceleration_snippet.txt"
BINS = config.STFT_BINS
RANDOM_CHUNKS = 0x80000000  # harness chunking flag: pseudo-random block sizes 1..253, seeded by the low bits

# SNR of the fixed-point log power (dB values, Q16) against float64, over bins whose reference power is
# above FLOOR_DB = 0 dB, i.e. |X|^2 > 1 (milli-g)^2: the image's lowest level (q = -128). Measured with
# `python benchmarks/stft_snr.py`: synthetic (1 h each, seeds 1-3) 122.5-122.6 dB (seeds 1-10: 122.2-122.7),
# real file 121.6 dB; largest error 0.0016 dB (seeds 1-10: 0.0022). The floors below leave ~4 dB of margin;
# the issue asks for >= 45 dB.
FLOOR_DB = 0.0
SNR_SYNTHETIC_MIN_DB = 118.0
SNR_REAL_MIN_DB = 118.0
MAX_ERROR_DB = 0.005  # largest |fixed - float| above the floor, measured 0.0016 dB


# ------------------------------------------------------------------ the C program


def run_c(program: Path, xyz: np.ndarray, chunking: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Derivative, int8 columns and Q16 dB values from the C streaming API (format: firmware/tests/test_accel.c)."""
    xyz = np.asarray(xyz, dtype=np.int16).reshape(-1, 3)
    n = len(xyz)
    request = struct.pack("<I", n) + xyz.astype("<i2").tobytes() + struct.pack("<I", chunking)
    proc = subprocess.run(
        [str(program), "harness", "accel"], input=request, capture_output=True, timeout=120, check=False
    )
    assert proc.returncode == 0, proc.stderr.decode()
    out = proc.stdout
    deriv = np.frombuffer(out, dtype="<i2", count=n)
    (n_cols,) = struct.unpack_from("<I", out, 2 * n)
    cols = np.frombuffer(out, dtype=np.int8, count=n_cols * BINS, offset=2 * n + 4).reshape(n_cols, BINS)
    db = np.frombuffer(out, dtype="<i4", count=n_cols * BINS, offset=2 * n + 4 + n_cols * BINS).reshape(n_cols, BINS)
    assert len(out) == 2 * n + 4 + 5 * n_cols * BINS
    return deriv, cols, db


def assert_c_matches_twin(program: Path, xyz: np.ndarray, chunking: int = 0) -> None:
    deriv, cols, db = run_c(program, xyz, chunking)
    want_deriv = accel.derivative(accel.magnitude(xyz))
    np.testing.assert_array_equal(deriv, want_deriv, err_msg="derivative")
    np.testing.assert_array_equal(db, stft.stft_power_db(want_deriv), err_msg="dB (Q16)")
    np.testing.assert_array_equal(cols, stft.stft_columns(want_deriv), err_msg="int8 columns")
    np.testing.assert_array_equal(cols, accel.accel_columns(xyz), err_msg="whole chain")
    assert len(cols) == stft.n_columns(len(xyz))


def real_accel() -> np.ndarray:
    if not REAL_FILE.exists():
        pytest.skip(f"{REAL_FILE} absent")
    raw = np.loadtxt(REAL_FILE)
    return accel.resample_milli_g(raw[:, 0], raw[:, 1:4])


# ------------------------------------------------------------------ C unit suite


def test_c_unit_suite(ctest_program: Path) -> None:
    proc = subprocess.run([str(ctest_program), "accel"], capture_output=True, text=True, timeout=60, check=False)
    assert proc.returncode == 0 and "accel" in proc.stdout and " 0 failed" in proc.stdout, proc.stdout


# ------------------------------------------------------------------ C == twin


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("chunking", [0, 1, 253, RANDOM_CHUNKS | 7])
def test_random_signals(ctest_program: Path, seed: int, chunking: int) -> None:
    rng = np.random.default_rng(seed)
    n = int(rng.integers(128, 3000))
    wide = rng.integers(-32768, 32768, size=(n, 3))
    near_gravity = np.array([0, 0, 1000]) + rng.integers(-200, 200, size=(n, 3))
    for xyz in (wide, near_gravity):
        assert_c_matches_twin(ctest_program, xyz.astype(np.int16), chunking)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    n=st.integers(0, 700),
    scale=st.sampled_from([1, 3, 100, 32768]),
    seed=st.integers(0, 2**31 - 1),
    chunking=st.one_of(st.just(0), st.integers(1, 300), st.integers(0, 2**31 - 1).map(lambda s: RANDOM_CHUNKS | s)),
)
def test_random_signals_any_chunking(ctest_program: Path, n: int, scale: int, seed: int, chunking: int) -> None:
    rng = np.random.default_rng(seed)
    xyz = np.clip(rng.integers(-scale, scale, size=(n, 3), endpoint=True), -32768, 32767).astype(np.int16)
    assert_c_matches_twin(ctest_program, xyz, chunking)


def _alternate(a: list[int], b: list[int], n: int) -> np.ndarray:
    return np.array([a, b] * (n // 2), dtype=np.int16)


EDGE_CASES = {
    "silence": np.zeros((1000, 3), dtype=np.int16),
    "constant gravity": np.tile(np.array([0, 0, 1000], dtype=np.int16), (1000, 1)),
    "full scale +": np.full((700, 3), 32767, dtype=np.int16),
    "full scale -": np.full((700, 3), -32768, dtype=np.int16),
    "full scale alternating": _alternate([32767] * 3, [-32768] * 3, 700),
    "full scale axes alternating": _alternate([32767, -32768, 32767], [-32768, 32767, -32768], 700),
    "derivative saturation": _alternate([0, 0, 0], [-32768] * 3, 700),
    "saturation once": np.r_[np.zeros((300, 3)), np.full((300, 3), -32768)].astype(np.int16),
    "tiny": _alternate([0, 0, 1], [0, 0, 0], 700),
}


@pytest.mark.parametrize("name", list(EDGE_CASES))
@pytest.mark.parametrize("chunking", [0, 64, RANDOM_CHUNKS | 1])
def test_edge_cases(ctest_program: Path, name: str, chunking: int) -> None:
    assert_c_matches_twin(ctest_program, EDGE_CASES[name], chunking)


def test_edge_case_values() -> None:
    """What the edge cases must give, independently of the C."""
    assert np.all(accel.accel_columns(EDGE_CASES["silence"]) == -128)
    assert np.all(stft.stft_power_db(np.zeros(500, dtype=np.int16)) == stft_tables.DB_ZERO_POWER)
    d = accel.derivative(accel.magnitude(EDGE_CASES["derivative saturation"]))
    assert d[0] == 0 and set(d[1:].tolist()) == {32767, -32768}
    # alternating full-scale derivative: the Nyquist bin carries 32 * 65535 -> 126.43 dB -> q = 125
    cols = stft.stft_columns(d)
    assert np.all(cols[:, -1] == 125)


@pytest.mark.parametrize("position", [0, 1, 63, 64, 127, 128, 200, 499])
def test_single_spike(ctest_program: Path, position: int) -> None:
    xyz = np.tile(np.array([0, 0, 1000], dtype=np.int16), (500, 1))
    xyz[position] = [0, 0, 32767]
    assert_c_matches_twin(ctest_program, xyz, RANDOM_CHUNKS | position)


@pytest.mark.parametrize("n", [0, 1, 2, 64, 127, 128, 191, 192])
def test_short_inputs(ctest_program: Path, n: int) -> None:
    rng = np.random.default_rng(n)
    xyz = rng.integers(-2000, 2000, size=(n, 3)).astype(np.int16)
    deriv, cols, _ = run_c(ctest_program, xyz, 0)
    assert len(deriv) == n and len(cols) == (0 if n < 128 else (n - 128) // 64 + 1)
    assert_c_matches_twin(ctest_program, xyz, 1)


@pytest.mark.parametrize("chunking", [0, 1, 7, 63, 64, 65, 127, 128, 253, RANDOM_CHUNKS | 3, RANDOM_CHUNKS | 99])
def test_synthetic_any_chunking(ctest_program: Path, chunking: int) -> None:
    assert_c_matches_twin(ctest_program, synthetic_accel(240.0, seed=5), chunking)


@pytest.mark.parametrize("seed", [1, 2])
def test_synthetic_hour(ctest_program: Path, seed: int) -> None:
    assert_c_matches_twin(ctest_program, synthetic_accel(3600.0, seed=seed), RANDOM_CHUNKS | seed)


@pytest.mark.parametrize("chunking", [0, 253, RANDOM_CHUNKS | 11])
def test_real_file(ctest_program: Path, chunking: int) -> None:
    assert_c_matches_twin(ctest_program, real_accel(), chunking)


# ------------------------------------------------------------------ twin properties


def test_magnitude_and_derivative() -> None:
    xyz = np.array([[0, 0, 0], [3, 4, 12], [-32768, -32768, -32768], [32767, 32767, 32767], [0, 0, 0]])
    mag = accel.magnitude(xyz.astype(np.int16))
    assert mag.dtype == np.uint16 and mag.tolist() == [0, 13, 56755, 56754, 0]
    d = accel.derivative(mag)
    assert d.dtype == np.int16 and d.tolist() == [0, 13, 32767, -1, -32768]
    assert accel.derivative(np.array([500, 501], dtype=np.uint16)).tolist() == [0, 1]


@pytest.mark.parametrize("k0", [1, 5, 10, 32, 47, 63])
def test_tone_peaks_in_its_bin(ctest_program: Path, k0: int) -> None:
    """A cosine at bin k0 (k0 * 50/128 Hz) on the magnitude peaks in bin k0 of every column."""
    n = np.arange(2000)
    f_hz = k0 * config.ACCEL_RATE_HZ / config.STFT_N
    z = 1000 + np.round(300 * np.cos(2 * np.pi * f_hz * n / config.ACCEL_RATE_HZ))
    xyz = np.stack([np.zeros_like(z), np.zeros_like(z), z], axis=1).astype(np.int16)
    cols = accel.accel_columns(xyz)
    assert np.all(np.argmax(cols, axis=1) == k0)
    # the derivative's amplitude is 2 * 300 * sin(pi k0 / 128); |X| = amplitude * N/4
    amp = 2 * 300 * np.sin(np.pi * k0 / config.STFT_N)
    peak_db = stft.db_from_q16(stft.stft_power_db(accel.derivative(accel.magnitude(xyz))))[:, k0]
    np.testing.assert_allclose(peak_db, 20 * np.log10(amp * config.STFT_N / 4), atol=0.05)
    _, c_cols, _ = run_c(ctest_program, xyz, 253)
    assert np.all(np.argmax(c_cols, axis=1) == k0)


def test_log2_table_accuracy() -> None:
    rng = np.random.default_rng(0)
    p = np.r_[np.arange(1, 5000), rng.integers(1, 2**61, size=20000), 2 ** np.arange(1, 62) - 1]
    got = stft.log2_q30(p) / 2**30
    want = np.log2(p.astype(np.float64))  # the conversion's error (2^-53 relative) is negligible here
    assert np.max(np.abs(got - want)) < 1.2e-5


def test_int8_rounding_matches_the_quantization() -> None:
    db = np.array([-(2**31), -1, 0, 16383, 16384, 32767, 32768, 127 * 32768 + 16383, 255 * 32768, 2**31 - 1])
    q = stft.db_to_image(db)
    # real value = IMAGE_SCALE_DB * (q - IMAGE_ZERO_POINT); rounding half up, saturated
    assert q.tolist() == [-128, -128, -128, -128, -127, -127, -127, -1, 127, 127]


# ------------------------------------------------------------------ accuracy against float64


def _snr(xyz: np.ndarray) -> tuple[float, float]:
    d = accel.derivative(accel.magnitude(xyz))
    fixed, ref = stft.stft_power_db(d), stft.reference_power_db(d)
    keep = ref > FLOOR_DB
    return stft.snr_db(fixed, ref, FLOOR_DB), float(np.max(np.abs(stft.db_from_q16(fixed)[keep] - ref[keep])))


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_snr_synthetic(seed: int) -> None:
    snr, worst = _snr(synthetic_accel(3600.0, seed=seed))
    assert snr >= SNR_SYNTHETIC_MIN_DB, snr
    assert worst <= MAX_ERROR_DB, worst


def test_snr_real_file() -> None:
    snr, worst = _snr(real_accel())
    assert snr >= SNR_REAL_MIN_DB, snr
    assert worst <= MAX_ERROR_DB, worst


def test_reference_is_scipy_stft() -> None:
    """The float reference frames and windows exactly as scipy.signal.stft (scaling="spectrum" divides by sum(w) = 64)."""
    from scipy.signal import stft as scipy_stft

    d = np.random.default_rng(0).integers(-500, 500, 1000)
    _, _, z = scipy_stft(
        d.astype(np.float64),
        window="hann",
        nperseg=config.STFT_N,
        noverlap=config.STFT_N - config.STFT_HOP,
        boundary=None,
        padded=False,
        detrend=False,
        scaling="spectrum",
    )
    want = 10 * np.log10(np.abs(z.T * (config.STFT_N / 2)) ** 2)
    np.testing.assert_allclose(stft.reference_power_db(d), want, atol=1e-9)


def test_snr_helper() -> None:
    ref = np.array([[10.0, 20.0, -np.inf, -5.0]])
    fixed = np.array([[10.0, 20.2, -np.inf, 100.0]])
    # only the bins above the floor count: signal 100 + 400, noise 0.04
    assert stft.snr_db(fixed, ref, 0.0) == pytest.approx(10 * np.log10(500 / 0.04))
    q16 = np.array([[10 << 16, 20 << 16, stft_tables.DB_ZERO_POWER, 0]], dtype=np.int32)
    assert stft.snr_db(q16, ref, 0.0) == float("inf")


# ------------------------------------------------------------------ generated tables


def test_tables_header_is_current() -> None:
    for path, text in stft_tables.generated_files().items():
        assert path.read_text() == text, f"{path} is stale: run python -m vigil.dsp.stft_tables"


def test_tables() -> None:
    from scipy.signal import get_window

    np.testing.assert_allclose(stft_tables.HANN_Q30 / 2**30, get_window("hann", config.STFT_N), atol=2**-31)
    k = np.arange(config.STFT_BINS)
    np.testing.assert_allclose(stft_tables.sin_q30(k) / 2**30, np.sin(2 * np.pi * k / config.STFT_N), atol=2**-31)
    assert sorted(stft_tables.BITREV.tolist()) == list(range(stft_tables.CFFT_N))
