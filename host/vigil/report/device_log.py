"""What a device computed, read back from a JSON Lines log (`vigil replay --out`, `vigil monitor --out`).

The log holds one record per frame (``vigil.device.protocol.describe``: ``type``, ``seq`` and the frame's
fields). The report uses:

===============  ========================================================================================
``HELLO``        board, firmware version, build id, ``models``: [{name, hash (hex of the HELLO hash)}]
``CONFIG_ACK``   starts a processing session: a log with several sessions is read from its last one
``SPEC_COLUMN``  ``index``, ``values`` (65 int8): the spectrogram columns
``BEAT``         ``index``: a beat's sample index
``HRV``          ``vigil.device.protocol.HRV_FIELDS``: one 60-s segment's features
``SLEEP``        ``vigil.device.protocol.SLEEP_FIELDS``: one decided epoch's sleep model outputs (int8), class,
                 motion, delay (a log from before SLEEP carried its delay is the CNN's: delay 2)
``STRESS``       ``vigil.device.protocol.STRESS_FIELDS``: one segment's model outputs (Q15), consensus, alert,
                 reasons bitmask (``vigil.bundle.consensus_twin.REASON_NAMES``), motion
===============  ========================================================================================

SLEEP and STRESS records are kept as the protocol's integers, keyed on its field names (the same dicts
``vigil.replay.DeviceOutputs`` and the twin ``vigil.bundle.consensus_twin`` make); a record lacking a field is an
error naming the log's line.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from vigil.device import protocol as p
from vigil.dsp.config import IMAGE_DELAY_EPOCHS
from vigil.errors import VigilError
from vigil.monitor import read_log


@dataclass
class DeviceLog:
    """The device outputs of one processing session in a log."""

    path: Path
    hello: dict[str, Any] | None = None
    columns: dict[int, np.ndarray] = field(default_factory=dict)  # index -> (65,) int8
    beats: list[int] = field(default_factory=list)
    hrv: list[dict[str, int]] = field(default_factory=list)
    sleep: list[dict[str, int]] = field(default_factory=list)  # SLEEP records (p.SLEEP_FIELDS)
    stress: list[dict[str, int]] = field(default_factory=list)  # STRESS records (p.STRESS_FIELDS)
    sessions: int = 0  # CONFIG_ACKs seen; only the last session is kept
    partial_last_line: bool = False
    skipped_note: str | None = None  # the lines read_log could not read and skipped

    def column_array(self) -> np.ndarray:
        """The spectrogram columns 0..n-1 as (n, 65) int8; a missing column is an error naming the log."""
        if not self.columns:
            return np.zeros((0, 0), dtype=np.int8)
        n = max(self.columns) + 1
        missing = [j for j in range(n) if j not in self.columns]
        if missing:
            raise VigilError(f"{self.path}: spectrogram column {missing[0]} is missing ({len(missing)} of {n} absent)")
        return np.stack([self.columns[j] for j in range(n)])

    def model_hashes(self) -> dict[str, bytes]:
        """name -> HELLO hash of the models the device announced (empty without a HELLO)."""
        return {str(m["name"]): bytes.fromhex(str(m["hash"])) for m in (self.hello or {}).get("models", [])}


def _number(record: dict, name: str, where: str) -> Any:
    if name not in record:
        raise VigilError(f"{where}: expected a field {name}")
    return record[name]


def protocol_record(record: dict, fields: tuple[str, ...], kind: str, where: str) -> dict[str, int]:
    """The record's integers under the protocol's field names, in wire order; errors name the missing ones."""
    missing = [name for name in fields if name not in record]
    if missing:
        raise VigilError(f"{where}: {kind} record without {', '.join(missing)}")
    try:
        return {name: int(record[name]) for name in fields}
    except (TypeError, ValueError):
        raise VigilError(f"{where}: {kind} record with a field that is not an integer") from None


def read_device_log(path: str | Path) -> DeviceLog:
    """The last processing session's device outputs of a JSON Lines log; errors name the file and line."""
    path = Path(path)
    if not path.is_file():
        raise VigilError(f"{path}: no such log file (write one with `vigil replay --out LOG.jsonl`)")
    result = read_log(path)
    log = DeviceLog(path, partial_last_line=result.partial_last_line, skipped_note=result.skipped_note(path))
    for number, record in enumerate(result.records, start=1):
        where = f"{path}:{number}"
        kind = record.get("type")
        if kind == "HELLO":
            log.hello = record
        elif kind == "CONFIG_ACK":  # a new session: forget the outputs of the previous one
            log = DeviceLog(path, hello=log.hello, sessions=log.sessions + 1, partial_last_line=log.partial_last_line,
                            skipped_note=log.skipped_note)  # fmt: skip
        elif kind == "SPEC_COLUMN":
            values = np.asarray(_number(record, "values", where), dtype=np.int64)
            if values.shape != (65,) or values.min() < -128 or values.max() > 127:
                raise VigilError(f"{where}: expected 65 int8 spectrogram values")
            log.columns[int(_number(record, "index", where))] = values.astype(np.int8)
        elif kind == "BEAT":
            log.beats.append(int(_number(record, "index", where)))
        elif kind == "HRV":
            log.hrv.append(protocol_record(record, p.HRV_FIELDS, kind, where))
        elif kind == "SLEEP":
            # logs from before SLEEP carried its delay come from the seed's CNN, whose delay that is
            sleep = protocol_record({"delay": IMAGE_DELAY_EPOCHS, **record}, p.SLEEP_FIELDS, kind, where)
            if not (0 <= sleep["cls"] < p.SLEEP_CLASS_COUNT or sleep["cls"] == p.SLEEP_CLASS_UNKNOWN):
                raise VigilError(f"{where}: sleep class {sleep['cls']}; expected 0 wake, 1 NREM, 2 REM or "
                                 f"{p.SLEEP_CLASS_UNKNOWN} (the model did not run)")  # fmt: skip
            log.sleep.append(sleep)
        elif kind == "STRESS":
            log.stress.append(protocol_record(record, p.STRESS_FIELDS, kind, where))
    return log
