"""The night in `vigil report` as a sleep lab reads it: the statistics table is vigil.ml.night_statistics' numbers,
the hypnogram's axis is the recording's clock when it has a start time, labels that are not PSG are never called
PSG (in the page, report.json or the figures' text), and a context sleep folder (`vigil train sleep`'s default)
predicts through vigil.ml.sleep_evaluate.device_outputs."""

from __future__ import annotations

import json
import re
from html import unescape
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from matplotlib.text import Text

from vigil.cli import cli
from vigil.data.recording import Recording
from vigil.dsp import config as dsp
from vigil.ml.night_statistics import night_statistics, paired_statistics
from vigil.report import plots
from vigil.report.html import SLEEP_STATISTICS_ROWS, sleep_statistics_rows, write_report
from vigil.report.night import NightData
from vigil.report.night_metrics import night_sleep_statistics
from vigil.report.report_data import ReportData, ReportInputs, build_report_data

ICHI_START = "2011-05-10T20:28:20Z"  # what `vigil convert --from ichi` writes for p002: the lab's clock

# A hand-made night of 40 epochs (0 wake, 1 NREM, 2 REM, -1 unscored): lights off after 2 unscored epochs, 4 min
# awake, NREM, a wake bout, REM, NREM, wake at the end; the model misses the bout and sees REM late, and (a context
# model) has not decided the last 3 epochs.
TRUTH = np.array([-1, -1, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, -1, 1, 1, 1, 0, 0, 0, 0, 2, 2, 2, 2, 2, 2,
                  1, 1, 1, 1, 1, 0, 0, 0], dtype=np.int8)  # fmt: skip
PREDICTED = np.array([0, 0, 0, 0, 0, 0, 1, 1, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1, 1, 2, 2, 2,
                      2, 2, 1, 1, 1, 1, -1, -1, -1], dtype=np.int64)  # fmt: skip


def hand_made_night(truth: np.ndarray | None = TRUTH, predicted: np.ndarray | None = PREDICTED,
                    label_kind: str = "psg", start_time: str | None = None) -> NightData:  # fmt: skip
    n = len(truth if truth is not None else predicted)
    probs = None
    if predicted is not None:
        probs = np.full((n, 3), np.nan)
        probs[predicted >= 0] = np.eye(3)[predicted[predicted >= 0]] * 0.8 + 0.2 / 3
    columns = np.full((n * dsp.EPOCH_SAMPLES // dsp.STFT_HOP - 1, dsp.STFT_BINS), -100, dtype=np.int8)
    return NightData("hand-made night", columns, n, truth, predicted, probs, "twin", "host model" if
                     predicted is not None else None, (), start_time=start_time, label_kind=label_kind,
                     model="context model")  # fmt: skip


def page_report(night: NightData, folder: Path) -> tuple[str, dict]:
    data = ReportData(night, None, (), (), (), {}, night_statistics=night_sleep_statistics(night))
    written = write_report(data, folder)
    return written.index.read_text(), written.summary


def statistics_table(html: str) -> list[list[str]]:
    """The rows of the page's sleep statistics table, cell texts unescaped."""
    start = html.index('<h3 id="sleep_statistics">')
    body = html[start : html.index("</table>", start)]
    rows = re.findall(r"<tr>(.*?)</tr>", body)
    return [[unescape(c) for c in re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", r)] for r in rows]


def first_number(cell: str) -> float | None:
    m = re.match(r"([+-]?\d+(?:\.\d+)?)", cell)
    return float(m.group(1)) if m else None


def side(stats: dict, key: str) -> float | None:
    value = stats
    for part in key.split("."):
        value = value[part]
    return value


# ---------------------------------------------------------------- the statistics table


def test_the_table_is_paired_statistics_of_the_labels_and_the_prediction(tmp_path: Path) -> None:
    expected = paired_statistics(TRUTH, PREDICTED)
    # by hand: both staged on epochs 2..36 but 18 (lights off to on: 35 epochs, 17.5 min). Labels: asleep at
    # epoch 10, 22 sleep epochs, 4 wake epochs after onset, REM from epoch 26. Prediction: asleep at epoch 6, 27
    # sleep epochs, 3 wake epochs after onset, REM from epoch 28.
    psg, pred = expected["psg"], expected["predicted"]
    assert (psg["time_in_bed_min"], psg["tst_min"], psg["sleep_onset_latency_min"], psg["waso_min"],
            psg["rem_latency_min"]) == (17.5, 11.0, 4.0, 2.0, 8.0)  # fmt: skip
    assert (pred["tst_min"], pred["sleep_onset_latency_min"], pred["waso_min"], pred["rem_latency_min"]) == (
        13.5, 2.0, 1.5, 11.0)
    night = hand_made_night()
    stats = night_sleep_statistics(night)
    assert stats == {"labels": "psg", **expected}  # exactly the function's output, nothing recomputed
    html, summary = page_report(night, tmp_path / "r")
    assert summary["night"]["sleep_statistics"] == json.loads(json.dumps(stats))
    rows = statistics_table(html)
    assert rows[0] == ["", "PSG", "predicted (context model)", "predicted − PSG"]
    assert [r[0] for r in rows[1:]] == [name for name, _, _ in SLEEP_STATISTICS_ROWS]
    errors = expected["errors"]
    error_keys = {"tst_min": "tst_error_min", "sleep_onset_latency_min": "sleep_onset_latency_error_min",
                  "waso_min": "waso_error_min", "sleep_efficiency": "sleep_efficiency_error"}  # fmt: skip
    for (name, key, unit), row in zip(SLEEP_STATISTICS_ROWS, rows[1:]):
        factor = 100.0 if unit == "share" else 1.0  # sleep efficiency is a fraction, shown in %
        a, b = side(psg, key), side(pred, key)
        assert first_number(row[1]) == pytest.approx(round(factor * a, 1)), (name, row)
        assert first_number(row[2]) == pytest.approx(round(factor * b, 1)), (name, row)
        if key in error_keys:
            assert first_number(row[3]) == pytest.approx(round(factor * errors[error_keys[key]], 1)), (name, row)
        elif unit != "count":
            assert first_number(row[3]) == pytest.approx(round(factor * (b - a), 1)), (name, row)
    assert rows[1][1:] == ["11.0 min", "13.5 min", "+2.5 min"] and rows[3][1:] == ["62.9 %", "77.1 %", "+14.3 points"]
    assert rows[6][1:] == ["8.0 min", "11.0 min", "+3.0 min"] and rows[7][3] == "-14.7 points"
    # a whole night: in hours and minutes too
    long = sleep_statistics_rows(paired_statistics(np.ones(813), np.ones(813)))
    assert long[0][1] == "406.5 min (6 h 46 min)" and long[0][3] == "+0.0 min"
    # without a prediction: the labels' night_statistics alone; the prediction's column is empty
    html, _ = page_report(hand_made_night(predicted=None), tmp_path / "r2")
    rows = statistics_table(html)
    assert first_number(rows[1][1]) == night_statistics(TRUTH)["tst_min"] and rows[1][2] == "—"


# ---------------------------------------------------------------- clock time on the axis


def drawn_figures(monkeypatch: pytest.MonkeyPatch) -> dict[str, object]:
    """Keep each figure the report draws, by file name, to read its axes and texts."""
    figures: dict[str, object] = {}
    save = plots._save

    def keep(fig, path):
        figures[Path(path).name] = fig
        return save(fig, path)

    monkeypatch.setattr(plots, "_save", keep)
    return figures


def figure_texts(fig) -> list[str]:
    fig.canvas.draw()  # tick labels exist once drawn
    return [t.get_text() for t in fig.findobj(Text) if t.get_text()]


def test_the_axis_shows_the_recordings_clock(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    figures = drawn_figures(monkeypatch)
    html, summary = page_report(hand_made_night(start_time=ICHI_START), tmp_path / "r")
    assert summary["night"]["start_time"] == ICHI_START
    for name in ("hypnogram.png", "spectrogram.png"):
        bottom = figures[name].axes[-2 if name == "spectrogram.png" else -1]  # the spectrogram's last axes: colorbar
        fig = figures[name]
        fig.canvas.draw()
        labels = [t.get_text() for t in bottom.get_xticklabels()]
        assert labels == ["20:30", "20:35", "20:40", "20:45"], (name, labels)  # 20 min from 20:28:20, every 5 min
        positions = bottom.get_xticks()
        assert positions[0] == pytest.approx(100 / 60) and np.diff(positions) == pytest.approx([5, 5, 5])  # minutes
        assert bottom.get_xlabel() == "time of day (HH:MM) on the recording's clock; it starts 2011-05-10 20:28:20"
    assert "on the recording&#x27;s own clock" in html and "2011-05-10 20:28:20" in html
    # a whole night: hourly ticks across midnight
    axis = plots.night_axis(9 * 3600.0, hand_made_night(start_time=ICHI_START).start_datetime())
    assert [t for _, t in axis.ticks(9 * 3600.0)] == ["21:00", "22:00", "23:00", "00:00", "01:00", "02:00", "03:00",
                                                       "04:00", "05:00"]  # fmt: skip
    assert axis.ticks(9 * 3600.0)[0][0] == pytest.approx((3600 - 1700) / 3600)  # hours since the start
    # no start time: time since the start, as before
    figures.clear()
    page_report(hand_made_night(), tmp_path / "r2")
    assert figures["hypnogram.png"].axes[-1].get_xlabel() == "time since recording start (minutes)"


# ---------------------------------------------------------------- PSG only when it is PSG


def visible_text(html: str) -> str:
    """What a reader sees or a screen reader reads: text outside tags, plus alt and title attributes."""
    attributes = " ".join(re.findall(r'(?:alt|title)="([^"]*)"', html))
    return unescape(re.sub(r"<[^>]+>", " ", html) + " " + attributes)


@pytest.fixture(scope="module")
def context_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny context sleep model as `vigil train sleep` writes it by default (2 synthetic people, 2 epochs)."""
    from vigil.ml.sleep_context_io import train_context_source

    out = tmp_path_factory.mktemp("context") / "sleep"
    train_context_source("synthetic", out, subjects=2, hours=1.5, protocol="loso", epochs=2)
    return out


@pytest.fixture(scope="module")
def synthetic_night_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from vigil.data.synthetic_night import synthetic_night

    path = tmp_path_factory.mktemp("night") / "night.vrec"
    synthetic_night(hours=1.0, seed=7, ppg_rate_hz=None).save(path)
    return path


def test_a_synthetic_nights_labels_are_never_called_psg(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                                        context_folder: Path, synthetic_night_file: Path) -> None:
    figures = drawn_figures(monkeypatch)
    out = tmp_path / "synthetic"
    result = CliRunner().invoke(cli, ["report", "--out", str(out), "--night", str(synthetic_night_file),
                                      "--sleep-model", str(context_folder), "--json"])  # fmt: skip
    assert result.exit_code == 0, result.output
    html = (out / "index.html").read_text()
    text = visible_text(html)
    assert "PSG" not in text and "PSG" not in html  # not in the page's text, nor anywhere in its source
    assert "synthetic stages (the generator's)" in text and "predicted stage equals the generator's" in text
    summary = json.loads((out / "report.json").read_text())
    assert summary["night"]["labels"] == "synthetic"
    assert "PSG" not in json.dumps(summary)  # titles, notes, table names: the JSON's human text
    assert {"hypnogram.png", "spectrogram.png"} <= set(figures)
    for name, fig in figures.items():
        assert not [t for t in figure_texts(fig) if "PSG" in t], name
    assert any("generator" in t for t in figure_texts(figures["hypnogram.png"]))
    assert "synthetic\nstages" in figure_texts(figures["spectrogram.png"])
    # the same night said to come from a sleep lab is PSG: in the page and in the figures
    figures.clear()
    rec = Recording.load(synthetic_night_file)
    rec.meta["source"] = {"kind": "ichi", "path": "p999.npy"}
    data = build_report_data(ReportInputs(night=rec, sleep_model=context_folder))
    assert data.night is not None and data.night.label_words.is_psg
    html = write_report(data, tmp_path / "lab").index.read_text()
    assert "predicted stage equals the PSG&#x27;s" in html and "<th>PSG</th>" in html
    assert "PSG" in figure_texts(figures["hypnogram.png"]) and "PSG" in figure_texts(figures["spectrogram.png"])
    # labels of no known origin are neither PSG nor the generator's
    rec.meta["source"] = {"kind": "csv"}
    night = build_report_data(ReportInputs(night=rec, default_models=False)).night
    assert night is not None and night.label_words.short == "labels"


# ---------------------------------------------------------------- a context sleep folder


def test_a_context_sleep_folder_predicts_through_device_outputs(context_folder: Path, synthetic_night_file: Path,
                                                                tmp_path: Path) -> None:  # fmt: skip
    from vigil.ml.sleep import device_class
    from vigil.ml.sleep_evaluate import device_outputs
    from vigil.report.model_folders import load_sleep_model
    from vigil.report.provenance import report_hashes

    out = tmp_path / "r"
    result = CliRunner().invoke(cli, ["report", "--out", str(out), "--night", str(synthetic_night_file),
                                      "--sleep-model", str(context_folder), "--json"])  # fmt: skip
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    assert [f["file"] for f in summary["figures"]] == ["hypnogram.png", "spectrogram.png", "night_clusters.png",
                                                       "confusion_sleep_night.png",
                                                       "confusion_sleep_held_out.png"]  # fmt: skip
    rec = Recording.load(synthetic_night_file)
    data = build_report_data(ReportInputs(night=rec, sleep_model=context_folder))
    night = data.night
    assert night is not None and night.predicted is not None and night.probabilities is not None
    epochs, outputs = device_outputs(context_folder, "context", rec)
    assert len(epochs) == night.n_epochs - dsp.SLEEP_CONTEXT_DELAY == 114
    assert np.array_equal(night.predicted[epochs], device_class(outputs))
    assert np.all(night.predicted[len(epochs):] == -1)  # decided 6 epochs late: the last 6 have none
    model = load_sleep_model(context_folder)
    assert model.arch == "context" and np.allclose(night.probabilities[epochs], model.probabilities(outputs))
    assert night.model == "context model" and "sleep_context" in report_hashes(None, model, None)
    assert any("decides epoch t when epoch t + 6 ends" in n for n in night.notes)
    # the night's statistics are paired_statistics of the labels and these predictions
    assert data.night_statistics == {"labels": "synthetic", **paired_statistics(night.true_labels, night.predicted)}
    # the training folder's metrics.json, read by the keys train_context_source writes (references included)
    ev = json.loads((context_folder / "metrics.json").read_text())["evaluation"]
    held_out = next(t for t in data.metrics if t.key == "sleep_held_out")
    layer = f"hidden layer of {ev['hidden']}" if ev["hidden"] else "no hidden layer"
    assert held_out.title.startswith(f"sleep context model ({layer}), held-out subjects (loso, {ev['folds']}")
    names = [r.name for r in held_out.rows]
    assert names == ["context model: wake / NREM / REM (macro)", "context model: wake vs sleep",
                     "van Hees 2015 z-angle rule (no training): wake vs sleep",
                     "random forest on movement features: wake vs sleep"]  # fmt: skip
    refs = ev["references"]
    assert held_out.rows[1].auc == pytest.approx(ev["sleep_wake"]["auc"])
    assert held_out.rows[2].kappa == pytest.approx(refs["van_hees_2015"]["kappa"]) and held_out.rows[2].auc is None
    assert held_out.rows[3].auc == pytest.approx(refs["random_forest_movement"]["auc"])
    assert [c.counts.tolist() for c in held_out.confusions[2:]] == [refs["van_hees_2015"]["confusion"],
                                                                    refs["random_forest_movement"]["confusion"]]
    html = (out / "index.html").read_text()
    assert f"<td>{refs['random_forest_movement']['auc']:.3f}</td>" in html
    assert f"random forest on movement features {refs['random_forest_movement']['wake_correct_at_90_sleep_correct']:.3f}" \
        in unescape(html)  # fmt: skip
    # a key the context model's metrics.json must have is read by its exact name
    broken = tmp_path / "broken"
    broken.mkdir()
    for f in context_folder.iterdir():
        (broken / f.name).write_bytes(f.read_bytes())
    metrics = json.loads((broken / "metrics.json").read_text())
    del metrics["evaluation"]["references"]["van_hees_2015"]["kappa"]
    (broken / "metrics.json").write_text(json.dumps(metrics))
    result = CliRunner().invoke(cli, ["report", "--out", str(tmp_path / "r2"), "--sleep-model", str(broken)])
    assert result.exit_code == 1
    assert f'{broken / "metrics.json"}:1: expected the metrics.json of `vigil train sleep` (context model): no key ' \
        '"evaluation.references.van_hees_2015.kappa"' in result.output  # fmt: skip


def test_a_bundle_with_a_context_model_gives_the_same_stages_as_its_folder(context_folder: Path, tmp_path: Path,
                                                                          synthetic_night_file: Path) -> None:
    """`vigil export models` of the context folder: the twin's SLEEP records (what the device sends) classify every
    decided epoch as the folder does through device_outputs, and the page names the model by its kind."""
    from vigil.bundle.consensus_twin import models_dir

    bundle = tmp_path / "models"
    result = CliRunner().invoke(cli, ["export", "models", "--out", str(bundle), "--sleep", str(context_folder),
                                      "--stress", str(models_dir() / "stress")])  # fmt: skip
    assert result.exit_code == 0, result.output
    twin = build_report_data(ReportInputs(night=synthetic_night_file, models=bundle))
    host = build_report_data(ReportInputs(night=synthetic_night_file, sleep_model=context_folder))
    assert twin.night is not None and host.night is not None and twin.night.predicted is not None
    assert twin.night.predictions_from == f"twin of {bundle}" and twin.night.model == "context model"
    assert np.array_equal(twin.night.predicted, host.night.predicted)
    assert np.allclose(twin.night.probabilities, host.night.probabilities, equal_nan=True)
    assert twin.night_statistics == host.night_statistics
    assert "sleep_context" in dict(twin.provenance[1].detail)["hashes"]
    assert next(t for t in twin.metrics if t.key == "sleep_held_out").title.startswith("sleep context model")
