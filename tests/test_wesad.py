"""WESAD wrist data → labelled HRV segments: quest.csv parsing, segment labelling, and a whole subject folder
built from synthetic PPG whose baseline and TSST parts are known."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import numpy as np
import pytest

from vigil.data.synthetic_ppg import synthetic_ppg
from vigil.data.wesad import Condition, load_wesad, read_quest, segment_labels
from vigil.dsp.ppg import ppg_chain
from vigil.errors import VigilError
from vigil.ml.stress_io import detect_stress_format, load_stress_data

QUEST = """# Subj;S{n};;;;
# ORDER;Base;Fun;TSST;Medi 1;;
# START;0.30;6.00;7.05;13.00;;
# END;5.50;6.59;13.00;14.00;;

# PANAS;1;2;3;;
"""
FS = 64
START_UNIX = 1_500_000_000.0


def write_e4_bvp(folder: Path, ppg: np.ndarray, start_unix: float) -> None:
    folder.mkdir(parents=True)
    rows = [f"{start_unix:.6f}", f"{FS:.6f}"] + [f"{v / 16.0:.4f}" for v in ppg]
    (folder / "BVP.csv").write_text("\n".join(rows) + "\n")


def subject_ppg(seed: int) -> np.ndarray:
    """7 relaxed minutes then 7 stressed ones: quest conditions Base 0:30-5:50 and TSST 7:05-13:00."""
    relaxed, _ = synthetic_ppg(420.0, FS, seed=seed, stress=0.0, difficulty="clean")
    stressed, _ = synthetic_ppg(420.0, FS, seed=seed + 1, stress=1.0, difficulty="clean")
    return np.concatenate([relaxed, stressed])


@pytest.fixture(scope="module")
def wesad_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("WESAD")
    for n in (2, 3):
        subject = root / f"S{n}"
        subject.mkdir()
        (subject / f"S{n}_quest.csv").write_text(QUEST.format(n=n))
        ppg = subject_ppg(seed=10 * n)
        if n == 2:
            write_e4_bvp(subject / "S2_E4_Data", ppg, START_UNIX)
        else:  # as distributed: a zip of the E4 files
            staging = root / "staging"
            write_e4_bvp(staging, ppg, START_UNIX)
            with zipfile.ZipFile(subject / "S3_E4_Data.zip", "w") as archive:
                archive.write(staging / "BVP.csv", "BVP.csv")
    return root


def test_quest_times_are_minutes_dot_seconds(tmp_path: Path) -> None:
    path = tmp_path / "S2_quest.csv"
    path.write_text(QUEST.format(n=2))
    conditions = read_quest(path)
    assert [c.name for c in conditions] == ["Base", "Fun", "TSST", "Medi 1"]
    assert conditions[0] == Condition("Base", 30.0, 350.0)
    assert conditions[2] == Condition("TSST", 425.0, 780.0)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("# ORDER;Base\n# START;1.00\n", "no '# END;...' row"),
        ("# ORDER;Base;TSST\n# START;1.00;2.00\n# END;1.50\n", "no time for condition 'TSST'"),
        ("# ORDER;Base\n# START;1.75\n# END;2.00\n", "seconds 00-59"),
        ("# ORDER;Base\n# START;3.00\n# END;2.00\n", "ends (2.00) before it starts"),
    ],
)
def test_bad_quest_names_file_and_line(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "S9_quest.csv"
    path.write_text(text)
    with pytest.raises(VigilError, match=re.escape(message)) as err:
        read_quest(path)
    assert str(err.value).startswith(f"{path}:")


def test_segments_take_a_label_only_inside_base_or_tsst() -> None:
    conditions = [Condition("Base", 30.0, 350.0), Condition("Fun", 360.0, 419.0), Condition("TSST", 425.0, 780.0)]
    labels = segment_labels(conditions, 14)
    # segment k spans [60k, 60k+60): Base holds 1..4 (5 ends at 360 > 350), TSST 8..12 (7 starts at 420 < 425)
    assert labels.tolist() == [-1, 0, 0, 0, 0, -1, -1, -1, 1, 1, 1, 1, 1, -1]
    shifted = segment_labels(conditions, 14, offset_s=30.0)  # the E4 started 30 s into the protocol
    assert shifted.tolist()[:5] == [0, 0, 0, 0, 0]


def test_wesad_root_gives_the_twins_features_with_condition_labels(wesad_root: Path) -> None:
    assert detect_stress_format(wesad_root) == "wesad"
    ds = load_stress_data(str(wesad_root), inputs="raw")
    assert ds.source["kind"] == "wesad" and ds.source["subjects"] == ["S2", "S3"] and ds.source["inputs"] == "raw"
    assert sorted(set(ds.groups.tolist())) == [2, 3]
    for n in (2, 3):
        rows = ds.groups == n
        # the features are exactly the device twin's, on the segments inside Base (1-4) and TSST (8-12)
        _, _, segments = ppg_chain(subject_ppg(seed=10 * n), FS, motion=None)
        labels = segment_labels(read_quest(wesad_root / f"S{n}" / f"S{n}_quest.csv"), len(segments))
        keep = [k for k, s in enumerate(segments) if s.valid and labels[k] >= 0]
        want = np.array([[s.avhr, s.avrr, s.sdrr, s.rmssd, s.pnn50, s.pnn20] for s in (segments[k] for k in keep)])
        np.testing.assert_array_equal(ds.features[rows], want)
        np.testing.assert_array_equal(ds.labels[rows], labels[keep])
        assert len(keep) >= 7
        np.testing.assert_array_equal(ds.timestamps[rows], [int(START_UNIX) + 60 * k for k in keep])
    # the stressed half beats faster: AVHR separates the labels on this clean data
    assert ds.features[ds.labels == 1, 0].min() > ds.features[ds.labels == 0, 0].max()


def test_baseline_inputs_are_the_twins_relative_features_where_the_baseline_is_ready(wesad_root: Path) -> None:
    """The default for WESAD: each feature minus the wearer's running baseline, on the segments after the baseline's
    warm-up (10 valid minutes), as the device's HRV record has them."""
    ds = load_stress_data(str(wesad_root))
    assert ds.source["inputs"] == "baseline"
    for n in (2, 3):
        _, _, segments = ppg_chain(subject_ppg(seed=10 * n), FS, motion=None)
        labels = segment_labels(read_quest(wesad_root / f"S{n}" / f"S{n}_quest.csv"), len(segments))
        keep = [k for k, s in enumerate(segments) if s.valid and s.baseline_ready and labels[k] >= 0]
        want = [[s.rel_avhr, s.rel_avrr, s.rel_sdrr, s.rel_rmssd, s.rel_pnn50, s.rel_pnn20] for s in (segments[k] for k in keep)]
        np.testing.assert_array_equal(ds.features[ds.groups == n], want)
        assert keep and all(segments[k].baseline_n >= 10 for k in keep)
    with pytest.raises(VigilError, match="need recordings with their history"):
        load_stress_data("synthetic", inputs="baseline")


def test_one_subject_folder_loads_too(wesad_root: Path) -> None:
    ds = load_wesad(wesad_root / "S2")
    assert set(ds.groups.tolist()) == {2} and set(ds.labels.tolist()) == {0, 1}


def test_e4_folder_without_conditions_is_refused(tmp_path: Path) -> None:
    write_e4_bvp(tmp_path / "E4", np.zeros(64 * 10, dtype=np.int16), START_UNIX)
    with pytest.raises(VigilError, match="carries no condition labels"):
        load_stress_data(str(tmp_path / "E4"))
    with pytest.raises(VigilError, match="no S<n>/S<n>_quest.csv"):
        load_wesad(tmp_path)


def test_train_and_evaluate_stress_on_a_wesad_folder(wesad_root: Path, tmp_path: Path) -> None:
    import json

    from click.testing import CliRunner

    from vigil.cli import cli

    out = tmp_path / "model"
    # 14-minute subjects: the wearer's baseline is ready for the last minutes only, so the features as they are
    result = CliRunner().invoke(cli, ["train", "stress", "--data", str(wesad_root), "--protocol", "loso",
                                      "--nn-epochs", "5", "--inputs", "raw", "--out", str(out), "--json"])  # fmt: skip
    assert result.exit_code == 0, result.output
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["data"]["kind"] == "wesad" and manifest["rows"] >= 14
    again = CliRunner().invoke(cli, ["evaluate", str(out), "--json"])
    assert again.exit_code == 0, again.output
    report = json.loads(again.output)
    assert report["protocol"] == "loso" and report["models"]["svm"]["accuracy"] >= 0.9


def test_evaluate_data_scores_a_stress_folder_on_wesad_subjects_as_the_device(wesad_root: Path, tmp_path: Path) -> None:
    """`vigil evaluate STRESS --data ROOT --from wesad`: every labelled minute through the device twin. A training
    folder (not a bundle) is scored beside models/'s sleep model; the minutes it classifies are exactly the valid
    labelled segments the device sends a record for, and with no accelerometer no alert can be raised."""
    import json

    from click.testing import CliRunner

    from vigil.bundle.consensus_twin import STRESS_PENDING_MAX
    from vigil.cli import cli

    out = tmp_path / "model"
    trained = CliRunner().invoke(cli, ["train", "stress", "--data", str(wesad_root), "--protocol", "loso", "--inputs", "raw",
                                       "--nn-epochs", "5", "--out", str(out), "--json"])  # fmt: skip
    assert trained.exit_code == 0, trained.output
    result = CliRunner().invoke(cli, ["evaluate", str(out), "--data", str(wesad_root), "--from", "wesad", "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    labelled = classified = 0
    for n in (2, 3):
        _, _, segments = ppg_chain(subject_ppg(seed=10 * n), FS, motion=None)
        labels = segment_labels(read_quest(wesad_root / f"S{n}" / f"S{n}_quest.csv"), len(segments))
        labelled += int((labels >= 0).sum())
        sent = len(segments) - STRESS_PENDING_MAX  # the last segments wait for a context that never comes
        classified += sum(1 for k, s in enumerate(segments) if labels[k] >= 0 and s.valid and k < sent)
    assert (report["minutes_labelled"], report["minutes_classified"]) == (labelled, classified)
    assert report["coverage"] == pytest.approx(classified / labelled)
    assert [r["subject"] for r in report["per_subject"]] == ["S2", "S3"]
    assert sum(r["minutes_classified"] for r in report["per_subject"]) == classified
    assert set(report["models"]) == {"tree", "svm", "nn", "consensus"}
    for m in report["models"].values():
        assert m["n"] == classified and set(m) >= {"accuracy", "f1", "precision", "sensitivity", "specificity"}
    # clean synthetic PPG: the labels line up with the minutes, so the trio separates them
    assert report["models"]["consensus"]["accuracy"] >= 0.9 and report["models"]["consensus"]["sensitivity"] >= 0.8
    assert report["alerts"]["count"] == 0  # no accelerometer: the context is unknown, the alert is blocked
    assert "training folder" in report["models_used"]


def test_evaluate_data_refuses_a_sleep_format_for_a_stress_model(wesad_root: Path) -> None:
    from click.testing import CliRunner

    from vigil.cli import cli

    models = Path(__file__).resolve().parents[1] / "models" / "stress"
    result = CliRunner().invoke(cli, ["evaluate", str(models), "--data", str(wesad_root), "--from", "ichi"])
    assert result.exit_code != 0 and "--from wesad" in result.output


def _still_wrist_with_taps(minutes: float, taps_s: list[float], tap_mg: int = 2000) -> "Recording":
    from vigil.data.recording import Recording

    n = int(minutes * 60 * 50)
    accel = np.zeros((n, 3), dtype=np.int16)
    accel[:, 2] = 1000  # 1 g, still
    rng = np.random.default_rng(0)
    accel[:, 0] = rng.integers(-30, 30, n)  # hand movement well under the tap's jump
    for t in taps_s:
        i = int(t * 50)
        accel[i, 2] = 1000 + tap_mg
    return Recording(accel=accel, accel_rate_hz=50, ppg=np.zeros(0, np.int16), ppg_rate_hz=None)


def test_the_sync_tap_is_the_sharpest_jolt_before_the_protocol() -> None:
    from vigil.data.wesad import sync_tap_s

    protocol = [Condition("Base", 120.0, 1200.0), Condition("TSST", 2000.0, 2600.0)]
    # the tap at 20 min; a bigger jolt at 95 min is too late: the protocol (2,600 s) would not fit after it
    rec = _still_wrist_with_taps(100, [1200.0, 95 * 60.0])
    rec.accel[int(95 * 60 * 50), 2] = 4000
    assert sync_tap_s(rec, protocol) == pytest.approx(1200.0, abs=0.05)
    # putting the wristband on (the first 5 minutes) jolts it too: not the tap, even when sharper
    rec = _still_wrist_with_taps(100, [1200.0, 60.0])
    rec.accel[int(60.0 * 50), 2] = 4000
    assert sync_tap_s(rec, protocol) == pytest.approx(1200.0, abs=0.05)
    # no jolt of a tap's size: no tap (the caller falls back to the recording's start and says so)
    assert sync_tap_s(_still_wrist_with_taps(100, [1200.0], tap_mg=600), protocol) is None
    # a recording that is no longer than the protocol has no room for a tap before it
    assert sync_tap_s(_still_wrist_with_taps(40, [60.0]), protocol) is None
    # no accelerometer at all
    assert sync_tap_s(_still_wrist_with_taps(0, []), protocol) is None
