"""models/: the committed bundle is what `vigil export models` makes, and its integer constants mean what they say."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from vigil.cli import cli
from vigil.bundle import model_bundle as mb
from vigil.errors import VigilError

MODELS = Path(__file__).resolve().parents[1] / "models"


def test_committed_models_match_the_generator() -> None:
    result = CliRunner().invoke(cli, ["export", "models", "--out", str(MODELS), "--check", "--json"])
    report = json.loads(result.output)
    assert report["stale"] == [], f"models/ is stale: run `vigil export models --out models` ({report['stale']})"
    assert result.exit_code == 0


def test_check_fails_on_an_edited_file_and_rewrite_restores_it(tmp_path: Path) -> None:
    out = tmp_path / "models"
    shutil.copytree(MODELS, out)
    header = out / "firmware" / "stress_consensus.h"
    header.write_text(header.read_text().replace("19661u", "19660u"))
    (out / "firmware" / "extra.h").write_text("/* not generated */\n")
    check = CliRunner().invoke(cli, ["export", "models", "--out", str(out), "--check", "--json"])
    assert check.exit_code == 1
    assert sorted(json.loads(check.output)["stale"]) == ["firmware/extra.h", "firmware/stress_consensus.h"]
    write = CliRunner().invoke(cli, ["export", "models", "--out", str(out)])
    assert write.exit_code == 0, write.output
    assert header.read_bytes() == (MODELS / "firmware" / "stress_consensus.h").read_bytes()
    assert not (out / "firmware" / "extra.h").exists()


def test_a_changed_setting_changes_the_consensus_hash(tmp_path: Path) -> None:
    out = tmp_path / "models"
    shutil.copytree(MODELS, out)
    result = CliRunner().invoke(cli, ["export", "models", "--out", str(out), "--alert-probability", "0.7", "--json"])
    assert result.exit_code == 0, result.output
    new, old = mb.bundle_hashes(out), mb.bundle_hashes(MODELS)
    assert new["stress_consensus"] != old["stress_consensus"]
    assert {k: v for k, v in new.items() if k != "stress_consensus"} == {k: v for k, v in old.items() if k != "stress_consensus"}
    assert "Q15 22938" in (out / "firmware" / "stress_consensus.h").read_text()


def test_manifest_says_what_the_stress_models_were_trained_on() -> None:
    manifest = mb.read_bundle_manifest(MODELS)
    stress = json.loads((MODELS / "stress" / "manifest.json").read_text())
    # the committed stress models come from WESAD's 10 training subjects (README, docs/stress.md), evaluated by leaving
    # one subject out; the bundle says so, from the folder's own manifest
    assert manifest["stress"]["dataset"] == mb.stress_dataset_kind(stress) == "wesad"
    assert manifest["stress"]["data"] == stress["data"] and stress["data"]["dataset"] == "wesad_wrist_train"
    assert stress["settings"]["protocol"] == "loso" and len(stress["data"]["subjects"]) == 10
    for rel, digest in manifest["files"].items():
        assert mb.sha256((MODELS / rel).read_bytes()) == digest, rel
    assert set(manifest["hashes"]) == set(mb.model_order(mb.bundle_sleep_kind(MODELS).name))


def test_nn_input_quantization_in_integers_matches_rounding_of_the_float_map() -> None:
    """q = clamp((raw mul + add) >> shift) equals clamp(floor(scaled / s + zp + 1/2)) to within float rounding at
    exact halves: check on a grid of raw values that it differs from the float formula nowhere off a half."""
    scale, offset = np.array([3.1e-4, -2.5e-5]), np.array([-0.7, 1.3])
    s_in, zp = 0.00392, -128
    muls, adds, shifts = mb.stress_nn_input_quant(scale, offset, s_in, zp)
    raw = np.arange(-20000, 60000, 7, dtype=np.int64)
    for f in range(2):
        got = np.clip((raw * muls[f] + adds[f]) >> shifts[f], -128, 127)
        exact = (raw * scale[f] + offset[f]) / s_in + zp
        want = np.clip(np.floor(exact + 0.5), -128, 127)
        near_half = np.abs(exact - np.floor(exact) - 0.5) < 1e-6
        assert np.array_equal(got[~near_half], want[~near_half])


def test_logit_pair_table_is_the_two_class_softmax() -> None:
    table = mb.logit_pair_table_q15(1 / 16)
    assert len(table) == 2 * mb.LOGIT_DIFF_SPAN + 1
    assert table[mb.LOGIT_DIFF_SPAN] == 16384  # equal logits
    assert np.all(np.diff(table) >= 0) and table[0] >= 0 and table[-1] <= 32768
    assert np.array_equal(table + table[::-1], np.full(len(table), 32768))  # p(d) + p(-d) = 1


def test_consensus_weights_sum_to_one_in_q15() -> None:
    w = mb.consensus_weights_q15([5 / 9, 3 / 9, 1 / 9])
    assert w.sum() == 32768 and list(w) == [18204, 10923, 3641]


def test_device_integers_agree_with_the_float_trio_on_its_training_data() -> None:
    """The device's votes (integer twin: C-twin tree and SVM, TFLM NN on integer-quantized inputs, Q15 consensus)
    against the float trio (scikit-learn, TFLM on float-quantized inputs) on the rows the models were trained on.
    Measured on the committed synthetic bundle: tree, NN, consensus and unanimity 292/292, SVM 291/292 (sklearn's
    Platt coupling vs the exact sigmoid near 0.5)."""
    import joblib
    import pytest

    from vigil.export.tflite_reader import read_tflite
    from vigil.bundle import consensus_twin as ct
    from vigil.ml.stress import MODEL_NAMES, Int8StressNet, StressTrio
    from vigil.manifest import source_path
    from vigil.ml.stress_io import dataset_from_manifest, load_scaler, read_manifest

    stress = MODELS / "stress"
    manifest = read_manifest(stress)
    if manifest["data"]["kind"] != "synthetic" and not source_path(manifest["data"]).exists():
        pytest.skip(f"training data {source_path(manifest['data'])} is absent")
    ds = dataset_from_manifest(manifest)
    nn = Int8StressNet()
    nn.tflite = (stress / "stress_nn.tflite").read_bytes()
    graph = read_tflite(nn.tflite, check_ops=False)
    qi, qo = graph.tensors[graph.inputs[0]].quant, graph.tensors[graph.outputs[0]].quant
    nn.input_quant, nn.output_quant = (float(qi.scale), int(qi.zero_point)), (float(qo.scale), int(qo.zero_point))
    weights = np.array(json.loads((stress / "stress_consensus.json").read_text())["weights"])
    models = {"tree": joblib.load(stress / "stress_tree.joblib"), "svm": joblib.load(stress / "stress_svm.joblib"), "nn": nn}
    float_votes = StressTrio(load_scaler(stress), models, weights).predict(ds.features)
    device = ct.DeviceModels.load(MODELS)
    out = ct.model_outputs(ds.features, device)
    for j, name in enumerate(MODEL_NAMES):
        assert np.mean(out["votes"][:, j] == (float_votes[name] == 1)) >= 0.99, name
    p = np.stack([out["p_tree"], out["p_svm"], out["p_nn"]], axis=1)
    decision = ((p @ np.array(device.consensus.weights_q15) + 16384) >> 15) > 16384
    assert np.mean(decision == (float_votes["consensus"] == 1)) >= 0.99
    assert np.mean(out["votes"].all(axis=1) == (float_votes["unanimous"] == 1)) >= 0.99


def test_a_context_sleep_folder_exports(tmp_path: Path) -> None:
    """`vigil export models --sleep DIR` takes a context model's folder: the firmware headers compile its path
    (SLEEP_MODEL_INPUT_CONTEXT 1, sleep_context_plan.h), HELLO names it, the manifest and card state the delay."""
    sleep = mb.write_standin_context_folder(tmp_path / "sleep", seed=1, hidden=0)
    out = tmp_path / "models"
    result = CliRunner().invoke(cli, ["export", "models", "--out", str(out), "--sleep", str(sleep), "--stress",
                                      str(MODELS / "stress")])  # fmt: skip
    assert result.exit_code == 0, result.output
    manifest = mb.read_bundle_manifest(out)
    assert manifest["sleep"]["kind"] == mb.SLEEP_CONTEXT_KIND and manifest["sleep"]["delay_epochs"] == 6
    assert set(manifest["hashes"]) == set(mb.model_order("sleep_context"))
    assert mb.bundle_sleep_kind(out).input == "context"
    header = (out / "firmware" / "vigil_models.h").read_text()
    assert "#define SLEEP_MODEL_INPUT_CONTEXT 1" in header and '{ "sleep_context", {' in header
    assert (out / "firmware" / "sleep_context_plan.h").is_file() and not (out / "firmware" / "sleep_cnn_plan.h").exists()
    assert "SLEEP_CONTEXT_INPUT_BYTES 216u" in (out / "firmware" / "sleep_context_plan.h").read_text()
    assert "3 minutes" in (out / "sleep" / "MODEL_CARD.md").read_text()
    # the twin loads it as the device runs it
    from vigil.bundle.consensus_twin import DeviceModels

    models = DeviceModels.load(out)
    assert models.sleep_input == "context" and models.sleep_delay == 6
    assert models.sleep_model == (sleep / mb.SLEEP_CONTEXT_MODEL).read_bytes()


def test_a_context_folder_that_does_not_fit_the_device_is_refused(tmp_path: Path) -> None:
    sleep = mb.write_standin_context_folder(tmp_path / "sleep", seed=2, hidden=0)
    manifest = json.loads((sleep / "manifest.json").read_text())
    manifest["input"]["delay_epochs"] = 4
    (sleep / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(VigilError, match="delay_epochs is 4; the device's context model takes 6"):
        mb.build_model_bundle(sleep, MODELS / "stress")
    manifest["kind"] = "vigil-sleep-something"
    (sleep / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(VigilError, match="expected a vigil-sleep-context manifest, got kind 'vigil-sleep-something'"):
        mb.build_model_bundle(sleep, MODELS / "stress")


def test_a_context_model_with_another_input_quantization_is_refused(tmp_path: Path) -> None:
    """The device feeds the feature bytes unchanged: the model's input must be scale 1.0, zero point -128."""
    import keras

    from vigil.export.tflite import output_silenced, to_int8_tflite

    sleep = mb.write_standin_context_folder(tmp_path / "sleep", seed=2, hidden=0)
    model = keras.Sequential([keras.Input((216,)), keras.layers.Dense(3), keras.layers.Softmax()])
    with output_silenced():
        tflite = to_int8_tflite(model, np.random.default_rng(0).uniform(0, 100, (16, 216)).astype(np.float32))
    (sleep / mb.SLEEP_CONTEXT_MODEL).write_bytes(tflite)
    manifest = json.loads((sleep / "manifest.json").read_text())
    manifest["files"][mb.SLEEP_CONTEXT_MODEL] = mb.sha256(tflite)
    (sleep / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(VigilError, match="expected the epoch features' input quantization"):
        mb.build_model_bundle(sleep, MODELS / "stress")
