"""Per-epoch features and the sleep context: the twin (vigil.dsp.epoch_features) on hand-checkable signals, and the C
kernels (firmware/core/dsp/epoch_features.c, sleep_context.c, through the C test program's `harness epoch_features`)
against the twin, bit for bit, whatever the block sizes."""

from __future__ import annotations

import struct
import subprocess
import time
from pathlib import Path

import numpy as np
import pytest

from vigil.data.synthetic_accel import synthetic_accel
from vigil.dsp import config as c
from vigil.dsp import epoch_features as ef
from vigil.dsp.accel import derivative, magnitude

RANDOM_CHUNKS = 0x80000000  # harness chunking flag: pseudo-random block sizes 1..3001, seeded by the low bits
E = c.EPOCH_SAMPLES
W = c.POSTURE_WINDOW_SAMPLES


def constant(n: int, x: int, y: int, z: int) -> np.ndarray:
    return np.tile(np.array([[x, y, z]], dtype=np.int16), (n, 1))


# ------------------------------------------------------------------ the twin by hand


def test_log_code_of_known_values() -> None:
    # floor(10 log2(v + 1)): 2^k - 1 -> 10 k exactly; capped at 255
    v = np.array([0, 1, 3, 7, 1023, 5792, 2**25 - 1, 2**26, 2**40])
    assert ef.log_code(v).tolist() == [0, 10, 20, 30, 100, 125, 250, 255, 255]


def test_a_still_arm() -> None:
    codes = ef.feature_codes(constant(5 * E, 0, 0, 1000))
    assert codes.tolist() == [[0, 0, 6, 0], [0, 0, 6, 0], [0, 0, 6, 1], [0, 0, 6, 1], [0, 0, 6, 2]]
    assert ef.epoch_features(constant(E, 0, 0, 1000)).tolist() == [[-128, -128, -122, -128]]


def test_a_quarter_turn_between_two_windows() -> None:
    xyz = np.concatenate([constant(W, 1000, 0, 0), constant(E - W, 0, 1000, 0)])
    changes = ef.direction_changes(xyz)
    assert changes.tolist() == [0, 5792, 0, 0, 0, 0]  # isqrt(2 * 4096^2)
    assert ef.feature_codes(xyz).tolist() == [[0, 125, 5, 0]]  # log_code(5792) = 125; window 1 is not still


def test_directions_are_truncated_q12_unit_vectors() -> None:
    s = np.array([[3, 4, 0], [-3, -4, 0], [0, 0, 0], [1, 1, 1], [-250 * 32768, 0, 0]])
    u = ef.directions(s)
    # 3 * 4096 / 5 = 2457.6 -> 2457; -2457.6 -> -2457 (towards zero, as C); 4096 / isqrt(3) = 4096 / 1
    assert u.tolist() == [[2457, 3276, 0], [-2457, -3276, 0], [0, 0, 0], [4096, 4096, 4096], [-4096, 0, 0]]


def test_a_zero_window_has_no_direction() -> None:
    xyz = np.concatenate([constant(W, 0, 0, 0), constant(E - W, 0, 0, 1000)])
    assert ef.direction_changes(xyz).tolist() == [0, 4096, 0, 0, 0, 0]
    # activity: the magnitude steps 0 -> 1000 once, 990 above the dead band
    assert ef.feature_codes(xyz).tolist() == [[int(ef.log_code(1000 - c.ACTIVITY_DEADBAND_MG)), 120, 5, 0]]


def test_activity_counts_only_what_is_above_the_dead_band() -> None:
    # |d| per sample 9, 10, 11, 30, -30 -> 0, 0, 1, 20, 20 above the 10 mg dead band
    d = np.zeros(E, np.int16)
    d[:5] = [9, 10, 11, 30, -30]
    assert c.ACTIVITY_DEADBAND_MG == 10 and ef.activity_sums(d).tolist() == [41]


def test_a_sensor_s_noise_reads_far_below_a_movement() -> None:
    # a still arm through a 16-bit sensor's 3 mg white noise: sum |d| alone reads it as much as a movement
    rng = np.random.default_rng(0)
    noisy = constant(40 * E, 0, 0, 1000) + np.round(rng.normal(0, 3.0, (40 * E, 3))).astype(np.int16)
    raw = np.abs(derivative(magnitude(noisy)).astype(np.int64)).reshape(40, E).sum(axis=1)
    assert ef.log_code(raw).min() >= 120
    assert ef.feature_codes(noisy)[:, 0].max() <= 60
    moved = noisy.copy()
    moved[E : E + 50, 2] += np.round(300 * np.sin(2 * np.pi * 5 * np.arange(50) / 50)).astype(np.int16)  # a 1-s shake
    assert ef.feature_codes(moved)[1, 0] >= 100


def test_still_threshold_is_about_five_degrees() -> None:
    def change(deg: float) -> int:
        a = np.radians(deg)
        xyz = np.concatenate([constant(W, 0, 0, 1000), constant(W, 0, round(1000 * np.sin(a)), round(1000 * np.cos(a)))])
        return int(ef.direction_changes(xyz)[1])

    assert change(4.5) <= c.STILL_CHANGE_Q12 < change(5.5)


def test_activity_saturates_at_full_scale_and_elapsed_caps() -> None:
    # the magnitude swings between 0 and 56755: every derivative saturates at +-32767/-32768
    swing = np.tile(np.array([[0, 0, 0], [32767, 32767, 32767]], np.int16), (E // 2, 1))
    d = derivative(magnitude(swing))
    assert np.abs(d[1:].astype(np.int64)).min() >= 32767
    assert ef.feature_codes(swing)[0, 0] == 255
    codes = ef.feature_codes(constant(520 * E, 0, 0, 1000))
    assert codes[[0, 1, 2, 509, 510, 519], 3].tolist() == [0, 0, 1, 254, 255, 255]


def test_context_rows_oldest_first_padded() -> None:
    f = (np.arange(60 * 4).reshape(60, 4) % 200 - 100).astype(np.int8)
    ctx = ef.context_inputs(f)
    assert ctx.shape == (60 - c.SLEEP_CONTEXT_DELAY, c.SLEEP_CONTEXT_INPUT) and ctx.dtype == np.int8
    for t in (0, 1, 30, 47, 53):
        e = t + c.SLEEP_CONTEXT_DELAY
        rows = ctx[t].reshape(c.SLEEP_CONTEXT_EPOCHS, 4)
        for r in range(c.SLEEP_CONTEXT_EPOCHS):
            epoch = e - (c.SLEEP_CONTEXT_EPOCHS - 1) + r
            want = f[epoch] if epoch >= 0 else np.full(4, -128, np.int8)
            assert (rows[r] == want).all(), (t, r)
    assert ef.context_inputs(f[: c.SLEEP_CONTEXT_DELAY]).shape == (0, c.SLEEP_CONTEXT_INPUT)
    assert ef.decided_epochs(60) == len(ctx) and ef.decided_epochs(3) == 0


def test_streams_are_cut_into_whole_epochs() -> None:
    assert ef.epoch_features(constant(E - 1, 0, 0, 1000)).shape == (0, 4)
    assert ef.epoch_features(constant(2 * E + 10, 0, 0, 1000)).shape == (2, 4)


def test_an_eight_hour_night_takes_under_a_second() -> None:
    xyz = synthetic_accel(8 * 3600, seed=2)
    started = time.perf_counter()
    ctx = ef.context_inputs(ef.epoch_features(xyz))
    assert time.perf_counter() - started < 1.0
    assert ctx.shape == (960 - c.SLEEP_CONTEXT_DELAY, 216)


# ------------------------------------------------------------------ C against the twin


def run_c(program: Path, xyz: np.ndarray, chunking: int = 0) -> tuple[np.ndarray, list[int], np.ndarray]:
    """Feature vectors, decided epochs and context inputs from the C streaming API (format:
    firmware/tests/test_epoch_features.c)."""
    xyz = np.asarray(xyz, dtype=np.int16).reshape(-1, 3)
    request = struct.pack("<I", len(xyz)) + xyz.astype("<i2").tobytes() + struct.pack("<I", chunking)
    proc = subprocess.run([str(program), "harness", "epoch_features"], input=request, capture_output=True,
                          timeout=120, check=False)  # fmt: skip
    assert proc.returncode == 0, proc.stderr.decode()
    out = proc.stdout
    (n,) = struct.unpack_from("<I", out)
    vectors = np.frombuffer(out, np.int8, n * 4, 4).reshape(n, 4)
    pos = 4 + 4 * n
    (n_decided,) = struct.unpack_from("<I", out, pos)
    pos += 4
    decided, inputs = [], []
    for _ in range(n_decided):
        decided.append(struct.unpack_from("<I", out, pos)[0])
        inputs.append(np.frombuffer(out, np.int8, c.SLEEP_CONTEXT_INPUT, pos + 4))
        pos += 4 + c.SLEEP_CONTEXT_INPUT
    assert pos == len(out)
    return vectors, decided, np.array(inputs, np.int8).reshape(-1, c.SLEEP_CONTEXT_INPUT)


def assert_c_matches_twin(program: Path, xyz: np.ndarray, chunking: int = 0) -> np.ndarray:
    vectors, decided, inputs = run_c(program, xyz, chunking)
    want = ef.epoch_features(xyz)
    np.testing.assert_array_equal(vectors, want, err_msg=f"feature vectors (chunking {chunking:#x})")
    want_ctx = ef.context_inputs(want)
    assert decided == list(range(len(want_ctx)))
    np.testing.assert_array_equal(inputs, want_ctx, err_msg=f"context inputs (chunking {chunking:#x})")
    return want


def test_c_unit_suite(ctest_program: Path) -> None:
    proc = subprocess.run([str(ctest_program), "epoch_features"], capture_output=True, text=True, timeout=60, check=False)
    assert proc.returncode == 0 and "epoch_features" in proc.stdout and " 0 failed" in proc.stdout, proc.stdout


@pytest.mark.parametrize("chunking", [0, 1, 7, 250, 1499, 1500, 3001, RANDOM_CHUNKS | 5])
def test_c_matches_twin_whatever_the_blocks(ctest_program: Path, chunking: int) -> None:
    xyz = synthetic_accel(70 * 30 + 17, seed=11)  # 70 epochs and a partial one: decisions past the padding
    assert len(assert_c_matches_twin(ctest_program, xyz, chunking)) == 70


def test_c_matches_twin_on_edge_signals(ctest_program: Path) -> None:
    rng = np.random.default_rng(3)
    n = 12 * E
    cases = {
        "random full scale": rng.integers(-32768, 32768, (n, 3)).astype(np.int16),
        "saturating derivative": np.tile(np.array([[-32768, -32768, -32768], [0, 0, 0]], np.int16), (n // 2, 1)),
        "zero windows": np.concatenate([np.zeros((W, 3), np.int16), constant(2 * W, 0, 0, 1000),
                                        np.zeros((3 * W, 3), np.int16), constant(n - 6 * W, -700, 700, 0)]),
        "sign flips": np.concatenate([constant(W, 1, -1, 1), constant(W, -1, 1, -1)] * (n // (2 * W))),
        "turns": np.concatenate([constant(W, 1000, 0, 0), constant(W, 0, 1000, 0), constant(W, 0, 0, -1000)] * (n // (3 * W))),
    }  # fmt: skip
    for name, xyz in cases.items():
        want = assert_c_matches_twin(ctest_program, xyz, RANDOM_CHUNKS | 9)
        if name == "saturating derivative":
            assert (want[:, 0] == 127).all()  # activity code 255


def test_c_matches_twin_past_the_elapsed_cap(ctest_program: Path) -> None:
    xyz = np.repeat(synthetic_accel(26 * 30, seed=4), 20, axis=0)[: 520 * E]  # 520 epochs, slow movements
    want = assert_c_matches_twin(ctest_program, xyz, 3001)
    assert (want[510:, 3] == 127).all() and want[509, 3] == 126
