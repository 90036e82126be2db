"""`vigil convert`: Walch PhysioNet, Empatica E4 / WESAD wrist and plain CSV sources ->
recordings at the device's rates; resampling accuracy; every malformed input stops with
FILE:LINE and what was expected there."""

from __future__ import annotations

import json
import math
import warnings
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from vigil.data import resample as rs
from vigil.data.convert import convert, convert_source, detect_format
from vigil.data.csv_source import load_csv, read_numeric_table
from vigil.data.empatica import EMPATICA_BVP_COUNTS_PER_UNIT, load_empatica
from vigil.data.recording import ConversionWarning, Recording
from vigil.data.walch import SubjectError, load_walch, map_walch_stages, walch_subjects
from vigil.errors import RecordingFormatError, VigilError

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
SNIPPET = SHARED_DATA / "46343_acceleration_snippet.txt"
E4_SAMPLE = SHARED_DATA / "empatica_e4_sample"

STAGES = [0, 0, 1, 2, 3, 4, 5, 5, -1, 0, 1, 2]  # PhysioNet stages of the fixture's 12 epochs
LABELS = [0, 0, 1, 1, 1, 1, 2, 2, -1, 0, 1, 1]  # what they become


@pytest.fixture(autouse=True)
def quiet_conversion_warnings():
    """Loaders warn (ConversionWarning) as well as listing in meta; tests assert on meta."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConversionWarning)
        yield


def raises_at(where: str, expected: str):
    """pytest.raises for a RecordingFormatError that starts with ``where: `` and says ``expected``."""

    class Check:
        def __enter__(self):
            self.ctx = pytest.raises(RecordingFormatError)
            self.info = self.ctx.__enter__()
            return self.info

        def __exit__(self, *exc):
            handled = self.ctx.__exit__(*exc)
            message = str(self.info.value)
            assert message.startswith(f"{where}: "), message
            assert expected in message, message
            assert "\n" not in message
            return handled

    return Check()


# ---------------------------------------------------------------- fixture writers


def motion_rows(t0: float, seconds: float, seed: int, rate: float = 50.1) -> np.ndarray:
    rng = np.random.default_rng(seed)
    steps = 1.0 / rate + rng.uniform(-0.004, 0.004, int(seconds * rate))
    t = t0 + np.concatenate(([0.0], np.cumsum(steps)))
    x = 0.5 * np.sin(2 * np.pi * 0.2 * t)
    y = np.full_like(t, -0.25)
    z = 0.8 + 0.1 * np.cos(2 * np.pi * 0.05 * t)
    return np.column_stack([t, x, y, z])


def write_rows(path: Path, rows: np.ndarray, fmt: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(fmt % tuple(r) + "\n" for r in rows))
    return path


def write_walch(root: Path, subject: str, seed: int = 1, stages: list[int] = STAGES) -> Path:
    write_rows(root / "motion" / f"{subject}_acceleration.txt", motion_rows(-95.3, 525, seed), "%.9f %.7f %.7f %.7f")
    labels = np.column_stack([30 * np.arange(len(stages)), stages])
    write_rows(root / "labels" / f"{subject}_labeled_sleep.txt", labels, "%d %d")
    hr = np.column_stack([np.arange(-100, 400, 5.0), 60 + 10 * np.sin(np.arange(100))])
    write_rows(root / "heart_rate" / f"{subject}_heartrate.txt", hr, "%.3f,%.1f")
    return root


@pytest.fixture()
def walch_root(tmp_path: Path) -> Path:
    root = tmp_path / "sleep-accel"
    write_walch(root, "1001", seed=1)
    write_walch(root, "2002", seed=2)
    return root


def write_e4(
    folder: Path,
    acc_start: float = 1600000000.0,
    bvp_start: float = 1600000002.0,
    acc_seconds: int = 60,
    bvp_seconds: int = 50,
    spike: float | None = None,
) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    t = np.arange(acc_seconds * 32) / 32
    acc = np.column_stack([np.rint(32 * np.sin(2 * np.pi * t)), np.full_like(t, -10), np.full_like(t, 60)])
    head = f"{acc_start:.6f}, {acc_start:.6f}, {acc_start:.6f}\n32.000000, 32.000000, 32.000000\n"
    (folder / "ACC.csv").write_text(head + "".join(f"{x:.0f},{y:.0f},{z:.0f}\n" for x, y, z in acc))
    tb = np.arange(bvp_seconds * 64) / 64
    bvp = 80 * np.sin(2 * np.pi * 1.2 * tb) + 5 * np.cos(2 * np.pi * 0.3 * tb)
    if spike is not None:
        bvp[100] = spike
    (folder / "BVP.csv").write_text(f"{bvp_start:.2f}\n64.000000\n" + "".join(f"{v:.2f}\n" for v in bvp))
    (folder / "HR.csv").write_text(
        f"{bvp_start + 10:.6f}\n1.000000\n" + "".join(f"{70 + i % 5:.2f}\n" for i in range(30))
    )
    (folder / "IBI.csv").write_text(
        f"{bvp_start:.6f}, IBI\n" + "".join(f"{2 + 0.8 * i:.6f},0.800000\n" for i in range(60))
    )
    return folder


# ---------------------------------------------------------------- resampling


@pytest.mark.parametrize("f_in, f_out", [(32, 50), (64, 100), (64, 128), (100, 64), (25, 50)])
def test_a_1hz_sine_survives_resampling(f_in: int, f_out: int) -> None:
    t = np.arange(60 * f_in) / f_in
    y = rs.resample_uniform(1000 * np.sin(2 * np.pi * t) + 1000, f_in, f_out)
    assert len(y) == 60 * f_out
    ref = 1000 * np.sin(2 * np.pi * np.arange(len(y)) / f_out) + 1000
    err = np.abs(y - ref)
    inner = err[int(0.35 * f_out) : -int(0.35 * f_out)]
    # measured: interior max error 0.14 % of the amplitude at 32 -> 50 Hz (1.42 mg of 1000),
    # 0.19 % at 25 -> 50 Hz, from 0.35 s after the start to 0.35 s before the end (the filter's
    # half length is 0.31 s); nearer the ends up to 10 % (the line padding's guess).
    assert inner.max() < 0.002 * 1000
    assert err.max() < 0.11 * 1000


def test_resampling_lengths_and_constant_offsets() -> None:
    x = np.full((320, 3), [1000.0, -250.0, 0.0])
    y = rs.resample_uniform(x, 32, 50)
    assert y.shape == (500, 3)
    np.testing.assert_allclose(y, np.broadcast_to([1000.0, -250.0, 0.0], y.shape), atol=1e-6)  # no ringing at the ends
    assert len(rs.resample_uniform(np.zeros(125), 31.25, 50)) == 200  # 31.25 Hz = 125/4
    assert len(rs.resample_uniform(np.zeros(7), 64, 64)) == 7
    assert len(rs.resample_uniform(np.ones(1), 32, 50)) == 2


def test_rates_snap_and_ppg_rates() -> None:
    assert rs.snap_rate(49.9) == 50.0 and rs.snap_rate(50.3) == 50.3 and rs.snap_rate(31.25) == 31.25
    assert [rs.nearest_ppg_rate(r) for r in (25, 64, 80, 82, 90, 114, 128, 500)] == [
        64,
        64,
        64,
        100,
        100,
        128,
        128,
        128,
    ]
    assert rs.nearest_ppg_rate(82) == 100 and rs.nearest_ppg_rate(81) == 64
    values, clipped = rs.to_int16(np.array([0.5, 1.5, -0.5, 40000.0, -40000.0, 32767.4]))
    assert values.tolist() == [0, 2, 0, 32767, -32768, 32767] and clipped == 2


def test_interpolation_onto_a_uniform_grid() -> None:
    t = np.array([0.0, 0.013, 0.04, 0.061])
    y = rs.interpolate_to_grid(t, 1000 * t, 0.0, 50, 4)
    np.testing.assert_allclose(y, [0.0, 20.0, 40.0, 60.0])


# ---------------------------------------------------------------- numeric tables


def test_table_line_numbers_survive_blank_lines_and_chunks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from vigil.data import csv_source

    monkeypatch.setattr(csv_source, "CHUNK_BYTES", 64)  # many small blocks
    lines = [f"{i} {i * 2}" for i in range(40)]
    lines.insert(10, "")
    lines.insert(25, "   ")
    path = tmp_path / "t.txt"
    path.write_text("\n".join(lines) + "\n\n")
    table = read_numeric_table(path, ["a", "b"])
    assert len(table) == 40 and table.values[:, 0].tolist() == list(range(40))
    assert [table.line_of(r) for r in (0, 9, 10, 23, 24, 39)] == [1, 10, 12, 25, 27, 42]
    lines[30] = "30 x"
    path.write_text("\n".join(lines) + "\n")
    with raises_at(f"{path}:31", "b is 'x'; expected a number"):
        read_numeric_table(path, ["a", "b"])


# ---------------------------------------------------------------- Walch


def test_walch_labels_map_to_wake_nrem_rem() -> None:
    assert map_walch_stages(np.array([-1, 0, 1, 2, 3, 4, 5])).tolist() == [-1, 0, 1, 1, 1, 1, 2]
    with pytest.raises(ValueError):
        map_walch_stages(np.array([6]))


def test_walch_folder_subject_on_the_label_grid(walch_root: Path) -> None:
    assert walch_subjects(walch_root) == ["1001", "2002"]
    rec = load_walch(walch_root, subject="1001")
    # motion -95.3 .. ~430 s, labels 0 .. 360 s: grid from -60 s (2 margin epochs) to 420 s
    assert rec.meta["source"]["psg_time_s"] == -60.0
    assert rec.meta["sleep_labels_start_s"] == 60.0
    assert len(rec.accel) == 480 * 50 + 1
    assert rec.sleep_labels.tolist() == LABELS
    assert rec.epoch_labels().tolist() == [-1, -1, *LABELS, -1, -1]
    t = -60.0 + np.arange(len(rec.accel)) / 50
    expected = np.column_stack(
        [500 * np.sin(2 * np.pi * 0.2 * t), np.full_like(t, -250), 800 + 100 * np.cos(2 * np.pi * 0.05 * t)]
    )
    assert np.abs(rec.accel - expected).max() <= 1.0  # rounding + linear interpolation of slow sines
    assert rec.ppg.size == 0 and rec.ppg_rate_hz is None
    assert rec.meta["heart_rate"]["samples"] == 92 and 50 < rec.meta["heart_rate"]["mean_bpm"] < 70
    assert rec.meta["conversion"]["accel"]["clipped"] == 0 and "warnings" not in rec.meta


def test_walch_subject_must_be_named_when_ambiguous_or_unknown(walch_root: Path) -> None:
    with pytest.raises(SubjectError, match=r"holds 2 subjects \(1001, 2002\); pick one with --subject"):
        load_walch(walch_root)
    with pytest.raises(SubjectError, match=r"subject 3003 is not in .*; available: 1001, 2002"):
        load_walch(walch_root, subject="3003")
    one = walch_root.parent / "one"
    write_walch(one, "42")
    assert load_walch(one).meta["source"]["subject"] == "42"  # the only one needs no --subject


def test_walch_single_file_finds_its_labels_or_goes_without(walch_root: Path, tmp_path: Path) -> None:
    motion = walch_root / "motion" / "2002_acceleration.txt"
    rec = load_walch(motion)
    assert rec.sleep_labels.tolist() == LABELS and rec.meta["source"]["subject"] == "2002"
    alone = tmp_path / "alone" / "2002_acceleration.txt"
    alone.parent.mkdir()
    alone.write_bytes(motion.read_bytes())
    rec = load_walch(alone)
    assert rec.sleep_labels is None and rec.meta["source"]["psg_time_s"] == -95.3
    with pytest.raises(SubjectError, match="subject 2002's file"):
        load_walch(alone, subject="1001")


def test_walch_gaps_are_bridged_reported_and_unscored(tmp_path: Path) -> None:
    root = write_walch(tmp_path / "w", "7")
    path = root / "motion" / "7_acceleration.txt"
    rows = motion_rows(-95.3, 525, 1)
    rows = rows[(rows[:, 0] < 100) | (rows[:, 0] > 104)]  # 4 s without samples inside epoch 3 (90-120 s)
    write_rows(path, rows, "%.9f %.7f %.7f %.7f")
    rec = load_walch(root)
    expected = list(LABELS)
    expected[3] = -1
    assert rec.sleep_labels.tolist() == expected
    assert rec.meta["conversion"]["labels"]["gap_epochs_unscored"] == 1
    assert len(rec.meta["conversion"]["accel"]["gaps"]) == 1 and "1 gap(s) longer than 1 s" in rec.meta["warnings"][0]


def test_walch_exact_duplicate_rows_are_dropped(tmp_path: Path) -> None:
    root = write_walch(tmp_path / "w", "7")
    path = root / "motion" / "7_acceleration.txt"
    lines = path.read_text().splitlines()
    lines.insert(50, lines[49])
    path.write_text("\n".join(lines) + "\n")
    rec = load_walch(root)
    assert rec.meta["conversion"]["accel"]["duplicate_rows_dropped"] == 1


def test_walch_clipping_is_counted(tmp_path: Path) -> None:
    root = write_walch(tmp_path / "w", "7")
    path = root / "motion" / "7_acceleration.txt"
    lines = path.read_text().splitlines()
    t = lines[5000].split()[0]
    lines[5000] = f"{t} 40.0 -40.0 0.5"  # beyond ±32.767 g on two axes
    path.write_text("\n".join(lines) + "\n")
    with pytest.warns(ConversionWarning, match="values beyond the int16 range"):
        rec = load_walch(root)
    assert rec.meta["conversion"]["accel"]["clipped"] >= 2
    assert rec.accel.max() == 32767 and rec.accel.min() == -32768


def walch_motion_with(tmp_path: Path, line: int, text: str | None) -> Path:
    """A Walch folder whose motion file has ``text`` as line ``line`` (None deletes the line)."""
    root = write_walch(tmp_path / "w", "9")
    path = root / "motion" / "9_acceleration.txt"
    lines = path.read_text().splitlines()
    if text is None:
        del lines[line - 1]
    else:
        lines[line - 1] = text
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.mark.parametrize(
    "line, text, expected",
    [
        (3, "0.1 0.2 abc 0.3", "y is 'abc'; expected a number"),
        (7, "-95.1 0.2 nan 0.3", "y is nan; expected a finite number"),
        (8, "-95.1 inf 0.2 0.3", "x is inf; expected a finite number"),
        (11, "-95.1 0.2 0.3", "3 fields where 4 were expected ('t x y z')"),
        (12, "-95.1 0.2 0.3 0.4 0.5", "5 fields where 4 were expected"),
        (20, "-99.0 0.0 0.0 1.0", "time -99 is not after the previous row's"),
        (21, "-95.3 0.0 0.0 1.0", "time -95.3 is not after the previous row's"),
    ],
)
def test_walch_malformed_motion_names_the_line(tmp_path: Path, line: int, text: str, expected: str) -> None:
    path = walch_motion_with(tmp_path, line, text)
    with raises_at(f"{path}:{line}", expected):
        load_walch(path.parents[1])


def test_walch_a_stray_timestamp_is_refused_before_a_grid_is_built(tmp_path: Path) -> None:
    """A last row at t = 1e30 would ask for an interpolation grid of terabytes: one line instead."""
    root = write_walch(tmp_path / "w", "9")
    path = root / "motion" / "9_acceleration.txt"
    lines = path.read_text().splitlines() + ["1e30 0.1 0.2 0.9"]
    path.write_text("\n".join(lines) + "\n")
    with raises_at(f"{path}:{len(lines)}", "days after the first row's -95.3; expected a recording of at most 7 days"):
        load_walch(root)


def test_walch_empty_or_wrong_rate_motion(tmp_path: Path) -> None:
    root = write_walch(tmp_path / "w", "9")
    path = root / "motion" / "9_acceleration.txt"
    path.write_text("")
    with raises_at(f"{path}:1", "no data; expected rows of 't x y z'"):
        load_walch(root)
    write_rows(path, motion_rows(-95.3, 525, 1, rate=25.0), "%.9f %.7f %.7f %.7f")
    with raises_at(f"{path}:1", "(25 Hz); expected the Apple Watch's 50 Hz (± 10%)"):
        load_walch(root)


@pytest.mark.parametrize(
    "lines, where, expected",
    [
        (["0 0", "30 7"], 2, "stage 7; expected -1 (unscored), 0 (wake), 1-4 (NREM) or 5 (REM)"),
        (["0 0", "30 1.5"], 2, "stage 1.5"),
        (["0 0", "30 1", "45 1"], 3, "epoch time 45 s; expected 0 s plus a multiple of 30 s"),
        (["0 0", "30 1", "30 2"], 3, "time 30 is not after the previous row's 30"),
        (["0 0", "30"], 2, "1 field where 2 were expected ('t stage')"),
        (["0 0", "30 REM"], 2, "stage is 'REM'; expected a number"),
        (["0 0", "30 1", "3e10 2"], 3, "time 3e+10, 3.47e+05 days after the first row's 0; expected a recording of at "
         "most 7 days"),
    ],
)
def test_walch_malformed_labels_name_the_line(tmp_path: Path, lines: list[str], where: int, expected: str) -> None:
    root = write_walch(tmp_path / "w", "9")
    path = root / "labels" / "9_labeled_sleep.txt"
    path.write_text("\n".join(lines) + "\n")
    with raises_at(f"{path}:{where}", expected):
        load_walch(root)


def test_walch_missing_label_epochs_are_unscored(tmp_path: Path) -> None:
    root = write_walch(tmp_path / "w", "9")
    (root / "labels" / "9_labeled_sleep.txt").write_text("0 0\n30 2\n90 5\n")
    rec = load_walch(root)
    assert rec.sleep_labels.tolist() == [0, 1, -1, 2]
    assert rec.meta["conversion"]["labels"]["missing_epochs_filled_unscored"] == 1


def test_walch_labels_outside_the_motion_are_refused(tmp_path: Path) -> None:
    root = write_walch(tmp_path / "w", "9")
    (root / "labels" / "9_labeled_sleep.txt").write_text("3000 0\n3030 1\n")
    with pytest.raises(RecordingFormatError, match="share no whole 30-s epoch"):
        load_walch(root)


# ---------------------------------------------------------------- Empatica


def test_empatica_aligns_resamples_and_scales(tmp_path: Path) -> None:
    folder = write_e4(tmp_path / "e4")
    rec = load_empatica(folder)
    # ACC 0..60 s, BVP 2..52 s (Unix +1600000000): 50 s in common
    assert rec.meta["start_time"] == "2020-09-13T12:26:42Z"
    assert (len(rec.accel), len(rec.ppg), rec.ppg_rate_hz) == (2500, 3200, 64)
    alignment = rec.meta["conversion"]["alignment"]
    assert alignment["acc"] == {"trimmed_start_s": 2.0, "trimmed_end_s": 8.0}
    assert alignment["bvp"] == {"trimmed_start_s": 0.0, "trimmed_end_s": 0.0}
    # x: 32/64 g sine at 1 Hz, starting 2 s into ACC -> 500 mg sine in phase
    t = 2.0 + np.arange(2500) / 50
    inner = slice(100, -100)
    err = rec.accel[inner, 0] - 500 * np.sin(2 * np.pi * t[inner])
    assert np.abs(err).max() < 10.0  # 1/128 g input rounding (7.8 mg) + resampling (< 1.5 mg)
    assert np.all(rec.accel[:, 1] == round(-10 * 15.625))
    assert set(np.unique(rec.accel[:, 2])) <= {937, 938}  # 60/64 g = 937.5 mg: a tie, decided by float noise
    bvp = np.loadtxt(folder / "BVP.csv", skiprows=2)
    np.testing.assert_array_equal(rec.ppg, np.rint(bvp * EMPATICA_BVP_COUNTS_PER_UNIT).astype(np.int16))
    assert rec.meta["ppg_counts_per_unit"] == 16.0 and rec.meta["ppg_units"] == "empatica-bvp"
    assert rec.meta["ibi"] == {
        "file": str(folder / "IBI.csv"),
        "intervals": 60,
        "mean_ibi_s": 0.8,
        "outside_recording": 0,
    }
    assert rec.meta["heart_rate"]["samples"] == 30


def test_empatica_ppg_rate_and_saturation(tmp_path: Path) -> None:
    folder = write_e4(tmp_path / "e4", spike=3000.0)
    with pytest.warns(ConversionWarning, match="1 samples beyond the int16 range saturated"):
        rec = load_empatica(folder)
    assert rec.ppg[100] == 32767 and rec.meta["conversion"]["ppg"]["clipped"] == 1
    rec = load_empatica(folder, ppg_rate_hz=128)
    assert rec.ppg_rate_hz == 128 and len(rec.ppg) == 6400


def test_empatica_wesad_layout_and_single_channels(tmp_path: Path) -> None:
    write_e4(tmp_path / "S2" / "S2_E4_Data")
    rec = load_empatica(tmp_path / "S2")
    assert rec.meta["source"]["subject"] == "S2" and len(rec.ppg) == 3200
    (tmp_path / "S2" / "S2_E4_Data" / "ACC.csv").unlink()
    rec = load_empatica(tmp_path / "S2")
    assert rec.accel.shape == (0, 3) and len(rec.ppg) == 3200 and "no ACC.csv" in rec.meta["notes"]


def e4_file_with(tmp_path: Path, name: str, line: int, text: str | None) -> Path:
    folder = write_e4(tmp_path / "e4")
    path = folder / name
    lines = path.read_text().splitlines()
    if text is None:
        del lines[line - 1 :]
    else:
        lines[line - 1] = text
    path.write_text("\n".join(lines) + ("\n" if lines else ""))
    return path


@pytest.mark.parametrize(
    "name, line, text, expected",
    [
        (
            "ACC.csv",
            1,
            "1600000000.0, 1600000001.0, 1600000000.0",
            "expected one finite start time (Unix s) for all columns",
        ),
        ("ACC.csv", 1, "1600000000.0, 1600000000.0", "2 values; expected 3 (start time (Unix s), one per column)"),
        ("ACC.csv", 2, "32.0, abc, 32.0", "expected sampling rate (Hz), one per column"),
        ("ACC.csv", 2, "0, 0, 0", "accelerometer sampled at 0 Hz; expected 10 to 3200 Hz"),
        ("ACC.csv", 2, "0.001, 0.001, 0.001", "accelerometer sampled at 0.001 Hz; expected 10 to 3200 Hz"),
        ("BVP.csv", 2, "1e9", "PPG sampled at 1e+09 Hz; expected 16 to 3200 Hz"),
        ("HR.csv", 2, "1e30", "heart rate sampled at 1e+30 Hz; expected 0.1 to 10 Hz"),
        ("ACC.csv", 40, "1600003600.000000, 1600003600.000000, 1600003600.000000",
         "looks like a session's start time (Unix s); expected one session per file, not two concatenated"),
        ("BVP.csv", 300, "1600003600.00", "looks like a session's start time"),
        ("ACC.csv", 10, "1,2", "2 fields where 3 were expected ('x,y,z')"),
        ("ACC.csv", 11, "1,,2", "y is empty; expected a number"),
        ("BVP.csv", 7, "nan", "bvp is nan; expected a finite number"),
        ("BVP.csv", 8, "12.5,3", "2 fields where 1 was expected"),
        ("BVP.csv", 1, None, "empty file; expected the start time (Unix s) in row 1"),
        ("BVP.csv", 3, None, "no data; expected rows of 'bvp'"),
        ("IBI.csv", 4, "5.0;0.8", "1 field where 2 were expected"),
        ("HR.csv", 5, "seventy", "hr is 'seventy'; expected a number"),
    ],
)
def test_empatica_malformed_files_name_the_line(
    tmp_path: Path, name: str, line: int, text: str | None, expected: str
) -> None:
    path = e4_file_with(tmp_path, name, line, text)
    with raises_at(f"{path}:{line}", expected):
        load_empatica(path.parent)


def test_empatica_files_that_do_not_end_together_are_warned_about(tmp_path: Path) -> None:
    """ACC.csv's rate row says 64 Hz for 32-Hz data: the accelerometer is squeezed into half the session, and the
    BVP beyond it is dropped; the warning says so (an excerpt cut by rows looks the same, so it is not refused)."""
    folder = write_e4(tmp_path / "e4", acc_seconds=200, bvp_seconds=198)
    assert "warnings" not in load_empatica(folder).meta
    acc = folder / "ACC.csv"
    lines = acc.read_text().splitlines()
    lines[1] = "64.000000, 64.000000, 64.000000"
    acc.write_text("\n".join(lines) + "\n")
    (warning,) = load_empatica(folder).meta["warnings"]
    assert warning.startswith("BVP.csv (12672 rows at 64 Hz) runs 100 s past ACC.csv (6400 rows at 64 Hz)")
    assert "check both rate rows (line 2)" in warning


def test_empatica_a_folder_named_like_a_file_is_refused(tmp_path: Path) -> None:
    folder = write_e4(tmp_path / "e4")
    (folder / "ACC.csv").unlink()
    (folder / "ACC.csv").mkdir()
    with pytest.raises(RecordingFormatError, match="ACC.csv: a folder; expected the E4's ACC.csv file"):
        load_empatica(folder)


def test_empatica_sessions_that_do_not_overlap_are_refused(tmp_path: Path) -> None:
    folder = write_e4(tmp_path / "e4", bvp_start=1600001000.0)
    with pytest.raises(RecordingFormatError, match="do not overlap in time"):
        load_empatica(folder)


# ---------------------------------------------------------------- plain CSV


def write_csv(path: Path, header: str, rows: np.ndarray, fmt: str, sep: str = ",", newline: str = "\n") -> Path:
    path.write_text(header + newline + "".join((fmt % tuple(r)) + newline for r in rows))
    return path


def test_csv_with_time_accel_and_ppg(tmp_path: Path) -> None:
    t = np.arange(1000) / 100  # 100 Hz, 10 s
    rows = np.column_stack([t, np.sin(2 * np.pi * t), np.zeros_like(t), np.ones_like(t), 1000 * np.sin(2 * np.pi * t)])
    path = write_csv(tmp_path / "a.csv", "time,x,y,z,ppg", rows, "%.4f,%.5f,%.5f,%.5f,%.1f")
    rec = load_csv(path, accel_units="g")
    assert (len(rec.accel), rec.ppg_rate_hz, len(rec.ppg)) == (500, 100, 1000)
    np.testing.assert_array_equal(rec.ppg, np.rint(np.round(rows[:, 4], 1)).astype(np.int16))  # 100 Hz kept as is
    assert (
        np.all(rec.accel[:, 2] == 1000)
        and np.abs(rec.accel[25:-25, 0] - 1000 * np.sin(2 * np.pi * np.arange(500)[25:-25] / 50)).max() < 3
    )
    assert rec.meta["start_time"] is None and rec.meta["conversion"]["time"] == "uniform at 100 Hz"


def test_csv_accel_units(tmp_path: Path) -> None:
    rows = np.column_stack([np.full(50, 1.0), np.full(50, -0.5), np.full(50, 64.0)])
    path = write_csv(tmp_path / "u.csv", "x,y,z", rows, "%g,%g,%g")
    assert load_csv(path, rate_hz=50, accel_units="g").accel[0].tolist() == [1000, -500, 32767]
    assert load_csv(path, rate_hz=50).accel[0].tolist() == [1, 0, 64]  # milli-g by default (-0.5 rounds to even)
    assert load_csv(path, rate_hz=50, accel_units="counts", counts_per_g=64).accel[0].tolist() == [16, -8, 1000]
    with pytest.raises(RecordingFormatError, match="need the sensor's counts per g"):
        load_csv(path, rate_hz=50, accel_units="counts")


def test_csv_without_time_needs_a_rate_and_ppg_goes_to_the_nearest_rate(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "p.csv", "BVP", np.arange(250)[:, None] % 50, "%d")
    with raises_at(f"{path}:1", "no time column (t, time or timestamp); expected one, or give --rate"):
        load_csv(path)
    rec = load_csv(path, rate_hz=50)  # 50 Hz is no device rate: the nearest is 64
    assert rec.ppg_rate_hz == 64 and len(rec.ppg) == 320 and rec.accel.shape == (0, 3)
    assert load_csv(path, rate_hz=50, ppg_rate_hz=128).ppg_rate_hz == 128


def test_csv_semicolons_crlf_unix_time_and_extra_columns(tmp_path: Path) -> None:
    t = 1700000000 + np.arange(100) / 50
    rows = np.column_stack([t, np.full(100, 7), np.ones(100), np.ones(100), np.ones(100)])
    path = write_csv(tmp_path / "s.csv", "\ufeffTimestamp;Label;X;Y;Z", rows, "%.3f;%d;%g;%g;%g", newline="\r\n")
    rec = load_csv(path)
    assert rec.meta["start_time"] == "2023-11-14T22:13:20Z" and len(rec.accel) == 100


def test_csv_jittered_times_are_interpolated(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    t = np.cumsum(0.02 + rng.uniform(-0.004, 0.004, 1500))
    t -= t[0]
    rows = np.column_stack([t, 100 * t, np.zeros_like(t), np.zeros_like(t)])
    rec = load_csv(write_csv(tmp_path / "j.csv", "t,x,y,z", rows, "%.6f,%.4f,%g,%g"))
    assert "interpolated" in rec.meta["conversion"]["time"]
    k = np.arange(len(rec.accel))
    assert np.abs(rec.accel[:-5, 0] - 100 * k[:-5] / 50).max() <= 1


def csv_with(tmp_path: Path, line: int, text: str, header: str = "t,x,y,z,ppg") -> Path:
    t = np.arange(200) / 50
    rows = np.column_stack([t, np.zeros_like(t), np.zeros_like(t), np.ones_like(t), np.zeros_like(t)])
    path = write_csv(tmp_path / "m.csv", header, rows, "%.2f,%g,%g,%g,%g")
    lines = path.read_text().splitlines()
    lines[line - 1] = text
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.mark.parametrize(
    "line, text, expected",
    [
        (1, "t,x,y,ppg", "found accelerometer column(s) x, y; expected x, y and z together"),
        (1, "t,a,b", "no signal columns in t, a, b; expected x, y, z and/or ppg (or bvp)"),
        (1, "0.00,0,0,1,0", "found '0.00' where a column name belongs; expected a header row"),
        (1, "07:16:37 25-08-15, 74.39, relax", "found '74.39' where a column name belongs"),
        (1, "t,x,y,z,ppg,bvp", "columns ppg and bvp both present"),
        (1, "t,x,x,y,z", "column 'x' appears twice"),
        (5, "0.06,0,abc,1,0", "y is 'abc'; expected a number"),
        (5, "0.06,0,1_000,1,0", "y is '1_000'; expected a number"),
        (6, "0.08,0,0,nan,0", "z is nan; expected a finite number"),
        (7, "0.10,0,0,1", "4 fields where 5 were expected"),
        (8, "0.10,0,0,1,0", "time 0.1 is not after the previous row's 0.1"),
        (9, "0.11,0,0,1,0", "time 0.11 is not after the previous row's 0.12"),
        (12, "0.185,0,0,1,0", "time step 0.005 s from the previous row; expected 0.02 s ± 25% (50 Hz)"),
    ],
)
def test_csv_malformed_names_the_line(tmp_path: Path, line: int, text: str, expected: str) -> None:
    path = csv_with(tmp_path, line, text)
    with raises_at(f"{path}:{line}", expected):
        load_csv(path)


def test_csv_missing_samples_are_an_unstable_rate(tmp_path: Path) -> None:
    path = csv_with(tmp_path, 2, "0.00,0,0,1,0")
    lines = path.read_text().splitlines()
    del lines[8:12]  # rows t = 0.14 .. 0.20: line 9 now holds t = 0.22
    path.write_text("\n".join(lines) + "\n")
    with raises_at(
        f"{path}:9", "time step 0.1 s from the previous row; expected 0.02 s ± 25% (50 Hz): the rate is unstable"
    ):
        load_csv(path)
    with raises_at(f"{path}:9", "time step 0.1 s"):
        load_csv(path, rate_hz=50)


def test_csv_ragged_rows_are_found_when_columns_are_skipped(tmp_path: Path) -> None:
    path = csv_with(tmp_path, 1, "t,note,x,y,z")  # 'note' is not read, but every row needs 5 fields
    lines = path.read_text().splitlines()
    lines[120] = "2.38,0,0,1"
    path.write_text("\n".join(lines) + "\n")
    with raises_at(f"{path}:121", "4 fields where 5 were expected"):
        load_csv(path)


def test_csv_rate_must_agree_with_the_time_column(tmp_path: Path) -> None:
    path = csv_with(tmp_path, 2, "0.00,0,0,1,0")
    with raises_at(
        f"{path}:201", "the time column runs at 50 Hz (200 rows from t = 0 to 3.98 s); expected the given rate 64 Hz"
    ):
        load_csv(path, rate_hz=64)
    assert len(load_csv(path, rate_hz=50).accel) == 200


def test_csv_empty_files(tmp_path: Path) -> None:
    path = tmp_path / "e.csv"
    path.write_text("")
    with raises_at(f"{path}:1", "empty; expected a header row"):
        load_csv(path)
    path.write_text("t,x,y,z\n")
    with raises_at(f"{path}:2", "no data"):
        load_csv(path)
    path.write_text("t,x,y,z\n0,1,2,3\n")
    with raises_at(f"{path}:2", "a single row; expected two or more"):
        load_csv(path)


# ---------------------------------------------------------------- detection and convert_source


def test_format_detection(tmp_path: Path, walch_root: Path) -> None:
    assert detect_format(walch_root) == "walch"
    assert detect_format(walch_root / "motion") == "walch"
    assert detect_format(walch_root / "motion" / "1001_acceleration.txt") == "walch"
    assert detect_format(write_e4(tmp_path / "e4")) == "empatica"
    assert detect_format(write_e4(tmp_path / "S3" / "S3_E4_Data").parent) == "empatica"
    assert detect_format(tmp_path / "e4" / "BVP.csv") == "empatica"
    plain = tmp_path / "walk.txt"
    plain.write_text("0.0 1 2 3\n0.02 1 2 3\n")
    assert detect_format(plain) == "walch"
    assert detect_format(write_csv(tmp_path / "c.csv", "t,x,y,z", np.zeros((3, 4)), "%g,%g,%g,%g")) == "csv"
    numbers = tmp_path / "n.csv"
    numbers.write_text("1,2,3\n")
    with pytest.raises(VigilError, match="cannot tell the format"):
        detect_format(numbers)
    (tmp_path / "empty_dir").mkdir()
    with pytest.raises(VigilError, match="cannot tell the format"):
        detect_format(tmp_path / "empty_dir")


def test_convert_source_excerpt_and_option_checks(walch_root: Path) -> None:
    rec = convert_source(walch_root, subject="2002", start_s=60, duration_s=90)
    assert len(rec.accel) == 4500 and rec.sleep_labels.tolist() == LABELS[:3]
    assert rec.meta["sleep_labels_start_s"] == 0.0
    with pytest.raises(VigilError, match="--rate does not apply to walch sources"):
        convert_source(walch_root, subject="2002", rate_hz=50)
    with pytest.raises(VigilError, match="--ppg-rate 50; the device supports 64, 100, 128 Hz"):
        convert_source(walch_root.parent, kind="csv", ppg_rate_hz=50)


# ---------------------------------------------------------------- the command


def run(*args: str):
    return CliRunner().invoke(convert, [str(a) for a in args])


def test_cli_converts_and_prints_a_summary(walch_root: Path, tmp_path: Path) -> None:
    out = tmp_path / "night.vrec"
    result = run(walch_root, "--subject", "1001", "--out", out)
    assert result.exit_code == 0, result.output
    assert f"wrote {out} (walch, subject 1001): 480.02 s" in result.stdout
    assert "sleep labels   12 epochs from 60 s: unscored 1, wake 3, NREM 6, REM 2" in result.stdout
    rec = Recording.load(out)
    assert rec.sleep_labels.tolist() == LABELS


def test_cli_json(tmp_path: Path) -> None:
    folder = write_e4(tmp_path / "e4", spike=-5000.0)
    result = run(
        folder, "--out", tmp_path / "s.vrec", "--json", "--ppg-rate", "100", "--start", "10", "--duration", "20"
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["format"] == "empatica" and report["ppg_rate_hz"] == 100
    assert (report["accel_samples"], report["ppg_samples"], report["duration_s"]) == (1000, 2000, 20.0)
    assert report["clipped"]["accel"] == 0 and report["clipped"]["ppg"] >= 1 and "saturated" in report["warnings"][0]


def test_cli_warnings_go_to_stderr(tmp_path: Path) -> None:
    folder = write_e4(tmp_path / "e4", spike=3000.0)
    result = run(folder, "--out", tmp_path / "s.vrec")
    assert result.exit_code == 0
    assert result.stderr.strip() == "warning: e4/BVP.csv: 1 samples beyond the int16 range saturated"


@pytest.mark.parametrize(
    "make_args, expected",
    [
        (lambda root, tmp: [root, "--out", tmp / "o.vrec"], "holds 2 subjects (1001, 2002); pick one with --subject"),
        (lambda root, tmp: [root, "--subject", "5", "--out", tmp / "o.vrec"], "available: 1001, 2002"),
        (
            lambda root, tmp: [root, "--subject", "1001", "--rate", "50", "--out", tmp / "o.vrec"],
            "--rate does not apply",
        ),
        (
            lambda root, tmp: [root, "--subject", "1001", "--start", "9999", "--out", tmp / "o.vrec"],
            "excerpt start 9999 s is outside",
        ),
        (lambda root, tmp: [root, "--subject", "1001", "--out", tmp / "no" / "o.vrec"], "no such folder for --out"),
        (lambda root, tmp: [root / "labels", "--out", tmp / "o.vrec"], "cannot tell the format"),
    ],
)
def test_cli_user_errors_are_one_line(walch_root: Path, tmp_path: Path, make_args, expected: str) -> None:
    result = run(*make_args(walch_root, tmp_path))
    assert result.exit_code == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: ") and expected in lines[0], result.stderr
    assert not (tmp_path / "o.vrec").exists()


def test_cli_malformed_input_names_file_and_line(tmp_path: Path) -> None:
    path = csv_with(tmp_path, 6, "0.08,0,0,nan,0")
    result = run(path, "--out", tmp_path / "o.vrec")
    assert result.exit_code == 1
    assert result.stderr.strip() == f"Error: {path}:6: z is nan; expected a finite number"


def test_cli_usage_errors_exit_2(tmp_path: Path) -> None:
    assert run(tmp_path, "--out", tmp_path / "o.vrec", "--from", "edf").exit_code == 2
    assert run(tmp_path / "absent", "--out", tmp_path / "o.vrec").exit_code == 2
    assert run(tmp_path, "--out", tmp_path / "o.vrec", "--ppg-rate", "50").exit_code == 2


# ---------------------------------------------------------------- the real files beside the project


def test_real_walch_snippet(tmp_path: Path) -> None:
    if not SNIPPET.exists():
        pytest.skip("../shared/data is absent")
    assert detect_format(SNIPPET) == "walch"
    rec = convert_source(SNIPPET)
    raw = np.loadtxt(SNIPPET)  # 20000 rows, t 155.32 .. 554.45 s
    assert rec.meta["source"]["subject"] == "46343" and rec.sleep_labels is None
    assert len(rec.accel) == math.floor((raw[-1, 0] - raw[0, 0]) * 50) + 1 == 19957
    t = raw[0, 0] + np.arange(len(rec.accel)) / 50
    expected = np.column_stack([np.interp(t, raw[:, 0], raw[:, c]) for c in (1, 2, 3)]) * 1000
    np.testing.assert_array_equal(rec.accel, np.rint(expected).astype(np.int16))
    magnitude = np.sqrt((rec.accel.astype(float) ** 2).sum(axis=1))
    assert 900 < np.median(magnitude) < 1100  # a wrist at rest feels 1 g
    assert rec.meta["conversion"]["accel"]["gaps"] == []  # its longest step is 0.26 s
    assert abs(rec.meta["conversion"]["accel"]["median_source_rate_hz"] - 50.13) < 0.01
    rec.save(tmp_path / "snippet.vrec")
    assert Recording.load(tmp_path / "snippet.vrec").accel.shape == (19957, 3)


def test_real_empatica_sample(tmp_path: Path) -> None:
    if not E4_SAMPLE.exists():
        pytest.skip("../shared/data is absent")
    assert detect_format(E4_SAMPLE) == "empatica"
    rec = convert_source(E4_SAMPLE)
    # BVP: 9998 samples at 64 Hz (156.2 s); ACC runs 312 s from the same start: trimmed
    assert rec.meta["start_time"] == "2019-06-11T19:03:45Z"
    assert (rec.ppg_rate_hz, len(rec.ppg), len(rec.accel)) == (64, 9998, 7810)
    bvp = np.loadtxt(E4_SAMPLE / "BVP.csv", skiprows=2)
    np.testing.assert_array_equal(rec.ppg, np.rint(bvp * 16).astype(np.int16))
    assert rec.meta["conversion"]["ppg"]["clipped"] == 0  # |BVP| peaks at 735 here; the scale holds 2048
    acc = np.loadtxt(E4_SAMPLE / "ACC.csv", skiprows=2, delimiter=",")[: 9998 // 2] * 15.625
    back = rs.resample_uniform(rec.accel.astype(float), 50, 32)[: len(acc)]
    inner = slice(64, -64)
    assert np.corrcoef(back[inner, 0], acc[inner, 0])[0, 1] > 0.99
    assert np.abs(back[inner] - acc[inner]).mean() < 5.0  # mg, after 32 -> 50 -> 32 Hz
    assert rec.meta["ibi"]["intervals"] == 4999 and rec.meta["ibi"]["outside_recording"] > 0
    result = run(E4_SAMPLE, "--out", tmp_path / "e4.vrec", "--ppg-rate", "128")
    assert result.exit_code == 0 and "PPG            128 Hz, 19996 samples" in result.stdout
