"""ICHI-2014 nights (``pNNN.npy``) -> recordings: run-length decoding, PSG labels per epoch by majority, the
per-night calibration from gravity, rates, gaps; malformed files stop with one line naming the file (and row);
`vigil convert --from ichi`; sleep training data by patient; and two real nights from ../shared/data."""

from __future__ import annotations

import itertools
import math
import warnings
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from vigil.cli import cli
from vigil.data.convert import convert, convert_source, detect_format
from vigil.data.ichi import (
    EXPECTED,
    epoch_labels,
    expand,
    ichi_nights,
    load_ichi,
    night_name,
    read_ichi,
)
from vigil.data.recording import ConversionWarning, Recording
from vigil.errors import RecordingFormatError, VigilError
from vigil.manifest import portable_source
from vigil.ml.sleep_data import dataset_from_source, detect_sleep_format, ichi_sleep_dataset, load_sleep_data

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
ICHI = SHARED_DATA / "ichi2014_train"

DTYPE = np.dtype([("t", "<f8"), ("d", "u1"), ("x", "u1"), ("y", "u1"), ("z", "u1"), ("l", "<u2"), ("gt", "<i8")])
T0 = 734633.85  # datenum: 2011-05-10 20:24:00 on the lab's clock
EPOCH = 3000  # 100 Hz samples per 30-s epoch
HOLD = 4000  # 40 s per orientation
OFFSET = np.array([130.0, 126.0, 124.0])  # the synthetic logger's zero g (counts) ...
GAIN = np.array([31.0, 33.0, 32.0])  # ... and counts per g


@pytest.fixture(autouse=True)
def quiet_conversion_warnings():
    """The loader warns (ConversionWarning) as well as listing in meta; tests assert on meta."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConversionWarning)
        yield


# ---------------------------------------------------------------- synthetic nights


def encode(counts: np.ndarray, gt: np.ndarray, t0: float = T0) -> np.ndarray:
    """The ICHI run-length rows of a 100 Hz stream: a new row where x, y, z or gt change, or after 255 samples."""
    n = len(gt)
    change = np.ones(n, dtype=bool)
    change[1:] = (counts[1:] != counts[:-1]).any(axis=1) | (gt[1:] != gt[:-1])
    starts = np.flatnonzero(change)
    lengths = np.diff(np.append(starts, n))
    starts = np.array(sorted(int(s) + 255 * k for s, length in zip(starts, lengths)
                             for k in range(math.ceil(length / 255))))  # fmt: skip
    rows = np.zeros(len(starts), dtype=DTYPE)
    rows["t"] = t0 + starts / 100 / 86400
    rows["d"] = np.diff(np.append(starts, n))
    rows["x"], rows["y"], rows["z"] = counts[starts].T
    rows["l"] = 100
    rows["gt"] = gt[starts]
    return rows


def gravity_counts() -> np.ndarray:
    """The wrist still in 26 orientations (every direction of {-1, 0, 1}^3), 40 s each, as the synthetic logger
    counts them."""
    directions = np.array([v for v in itertools.product((-1, 0, 1), repeat=3) if any(v)], dtype=float)
    directions /= np.linalg.norm(directions, axis=1, keepdims=True)
    counts = np.rint(OFFSET + GAIN * directions).astype(np.uint8)
    return np.repeat(counts, HOLD, axis=0)


# PSG codes of the first epochs and the class each becomes (the rest of the night is wake)
EPOCH_CODES = [
    [(6, 3000)],  # wake
    [(2, 1600), (6, 1400)],  # NREM by majority
    [(1, 1000), (3, 1000), (6, 1000)],  # stages 3 and 1 together outvote wake: NREM
    [(7, 1600), (5, 1400)],  # mostly movement: unscored
    [(5, 1500), (6, 1500)],  # a tie: wake (unscored, wake, NREM, REM in that order)
    [(0, 3000)],  # unknown
    [(5, 3000)],  # REM
    [(0, 1500), (5, 1500)],  # a tie with unknown: unscored
]
EPOCH_CLASSES = [0, 1, 1, -1, 0, -1, 2, -1]


def psg_codes(n: int) -> np.ndarray:
    head = np.concatenate([np.repeat([c for c, _ in epoch], [k for _, k in epoch]) for epoch in EPOCH_CODES])
    return np.concatenate([head, np.full(n - len(head), 6)]).astype(np.int64)


def write_night(path: Path, rows: np.ndarray) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    np.save(path, rows)
    return path


@pytest.fixture()
def gravity_night(tmp_path: Path) -> tuple[Path, np.ndarray, np.ndarray]:
    counts = gravity_counts()
    gt = psg_codes(len(counts))
    return write_night(tmp_path / "p007.npy", encode(counts, gt)), counts, gt


# ---------------------------------------------------------------- decoding, labels, rates, calibration


def test_runs_decode_exactly_into_the_100_hz_stream(gravity_night) -> None:
    path, counts, gt = gravity_night
    night = read_ichi(path)
    assert night.d.max() == 255 and len(night.t) < len(counts) / 10  # runs really are encoded
    decoded, codes = expand(night)
    np.testing.assert_array_equal(decoded, counts)
    np.testing.assert_array_equal(codes, gt)


def test_majority_of_mapped_classes_per_epoch() -> None:
    gt = psg_codes(12 * EPOCH)
    assert epoch_labels(gt, 12).tolist() == EPOCH_CLASSES + [0] * 4
    # an epoch holding a gap's junction is unscored
    assert epoch_labels(gt, 12, junctions=[6 * EPOCH + 10])[6] == -1


def test_rates_labels_and_start_of_a_night(gravity_night) -> None:
    path, counts, _ = gravity_night
    rec = load_ichi(path)
    n = len(counts)  # 104000 samples at 100 Hz: 1040 s
    assert rec.accel_rate_hz == 50 and rec.accel.dtype == np.int16 and len(rec.ppg) == 0
    assert len(rec.accel) == n // 2 and rec.duration_s == pytest.approx(n / 100)
    assert rec.meta["sleep_labels_start_s"] == 0.0
    assert len(rec.sleep_labels) == n // EPOCH == 34
    assert rec.sleep_labels.tolist() == EPOCH_CLASSES + [0] * (34 - len(EPOCH_CLASSES))
    # datenum 719529 is 1970-01-01; Python's ordinals start a year (366 days) later than datenums
    assert date.fromordinal(int(T0) - 366) == date(2011, 5, 10)
    expected = datetime(1970, 1, 1, tzinfo=UTC) + timedelta(days=T0 - 719529)
    assert rec.meta["start_time"] == "2011-05-10T20:24:00Z"  # to the millisecond: float days carry ~10 us
    assert abs((datetime.fromisoformat(rec.meta["start_time"]) - expected).total_seconds()) < 1e-3
    source = rec.meta["source"]
    assert (source["kind"], source["subject"], source["night"], source["file"]) == ("ichi", "p007", None, "p007.npy")
    assert "patient" not in source  # no pat_inf.npy beside it
    assert "light channel (l) is not kept" in rec.meta["notes"] and "local clock" in rec.meta["notes"]
    timing = rec.meta["conversion"]["timing"]
    assert timing["gaps"] == [] and timing["timestamp_rate_hz"] == pytest.approx(100, abs=0.01)
    assert "warnings" not in rec.meta


def test_calibration_recovers_a_known_gravity(gravity_night) -> None:
    path, counts, _ = gravity_night
    rec = load_ichi(path)
    cal = rec.meta["conversion"]["calibration"]
    assert cal["method"] == "sphere"
    assert cal["still_windows"] == len(counts) // 100  # every second is still
    # the counts are whole numbers, so the fit is as good as their rounding allows
    np.testing.assert_allclose(cal["offset_counts"], OFFSET, atol=0.3)
    np.testing.assert_allclose(cal["gain_counts_per_g"], GAIN, rtol=0.01)
    assert abs(cal["still_magnitude_mg"]["median"] - 1000) < 10
    # the middle of each hold is the calibrated constant, exactly (the resampler keeps DC)
    offset, gain = np.array(cal["offset_counts"]), np.array(cal["gain_counts_per_g"])
    for k in range(26):
        middle = (k * HOLD + HOLD // 2) // 2
        expected = np.rint((counts[k * HOLD].astype(float) - offset) * 1000 / gain)
        assert np.abs(rec.accel[middle] - expected).max() <= 1
        assert abs(np.linalg.norm(rec.accel[middle]) - 1000) < 25


def test_one_posture_fits_one_gain(tmp_path: Path) -> None:
    counts = np.tile(np.array([129, 127, 157], dtype=np.uint8), (30000, 1))  # lying still, face up, 5 min
    rec = load_ichi(write_night(tmp_path / "p010.npy", encode(counts, np.full(30000, 1))))
    cal = rec.meta["conversion"]["calibration"]
    assert cal["method"] == "gain" and cal["still_windows"] == 300
    assert cal["still_magnitude_mg"]["median"] == pytest.approx(1000, abs=0.5)
    assert abs(np.linalg.norm(rec.accel[7500]) - 1000) <= 1
    assert rec.sleep_labels.tolist() == [1] * 10
    assert "typical offsets kept, one gain fitted" in rec.meta["warnings"][0]


def test_too_few_still_seconds_use_the_typical_calibration(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    counts = (128 + rng.integers(-4, 5, (12000, 3))).astype(np.uint8)  # 2 min of restless hand
    with pytest.warns(ConversionWarning, match="still 1-s windows"):
        rec = load_ichi(write_night(tmp_path / "p011.npy", encode(counts, np.full(12000, 6))))
    cal = rec.meta["conversion"]["calibration"]
    assert cal["method"] == "typical" and cal["still_windows"] < 60
    assert cal["offset_counts"] == [129.0, 127.4, 124.0]


def test_gaps_are_reported_and_their_epoch_unscored(tmp_path: Path) -> None:
    counts = gravity_counts()
    rows = encode(counts, np.full(len(counts), 2))
    starts = np.concatenate([[0], np.cumsum(rows["d"].astype(int))])
    row = int(np.searchsorted(starts, 10 * EPOCH + 500))  # a junction inside epoch 10
    rows["t"][row:] += 5.0 / 86400
    rec = load_ichi(write_night(tmp_path / "p012.npy", rows))
    [gap] = rec.meta["conversion"]["timing"]["gaps"]
    assert gap[0] == row and gap[1] == pytest.approx(5.0, abs=0.01) and gap[2] == starts[row]
    assert "1 gap(s)" in rec.meta["warnings"][0] and "largest 5.0 s" in rec.meta["warnings"][0]
    labels = rec.sleep_labels.tolist()
    assert labels[starts[row] // EPOCH] == -1 and labels.count(-1) == 1
    assert len(rec.accel) == len(counts) // 2  # nothing dropped, nothing invented


def test_names_of_nights_and_patients(tmp_path: Path) -> None:
    assert night_name("p005.npy") == ("p005", None)
    assert night_name(Path("x/p08a.npy")) == ("p008", "a") and night_name("p15b.npy") == ("p015", "b")
    for name in ("p002.npy", "p08b.npy", "p08a.npy", "pat_inf.npy", "notes.npy"):
        (tmp_path / name).write_bytes(b"")
    assert [p.name for p in ichi_nights(tmp_path)] == ["p002.npy", "p08a.npy", "p08b.npy"]


# ---------------------------------------------------------------- malformed files


def good_rows() -> np.ndarray:
    counts = np.tile(np.array([128, 128, 160], dtype=np.uint8), (1000, 1))
    counts[::7, 0] = 130  # many short runs
    return encode(counts, np.full(1000, 6))


def one_line_error(path: Path, message: str) -> None:
    with pytest.raises(VigilError) as info:
        load_ichi(path)
    assert isinstance(info.value, RecordingFormatError)
    assert str(info.value) == f"{path}{message}"
    assert "\n" not in str(info.value)


def without(rows: np.ndarray, field: str) -> np.ndarray:
    keep = [n for n in rows.dtype.names if n != field]
    out = np.zeros(len(rows), dtype=[(n, rows.dtype[n]) for n in keep])
    for n in keep:
        out[n] = rows[n]
    return out


def retyped(rows: np.ndarray, field: str, dtype: str) -> np.ndarray:
    out = np.zeros(len(rows), dtype=[(n, dtype if n == field else rows.dtype[n]) for n in rows.dtype.names])
    for n in rows.dtype.names:
        out[n] = rows[n]
    return out


def test_missing_field(tmp_path: Path) -> None:
    path = write_night(tmp_path / "p002.npy", without(good_rows(), "gt"))
    one_line_error(path, f": field 'gt' missing; {EXPECTED}")
    assert EXPECTED == "expected an ICHI-2014 night (fields t d x y z l gt)"


@pytest.mark.parametrize(
    "field, dtype, expected",
    [
        ("t", "<i8", "field 't' is int64; expected a float (days)"),
        ("x", "<f4", "field 'x' is float32; expected integers"),
    ],
)
def test_wrong_dtype(tmp_path: Path, field: str, dtype: str, expected: str) -> None:
    path = write_night(tmp_path / "p002.npy", retyped(good_rows(), field, dtype))
    one_line_error(path, f": {expected}; {EXPECTED}")


@pytest.mark.parametrize(
    "field, row, value, expected",
    [
        ("d", 3, 0, "run length 0; expected 1–255"),
        ("gt", 5, 4, "gt 4; expected 0 (unknown), 1-3 (stages 3-1), 5 (REM), 6 (wake) or 7 (movement)"),
        ("t", 4, T0, f"time {T0:.9g} is not after the previous row's"),
        ("t", 2, np.nan, "timestamp nan; expected days (datenum)"),
    ],
)
def test_bad_row_is_named(tmp_path: Path, field: str, row: int, value: float, expected: str) -> None:
    rows = good_rows()
    rows[field][row] = value
    path = write_night(tmp_path / "p002.npy", rows)
    with pytest.raises(RecordingFormatError) as info:
        load_ichi(path)
    message = str(info.value)
    assert message.startswith(f"{path}:row {row}: {expected}"), message
    assert "\n" not in message


def test_wide_counts_out_of_range(tmp_path: Path) -> None:
    rows = retyped(good_rows(), "y", "<i4")
    rows["y"][9] = 300
    path = write_night(tmp_path / "p002.npy", rows)
    one_line_error(path, ":row 9: y 300; expected 8-bit counts 0–255")


def test_not_a_night(tmp_path: Path) -> None:
    plain = write_night(tmp_path / "plain.npy", np.zeros((5, 3), dtype=np.uint8))
    one_line_error(plain, f": a plain uint8 array of shape (5, 3), not a structured array; {EXPECTED}")
    empty_rows = write_night(tmp_path / "empty_rows.npy", np.zeros(0, dtype=DTYPE))
    one_line_error(empty_rows, f": no rows; {EXPECTED}, one row per run of samples")
    empty = tmp_path / "empty.npy"
    empty.write_bytes(b"")
    one_line_error(empty, f": empty; {EXPECTED}")
    text = tmp_path / "text.npy"
    text.write_text("t,d,x,y,z\n1,2,3,4,5\n")
    one_line_error(text, f": not a NumPy .npy file; {EXPECTED}")
    objects = tmp_path / "objects.npy"
    np.save(objects, np.array([{"t": 1}], dtype=object), allow_pickle=True)
    with pytest.raises(RecordingFormatError, match="an array of Python objects"):  # a pickle is never loaded
        load_ichi(objects)
    truncated = tmp_path / "truncated.npy"
    truncated.write_bytes((write_night(tmp_path / "whole.npy", good_rows())).read_bytes()[:200])
    with pytest.raises(RecordingFormatError, match="cut short or damaged"):
        load_ichi(truncated)


# ---------------------------------------------------------------- convert, detection, sleep data


def test_convert_detects_and_writes_ichi(gravity_night, tmp_path: Path) -> None:
    path = gravity_night[0]
    assert detect_format(path) == detect_format(path.parent) == "ichi"
    assert detect_sleep_format(str(path)) == detect_sleep_format(str(path.parent)) == "ichi"
    out = tmp_path / "n.vrec"
    result = CliRunner().invoke(convert, [str(path.parent), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert f"wrote {out} (ichi, subject p007): 1040.00 s" in result.stdout
    assert "calibration    sphere from 1040 still 1-s windows" in result.stdout
    back = Recording.load(out)
    assert back.meta["source"]["kind"] == "ichi" and back.sleep_labels.tolist()[:8] == EPOCH_CLASSES
    assert back.meta["conversion"]["calibration"]["method"] == "sphere"
    assert convert_source(path, kind="ichi", start_s=60, duration_s=120).sleep_labels.tolist() == EPOCH_CLASSES[2:6]


def test_convert_errors_are_one_line(tmp_path: Path) -> None:
    bad = write_night(tmp_path / "p002.npy", without(good_rows(), "d"))
    result = CliRunner().invoke(convert, [str(bad), "--from", "ichi", "--out", str(tmp_path / "o.vrec")])
    assert result.exit_code == 1
    assert result.stderr.strip() == f"Error: {bad}: field 'd' missing; {EXPECTED}"
    write_night(tmp_path / "p003.npy", good_rows())
    result = CliRunner().invoke(convert, [str(tmp_path), "--from", "ichi", "--out", str(tmp_path / "o.vrec")])
    assert result.exit_code == 1 and "holds 2 nights (p002, p003); pick one with --subject" in result.stderr
    result = CliRunner().invoke(convert, [str(tmp_path / "p003.npy"), "--rate", "100", "--out", str(tmp_path / "o")])
    assert result.exit_code == 1 and "--rate does not apply to ichi sources" in result.stderr


def test_two_nights_of_one_patient_are_one_subject(tmp_path: Path) -> None:
    counts = gravity_counts()
    gt = psg_codes(len(counts))
    for name in ("p04a", "p04b", "p009"):
        write_night(tmp_path / f"{name}.npy", encode(counts, gt))
    ds = ichi_sleep_dataset(tmp_path)
    assert ds.subject_names == ["p004", "p009"]
    assert np.bincount(ds.subjects).tolist() == [2 * len(ds) // 3, len(ds) // 3]
    assert set(ds.labels.tolist()) <= {0, 1, 2} and ds.images.shape[1:] == (65, 73)
    assert ds.source == {"kind": "ichi", "path": str(tmp_path), "subjects": 2, "nights": 3}
    first = ichi_sleep_dataset(tmp_path, subjects=1)
    assert first.subject_names == ["p004"] and len(first) == 2 * len(ds) // 3
    again = dataset_from_source(portable_source(first.source))  # as a manifest records it
    np.testing.assert_array_equal(again.labels, first.labels)


def test_train_sleep_accepts_ichi() -> None:
    result = CliRunner().invoke(cli, ["train", "sleep", "--help"])
    assert result.exit_code == 0 and "[walch|ichi|synthetic]" in result.output


# ---------------------------------------------------------------- real nights beside the project


def real(name: str) -> Path:
    if not ICHI.is_dir():
        pytest.skip("../shared/data is absent")
    return ICHI / name


@pytest.fixture(scope="module")
def p002_converted(tmp_path_factory: pytest.TempPathFactory) -> tuple[Recording, str]:
    path = real("p002.npy")
    out = tmp_path_factory.mktemp("ichi") / "p002.vrec"
    result = CliRunner().invoke(convert, [str(path), "--from", "ichi", "--out", str(out)])
    assert result.exit_code == 0, result.output
    return Recording.load(out), result.stdout


def test_real_night_converts_and_loads_back(p002_converted) -> None:
    rec, stdout = p002_converted
    rows = np.load(real("p002.npy"))
    samples = int(rows["d"].astype(int).sum())  # 3310150 at 100 Hz: 9.19 h
    assert rec.accel_rate_hz == 50 and len(rec.accel) == math.ceil(samples / 2)
    assert rec.duration_s == pytest.approx(samples / 100, abs=0.02)
    assert abs(rec.duration_s - (rows["t"][-1] - rows["t"][0]) * 86400) < 0.01 * rec.duration_s
    assert rec.meta["start_time"] == "2011-05-10T20:28:20Z"
    assert rec.meta["source"]["patient"] == {"age": 69, "sex": "m", "diagnosis": "SAS"}
    assert "start          2011-05-10T20:28:20Z" in stdout


def test_real_night_is_calibrated_to_1_g(p002_converted) -> None:
    rec, _ = p002_converted
    cal = rec.meta["conversion"]["calibration"]
    assert cal["method"] == "sphere" and cal["still_windows"] > 20000
    assert all(120 < o < 136 for o in cal["offset_counts"]) and all(29 < g < 36 for g in cal["gain_counts_per_g"])
    epochs = rec.accel[: len(rec.accel) // 1500 * 1500].reshape(-1, 1500, 3).astype(float)
    still = epochs.std(axis=1).max(axis=1) < 10  # mg: the wrist did not move in these 30 s
    magnitude = np.linalg.norm(epochs[still].mean(axis=1), axis=1)
    assert still.sum() > 200 and abs(np.median(magnitude) - 1000) < 30


def test_real_night_labels_are_plausible(p002_converted) -> None:
    rec, _ = p002_converted
    counts = rec.label_counts()
    assert counts["wake"] > 0 and counts["NREM"] > 0 and counts["REM"] > 0
    assert len(rec.sleep_labels) == len(rec.accel) // 1500
    assert 0.3 < (counts["NREM"] + counts["REM"] + counts["wake"]) / len(rec.sleep_labels) < 1


def test_real_second_night_of_a_patient() -> None:
    rec = load_ichi(real("p08a.npy"))
    assert (rec.meta["source"]["subject"], rec.meta["source"]["night"]) == ("p008", "a")
    assert rec.meta["source"]["patient"]["sex"] == "f"
    assert rec.meta["conversion"]["calibration"]["method"] == "sphere" and "warnings" not in rec.meta


def test_real_sleep_data_of_two_patients() -> None:
    folder = real("")
    assert detect_sleep_format(str(folder)) == "ichi"
    ds = load_sleep_data(str(folder), "ichi", subjects=2)
    assert ds.subject_names == ["p002", "p005"] and ds.source["nights"] == 2
    assert ds.images.shape[1:] == (65, 73) and ds.images.dtype == np.int8
    assert set(np.unique(ds.labels).tolist()) == {0, 1, 2} and len(ds) > 1000


def test_a_damaged_npy_header_is_one_line_and_nothing_is_allocated(gravity_night, tmp_path: Path) -> None:
    """Found by tests/test_reader_mutations.py: a byte of the header changed made numpy's parser raise SyntaxError or
    TokenError; a header may also claim any shape, which np.load would try to allocate."""
    raw = gravity_night[0].read_bytes()
    cases = {"p002.npy": raw[:27] + b"\0" + raw[28:],  # a NUL inside the header's dict
             "p003.npy": raw.replace(b"'shape': (", b"'shape': (99999999999", 1),  # a shape the file cannot hold
             "p004.npy": raw[: len(raw) // 2]}  # cut short
    for name, data in cases.items():
        path = tmp_path / name
        path.write_bytes(data)
        with pytest.raises(RecordingFormatError, match=r"\.npy") as err:
            convert_source(path, kind="ichi")
        assert "\n" not in str(err.value)
