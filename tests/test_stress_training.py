"""The stress trio on the host: HRV CSV loader, synthetic stress data from the twins, splitters, scaler,
consensus weights, metrics, the proposal's dataset figures, and the train / evaluate commands."""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from vigil.data.hrv_csv import FEATURE_NAMES, HrvDataset, load_hrv_csv, save_hrv_csv, session_groups
from vigil.errors import VigilError
from vigil.ml import protocols
from vigil.ml.metrics import classification_metrics, confusion_matrix, metrics_from_confusion
from vigil.ml.stress import FeatureScaler, choose_weights, evaluate_stress, fit_stress_trio

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
POTGIETER = SHARED_DATA / "potgieter_hrv_segments.csv"
POTGIETER_NEW = SHARED_DATA / "potgieter_new.csv"
needs_potgieter = pytest.mark.skipif(not POTGIETER.exists(), reason="../shared/data/potgieter_hrv_segments.csv absent")

GOOD_ROW = "07:16:37 25-08-15,74.393829,25.203703,1.883951,1.710125,16.666666,22.222221,relax\n"


def toy_dataset(n_groups: int = 4, per_group: int = 30, seed: int = 0) -> HrvDataset:
    """Rows one minute apart within each group; class 1 has a higher AVHR."""
    rng = np.random.default_rng(seed)
    n = n_groups * per_group
    labels = np.tile(np.repeat([0, 1], per_group // 2), n_groups)
    feats = rng.normal(0, 1, (n, 6)) * 500 + 5000
    feats[:, 0] += labels * 800
    groups = np.repeat(np.arange(n_groups), per_group)
    times = groups * 1_000_000 + np.tile(np.arange(per_group) * 60, n_groups)
    return HrvDataset(feats.astype(np.int32), labels.astype(np.int64), times.astype(np.int64), groups, {"kind": "toy"})


# ---------------------------------------------------------------- loader


@needs_potgieter
def test_potgieter_units_groups_and_first_row() -> None:
    raw = np.loadtxt(POTGIETER, delimiter=",", usecols=(1, 2))
    assert np.allclose(raw[:, 0] * raw[:, 1], 1875.0, atol=1e-3)  # the file's own relation, 32-ms samples
    ds = load_hrv_csv(POTGIETER)
    assert ds.source["layout"] == "potgieter" and len(ds) == 300
    assert ds.features.dtype == np.int32 and np.bincount(ds.labels).tolist() == [143, 157]
    # in device units (0.01 bpm x 0.01 ms) the relation is 60000 ms per minute, to rounding
    product = ds.features[:, 0].astype(np.int64) * ds.features[:, 1]
    assert np.max(np.abs(product - 60000 * 100 * 100)) / 6e8 < 1e-4
    assert ds.features[0].tolist() == [7439, 80652, 6029, 5472, 1667, 2222]  # 25.203703 x 32 ms = 806.52 ms
    assert np.bincount(ds.groups).tolist() == [50, 23, 9, 30, 9, 9, 28, 55, 87]
    assert ds.timestamps[73] == 1438399680  # "1/8/2015 3:28" is 1 August 2015


@pytest.mark.skipif(not POTGIETER_NEW.exists(), reason="../shared/data/potgieter_new.csv absent")
def test_potgieter_new_layout() -> None:
    ds = load_hrv_csv(POTGIETER_NEW)
    assert ds.source["layout"] == "potgieter-new" and len(ds) == 10
    assert ds.labels.tolist() == [1, 0, 0, 0, 1, 0, 1, 0, 1, 0]
    product = ds.features[:, 0].astype(np.int64) * ds.features[:, 1]
    assert np.max(np.abs(product - 6e8)) / 6e8 < 1e-4  # AVRR from 25-ms samples, in ms
    assert ds.features[0].tolist() == [6866, 87385, 13448, 6156, 3900, 8200]
    assert np.all(ds.features[:, 5] >= ds.features[:, 4])  # pNN20 >= pNN50


@pytest.mark.parametrize(
    "bad, expected",
    [
        ("07:16:37 25-08-15,74.39,25.2,1.88,1.71,16.6,22.2\n", "expected 8 columns"),
        ("07:16:37 25-08-15,74.39,abc,1.88,1.71,16.6,22.2,relax\n", "expected AVRR (32-ms samples) as a number in column 3"),
        ("07:16:37 25-08-15,74.39,25.2,1.88,1.71,16.6,22.2,calm\n", "expected a label relax/stress or 0/1 in column 8"),
        ("25-08-15 07:16,74.39,25.2,1.88,1.71,16.6,22.2,relax\n", "expected a time 'hh:mm:ss dd-mm-yy'"),
        ("07:16:37 25-08-15,-74.39,25.2,1.88,1.71,16.6,22.2,relax\n", "expected AVHR (bpm) as a positive"),
        ("07:16:37 25-08-15,1e30,25.2,1.88,1.71,16.6,22.2,relax\n", "expected AVHR (bpm) of at most 21474836 in column 2"),
        ("07:16:37 25-08-15,74.39,25.2,1e8,1.71,16.6,22.2,relax\n", "of at most 21474836 in column 4"),
    ],
)
def test_bad_line_names_file_and_line(tmp_path: Path, bad: str, expected: str) -> None:
    path = tmp_path / "hrv.csv"
    path.write_text(GOOD_ROW + GOOD_ROW + bad + GOOD_ROW)
    with pytest.raises(VigilError) as err:
        load_hrv_csv(path)
    assert str(err.value).startswith(f"{path}:3: expected")
    assert expected in str(err.value)


def test_header_layout_round_trip_and_missing_column(tmp_path: Path) -> None:
    ds = toy_dataset()
    save_hrv_csv(ds, tmp_path / "toy.csv")
    back = load_hrv_csv(tmp_path / "toy.csv")
    assert back.source["layout"] == "header"
    for name in ("features", "labels", "timestamps", "groups"):
        assert np.array_equal(getattr(back, name), getattr(ds, name)), name
    (tmp_path / "bad.csv").write_text("time,avhr_bpm,avrr_ms,label\n0,70,857,relax\n")
    with pytest.raises(VigilError, match=r"bad.csv:1: expected header columns .* missing sdrr_ms"):
        load_hrv_csv(tmp_path / "bad.csv")


def test_sessions_split_on_new_days_but_not_across_midnight() -> None:
    day = 86400
    t = np.array([10 * day + 7 * 3600, 10 * day + 16 * 3600, 11 * day - 300, 11 * day + 300, 12 * day + 5])
    assert session_groups(t).tolist() == [0, 0, 0, 0, 1]


# ---------------------------------------------------------------- synthetic data from the twins


def test_synthetic_stress_data_from_the_twins() -> None:
    from vigil.data.synthetic import synthetic_session
    from vigil.data.synthetic_stress import PPG_RATE_HZ, synthetic_stress_dataset
    from vigil.dsp.accel import wrist_motion
    from vigil.dsp.ppg import ppg_chain

    started = time.monotonic()
    ds = synthetic_stress_dataset(subjects=2, sessions_per_condition=1, session_s=240, seed=3)
    assert time.monotonic() - started < 5
    assert set(ds.groups.tolist()) == {0, 1} and set(ds.labels.tolist()) == {0, 1}
    assert ds.features.dtype == np.int32 and np.all(ds.features[:, 0] > 4000)  # AVHR > 40 bpm
    # the first row is exactly the twin's first valid segment of subject 0's first session
    from vigil.data.synthetic_stress import DIFFICULTY, session_levels

    y, level = session_levels(0, 1, DIFFICULTY["moderate"], 3)[0]
    rec = synthetic_session(240, 300000, ppg_rate_hz=PPG_RATE_HZ, stress=level, difficulty="moderate")
    first = next(s for s in ppg_chain(rec.ppg, PPG_RATE_HZ, motion=wrist_motion(rec.accel))[2] if s.valid)
    assert ds.features[0].tolist() == [getattr(first, k) for k in FEATURE_NAMES] and ds.labels[0] == y


# ---------------------------------------------------------------- splitters


@pytest.mark.parametrize("name", protocols.PROTOCOLS)
def test_splitters_partition_rows_and_never_leak_units(name: str) -> None:
    ds = toy_dataset(n_groups=5, per_group=40)
    folds = protocols.folds(ds, name, seed=1)
    tested = np.concatenate([f.test for f in folds])
    assert sorted(tested.tolist()) == list(range(len(ds)))  # every row tested exactly once
    units = protocols.units(ds, name)
    for f in folds:
        assert not set(f.train) & set(f.test)
        assert not set(units[f.train]) & set(units[f.test])  # no block / group on both sides
        if name == "loso":
            assert len(set(ds.groups[f.test])) == 1 and ds.groups[f.test][0] not in ds.groups[f.train]
    assert len(folds) == {"kfold20": 20, "blocks": protocols.BLOCK_FOLDS, "loso": 5}[name]


def test_blocks_are_contiguous_time_within_one_group() -> None:
    ds = toy_dataset(n_groups=3, per_group=40)
    ids = protocols.block_ids(ds)
    for b in np.unique(ids):
        rows = ids == b
        assert len(set(ds.groups[rows])) == 1
        assert np.ptp(ds.timestamps[rows]) < protocols.BLOCK_S
    assert len(np.unique(ids)) == 3 * 4  # 40 minutes -> four 10-minute blocks per group


def test_holdout_keeps_units_whole() -> None:
    units = np.repeat(np.arange(12), 5)
    labels = np.tile([0, 1], 30)
    split = protocols.holdout(units, labels, 0.25, seed=2)
    assert not set(units[split.train]) & set(units[split.test])
    assert len(split.test) == 15


# ---------------------------------------------------------------- metrics


def test_metrics_on_a_hand_checked_confusion_matrix() -> None:
    y_true = np.array([0] * 60 + [1] * 40)
    y_pred = np.array([0] * 50 + [1] * 10 + [0] * 5 + [1] * 35)
    cm = confusion_matrix(y_true, y_pred)
    assert cm.tolist() == [[50, 10], [5, 35]]
    m = classification_metrics(y_true, y_pred)
    assert m["accuracy"] == pytest.approx(85 / 100)
    assert m["precision"] == pytest.approx(35 / 45)
    assert m["sensitivity"] == pytest.approx(35 / 40)
    assert m["specificity"] == pytest.approx(50 / 60)
    assert m["f1"] == pytest.approx(2 * 35 / (2 * 35 + 10 + 5))
    # three classes: macro averages of one-vs-rest
    cm3 = np.array([[5, 1, 0], [2, 6, 2], [0, 0, 4]])
    m3 = metrics_from_confusion(cm3)
    assert m3["accuracy"] == pytest.approx(15 / 20)
    assert m3["precision"] == pytest.approx(np.mean([5 / 7, 6 / 7, 4 / 6]))
    assert m3["sensitivity"] == pytest.approx(np.mean([5 / 6, 6 / 10, 4 / 4]))
    assert m3["specificity"] == pytest.approx(np.mean([12 / 14, 9 / 10, 14 / 16]))
    assert metrics_from_confusion(np.zeros((2, 2), int))["f1"] == 0.0


# ---------------------------------------------------------------- scaler and consensus


class ReadsColumn:
    """A fake model: P(stress) = 1 where scaled column `col` > 0.5 (optionally inverted where column 5 > 0.5)."""

    def __init__(self, col: int, invert_on_flag: bool = False, constant: float | None = None) -> None:
        self.col, self.invert_on_flag, self.constant = col, invert_on_flag, constant

    def fit(self, X: np.ndarray, y: np.ndarray) -> "ReadsColumn":
        return self

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        if self.constant is not None:
            p = np.full(len(X), self.constant)
        else:
            p = (X[:, self.col] > 0.5).astype(float)
            if self.invert_on_flag:
                p = np.where(X[:, 5] > 0.5, 1 - p, p)
        return np.stack([1 - p, p], axis=1)


def test_scaler_standardize_then_minmax_is_one_affine_map() -> None:
    ds = toy_dataset()
    s = FeatureScaler().fit(ds.features)
    z = s.transform(ds.features)
    assert np.allclose(z.min(axis=0), 0) and np.allclose(z.max(axis=0), 1)
    assert np.allclose(z, ds.features * s.scale_ + s.offset_)
    assert np.allclose(FeatureScaler.from_dict(json.loads(json.dumps(s.to_dict()))).transform(ds.features), z)


def test_scaler_is_fitted_on_training_rows_only() -> None:
    ds = toy_dataset(n_groups=4)
    ds.features[ds.groups == 3] += 20000  # a group far from the others: leaks if the scaler ever sees it
    models = lambda seed: {"tree": ReadsColumn(0), "svm": ReadsColumn(0), "nn": ReadsColumn(0)}  # noqa: E731
    report = evaluate_stress(ds, "loso", make_models=models)
    for fold, test_group in zip(report["per_fold"], range(4)):
        train = ds.features[ds.groups != test_group].astype(np.float64)
        assert np.allclose(fold["scaler"]["mean"], train.mean(axis=0))
        assert np.allclose(fold["scaler"]["std"], train.std(axis=0))


def test_consensus_weights_never_see_the_test_fold() -> None:
    """Model "tree" is right on training rows and wrong on the test fold; "svm" the other way round. Weights
    chosen on validation data (part of the training rows) favour tree, so the consensus is always wrong on the
    test fold; had they been chosen on the test fold they would favour svm and be always right."""
    ds = toy_dataset(n_groups=2, per_group=40)
    ds.features[:, 1] = ds.labels * 1000  # column 1 = the label
    test = np.flatnonzero(ds.groups == 1)
    ds.features[:, 5] = 0
    ds.features[test, 5] = 1000  # column 5 flags the test rows
    train = np.flatnonzero(ds.groups == 0)

    def one_fold(_: HrvDataset) -> list[protocols.Fold]:
        return [protocols.Fold(train, test)]

    tree = ReadsColumn(1, invert_on_flag=True)  # right on training rows, wrong on the flagged test rows
    models_fn = lambda seed: {"tree": tree, "svm": _Opposite(tree), "nn": ReadsColumn(0, constant=0.5)}  # noqa: E731
    report = evaluate_stress(ds, one_fold, make_models=models_fn)
    weights = report["per_fold"][0]["weights"]
    assert weights[0] > weights[1]
    assert report["models"]["tree"]["accuracy"] == 0.0 and report["models"]["svm"]["accuracy"] == 1.0
    assert report["models"]["consensus"]["accuracy"] == 0.0
    # the search itself does pick svm when shown the test fold's rows
    probas = np.stack([m.predict_proba(FeatureScaler().fit(ds.features[train]).transform(ds.features[test]))
                       for m in models_fn(0).values()])  # fmt: skip
    assert choose_weights(probas, ds.labels[test])[1] > choose_weights(probas, ds.labels[test])[0]


class _Opposite(ReadsColumn):
    def __init__(self, other: ReadsColumn) -> None:
        self.other = other

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        return self.other.predict_proba(X)[:, ::-1]


# ---------------------------------------------------------------- the trio with its int8 NN


def test_trio_on_synthetic_data_runs_the_int8_nn_through_tflm() -> None:
    from vigil.data.synthetic_stress import synthetic_stress_dataset

    ds = synthetic_stress_dataset(subjects=4, sessions_per_condition=2)
    trio = fit_stress_trio(ds.features, ds.labels, ds.groups, nn_epochs=60)
    out = trio.predict(ds.features)
    assert set(out) == {"tree", "svm", "nn", "consensus", "equal_weights", "unanimous"}
    nn = trio.models["nn"]
    logits = nn.logits_int8(trio.scaler.transform(ds.features))
    assert logits.dtype == np.int8 and np.array_equal(out["nn"], np.argmax(logits, axis=1))
    keras_pred = np.argmax(nn.keras_model.predict(trio.scaler.transform(ds.features).astype(np.float32), verbose=0), 1)
    assert np.mean(keras_pred == out["nn"]) >= 0.95  # int8 and float agree on almost every row
    assert np.mean(out["consensus"] == ds.labels) > 0.8
    assert np.all(out["unanimous"] <= out["consensus"])  # unanimous stress implies the weighted vote says stress
    assert np.isclose(sum(trio.weights), 1.0)


# ---------------------------------------------------------------- the proposal's dataset
# Measured (seed 0, 120 epochs; `python -m vigil.cli evaluate DIR --protocol P`), accuracy / F1:
#   kfold20: tree 0.827/0.821  svm 0.823/0.826  nn 0.830/0.829  consensus 0.833/0.830  equal weights 0.847/0.841
#   blocks:  tree 0.740/0.742  svm 0.830/0.833  nn 0.777/0.777  consensus 0.793/0.792  equal weights 0.797/0.796
# (tree and SVM class-balanced since issue 13; before: consensus 0.840 k-fold, 0.803 blocks)
# (the proposal: logistic baseline 0.782, equal-weight ensemble 0.823, adjusted 0.830, F1 about 0.77-0.78)
# The consensus floor under kfold20 is issue 13's: the proposal's file keeps its 20-fold figure (>= 0.83).
FLOORS = {
    "kfold20": {"tree": 0.80, "svm": 0.80, "nn": 0.80, "consensus": 0.83},
    "blocks": {"tree": 0.73, "svm": 0.80, "nn": 0.75, "consensus": 0.78},
}


@needs_potgieter
@pytest.mark.slow
@pytest.mark.parametrize("protocol", ["kfold20", "blocks"])
def test_proposal_dataset_figures(protocol: str) -> None:
    report = evaluate_stress(load_hrv_csv(POTGIETER), protocol)
    for model, floor in FLOORS[protocol].items():
        m = report["models"][model]
        assert m["accuracy"] >= floor, (model, m["accuracy"])
        assert m["f1"] >= floor - 0.01, (model, m["f1"])
    assert report["models"]["unanimous"]["specificity"] >= 0.88  # the false-alarm rule


# ---------------------------------------------------------------- commands


def test_train_then_evaluate_commands(tmp_path: Path) -> None:
    from vigil.cli import cli
    from vigil.data.synthetic_stress import synthetic_stress_dataset

    data = tmp_path / "small.csv"
    save_hrv_csv(synthetic_stress_dataset(subjects=3, sessions_per_condition=2, session_s=300), data)
    out = tmp_path / "trio"
    runner = CliRunner()
    res = runner.invoke(cli, ["train", "stress", "--data", str(data), "--protocol", "loso", "--nn-epochs", "40",
                              "--out", str(out), "--json"])  # fmt: skip
    assert res.exit_code == 0, res.output
    manifest = json.loads(res.stdout)
    assert manifest["data"]["layout"] == "header" and manifest["settings"]["protocol"] == "loso"
    for name in ("stress_tree.joblib", "stress_svm.joblib", "stress_nn.keras", "stress_nn.tflite",
                 "stress_scaler.json", "stress_consensus.json", "metrics.json"):  # fmt: skip
        assert (out / name).exists() and name in manifest["files"]
    res = runner.invoke(cli, ["evaluate", str(out), "--json"])
    assert res.exit_code == 0, res.output
    report = json.loads(res.stdout)
    assert report["folds"] == 3 and report["models"] == json.loads((out / "metrics.json").read_text())["models"]
    res = runner.invoke(cli, ["evaluate", str(tmp_path)])
    assert res.exit_code == 1 and "no manifest" in res.output


@needs_potgieter
def test_kfold20_on_the_proposal_file_is_reported_beside_the_proposal_figures(capsys: pytest.CaptureFixture) -> None:
    from vigil.console import print_stress_metrics
    from vigil.ml.stress_io import with_proposal_reference

    dataset = load_hrv_csv(POTGIETER)
    row = {"accuracy": 0.84, "precision": 0.9, "sensitivity": 0.8, "specificity": 0.9, "f1": 0.84}
    report = {"folds": 20, "seconds": 1.0, "models": {"consensus": row}}
    assert "proposal_reference" not in with_proposal_reference(dict(report), dataset, "blocks")
    reference = with_proposal_reference(report, dataset, "kfold20")["proposal_reference"]
    assert reference["accuracy"] == {"logistic regression": 0.782, "equal-weight vote": 0.823, "adjusted-weight vote": 0.830}
    print_stress_metrics(report, "t")
    out = capsys.readouterr().out
    assert "proposal: adjusted-weight vote" in out and "0.830" in out and "0.840" in out
    synthetic = HrvDataset(dataset.features, dataset.labels, dataset.timestamps, dataset.groups, {"kind": "synthetic"})
    assert "proposal_reference" not in with_proposal_reference({"models": {}}, synthetic, "kfold20")


def test_a_random_kfold_figure_comes_with_the_block_wise_one_beside_it(tmp_path: Path) -> None:
    """`vigil train stress --protocol kfold20` (and `vigil evaluate` of such a folder) also hold out whole 10-minute
    blocks and print them beside: neighbouring minutes on both sides of a random split flatter a model."""
    from vigil.cli import cli
    from vigil.data.synthetic_stress import synthetic_stress_dataset

    data = tmp_path / "small.csv"
    save_hrv_csv(synthetic_stress_dataset(subjects=3, sessions_per_condition=2, session_s=600), data)
    out = tmp_path / "trio"
    res = CliRunner().invoke(cli, ["train", "stress", "--data", str(data), "--protocol", "kfold20", "--nn-epochs", "5",
                                   "--out", str(out)])  # fmt: skip
    assert res.exit_code == 0, res.output
    assert "blocks: consensus" in res.output and "consensus" in res.output
    metrics = json.loads((out / "metrics.json").read_text())
    beside = metrics["beside"]
    assert beside["protocol"] == "blocks" and beside["folds"] == protocols.BLOCK_FOLDS
    assert beside["rows"] == metrics["rows"] and set(beside["models"]) == set(metrics["models"])
    assert set(beside["models"]["consensus"]) == {"accuracy", "precision", "sensitivity", "specificity", "f1"}
    res = CliRunner().invoke(cli, ["evaluate", str(out), "--protocol", "loso", "--json"])
    assert res.exit_code == 0 and "beside" not in json.loads(res.stdout)  # only a random k-fold gets one


def _relabelled(dataset: HrvDataset, labels: np.ndarray) -> HrvDataset:
    return HrvDataset(dataset.features, np.asarray(labels, dtype=np.int64), dataset.timestamps, dataset.groups,
                      dataset.source)  # fmt: skip


@pytest.mark.parametrize("case", ["one class", "three stress rows", "one subject holds all stress"])
def test_training_refuses_data_it_cannot_learn_from_in_one_line(tmp_path: Path, case: str) -> None:
    from vigil.cli import cli
    from vigil.data.synthetic_stress import synthetic_stress_dataset

    ds = synthetic_stress_dataset(subjects=3, sessions_per_condition=1, session_s=300)
    labels = np.zeros(len(ds), dtype=np.int64)
    if case == "three stress rows":
        labels[:3] = 1
    elif case == "one subject holds all stress":
        labels[ds.groups == ds.groups[0]] = 1
    data = tmp_path / "bad.csv"
    save_hrv_csv(_relabelled(ds, labels), data)
    res = CliRunner().invoke(cli, ["train", "stress", "--data", str(data), "--protocol", "loso", "--nn-epochs", "5",
                                   "--out", str(tmp_path / "trio")])  # fmt: skip
    assert res.exit_code == 1, res.output
    message = res.output.strip()
    assert "Traceback" not in res.output and len(message.splitlines()) == 1, res.output
    assert str(data) in message
    want = "leaves no stress rows" if case == "one subject holds all stress" else "at least 5 of each"
    assert want in message, message
    assert not (tmp_path / "trio").exists()


def test_the_decision_threshold_is_learnt_on_validation_rows_by_balanced_accuracy() -> None:
    """vigil.ml.stress.choose_threshold: stress when the weighted P(stress) is above the threshold; the grid value with
    the best balanced accuracy, the middle of tied ones, 0.5 without both classes."""
    from vigil.ml.stress import choose_threshold

    labels = np.array([0, 0, 0, 0, 1, 1])
    # stress minutes at 0.33 and 0.42: 0.25 and 0.30 separate them from the relax ones (0.20 lets 0.25 in, 0.35 loses one)
    assert choose_threshold(np.array([0.05, 0.10, 0.25, 0.15, 0.33, 0.42]), labels) == 0.25  # of 0.25, 0.30
    assert choose_threshold(np.array([0.1, 0.2, 0.7, 0.9]), np.array([0, 0, 1, 1])) == 0.40  # 0.20-0.60 all tie
    assert choose_threshold(np.array([0.9, 0.8]), np.array([1, 1])) == 0.5  # one class: nothing to choose on
