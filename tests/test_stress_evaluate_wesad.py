"""`vigil evaluate models/stress --data … --from wesad` on real WESAD wrist subjects (../shared/data; skipped in a
user's clone, run in CI): every labelled minute accounted for, the models scored on the same classified minutes, and
the committed trio, trained on these subjects, as the device runs it (in-sample: a floor against regressions of the
chain, the baseline or the alert's rule; held-out figures are the model card's and benchmarks/stress_features.py's)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from vigil.cli import cli

ROOT = Path(__file__).resolve().parents[1]
WESAD = ROOT.parent / "shared" / "data" / "wesad_wrist_train"
pytestmark = pytest.mark.skipif(not WESAD.is_dir(), reason="needs ../shared/data/wesad_wrist_train")


def test_two_real_subjects_through_the_device_twin(tmp_path: Path) -> None:
    from vigil.data.wesad import WESAD_PPG_RATE_HZ, segment_labels, subject_session

    root = tmp_path / "wesad"
    root.mkdir()
    for name in ("S2", "S3"):
        (root / name).symlink_to(WESAD / name)
    result = CliRunner().invoke(cli, ["evaluate", str(ROOT / "models"), "--data", str(root), "--from", "wesad",
                                      "--json"])  # fmt: skip
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    labelled = 0
    for name in ("S2", "S3"):
        rec, conditions, offset = subject_session(WESAD / name, tmp_path)
        n_segments = len(rec.ppg) // (60 * WESAD_PPG_RATE_HZ)
        labelled += int((segment_labels(conditions, n_segments, offset) >= 0).sum())
    # Base (about 20 min) and TSST (about 10 min) of each subject
    assert report["minutes_labelled"] == labelled and 50 <= labelled <= 70
    assert report["models_used"].startswith("bundle") and report["subjects"] == ["S2", "S3"]
    classified = report["minutes_classified"]
    assert 0 < classified < labelled and report["coverage"] == pytest.approx(classified / labelled)
    for m in report["models"].values():
        assert m["n"] == classified and sum(map(sum, m["confusion"])) == classified
    # in-sample (2026-12-03): consensus 0.957, sensitivity 1.000, 7 alerts all in TSST
    assert report["models"]["consensus"]["accuracy"] >= 0.9 and report["models"]["consensus"]["sensitivity"] >= 0.85
    alerts = report["alerts"]
    assert alerts["count"] >= 4 and alerts["true"] == alerts["count"]  # the sustained alert: no Base minute
    # where each subject's protocol starts in the E4 files: the synchronising tap, 18-25 min in
    assert [18 * 60 <= s["sync_tap_s"] <= 25 * 60 for s in report["per_subject"]] == [True, True]


def test_the_device_classifies_most_base_and_tsst_minutes_of_the_training_subjects(tmp_path: Path) -> None:
    """Issue 13, item 2: at least 85 % of the 10 training subjects' Base and TSST minutes get a valid segment from the
    device's PPG chain (40 % before missed beats were interpolated); no subject is left with under half."""
    from vigil.data.wesad import WESAD_PPG_RATE_HZ, segment_labels, subject_session, wesad_subject_folders
    from vigil.dsp.accel import wrist_motion
    from vigil.dsp.ppg import ppg_chain

    labelled = classified = 0
    for subject in wesad_subject_folders(WESAD):
        rec, conditions, offset = subject_session(subject, tmp_path)
        _, _, segments = ppg_chain(rec.ppg, WESAD_PPG_RATE_HZ, motion=wrist_motion(rec.accel))
        labels = segment_labels(conditions, len(segments), offset)
        mine = [seg.valid for seg, label in zip(segments, labels) if label >= 0]
        assert len(mine) >= 25 and sum(mine) >= len(mine) / 2, (subject.name, sum(mine), len(mine))
        labelled += len(mine)
        classified += sum(mine)
    assert labelled >= 280 and classified >= 0.85 * labelled, (classified, labelled)


def test_the_sync_tap_puts_the_stress_test_where_the_heart_rate_rises(tmp_path: Path) -> None:
    """The quest times count from the devices' synchronising tap, 18-25 minutes into the raw E4 files. Aligned on it,
    the device's own heart rate is higher in TSST than in Base for nearly every subject (counted from the E4's start,
    it was lower for all ten: the labels were 20 minutes off)."""
    import numpy as np

    from vigil.data.wesad import WESAD_PPG_RATE_HZ, segment_labels, subject_session, wesad_subject_folders
    from vigil.dsp.accel import wrist_motion
    from vigil.dsp.ppg import ppg_chain

    higher = 0
    for subject in wesad_subject_folders(WESAD):
        rec, conditions, offset = subject_session(subject, tmp_path)
        assert 18 * 60 <= rec.meta["wesad"]["sync_tap_s"] <= 25 * 60 and offset == -rec.meta["wesad"]["sync_tap_s"]
        _, _, segments = ppg_chain(rec.ppg, WESAD_PPG_RATE_HZ, motion=wrist_motion(rec.accel))
        labels = segment_labels(conditions, len(segments), offset)
        hr = {c: [s.avhr for s, label in zip(segments, labels) if s.valid and label == c] for c in (0, 1)}
        if hr[0] and hr[1] and np.median(hr[1]) > np.median(hr[0]) + 200:  # 2 bpm
            higher += 1
    assert higher >= 8, higher
