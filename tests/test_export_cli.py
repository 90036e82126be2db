"""`vigil export nn`: files, manifest, and a one-line refusal of an unsupported op."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from vigil.cli import cli
from vigil.ml.architectures import stress_mlp


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    import keras

    from vigil.export.tflite import to_int8_tflite

    rep = np.random.default_rng(0).normal(size=(64, 6)).astype(np.float32)
    out = tmp_path_factory.mktemp("models")
    mlp = stress_mlp()
    tanh = keras.Sequential([keras.Input((6,)), keras.layers.Dense(4), keras.layers.Activation("tanh")])
    paths = {"mlp": out / "mlp.tflite", "tanh": out / "tanh.tflite"}
    paths["mlp"].write_bytes(to_int8_tflite(mlp, rep))
    paths["tanh"].write_bytes(to_int8_tflite(tanh, rep))
    return paths


def test_export_writes_headers_and_manifest(models: dict[str, Path], tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["export", "nn", str(models["mlp"]), "--name", "stress_mlp", "--out", str(tmp_path),
                                      "--json"])  # fmt: skip
    assert result.exit_code == 0, result.output
    entry = json.loads(result.output)
    assert {f.name for f in tmp_path.iterdir()} == {"stress_mlp.tflite", "stress_mlp_tflite.h", "stress_mlp_plan.h",
                                                    "manifest.json"}  # fmt: skip
    assert entry["macs"] == 6 * 11 + 11 * 5 + 5 * 2
    assert [op for op in entry["ops"]] == ["FULLY_CONNECTED"] * 3
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert manifest["models"]["stress_mlp"]["arena_bytes"] == entry["arena_bytes"] > 0
    header = (tmp_path / "stress_mlp_tflite.h").read_text()
    assert "stress_mlp_tflite_len" in header and "16" in header
    assert (tmp_path / "stress_mlp.tflite").read_bytes() == models["mlp"].read_bytes()


def test_a_second_export_keeps_the_manifest_s_other_entries(models: dict[str, Path], tmp_path: Path) -> None:
    for name in ("first", "second"):
        result = CliRunner().invoke(cli, ["export", "nn", str(models["mlp"]), "--name", name, "--out", str(tmp_path)])
        assert result.exit_code == 0, result.output
        assert result.output.startswith(f"{name}: {name}.tflite, {name}_tflite.h, {name}_plan.h in {tmp_path}")
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert sorted(manifest["models"]) == ["first", "second"]
    assert manifest["models"]["first"]["sha256"] == manifest["models"]["second"]["sha256"]


def test_unsupported_op_is_refused_with_its_position(models: dict[str, Path], tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["export", "nn", str(models["tanh"]), "--name", "t", "--out", str(tmp_path)])
    assert result.exit_code == 1
    lines = [line for line in result.output.splitlines() if line.startswith("Error:")]
    assert len(lines) == 1 and "unsupported op TANH at operator 1" in lines[0]
    assert not (tmp_path / "t_plan.h").exists()
