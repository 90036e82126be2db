"""What a device computed, read back from a JSON Lines log (`vigil replay --out`, `vigil monitor --out`).

The log holds one record per frame (``vigil.device.protocol.describe``). The report uses:

==============  =========================================================================================
``HELLO``       board, firmware version, build id, model hashes (provenance)
``CONFIG_ACK``  starts a processing session: a log with several sessions is read from its last one
``SPEC_COLUMN`` ``index``, ``values`` (65 int8): the spectrogram columns
``BEAT``        ``index``: a beat's sample index
``HRV``         the fields of ``vigil.device.protocol.HRV_FIELDS``: one 60-s segment's features
``SLEEP``       one epoch's sleep result: ``epoch``, ``stage`` (or ``class``) 0 wake / 1 NREM / 2 REM,
                optional ``probabilities`` (or ``scores``): three numbers in wake / NREM / REM order
``STRESS``      one segment's consensus: ``segment``, per-model stress probabilities as ``p_tree``,
                ``p_svm``, ``p_nn`` (or a ``probabilities`` object keyed tree / svm / nn), ``weighted``,
                ``decision`` (or ``stress``) 0/1, ``unanimous``, ``alert``, ``reasons`` (list of strings)
``ALERT``       ``segment``, ``reasons``: an alert raised (when the device sends it as its own frame)
==============  =========================================================================================

``SLEEP``, ``STRESS`` and ``ALERT`` are the on-device consensus's records; their field names are read
leniently (the alternatives above) by :func:`sleep_result` and :func:`stress_result`, the one place to
adjust when that protocol is fixed. Probabilities given as integers 0..255 or 0..65535 are read as Q8 or Q16.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from vigil.device import protocol as p
from vigil.errors import VigilError
from vigil.monitor import read_log

SLEEP_TYPES = ("SLEEP", "SLEEP_RESULT")
STRESS_TYPES = ("STRESS", "STRESS_RESULT")
ALERT_TYPES = ("ALERT",)


@dataclass(frozen=True)
class DeviceSleepResult:
    epoch: int
    stage: int  # 0 wake, 1 NREM, 2 REM
    probabilities: tuple[float, float, float] | None


@dataclass(frozen=True)
class DeviceStressResult:
    segment: int
    probabilities: dict[str, float]  # model name -> P(stress); may be empty
    weighted: float | None
    decision: int | None  # 1 stress, 0 relax
    unanimous: bool | None
    alert: bool | None
    reasons: tuple[str, ...]


@dataclass
class DeviceLog:
    """The device outputs of one processing session in a log."""

    path: Path
    hello: dict[str, Any] | None = None
    columns: dict[int, np.ndarray] = field(default_factory=dict)  # index -> (65,) int8
    beats: list[int] = field(default_factory=list)
    hrv: list[dict[str, int]] = field(default_factory=list)
    sleep: list[DeviceSleepResult] = field(default_factory=list)
    stress: list[DeviceStressResult] = field(default_factory=list)
    alerts: dict[int, tuple[str, ...]] = field(default_factory=dict)  # segment -> reasons (ALERT frames)
    sessions: int = 0  # CONFIG_ACKs seen; only the last session is kept
    partial_last_line: bool = False

    def column_array(self) -> np.ndarray:
        """The spectrogram columns 0..n-1 as (n, 65) int8; a missing column is an error naming the log."""
        if not self.columns:
            return np.zeros((0, 0), dtype=np.int8)
        n = max(self.columns) + 1
        missing = [j for j in range(n) if j not in self.columns]
        if missing:
            raise VigilError(f"{self.path}: spectrogram column {missing[0]} is missing ({len(missing)} of {n} absent)")
        return np.stack([self.columns[j] for j in range(n)])


def _number(record: dict, names: tuple[str, ...], where: str) -> Any:
    for name in names:
        if name in record:
            return record[name]
    raise VigilError(f"{where}: expected a field {' or '.join(names)}")


def _probability(value: Any) -> float:
    """Float probabilities pass; integers above 1 are fixed point (Q8 up to 255, else Q16)."""
    if isinstance(value, int) and value > 1:
        return value / 256.0 if value <= 255 else value / 65536.0
    return float(value)


def sleep_result(record: dict, where: str) -> DeviceSleepResult:
    probs = record.get("probabilities", record.get("scores"))
    if probs is not None:
        if len(probs) != 3:
            raise VigilError(f"{where}: expected three sleep probabilities (wake, NREM, REM), got {len(probs)}")
        probs = tuple(_probability(v) for v in probs)
    stage = int(_number(record, ("stage", "class", "label"), where))
    if stage not in (0, 1, 2):
        raise VigilError(f"{where}: sleep stage {stage}; expected 0 wake, 1 NREM or 2 REM")
    return DeviceSleepResult(int(_number(record, ("epoch",), where)), stage, probs)


def stress_result(record: dict, where: str) -> DeviceStressResult:
    probs: dict[str, float] = {}
    nested = record.get("probabilities")
    for name in ("tree", "svm", "nn"):
        value = nested.get(name) if isinstance(nested, dict) else record.get(f"p_{name}")
        if value is not None:
            probs[name] = _probability(value)
    weighted = record.get("weighted", record.get("p_weighted"))
    decision = record.get("decision", record.get("stress"))
    if decision is not None and int(decision) not in (0, 1):
        raise VigilError(f"{where}: stress decision {decision}; expected 0 relax or 1 stress")
    unanimous = record.get("unanimous")
    alert = record.get("alert")
    return DeviceStressResult(
        segment=int(_number(record, ("segment",), where)),
        probabilities=probs,
        weighted=None if weighted is None else _probability(weighted),
        decision=None if decision is None else int(decision),
        unanimous=None if unanimous is None else bool(unanimous),
        alert=None if alert is None else bool(alert),
        reasons=tuple(str(r) for r in record.get("reasons", ())),
    )


def read_device_log(path: str | Path) -> DeviceLog:
    """The last processing session's device outputs of a JSON Lines log; errors name the file and line."""
    path = Path(path)
    if not path.is_file():
        raise VigilError(f"{path}: no such log file (write one with `vigil replay --out LOG.jsonl`)")
    result = read_log(path)
    log = DeviceLog(path, partial_last_line=result.partial_last_line)
    for number, record in enumerate(result.records, start=1):
        where = f"{path}:{number}"
        kind = record.get("type")
        if kind == "HELLO":
            log.hello = record
        elif kind == "CONFIG_ACK":  # a new session: forget the outputs of the previous one
            log = DeviceLog(path, hello=log.hello, sessions=log.sessions + 1, partial_last_line=log.partial_last_line)
        elif kind == "SPEC_COLUMN":
            values = np.asarray(_number(record, ("values",), where), dtype=np.int64)
            if values.shape != (65,) or values.min() < -128 or values.max() > 127:
                raise VigilError(f"{where}: expected 65 int8 spectrogram values")
            log.columns[int(_number(record, ("index",), where))] = values.astype(np.int8)
        elif kind == "BEAT":
            log.beats.append(int(_number(record, ("index",), where)))
        elif kind == "HRV":
            missing = [name for name in p.HRV_FIELDS if name not in record]
            if missing:
                raise VigilError(f"{where}: HRV record without {', '.join(missing)}")
            log.hrv.append({name: int(record[name]) for name in p.HRV_FIELDS})
        elif kind in SLEEP_TYPES:
            log.sleep.append(sleep_result(record, where))
        elif kind in STRESS_TYPES:
            log.stress.append(stress_result(record, where))
        elif kind in ALERT_TYPES:
            log.alerts[int(_number(record, ("segment",), where))] = tuple(str(r) for r in record.get("reasons", ()))
    return log
