"""`vigil verify --json` reports (``vigil.verify.verify_recording`` plus ``recording``), read by the exact keys it
writes: ``ok``, ``board``, ``recording``, ``device_errors``, ``cost``, ``stages.<name>.{windows, mismatches,
first_mismatch}``; a missing key is an error naming the file and the key. ``cost.
total_instructions_per_second_of_signal`` is there only on the virtual board (``vwrist``: its ticks are
instructions; the native board's are not)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from vigil.manifest import read_json_file
from vigil.report.frozen import freeze
from vigil.report.json_keys import JsonKeys

VERIFY_REPORT = "the JSON of `vigil verify --json`"


@dataclass(frozen=True)
class VerifyStage:
    name: str
    windows: int
    mismatches: int
    first_mismatch: str | None


@dataclass(frozen=True)
class VerifySummary:
    path: str
    recording: str
    board: str
    ok: bool
    stages: tuple[VerifyStage, ...]
    device_errors: tuple[str, ...]
    instructions_per_second: int | None  # None: not measured (a board other than vwrist)

    def __post_init__(self) -> None:
        freeze(self)


def verify_summary_from_json(path: Path) -> VerifySummary:
    """A `vigil verify --json` report; errors name the file and the key."""
    keys = JsonKeys(read_json_file(path), path, VERIFY_REPORT)
    ok = bool(keys("ok"))
    stages = []
    for name in keys.mapping("stages"):
        stage = f"stages.{name}"
        first = keys(f"{stage}.first_mismatch")
        stages.append(VerifyStage(name, keys.integer(f"{stage}.windows"), keys.integer(f"{stage}.mismatches"),
                                  None if first is None else str(first)))  # fmt: skip
    keys.mapping("cost")
    ips = "cost.total_instructions_per_second_of_signal"  # only on vwrist (see the module doc)
    return VerifySummary(str(path), str(keys("recording")), str(keys("board")), ok, stages,
                         [str(e) for e in keys("device_errors")],
                         keys.integer(ips) if keys.has(ips) else None)  # fmt: skip
