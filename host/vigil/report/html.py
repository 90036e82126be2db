"""The report folder: ``index.html`` (self-contained: inline CSS, no scripts), the PNGs it links relatively, and
``report.json`` (the same facts for scripts). Every text from the inputs is escaped."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from html import escape
from pathlib import Path
from typing import Any

import numpy as np

from vigil.dsp import config as dsp
from vigil.dsp.ppg_tables import BASELINE_WARMUP, FLAGS
from vigil.ml.stress import MODEL_NAMES
from vigil.records import STRESS_CLASS_NAMES
from vigil.report import plots
from vigil.report.metrics_tables import MetricsTable
from vigil.report.model_records import NONE, REASON_TEXT, reasons_failed
from vigil.report.night import NightData
from vigil.report.night_clusters import NightClusters
from vigil.report.report_data import ReportData
from vigil.report.stress_session import StressSessionData
from vigil.report.summary import summary_json
from vigil.report.verify_reports import VerifySummary

INDEX = "index.html"
SUMMARY = "report.json"
CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:2rem auto;max-width:1260px;padding:0 1rem;
color:#1b1b1b;line-height:1.45}
h1{margin-bottom:.2rem}h2{border-bottom:2px solid #ddd;padding-bottom:.2rem;margin-top:2.2rem}
.meta{color:#555}.note{background:#fff8e1;border-left:4px solid #f4a261;padding:.4rem .8rem;margin:.5rem 0}
.ok{color:#1b7f3b;font-weight:600}.bad{color:#b00020;font-weight:600}
figure{margin:1rem 0}figure img{max-width:100%;height:auto;border:1px solid #eee}
figcaption{color:#444;font-size:.95rem}
table{border-collapse:collapse;margin:.6rem 0;font-size:.92rem}
th,td{border:1px solid #ddd;padding:.25rem .55rem;text-align:right}
th{background:#f4f4f4}td.l,th.l{text-align:left}
code,pre{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:.85rem}
pre{background:#f7f7f7;padding:.5rem;overflow-x:auto}
"""
METRIC_COLUMNS = (("accuracy", "accuracy"), ("precision", "precision"), ("sensitivity", "sensitivity"),
                  ("specificity", "specificity"), ("f1", "F1"), ("kappa", "κ"), ("auc", "AUC"),
                  ("n", "n"))  # fmt: skip


@dataclass(frozen=True)
class FigureFile:
    file: str  # relative to the report folder
    title: str
    width: int
    height: int


@dataclass
class WrittenReport:
    folder: Path
    index: Path
    figures: list[FigureFile] = field(default_factory=list)
    summary: dict[str, Any] = field(default_factory=dict)


Step = Callable[[str], None]


class Page:
    """The page's body, built section by section; figures are drawn as they are added."""

    def __init__(self, folder: Path, step: Step | None = None) -> None:
        self.folder = folder
        self.parts: list[str] = []
        self.figures: list[FigureFile] = []
        self.step = step

    def add(self, html: str) -> None:
        self.parts.append(html)

    def figure(self, file: str, title: str, caption: str, draw: Callable[[Path], tuple[int, int]]) -> None:
        if self.step:
            self.step(file)
        width, height = draw(self.folder / file)
        self.figures.append(FigureFile(file, title, width, height))
        self.add(f'<figure><img src="{escape(file)}" alt="{escape(title)}" width="{width}" height="{height}">'
                 f"<figcaption><b>{escape(title)}.</b> {escape(caption)}</figcaption></figure>")  # fmt: skip


def fmt(value: Any, digits: int = 3) -> str:
    if value is None or (isinstance(value, (float, np.floating)) and math.isnan(value)):
        return "—"
    if isinstance(value, (bool, np.bool_)):
        return "yes" if value else "no"
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        return f"{float(value):.{digits}f}"
    return escape(str(value))


def table(headers: list[str], rows: list[list[str]], left: int = 1) -> str:
    """An HTML table; cells are already escaped / formatted; the first ``left`` columns align left."""
    head = "".join(f'<th class="l">{h}</th>' if i < left else f"<th>{h}</th>" for i, h in enumerate(headers))
    body = "".join("<tr>" + "".join(f'<td class="l">{c}</td>' if i < left else f"<td>{c}</td>" for i, c in enumerate(r))
                   + "</tr>" for r in rows)  # fmt: skip
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def notes_html(notes: Sequence[str]) -> str:
    return "".join(f'<p class="note">{escape(n)}</p>' for n in notes)


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")


# ---------------------------------------------------------------- sections


#: The night's sleep statistics table: (row name, key of vigil.ml.night_statistics.night_statistics, unit).
#: "min" minutes, "share" a fraction shown as %, "percent" already %, "count" epochs.
SLEEP_STATISTICS_ROWS = (
    ("total sleep time (TST)", "tst_min", "min"),
    ("time in bed (first to last staged epoch)", "time_in_bed_min", "min"),
    ("sleep efficiency (TST / time in bed)", "sleep_efficiency", "share"),
    ("sleep-onset latency", "sleep_onset_latency_min", "min"),
    ("wake after sleep onset (WASO)", "waso_min", "min"),
    ("REM latency (from sleep onset)", "rem_latency_min", "min"),
    ("wake, % of the staged epochs", "stage_percent.wake", "percent"),
    ("NREM, % of TST", "stage_percent.nrem", "percent"),
    ("REM, % of TST", "stage_percent.rem", "percent"),
    ("epochs staged", "epochs_staged", "count"),
)  # fmt: skip
#: paired_statistics' error of a statistic (predicted - labels), where it gives one.
STATISTIC_ERRORS = {"tst_min": "tst_error_min", "sleep_onset_latency_min": "sleep_onset_latency_error_min",
                    "waso_min": "waso_error_min", "sleep_efficiency": "sleep_efficiency_error"}  # fmt: skip


def statistic(stats: Mapping[str, Any] | None, key: str) -> Any:
    """``key`` ("stage_percent.rem") of one side's night_statistics; None when absent."""
    value: Any = stats
    for part in key.split("."):
        value = value.get(part) if isinstance(value, Mapping) else None
    return value


def statistic_text(value: Any, unit: str, difference: bool = False) -> str:
    """A statistic as the table shows it (a difference signed, percentages of a difference in points)."""
    if value is None:
        return "—"
    sign = "+" if difference else ""
    if unit == "min":
        text = f"{value:{sign}.1f} min"
        if not difference and value >= 60:
            hours, minutes = divmod(round(float(value)), 60)
            text += f" ({hours} h {minutes:02d} min)"
        return text
    if unit == "share":
        return f"{100.0 * value:{sign}.1f} " + ("points" if difference else "%")
    if unit == "percent":
        return f"{value:{sign}.1f} " + ("points" if difference else "%")
    return "" if difference else str(int(value))


def sleep_statistics_rows(stats: Mapping[str, Any]) -> list[list[str]]:
    """One row per SLEEP_STATISTICS_ROWS: [name, labels' value, predicted value, predicted - labels] (a side the
    night lacks is "—"). The difference is paired_statistics' error where it gives one, else predicted - labels."""
    truth, predicted, errors = stats.get("psg"), stats.get("predicted"), stats.get("errors") or {}
    rows = []
    for name, key, unit in SLEEP_STATISTICS_ROWS:
        a, b = statistic(truth, key), statistic(predicted, key)
        if key in STATISTIC_ERRORS:
            diff = errors.get(STATISTIC_ERRORS[key])
        else:
            diff = b - a if a is not None and b is not None and unit != "count" else None
        rows.append([escape(name), statistic_text(a, unit), statistic_text(b, unit),
                     statistic_text(diff, unit, difference=True) if unit != "count" else ""])  # fmt: skip
    return rows


def sleep_statistics_html(night: NightData, stats: Mapping[str, Any]) -> str:
    """The night as a sleep lab reads it: labels vs predicted (report.night_metrics.night_sleep_statistics)."""
    words = night.label_words
    headers = [escape(words.short), escape(f"predicted ({night.model_label})"), escape(f"predicted − {words.short}")]
    how = ("the epochs that both the labels stage and the model decided (vigil.ml.night_statistics."
           "paired_statistics, as `vigil evaluate` reports them)" if "errors" in stats else
           "every staged epoch (vigil.ml.night_statistics.night_statistics)")  # fmt: skip
    note = (f"Computed on {how}: the night runs from the first to the last such epoch; epochs inside it without a "
            "stage count in time in bed only. TST = NREM + REM epochs × 0.5 min; sleep onset = the first sleep epoch; "
            "WASO = wake epochs between the first and the last sleep epoch; REM latency from sleep onset. "
            f"Labels: {words.noun}.")  # fmt: skip
    return (table(["", *headers], sleep_statistics_rows(stats)) + f'<p class="meta">{escape(note)}</p>')


def clock_text(night: NightData) -> str:
    """How the night's plots show time: the recording's clock, or time since its start."""
    start = night.start_datetime()
    if start is None:
        return "Time runs from the recording's first sample (it carries no start time)."
    return (f"Time of day (HH:MM) on the recording's own clock, as its start_time gives it "
            f"({start:%Y-%m-%d %H:%M:%S}).")  # fmt: skip


def night_section(page: Page, night: NightData, missing: Mapping[str, str],
                  stats: Mapping[str, Any] | None = None) -> None:  # fmt: skip
    words = night.label_words
    page.add('<h2 id="night">Night</h2>')
    page.add(f'<p class="meta">Recording <code>{escape(night.source)}</code>: {night.n_epochs} epochs of '
             f"{dsp.EPOCH_S} s ({night.n_epochs * dsp.EPOCH_S / 3600:.2f} h), {len(night.columns)} spectrogram columns "
             f"from the {escape(night.columns_from)}. "
             + (f"Sleep labels: {escape(words.noun)}. " if night.true_labels is not None else "")
             + f"Predictions: {escape(night.predictions_from or 'none')}.</p>")  # fmt: skip
    extra = [missing["hypnogram prediction"]] if "hypnogram prediction" in missing else []
    page.add(notes_html([*night.notes, *extra]))
    if stats is not None:
        page.add('<h3 id="sleep_statistics">Sleep statistics</h3>')
        page.add(sleep_statistics_html(night, stats))
    if night.true_labels is not None or night.predicted is not None:
        page.add("<h3>Hypnogram</h3>")
        labels = f"{words.noun} above the model's prediction" if night.true_labels is not None else "the prediction"
        motion = (" and, from the SLEEP records, the motion level per epoch" if night.motion is not None and
                  bool(np.any(night.motion >= 0)) else "")  # fmt: skip
        page.figure("hypnogram.png", "Hypnogram", "Sleep stage per 30-s epoch, wake on top, REM (red bar), then NREM; "
                    f"{labels}, then the model's class probabilities (its int8 outputs through its output "
                    f"quantization){motion}. Gaps are unscored epochs or epochs the model has not decided. "
                    + clock_text(night),
                    lambda p: plots.plot_hypnogram(night, p))  # fmt: skip
    page.add("<h3>Spectrogram</h3>")
    strip = (f" The strip below, {words.noun}, shares the time axis." if night.true_labels is not None else "")
    title = f"Spectrogram with {words.noun}" if night.true_labels is not None else "Spectrogram"
    page.figure("spectrogram.png", title, "Log power of the wrist acceleration's first "
                "difference, as the device computes it (int8 columns, 0.5 dB steps); bright vertical stripes are "
                "movement (on a long night each pixel column shows the loudest of several columns, so no burst "
                f"is averaged away).{strip} " + clock_text(night),
                lambda p: plots.plot_spectrogram(night, p))  # fmt: skip


def clusters_section(page: Page, night: NightData, clusters: NightClusters) -> None:
    """The night's epochs clustered without labels (vigil.report.night_clusters), against its labels."""
    from vigil.ml.sleep_explore import plot_exploration

    r = clusters.report
    words = night.label_words
    page.add('<h3 id="night_clusters">Epochs clustered without labels</h3>')
    page.add(f'<p class="meta">The seed\'s unsupervised look: the night\'s {r["epochs_clustered"]} scored epochs, '
             f'{r["feature_count"]} movement features each (standardized), grouped by {escape(r["method"])} into '
             f'{r["clusters"]} clusters without their labels, then held against {escape(words.noun)}: purity '
             f'{fmt(r["purity"])} (each cluster\'s majority counted as correct; the largest stage alone gives '
             f'{fmt(r["largest_stage_share"])}), adjusted Rand index {fmt(r["adjusted_rand_index"])} (0 is chance). '
             "The same on many nights: <code>vigil explore sleep</code>.</p>")  # fmt: skip
    stages = [s.lower() for s in r["stages"]]
    rows = [[escape(t["cluster"]), *(str(t[s]) for s in stages), str(t["total"]), escape(t["majority"])]
            for t in r["table"]]  # fmt: skip
    page.add(table(["cluster", *(f"{s} ({escape(words.short)})" for s in r["stages"]), "epochs", "majority"], rows))

    page.figure("night_clusters.png", "Clusters against the labels", "Left: each cluster's share of wake, NREM "
                f"and REM by {words.whose} labels (epochs above each bar). Middle and right: the epochs in the "
                "features' first two principal components, coloured by cluster and by label.",
                lambda path: plot_exploration(dict(r), dict(clusters.arrays), path, labels_name=words.short))  # fmt: skip


def segment_rows(s: StressSessionData) -> list[list[str]]:
    rows = []
    alerts = {a.segment: a for a in s.alerts or []}
    for k, seg in enumerate(s.segments):
        p = [fmt(s.p_stress[m][k], 2) if s.p_stress else "—" for m in MODEL_NAMES]
        decision = "—" if s.decision is None or s.decision[k] == NONE else STRESS_CLASS_NAMES[int(s.decision[k])]
        unanimous = "—" if s.unanimous is None or s.unanimous[k] == NONE else fmt(bool(s.unanimous[k]))
        alert = "—" if s.alerts is None else ("alert" if k in alerts else "")
        failed = "—"
        if s.reasons is not None and s.reasons[k] >= 0:
            failed = escape(", ".join(reasons_failed(int(s.reasons[k]))) or "none")
        motion = "—" if s.motion is None or s.motion[k] < 0 else str(int(s.motion[k]))
        lfhf = fmt(seg.lfhf / 100, 2) if seg.spectrum_ready else "— (spectrum not ready)"
        feats = [fmt(seg.avhr / 100, 1), fmt(seg.rmssd / 100, 1), fmt(seg.sdrr / 100, 1), fmt(seg.pnn50 / 100, 1),
                 fmt(seg.sd1 / 100, 1), fmt(seg.pamp / 100, 1), lfhf]
        reasons = "; ".join(doc for bit, doc in FLAGS.values() if seg.flags & bit)
        valid = "yes" if seg.valid else "no: " + escape(reasons)
        baseline = (f"ready ({seg.baseline_n})" if seg.baseline_ready
                    else f"warming up ({seg.baseline_n}/{BASELINE_WARMUP})")
        relative = fmt(seg.rel_avhr / 100, 1) if seg.valid and seg.baseline_ready else "—"
        rows.append([str(seg.segment), f"{seg.segment * dsp.SEGMENT_S / 60:.0f}", valid,
                     str(seg.n_beats), *(feats if seg.valid else ["—"] * len(feats)), baseline, relative, *p,
                     fmt(s.weighted[k], 2) if s.weighted is not None else "—", decision, unanimous,
                     alert, failed, motion])  # fmt: skip
    return rows


def stress_section(page: Page, s: StressSessionData, missing: Mapping[str, str]) -> None:
    valid = sum(1 for g in s.segments if g.valid)
    page.add('<h2 id="stress">Stress session</h2>')
    page.add(f'<p class="meta">Recording <code>{escape(s.source)}</code>: PPG at {s.ppg_rate_hz} Hz, '
             f"{len(s.ppg) / s.ppg_rate_hz / 60:.1f} min, {len(s.beats)} beats ({escape(s.beats_from)}), "
             f"{len(s.segments)} segments of {dsp.SEGMENT_S} s ({valid} valid; features: {escape(s.features_from)}). "
             f"Decisions: {escape(s.decisions_from or 'none')}.</p>")  # fmt: skip
    extra = [missing["stress decisions"]] if "stress decisions" in missing else []
    page.add(notes_html([*s.notes, *extra]))
    page.add("<h3>PPG with detected beats</h3>")
    page.figure("ppg_beats.png", "PPG with detected beats", "A 20-s excerpt from the cleanest valid segment: the "
                "raw ADC counts (beats as faint lines) and the band-passed signal the beat detector works on, with "
                "each detected beat marked.",
                lambda p: plots.plot_ppg_beats(s, p))  # fmt: skip
    if s.segments:
        page.add("<h3>HRV over time</h3>")
        reasons = ("" if s.reasons is None else " The seven rows at the bottom are the alert's reasons, from the STRESS "
                   "records' bitmask: green met, red failed, grey no record; an alert needs all seven (" +
                   "; ".join(f"{k}: {v}" for k, v in REASON_TEXT.items()) + ").")  # fmt: skip
        page.figure("hrv.png", "HRV features, decisions and alert reasons", "Heart rate and variability per 60-s "
                    "segment (hatched: segments the device flags invalid, the reason in the strip). The strip below "
                    "is the consensus decision; U marks the segments where all three models say stress, ! an alert; "
                    "alert segments are shaded." + reasons,
                    lambda p: plots.plot_hrv(s, p))  # fmt: skip
    if s.p_stress is not None and any(np.isfinite(v).any() for v in s.p_stress.values()):
        page.add("<h3>Per-model probabilities</h3>")
        page.figure("model_probabilities.png", "Per-model stress probabilities", "P(stress) of the decision tree, "
                    "the SVM and the int8 MLP, and their weighted vote (black); above 0.5 the vote says stress.",
                    lambda p: plots.plot_model_probabilities(s, p))  # fmt: skip
    if s.segments:
        page.add("<h3>Segments</h3>")
        headers = ["segment", "start (min)", "valid", "beats", "AVHR (bpm)", "RMSSD (ms)", "SDRR (ms)", "pNN50 (%)",
                   "SD1 (ms)", "pulse amplitude (counts)", "LF/HF (last 4 min)",
                   "baseline (valid, still minutes)", "AVHR vs baseline (bpm)", "P tree", "P SVM", "P MLP", "weighted",
                   "decision", "unanimous", "alert", "reasons failed",
                   "motion (milli-g)"]  # fmt: skip
        page.add(table(headers, segment_rows(s)))


def metrics_section(page: Page, tables: Sequence[MetricsTable], missing: Mapping[str, str]) -> None:
    page.add('<h2 id="models">Models: per model and consensus</h2>')
    page.add(notes_html([missing[k] for k in ("sleep model", "stress model", "sleep metrics") if k in missing]))
    used: set[str] = set()
    for t in tables:
        file = f"confusion_{slug(t.key or t.task)}.png"
        if file in used:  # two tables of one kind (e.g. two metrics files): keep both figures
            file = file.replace(".png", f"_{len(used)}.png")
        used.add(file)
        page.add(f"<h3>{escape(t.title)}</h3><p class=\"meta\">From <code>{escape(t.source)}</code>.</p>")
        rows = [[escape(r.name), *(fmt(getattr(r, key)) for key, _ in METRIC_COLUMNS)] for r in t.rows]
        page.add(table(["model", *(label for _, label in METRIC_COLUMNS)], rows))
        if t.note:
            page.add(f'<p class="meta">{escape(t.note)}</p>')
        if t.confusions:
            page.figure(file, f"Confusion matrices — {t.title}", "Rows are the true class, columns the predicted "
                        "one; each cell gives the count and its share of the true class (the colour).",
                        lambda p, t=t: plots.plot_confusions(t.confusions, t.title, p))  # fmt: skip


def verify_section(page: Page, reports: Sequence[VerifySummary], missing: Mapping[str, str]) -> None:
    page.add('<h2 id="verify">Device verification</h2>')
    if "device verification" in missing:
        page.add(notes_html([missing["device verification"]]))
    for v in reports:
        verdict = ('<span class="ok">all outputs bit-exact</span>' if v.ok else '<span class="bad">MISMATCH</span>')
        page.add(f"<h3>{escape(Path(v.path).name)}</h3><p>Board {fmt(v.board)}, recording "
                 f"<code>{escape(v.recording or '?')}</code>: {verdict}.</p>")  # fmt: skip
        rows = [[escape(st.name), str(st.windows), str(st.mismatches), escape(st.first_mismatch or "")]
                for st in v.stages]
        page.add(table(["stage", "windows", "mismatches", "first mismatch"], rows))
        extra = []
        if v.device_errors:
            extra.append("device errors: " + ", ".join(v.device_errors))
        if v.instructions_per_second is not None:
            extra.append(f"DSP cost {v.instructions_per_second:,} instructions per second of signal")
        if extra:
            page.add(f'<p class="meta">{escape("; ".join(extra))}.</p>')


def provenance_section(page: Page, data: ReportData) -> None:
    page.add('<h2 id="provenance">Provenance</h2>')
    page.add(f'<p class="meta">Written by vigil {escape(data.vigil_version)} on {escape(data.created_utc)}.</p>')
    rows = []
    for item in data.provenance:
        detail = json.dumps(dict(item.detail), indent=1, default=str, sort_keys=True)
        rows.append([escape(item.role), f"<code>{escape(item.path)}</code>",
                     f"<code>{escape(item.sha256 or '—')}</code>",
                     f"<details><summary>details</summary><pre>{escape(detail)}</pre></details>"])  # fmt: skip
    page.add(table(["input", "path", "SHA-256", "manifest / source"], rows, left=4))
    if data.model_hashes:
        page.add('<h3 id="model_hashes">Models of the device logs</h3><p class="meta">Each model the report uses '
                 "against the hash the device announced in its HELLO (first 16 bytes of the SHA-256).</p>")
        rows = [[f"<code>{escape(c.log)}</code>", escape(c.model),
                 f"<code>{escape(c.device or 'not announced')}</code>", f"<code>{escape(c.report)}</code>",
                 '<span class="ok">same</span>' if c.same else '<span class="bad">DIFFERENT</span>']
                for c in data.model_hashes]  # fmt: skip
        page.add(table(["log", "model", "device (HELLO)", "report", ""], rows, left=4))


def at_a_glance(data: ReportData) -> list[str]:
    """One line per section with its headline figure, linking to the section."""
    lines = []
    if data.night is not None:
        n = data.night
        line = f'<a href="#night">Night</a>: {n.n_epochs} epochs ({n.n_epochs * dsp.EPOCH_S / 3600:.1f} h)'
        table = next((t for t in data.metrics if t.key == "sleep_night"), None)
        if table is not None:
            r = table.rows[0]
            line += (f"; predicted stage equals {escape(n.label_words.whose)} on {r.accuracy:.1%} of {r.n} scored "
                     f"epochs, κ {fmt(r.kappa)}")  # fmt: skip
        stats = data.night_statistics or {}
        tst = [statistic(stats.get(side), "tst_min") for side in ("predicted", "psg")]
        if tst[0] is not None:
            line += f'; <a href="#sleep_statistics">total sleep time</a> {tst[0]:.0f} min predicted'
            if tst[1] is not None:
                line += f" vs {tst[1]:.0f} min ({escape(n.label_words.short)})"
        lines.append(line)
    if data.stress is not None:
        s = data.stress
        valid = sum(1 for g in s.segments if g.valid)
        line = f'<a href="#stress">Stress session</a>: {len(s.segments)} segments, {valid} valid'
        if s.decision is not None:
            line += f"; {int(np.sum(s.decision == 1))} classified stress"
        line += "; no alert information" if s.alerts is None else f"; {len(s.alerts)} alerts"
        lines.append(line)
    for t in data.metrics:
        if t.key != "sleep_night" and t.rows:
            best = next((r for r in t.rows if r.name.startswith("consensus")), t.rows[0])
            lines.append(f'<a href="#models">{escape(t.title)}</a>: {escape(best.name)} accuracy '
                         f"{best.accuracy:.3f}, F1 {best.f1:.3f}")  # fmt: skip
    for v in data.verify:
        verdict = '<span class="ok">bit-exact</span>' if v.ok else '<span class="bad">MISMATCH</span>'
        lines.append(f'<a href="#verify">Device verification</a> {escape(Path(v.path).name)}: {verdict}')
    if data.model_hashes:
        bad = sorted({c.model for c in data.model_hashes if not c.same})
        verdict = ('<span class="bad">MODEL MISMATCH: ' + escape(", ".join(bad)) + "</span> (the logs' records come "
                   "from other models)" if bad else '<span class="ok">the report\'s models</span>')  # fmt: skip
        lines.append(f'<a href="#model_hashes">Models the device logs announce</a>: {verdict}')
    lines.append('<a href="#provenance">Provenance</a>: inputs, hashes, manifests')
    return lines


def contents(data: ReportData) -> str:
    items = "".join(f"<li>{line}</li>" for line in at_a_glance(data))
    left_out = "".join(f"<li>{escape(k)}: {escape(v)}</li>" for k, v in data.missing.items())
    out = f"<ul>{items}</ul>"
    if left_out:
        out += f'<div class="note"><b>Left out</b><ul>{left_out}</ul></div>'
    return out


def remove_previous_figures(folder: Path) -> None:
    """Delete the PNGs an earlier report listed in its report.json, so none is left unlinked (nothing else)."""
    try:
        previous = json.loads((folder / SUMMARY).read_text())
        names = [str(f["file"]) for f in previous.get("figures", [])]
    except (OSError, ValueError, TypeError, KeyError, AttributeError):
        return
    for name in names:
        path = folder / name
        if path.suffix == ".png" and path.parent == folder:
            path.unlink(missing_ok=True)


def write_report(data: ReportData, folder: Path, step: Step | None = None) -> WrittenReport:
    """Draw every plot the data allows and write ``index.html`` and ``report.json`` into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    remove_previous_figures(folder)
    page = Page(folder, step)
    if data.night is not None:
        night_section(page, data.night, data.missing, data.night_statistics)
        if data.night_clusters is not None:
            clusters_section(page, data.night, data.night_clusters)
    if data.stress is not None:
        stress_section(page, data.stress, data.missing)
    metrics_section(page, data.metrics, data.missing)
    verify_section(page, data.verify, data.missing)
    provenance_section(page, data)
    html = ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            f"<title>vigil report — {escape(data.created_utc)}</title><style>{CSS}</style></head><body>"
            f"<h1>vigil report</h1><p class=\"meta\">{escape(data.created_utc)} · "
            f"vigil {escape(data.vigil_version)}</p>"
            + contents(data) + "".join(page.parts) + "</body></html>\n")  # fmt: skip
    index = folder / INDEX
    index.write_text(html, encoding="utf-8")
    summary = summary_json(data)
    summary["figures"] = [f.__dict__ for f in page.figures]
    (folder / SUMMARY).write_text(json.dumps(summary, indent=1) + "\n", encoding="utf-8")
    return WrittenReport(folder, index, page.figures, summary)
