"""The monitor's durable JSON Lines log."""

from __future__ import annotations

from pathlib import Path

import pytest

from vigil.monitor import JsonlLog, LogFormatError, read_log


def test_partial_last_line_is_detected_and_skipped(tmp_path: Path) -> None:
    path = tmp_path / "log.jsonl"
    with JsonlLog(path) as log:
        for i in range(3):
            log.write({"type": "PONG", "i": i})
    with open(path, "a") as f:
        f.write('{"type": "STATS", "frames_')  # the process died mid-line
    result = read_log(path)
    assert [r["i"] for r in result.records] == [0, 1, 2]
    assert result.partial_last_line


def test_each_record_is_on_disk_as_soon_as_written(tmp_path: Path) -> None:
    path = tmp_path / "log.jsonl"
    with JsonlLog(path) as log:
        log.write({"type": "HELLO"})
        assert read_log(path).records == [{"type": "HELLO"}]  # readable before close


def test_bad_line_in_the_middle_names_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "log.jsonl"
    path.write_text('{"a": 1}\nnot json\n{"b": 2}\n')
    with pytest.raises(LogFormatError, match=r"log.jsonl:2: expected one JSON object per line"):
        read_log(path)


def test_a_run_appending_after_a_crash_keeps_the_log_readable(tmp_path: Path) -> None:
    """`--out` appends: the first run died mid-line, the second ends that line, marks it, and logs on (issue 15: the
    whole log used to be refused at the cut line)."""
    path = tmp_path / "log.jsonl"
    with JsonlLog(path) as log:
        log.write({"type": "HELLO", "run": 1})
    with open(path, "a") as f:
        f.write('{"type": "STATS", "frames_')  # the first run died here
    with JsonlLog(path) as log:
        log.write({"type": "HELLO", "run": 2})
    result = read_log(path)
    assert [r.get("run") for r in result.records if r.get("type") == "HELLO"] == [1, 2]
    assert result.cut_lines == [2] and not result.partial_last_line
    assert result.records[1] == {"event": "log_resumed", "cut_line": 2, "t": result.records[1]["t"]}
    with JsonlLog(path) as log:  # a clean end: nothing added
        log.write({"type": "PONG"})
    assert sum(r.get("event") == "log_resumed" for r in read_log(path).records) == 1


def test_a_bad_line_before_an_unrelated_record_is_still_an_error(tmp_path: Path) -> None:
    path = tmp_path / "log.jsonl"
    path.write_text('{"a": 1}\n{"type": "STA\n{"event": "log_resumed", "cut_line": 7}\n')
    with pytest.raises(LogFormatError, match=r"log.jsonl:2: expected one JSON object per line"):
        read_log(path)
