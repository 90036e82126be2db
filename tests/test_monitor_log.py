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
