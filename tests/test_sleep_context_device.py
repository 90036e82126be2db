"""Both kinds of sleep model on the device, native and virtual wrist, against their twins: the context model (epoch
features -> the last 54 epochs -> int8 model, deciding 6 epochs late) and the seed's CNN on epoch images. Each kind is
built from a models folder that carries it: models/ itself when it does, else models/ with a stand-in sleep model of
that kind (random weights, `vigil.bundle.model_bundle.write_standin_*_folder`), so both paths stay proven whichever
one models/ ships."""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

import numpy as np
import pytest

from vigil import verify as verify_mod
from vigil.bundle import consensus_twin as ct
from vigil.bundle import model_bundle as mb
from vigil.data.recording import Recording
from vigil.data.synthetic import synthetic_session
from vigil.device import board as boards
from vigil.device import flash
from vigil.device.link import Link
from vigil.dsp import config as dsp

pytestmark = pytest.mark.board

# vwrist replays ~15-20 kB/s: keep each recording near 20 s there
SECONDS = {"native": 720, "vwrist": 360}


@pytest.fixture(scope="module", params=["context", "image"])
def kind_models(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path, Path | None]:
    """(sleep input, models folder, build folder or None for the default build of models/)."""
    kind = request.param
    if mb.bundle_sleep_kind(ct.models_dir()).input == kind:
        return kind, ct.models_dir(), None
    tmp = tmp_path_factory.mktemp(f"sleep_{kind}")
    sleep = tmp / "sleep"
    if kind == "context":
        mb.write_standin_context_folder(sleep, seed=3)
    else:
        mb.write_standin_sleep_folder(sleep, seed=3)
    out = tmp / "models"
    mb.write_model_bundle(mb.build_model_bundle(sleep, ct.models_dir() / "stress"), out)
    return kind, out, tmp / "build"


@pytest.fixture(params=["native", "vwrist"])
def link(kind_models: tuple[str, Path, Path | None], request: pytest.FixtureRequest,
         monkeypatch: pytest.MonkeyPatch) -> Iterator[Link]:  # fmt: skip
    _, models, build = kind_models
    board = request.param
    artifact = None
    if build is not None:
        spec = boards.spec(board)
        artifact = build / spec.env / spec.artifact
        if not artifact.exists():
            flash.build(spec.env, extra_env={"VIGIL_MODELS_DIR": str(models), "PLATFORMIO_BUILD_DIR": str(build)})
    monkeypatch.setenv("VIGIL_MODELS_DIR", str(models))
    with boards.running_board(board, artifact=artifact) as proc, Link.open(proc.port) as lnk:
        lnk.request_hello()
        yield lnk


def verify(link: Link, rec: Recording) -> dict:
    report = verify_mod.verify_recording(link, rec)
    assert report["ok"], report["first_mismatch"]
    return report


def test_the_device_runs_the_sleep_path_of_its_model(link: Link, kind_models: tuple[str, Path, Path | None]) -> None:
    kind, models, _ = kind_models
    sleep = mb.bundle_sleep_kind(models)
    assert [m.name for m in link.hello.models] == list(mb.model_order(sleep.name))
    assert {m.name: m.hash for m in link.hello.models} == mb.bundle_hashes(models)

    seconds = SECONDS[link.hello.board]
    rec = synthetic_session(seconds, seed=5, stress=1.0)
    report = verify(link, rec)
    stages = report["stages"]
    assert tuple(stages) == verify_mod.stages(kind)
    n_epochs = seconds // dsp.EPOCH_S
    if kind == "context":
        # every epoch's features; a decision for each but the last SLEEP_CONTEXT_DELAY
        assert stages["epoch_features"]["windows"] == n_epochs
        assert stages["sleep"]["windows"] == n_epochs - dsp.SLEEP_CONTEXT_DELAY
        # segments whose two epochs were decided: epochs 0 .. n - 7 -> segments 0 .. (n - 7) // 2
        assert stages["stress"]["windows"] >= (n_epochs - dsp.SLEEP_CONTEXT_DELAY) // 2
    else:
        assert stages["epoch_image"]["windows"] >= n_epochs - 2 and stages["stft_columns"]["windows"] > 0
        assert stages["sleep"]["windows"] == stages["epoch_image"]["windows"]
    cost = report["cost"]
    assert cost["sleep_cnn"]["calls"] == stages["sleep"]["windows"]
    assert (cost["epoch_features"]["calls"] > 0) == (kind == "context")
    assert (cost["stft"]["calls"] > 0) == (kind == "image")
    if link.hello.board == "vwrist":
        assert cost["sleep_cnn"]["instructions_per_epoch"] > 0


def test_sleep_records_state_the_decision_delay(link: Link, kind_models: tuple[str, Path, Path | None]) -> None:
    kind = kind_models[0]
    from vigil.replay import replay

    rec = synthetic_session(9 * dsp.EPOCH_S, seed=2)
    outputs = replay(link, rec)
    want = dsp.SLEEP_CONTEXT_DELAY if kind == "context" else dsp.IMAGE_DELAY_EPOCHS
    assert outputs.sleep and {r["delay"] for r in outputs.sleep} == {want}
    assert [r["epoch"] for r in outputs.sleep] == list(range(len(outputs.sleep)))
    if kind == "context":
        assert len(outputs.sleep) == 9 - dsp.SLEEP_CONTEXT_DELAY
        assert [f.epoch for f in outputs.features] == list(range(9)) and not outputs.columns and not outputs.images
    else:
        assert not outputs.features and outputs.images


def test_edge_signals_are_bit_exact(link: Link, kind_models: tuple[str, Path, Path | None]) -> None:
    kind, _, _ = kind_models
    n = 10 * dsp.EPOCH_SAMPLES
    rng = np.random.default_rng(7)
    cases = {
        "random full scale": rng.integers(-32768, 32768, (n, 3)).astype(np.int16),
        "saturating swing": np.tile(np.array([[-32768, -32768, -32768], [0, 0, 0]], np.int16), (n // 2, 1)),
        "still, then zero windows": np.concatenate([np.tile(np.array([[0, 0, 1000]], np.int16), (n // 2, 1)),
                                                    np.zeros((n // 2, 3), np.int16)]),
    }  # fmt: skip
    for name, acc in cases.items():
        rec = Recording.from_arrays(accel=acc, source={"kind": "synthetic", "case": name})
        report = verify(link, rec)
        if kind == "context":
            assert report["stages"]["epoch_features"]["windows"] == 10, name
            assert report["stages"]["sleep"]["windows"] == 10 - dsp.SLEEP_CONTEXT_DELAY, name
