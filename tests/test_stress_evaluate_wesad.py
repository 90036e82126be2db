"""`vigil evaluate models/stress --data … --from wesad` on two real WESAD wrist subjects (../shared/data; skipped in a
user's clone, run in CI): every labelled minute accounted for, the models scored on the same classified minutes, and
the committed trio's figures as they stand (issue 13 measures the gap: the trio was trained on the proposal's HRV
file, not on wrist PPG)."""

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
    from vigil.data.empatica import load_empatica
    from vigil.data.wesad import WESAD_PPG_RATE_HZ, read_quest, segment_labels

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
        rec = load_empatica(WESAD / name / f"{name}_E4_Data", ppg_rate_hz=WESAD_PPG_RATE_HZ)
        offset = float(rec.meta["conversion"]["alignment"].get("bvp", {}).get("trimmed_start_s", 0.0))
        n_segments = len(rec.ppg) // (60 * WESAD_PPG_RATE_HZ)
        labelled += int((segment_labels(read_quest(WESAD / name / f"{name}_quest.csv"), n_segments, offset) >= 0).sum())
    # Base (about 20 min) and TSST (about 10 min) of each subject
    assert report["minutes_labelled"] == labelled and 50 <= labelled <= 70
    assert report["models_used"].startswith("bundle") and report["subjects"] == ["S2", "S3"]
    classified = report["minutes_classified"]
    assert 0 < classified < labelled and report["coverage"] == pytest.approx(classified / labelled)
    for m in report["models"].values():
        assert m["n"] == classified and sum(map(sum, m["confusion"])) == classified
    alerts = report["alerts"]
    assert alerts["count"] >= alerts["true"] >= 0


def test_the_device_classifies_most_base_and_tsst_minutes_of_the_training_subjects(tmp_path: Path) -> None:
    """Issue 13, item 2: at least 85 % of the 10 training subjects' Base and TSST minutes get a valid segment from the
    device's PPG chain (44 % before missed beats were interpolated); no subject is left with under two thirds."""
    from vigil.data.wesad import WESAD_PPG_RATE_HZ, segment_labels, subject_session, wesad_subject_folders
    from vigil.dsp.ppg import ppg_chain

    labelled = classified = 0
    for subject in wesad_subject_folders(WESAD):
        rec, conditions, offset = subject_session(subject, tmp_path)
        _, _, segments = ppg_chain(rec.ppg, WESAD_PPG_RATE_HZ)
        labels = segment_labels(conditions, len(segments), offset)
        mine = [seg.valid for seg, label in zip(segments, labels) if label >= 0]
        assert len(mine) >= 25 and sum(mine) >= 2 * len(mine) / 3, (subject.name, sum(mine), len(mine))
        labelled += len(mine)
        classified += sum(mine)
    assert labelled >= 280 and classified >= 0.85 * labelled, (classified, labelled)
