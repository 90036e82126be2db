"""`vigil demo` end to end on the native board (what `make demo` runs on vwrist): the link proofs, a night and a
stress session replayed with every output verified (sleep and stress records included), the device logs and the
report; and the demo's training step on tiny settings, whose folders export into a bundle the firmware can carry."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from vigil.demo import DemoPaths, DemoSettings, describe_stress, export_models, train_models

VIGIL = [sys.executable, "-m", "vigil.cli"]


@pytest.mark.board
@pytest.mark.slow
def test_demo_on_the_native_board_verifies_every_output_and_writes_the_report(tmp_path: Path) -> None:
    out = tmp_path / "demo"
    proc = subprocess.run([*VIGIL, "demo", "--board", "native", "--skip-training", "--night-hours", "0.25",
                           "--echo", "50", "--replay-bytes", "10000", "--faults", "10", "--out", str(out), "--json"],
                          capture_output=True, text=True, timeout=600)  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    summary = json.loads(proc.stdout)
    assert summary["ok"] and summary["link"]["ok"] and summary["link"]["reset"]["ok"]
    for what in ("night", "stress"):
        stages = summary["verify"][what]["stages"]
        # a segment's STRESS record waits for its epochs' sleep decisions (the context model's come 3 min late), so
        # a session's last ~3 segments are never sent: the 12-min stress session gets 9, the 15-min night 12
        assert stages["sleep"]["windows"] >= 18 and stages["stress"]["windows"] >= 8
        assert all(s["mismatches"] == 0 for s in stages.values()), stages
        log = (out / "logs" / f"{what}.jsonl").read_text().splitlines()
        types = [json.loads(line).get("type") for line in log]
        assert types.count("SLEEP") == stages["sleep"]["windows"] and "HELLO" in types
        # the verify reports the report reads are `vigil verify --json`'s, naming their recording
        written = json.loads((out / "logs" / f"{what}-verify.json").read_text())
        assert written == {**summary["verify"][what], "recording": f"synthetic {what}"}
    index = (out / "report" / "index.html").read_text()
    for png in ("hypnogram.png", "spectrogram.png", "ppg_beats.png", "hrv.png"):
        assert png in index and (out / "report" / png).stat().st_size > 10_000


def test_describe_stress_names_the_failed_conditions() -> None:
    record = {"segment": 3, "p_tree": 32768, "p_svm": 16384, "p_nn": 32768, "weighted_q15": 27307, "decision": 1,
              "alert": 0, "reasons": 0x01 | 0x02 | 0x04 | 0x08 | 0x20 | 0x40}  # fmt: skip
    line = describe_stress(record)
    assert "0.83 stress" in line and line.endswith("no alert: asleep, not sustained")
    assert "ALERT" in describe_stress({**record, "alert": 1, "reasons": 0xFF})


@pytest.mark.slow
def test_demo_training_step_writes_folders_the_bundle_exports(tmp_path: Path) -> None:
    from rich.console import Console

    from vigil.bundle.model_bundle import read_bundle_manifest

    settings = DemoSettings(out=tmp_path, sleep_subjects=3, sleep_hours=1.0, sleep_epochs=1, stress_nn_epochs=5)
    paths = DemoPaths(tmp_path)
    summary = train_models(settings, paths, Console(quiet=True), lambda what, n: None)
    assert 3 * 110 <= summary["sleep"]["epochs"] <= 3 * 120  # edge epochs have no image
    # the figures the demo prints are the held-out evaluation the training folder records
    evaluation = json.loads((paths.sleep / "metrics.json").read_text())["evaluation"]
    assert (summary["sleep"]["accuracy"], summary["sleep"]["kappa"]) == (evaluation["accuracy"], evaluation["kappa"])
    assert evaluation["protocol"] == "lso5" and len(evaluation["confusion"]) == 3
    assert summary["stress"]["rows"] > 100
    written = export_models(paths)
    manifest = read_bundle_manifest(paths.models)
    assert any(name.endswith("sleep_cnn_plan.h") for name in written)
    assert not manifest["sleep"]["stand_in"] and manifest["sleep"]["data"]["kind"] == "synthetic"
    # the proposal's file when ../shared/data is beside the checkout, else synthetic sessions: the manifest says which
    assert manifest["stress"]["dataset"] == "synthetic" and summary["stress"]["protocol"] == "loso"
