"""``report.json`` (and `vigil report --json`): what the page shows, for scripts. Per epoch with a SLEEP record
``night.sleep`` ({epoch, cls, outputs, probabilities, motion}); the night's ``start_time``, what its ``labels`` are
("psg", "synthetic", "other") and its ``sleep_statistics`` (``report.night_metrics.night_sleep_statistics``); per
segment with a STRESS record ``stress.records``
({segment, p_tree_q15, p_svm_q15, p_nn_q15, weighted_q15, decision, unanimous, alert, reasons, reasons_met,
reasons_failed, motion}), the metrics tables, verify verdicts, provenance and ``model_hashes``."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

import numpy as np

from vigil.report.metrics_tables import MetricsTable
from vigil.report.model_records import reasons_failed, reasons_met
from vigil.report.night import NightData
from vigil.report.stress_session import StressSessionData

if TYPE_CHECKING:
    from vigil.report.report_data import ReportData


def plain(value: Any) -> Any:
    """A value of the frozen data model as plain JSON types: read-only mappings as dicts, numpy scalars as
    Python numbers, tuples as lists."""
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    return value


def finite_or_none(x: float | None) -> float | None:
    return None if x is None or (isinstance(x, float) and math.isnan(x)) else x


def night_records_json(n: NightData) -> list[dict[str, Any]] | None:
    """Per epoch with a SLEEP record: class, int8 outputs, probabilities, motion (None: no records)."""
    if n.outputs is None or n.predicted is None or n.motion is None:
        return None
    out = []
    for e in np.flatnonzero(n.predicted >= 0):
        probs = None if n.probabilities is None else [round(float(v), 6) for v in n.probabilities[e]]
        out.append({"epoch": int(e), "cls": int(n.predicted[e]), "outputs": [int(v) for v in n.outputs[e]],
                    "probabilities": probs, "motion": int(n.motion[e])})  # fmt: skip
    return out


def stress_records_json(s: StressSessionData) -> list[dict[str, Any]] | None:
    """Per segment with a STRESS record: its integers and the reasons decoded (None: no records)."""
    if s.reasons is None or s.p_stress_q15 is None or s.weighted_q15 is None or s.decision is None:
        return None
    assert s.unanimous is not None and s.motion is not None
    alerts = {a.segment for a in s.alerts or []}
    out = []
    for k in np.flatnonzero(s.reasons >= 0):
        bits = int(s.reasons[k])
        out.append({"segment": int(k), **{f"p_{m}_q15": int(v[k]) for m, v in s.p_stress_q15.items()},
                    "weighted_q15": int(s.weighted_q15[k]), "decision": int(s.decision[k]),
                    "unanimous": int(s.unanimous[k]), "alert": int(k in alerts), "reasons": bits,
                    "reasons_met": list(reasons_met(bits)), "reasons_failed": list(reasons_failed(bits)),
                    "motion": int(s.motion[k])})  # fmt: skip
    return out


def summary_json(data: ReportData) -> dict[str, Any]:
    """What the page shows, for scripts (`vigil report --json`, report.json)."""
    def rows(t: MetricsTable) -> list[dict]:
        return [{k: finite_or_none(v) for k, v in asdict(r).items()} for r in t.rows]

    out: dict[str, Any] = {
        "vigil_version": data.vigil_version, "created": data.created_utc,
        "metrics": [{"title": t.title, "task": t.task, "source": t.source, "protocol": t.protocol, "rows": rows(t),
                     "confusions": {c.name: c.counts.tolist() for c in t.confusions}} for t in data.metrics],
        "verify": [{"path": v.path, "ok": v.ok, "board": v.board,
                    "mismatches": sum(s.mismatches for s in v.stages)} for v in data.verify],
        "missing": dict(data.missing),
        "provenance": [{"role": p.role, "path": p.path, "sha256": p.sha256} for p in data.provenance],
        "model_hashes": [{"log": c.log, "model": c.model, "device": c.device, "report": c.report, "same": c.same}
                         for c in data.model_hashes],
    }  # fmt: skip
    if data.night:
        n = data.night
        out["night"] = {"source": n.source, "epochs": n.n_epochs, "columns": len(n.columns),
                        "columns_from": n.columns_from, "predictions_from": n.predictions_from,
                        "notes": list(n.notes), "sleep": night_records_json(n), "start_time": n.start_time,
                        "labels": n.label_kind, "sleep_statistics": plain(data.night_statistics)}  # fmt: skip
        if data.night_clusters is not None:
            r = data.night_clusters.report
            out["night"]["clusters"] = {k: plain(r[k]) for k in ("method", "features", "clusters", "epochs_clustered",
                                                                  "purity", "adjusted_rand_index", "table")}
    if data.stress:
        s = data.stress
        out["stress"] = {
            "source": s.source, "beats": len(s.beats), "segments": len(s.segments),
            "valid_segments": sum(1 for g in s.segments if g.valid), "decisions_from": s.decisions_from,
            "stress_segments": None if s.decision is None else int(np.sum(s.decision == 1)),
            "alerts": None if s.alerts is None else [{"segment": a.segment, "reasons": list(a.reasons)}
                                                      for a in s.alerts],
            "notes": list(s.notes), "records": stress_records_json(s),
        }  # fmt: skip
    return json.loads(json.dumps(out, default=str))
