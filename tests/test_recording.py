"""The recording format (.vrec): round trip, validation with clear errors, excerpts."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pytest

from vigil.data.recording import FORMAT, VERSION, ConversionWarning, Recording, iso_utc, shift_iso
from vigil.errors import RecordingFormatError, VigilError


def sample_recording(seconds: int = 120, ppg_rate: int | None = 64, labels: bool = True) -> Recording:
    rng = np.random.default_rng(7)
    accel = rng.integers(-4000, 4000, size=(seconds * 50, 3), dtype=np.int16)
    ppg = rng.integers(-2000, 2000, size=seconds * ppg_rate, dtype=np.int16) if ppg_rate else np.zeros(0, np.int16)
    meta = {
        "ppg_units": "counts",
        "start_time": "2024-01-02T03:04:05Z",
        "source": {"kind": "synthetic", "path": None, "subject": "s1"},
        "notes": "test",
        "extra": {"nested": [1, 2]},
    }
    sleep_labels = None
    if labels:
        sleep_labels = np.array([0, 1, 2, -1], dtype=np.int8)[: seconds // 30]
        meta["sleep_labels_start_s"] = 0.0
    return Recording(accel, 50, ppg, ppg_rate, meta, sleep_labels)


def write_npz(path: Path, meta_changes: dict, arrays: dict[str, np.ndarray]) -> Path:
    rec = sample_recording()
    stored = {**rec.meta_json(), **meta_changes}
    base = {"accel": rec.accel, "ppg": rec.ppg, "sleep_labels": rec.sleep_labels, "meta": np.array(json.dumps(stored))}
    base.update(arrays)
    with open(path, "wb") as f:
        np.savez(f, **{k: v for k, v in base.items() if v is not None})
    return path


# ---------------------------------------------------------------- round trip


def test_round_trip_keeps_arrays_rates_and_meta(tmp_path: Path) -> None:
    rec = sample_recording()
    path = tmp_path / "night.vrec"
    rec.save(path)
    assert path.exists() and not (tmp_path / "night.vrec.npz").exists()  # no ".npz" appended
    back = Recording.load(path)
    np.testing.assert_array_equal(back.accel, rec.accel)
    np.testing.assert_array_equal(back.ppg, rec.ppg)
    np.testing.assert_array_equal(back.sleep_labels, rec.sleep_labels)
    assert back.accel.dtype == np.int16 and back.ppg.dtype == np.int16 and back.sleep_labels.dtype == np.int8
    assert (back.accel_rate_hz, back.ppg_rate_hz) == (50, 64)
    assert back.meta["extra"] == {"nested": [1, 2]}
    assert back.meta["source"]["kind"] == "synthetic"
    assert back.duration_s == 120.0
    assert "format" not in back.meta and "duration_s" not in back.meta


def test_stored_meta_has_the_standard_keys(tmp_path: Path) -> None:
    path = tmp_path / "r.vrec"
    sample_recording().save(path)
    with np.load(path, allow_pickle=False) as npz:
        meta = json.loads(str(npz["meta"][()]))
        assert set(npz.files) == {"accel", "ppg", "sleep_labels", "meta"}
    assert list(meta)[:11] == [
        "format",
        "version",
        "accel_rate_hz",
        "ppg_rate_hz",
        "accel_units",
        "ppg_units",
        "ppg_counts_per_unit",
        "start_time",
        "duration_s",
        "source",
        "notes",
    ]
    assert meta["format"] == FORMAT and meta["version"] == VERSION
    assert meta["accel_units"] == "milli-g" and meta["duration_s"] == 120.0


def test_empty_channels_round_trip(tmp_path: Path) -> None:
    rec = Recording(np.zeros((0, 3), np.int16), 50, np.arange(640, dtype=np.int16), 64, {})
    rec.save(tmp_path / "ppg_only.vrec")
    back = Recording.load(tmp_path / "ppg_only.vrec")
    assert back.accel.shape == (0, 3) and back.duration_s == 10.0 and back.sleep_labels is None
    rec = Recording(np.ones((100, 3), np.int16), 50, np.zeros(0, np.int16), None, {})
    rec.save(tmp_path / "accel_only.vrec")
    back = Recording.load(tmp_path / "accel_only.vrec")
    assert back.ppg_rate_hz is None and back.meta.get("ppg_units") is None and back.duration_s == 2.0


def test_overwrite_is_atomic_and_leaves_no_part_file(tmp_path: Path) -> None:
    path = tmp_path / "r.vrec"
    sample_recording(60).save(path)
    sample_recording(90).save(path)
    assert Recording.load(path).duration_s == 90.0
    assert [p.name for p in tmp_path.iterdir()] == ["r.vrec"]


def test_from_arrays_casts_exactly_and_validates(tmp_path: Path) -> None:
    accel = np.arange(300, dtype=np.int64).reshape(100, 3)
    rec = Recording.from_arrays(accel=accel, ppg=np.arange(128, dtype=np.int32), ppg_rate_hz=128, seed=3)
    assert rec.accel.dtype == np.int16 and rec.ppg.dtype == np.int16 and rec.duration_s == 2.0
    assert rec.meta["source"] == {"kind": "synthetic"} and rec.meta["seed"] == 3
    rec.save(tmp_path / "s.vrec")
    assert Recording.load(tmp_path / "s.vrec").meta["seed"] == 3
    labelled = Recording.from_arrays(accel=np.zeros((3000, 3), np.int16), sleep_labels=[0, 2], sleep_labels_start_s=0)
    assert labelled.sleep_labels.dtype == np.int8 and labelled.epoch_labels().tolist() == [0, 2]
    with pytest.raises(RecordingFormatError, match="ppg values run 0..40000, beyond int16"):
        Recording.from_arrays(ppg=np.array([0, 40000]), ppg_rate_hz=64)
    with pytest.raises(RecordingFormatError, match="accel must hold integers, not float64"):
        Recording.from_arrays(accel=np.zeros((2, 3)))
    with pytest.raises(RecordingFormatError, match="ppg_rate_hz is 50"):
        Recording.from_arrays(ppg=np.zeros(50, np.int16), ppg_rate_hz=50)


# ---------------------------------------------------------------- validation


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda r: setattr(r, "accel", r.accel.astype(np.float32)), "accel must be an int16 array"),
        (lambda r: setattr(r, "accel", r.accel[:, :2].copy()), "accel must have shape (n, 3)"),
        (lambda r: setattr(r, "accel_rate_hz", 32), "accel_rate_hz is 32"),
        (lambda r: setattr(r, "ppg_rate_hz", 50), "ppg_rate_hz is 50; the device supports 64, 100, 128 Hz"),
        (lambda r: setattr(r, "ppg_rate_hz", None), "ppg has 7680 samples but ppg_rate_hz is null"),
        (lambda r: setattr(r, "ppg", r.ppg.astype(np.int32)), "ppg must be an int16 array"),
        (lambda r: setattr(r, "sleep_labels", np.array([0, 3], np.int8)), "sleep_labels[1] is 3"),
        (lambda r: setattr(r, "sleep_labels", np.array([0, 1], np.int64)), "sleep_labels must be a 1-D int8 array"),
        (lambda r: r.meta.pop("sleep_labels_start_s"), "sleep_labels_start_s must be a number"),
        (lambda r: r.meta.update(accel_units="g"), "accel_units is 'g'"),
        (lambda r: r.meta.update(start_time="yesterday"), "start_time 'yesterday' is not ISO-8601"),
        (lambda r: r.meta.update(source={"kind": "fitbit"}), "source kind 'fitbit'"),
        (lambda r: r.meta.update(ppg_counts_per_unit=0), "ppg_counts_per_unit must be a positive number"),
    ],
)
def test_save_refuses_an_invalid_recording(tmp_path: Path, change, message: str) -> None:
    rec = sample_recording()
    change(rec)
    with pytest.raises(RecordingFormatError) as err:
        rec.save(tmp_path / "bad.vrec")
    assert str(err.value).startswith(f"{tmp_path / 'bad.vrec'}: ") and message in str(err.value)
    assert not (tmp_path / "bad.vrec").exists()


@pytest.mark.parametrize(
    "meta, arrays, message",
    [
        ({"format": "other"}, {}, "meta format is 'other', expected 'vigil-recording'"),
        ({"version": 2}, {}, "recording format version 2; this vigil reads version 1"),
        ({"ppg_rate_hz": 50}, {}, "ppg_rate_hz is 50"),
        ({"accel_rate_hz": 50.0}, {}, "accel_rate_hz is 50.0"),
        ({"duration_s": 99.0}, {}, "meta says duration_s 99.0 but the samples last 120.000 s"),
        ({}, {"accel": np.zeros((10, 3), np.int32)}, "accel must be an int16 array, not int32"),
        ({}, {"ppg": np.zeros((10, 2), np.int16)}, "ppg must have shape (m,)"),
        ({}, {"sleep_labels": np.array([0, 5], np.int8)}, "sleep_labels[1] is 5"),
        ({}, {"bogus": np.zeros(1)}, "unexpected arrays bogus"),
        ({}, {"meta": np.array(b"{}")}, "meta must be a JSON string"),
        ({}, {"meta": np.array("{not json")}, "meta is not valid JSON"),
        ({}, {"meta": np.array("[1, 2]")}, "meta must be a JSON object"),
    ],
)
def test_load_names_the_file_and_the_problem(tmp_path: Path, meta: dict, arrays: dict, message: str) -> None:
    path = write_npz(tmp_path / "bad.vrec", meta, arrays)
    with pytest.raises(RecordingFormatError) as err:
        Recording.load(path)
    assert str(err.value).startswith(f"{path}: ") and message in str(err.value), str(err.value)


def test_load_refuses_missing_arrays_and_non_archives(tmp_path: Path) -> None:
    path = tmp_path / "partial.vrec"
    with open(path, "wb") as f:
        np.savez(f, accel=np.zeros((1, 3), np.int16))
    with pytest.raises(RecordingFormatError, match="missing arrays: ppg, meta"):
        Recording.load(path)
    text = tmp_path / "night.csv"
    text.write_text("t,x,y,z\n")
    with pytest.raises(RecordingFormatError, match=r"not a vigil recording \(expected a .npz archive"):
        Recording.load(text)
    with pytest.raises(RecordingFormatError, match="no such recording file"):
        Recording.load(tmp_path / "absent.vrec")


def test_load_never_unpickles(tmp_path: Path) -> None:
    path = tmp_path / "pickled.vrec"
    with open(path, "wb") as f:
        np.savez(f, accel=np.array([object()], dtype=object), ppg=np.zeros(0, np.int16), meta=np.array("{}"))
    with pytest.raises(RecordingFormatError, match="not a vigil recording"):
        Recording.load(path)


# ---------------------------------------------------------------- excerpts


def test_excerpt_cuts_both_channels_on_the_same_time() -> None:
    rec = sample_recording(120, ppg_rate=128)
    part = rec.excerpt(30.0, 45.0)
    np.testing.assert_array_equal(part.accel, rec.accel[1500:3750])
    np.testing.assert_array_equal(part.ppg, rec.ppg[30 * 128 : 75 * 128])
    assert part.duration_s == 45.0
    assert part.meta["start_time"] == "2024-01-02T03:04:35Z"
    assert part.meta["excerpt"] == {"start_s": 30.0, "duration_s": 45.0}
    assert rec.meta["start_time"] == "2024-01-02T03:04:05Z"  # the original is untouched


def test_excerpt_rounds_the_start_to_the_accelerometer_grid() -> None:
    rec = sample_recording(60, ppg_rate=100)
    part = rec.excerpt(10.013, 5.0)  # -> 10.02 s = accel sample 501, PPG sample 1002
    np.testing.assert_array_equal(part.accel, rec.accel[501:751])
    np.testing.assert_array_equal(part.ppg, rec.ppg[1002:1502])
    assert part.meta["excerpt"]["start_s"] == 10.02


def test_excerpt_keeps_the_labels_of_whole_epochs_inside() -> None:
    rec = sample_recording(120)  # labels 0, 1, 2, -1 at 0, 30, 60, 90 s
    part = rec.excerpt(30.0, 60.0)
    np.testing.assert_array_equal(part.sleep_labels, [1, 2])
    assert part.meta["sleep_labels_start_s"] == 0.0
    part = rec.excerpt(15.0, 90.0)  # epochs 30-60 and 60-90 lie inside 15-105
    np.testing.assert_array_equal(part.sleep_labels, [1, 2])
    assert part.meta["sleep_labels_start_s"] == 15.0
    assert rec.excerpt(40.0, 20.0).sleep_labels is None  # no whole epoch inside


def test_excerpt_of_an_excerpt_adds_offsets() -> None:
    rec = sample_recording(120)
    part = rec.excerpt(30.0).excerpt(30.0, 30.0)
    assert part.meta["excerpt"] == {"start_s": 60.0, "duration_s": 30.0}
    np.testing.assert_array_equal(part.accel, rec.accel[3000:4500])


def test_excerpt_past_the_end_is_shortened_with_a_warning() -> None:
    rec = sample_recording(60)
    with pytest.warns(ConversionWarning, match="asked for 100 s from 30 s; the recording has only 30.000 s"):
        part = rec.excerpt(30.0, 100.0)
    assert part.duration_s == 30.0 and part.meta["warnings"]


@pytest.mark.parametrize("start, duration", [(-1.0, None), (60.0, None), (1e9, 1.0), (0.0, 0.0), (0.0, -5.0)])
def test_excerpt_refuses_impossible_spans(start: float, duration: float | None) -> None:
    with pytest.raises(VigilError):
        sample_recording(60).excerpt(start, duration)


def test_epoch_labels_follow_the_device_epoch_grid() -> None:
    rec = sample_recording(150)
    rec.sleep_labels = np.array([0, 1, 2], np.int8)
    rec.meta["sleep_labels_start_s"] = 60.0
    np.testing.assert_array_equal(rec.epoch_labels(), [-1, -1, 0, 1, 2])
    rec.meta["sleep_labels_start_s"] = 45.0
    with pytest.raises(VigilError, match="not on the 30-s epoch grid"):
        rec.epoch_labels()


def test_time_helpers() -> None:
    assert iso_utc(1560279825) == "2019-06-11T19:03:45Z"
    assert iso_utc(1560279825.5) == "2019-06-11T19:03:45.500000Z"
    assert shift_iso("2019-06-11T19:03:45Z", 30) == "2019-06-11T19:04:15Z"


def test_summary_counts_labels() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        summary = sample_recording(120).summary()
    assert summary["label_counts"] == {"unscored": 1, "wake": 1, "NREM": 1, "REM": 1}
    assert summary["accel_samples"] == 6000 and summary["ppg_samples"] == 7680


def test_a_recording_that_cannot_be_written_is_one_clear_error(tmp_path: Path) -> None:
    rec = sample_recording()
    with pytest.raises(VigilError, match=r"missing/x.vrec: cannot write the recording \(No such file or directory\)"):
        rec.save(tmp_path / "missing" / "x.vrec")
    assert list(tmp_path.iterdir()) == []  # nothing half-written left behind
