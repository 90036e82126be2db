"""`vigil report`: the data it plots is the twins' (or the device's) exact integers, every PNG is written and
linked, the metrics of the inputs are on the page, missing inputs are notes and bad inputs name their file."""

from __future__ import annotations

import json
import re
import shutil
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

from vigil.cli import cli
from vigil.data.recording import Recording
from vigil.data.synthetic_accel import synthetic_accel
from vigil.data.synthetic_ppg import synthetic_ppg
from vigil.device import protocol as p
from vigil.dsp.accel import accel_columns
from vigil.dsp.epoch_image import epoch_images
from vigil.dsp.accel import wrist_motion
from vigil.dsp.ppg import ppg_chain
from vigil.errors import VigilError
from vigil.report.device_log import read_device_log
from vigil.report.metrics_files import metrics_table_from_json
from vigil.report.model_folders import load_sleep_model, load_stress_model
from vigil.report.night_metrics import night_metrics
from vigil.report.report_data import ReportInputs, build_report_data
from vigil.report.verify_reports import verify_summary_from_json

NIGHT_S = 20 * 60  # 40 epochs
STRESS_HALF_S = 240  # relaxed, then stressed
def sleep_training_metrics(n: int = 300, seed: int = 3) -> dict:
    """What `vigil train sleep` writes to metrics.json (vigil.ml.sleep.train_sleep_cnn), from arbitrary int8 outputs
    (two thirds right): the figures must reach the page."""
    from vigil.ml.sleep import sleep_metrics

    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 3, size=n)
    outputs = rng.integers(-128, 128, size=(n, 3)).astype(np.int8)
    outputs[np.arange(2 * n // 3), labels[: 2 * n // 3]] = 127
    evaluation = {"protocol": "lso5", "folds": 5, "subjects": 8, **sleep_metrics(labels, outputs)}
    return {"evaluation": evaluation, "final_model_on_training_data": sleep_metrics(labels, outputs)}


FIGURES = ("hypnogram.png", "spectrogram.png", "night_clusters.png", "ppg_beats.png", "hrv.png", "model_probabilities.png",
           "confusion_sleep_night.png", "confusion_sleep_held_out.png", "confusion_stress_held_out.png")  # fmt: skip


@pytest.fixture(scope="module")
def inputs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A short labelled night, a relax-then-stress PPG session, a quickly trained stress trio and an untrained
    (stand-in) int8 sleep CNN with a metrics.json and manifest."""
    from vigil.data.synthetic_stress import synthetic_stress_dataset
    from vigil.export.tflite import to_int8_tflite
    from vigil.ml.architectures import sleep_cnn
    from vigil.ml.stress import evaluate_stress, fit_stress_trio, output_silenced
    from vigil.ml.stress_io import save_stress_trio

    root = tmp_path_factory.mktemp("report_inputs")
    labels = np.repeat([0, 1, 1, 2, 1, 0, 1, 2], 5).astype(np.int8)  # 40 epochs: wake, NREM, REM runs
    labels[7] = -1  # one unscored epoch
    night = Recording.from_arrays(accel=synthetic_accel(NIGHT_S, seed=4), sleep_labels=labels,
                                  source={"kind": "synthetic", "seed": 4,
                                          "note": "<script>alert(1)</script>"})  # fmt: skip
    night.save(root / "night.vrec")
    relax, _ = synthetic_ppg(STRESS_HALF_S, 64, seed=11, stress=0.1)
    stressed, _ = synthetic_ppg(STRESS_HALF_S, 64, seed=12, stress=0.9)
    session = Recording.from_arrays(accel=synthetic_accel(2 * STRESS_HALF_S, seed=5),
                                    ppg=np.concatenate([relax, stressed]), ppg_rate_hz=64,
                                    source={"kind": "synthetic", "seed": 11})  # fmt: skip
    session.save(root / "stress.vrec")

    ds = synthetic_stress_dataset(subjects=3, sessions_per_condition=1, session_s=240, difficulty="easy")
    metrics = evaluate_stress(ds, "loso", nn_epochs=20)
    trio = fit_stress_trio(ds.features, ds.labels, nn_epochs=20)
    save_stress_trio(trio, root / "stress_model", ds, {"protocol": "loso", "seed": 0, "nn_epochs": 20}, metrics)

    sleep = root / "sleep_model"
    sleep.mkdir()
    rep = np.random.default_rng(0).uniform(0, 60, (8, 65, 73, 1)).astype(np.float32)
    with output_silenced():
        (sleep / "sleep_cnn.tflite").write_bytes(to_int8_tflite(sleep_cnn(), rep))
    (sleep / "metrics.json").write_text(json.dumps(sleep_training_metrics()))
    (sleep / "manifest.json").write_text(json.dumps({"kind": "vigil-sleep-cnn", "version": 1}))
    return {"night": root / "night.vrec", "stress": root / "stress.vrec", "stress_model": root / "stress_model",
            "sleep_model": sleep, "root": root}  # fmt: skip


class TagBalance(HTMLParser):
    """Checks that every element is closed in order (a broken table or section would show on the page)."""

    VOID = {"meta", "img", "br", "hr", "link", "input"}

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []
        self.errors: list[str] = []

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack.pop() != tag:
            self.errors.append(f"unexpected </{tag}> at {self.getpos()}")


def assert_well_formed(html: str) -> None:
    checker = TagBalance()
    checker.feed(html)
    assert checker.errors == [] and checker.stack == [], (checker.errors, checker.stack)


def run_report(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["report", *args])
    return result.exit_code, result.output


def full_args(inputs: dict[str, Path], out: Path) -> list[str]:
    return ["--out", str(out), "--night", str(inputs["night"]), "--sleep-model", str(inputs["sleep_model"]),
            "--stress-session", str(inputs["stress"]), "--stress-model", str(inputs["stress_model"])]  # fmt: skip


# ---------------------------------------------------------------- the page


def test_full_report_files_pngs_links_and_numbers(inputs: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "report"
    code, output = run_report(*full_args(inputs, out), "--json")
    assert code == 0, output
    summary = json.loads(output)
    html = (out / "index.html").read_text()
    assert_well_formed(html)
    assert [f["file"] for f in summary["figures"]] == list(FIGURES)
    linked = re.findall(r'<img src="([^"]+)"', html)
    assert sorted(linked) == sorted(FIGURES) == sorted(p.name for p in out.glob("*.png"))
    for fig in summary["figures"]:
        with Image.open(out / fig["file"]) as img:
            img.load()  # decodes the whole image
            assert img.format == "PNG" and img.size == (fig["width"], fig["height"])
            assert 500 <= img.size[0] <= 1300 and 400 <= img.size[1] <= 1000, (fig["file"], img.size)
        assert f'width="{fig["width"]}" height="{fig["height"]}"' in html
    # the inputs' metrics are on the page: the stress folder's (3 digits) and the sleep folder's incl. kappa and AUC
    stress_metrics = json.loads((inputs["stress_model"] / "metrics.json").read_text())["models"]
    for name in ("tree", "svm", "nn", "consensus", "unanimous"):
        assert f"<td>{stress_metrics[name]['specificity']:.3f}</td>" in html
    ev = json.loads((inputs["sleep_model"] / "metrics.json").read_text())["evaluation"]
    for value in (ev["accuracy"], ev["kappa"], *ev["macro"].values(), ev["sleep_wake"]["specificity"],
                  ev["sleep_wake"]["kappa"], ev["sleep_wake"]["auc"]):  # fmt: skip
        assert f"<td>{value:.3f}</td>" in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "<script>" not in html  # escaped inputs
    assert summary["missing"] == {"device verification": "No `vigil verify --json` report given (--verify JSON)."}
    assert json.loads((out / "report.json").read_text())["figures"] == summary["figures"]
    assert summary["night"]["epochs"] == 40 and summary["stress"]["segments"] == 7


def test_the_plotted_values_are_the_twins_and_the_models_as_the_device_runs_them(inputs: dict[str, Path]) -> None:
    data = build_report_data(ReportInputs(night=inputs["night"], stress_session=inputs["stress"],
                                          sleep_model=inputs["sleep_model"],
                                          stress_model=inputs["stress_model"]))  # fmt: skip
    night_rec, session_rec = Recording.load(inputs["night"]), Recording.load(inputs["stress"])
    assert data.night is not None and data.stress is not None
    columns = accel_columns(night_rec.accel)
    assert np.array_equal(data.night.columns, columns)
    assert np.array_equal(data.night.true_labels, night_rec.epoch_labels())
    # the CNN's classes are TFLM's argmax on the twin's int8 images (bins x frames as the seed's CNN takes them)
    from vigil.export.tflite import tflm_reference

    images = epoch_images(columns)
    tflite = (inputs["sleep_model"] / "sleep_cnn.tflite").read_bytes()
    raw = tflm_reference(tflite, np.stack([i.image.T[..., None] for i in images]))
    assert np.array_equal(data.night.predicted[: len(images)], np.argmax(raw, axis=1))
    assert np.all(data.night.predicted[len(images):] == -1) and len(images) < 40  # last epoch: no full image yet
    # the stress session: twin beats and features, the trio's outputs on exactly those features
    filtered, beats, segments = ppg_chain(session_rec.ppg, 64, motion=wrist_motion(session_rec.accel))
    assert np.array_equal(data.stress.beats, beats) and list(data.stress.segments) == segments
    feats = np.asarray([[s.avhr, s.avrr, s.sdrr, s.rmssd, s.pnn50, s.pnn20] for s in segments])
    probas = load_stress_model(inputs["stress_model"]).trio.probabilities(feats)
    assert np.allclose(data.stress.p_stress["svm"], probas[1][:, 1])
    assert data.stress.decision.tolist() == [0, 0, 0, 0, 1, 1, 1]  # relaxed 4 min, then stressed
    night_table = data.metrics[0]
    keep = (night_rec.epoch_labels() >= 0) & (data.night.predicted >= 0)
    assert night_table.rows[0].n == int(keep.sum()) == 37
    assert night_table.confusions[0].counts.sum() == 37
    truth, pred = night_rec.epoch_labels()[keep], data.night.predicted[keep]
    assert night_table.rows[0].accuracy == pytest.approx(np.mean(truth == pred))
    assert night_table.rows[1].accuracy == pytest.approx(np.mean((truth > 0) == (pred > 0)))  # sleep vs wake
    wake, asleep = truth == 0, truth > 0
    assert night_table.confusions[1].counts.tolist() == [[np.sum(wake & (pred == 0)), np.sum(wake & (pred > 0))],
                                                         [np.sum(asleep & (pred == 0)), np.sum(asleep & (pred > 0))]]


# ---------------------------------------------------------------- device outputs win


def write_log(path: Path, records: list[dict]) -> None:
    path.write_text("".join(json.dumps(r) + "\n" for r in records))


def stress_record(segment: int, stressed: bool, reasons: int) -> dict:
    """A STRESS record in the protocol's fields (values arbitrary but typed as the device sends them)."""
    return {"type": "STRESS", "segment": segment, "features_crc": 0, "p_tree": 32768 if stressed else 0,
            "p_svm": 29491 if stressed else 3277, "p_nn": 28800 if stressed else 2560, "nn_out0": 0, "nn_out1": 0,
            "votes": 7 if stressed else 0, "weighted_q15": 26214 if stressed else 3277, "decision": int(stressed),
            "unanimous": int(stressed), "alert": int(reasons == 0xFF), "reasons": reasons, "motion": 12}  # fmt: skip


def test_device_log_values_are_preferred_and_said_so(inputs: dict[str, Path], tmp_path: Path) -> None:
    session = Recording.load(inputs["stress"])
    _, beats, segments = ppg_chain(session.ppg, 64, motion=wrist_motion(session.accel))
    hrv = [{k: int(getattr(s, k)) for k in p.HRV_FIELDS} for s in segments]
    hrv[2]["avhr"] += 100  # the device says 1 bpm more in segment 2
    stale = [{"type": "CONFIG_ACK"}, {"type": "BEAT", "index": 5}]  # an earlier session in the same log
    from vigil.bundle.model_bundle import model_hash

    nn_hash = model_hash((inputs["stress_model"] / "stress_nn.tflite").read_bytes()).hex()
    hello = {"type": "HELLO", "board": "vwrist", "firmware_version": "0.1.0", "build_id": "b1",
             "models": [{"name": "stress_nn", "hash": nn_hash}, {"name": "sleep_cnn", "hash": "00" * 16}]}  # fmt: skip
    reasons = {k: (0xFF if k == 5 else 0xEF if k > 3 else 0xEC) for k in range(len(segments))}
    records = [hello, *stale,
               {"type": "CONFIG_ACK", "status": 0}, *({"type": "BEAT", "index": int(b)} for b in beats),
               *({"type": "HRV", **h} for h in hrv),
               *(stress_record(k, k > 3, reasons[k]) for k in range(len(segments)))]  # fmt: skip
    log = tmp_path / "stress.jsonl"
    write_log(log, records)
    data = build_report_data(ReportInputs(stress_session=inputs["stress"], stress_model=inputs["stress_model"],
                                          stress_log=log))  # fmt: skip
    s = data.stress
    assert s is not None and np.array_equal(s.beats, beats)
    assert s.segments[2].avhr == segments[2].avhr + 100
    assert any(f"{len(segments) - 1} of {len(segments)} segments equal the twin's" in n for n in s.notes)
    assert s.decision.tolist() == [0, 0, 0, 0, 1, 1, 1] and s.p_stress["nn"][4] == pytest.approx(28800 / 32768)
    assert s.p_stress_q15["svm"].tolist() == [3277] * 4 + [29491] * 3 and s.reasons.tolist() == list(reasons.values())
    assert [a.segment for a in s.alerts] == [5] and len(s.alerts[0].reasons) == 8
    assert s.decisions_from == f"device log {log}"
    assert any("The device's decision equals" in n and "in 7 of 7 segments" in n for n in s.notes)
    assert any("announces the report's models: stress_nn" in n for n in s.notes), s.notes
    assert [(c.model, c.same) for c in data.model_hashes] == [("stress_nn", True)]
    out = tmp_path / "report"
    code, output = run_report("--out", str(out), "--stress-session", str(inputs["stress"]), "--stress-log", str(log),
                              "--stress-model", str(inputs["stress_model"]))  # fmt: skip
    assert code == 0, output
    html = (out / "index.html").read_text()
    assert "Model outputs, decisions, alerts and their reasons are the device&#x27;s STRESS records" in html
    # reasons failed, decoded from the bitmask: 0xEC lacks unanimous, above_threshold and awake; 0xEF lacks awake
    assert "<td>unanimous, above_threshold, awake</td>" in html and "<td>awake</td>" in html
    assert "<td>none</td>" in html and "&quot;build_id&quot;: &quot;b1&quot;" in html
    # the wearer's baseline: 7 minutes are not enough for it (ready after 10 valid ones)
    assert "<th>baseline (valid, still minutes)</th>" in html and "<td>warming up (1/10)</td>" in html
    # the features beyond the six; the first minutes cannot fill the spectrum's 4-minute window
    assert "<th>SD1 (ms)</th>" in html and "<th>LF/HF (last 4 min)</th>" in html
    assert "<td>— (spectrum not ready)</td>" in html


def test_night_log_columns_and_sleep_records(inputs: dict[str, Path], tmp_path: Path) -> None:
    columns = accel_columns(Recording.load(inputs["night"]).accel)
    records = [{"type": "HELLO", "models": [{"name": "sleep_cnn", "hash": "00" * 16}]}, {"type": "CONFIG_ACK"},
               *({"type": "SPEC_COLUMN", "index": j, "values": c.tolist()} for j, c in enumerate(columns)),
               *({"type": "SLEEP", "epoch": e, "out0": -118, "out1": -108, "out2": 98, "cls": 2, "motion": 7 + e}
                 for e in range(3))]  # fmt: skip
    log = tmp_path / "night.jsonl"
    write_log(log, records)
    data = build_report_data(ReportInputs(night=inputs["night"], night_log=log, sleep_model=inputs["sleep_model"]))
    assert data.night is not None and np.array_equal(data.night.columns, columns)
    host = build_report_data(ReportInputs(night=inputs["night"], sleep_model=inputs["sleep_model"])).night
    assert host is not None
    agree = int(np.sum(host.predicted[:3] == 2))
    assert any(f"on {agree} of 3 epochs" in n for n in data.night.notes), data.night.notes
    assert any("MODEL MISMATCH" in n and "sleep_cnn device 000000000000…" in n for n in data.night.notes)
    assert data.night.predicted[:4].tolist() == [2, 2, 2, -1] and data.night.motion[:4].tolist() == [7, 8, 9, -1]
    assert data.night.outputs[0].tolist() == [-118, -108, 98]
    model = load_sleep_model(inputs["sleep_model"])  # the probabilities come through its output quantization
    assert data.night.probabilities[0] == pytest.approx(model.probabilities(np.array([[-118, -108, 98]]))[0])
    assert any(f"{len(columns)} of {len(columns)} equal the twin's" in n for n in data.night.notes)
    write_log(log, records[: len(columns) // 2])  # a log of another (shorter) recording
    with pytest.raises(VigilError, match=re.escape(f"{log}: {len(columns) // 2 - 2} spectrogram columns, but")):
        build_report_data(ReportInputs(night=inputs["night"], night_log=log))


# ---------------------------------------------------------------- verify reports


def test_verify_reports_show_verdict_and_mismatch_table(inputs: dict[str, Path], tmp_path: Path) -> None:
    stages = {s: {"windows": 40, "mismatches": 0, "first_mismatch": None} for s in ("stft_columns", "epoch_image")}
    good = {"ok": True, "board": "vwrist", "recording": "night.vrec", "stages": stages, "device_errors": [],
            "cost": {"total_instructions_per_second_of_signal": 123456}}  # fmt: skip
    bad = json.loads(json.dumps(good))
    bad.update(ok=False, recording="stress.vrec")
    first = "epoch_image: window 3, index crc: device a, twin b"
    bad["stages"]["epoch_image"].update(mismatches=2, first_mismatch=first)
    (tmp_path / "good.json").write_text(json.dumps(good))
    (tmp_path / "bad.json").write_text(json.dumps(bad))
    out = tmp_path / "report"
    code, output = run_report("--out", str(out), "--verify", str(tmp_path / "good.json"),
                              "--verify", str(tmp_path / "bad.json"))  # fmt: skip
    assert code == 0, output
    html = (out / "index.html").read_text()
    assert "all outputs bit-exact" in html and "MISMATCH" in html
    assert first in html and "123,456 instructions" in html
    assert verify_summary_from_json(tmp_path / "bad.json").stages[1].mismatches == 2


# ---------------------------------------------------------------- missing and bad inputs


def test_missing_inputs_are_notes_not_crashes(inputs: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "report"
    code, output = run_report("--out", str(out), "--stress-session", str(inputs["stress"]), "--json")
    assert code == 0, output
    summary = json.loads(output)  # the repo's models/ by default: the twin's STRESS records
    # models/ carries both training folders' metrics: their held-out confusion matrices come with them. The committed
    # trio reads features relative to the wearer's baseline, which this short session never fills (10 valid
    # minutes): no minute is classified, so no probabilities are drawn, and every record says "baseline_ready" failed
    assert [f["file"] for f in summary["figures"]] == ["ppg_beats.png", "hrv.png", "confusion_sleep_held_out.png",
                                                       "confusion_stress_held_out.png"]  # fmt: skip
    records = summary["stress"]["records"]
    assert records and all("baseline_ready" in r["reasons_failed"] for r in records)
    assert set(summary["missing"]) == {"night", "device verification"}
    assert summary["stress"]["decisions_from"].startswith("twin of ")
    html = (out / "index.html").read_text()
    assert_well_formed(html)
    for why in summary["missing"].values():
        assert why.replace("`", "&#x27;").replace("'", "&#x27;") in html or why in html
    # a night without labels and without a model: the spectrogram alone, with notes
    bare = Recording.from_arrays(accel=synthetic_accel(300, seed=1))
    data = build_report_data(ReportInputs(night=bare, default_models=False))
    assert data.night is not None and data.night.true_labels is None and data.night.predicted is None
    assert {"hypnogram prediction", "sleep model", "stress model", "night clusters"} <= set(data.missing)
    assert data.night_clusters is None
    code, output = run_report("--out", str(tmp_path / "empty"))
    assert code == 0 and (tmp_path / "empty" / "index.html").exists()


def test_bad_inputs_name_the_file(inputs: dict[str, Path], tmp_path: Path) -> None:
    broken = tmp_path / "stress_model"
    shutil.copytree(inputs["stress_model"], broken)
    (broken / "metrics.json").write_text('{"protocol": "loso",\n "models": }\n')
    code, output = run_report("--out", str(tmp_path / "r1"), "--stress-model", str(broken))
    assert code == 1 and f"{broken / 'metrics.json'}:2: expected JSON" in output
    code, output = run_report("--out", str(tmp_path / "r2"), "--sleep-model", str(inputs["stress_model"]))
    assert code == 1 and (f"{inputs['stress_model'] / 'manifest.json'}:1: expected the manifest of a `vigil train "
                          "sleep` folder (kind vigil-sleep-context or vigil-sleep-cnn), got kind 'vigil-stress-trio'"
                          in output), output  # fmt: skip
    wrong_kind = tmp_path / "sleep_model"
    shutil.copytree(inputs["sleep_model"], wrong_kind)
    (wrong_kind / "manifest.json").write_text('{"kind": "vigil-stress-trio"}')
    with pytest.raises(VigilError, match=re.escape(f"{wrong_kind / 'manifest.json'}:1: expected the manifest of a")):
        load_sleep_model(wrong_kind)
    (wrong_kind / "manifest.json").unlink()  # no manifest: a CNN folder needs its sleep_cnn.tflite
    (wrong_kind / "sleep_cnn.tflite").unlink()
    with pytest.raises(VigilError, match=re.escape(f"{wrong_kind / 'sleep_cnn.tflite'}: missing")):
        load_sleep_model(wrong_kind)
    log = tmp_path / "bad.jsonl"
    log.write_text('{"type": "CONFIG_ACK"}\n{"type": "HRV", "segment": 0}\n')
    code, output = run_report("--out", str(tmp_path / "r3"), "--stress-session", str(inputs["stress"]),
                              "--stress-log", str(log))  # fmt: skip
    assert code == 1 and f"{log}:2: HRV record without valid" in output
    sleep = {"type": "SLEEP", "epoch": 0, "out0": 0, "out1": 0, "out2": 0, "cls": 4, "motion": 0}
    log.write_text(json.dumps(sleep) + "\n")
    with pytest.raises(VigilError, match=re.escape(f"{log}:1: sleep class 4; expected 0 wake, 1 NREM, 2 REM or 255")):
        read_device_log(log)
    log.write_text('{"type": "HELLO"}\n{"type": "STRESS", "segment": 0, "p_tree": 0.9, "reasons": ["awake"]}\n')
    with pytest.raises(VigilError, match=re.escape(f"{log}:2: STRESS record without features_crc, p_svm")):
        read_device_log(log)  # only the protocol's fields (vigil.device.protocol.STRESS_FIELDS) are read
    (tmp_path / "v.json").write_text('{"board": "vwrist"}')
    code, output = run_report("--out", str(tmp_path / "r4"), "--verify", str(tmp_path / "v.json"))
    assert code == 1 and f"{tmp_path / 'v.json'}:1: expected the JSON of `vigil verify --json`" in output
    code, output = run_report("--out", str(tmp_path / "r5"), "--stress-session", str(inputs["night"]))
    assert code == 1 and f"{inputs['night']}: no PPG samples" in output
    off_grid = tmp_path / "off_grid.vrec"
    Recording.from_arrays(accel=synthetic_accel(300, seed=1), sleep_labels=np.zeros(5, np.int8),
                          sleep_labels_start_s=15.0).save(off_grid)  # fmt: skip
    code, output = run_report("--out", str(tmp_path / "r7"), "--night", str(off_grid))
    assert code == 1 and f"{off_grid}: sleep labels start at 15 s, not on the 30-s epoch grid" in output
    code, output = run_report("--out", str(tmp_path / "r6"), "--night", str(tmp_path / "absent.vrec"))
    assert code == 2 and "absent.vrec" in output and "does not exist" in output


def test_metrics_files_are_read_by_the_keys_vigil_writes(inputs: dict[str, Path], tmp_path: Path) -> None:
    """Exactly the keys `vigil train stress|sleep` and `vigil verify --json` write: another shape, or a missing key, is
    an error naming the file and the key (no guessed alternatives)."""
    stress = json.loads((inputs["stress_model"] / "metrics.json").read_text())
    path = tmp_path / "metrics.json"
    path.write_text(json.dumps(stress))
    table = metrics_table_from_json(path, "stress")
    assert [r.accuracy for r in table.rows] == [m["accuracy"] for m in stress["models"].values()]
    assert table.title == f"stress models, held out (loso, rows {stress['rows']}, folds {stress['folds']})"
    del stress["models"]["svm"]["specificity"]
    path.write_text(json.dumps(stress))
    with pytest.raises(VigilError, match=re.escape(f'{path}:1: expected `vigil train stress`\'s metrics.json: no key '
                                                   '"models.svm.specificity"')):  # fmt: skip
        metrics_table_from_json(path, "stress")
    flat = {"held_out": {"confusion": [[8, 2, 0], [1, 7, 2], [0, 0, 10]], "cohen_kappa": 0.7}}  # not vigil's shape
    path.write_text(json.dumps(flat))
    with pytest.raises(VigilError, match=re.escape(f'{path}:1: expected `vigil train sleep`\'s metrics.json: no key '
                                                   '"evaluation.n"')):  # fmt: skip
        metrics_table_from_json(path, "sleep")
    sleep = sleep_training_metrics()
    sleep["evaluation"]["sleep_wake"]["confusion"] = [[1, 2, 3]]
    path.write_text(json.dumps(sleep))
    with pytest.raises(VigilError, match=re.escape('"evaluation.sleep_wake.confusion" is a (1, 3) matrix; expected 2')):
        metrics_table_from_json(path, "sleep")
    verify = {"ok": True, "board": "native", "recording": "r.vrec", "device_errors": [], "cost": {},
              "stages": {"hrv_features": {"windows": 3, "mismatches": 0, "first_mismatch": None}}}  # fmt: skip
    path.write_text(json.dumps(verify))
    assert verify_summary_from_json(path).instructions_per_second is None  # measured on vwrist only
    del verify["stages"]["hrv_features"]["first_mismatch"]
    path.write_text(json.dumps(verify))
    with pytest.raises(VigilError, match=re.escape(f'{path}:1: expected the JSON of `vigil verify --json`: no key '
                                                   '"stages.hrv_features.first_mismatch"')):  # fmt: skip
        verify_summary_from_json(path)


def test_the_data_is_frozen(inputs: dict[str, Path]) -> None:
    """The renderers get frozen dataclasses: read-only arrays, tuples, read-only mappings; the recording a part was
    built from stays writable."""
    import dataclasses

    session = Recording.load(inputs["stress"])
    data = build_report_data(ReportInputs(night=inputs["night"], stress_session=session,
                                          sleep_model=inputs["sleep_model"],
                                          stress_model=inputs["stress_model"]))  # fmt: skip
    assert data.night is not None and data.stress is not None
    with pytest.raises(dataclasses.FrozenInstanceError):
        data.night.predicted = None  # type: ignore[misc]
    for array in (data.night.columns, data.night.predicted, data.stress.ppg, data.stress.p_stress["svm"],
                  data.metrics[0].confusions[0].counts):  # fmt: skip
        with pytest.raises(ValueError, match="read-only"):
            array[0] = 0
    with pytest.raises(TypeError):
        data.missing["night"] = "x"  # type: ignore[index]
    assert isinstance(data.stress.notes, tuple) and isinstance(data.metrics, tuple)
    assert session.ppg.flags.writeable


def test_night_metrics_are_vigil_ml_metrics(inputs: dict[str, Path]) -> None:
    """κ and AUC on the night are vigil.ml.metrics' (as training reports them), on the scored epochs."""
    from vigil.ml.metrics import cohen_kappa, confusion_matrix, roc_auc

    night = build_report_data(ReportInputs(night=inputs["night"], sleep_model=inputs["sleep_model"])).night
    assert night is not None and night.predicted is not None and night.probabilities is not None
    keep = (night.true_labels >= 0) & (night.predicted >= 0)
    y, yhat, probs = night.true_labels[keep].astype(np.int64), night.predicted[keep], night.probabilities[keep]
    three, sleep_wake = night_metrics(night).rows
    assert three.kappa == cohen_kappa(confusion_matrix(y, yhat, 3))
    assert sleep_wake.kappa == cohen_kappa(confusion_matrix((y > 0).astype(np.int64), (yhat > 0).astype(np.int64)))
    assert sleep_wake.auc == roc_auc(y > 0, probs[:, 1] + probs[:, 2])
    p = probs / probs.sum(axis=1, keepdims=True)
    assert three.auc == float(np.mean([roc_auc(y == k, p[:, k]) for k in range(3)]))


def test_device_log_of_several_sessions_keeps_the_last(tmp_path: Path) -> None:
    log = tmp_path / "m.jsonl"
    write_log(log, [{"type": "HELLO", "board": "native"}, {"type": "CONFIG_ACK"}, {"type": "BEAT", "index": 1},
                    {"type": "CONFIG_ACK"}, {"type": "BEAT", "index": 7}])  # fmt: skip
    with open(log, "a") as f:
        f.write('{"type": "BEAT", "ind')  # a crash mid-line
    read = read_device_log(log)
    assert read.beats == [7] and read.sessions == 2 and read.hello == {"type": "HELLO", "board": "native"}
    assert read.partial_last_line and read.model_hashes() == {}


def test_a_log_without_model_hashes_says_its_models_are_unknown(inputs: dict[str, Path], tmp_path: Path) -> None:
    log = tmp_path / "no_hello.jsonl"
    write_log(log, [{"type": "CONFIG_ACK"}, stress_record(0, True, 0x2F)])
    data = build_report_data(ReportInputs(stress_session=inputs["stress"], stress_log=log))
    assert data.stress is not None and data.model_hashes == ()
    assert f"{log} has no HELLO with model hashes: which models made its records is unknown." in data.stress.notes
    assert data.stress.reasons.tolist() == [0x2F, -1, -1, -1, -1, -1, -1]
    assert any("6 of 7 segments have no STRESS record" in n for n in data.stress.notes)


def test_a_second_report_in_the_same_folder_leaves_no_stale_figure(inputs: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "report"
    code, output = run_report("--out", str(out), "--stress-session", str(inputs["stress"]), "--stress-model",
                              str(inputs["stress_model"]))  # fmt: skip
    assert code == 0 and (out / "model_probabilities.png").exists(), output
    (out / "mine.png").write_bytes(b"not the report's")
    code, output = run_report("--out", str(out), "--sleep-model", str(inputs["sleep_model"]))
    assert code == 0, output
    assert sorted(p.name for p in out.glob("*.png")) == ["confusion_sleep_held_out.png", "mine.png"]


SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


@pytest.mark.skipif(not (SHARED_DATA / "empatica_e4_sample").is_dir(), reason="../shared/data absent")
def test_real_sources_convert_on_the_fly(inputs: dict[str, Path], tmp_path: Path) -> None:
    """A Walch accelerometer file (no labels beside it) and an Empatica E4 folder, read as `vigil convert` would."""
    out = tmp_path / "report"
    code, output = run_report("--out", str(out), "--night", str(SHARED_DATA / "46343_acceleration_snippet.txt"),
                              "--stress-session", str(SHARED_DATA / "empatica_e4_sample"),
                              "--stress-model", str(inputs["stress_model"]), "--json")  # fmt: skip
    assert code == 0, output
    summary = json.loads(output)
    assert summary["night"]["epochs"] == 13 and summary["stress"]["segments"] == 2
    assert "hypnogram prediction" in summary["missing"]  # no sleep model given, no labels in the file
    assert [f["file"] for f in summary["figures"]][:3] == ["spectrogram.png", "ppg_beats.png", "hrv.png"]


def test_long_nights_keep_their_loudest_columns() -> None:
    from vigil.report.plots import max_pool_columns

    db = np.zeros((2500, 65))
    db[1234, 7] = 60.0  # one movement burst in one column
    pooled, k = max_pool_columns(db, 1100)
    assert k == 3 and pooled.shape == (834, 65) and pooled[1234 // 3, 7] == 60.0 and pooled.sum() == 60.0
    assert max_pool_columns(db[:1100], 1100)[1] == 1


def test_sleep_training_metrics_give_three_class_and_sleep_wake_rows(tmp_path: Path) -> None:
    from vigil.ml.sleep import sleep_metrics

    rng = np.random.default_rng(3)
    labels = rng.integers(0, 3, size=300)
    outputs = rng.integers(-128, 128, size=(300, 3)).astype(np.int8)
    outputs[np.arange(200), labels[:200]] = 127  # two thirds right
    evaluation = {"protocol": "lso5", "folds": 5, "subjects": 8, **sleep_metrics(labels, outputs)}
    path = tmp_path / "metrics.json"
    path.write_text(json.dumps({"evaluation": evaluation}))
    table = metrics_table_from_json(path, "sleep")
    three, sleep_wake = table.rows
    assert three.accuracy == pytest.approx(evaluation["accuracy"]) and three.kappa == pytest.approx(evaluation["kappa"])
    assert sleep_wake.auc == pytest.approx(evaluation["sleep_wake"]["auc"])
    assert [c.counts.shape for c in table.confusions] == [(3, 3), (2, 2)] and "0.596" in table.note
    path.write_text(json.dumps({"evaluation": {"protocol": "lso5"}}))
    with pytest.raises(VigilError, match="metrics.json:1: expected `vigil train sleep`"):
        metrics_table_from_json(path, "sleep")


def test_the_night_s_epochs_are_clustered_against_its_own_labels(inputs: dict[str, Path], tmp_path: Path) -> None:
    """The seed's unsupervised look, in the report: KMeans on the night's scored epochs, held against its labels
    (here the generator's, so never called PSG)."""
    from vigil.ml.sleep_explore import contingency

    out = tmp_path / "report"
    code, output = run_report("--out", str(out), "--night", str(inputs["night"]), "--json")
    assert code == 0, output
    clusters = json.loads(output)["night"]["clusters"]
    labels = Recording.load(inputs["night"]).epoch_labels()
    scored = labels[labels >= 0]
    decided = scored[: len(scored)]  # every scored epoch of the night is clustered (the features need no context)
    assert clusters["method"] == "kmeans" and clusters["clusters"] == 3
    assert clusters["epochs_clustered"] == len(decided) - 0 or clusters["epochs_clustered"] <= len(scored)
    table = clusters["table"]
    assert sum(t["total"] for t in table) == clusters["epochs_clustered"]
    counts = np.array([[t["wake"], t["nrem"], t["rem"]] for t in table])
    assert clusters["purity"] == pytest.approx(counts.max(axis=1).sum() / counts.sum())
    assert max(counts.sum(axis=0)) / counts.sum() <= clusters["purity"] <= 1.0
    # clusters are numbered most wake first
    wake_share = counts[:, 0] / np.maximum(counts.sum(axis=1), 1)
    assert list(wake_share) == sorted(wake_share, reverse=True)
    html = (out / "index.html").read_text()
    assert 'id="night_clusters"' in html and "night_clusters.png" in html
    assert "wake (synthetic" in html and "wake (PSG)" not in html
    assert contingency(np.array([0, 0, 1]), np.array([0, 1, 2])).tolist() == [[1, 1, 0], [0, 0, 1]]


def test_a_segment_with_invalid_features_is_not_classified_though_the_device_sent_its_record() -> None:
    """The device runs its models on every segment; where the record's features_valid reason is clear, the report
    shows no probability, decision or unanimity (the record's integers are kept)."""
    from vigil.report.stress_session import record_classification

    records = [stress_record(0, True, 0x7F), stress_record(1, True, 0x7F & ~0x04), stress_record(2, False, 0x5F)]
    c = record_classification(records, 4, "test")
    assert [round(float(x), 3) for x in c.p_stress["tree"][[0, 2]]] == [1.0, 0.0]
    assert np.isnan(c.p_stress["tree"][1]) and np.isnan(c.weighted[1]) and np.isnan(c.weighted[3])
    assert c.decision.tolist() == [1, -1, 0, -1] and c.unanimous.tolist() == [1, -1, 0, -1]
    assert c.p_stress_q15["tree"].tolist() == [32768, 32768, 0, -1] and c.reasons.tolist()[1] == 0x7B
