"""The models on the device against their twin (vigil.bundle.consensus_twin), on the native build and the virtual wrist:
sleep CNN per epoch and the stress trio + consensus per segment, every field; and the model hashes in HELLO."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT
from vigil import verify as verify_mod
from vigil.bundle import consensus_twin as ct
from vigil.bundle import model_bundle as mb
from vigil.data.synthetic import synthetic_session
from vigil.device import board as boards
from vigil.device.link import Link
from vigil.errors import VigilError

pytestmark = pytest.mark.board

# vwrist replays ~15-20 kB/s: 5 minutes (8 epoch images, 4 stress records) keep each run near 20 s
SECONDS = {"native": 600, "vwrist": 300, "f405": 300}


@pytest.mark.parametrize("stress", [0.0, 1.0])
def test_sleep_and_stress_are_bit_exact(link: Link, stress: float) -> None:
    seconds = SECONDS[link.hello.board]
    rec = synthetic_session(seconds, seed=5, stress=stress)
    report = verify_mod.verify_recording(link, rec)
    assert report["ok"], report["first_mismatch"]
    stages = report["stages"]
    n_segments = seconds // 60
    # decisions for every epoch but the last `delay` (2 for the CNN, whose image needs 46 s after the epoch's centre;
    # 6 for the context model); stress records for segments whose two epochs were decided
    delay = ct.DeviceModels.load().sleep_delay
    assert stages["sleep"]["windows"] >= 2 * n_segments - delay - 2 and stages["sleep"]["mismatches"] == 0
    assert stages["stress"]["windows"] >= n_segments - 1 - (delay + 1) // 2 and stages["stress"]["mismatches"] == 0
    cost = report["cost"]
    assert cost["sleep_cnn"]["calls"] == stages["sleep"]["windows"]
    assert cost["stress"]["calls"] >= stages["stress"]["windows"]
    if boards.counts_instructions(link.hello.board):
        assert cost["sleep_cnn"]["instructions_per_epoch"] > 0 and cost["stress"]["instructions_per_segment"] > 0


def test_hello_announces_the_models_of_models_dir(link: Link) -> None:
    carried = {m.name: m.hash for m in link.hello.models}
    assert carried == mb.bundle_hashes(ct.models_dir())
    assert list(carried) == list(mb.model_order(mb.bundle_sleep_kind(ct.models_dir()).name))


@pytest.fixture(scope="module")
def other_models(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """models/ with another alert threshold: only stress_consensus's hash differs."""
    out = tmp_path_factory.mktemp("models") / "models"
    shutil.copytree(ct.models_dir(), out)
    files = mb.rebuild_from_bundle(out, mb.ConsensusSettings(0.7, 40))
    mb.write_model_bundle(files, out)
    return out


def test_a_changed_model_hash_is_refused(link: Link, other_models: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    theirs, ours = mb.bundle_hashes(other_models)["stress_consensus"], mb.bundle_hashes(ct.models_dir())["stress_consensus"]
    assert theirs != ours
    monkeypatch.setenv("VIGIL_MODELS_DIR", str(other_models))
    with pytest.raises(VigilError) as err:
        verify_mod.verify_recording(link, synthetic_session(60, seed=1))
    assert "stress_consensus" in str(err.value) and theirs.hex() in str(err.value) and ours.hex() in str(err.value)


def test_replay_cli_refuses_other_models_unless_asked(board, other_models: Path, tmp_path: Path) -> None:
    theirs = mb.bundle_hashes(other_models)["stress_consensus"]
    rec_path = tmp_path / "s.vrec"
    synthetic_session(30, seed=1).save(rec_path)
    env = {**os.environ, "VIGIL_MODELS_DIR": str(other_models)}
    cmd = [sys.executable, "-m", "vigil.cli", "replay", "--port", board.port, "--input", str(rec_path), "--json"]
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, env=env, timeout=120)
    assert proc.returncode == 1 and theirs.hex() in proc.stderr, proc.stderr
    proc = subprocess.run([*cmd, "--any-models"], capture_output=True, text=True, cwd=ROOT, env=env, timeout=120)
    assert proc.returncode == 0 and json.loads(proc.stdout)["device_errors"] == [], proc.stderr


def test_firmware_builds_against_another_models_dir(other_models: Path, tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    """VIGIL_MODELS_DIR at build time: the firmware carries that folder's models, and verifies against its twin."""
    from vigil.device import board as boards
    from vigil.device import flash

    build = tmp_path / "build"
    flash.build("native", extra_env={"VIGIL_MODELS_DIR": str(other_models), "PLATFORMIO_BUILD_DIR": str(build)})
    monkeypatch.setenv("VIGIL_MODELS_DIR", str(other_models))
    with boards.running_board("native", artifact=build / "native" / "program") as proc, Link.open(proc.port) as link:
        hello = link.request_hello()
        assert {m.name: m.hash for m in hello.models} == mb.bundle_hashes(other_models)
        report = verify_mod.verify_recording(link, synthetic_session(360, seed=8, stress=1.0))
    assert report["ok"], report["first_mismatch"]
    # 6 segments; with a context sleep model the last 6 epochs are never decided, so segments 0 .. 2 are sent
    assert report["stages"]["stress"]["windows"] >= 3
