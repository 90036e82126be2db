"""vigil's sleep model beside wristpy and scikit-digital-health on the same real nights (issue 12, item 6).

    .venv/bin/pip install -e '.[peers]'     # the peers, benchmark only (pinned: wristpy==0.2.10,
                                            #   scikit-digital-health==0.17.18); `make setup` does not install them
    .venv/bin/python benchmarks/sleep_peers.py [--data DIR] [--nights N] [--vigil-metrics PATH] [--skdh-wear-check]
                                               [--json | --markdown]

Each night of ``--data`` (ICHI-2014 ``pNNN.npy``, default ../shared/data/ichi2014_train) is loaded with
``vigil.data.ichi.load_ichi`` (per-night calibration from gravity, 50 Hz, milli-g) and handed to the peers as
acceleration in g at 50 Hz, sample i at ``start_time + i / 50`` s (the lab's local clock, taken as naive time):

* wristpy (Child Mind Institute): z-angle over 5-s epochs (``metrics.angle_relative_to_horizontal``), then
  ``analytics.GgirSleepDetection``: van Hees 2018 HDCZA sleep-period-time windows (``spt_windows``, 5-s grid) and
  van Hees 2015 sustained inactivity bouts (``sib_periods``: 5-min clock-aligned blocks in which every 5-s change of
  the z-angle is < 5 degrees), and the sleep windows its ``run_file`` reports (``sleep_cleanup`` of onset/wake-up
  windows with its default GGIR non-wear detection, adaptive). No wristpy calibration: the data are calibrated.
* scikit-digital-health (Pfizer): ``skdh.sleep.Sleep(...).predict`` with the whole night as one day and the device
  worn throughout (``wear`` given); 20 Hz internally; the total sleep opportunity (TSO, van Hees z-angle rest
  window) and per-minute Cole-Kripke sleep/wake on its activity index with Webster's rescoring
  (``save_per_minute_results``). Its internal movement-based non-wear check is switched off
  (``internal_wear_move_thresh=0``; ``--skdh-wear-check`` keeps skdh's 0.001 g): on this 8-bit sensor (about
  31 milli-g per count) a still wrist's quantized signal often has no spread at all, so still half hours read as
  "off the wrist" (with the check, 20 of the 31 nights find a TSO; without it, 24).

Rows (sleep = NREM or REM; each output mapped to vigil's 30-s epochs, see ``epochs_from_samples``):

    wristpy_hdcza       sleep inside HDCZA's sleep-period window, wake outside
    wristpy_sib         sleep in a sustained inactivity bout
    wristpy_sib_in_spt  sleep in a SIB inside the HDCZA window (how GGIR scores sleep within the sleep period)
    wristpy_sleep       the sleep windows wristpy's run_file reports (sleep_status)
    skdh_tso            sleep inside skdh's TSO window
    skdh_ck             skdh's per-minute Cole-Kripke over the whole recording (recomputed with the functions
                        Sleep.predict calls, since it keeps none on a night without a TSO; checked equal to
                        Sleep's own per-minute predictions on every night that has one)
    skdh_ck_in_tso      Cole-Kripke sleep inside the TSO, wake outside (what skdh's sleep endpoints count)

Scores, pooled over the PSG-scored epochs of all nights that a row decided (``vigil.ml.metrics``, wake positive as
in vigil's own reports): accuracy, Cohen's kappa, wake correct, sleep correct; per night the total-sleep-time error
(predicted - PSG, minutes) from ``vigil.ml.night_statistics.paired_statistics``, its mean absolute value and mean.
``--vigil-metrics`` adds the rows of a context model's metrics.json (its ``evaluation``: night-wise cross-validation
by held-out subjects on the same 31 nights, with vigil's van Hees 2015 and random-forest references on the same folds).

A peer that raises on a night, or a row that decides nothing that night (skdh without a TSO), is counted and its
reason printed; the night is left out of those rows, and a second table gives the peers on the nights all of their
rows decided. Runs one night at a time (about 5 s a night; polars and BLAS kept to one thread); 31 nights take
about 2.5 min on 2 shared cores.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import subprocess
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

if __name__ == "__main__":  # run as a script (not imported by the tests): the machine is shared, use one core
    for _var in ("POLARS_MAX_THREADS", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(_var, "1")

import numpy as np

from vigil.ml.metrics import classification_metrics, cohen_kappa, confusion_matrix
from vigil.ml.night_statistics import paired_statistics

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA = ROOT.parent / "shared" / "data" / "ichi2014_train"
RATE_HZ = 50
EPOCH_S = 30
SAMPLES_PER_EPOCH = RATE_HZ * EPOCH_S
NO_OUTPUT = -1
NAIVE_START = dt.datetime(2000, 1, 1, 22, 0, 0)  # a night without start_time starts here (time of day matters little)

# key: (peer, label, what the row's "sleep" is)
ROWS: dict[str, tuple[str, str, str]] = {
    "wristpy_hdcza": ("wristpy", "wristpy HDCZA sleep period", "sleep period (van Hees 2018): no per-epoch wake"),
    "wristpy_sib": ("wristpy", "wristpy sustained inactivity (SIB)", "5-min bouts, z-angle change < 5 deg (2015)"),
    "wristpy_sib_in_spt": ("wristpy", "wristpy SIB within HDCZA", "GGIR's sleep in the sleep period"),
    "wristpy_sleep": ("wristpy", "wristpy sleep windows (run_file)", "first to last SIB per HDCZA window"),
    "skdh_tso": ("skdh", "skdh total sleep opportunity", "rest window (z-angle): no per-epoch wake"),
    "skdh_ck": ("skdh", "skdh Cole-Kripke, whole night", "per minute, activity index, rescored"),
    "skdh_ck_in_tso": ("skdh", "skdh Cole-Kripke within TSO", "skdh's sleep endpoints"),
}
PEERS = ("wristpy", "skdh")
PEER_PACKAGES = {"wristpy": "wristpy", "skdh": "scikit-digital-health"}


class PeerNoOutput(RuntimeError):
    """A peer ran but decided nothing for the night (e.g. skdh found no total sleep opportunity)."""


# ------------------------------------------------------------------ mapping peers' outputs to vigil's epochs


def paint(n_samples: int, starts_s: np.ndarray, ends_s: np.ndarray, values: np.ndarray,
          rate_hz: int = RATE_HZ, fill: float = NO_OUTPUT, dtype: Any = np.int8) -> np.ndarray:  # fmt: skip
    """Per-sample values of a step function: sample i (at t = i / rate_hz s) takes the value of the interval
    [start, end) (seconds from the recording's first sample) that holds t; ``fill`` where none does. Intervals
    past either end are clipped; where intervals overlap the later one in the list wins."""
    out = np.full(n_samples, fill, dtype=dtype)
    starts = np.asarray(starts_s, dtype=np.float64)
    ends = np.asarray(ends_s, dtype=np.float64)
    vals = np.asarray(values)
    # first sample at or after each boundary; rounding to micro-samples keeps 5.0 s * 50 Hz at exactly 250
    lo = np.clip(np.ceil(np.round(starts * rate_hz, 6)).astype(np.int64), 0, n_samples)
    hi = np.clip(np.ceil(np.round(ends * rate_hz, 6)).astype(np.int64), 0, n_samples)
    for a, b, v in zip(lo, hi, vals):
        if b > a:
            out[a:b] = v
    return out


def bins(starts_s: np.ndarray, width_s: float, values: np.ndarray, n_samples: int) -> np.ndarray:
    """``paint`` for equal-width bins that start at ``starts_s`` (a peer's epoch grid, e.g. 5 s or 1 min)."""
    starts = np.asarray(starts_s, dtype=np.float64)
    return paint(n_samples, starts, starts + width_s, np.asarray(values).astype(np.int8))


def both_asleep(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Sleep where both say sleep, wake where either says wake and both decided, NO_OUTPUT where either did not."""
    return np.where((a >= 0) & (b >= 0), np.minimum(a, b), NO_OUTPUT).astype(np.int8)


def epochs_from_samples(per_sample: np.ndarray, samples_per_epoch: int = SAMPLES_PER_EPOCH) -> np.ndarray:
    """One decision per whole 30-s epoch (epoch k = samples [1500 k, 1500 k + 1500)) from per-sample 1 sleep /
    0 wake / -1 nothing: NO_OUTPUT unless at least half the epoch's samples are decided; then sleep if more
    decided samples say sleep than wake, else wake (a tie is wake)."""
    s = np.asarray(per_sample)
    n = len(s) // samples_per_epoch
    e = s[: n * samples_per_epoch].reshape(n, samples_per_epoch)
    decided = np.count_nonzero(e >= 0, axis=1)
    asleep = np.count_nonzero(e == 1, axis=1)
    out = np.where(2 * asleep > decided, 1, 0).astype(np.int8)
    out[2 * decided < samples_per_epoch] = NO_OUTPUT
    return out


# ------------------------------------------------------------------ scoring


def sleep_wake_scores(truth: np.ndarray, predicted: np.ndarray) -> dict[str, Any]:
    """Sleep / wake figures on the epochs the PSG scored (truth 0 wake, 1 NREM, 2 REM, -1 unscored) and the row
    decided (predicted 0 wake, 1 sleep, -1 nothing); wake is the positive class, as in vigil's reports, so
    ``wake_correct`` is the sensitivity and ``sleep_correct`` the specificity. ``coverage``: the share of the
    PSG-scored epochs the row decided."""
    y, p = np.asarray(truth, dtype=np.int64), np.asarray(predicted, dtype=np.int64)
    scored = y >= 0
    both = scored & (p >= 0)
    is_wake, said_wake = (y[both] == 0).astype(np.int64), (p[both] == 0).astype(np.int64)
    cm = confusion_matrix(is_wake, said_wake, 2)
    m = classification_metrics(is_wake, said_wake)
    return {"epochs": int(both.sum()), "coverage": float(both.sum() / scored.sum()) if scored.any() else 0.0,
            "accuracy": m["accuracy"], "kappa": cohen_kappa(cm), "wake_correct": m["sensitivity"],
            "sleep_correct": m["specificity"], "confusion": cm.tolist()}  # fmt: skip


def tst_error_min(truth: np.ndarray, predicted: np.ndarray) -> float | None:
    """Total sleep time predicted - PSG in minutes on the epochs both have (``paired_statistics``)."""
    return paired_statistics(truth, predicted)["errors"]["tst_error_min"]


def summarize(truths: list[np.ndarray], preds: list[np.ndarray]) -> dict[str, Any]:
    """A row over nights: epoch figures pooled, total-sleep-time error per night, its mean |.| and mean."""
    if not truths:
        return {"nights": 0}
    out = sleep_wake_scores(np.concatenate(truths), np.concatenate(preds))
    errors = [tst_error_min(t, p) for t, p in zip(truths, preds)]
    errors = [e for e in errors if e is not None]
    out.update({"nights": len(truths), "tst_error_min_mean_abs": float(np.mean(np.abs(errors))) if errors else None,
                "tst_error_min_mean": float(np.mean(errors)) if errors else None})  # fmt: skip
    return out


# ------------------------------------------------------------------ the peers


def _naive_start(meta: dict[str, Any]) -> dt.datetime:
    start = meta.get("start_time")
    if not start:
        return NAIVE_START
    return dt.datetime.fromisoformat(start).replace(tzinfo=None)


def _relative_s(time_series: Any, start: dt.datetime) -> np.ndarray:
    """Seconds from ``start`` of a polars datetime series (wristpy's time stamps)."""
    import polars as pl

    return (time_series.cast(pl.Datetime("us")) - start).dt.total_microseconds().to_numpy() / 1e6


def run_wristpy(accel_g: np.ndarray, start: dt.datetime) -> tuple[dict[str, np.ndarray | str], dict[str, np.ndarray]]:
    """wristpy's rows as per-sample decisions, and its HDCZA statistic (5-min median of 5-s |delta z-angle|,
    degrees, per sample) for the diagnostics."""
    import logging

    import polars as pl
    from wristpy.core import computations, models
    from wristpy.processing import analytics, metrics, processing_utils

    logging.getLogger("wristpy").setLevel(logging.ERROR)
    n = len(accel_g)
    start_ns = (start - dt.datetime(1970, 1, 1)) // dt.timedelta(microseconds=1) * 1000
    step_ns = 10**9 // RATE_HZ
    times = pl.Series("time", start_ns + np.arange(n, dtype=np.int64) * step_ns).cast(pl.Datetime("ns"))
    acc = models.Measurement(measurements=accel_g, time=times)
    anglez = metrics.angle_relative_to_horizontal(acc, epoch_length=5)
    detector = analytics.GgirSleepDetection(anglez)
    params = detector.run_sleep_detection()
    spt = bins(_relative_s(params.spt_windows.time, start), 5.0, params.spt_windows.measurements, n)
    sib = bins(_relative_s(params.sib_periods.time, start), 300.0, params.sib_periods.measurements, n)
    # run_file's sleep_status: non-wear by wristpy's default (GGIR) algorithm on the 5-s grid, adaptive clean-up
    nonwear = processing_utils.get_nonwear_measurements(calibrated_acceleration=acc, temperature=None,
                                                        non_wear_algorithms=["ggir"])  # fmt: skip
    nonwear_epoch = processing_utils.synchronize_measurements(data_measurement=nonwear, reference_measurement=anglez,
                                                              epoch_length=5)  # fmt: skip
    status, _ = analytics.sleep_cleanup(sleep_windows=params.sleep_windows, nonwear_measurement=nonwear_epoch,
                                        adaptive=True)  # fmt: skip
    sleep = bins(_relative_s(status.time, start), 5.0, status.measurements, n)
    diff = detector._compute_abs_diff_mean_anglez(anglez)
    median = computations.moving_median(diff, 300)
    t = _relative_s(median.time, start)
    statistic = paint(n, t, t + 5.0, median.measurements, fill=np.nan, dtype=np.float32)
    rows: dict[str, np.ndarray | str] = {"wristpy_hdcza": spt, "wristpy_sib": sib, "wristpy_sib_in_spt": both_asleep(spt, sib),
            "wristpy_sleep": sleep}  # fmt: skip
    return rows, {"hdcza_statistic_deg": statistic}


def run_skdh(accel_g: np.ndarray, start: dt.datetime,
             internal_wear_move_thresh: float = 0.0) -> tuple[dict[str, np.ndarray | str], dict[str, np.ndarray]]:  # fmt: skip
    """skdh's rows as per-sample decisions: minute m of its per-minute output covers [60 m, 60 m + 60) s.

    ``Sleep.predict`` gives the TSO and, inside it, what its endpoints count; it keeps no per-minute predictions for
    a night without a TSO, so the whole-night Cole-Kripke row is computed by the same functions ``Sleep.predict``
    calls (resample to 20 Hz, ``compute_activity_index``, ``compute_sleep_predictions(sf=0.243)``), and checked
    against ``Sleep``'s own per-minute predictions wherever it kept them."""
    from skdh.sleep import Sleep
    from skdh.sleep.sleep_classification import compute_sleep_predictions
    from skdh.sleep.utility import compute_activity_index
    from skdh.utility.internal import apply_resample

    n = len(accel_g)
    unix = (start - dt.datetime(1970, 1, 1)).total_seconds() + np.arange(n) / RATE_HZ
    day = (12, 24)
    whole = np.array([[0, n - 1]])
    sleep = Sleep(day_window=day, save_per_minute_results=True, internal_wear_move_thresh=internal_wear_move_thresh)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        sleep.predict(time=unix, accel=accel_g, fs=float(RATE_HZ), wear=whole, day_ends={day: whole})
    goal_fs = 20.0
    _, (accel_ds,), ((stop,),) = apply_resample(goal_fs=goal_fs, time=unix, data=(accel_g,),
                                               indices=(np.array([n - 1]),), fs=float(RATE_HZ))  # fmt: skip
    ck = compute_sleep_predictions(compute_activity_index(goal_fs, accel_ds[:stop]), sf=0.243).astype(np.int8)
    minutes = np.arange(len(ck))
    rows: dict[str, np.ndarray | str] = {"skdh_ck": bins(minutes * 60.0, 60.0, ck, n)}
    aux = sleep.sleep_aux or {}
    if not aux.get("rest predictions"):
        reason = "no total sleep opportunity found (skdh reports no sleep endpoints for the night)"
        rows.update({"skdh_tso": reason, "skdh_ck_in_tso": reason})
        return rows, {}
    if not np.array_equal(np.asarray(aux["rest predictions"][0]), ck):
        raise RuntimeError("Cole-Kripke recomputed differs from Sleep.predict's per-minute predictions")
    tso_start, tso_stop = aux["tso indices"][0]
    in_tso = ((minutes >= tso_start) & (minutes < tso_stop)).astype(np.int8)
    rows["skdh_tso"] = paint(n, np.array([0.0, tso_start * 60.0]), np.array([n / RATE_HZ, tso_stop * 60.0]),
                             np.array([0, 1]))  # fmt: skip
    rows["skdh_ck_in_tso"] = bins(minutes * 60.0, 60.0, ck * in_tso, n)
    return rows, {}


Runner = Callable[..., tuple[dict[str, "np.ndarray | str"], dict[str, np.ndarray]]]  # (accel_g, start, **options)
#: per peer: its rows as per-sample decisions (or, for a row that decided nothing that night, the reason), and extras
RUNNERS: dict[str, Runner] = {
    "wristpy": run_wristpy,
    "skdh": run_skdh,
}


# ------------------------------------------------------------------ vigil's rows


def vigil_rows(metrics_path: Path) -> dict[str, dict[str, Any]]:
    """The context model and its two references from a metrics.json (``evaluation``): night-wise cross-validated
    (held-out subjects) sleep / wake figures on the same nights; wake positive, so wake correct = sensitivity."""
    ev = json.loads(Path(metrics_path).read_text())["evaluation"]
    protocol = f"{ev.get('protocol', '?')}, {ev.get('folds', '?')} folds by subject"
    rows: dict[str, dict[str, Any]] = {}

    def row(label: str, what: str, m: dict[str, Any]) -> dict[str, Any]:
        cm = np.asarray(m.get("confusion", [[0, 0], [0, 0]]))
        return {"peer": "vigil", "label": label, "method": what, "accuracy": m["accuracy"], "kappa": m["kappa"],
                "wake_correct": m["sensitivity"], "sleep_correct": m["specificity"], "auc": m.get("auc"),
                "epochs": int(cm.sum()), "nights": ev.get("nights"), "tst_error_min_mean_abs": None,
                "tst_error_min_mean": None, "cross_validated": protocol}  # fmt: skip

    rows["vigil_context"] = row("vigil context model (int8, TFLM)", f"night-wise CV ({protocol})", ev["sleep_wake"])
    nights = ev.get("per_night") or []
    errors = [n["errors"]["tst_error_min"] for n in nights if n.get("errors", {}).get("tst_error_min") is not None]
    if ev.get("tst_error_min_mean") is not None:
        rows["vigil_context"]["tst_error_min_mean_abs"] = ev["tst_error_min_mean"]
    if errors:
        rows["vigil_context"]["tst_error_min_mean"] = float(np.mean(errors))
    refs = ev.get("references", {})
    if "van_hees_2015" in refs:
        rows["vigil_van_hees_2015"] = row("van Hees 2015 z-angle (vigil's)", f"same folds ({protocol}), no training",
                                          refs["van_hees_2015"])  # fmt: skip
    if "random_forest_movement" in refs:
        rows["vigil_random_forest"] = row("random forest, movement features", f"night-wise CV ({protocol})",
                                          refs["random_forest_movement"])  # fmt: skip
    return rows


# ------------------------------------------------------------------ the run


def machine() -> dict[str, Any]:
    cpu = platform.processor() or ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"nproc": os.cpu_count(), "cpu": cpu, "python": platform.python_version()}


def versions() -> dict[str, str | None]:
    from importlib.metadata import PackageNotFoundError, version

    out: dict[str, str | None] = {}
    for name in ("wristpy", "scikit-digital-health", "polars", "numpy", "scipy", "pandas"):
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            out[name] = None
    return out


def git_commit() -> str | None:
    try:
        return subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True,
                              text=True, check=True).stdout.strip()  # fmt: skip
    except (OSError, subprocess.CalledProcessError):
        return None


def _row_night(console: Any, failures: dict[str, list[dict[str, str]]], keys: list[str], night: str,
               reason: str) -> None:  # fmt: skip
    for key in keys:
        failures[key].append({"night": night, "reason": reason})
    console.print(f"[yellow]{night}: {', '.join(keys)}: {reason}[/yellow]")


def run(data: Path, n_nights: int | None, metrics_path: Path | None, console: Any,
        skdh_internal_wear_move_thresh: float = 0.0) -> dict[str, Any]:  # fmt: skip
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from vigil.data.ichi import load_ichi

    files = sorted(p for p in Path(data).glob("p*.npy") if p.name != "pat_inf.npy")
    if not files:
        raise SystemExit(f"{data}: no ICHI-2014 nights (p*.npy)")
    files = files[:n_nights] if n_nights else files
    versions_now = versions()
    available = {peer: versions_now[PEER_PACKAGES[peer]] is not None for peer in PEERS}
    peer_kwargs: dict[str, dict[str, Any]] = {"wristpy": {}, "skdh": {}}
    if skdh_internal_wear_move_thresh:  # the default (0) is run_skdh's own
        peer_kwargs["skdh"]["internal_wear_move_thresh"] = skdh_internal_wear_move_thresh
    peer_rows = {peer: [k for k, row in ROWS.items() if row[0] == peer] for peer in PEERS}
    decided: dict[str, dict[str, tuple[np.ndarray, np.ndarray]]] = {k: {} for k in ROWS}  # row -> night -> (t, p)
    failures: dict[str, list[dict[str, str]]] = {k: [] for k in ROWS}
    seconds: dict[str, float] = {peer: 0.0 for peer in PEERS}
    per_night: dict[str, dict[str, Any]] = {}
    statistic: dict[str, list[np.ndarray]] = {"wake": [], "nrem": [], "rem": []}
    psg_epochs = 0
    started = time.monotonic()
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console, transient=True) as progress:
        task = progress.add_task("nights", total=len(files))
        for path in files:
            name = path.stem
            progress.update(task, description=f"night {name}")
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # gap notices are in the recording's meta
                rec = load_ichi(path)
            truth = rec.epoch_labels().astype(np.int64)
            psg_epochs += int(np.count_nonzero(truth >= 0))
            accel_g = rec.accel.astype(np.float64) / 1000.0
            start = _naive_start(rec.meta)
            per_night[name] = {"epochs_scored": int(np.count_nonzero(truth >= 0)), "rows": {}}
            for peer in PEERS:
                if not available[peer]:
                    _row_night(console, failures, peer_rows[peer], name, f"{PEER_PACKAGES[peer]} is not installed")
                    continue
                t0 = time.monotonic()
                try:
                    rows, extra = RUNNERS[peer](accel_g, start, **peer_kwargs[peer])
                except Exception as exc:  # noqa: BLE001 -- a peer's failure on one night is counted, not fatal
                    reason = f"{peer} raised {type(exc).__name__}: {exc}".splitlines()[0][:300]
                    _row_night(console, failures, peer_rows[peer], name, reason)
                    continue
                finally:
                    seconds[peer] += time.monotonic() - t0
                for key, per_sample in rows.items():
                    if isinstance(per_sample, str):
                        _row_night(console, failures, [key], name, per_sample)
                        continue
                    pred = epochs_from_samples(per_sample)
                    k = min(len(pred), len(truth))
                    t, p = truth[:k], pred[:k]
                    decided[key][name] = (t, p)
                    s = sleep_wake_scores(t, p)
                    per_night[name]["rows"][key] = {"accuracy": s["accuracy"], "kappa": s["kappa"],
                                                    "coverage": s["coverage"], "tst_error_min": tst_error_min(t, p)}  # fmt: skip
                if "hdcza_statistic_deg" in extra:
                    v = extra["hdcza_statistic_deg"]
                    n_ep = min(len(v) // SAMPLES_PER_EPOCH, len(truth))
                    with warnings.catch_warnings():
                        warnings.simplefilter("ignore", RuntimeWarning)  # epochs without a value
                        per_epoch = np.nanmean(v[: n_ep * SAMPLES_PER_EPOCH].reshape(n_ep, -1), axis=1)
                    for cls, label in enumerate(("wake", "nrem", "rem")):
                        sel = (truth[:n_ep] == cls) & np.isfinite(per_epoch)
                        statistic[label].append(per_epoch[sel])
            progress.advance(task)
    rows_out: dict[str, dict[str, Any]] = {}
    for key, (peer, label, what) in ROWS.items():
        pairs = list(decided[key].values())
        rows_out[key] = {"peer": peer, "label": label, "method": what,
                         **summarize([t for t, _ in pairs], [p for _, p in pairs])}  # fmt: skip
    # the nights every peer row decided: the peers side by side on identical epochs
    common = [p.stem for p in files if all(p.stem in decided[k] for k in ROWS)]
    rows_common: dict[str, dict[str, Any]] = {}
    for key, (peer, label, what) in ROWS.items():
        rows_common[key] = {"peer": peer, "label": label, "method": what,
                            **summarize([decided[key][n][0] for n in common], [decided[key][n][1] for n in common])}  # fmt: skip
    if metrics_path is not None:
        rows_out.update(vigil_rows(metrics_path))
    diagnostics = {}
    for label, chunks in statistic.items():
        if chunks:
            v = np.concatenate(chunks)
            diagnostics[label] = {"epochs": len(v), "median": float(np.median(v)),
                                  "share_below_0.2": float(np.mean(v < 0.2))}  # fmt: skip
    return {
        "command": " ".join([Path(sys.executable).name, *sys.argv]),
        "date": dt.date.today().isoformat(),
        "commit": git_commit(),
        "machine": machine(),
        "versions": versions_now,
        "data": str(data),
        "nights": [p.stem for p in files],
        "epochs_scored_psg": psg_epochs,
        "vigil_metrics": str(metrics_path) if metrics_path else None,
        "settings": {
            "skdh_internal_wear_move_thresh_g": skdh_internal_wear_move_thresh,
            "skdh_day": "the whole recording, worn throughout",
            "wristpy_epoch_s": 5,
            "wristpy_nonwear": "ggir, adaptive",
        },
        "seconds": {"total": round(time.monotonic() - started, 1), **{k: round(v, 1) for k, v in seconds.items()}},
        "failures": {k: v for k, v in failures.items() if v},
        "rows": rows_out,
        "common_nights": common,
        "rows_common_nights": rows_common,
        "diagnostics": {
            "hdcza_statistic_deg_by_psg_stage": diagnostics,
            "note": "per epoch: wristpy's HDCZA statistic (5-min moving median of the 5-s |delta z-angle|), degrees; "
            "HDCZA calls < 0.2 a sleep candidate",
        },
        "per_night": per_night,
    }


def _f(v: Any, spec: str = ".3f") -> str:
    return "—" if v is None else format(v, spec)


def table_rows(rows: dict[str, dict[str, Any]]) -> list[list[str]]:
    out = []
    for row in rows.values():
        out.append([
            row["label"], row.get("method", ""), _f(row.get("nights"), "d"), _f(row.get("epochs"), "d"),
            _f(row.get("coverage"), ".3f") if row["peer"] != "vigil" else "—",
            _f(row.get("accuracy")), _f(row.get("kappa")), _f(row.get("auc")), _f(row.get("wake_correct")),
            _f(row.get("sleep_correct")),
            _f(row.get("tst_error_min_mean_abs"), ".1f"), _f(row.get("tst_error_min_mean"), "+.1f"),
        ])  # fmt: skip
    return out


HEADER = ["row", "what", "nights", "epochs", "coverage", "accuracy", "κ", "AUC", "wake correct", "sleep correct",
          "|TST error| (min)", "TST bias (min)"]  # fmt: skip


def failure_lines(result: dict[str, Any]) -> list[str]:
    """One line per row and reason: how many nights, which."""
    lines = []
    for key, fails in result.get("failures", {}).items():
        by_reason: dict[str, list[str]] = {}
        for f in fails:
            by_reason.setdefault(f["reason"], []).append(f["night"])
        for reason, nights in by_reason.items():
            lines.append(f"{key}: {len(nights)} night(s) without output ({', '.join(nights)}): {reason}")
    return lines


def markdown(result: dict[str, Any]) -> str:
    """The table of all rows; when some peer row missed nights, a second one of the peers on the nights all
    of them decided."""

    def table(rows: dict[str, dict[str, Any]]) -> list[str]:
        lines = ["| " + " | ".join(HEADER) + " |", "|" + "---|" * len(HEADER)]
        return lines + ["| " + " | ".join(r) + " |" for r in table_rows(rows)]

    lines = table(result["rows"])
    common = result.get("common_nights")
    if common is not None and len(common) < len(result.get("nights", common)):
        lines += ["", f"The peers on the {len(common)} nights every peer row decided:", ""]
        lines += table(result["rows_common_nights"])
    return "\n".join(lines)


def print_table(result: dict[str, Any], console: Any) -> None:
    from rich.table import Table

    m = result["machine"]

    def table(title: str, rows: dict[str, dict[str, Any]]) -> Table:
        t = Table(title=title)
        for i, h in enumerate(HEADER):
            if i != 1:  # the method column is in the markdown and the JSON; too wide here
                t.add_column(h, justify="left" if i == 0 else "right")
        for r in table_rows(rows):
            t.add_row(r[0], *r[2:])
        return t

    console.print(table(f"Sleep / wake on {len(result['nights'])} ICHI-2014 nights ({result['epochs_scored_psg']} "
                        f"PSG-scored epochs), {result['date']}, {m['nproc']} CPUs, {m['cpu']}", result["rows"]))  # fmt: skip
    common = result["common_nights"]
    if len(common) < len(result["nights"]):
        console.print(table(f"The peers on the {len(common)} nights every peer row decided",
                            result["rows_common_nights"]))  # fmt: skip
    v = result["versions"]
    console.print(f"wristpy {v['wristpy']}, scikit-digital-health {v['scikit-digital-health']}, "
                  f"polars {v['polars']}, numpy {v['numpy']}; seconds: {result['seconds']}")  # fmt: skip
    for line in failure_lines(result):
        console.print(line)
    d = result["diagnostics"]["hdcza_statistic_deg_by_psg_stage"]
    if d:
        console.print("HDCZA statistic (5-min median |Δ z-angle|, deg; sleep candidate < 0.2) by PSG stage: "
                      + ", ".join(f"{k} median {v['median']:.3f} ({100 * v['share_below_0.2']:.0f} % < 0.2)"
                                  for k, v in d.items()))  # fmt: skip
    if result["vigil_metrics"]:
        console.print(f"vigil rows: {result['vigil_metrics']} (night-wise cross-validation on the same nights)")


def main(argv: list[str] | None = None) -> int:
    from rich.console import Console

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="folder of ICHI-2014 nights (pNNN.npy)")
    parser.add_argument("--nights", type=int, default=None, help="only the first N nights (sorted by name)")
    parser.add_argument("--vigil-metrics", type=Path, default=None,
                        help="a context model's metrics.json: add its cross-validated rows")  # fmt: skip
    parser.add_argument("--skdh-wear-check", action="store_true",
                        help="keep skdh's internal movement non-wear check (0.001 g; off by default, see above)")  # fmt: skip
    out = parser.add_mutually_exclusive_group()
    out.add_argument("--json", action="store_true", help="the whole result as JSON on stdout")
    out.add_argument("--markdown", action="store_true", help="the table as markdown (docs/benchmarks.md)")
    args = parser.parse_args(argv)
    err = Console(stderr=True, soft_wrap=True)
    result = run(args.data, args.nights, args.vigil_metrics, err, 0.001 if args.skdh_wear_check else 0.0)
    if args.json:
        print(json.dumps(result, indent=2))
    elif args.markdown:
        print(markdown(result))
    else:
        console = Console()
        print_table(result, console if console.is_terminal else Console(width=200))
    return 0


if __name__ == "__main__":
    sys.exit(main())
