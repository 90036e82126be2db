"""The report's PNG plots (matplotlib, drawn off screen with the Agg canvas; no display, no pyplot state).

Each ``plot_*`` function draws one figure from the report's data model and writes it to ``path`` at DPI dots
per inch; it returns the (width, height) in pixels. Sizes are fixed so the page lays out predictably.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import BoundaryNorm, ListedColormap
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from vigil.dsp import config as dsp
from vigil.dsp.hrv import Flag
from vigil.ml.stress import MODEL_NAMES
from vigil.records import SLEEP_CLASS_LABELS
from vigil.report.metrics_tables import STRESS_MODEL_LABELS, ConfusionMatrix
from vigil.report.model_records import NONE, REASONS
from vigil.report.night import NightData
from vigil.report.stress_session import StressSessionData

DPI = 110
WIDE = 11.0  # inches: 1210 px at DPI
SLEEP_COLOURS = {-1: "#d9d9d9", 0: "#f4a261", 1: "#457b9d", 2: "#e63946"}  # unscored, wake, NREM, REM
STRESS_COLOURS = {NONE: "#d9d9d9", 0: "#2a9d8f", 1: "#e76f51"}
MODEL_COLOURS = {"tree": "#6a4c93", "svm": "#1982c4", "nn": "#8ac926"}
# Sleep scientists draw wake on top, then REM, then the NREM stages going down.
HYPNOGRAM_LEVEL = {0: 2, 2: 1, 1: 0}
SLEEP_NAMES = {-1: "unscored", 0: "wake", 1: "NREM", 2: "REM"}
HYPNOGRAM_TICKS = ((2, "wake"), (1, "REM"), (0, "NREM"))
#: The y label of the hypnogram's labels row, by what the labels are (report.stage_labels): PSG only for PSG.
ROW_LABELS = {"psg": "PSG", "synthetic": "generator's\nstages\n(synthetic)", "other": "labels"}
PPG_EXCERPT_S = 20.0
HRV_PANELS = (("AVHR", "avhr", "bpm"), ("RMSSD", "rmssd", "ms"), ("SDRR", "sdrr", "ms"), ("pNN50", "pnn50", "%"))
CONFUSION_COLUMNS = 3  # matrices per row
FLAG_SHORT = {"TOO_FEW_BEATS": "too few beats", "FLAT": "flat signal", "CLIPPED": "clipped",
              "REJECTS": "IBIs rejected"}  # fmt: skip
HOURS_FROM_S = 90 * 60  # nights are drawn in hours, shorter recordings in minutes
SPECTROGRAM_MAX_COLUMNS = 1100  # about the plot's width in pixels
CLOCK_STEPS_MIN = (5, 10, 15, 30, 60, 120)  # clock tick spacing: the first that gives at most CLOCK_TICKS_MAX
CLOCK_TICKS_MAX = 12
REASON_COLOURS = {NONE: "#eeeeee", 0: "#e63946", 1: "#8fd19e"}  # no record, failed, met
REASON_LABELS = {"unanimous": "unanimous", "above_threshold": "≥ threshold", "features_valid": "features valid",
                 "context_known": "context known", "awake": "awake", "little_motion": "little motion",
                 "baseline_ready": "baseline ready", "sustained": "sustained"}  # fmt: skip


def origin(where: str, host: str = "twin") -> str:
    """Short form of a "... from" field for titles: the device, its twin, or the host's computation."""
    if where.startswith("device log"):
        return "device"
    return "twin of the device's models" if where.startswith("twin of") else host


def _figure(width: float, height: float) -> Figure:
    fig = Figure(figsize=(width, height), dpi=DPI, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def _save(fig: Figure, path: Path) -> tuple[int, int]:
    fig.savefig(path, dpi=DPI, facecolor="white")
    w, h = fig.get_size_inches() * DPI
    return int(round(w)), int(round(h))


def time_axis(total_s: float) -> tuple[float, str]:
    """Seconds per unit and the axis label: hours for a night, minutes for anything under HOURS_FROM_S."""
    if total_s >= HOURS_FROM_S:
        return 3600.0, "time since recording start (hours)"
    return 60.0, "time since recording start (minutes)"


@dataclass(frozen=True)
class NightAxis:
    """The x axis of the night's plots: data in ``scale`` seconds per unit from the recording's first sample; with
    a start time, ticks at round clock times labelled HH:MM on the recording's own clock."""

    scale: float
    label: str
    start: datetime | None = None

    def ticks(self, total_s: float) -> list[tuple[float, str]]:
        """(position in units, HH:MM) at every CLOCK_STEPS_MIN step of the clock within the recording."""
        if self.start is None:
            return []
        step = next((m for m in CLOCK_STEPS_MIN if total_s / 60.0 / m <= CLOCK_TICKS_MAX), CLOCK_STEPS_MIN[-1])
        midnight = self.start.replace(hour=0, minute=0, second=0, microsecond=0)
        first = -(-((self.start - midnight).total_seconds()) // (step * 60)) * step * 60  # s after midnight
        out = []
        t = first - (self.start - midnight).total_seconds()  # s after the start
        while t <= total_s + 1e-9:
            clock = self.start + timedelta(seconds=t)
            out.append((t / self.scale, clock.strftime("%H:%M")))
            t += step * 60
        return out

    def apply(self, axes: Sequence, total_s: float) -> None:
        """Label the bottom axis; with a start time, put the clock ticks on every (shared) axis."""
        ticks = self.ticks(total_s)
        for ax in axes:
            if ticks:
                ax.set_xticks([t for t, _ in ticks], [text for _, text in ticks])
        axes[-1].set_xlabel(self.label, loc="left" if self.start is not None else "center")


def night_axis(total_s: float, start: datetime | None) -> NightAxis:
    """Hours (or minutes) since the start; with ``start`` (the recording's ``start_time``), its clock as HH:MM."""
    scale, label = time_axis(total_s)
    if start is None:
        return NightAxis(scale, label)
    return NightAxis(scale, f"time of day (HH:MM) on the recording's clock; it starts {start:%Y-%m-%d %H:%M:%S}",
                     start)  # fmt: skip


def _label_strip(ax, labels: np.ndarray, scale: float) -> None:  # noqa: ANN001
    """The sleep labels (PSG or not) as one row of coloured epochs, with a one-line legend of the classes present
    under it."""
    keys = sorted(SLEEP_COLOURS)
    cmap = ListedColormap([SLEEP_COLOURS[k] for k in keys])
    norm = BoundaryNorm(np.arange(keys[0] - 0.5, keys[-1] + 1.0), cmap.N)
    end = len(labels) * dsp.EPOCH_S / scale
    ax.imshow(np.asarray(labels)[None, :], aspect="auto", cmap=cmap, norm=norm, extent=(0.0, end, 0.0, 1.0),
              interpolation="nearest")  # fmt: skip
    ax.set_yticks([])
    present = [k for k in keys if np.any(labels == k)]
    # under the strip, right of the x label (drawn on the left): outside the axes, so the layout keeps room for it
    ax.figure.legend(handles=[Patch(color=SLEEP_COLOURS[k], label=SLEEP_NAMES[k]) for k in present],
                     loc="outside lower right", ncol=len(present), fontsize=8, frameon=False)  # fmt: skip


# ---------------------------------------------------------------- night


def _hypnogram_line(ax, stages: np.ndarray, title: str, scale: float) -> None:  # noqa: ANN001
    level = np.asarray([HYPNOGRAM_LEVEL.get(int(s), np.nan) for s in stages], dtype=np.float64)
    t = np.arange(len(stages) + 1) * dsp.EPOCH_S / scale
    y = np.append(level, level[-1] if len(level) else np.nan)
    ax.step(t, y, where="post", color="#222222", linewidth=1.1)
    rem = np.where(np.asarray(stages) == 2, 1.0, np.nan)  # REM drawn as a thick bar, as in clinical hypnograms
    ax.step(t, np.append(rem, np.nan), where="post", color=SLEEP_COLOURS[2], linewidth=4.0, solid_capstyle="butt")
    ax.set_yticks([v for v, _ in HYPNOGRAM_TICKS], [n for _, n in HYPNOGRAM_TICKS])
    ax.set_ylim(-0.5, 2.5)
    ax.set_ylabel(title)
    ax.grid(axis="x", alpha=0.3)


def _probability_bands(ax, night: NightData, scale: float) -> None:  # noqa: ANN001
    """Stacked class probabilities per epoch (NREM at the bottom, REM, wake on top), blank where none."""
    assert night.probabilities is not None
    have = np.isfinite(night.probabilities).all(axis=1)
    left = night.epoch_starts_s()[have] / scale
    p = night.probabilities[have]
    bottom = np.zeros(len(p))
    for k in (1, 2, 0):
        ax.bar(left, p[:, k], width=dsp.EPOCH_S / scale, bottom=bottom, align="edge", color=SLEEP_COLOURS[k],
               alpha=0.9, linewidth=0, label=SLEEP_CLASS_LABELS[k])  # fmt: skip
        bottom = bottom + p[:, k]


def _motion_bars(ax, night: NightData, scale: float) -> None:  # noqa: ANN001
    """The SLEEP records' motion level per epoch (mean |derivative| of the acceleration magnitude, milli-g)."""
    assert night.motion is not None
    have = night.motion >= 0
    ax.bar(night.epoch_starts_s()[have] / scale, night.motion[have], width=dsp.EPOCH_S / scale, align="edge",
           color="#6c757d", linewidth=0)  # fmt: skip
    ax.set_ylabel("motion\n(milli-g)")
    ax.grid(axis="x", alpha=0.3)


def plot_hypnogram(night: NightData, path: Path) -> tuple[int, int]:
    """The recording's sleep labels (PSG, or a generator's stages: ``night.label_words``) over the predicted
    stages, then the class probabilities and (with SLEEP records) the motion level per epoch, on one time axis
    (clock time when the recording has a start time)."""
    words = night.label_words
    rows = [r for r in ("true", "predicted", "probabilities") if
            (r == "true" and night.true_labels is not None) or (r != "true" and night.predicted is not None)]
    have_probs = night.probabilities is not None and bool(np.isfinite(night.probabilities).any())
    rows = [r for r in rows if r != "probabilities" or have_probs]
    if night.motion is not None and np.any(night.motion >= 0):
        rows.append("motion")
    heights = {"true": 1.6, "predicted": 1.6, "probabilities": 1.3, "motion": 1.0}
    total_s = night.n_epochs * dsp.EPOCH_S
    axis = night_axis(total_s, night.start_datetime())
    scale = axis.scale
    fig = _figure(WIDE, 1.2 + sum(heights[r] for r in rows))
    axes = fig.subplots(len(rows), 1, sharex=True, height_ratios=[heights[r] for r in rows], squeeze=False)[:, 0]
    for ax, row in zip(axes, rows):
        if row == "true":
            assert night.true_labels is not None
            _hypnogram_line(ax, night.true_labels, ROW_LABELS[words.kind], scale)
        elif row == "predicted":
            assert night.predicted is not None
            _hypnogram_line(ax, night.predicted, f"predicted\n({night.model_label})", scale)
        elif row == "motion":
            _motion_bars(ax, night, scale)
        else:
            assert night.probabilities is not None
            _probability_bands(ax, night, scale)
            ax.set_ylim(0, 1)
            ax.set_ylabel("probability")
            ax.legend(loc="upper left", bbox_to_anchor=(1.005, 1.0), fontsize=8, frameon=False)
    axis.apply(axes, total_s)
    axes[-1].set_xlim(0, total_s / scale)
    model = night.model_label
    if night.predictions_from:
        model += f" ({origin(night.predictions_from, 'host, TFLM')})"
    title = {(True, True): f"Hypnogram: {words.short} vs {model}", (True, False): f"Hypnogram: {words.short} "
             "(no prediction)", (False, True): f"Hypnogram: {model} (the recording has no sleep labels)"}.get(
        (night.true_labels is not None, night.predicted is not None), "Hypnogram")  # fmt: skip
    if night.true_labels is not None and night.predicted is not None:
        keep = (night.true_labels >= 0) & (night.predicted >= 0)
        if keep.any():
            agree = float(np.mean(night.true_labels[keep] == night.predicted[keep]))
            title += f" — {agree:.1%} of {int(keep.sum())} scored epochs agree"
    fig.suptitle(title, fontsize=11)
    return _save(fig, path)


def max_pool_columns(db: np.ndarray, max_columns: int) -> tuple[np.ndarray, int]:
    """At most ``max_columns`` columns, each the per-bin maximum of k neighbours: a long night has more columns
    than pixels, and averaging them (as image resampling does) would wash out the short movement bursts."""
    k = max(1, -(-len(db) // max_columns))
    if k == 1:
        return db, 1
    padded = np.concatenate([db, np.full((-len(db) % k, db.shape[1]), -np.inf)])
    return padded.reshape(-1, k, db.shape[1]).max(axis=1), k


def plot_spectrogram(night: NightData, path: Path) -> tuple[int, int]:
    """The device's spectrogram columns (dB colour map) with the sleep labels' strip under it (PSG, or a generator's
    stages), sharing the x axis (clock time when the recording has a start time)."""
    has_labels = night.true_labels is not None
    fig = _figure(WIDE, 5.0 if has_labels else 4.4)
    if has_labels:
        ax, strip = fig.subplots(2, 1, sharex=True, height_ratios=[6, 1])
    else:
        ax, strip = fig.subplots(1, 1), None
    db, pooled = max_pool_columns(night.column_db(), SPECTROGRAM_MAX_COLUMNS)
    t = night.column_times_s()
    half_hop = dsp.STFT_HOP / dsp.ACCEL_RATE_HZ / 2
    total_s = max(night.n_epochs * dsp.EPOCH_S, t[-1] if len(t) else 0.0)
    axis = night_axis(total_s, night.start_datetime())
    scale = axis.scale
    extent = ((t[0] - half_hop) / scale, (t[-1] + half_hop) / scale, 0.0, dsp.ACCEL_RATE_HZ / 2) if len(t) else None
    finite = db[db > 0.0]  # 0 dB is the image floor (silence / saturation at -128), not signal
    lo, hi = (np.percentile(finite, [2, 99.5]) if finite.size else (0.0, 1.0))
    image = ax.imshow(db.T, aspect="auto", origin="lower", extent=extent, cmap="magma", vmin=lo, vmax=hi,
                      interpolation="antialiased")  # fmt: skip
    ax.set_ylabel("frequency (Hz)")
    shown = f"; pixel = loudest of {pooled} columns" if pooled > 1 else ""
    ax.set_title(f"Spectrogram of the acceleration derivative ({len(t)} columns, hop "
                 f"{dsp.STFT_HOP / dsp.ACCEL_RATE_HZ:.2f} s; {origin(night.columns_from)}{shown})",
                 fontsize=11)  # fmt: skip
    fig.colorbar(image, ax=ax, label="power, dB re (milli-g)²", pad=0.01)
    if strip is not None:
        assert night.true_labels is not None
        _label_strip(strip, night.true_labels, scale)
        strip.set_ylabel(night.label_words.strip, rotation=0, ha="right", va="center")
    axis.apply([ax] if strip is None else [ax, strip], total_s)
    return _save(fig, path)


# ---------------------------------------------------------------- stress session


def ppg_excerpt_window(session: StressSessionData, seconds: float = PPG_EXCERPT_S) -> tuple[int, int]:
    """Sample range of the excerpt: the middle of the valid segment with the fewest rejected IBIs (the cleanest
    stretch, first on ties), else the start."""
    fs = session.ppg_rate_hz
    valid = sorted((s.n_rejected, s.segment) for s in session.segments if s.valid)
    start_s = (valid[0][1] * dsp.SEGMENT_S + dsp.SEGMENT_S / 2 - seconds / 2) if valid else 0.0
    start = max(0, min(int(start_s * fs), len(session.ppg) - int(seconds * fs)))
    return start, min(len(session.ppg), start + int(seconds * fs))


def plot_ppg_beats(session: StressSessionData, path: Path) -> tuple[int, int]:
    """A PPG excerpt, raw and band-passed, with the detected beats marked."""
    fs = session.ppg_rate_hz
    lo, hi = ppg_excerpt_window(session)
    t = np.arange(lo, hi) / fs
    beats = session.beats[(session.beats >= lo) & (session.beats < hi)]
    fig = _figure(WIDE, 4.8)
    raw_ax, filt_ax = fig.subplots(2, 1, sharex=True, height_ratios=[1, 1.3])
    raw_ax.plot(t, session.ppg[lo:hi], color="#555555", linewidth=0.9)
    for b in beats:
        raw_ax.axvline(b / fs, color=STRESS_COLOURS[1], alpha=0.35, linewidth=0.8)
    raw_ax.set_ylabel("raw PPG (ADC counts)")
    filtered = session.filtered[lo:hi].astype(np.float64) / (1 << 12)  # Q12 -> counts
    filt_ax.plot(t, filtered, color="#1d3557", linewidth=1.0, label="band-passed (twin)")
    in_range = beats[beats < len(session.filtered)]
    filt_ax.plot(in_range / fs, session.filtered[in_range] / (1 << 12), "o", color=STRESS_COLOURS[1], markersize=5,
                 label=f"beats ({origin(session.beats_from)})")  # fmt: skip
    filt_ax.set_ylabel("band-passed (counts)")
    filt_ax.set_xlabel("time since recording start (s)")
    filt_ax.legend(loc="upper left", bbox_to_anchor=(1.005, 1.0), fontsize=8, frameon=False)
    hr = f", {60.0 * (len(beats) - 1) / ((beats[-1] - beats[0]) / fs):.0f} bpm" if len(beats) > 2 else ""
    fig.suptitle(f"PPG at {fs} Hz, {(hi - lo) / fs:.0f}-s excerpt: {len(beats)} beats detected{hr}", fontsize=12)
    return _save(fig, path)


def _minutes(session: StressSessionData) -> np.ndarray:
    return (session.segment_starts_s() + dsp.SEGMENT_S / 2) / 60.0


def _shade_alerts(ax, session: StressSessionData) -> None:  # noqa: ANN001
    for n, alert in enumerate(session.alerts or []):
        ax.axvspan(alert.segment * dsp.SEGMENT_S / 60.0, (alert.segment + 1) * dsp.SEGMENT_S / 60.0,
                   color=STRESS_COLOURS[1], alpha=0.18, linewidth=0, label="alert" if n == 0 else None)  # fmt: skip


def _decision_strip(ax, session: StressSessionData) -> None:  # noqa: ANN001
    """Consensus decision per segment (colour), unanimity (U), alerts (!)."""
    n = len(session.segments)
    decision = session.decision if session.decision is not None else np.full(n, NONE)
    edges = np.arange(n + 1) * dsp.SEGMENT_S / 60.0
    for k in range(n):
        ax.axvspan(edges[k], edges[k + 1], facecolor=STRESS_COLOURS[int(decision[k])], edgecolor="white", linewidth=1.0)
        marks = ("U" if session.unanimous is not None and session.unanimous[k] == 1 else "") + (
            "!" if any(a.segment == k for a in session.alerts or []) else "")
        if not session.segments[k].valid:  # say why it was not classified
            reasons = [FLAG_SHORT.get(f.name or "", f.name) for f in Flag if session.segments[k].flags & f]
            ax.text((edges[k] + edges[k + 1]) / 2, 0.5, ", ".join(str(r) for r in reasons),
                    ha="center", va="center", fontsize=7, color="#444444", clip_on=True)  # fmt: skip
        elif marks:
            ax.text((edges[k] + edges[k + 1]) / 2, 0.5, marks, ha="center", va="center", fontsize=9, weight="bold",
                    color="white")  # fmt: skip
    ax.set_yticks([])
    ax.set_ylim(0, 1)
    ax.set_ylabel("decision", rotation=0, ha="right", va="center")
    handles = [Patch(color=STRESS_COLOURS[1], label="stress"), Patch(color=STRESS_COLOURS[0], label="relax"),
               Patch(color=STRESS_COLOURS[NONE], label="not classified")]  # fmt: skip
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.005, 1.6), fontsize=8, frameon=False)


def reason_matrix(session: StressSessionData) -> np.ndarray:
    """(6, n_segments): 1 the reason is met, 0 it failed, -1 no STRESS record; rows in bit order."""
    assert session.reasons is not None
    bits = np.asarray(session.reasons, dtype=np.int64)
    rows = [np.where(bits < 0, NONE, (bits & bit) != 0).astype(np.int64) for bit, _ in REASONS]
    return np.stack(rows) if rows else np.zeros((0, len(bits)), dtype=np.int64)


def _reason_strip(ax, session: StressSessionData) -> None:  # noqa: ANN001
    """One row per alert reason (bit order, top down): green met, red failed, grey no record. An alert is a
    column that is green all the way down."""
    m = reason_matrix(session)
    keys = sorted(REASON_COLOURS)
    cmap = ListedColormap([REASON_COLOURS[k] for k in keys])
    norm = BoundaryNorm(np.arange(keys[0] - 0.5, keys[-1] + 1.0), cmap.N)
    end = m.shape[1] * dsp.SEGMENT_S / 60.0
    ax.imshow(m, aspect="auto", cmap=cmap, norm=norm, extent=(0.0, end, len(REASONS), 0.0), interpolation="nearest")
    for k in range(1, m.shape[1]):  # segment borders, so neighbouring cells stay apart
        ax.axvline(k * dsp.SEGMENT_S / 60.0, color="white", linewidth=1.0)
    for r in range(1, len(REASONS)):
        ax.axhline(r, color="white", linewidth=0.6)
    ax.set_yticks(np.arange(len(REASONS)) + 0.5, [REASON_LABELS[name] for _, name in REASONS], fontsize=7)
    handles = [Patch(color=REASON_COLOURS[1], label="reason met"), Patch(color=REASON_COLOURS[0], label="failed"),
               Patch(color=REASON_COLOURS[NONE], label="no STRESS record")]  # fmt: skip
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.005, 1.0), fontsize=8, frameon=False)


def plot_hrv(session: StressSessionData, path: Path) -> tuple[int, int]:
    """HRV features per 60-s segment, alert segments shaded, the consensus decision under them and, with STRESS
    records, the seven alert reasons per segment (which failed)."""
    strip = session.reasons is not None
    heights = [1] * len(HRV_PANELS) + [0.35] + ([1.1] if strip else [])
    fig = _figure(WIDE, 7.0 + (1.3 if strip else 0.0))
    axes = fig.subplots(len(heights), 1, sharex=True, height_ratios=heights)
    minutes = _minutes(session)
    invalid = np.asarray([not s.valid for s in session.segments], dtype=bool)
    for ax, (label, name, unit) in zip(axes, HRV_PANELS):
        values = session.feature(name)
        ax.plot(minutes, values, "o-", color="#1d3557", markersize=4, linewidth=1.2)
        for k in np.flatnonzero(invalid):  # hatched: the device flagged the segment, it has no features
            ax.axvspan(k * dsp.SEGMENT_S / 60.0, (k + 1) * dsp.SEGMENT_S / 60.0, facecolor="none", edgecolor="#bbbbbb",
                       hatch="//", linewidth=0)  # fmt: skip
        if not np.isfinite(values).any():
            ax.set_yticks([])
        _shade_alerts(ax, session)
        ax.set_ylabel(f"{label}\n({unit})")
        ax.grid(alpha=0.3)
    if invalid.any():
        axes[0].legend(handles=[Patch(facecolor="none", edgecolor="#bbbbbb", hatch="//", label="invalid segment")],
                       loc="upper left", bbox_to_anchor=(1.005, 1.0), fontsize=8, frameon=False)  # fmt: skip
    _decision_strip(axes[len(HRV_PANELS)], session)
    if strip:
        _reason_strip(axes[-1], session)
    axes[-1].set_xlabel("time since recording start (minutes)")
    axes[-1].set_xlim(0, max(len(session.segments), 1) * dsp.SEGMENT_S / 60.0)
    alerts = ("no alert information" if session.alerts is None else
              f"{len(session.alerts)} alert{'s' if len(session.alerts) != 1 else ''} (shaded)")  # fmt: skip
    by = f" by the {origin(session.decisions_from or '', 'host models')}" if session.decisions_from else ""
    fig.suptitle(f"HRV features per {dsp.SEGMENT_S}-s segment ({origin(session.features_from)}); {alerts}{by}; "
                 "U = all three models say stress", fontsize=11)  # fmt: skip
    return _save(fig, path)


def plot_model_probabilities(session: StressSessionData, path: Path) -> tuple[int, int]:
    """P(stress) of each model and the weighted vote per segment, with the consensus's decision line."""
    assert session.p_stress is not None
    fig = _figure(WIDE, 3.8)
    ax = fig.subplots(1, 1)
    minutes = _minutes(session)
    for name in MODEL_NAMES:
        if name in session.p_stress and np.isfinite(session.p_stress[name]).any():
            ax.plot(minutes, session.p_stress[name], "o-", color=MODEL_COLOURS[name], linewidth=1.0, markersize=4,
                    alpha=0.85, label=STRESS_MODEL_LABELS[name])  # fmt: skip
    if session.weighted is not None and np.isfinite(session.weighted).any():
        w = "" if session.weights is None else " w = " + "/".join(f"{x:.2f}" for x in session.weights)
        ax.plot(minutes, session.weighted, "s-", color="black", linewidth=2.2, markersize=5, label=f"weighted vote{w}")
    if session.unanimous is not None and np.any(session.unanimous == 1):
        u = session.unanimous == 1
        ax.plot(minutes[u], np.full(u.sum(), 1.04), "v", color=STRESS_COLOURS[1], markersize=8,
                label="unanimous stress")  # fmt: skip
    _shade_alerts(ax, session)
    invalid = [k for k, s in enumerate(session.segments) if not s.valid]
    for k in invalid:  # hatched: invalid features, not classified, nothing drawn
        ax.axvspan(k * dsp.SEGMENT_S / 60.0, (k + 1) * dsp.SEGMENT_S / 60.0, facecolor="none", edgecolor="#bbbbbb",
                   hatch="//", linewidth=0, label="not classified (invalid)" if k == invalid[0] else None)  # fmt: skip
    ax.axhline(session.decision_threshold, color="#888888", linestyle="--", linewidth=1.0,
               label=f"decision {session.decision_threshold:.2f} (weighted vote)")  # fmt: skip
    if session.alert_threshold is not None:
        ax.axhline(session.alert_threshold, color=STRESS_COLOURS[1], linestyle=":", linewidth=1.2,
                   label=f"alert threshold {session.alert_threshold:.2f}")  # fmt: skip
    ax.set_ylim(-0.03, 1.1)
    ax.set_xlim(0, max(len(session.segments), 1) * dsp.SEGMENT_S / 60.0)
    ax.set_ylabel("P(stress)")
    ax.set_xlabel("time since recording start (minutes)")
    ax.grid(alpha=0.3)
    ax.legend(loc="upper left", bbox_to_anchor=(1.005, 1.0), fontsize=8, frameon=False)
    ax.set_title(f"Per-model stress probability per segment ({origin(session.decisions_from or '', 'host models')})",
                 fontsize=11)  # fmt: skip
    return _save(fig, path)


# ---------------------------------------------------------------- confusion matrices


def _confusion_axes(ax, cm: ConfusionMatrix) -> object:  # noqa: ANN001
    counts = cm.counts.astype(np.float64)
    rows = counts.sum(axis=1, keepdims=True)
    norm = np.divide(counts, rows, out=np.zeros_like(counts), where=rows > 0)
    image = ax.imshow(norm, cmap="Blues", vmin=0.0, vmax=1.0)
    k = len(cm.class_names)
    for i in range(k):
        for j in range(k):
            colour = "white" if norm[i, j] > 0.6 else "black"
            ax.text(j, i, f"{int(cm.counts[i, j])}\n{norm[i, j]:.0%}", ha="center", va="center", fontsize=9,
                    color=colour)  # fmt: skip
    ax.set_xticks(range(k), cm.class_names, fontsize=8)
    ax.set_yticks(range(k), cm.class_names, fontsize=8)
    ax.set_xlabel("predicted", fontsize=8)
    ax.set_ylabel("true", fontsize=8)
    ax.set_title(cm.name, fontsize=10)
    return image


def plot_confusions(confusions: Sequence[ConfusionMatrix], title: str, path: Path) -> tuple[int, int]:
    """Each matrix with counts and row-normalised shares (colour = share of the true class's rows)."""
    n = len(confusions)
    cols = min(n, CONFUSION_COLUMNS)
    rows = -(-n // cols)
    fig = _figure(max(3.4 * cols + 0.8, 5.0), 3.2 * rows + 0.6)
    axes = np.atleast_1d(fig.subplots(rows, cols, squeeze=False).ravel())
    image = None
    for ax, cm in zip(axes, confusions):
        image = _confusion_axes(ax, cm)
    for ax in axes[n:]:
        ax.set_visible(False)
    if image is not None:
        fig.colorbar(image, ax=list(axes[:n]), label="share of the true class", shrink=0.8)
    fig.suptitle(title, fontsize=12)
    return _save(fig, path)
