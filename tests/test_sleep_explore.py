"""`vigil explore sleep` (vigil.ml.sleep_explore: clusters of epochs against PSG stages) and the seed's other sleep
models on the context model's folds (vigil.ml.sleep_baselines), on short synthetic nights."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from sklearn.metrics import adjusted_rand_score

from vigil.ml.sleep_baselines import MODELS, baseline_dataset, evaluate_baselines, image_features
from vigil.ml.sleep_context import ContextDataset, context_dataset, context_folds
from vigil.ml.sleep_data import sleep_recordings
from vigil.ml.sleep_explore import contingency, explore_dataset, purity


@pytest.fixture(scope="module")
def nights() -> ContextDataset:
    source, recordings = sleep_recordings("synthetic", "synthetic", subjects=2, hours=2.0, seed=3)
    return context_dataset(recordings, source)


def vectors_of(table: list[dict], stages: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """One (cluster, stage) pair per epoch counted in a report's contingency table."""
    clusters, labels = [], []
    for i, row in enumerate(table):
        for k, stage in enumerate(stages):
            clusters += [i] * row[stage]
            labels += [k] * row[stage]
    return np.array(clusters), np.array(labels)


def test_purity_and_contingency_by_hand() -> None:
    clusters = np.array([0, 0, 0, 1, 1, 2, 2, 2, 2])
    labels = np.array([0, 0, 1, 2, 2, 1, 1, 0, 2])
    table = contingency(clusters, labels)
    assert table.tolist() == [[2, 1, 0], [0, 0, 2], [1, 2, 1]]
    assert purity(table) == pytest.approx((2 + 2 + 2) / 9)
    assert purity(np.array([[8, 2, 0], [1, 1, 8], [0, 5, 5]])) == pytest.approx(21 / 30)
    assert purity(np.array([[3, 3, 3]])) == pytest.approx(1 / 3)  # one cluster of evenly mixed stages: the floor
    assert purity(np.diag([4, 5, 6])) == 1.0


def test_kmeans_table_covers_every_scored_epoch(nights: ContextDataset) -> None:
    report, arrays = explore_dataset(nights, "kmeans", "movement", clusters=4, seed=1)
    stages = [s.lower() for s in report["stages"]]
    table = report["table"]
    assert len(table) == report["clusters"] == 4 and report["noise"] == 0 and report["subsample"] is None
    assert sum(r["total"] for r in table) == report["epochs_clustered"] == report["epochs_scored"] == len(nights)
    assert all(r["total"] == sum(r[s] for s in stages) for r in table)
    assert report["stage_totals"] == dict(zip(stages, np.bincount(nights.labels, minlength=3).tolist()))
    # purity: each row's largest count, from the table; never below the largest stage's share, nor 1/3
    counts = np.array([[r[s] for s in stages] for r in table])
    assert report["purity"] == pytest.approx(counts.max(axis=1).sum() / len(nights))
    assert 1 / 3 <= report["largest_stage_share"] <= report["purity"] <= 1.0
    # the adjusted Rand index is sklearn's, of the clusters the table counts
    assert report["adjusted_rand_index"] == pytest.approx(adjusted_rand_score(*vectors_of(table, stages)[::-1]))
    assert report["adjusted_rand_index"] == pytest.approx(adjusted_rand_score(arrays["labels"], arrays["cluster"]))
    # clusters are numbered by falling share of wake
    wake = [r["wake"] / r["total"] for r in table]
    assert wake == sorted(wake, reverse=True)
    assert set(table[0]["feature_means"]) >= {"activity", "still_windows"}


def test_optics_on_a_seeded_subsample_and_context_features(nights: ContextDataset) -> None:
    report, _ = explore_dataset(nights, "optics", "context", seed=2, max_points=150)
    again, _ = explore_dataset(nights, "optics", "context", seed=2, max_points=150)
    assert report["subsample"] == {"points": 150, "seed": 2, "of": len(nights)}
    assert report["pca_components"] == 10 and report["feature_count"] == 216
    assert sum(r["total"] for r in report["table"]) == report["epochs_clustered"] == 150
    assert report["noise"] == sum(r["total"] for r in report["table"] if r["cluster"] == "noise")
    assert report["table"] == again["table"]  # the same seed, the same sample and clusters
    assert 1 / 3 <= report["purity"] <= 1.0


def test_cli_json_and_plot(tmp_path: Path) -> None:
    from PIL import Image

    from vigil.cli import cli

    png = tmp_path / "clusters.png"
    res = CliRunner().invoke(cli, ["explore", "sleep", "--data", "synthetic", "--subjects", "2", "--hours", "1.5",
                                   "--method", "kmeans", "--clusters", "3", "--json", "--plot", str(png)])  # fmt: skip
    assert res.exit_code == 0, res.output
    report = json.loads(res.output)
    assert report["method"] == "kmeans" and report["features"] == "movement" and report["nights"] == 2
    assert sum(r["total"] for r in report["table"]) == report["epochs_scored"] > 0
    assert {"purity", "adjusted_rand_index", "stage_totals"} <= set(report) and report["plot"] == str(png)
    with Image.open(png) as img:
        assert img.format == "PNG" and img.size[0] >= 1000 and img.size[1] >= 400
    human = CliRunner().invoke(cli, ["explore", "sleep", "--data", "synthetic", "--subjects", "2", "--hours", "1"])
    assert human.exit_code == 0 and "purity" in human.output and "adjusted Rand index" in human.output


def test_cli_refuses_a_bad_method_and_cluster_count() -> None:
    from vigil.cli import cli

    res = CliRunner().invoke(cli, ["explore", "sleep", "--data", "synthetic", "--method", "dbscan"])
    assert res.exit_code == 2 and "Invalid value for '--method'" in res.output and "kmeans" in res.output
    res = CliRunner().invoke(cli, ["explore", "sleep", "--data", "synthetic", "--clusters", "0"])
    assert res.exit_code == 1 and "--clusters 0" in res.output


def test_image_features_pool_each_bin_over_its_frames() -> None:
    images = np.full((2, 65, 73), -128, dtype=np.int8)
    images[1, 10, :] = np.where(np.arange(73) % 2 == 0, 0, 20).astype(np.int8)  # 64 and 74 dB, alternating
    f = image_features(images)
    assert f.shape == (2, 130) and np.all(f[0] == 0)
    assert f[1, 10] == pytest.approx(0.5 * (128 * 37 + 148 * 36) / 73) and f[1, 65 + 10] > 4.9
    assert np.all(np.delete(f[1], [10, 75]) == 0)


def test_baselines_on_three_synthetic_subjects_give_every_figure() -> None:
    source, recordings = sleep_recordings("synthetic", "synthetic", subjects=3, hours=2.0, seed=5)
    bds = baseline_dataset(recordings, source)
    assert len(bds.image_features) == len(bds.context) and bds.dropped == 0
    report = evaluate_baselines(bds, "loso", seed=0)
    assert report["folds"] == len(context_folds(bds.context, "loso", 0)) == 3 and report["n"] == len(bds)
    assert set(report["models"]) == set(MODELS)
    for m in report["models"].values():
        sw = m["sleep_wake"]
        figures = [m["accuracy"], m["kappa"], sw["accuracy"], sw["kappa"], sw["auc"], sw["wake_correct_at_90_sleep_correct"]]
        assert all(np.isfinite(figures)) and 0 <= m["accuracy"] <= 1 and 0 <= sw["auc"] <= 1, m
        assert sum(map(sum, m["confusion"])) == len(bds) and "p_wake_at_least" in sw["threshold_rule"]
    # a ContextDataset alone: its nights are read again for the images, the same rows and figures
    again = evaluate_baselines(bds.context, "loso", seed=0)
    assert again["models"]["logistic_image"]["kappa"] == pytest.approx(report["models"]["logistic_image"]["kappa"])
