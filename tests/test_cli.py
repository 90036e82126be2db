"""The command line as a user runs it: real processes, real boards, one-line errors."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from conftest import ROOT, qemu_processes
from vigil.monitor import read_log


def vigil(*args: str, env: dict | None = None, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "vigil.cli", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **(env or {})},
        cwd=ROOT,
    )


def assert_one_line_error(proc: subprocess.CompletedProcess, text: str) -> None:
    assert proc.returncode != 0
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert text in lines[0]


def test_ping_on_a_missing_port_is_one_line() -> None:
    assert_one_line_error(vigil("ping", "--port", "/dev/pts/424242"), "no such serial port")


def test_no_port_and_a_board_that_does_not_run_are_one_line(tmp_path: Path) -> None:
    env = {"VIGIL_STATE_DIR": str(tmp_path / "state"), "VIGIL_PORT": ""}
    assert_one_line_error(vigil("ping", env=env), "no serial port: give --port PATH or a board name")
    assert_one_line_error(vigil("ping", "--port", "vwrist", env=env), "no vwrist board is running")


def test_doctor_says_ready_one_line_a_check() -> None:
    proc = vigil("doctor")
    assert proc.returncode == 0, proc.stdout
    lines = proc.stdout.strip().splitlines()
    assert len(lines) >= 10 and all(line.startswith("ok ") for line in lines)
    checks = json.loads(vigil("doctor", "--json").stdout)
    assert {c["name"] for c in checks} >= {"arm-none-eabi-gcc", "qemu-system-arm", "platformio: tool-scons"}


def test_difficulty_is_one_vocabulary() -> None:
    from vigil.data.difficulty import DIFFICULTIES

    for command in (["synth"], ["train", "sleep"], ["train", "stress"]):
        shown = vigil(*command, "--help").stdout
        assert "[" + "|".join(DIFFICULTIES) + "]" in shown.replace("\n", "").replace(" ", ""), command


def test_board_not_built_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "firmware").mkdir()
    (tmp_path / "platformio.ini").write_text("")
    proc = vigil("board", "start", "--board", "vwrist", "--no-build",
                 env={"VIGIL_ROOT": str(tmp_path), "VIGIL_STATE_DIR": str(tmp_path / "state")})  # no board of others
    assert_one_line_error(proc, "vwrist firmware not built")


def test_unknown_board_is_refused() -> None:
    proc = vigil("board", "start", "--board", "esp32")
    assert proc.returncode == 2 and "Invalid value for '--board'" in proc.stderr


def test_board_list_says_when_no_board_runs(tmp_path: Path) -> None:
    env = {"VIGIL_STATE_DIR": str(tmp_path / "state")}
    listed = vigil("board", "list", env=env)
    assert listed.returncode == 0 and listed.stdout == "" and listed.stderr.strip() == "no board running"
    as_json = vigil("board", "list", "--json", env=env)
    assert as_json.returncode == 0 and json.loads(as_json.stdout) == [] and as_json.stderr == ""


def test_tables_keep_their_width_in_a_pipe(capsys: pytest.CaptureFixture) -> None:
    """A rich table printed to a pipe is as wide as PIPE_WIDTH, not squeezed to 80 columns."""
    from vigil.console import PIPE_WIDTH, print_linktest

    echo = {"ok": True, "replies": 10000, "frames": 10000, "mismatched": 0, "round_trips_per_second": 14064.2}
    replay = {"ok": True, "bytes": 1_000_000, "frames": 1954, "seconds": 0.2, "device_samples": 500_000,
              "crc_device": 7, "crc_expected": 7, "overflows": 0, "queue_high_water": 1, "queue_slots": 4}
    stats = {"stack_high_water": 7864, "stack_size": 262144, "uptime_ms": 30101, "frames_rx": 777, "frames_tx": 777}
    print_linktest({"hello": {"board": "native", "boot_id": "cb1f86f9"}, "echo": echo, "replay": replay,
                    "device_stats": stats, "ok": True})
    out = capsys.readouterr().out
    assert max(len(line) for line in out.splitlines()) >= PIPE_WIDTH >= 120
    assert "10000/10000 replies in order, 0 mismatched, 14064 round trips/s" in out  # one row, not wrapped


@pytest.mark.board
@pytest.mark.parametrize("name", ["native", "vwrist", "f405"])
def test_board_start_ping_monitor_stop(name: str, tmp_path: Path) -> None:
    env = {"VIGIL_STATE_DIR": str(tmp_path / "state")}
    start = vigil("board", "start", "--board", name, env=env)
    assert start.returncode == 0, start.stderr
    port = start.stdout.strip()
    assert port.startswith("/dev/pts/")
    pid = json.loads(vigil("board", "list", "--json", env=env).stdout)[0]["pid"]
    try:
        again = vigil("board", "start", "--board", name, env=env)
        assert again.stdout.strip() == port and "already running" in again.stderr

        by_name = vigil("ping", "--port", name, "--json", "--count", "1", env=env)  # the board's name as --port
        assert by_name.returncode == 0 and json.loads(by_name.stdout)["hello"]["board"] == name, by_name.stderr
        by_env = vigil("ping", "--json", "--count", "1", env={**env, "VIGIL_PORT": name})  # or $VIGIL_PORT
        assert by_env.returncode == 0 and json.loads(by_env.stdout)["hello"]["board"] == name, by_env.stderr
        ping = vigil("ping", "--port", port, "--json", "--count", "2", env=env)
        assert ping.returncode == 0, ping.stderr
        info = json.loads(ping.stdout)
        assert info["hello"]["board"] == name
        assert set(info["hello"]) >= {"boot_id", "firmware_version", "build_id", "accel_rate_hz", "ppg_rate_hz", "models"}
        assert len(info["round_trip_ms"]) == 2
        shown = vigil("ping", "--port", port, "--count", "1", env=env)
        assert shown.returncode == 0, shown.stderr
        assert "{'name'" not in shown.stdout  # the models as lines, not a Python repr
        for model in info["hello"]["models"]:
            assert re.search(rf"\b{model['name']} +{model['hash']}\b", shown.stdout), shown.stdout

        log = tmp_path / "mon.jsonl"
        mon = vigil("monitor", "--port", port, "--out", str(log), "--duration", "1.5", "--stats-every", "0.4",
                    "--quiet", env=env)  # fmt: skip
        assert mon.returncode == 0, mon.stderr
        records = read_log(log).records
        types = [r.get("type") for r in records]
        assert types[0] == "HELLO" and types.count("STATS") >= 2
        assert all("t" in r for r in records)

        night = tmp_path / "night.vrec"
        assert vigil("synth", "--night", "--hours", "0.1", "--out", str(night)).returncode == 0
        stem = tmp_path / "results"
        replayed = vigil("replay", "--port", name, "--input", str(night), "--csv", str(stem), "--json",
                         "--out", str(tmp_path / "night.jsonl"), env=env)  # fmt: skip
        assert replayed.returncode == 0, replayed.stderr
        summary = json.loads(replayed.stdout)
        assert summary["sleep_epochs"] >= 5  # 6 minutes: 12 epochs, 6 with a decision (image and context need the rest)
        assert summary["csv"] == [f"{stem}.sleep.csv", f"{stem}.stress.csv"]
        rows = (tmp_path / "results.sleep.csv").read_text().splitlines()
        assert rows[0].startswith("epoch,start_s,class,p_wake,p_NREM,p_REM") and len(rows) == summary["sleep_epochs"] + 1
        logged = [r for r in read_log(tmp_path / "night.jsonl").records if r.get("type") == "SLEEP"]
        assert len(logged) == summary["sleep_epochs"] and all(r["readable"]["class"] in ("wake", "NREM", "REM")
                                                              for r in logged)
    finally:
        stop = vigil("board", "stop", env=env)
    assert stop.returncode == 0 and f"stopped {name}" in stop.stderr
    assert vigil("board", "list", "--json", env=env).stdout.strip() == "[]"
    if name != "native":  # its QEMU is gone (another test's, in another worker, may run)
        assert pid not in qemu_processes(name)


@pytest.mark.board
def test_boards_started_at_the_same_instant_are_one_board(tmp_path: Path) -> None:
    """Four `vigil board start` at once: one board starts, all four print its port, `board stop` leaves none, and
    the board's log is its own (issue 15: two boards, one orphaned, or two records on one /dev/pts/N)."""
    from vigil.device import board as boards

    boards.prepare("native")  # built once, before the race
    env = {**os.environ, "VIGIL_STATE_DIR": str(tmp_path / "state")}
    cmd = [sys.executable, "-m", "vigil.cli", "board", "start", "--board", "native", "--no-build"]
    procs = [subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT)
             for _ in range(4)]  # fmt: skip
    outs = [p.communicate(timeout=120) for p in procs]
    assert all(p.returncode == 0 for p in procs), [o[1] for o in outs]
    ports = {o[0].strip() for o in outs}
    assert len(ports) == 1 and next(iter(ports)).startswith("/dev/pts/"), outs
    assert sum("already running" in o[1] for o in outs) == 3
    listed = json.loads(vigil("board", "list", "--json", env=env).stdout)
    assert len(listed) == 1 and Path(listed[0]["log"]).is_file()
    pid = listed[0]["pid"]
    assert vigil("board", "stop", env=env).returncode == 0
    assert not Path(f"/proc/{pid}").exists() or "Z" in Path(f"/proc/{pid}/stat").read_text().split(")")[-1][:3]
    assert not Path(listed[0]["log"]).exists()


@pytest.mark.board
def test_linktest_json_on_native() -> None:
    script = "from vigil.device.board import running_board\nimport subprocess, sys\n" \
             "with running_board('native') as b:\n" \
             "    sys.exit(subprocess.run([sys.executable, '-m', 'vigil.cli', 'linktest', '--port', b.port, '--json'," \
             " '--echo', '300', '--replay-bytes', '30000', '--faults', '12']).returncode)\n"  # fmt: skip
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert report["ok"] and report["echo"]["replies"] == 300 and report["faults"]["foreign_replies"] == 0


@pytest.mark.board
def test_qemu_dies_with_its_parent() -> None:
    """A test run killed with SIGKILL (no cleanup code runs) leaves no QEMU behind."""
    script = textwrap.dedent(
        """
        import sys, time
        from vigil.device.board import running_board
        with running_board('vwrist') as b:
            print(b.pid, flush=True)
            time.sleep(60)
        """
    )
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True, cwd=ROOT)
    qemu_pid = int(proc.stdout.readline())
    assert qemu_pid in qemu_processes()
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    deadline = time.monotonic() + 10
    while qemu_pid in qemu_processes() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert qemu_pid not in qemu_processes()


@pytest.mark.board
def test_flash_replaces_a_running_board_with_the_new_build(tmp_path: Path) -> None:
    """`vigil flash -e native` twice: the second stops the board the first started (it runs the old firmware) and
    starts the new build, saying so; one board runs at the end."""
    env = {"VIGIL_STATE_DIR": str(tmp_path / "state")}
    first = vigil("flash", "-e", "native", env=env)
    assert first.returncode == 0, first.stderr
    try:
        second = vigil("flash", "-e", "native", env=env)
        assert second.returncode == 0, second.stderr
        assert "replaced the running native board" in second.stderr and first.stdout.strip() in second.stderr
        listed = json.loads(vigil("board", "list", "--json", env=env).stdout)
        assert [b["port"] for b in listed] == [second.stdout.strip()]
    finally:
        vigil("board", "stop", env=env)
