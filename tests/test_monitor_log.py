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


def test_a_bad_line_in_the_middle_is_skipped_and_reported(tmp_path: Path) -> None:
    """Issue 15: a partial line anywhere is reported and skipped, never fatal."""
    path = tmp_path / "log.jsonl"
    path.write_text('{"a": 1}\nnot json\n{"b": 2}\n')
    result = read_log(path)
    assert result.records == [{"a": 1}, {"b": 2}] and result.skipped_lines == [2] and not result.partial_last_line
    assert "log.jsonl: 1 line(s) could not be read and were skipped (line 2)" in result.skipped_note(path)


def test_a_file_with_no_record_is_not_a_log(tmp_path: Path) -> None:
    path = tmp_path / "log.jsonl"
    path.write_text("time,x,y\n1,2,3\n")
    with pytest.raises(LogFormatError, match=r"log.jsonl:1: expected one JSON object per line.*not a monitor log"):
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
    assert result.cut_lines == [2] and result.skipped_lines == [2] and not result.partial_last_line
    assert result.records[1] == {"event": "log_resumed", "cut_line": 2, "t": result.records[1]["t"]}
    assert result.records[2]["event"] == "log_session"  # the second run's start
    with JsonlLog(path) as log:  # a clean end: no resumed marker, a session marker
        log.write({"type": "PONG"})
    events = [r.get("event") for r in read_log(path).records]
    assert events.count("log_resumed") == 1 and events.count("log_session") == 2


def test_a_bad_line_before_an_unrelated_marker_is_skipped_but_not_taken_for_a_cut(tmp_path: Path) -> None:
    path = tmp_path / "log.jsonl"
    path.write_text('{"a": 1}\n{"type": "STA\n{"event": "log_resumed", "cut_line": 7}\n')
    result = read_log(path)
    assert result.skipped_lines == [2] and result.cut_lines == [] and len(result.records) == 2


def test_a_first_run_writes_no_session_marker(tmp_path: Path) -> None:
    path = tmp_path / "log.jsonl"
    with JsonlLog(path) as log:
        log.write({"type": "HELLO"})
    assert read_log(path).records == [{"type": "HELLO"}]


def test_the_report_notes_the_lines_a_device_log_skipped(tmp_path: Path) -> None:
    from vigil.report.device_log import read_device_log
    from vigil.report.report_data import log_hash_notes

    path = tmp_path / "night.jsonl"
    path.write_text('{"type": "CONFIG_ACK", "ppg_rate_hz": 64, "flags": 1, "status": 0}\n{"type": "BEA\n'
                    '{"type": "BEAT", "index": 12}\n')
    log = read_device_log(path)
    assert log.beats == [12]
    assert any("1 line(s) could not be read and were skipped (line 2)" in n for n in log_hash_notes(log, []))
