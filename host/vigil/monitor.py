"""`vigil monitor`: a live view of what the device streams, and a durable log of it.

The log is JSON Lines, one record per frame or link event, each written and flushed
as it arrives (and fsync'ed at least once a second), so a crash loses at most the line
being written. ``read_log`` skips any line it cannot read (a crash's partial line, wherever
a later run appended after it) and reports which; a run that appends to an existing log
starts with a session marker (LOG_SESSION), and after a line a crash cut, a LOG_RESUMED marker.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING, Callable

from vigil.device import protocol as p
from vigil.device.link import Link, LinkEvent
from vigil.errors import VigilError

if TYPE_CHECKING:
    from vigil.live import LiveSettings

FSYNC_INTERVAL_S = 1.0


class LogFormatError(VigilError):
    """A monitor log line that is not a JSON record (and not a partial last line)."""


#: The record a log writer adds after a line the previous writer left cut (a crash mid-write).
LOG_RESUMED = "log_resumed"
#: The record a log writer starts with when it appends to a log that already holds records: a new run.
LOG_SESSION = "log_session"


def _cut_last_line(path: Path) -> int:
    """The number of the file's last line if it has no end of line (0 if the file ends cleanly or is absent)."""
    try:
        with open(path, "rb") as f:
            if f.seek(0, os.SEEK_END) == 0:
                return 0
            f.seek(-1, os.SEEK_END)
            if f.read(1) == b"\n":
                return 0
            f.seek(0)
            return sum(chunk.count(b"\n") for chunk in iter(lambda: f.read(1 << 20), b"")) + 1
    except FileNotFoundError:
        return 0


@dataclass
class JsonlLog:
    """Appends one JSON record per line; flushed per record."""

    path: Path
    _file: IO[str] | None = None
    _last_sync: float = 0.0
    records: int = 0

    def __enter__(self) -> JsonlLog:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        cut = _cut_last_line(self.path)
        appending = self.path.is_file() and self.path.stat().st_size > 0
        self._file = open(self.path, "a", encoding="utf-8")
        now = round(time.time(), 6)
        if cut:
            # the previous run died mid-line: end that line and say so, so the log stays readable (read_log)
            self._file.write("\n" + json.dumps({"event": LOG_RESUMED, "cut_line": cut, "t": now},
                                               separators=(",", ":")) + "\n")  # fmt: skip
        if appending:
            self._file.write(json.dumps({"event": LOG_SESSION, "t": now, "pid": os.getpid()}, separators=(",", ":"))
                             + "\n")  # fmt: skip
        self._file.flush()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._file:
            self._file.flush()
            os.fsync(self._file.fileno())
            self._file.close()
            self._file = None

    def write(self, record: dict) -> None:
        assert self._file is not None, "use JsonlLog as a context manager"
        self._file.write(json.dumps(record, separators=(",", ":")) + "\n")
        self._file.flush()
        self.records += 1
        now = time.monotonic()
        if now - self._last_sync >= FSYNC_INTERVAL_S:
            os.fsync(self._file.fileno())
            self._last_sync = now


def event_record(event: LinkEvent, port: str) -> dict:
    record: dict = {"t": round(time.time(), 6), "port": port}
    if event.frame is not None:
        record.update(p.describe(event.frame))
    else:
        assert event.error is not None
        record.update(event="link_error", kind=event.error.kind, detail=str(event.error))
    return record


@dataclass
class LogReadResult:
    records: list[dict] = field(default_factory=list)
    partial_last_line: bool = False
    cut_lines: list[int] = field(default_factory=list)  # lines a crash cut and a later run marked (skipped)
    skipped_lines: list[int] = field(default_factory=list)  # every line that could not be read (skipped), these too

    def skipped_note(self, path: str | Path) -> str | None:
        """One line on what was skipped, or None."""
        if not self.skipped_lines:
            return None
        shown = ", ".join(str(n) for n in self.skipped_lines[:5]) + (" …" if len(self.skipped_lines) > 5 else "")
        return (f"{path}: {len(self.skipped_lines)} line(s) could not be read and were skipped (line {shown}): a "
                "crash mid-write, or damage")


def _record(line: str) -> dict:
    if not line.endswith("\n"):
        raise ValueError("no end of line")
    record = json.loads(line)
    if not isinstance(record, dict):
        raise ValueError("not a JSON object")
    return record


def _resumes(line: str | None, number: int) -> bool:
    """Whether ``line`` is the LOG_RESUMED record a writer added after cut line ``number``."""
    try:
        record = _record(line) if line is not None else {}
    except ValueError:
        return False
    return record.get("event") == LOG_RESUMED and record.get("cut_line") == number


def read_log(path: str | Path) -> LogReadResult:
    """Read a monitor log. A line that is not a JSON record (a crash's partial line, wherever a later run appended after
    it, or damage) is skipped and reported (``skipped_lines``; ``partial_last_line``, ``cut_lines`` say which kind),
    never fatal; a file with no readable record at all is not a log: an error naming the file and its first line."""
    result = LogReadResult()
    path = Path(path)
    with open(path, encoding="utf-8", errors="replace") as f:
        lines = f.readlines()
    first_error = None
    for number, line in enumerate(lines, start=1):
        try:
            record = _record(line)
        except ValueError as exc:
            result.skipped_lines.append(number)
            first_error = first_error or (number, exc)
            if number == len(lines):
                result.partial_last_line = True
            elif _resumes(lines[number], number):
                result.cut_lines.append(number)
            continue
        result.records.append(record)
    if first_error and not result.records:
        number, exc = first_error
        raise LogFormatError(f"{path}:{number}: expected one JSON object per line ({exc}): not a monitor log")
    return result


@dataclass
class MonitorTotals:
    by_type: dict[str, int] = field(default_factory=dict)
    errors: int = 0
    last: dict | None = None
    last_sleep: dict | None = None  # the latest SLEEP and STRESS records (with their readable form)
    last_stress: dict | None = None
    last_stats: dict | None = None  # the latest STATS (live mode: what the sources dropped)
    records: int = 0  # records logged
    started: float = field(default_factory=time.monotonic)
    reboots: int = 0  # the link's count when the session ended

    def add(self, record: dict) -> None:
        if record.get("event") == "link_error":
            self.errors += 1
        else:
            self.by_type[record["type"]] = self.by_type.get(record["type"], 0) + 1
            if record["type"] == "SLEEP":
                self.last_sleep = record
            elif record["type"] == "STRESS":
                self.last_stress = record
            elif record["type"] == "STATS":
                self.last_stats = record
        self.last = record
        self.records += 1


def run_monitor(port: str, out: Path, duration: float | None = None, stats_every: float = 0.0, hello: bool = True,
                on_update: Callable[[MonitorTotals], None] | None = None, live: LiveSettings | None = None
                ) -> MonitorTotals:  # fmt: skip
    """`vigil monitor`: log every frame and link error of the device on ``port`` to ``out`` (appended) until
    ``duration`` seconds have passed (None: until Ctrl-C), asking for STATS every ``stats_every`` seconds (0: never)
    and first for HELLO (unless not ``hello``). ``on_update(totals)`` runs once the device was asked for HELLO and
    then after each read of the link (about ten times a second). With ``live`` the device runs in live mode (no raw
    tap; vigil.live for that) for the session and is set back to host samples at its end. Returns the session's
    totals."""
    totals = MonitorTotals()
    update = on_update or (lambda totals: None)
    with JsonlLog(out) as log, Link.open(port) as link:

        def on_event(event: LinkEvent) -> None:
            record = event_record(event, port)
            log.write(record)
            totals.add(record)

        link.listeners.append(on_event)
        if hello:
            link.request_hello()
        if live is not None:
            from vigil.live import LIVE_STATS_EVERY_S, start_live

            start_live(link, live, tap=False)
            stats_every = stats_every or LIVE_STATS_EVERY_S  # its drops are shown as they happen
        update(totals)
        next_stats = time.monotonic()
        try:
            while duration is None or time.monotonic() - totals.started < duration:
                if stats_every and time.monotonic() >= next_stats:
                    link.send(p.MsgType.STATS_REQ)
                    next_stats = time.monotonic() + stats_every
                link.drain()
                update(totals)
                time.sleep(0.1)
        except KeyboardInterrupt:
            pass
        if live is not None:
            from vigil.live import stop_live

            stop_live(link, live.ppg_rate_hz)
    totals.reboots = link.counters.reboots
    return totals
