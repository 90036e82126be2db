"""The context sleep model (vigil.ml.sleep_context), its references (van Hees, movement features), a night's sleep
statistics, and `vigil evaluate --data` on unseen real nights (which skip without ../shared/data)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from vigil.ml.night_statistics import night_statistics, paired_statistics
from vigil.ml.sleep_references import van_hees_sleep

ICHI = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "ichi2014_train"


def test_night_statistics_by_hand() -> None:
    # the span is epochs 1..9 (-1 outside); sleep onset at epoch 3, last sleep epoch 8, REM first at epoch 7
    stages = np.array([-1, 0, 0, 1, 1, 0, 1, 2, 2, 0, -1])
    s = night_statistics(stages)
    assert s["time_in_bed_min"] == 4.5 and s["tst_min"] == 2.5
    assert s["sleep_onset_latency_min"] == 1.0 and s["waso_min"] == 0.5 and s["rem_latency_min"] == 2.0
    assert s["sleep_efficiency"] == round(2.5 / 4.5, 4)
    assert s["stage_percent"] == {"wake": round(400 / 9, 2), "nrem": 60.0, "rem": 40.0}
    never = night_statistics(np.array([0, 0, 0]))
    assert never["tst_min"] == 0 and never["sleep_onset_latency_min"] == 1.5 and never["rem_latency_min"] is None
    assert night_statistics(np.array([-1, -1]))["tst_min"] is None


def test_paired_statistics_compare_on_shared_epochs() -> None:
    truth = np.array([0, 0, 1, 1, 1, 1, 0, 1])
    predicted = np.array([-1, 0, 0, 1, 1, 0, 0, 1])  # epoch 0 undecided: left out of both
    p = paired_statistics(truth, predicted)
    assert p["psg"]["tst_min"] == 2.5 and p["predicted"]["tst_min"] == 1.5
    assert p["errors"]["tst_error_min"] == -1.0
    assert p["errors"]["sleep_onset_latency_error_min"] == 0.5 and p["errors"]["waso_error_min"] == 0.5
    with pytest.raises(ValueError, match="same epochs"):
        paired_statistics(truth, predicted[:-1])


def test_van_hees_still_wrist_sleeps_and_turning_wrist_wakes() -> None:
    minutes = 20
    t = np.arange(minutes * 60 * 50)
    accel = np.zeros((len(t), 3))
    accel[:, 2] = 1000.0
    # the first 8 minutes the wrist tilts by 30 degrees every 10 s: awake
    moving = t < 8 * 60 * 50
    tilt = np.radians(np.where((t // 500) % 2 == 0, 0.0, 30.0))
    accel[moving, 0] = 1000.0 * np.sin(tilt[moving])
    accel[moving, 2] = 1000.0 * np.cos(tilt[moving])
    asleep = van_hees_sleep(accel, minutes * 2)
    # minute 8's first 5-s step still turns the wrist back (30 -> 0 degrees): sleep starts with minute 9
    assert not asleep[: 9 * 2].any() and asleep[9 * 2 :].all()
    # a still spell shorter than 5 minutes is not sleep
    short = accel.copy()
    short[8 * 60 * 50 : 12 * 60 * 50, 0] = 1000.0 * np.sin(np.radians(30.0)) * ((t[8 * 3000 : 12 * 3000] // 500) % 2)
    assert not van_hees_sleep(short, minutes * 2)[: 12 * 2].any()


def separable_contexts(n: int = 1200, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Context rows whose activity codes tell the class (wake high, NREM low, REM middle), four groups."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 3, n)
    level = np.array([200, 20, 110])[labels]
    codes = np.clip(level[:, None] + rng.normal(0, 25, (n, 216)), 0, 255).astype(np.int64)
    codes[0, 0], codes[1, 1] = 0, 255
    return (codes - 128).astype(np.int8), labels, np.arange(n) % 4


def test_context_model_learns_and_its_int8_model_takes_the_device_bytes() -> None:
    from vigil.export.tflite import tflm_reference
    from vigil.ml.sleep_context import SleepContextModel, predict_context_int8

    x, y, groups = separable_contexts()
    model = SleepContextModel(epochs=60, seed=1).fit(x, y, groups)
    assert model.input_quant_ == (1.0, -128) and model.output_quant_ == (1 / 256, -128)
    out = model.predict_int8(x)
    assert out.dtype == np.int8 and out.shape == (len(x), 3)
    assert np.array_equal(out, np.asarray(tflm_reference(model.tflite_, x)).reshape(len(x), 3))
    assert np.array_equal(out, predict_context_int8(model.tflite_, x))
    assert (model.predict(x) == y).mean() > 0.9
    # the normalisation folded into the first layer: the float model on raw codes agrees with the int8 model
    floats = np.asarray(model.keras_model_(x.astype(np.float32) + 128.0, training=False))
    assert (np.argmax(floats, axis=1) == model.predict(x)).mean() > 0.97


def test_context_model_refuses_what_it_cannot_learn() -> None:
    from vigil.errors import VigilError
    from vigil.ml.sleep_context import SleepContextModel

    x, y, _ = separable_contexts(30)
    with pytest.raises(VigilError, match="int8 context inputs"):
        SleepContextModel(epochs=1).fit(x.astype(np.int16), y)
    with pytest.raises(VigilError, match="at least two"):
        SleepContextModel(epochs=1).fit(x, np.zeros(len(x), dtype=np.int64))


@pytest.fixture(scope="module")
def ichi_folders(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """Three patients to train on, one other night to score."""
    if not ICHI.is_dir():
        pytest.skip("../shared/data is absent")
    root = tmp_path_factory.mktemp("ichi")
    train, unseen = root / "train", root / "unseen"
    train.mkdir(), unseen.mkdir()
    for name in ("p002", "p011", "p017"):
        (train / f"{name}.npy").symlink_to(ICHI / f"{name}.npy")
    (unseen / "p021.npy").symlink_to(ICHI / "p021.npy")
    return train, unseen


def test_train_context_on_real_nights_then_evaluate_unseen_night(ichi_folders, tmp_path: Path) -> None:
    from vigil.cli import cli
    from vigil.data.ichi import load_ichi
    from vigil.ml.night_statistics import paired_statistics
    from vigil.ml.sleep import sleep_metrics
    from vigil.ml.sleep_context import predict_context_int8, recording_context

    train, unseen = ichi_folders
    out = tmp_path / "sleep"
    runner = CliRunner()
    res = runner.invoke(cli, ["train", "sleep", "--data", str(train), "--from", "ichi", "--protocol", "loso",
                              "--epochs", "3", "--out", str(out), "--json"])  # fmt: skip
    assert res.exit_code == 0, res.output
    manifest = json.loads(res.output)
    assert manifest["kind"] == "vigil-sleep-context" and manifest["input"]["shape"] == [1, 216]
    assert manifest["input"]["delay_epochs"] == 6 and manifest["subjects"] == ["p002", "p011", "p017"]
    metrics = json.loads((out / "metrics.json").read_text())
    refs = metrics["evaluation"]["references"]
    assert set(refs) == {"van_hees_2015", "random_forest_movement"} and 0.5 <= refs["van_hees_2015"]["accuracy"] <= 1

    res = runner.invoke(cli, ["evaluate", str(out), "--data", str(unseen), "--from", "ichi", "--json"])
    assert res.exit_code == 0, res.output
    report = json.loads(res.output)
    for key in ("accuracy", "kappa", "tst_error_min_mean"):
        assert isinstance(report[key], float)
    assert set(report["sleep_wake"]) >= {"accuracy", "kappa", "auc", "wake_correct_at_90_sleep_correct"}
    # the figures are the device's outputs (twin + TFLM) against the PSG, recomputed here
    rec = load_ichi(unseen / "p021.npy")
    inputs, labels = recording_context(rec)
    outputs = predict_context_int8((out / "sleep_context.tflite").read_bytes(), inputs)
    scored = labels >= 0
    expected = sleep_metrics(labels[scored].astype(np.int64), outputs[scored])
    assert report["kappa"] == expected["kappa"] and report["sleep_wake"] == expected["sleep_wake"]
    night = report["per_night"][0]
    predicted = np.full(len(rec.epoch_labels()), -1)
    predicted[: len(outputs)] = np.argmax(outputs, axis=1)
    assert night["errors"] == paired_statistics(rec.epoch_labels(), predicted)["errors"]
    assert report["tst_error_min_mean"] == abs(night["errors"]["tst_error_min"])

    res = runner.invoke(cli, ["evaluate", str(out), "--data", str(unseen)])
    assert res.exit_code == 0 and "per night" in res.output and "p021" in res.output


def test_evaluate_data_refuses_a_protocol_and_synthetic_data(tmp_path: Path) -> None:
    from vigil.cli import cli

    folder = tmp_path / "m"
    folder.mkdir()
    (folder / "manifest.json").write_text(json.dumps({"kind": "vigil-stress-trio"}))
    res = CliRunner().invoke(cli, ["evaluate", str(folder), "--data", str(tmp_path)])
    # a stress folder scores WESAD subjects: a folder without them is named, in one line
    assert res.exit_code != 0 and "expected WESAD's folder layout" in res.output and "Traceback" not in res.output


def test_evaluate_without_data_reruns_the_context_folder_s_protocol(tmp_path: Path) -> None:
    from vigil.cli import cli

    out = tmp_path / "ctx"
    runner = CliRunner()
    res = runner.invoke(cli, ["train", "sleep", "--data", "synthetic", "--subjects", "2", "--hours", "1.5",
                              "--protocol", "loso", "--epochs", "2", "--out", str(out), "--json"])  # fmt: skip
    assert res.exit_code == 0, res.output
    assert json.loads(res.output)["settings"]["awake_day_hours_per_activity_and_seed"] > 0
    trained = json.loads((out / "metrics.json").read_text())["evaluation"]
    res = runner.invoke(cli, ["evaluate", str(out), "--json"])
    assert res.exit_code == 0, res.output
    again = json.loads(res.output)
    assert again["protocol"] == "loso" and again["folds"] == trained["folds"] == 2 and again["n"] == trained["n"]
    assert set(again["references"]) == {"van_hees_2015", "random_forest_movement"}
    assert len(again["per_night"]) == 2 and again["awake_day_epochs_in_training"] > 0


def test_the_committed_sleep_model_is_the_ichi_context_model_and_exports_into_a_bundle(tmp_path: Path) -> None:
    """models/sleep: the context model trained on the ICHI nights, every file as its manifest's SHA-256 says, and the
    bundle takes it again."""
    from vigil.bundle.model_bundle import export_bundle, read_bundle_manifest
    from vigil.ml.sleep_context_io import read_context_manifest

    root = Path(__file__).resolve().parents[1] / "models"
    manifest = read_context_manifest(root / "sleep")
    assert manifest["data"]["kind"] == "ichi" and manifest["settings"]["ignored_features"] == ["elapsed_min"]
    assert manifest["input"]["shape"] == [1, 216] and manifest["summary"]["sleep_wake_kappa"] > 0.3
    assert manifest["data"]["dataset"] == "ichi2014_train" and manifest["data"]["nights"] == 31
    export_bundle(tmp_path, root / "sleep", root / "stress", None, None, False)
    assert read_bundle_manifest(tmp_path)["sleep"]["kind"] == "vigil-sleep-context"
