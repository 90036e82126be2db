"""`vigil report` on a real device log: a short synthetic session replayed through the native board and logged as
`vigil replay --out` logs it; the page shows the device's SLEEP / STRESS integers, and they equal the twin's
(what the report shows without a log). The reasons strip decodes the bitmask; a HELLO whose model hashes are not
the report's models is reported as a mismatch."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner

from vigil.bundle import consensus_twin as ct
from vigil.cli import cli
from vigil.data.synthetic import synthetic_session
from vigil.device import board as boards
from vigil.device.link import Link
from vigil.monitor import JsonlLog, event_record
from vigil.replay import replay
from vigil.report.report_data import ReportInputs, build_report_data
from vigil.report.stress_session import StressSessionData
from vigil.report.summary import summary_json

pytestmark = pytest.mark.board

SECONDS = 420  # 14 epochs (12 SLEEP records: an image needs 93 s), 6 HRV segments and 6 STRESS records


@pytest.fixture(scope="module")
def session(tmp_path_factory: pytest.TempPathFactory, synthetic_stress_models_in_use: tuple[Path, Path]) -> dict[str, Any]:
    """A stressed session replayed through the native board built with a trio trained on synthetic stress (so that
    it alerts: tests/conftest.py); every frame logged as JSON Lines."""
    root = tmp_path_factory.mktemp("report_device")
    rec = synthetic_session(SECONDS, seed=5, stress=1.0)
    rec.save(root / "session.vrec")
    log = root / "session.jsonl"
    with boards.running_board("native", artifact=synthetic_stress_models_in_use[1]) as proc, Link.open(proc.port) as link, JsonlLog(log) as jsonl:
        link.listeners.append(lambda event: jsonl.write(event_record(event, proc.port)))
        link.request_hello()
        outputs = replay(link, rec)
    assert outputs.errors == [] and outputs.stress and outputs.sleep
    return {"rec": root / "session.vrec", "log": log, "outputs": outputs, "root": root}


def run_report(*args: str) -> dict:
    result = CliRunner().invoke(cli, ["report", *args, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_the_page_shows_the_devices_records_and_they_equal_the_twins(session: dict[str, Any]) -> None:
    models = str(ct.models_dir())
    out = session["root"] / "report"
    device = run_report("--out", str(out), "--night", str(session["rec"]), "--night-log", str(session["log"]),
                        "--stress-session", str(session["rec"]), "--stress-log", str(session["log"]),
                        "--models", models)  # fmt: skip
    twin = run_report("--out", str(session["root"] / "twin"), "--night", str(session["rec"]),
                      "--stress-session", str(session["rec"]), "--models", models)  # fmt: skip
    assert device["stress"]["decisions_from"] == f"device log {session['log']}"
    assert twin["stress"]["decisions_from"] == f"twin of {models}"
    # the device's records, as logged, are what the page holds ...
    dev_stress = {r["segment"]: r for r in session["outputs"].stress}
    assert [r["segment"] for r in device["stress"]["records"]] == sorted(dev_stress)
    for r in device["stress"]["records"]:
        d = dev_stress[r["segment"]]
        assert (r["p_tree_q15"], r["p_svm_q15"], r["p_nn_q15"], r["weighted_q15"]) == (
            d["p_tree"], d["p_svm"], d["p_nn"], d["weighted_q15"])
        assert (r["decision"], r["unanimous"], r["alert"], r["reasons"], r["motion"]) == (
            d["decision"], d["unanimous"], d["alert"], d["reasons"], d["motion"])
    dev_sleep = {r["epoch"]: r for r in session["outputs"].sleep}
    assert [r["epoch"] for r in device["night"]["sleep"]] == sorted(dev_sleep)
    for r in device["night"]["sleep"]:
        d = dev_sleep[r["epoch"]]
        assert r["outputs"] == [d["out0"], d["out1"], d["out2"]] and (r["cls"], r["motion"]) == (d["cls"], d["motion"])
    # ... and equal the twin's, every field, alerts included
    assert device["stress"]["records"] == twin["stress"]["records"]
    assert device["night"]["sleep"] == twin["night"]["sleep"]
    assert device["stress"]["alerts"] == twin["stress"]["alerts"] and device["stress"]["alerts"]
    n_stress = len(dev_stress)
    assert f"{n_stress} of {n_stress} STRESS records equal the twin of {models}'s in every field." in \
        device["stress"]["notes"]  # fmt: skip
    assert all(c["same"] for c in device["model_hashes"]) and len(device["model_hashes"]) == 5
    html = (out / "index.html").read_text()
    first = device["stress"]["records"][0]
    assert f"<td>{first['p_svm_q15'] / 32768:.2f}</td>" in html and "the report's models</span>" in html


def test_the_reasons_strip_decodes_the_bitmask(session: dict[str, Any]) -> None:
    from vigil.report.plots import reason_matrix

    data = build_report_data(ReportInputs(stress_session=session["rec"], stress_log=session["log"],
                                          models=ct.models_dir()))  # fmt: skip
    s = data.stress
    assert s is not None and s.reasons is not None
    m = reason_matrix(s)
    for k, bits in enumerate(s.reasons):
        expected = [-1] * 8 if bits < 0 else [int(bool(bits & (1 << j))) for j in range(8)]
        assert m[:, k].tolist() == expected
    assert any(np.all(m[:, k] == 1) for k in range(m.shape[1]))  # an alert: every reason met
    # a synthetic mask: unanimous and context known only; awake failed (baseline not ready, not sustained); no record
    fake = StressSessionData("x", np.zeros(0), 64, np.zeros(0), np.zeros(0), [], reasons=np.array([0x09, 0x2F, -1]))
    assert reason_matrix(fake).tolist() == [[1, 1, -1], [0, 1, -1], [0, 1, -1], [1, 1, -1], [0, 0, -1], [0, 1, -1],
                                            [0, 0, -1], [0, 0, -1]]


def test_a_log_from_other_models_is_a_mismatch(session: dict[str, Any]) -> None:
    lines = session["log"].read_text().splitlines()
    other = session["root"] / "other.jsonl"
    records = [json.loads(line) for line in lines]
    # a device built with another alert threshold announces it in every HELLO (the log holds one or two: the
    # replay's, and the board's own when the link caught its boot)
    hellos = [r for r in records if r.get("type") == "HELLO"]
    consensus = [m for h in hellos for m in h["models"] if m["name"] == "stress_consensus"]
    ours = consensus[0]["hash"]
    for m in consensus:
        m["hash"] = "ab" * 16
    other.write_text("".join(json.dumps(r) + "\n" for r in records))
    out = session["root"] / "mismatch"
    summary = run_report("--out", str(out), "--stress-session", str(session["rec"]), "--stress-log", str(other),
                         "--models", str(ct.models_dir()))  # fmt: skip
    bad = [c for c in summary["model_hashes"] if not c["same"]]
    assert bad == [{"log": str(other), "model": "stress_consensus", "device": "ab" * 16, "report": ours,
                    "same": False}]  # fmt: skip
    note = next(n for n in summary["stress"]["notes"] if n.startswith("MODEL MISMATCH"))
    assert "stress_consensus device abababababab… vs report " + ours[:12] in note
    html = (out / "index.html").read_text()
    assert "MODEL MISMATCH: stress_consensus</span>" in html and '<span class="bad">DIFFERENT</span>' in html
    assert summary_json(build_report_data(ReportInputs(stress_session=session["rec"], stress_log=session["log"],
                                                       models=ct.models_dir())))["model_hashes"][0]["same"]
