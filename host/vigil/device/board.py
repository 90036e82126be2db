"""Starting and stopping boards that run on this machine: `native` (the firmware as a host
program on a pseudo-terminal), `vwrist` (the firmware on QEMU's mps2-an386 Cortex-M4F) and `f405`
(the STM32F405 port on QEMU's netduinoplus2, the same binary a real F405 board runs).

Two lifetimes:
- ``running_board(...)``: a context manager for tests and one-shot commands; the board is
  killed on exit, on Ctrl-C, and (PR_SET_PDEATHSIG) if this process dies.
- ``start_detached(...)`` / ``stop_detached(...)``: `vigil board start|stop`; the board
  outlives the command and is recorded in the state directory.
"""

from __future__ import annotations

import ctypes
import json
import os
import re
import signal
import subprocess
import time
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Iterator

from vigil.device import flash
from vigil.device.file_lock import exclusive
from vigil.errors import BoardError
from vigil.project import state_dir

PORT_WAIT_S = 20.0
STOP_WAIT_S = 5.0
PR_SET_PDEATHSIG = 1
VWRIST_BOOT_SEED_ADDR = 0x2000000C  # firmware/boards/vwrist/vwrist.h: the boot record's host_seed
F405_BOOT_SEED_ADDR = 0x2000000C  # firmware/boards/f405/f405.h: the boot record's host_seed


@dataclass(frozen=True)
class QemuMachine:
    """How QEMU runs a Cortex-M board: the machine, its CPU (None: the machine's own) and where the boot record's
    host seed lives (every QEMU process would otherwise replay the same boot ids; the firmware mixes this word, which
    survives its resets, into them)."""

    machine: str
    cpu: str | None
    boot_seed_addr: int

    def command(self, elf: str) -> list[str]:
        seed = int.from_bytes(os.urandom(4), "little")
        return [
            "qemu-system-arm",
            "-M", self.machine,
            *(["-cpu", self.cpu] if self.cpu else []),
            "-display", "none",
            "-monitor", "none",
            "-serial", "pty",  # the board's first UART
            "-icount", "shift=0",  # 1 instruction = 1 ns virtual time: deterministic timings
            "-semihosting-config", "enable=on,target=native",  # fault handlers exit QEMU
            "-device", f"loader,addr={self.boot_seed_addr:#x},data={seed:#x},data-len=4",
            "-kernel", elf,
        ]  # fmt: skip


@dataclass(frozen=True)
class BoardSpec:
    name: str
    env: str  # PlatformIO environment
    artifact: str  # file in .pio/build/<env>/
    port_pattern: str  # regex with one group: the serial port path, in the board's output
    description: str
    environment: tuple[tuple[str, str], ...] = ()  # set for the board's process
    qemu: QemuMachine | None = None  # None: the artifact is a host program

    def artifact_path(self) -> Path:
        return flash.build_dir(self.env) / self.artifact

    def command(self, artifact: Path | None = None) -> list[str]:
        path = str(artifact or self.artifact_path())
        return self.qemu.command(path) if self.qemu else [path]


BOARDS: dict[str, BoardSpec] = {
    "native": BoardSpec(
        "native", "native", "program", r"vigil-native: serial on (/dev/pts/\d+)", "the firmware as a host program"
    ),
    # the sanitizers stop the program at the first report (UBSan would go on), which the host sees as a board that
    # stopped answering, and the report is in the board's log
    "native_asan": BoardSpec(
        "native_asan", "native_asan", "program", r"vigil-native: serial on (/dev/pts/\d+)",
        "the firmware as a host program with AddressSanitizer and UBSan",
        (("UBSAN_OPTIONS", "halt_on_error=1:print_stacktrace=1"), ("ASAN_OPTIONS", "abort_on_error=1")),
    ),
    "vwrist": BoardSpec(
        "vwrist", "vwrist", "firmware.elf", r"char device redirected to (/dev/pts/\d+)",
        "Cortex-M4F on QEMU mps2-an386", qemu=QemuMachine("mps2-an386", "cortex-m4", VWRIST_BOOT_SEED_ADDR),
    ),
    "f405": BoardSpec(
        "f405", "f405", "firmware.elf", r"char device redirected to (/dev/pts/\d+)",
        "STM32F405 on QEMU netduinoplus2", qemu=QemuMachine("netduinoplus2", None, F405_BOOT_SEED_ADDR),
    ),
}


def counts_instructions(board: str) -> bool:
    """Whether ``board`` (a HELLO's board name) runs on QEMU with -icount, where its ticks count instructions."""
    found = BOARDS.get(board)
    return found is not None and found.qemu is not None


@dataclass
class BoardProcess:
    board: str
    pid: int
    port: str
    log: str
    artifact: str
    started: float

    def alive(self) -> bool:
        return _pid_runs(self.pid, self.artifact)


def spec(board: str) -> BoardSpec:
    try:
        return BOARDS[board]
    except KeyError:
        raise BoardError(f"unknown board {board!r}: choose one of {', '.join(BOARDS)}") from None


def prepare(board: str, build: bool = True) -> BoardSpec:
    """Build the board's firmware if a source changed (or it was never built)."""
    s = spec(board)
    if build:
        flash.build_if_stale(s.env, s.artifact_path())
    if not s.artifact_path().exists():
        raise BoardError(
            f"{board} firmware not built ({s.artifact_path()} missing): run `pio run -e {s.env}` or drop --no-build"
        )
    return s


def _set_pdeathsig() -> None:
    libc = ctypes.CDLL("libc.so.6", use_errno=True)
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def _launch(s: BoardSpec, log: Path, detach: bool, artifact: Path | None = None) -> BoardProcess:
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "wb") as out:
        try:
            proc = subprocess.Popen(
                s.command(artifact),
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: Ctrl-C is ours to handle, kill takes all
                env={**os.environ, **dict(s.environment)},
                preexec_fn=None if detach else _set_pdeathsig,
            )
        except FileNotFoundError as exc:
            raise BoardError(f"cannot start the {s.name} board: {exc.filename} not found (run `make setup`)") from exc
    deadline = time.monotonic() + PORT_WAIT_S
    pattern = re.compile(s.port_pattern)
    while time.monotonic() < deadline:
        text = log.read_text(errors="replace")
        match = pattern.search(text)
        if match:
            path = str(artifact or s.artifact_path())
            return BoardProcess(s.name, proc.pid, match.group(1), str(log), path, time.time())
        if proc.poll() is not None:
            raise BoardError(f"the {s.name} board exited at start (status {proc.returncode}): {text.strip()[-300:]}")
        time.sleep(0.02)
    _terminate(proc.pid)
    raise BoardError(f"the {s.name} board printed no serial port within {PORT_WAIT_S:g} s (log: {log})")


def _pid_runs(pid: int, artifact: str) -> bool:
    """Whether pid is alive and still the board we started (not a recycled pid)."""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    if stat.rsplit(")", 1)[-1].split()[0] == "Z":
        return False
    return artifact.encode() in cmdline


def _terminate(pid: int) -> None:
    for sig, wait in ((signal.SIGTERM, STOP_WAIT_S), (signal.SIGKILL, STOP_WAIT_S)):
        try:
            os.killpg(pid, sig)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            try:
                done, _ = os.waitpid(pid, os.WNOHANG)
            except ChildProcessError:  # not our child: watch /proc instead
                done = 0 if Path(f"/proc/{pid}").exists() and not _zombie(pid) else pid
            if done:
                return
            time.sleep(0.02)


def _zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[-1].split()[0] == "Z"
    except OSError:
        return True


def _new_log(board: str) -> Path:
    """A log file of this start's own: two starts never share (and truncate) one."""
    return state_dir() / "logs" / f"{board}-{os.getpid()}-{time.monotonic_ns()}.log"


@contextmanager
def running_board(board: str, build: bool = True, artifact: Path | None = None) -> Iterator[BoardProcess]:
    """Start a board for the duration of a ``with`` block; it never outlives it. ``artifact``
    runs another build of that board's firmware (e.g. one carrying a model to check)."""
    s = spec(board) if artifact is not None else prepare(board, build)
    log = _new_log(board)
    proc = _launch(s, log, detach=False, artifact=artifact)
    try:
        yield proc
    finally:
        _terminate(proc.pid)
        log.unlink(missing_ok=True)


def _record(board: str) -> Path:
    return state_dir() / "boards" / f"{board}.json"


def running_detached() -> list[BoardProcess]:
    """Boards started with `vigil board start` that still run; stale records are removed."""
    out = []
    for path in sorted((state_dir() / "boards").glob("*.json")):
        try:
            proc = BoardProcess(**json.loads(path.read_text()))
        except (ValueError, TypeError):
            path.unlink(missing_ok=True)
            continue
        if proc.alive():
            out.append(proc)
        else:
            path.unlink(missing_ok=True)
    return out


@contextmanager
def _board_lock(board: str) -> Iterator[None]:
    """One `vigil board start|stop` of ``board`` at a time across processes: starts at the same instant would
    otherwise each find no board running and start one (the second record hiding the first, left orphaned)."""
    with exclusive(state_dir() / "boards" / f"{board}.lock"):
        yield


def start_detached(board: str, build: bool = True) -> tuple[BoardProcess, bool]:
    """Start a board in the background, or return the one already running. The flag says
    whether it was started now. Each start has its own log (logs/BOARD-PID.log), kept while the board runs."""
    with _board_lock(board):
        for proc in running_detached():
            if proc.board == board:
                return proc, False
        s = prepare(board, build)
        proc = _launch(s, _new_log(board), detach=True)
        record = _record(board)
        record.parent.mkdir(parents=True, exist_ok=True)
        record.write_text(json.dumps(asdict(proc), indent=1))
        return proc, True


def stop_detached(board: str | None = None) -> list[BoardProcess]:
    """Stop background boards (all, or the one named); returns those stopped."""
    stopped = []
    for proc in running_detached():
        if board is None or proc.board == board:
            with _board_lock(proc.board):
                _terminate(proc.pid)
                _record(proc.board).unlink(missing_ok=True)
                Path(proc.log).unlink(missing_ok=True)
            stopped.append(proc)
    return stopped


@dataclass
class Flashed:
    """What `vigil flash` did on this machine: the board now running, and the one it replaced (if one ran)."""

    board: BoardProcess
    replaced: BoardProcess | None


@dataclass
class Uploaded:
    """What `vigil flash` did for a real chip: the tool's command line."""

    env: str
    command: list[str]


def flash_board(env: str, port: str | None = None, hardware: bool = False, uploader: str | None = None
                ) -> Flashed | Uploaded | None:  # fmt: skip
    """`vigil flash`: a board of this machine (native, vwrist, f405 on QEMU) is built and started in the background
    like start_detached; one already running that board is stopped first, since flashing replaces the firmware a
    board runs (reusing it would keep the old build). A real chip (``hardware``, or an environment that only exists as
    hardware: nano33ble) is built and uploaded with Debian's tools (vigil.device.uploaders); any other PlatformIO
    environment is built and uploaded (to ``port``) by PlatformIO (None)."""
    from vigil.device import uploaders

    if env in BOARDS and not hardware:
        flash.build(env)
        replaced = stop_detached(env)
        return Flashed(start_detached(env, build=False)[0], replaced[0] if replaced else None)
    if env in uploaders.UPLOADERS:
        tool = uploaders.choose(env, port, uploader)  # what is missing, in one line, before a build
        flash.build(env)
        return Uploaded(env, uploaders.upload(env, tool, flash.build_dir(env), port))
    if hardware:
        raise BoardError(f"--hardware: {env} is not a chip this machine uploads ({', '.join(uploaders.chip_envs())})")
    flash.upload(env, port)
    return None
