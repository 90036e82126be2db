"""The `vigil` command line."""

from __future__ import annotations

import json
import sys
import time
from contextlib import nullcontext
from pathlib import Path
from typing import Any, Callable

import click
from rich.console import Console, Group
from rich.live import Live
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table
from rich.text import Text

from vigil import __version__
from vigil.data.convert import convert
from vigil.device import board as boards
from vigil.device import flash, linkcheck
from vigil.device import protocol as p
from vigil.device.link import Link
from vigil.errors import VigilError
from vigil.records import SLEEP_CLASS_LABELS
from vigil.monitor import JsonlLog, MonitorTotals, event_record

console = Console(stderr=True)
BOARD_CHOICE = click.Choice(sorted(boards.BOARDS))


class VigilGroup(click.Group):
    """Turns VigilError into one clear line (and exit status 1) instead of a traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except VigilError as exc:
            raise click.ClickException(str(exc)) from None


def emit_json(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, default=str))


def progress_bar(enabled: bool) -> Progress | nullcontext:
    if not enabled:
        return nullcontext()
    return Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(), console=console
    )


def tracker(bar: Progress | nullcontext | None, description: str, total: int) -> Callable[[int], None] | None:
    if not isinstance(bar, Progress):
        return None
    task = bar.add_task(description, total=total)
    return lambda done: bar.update(task, completed=done)


@click.group(cls=VigilGroup, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="vigil")
def cli() -> None:
    """vigil: on-device sleep and stress monitoring, proven bit-exact against Python twins.

    \b
    Boards on this machine:  vigil board start --board vwrist   (prints the serial port)
    Talk to a device:        vigil ping --port /dev/pts/N
    Log what it streams:     vigil monitor --port /dev/pts/N --out night.jsonl
    Prove the link:          vigil linktest --port /dev/pts/N
    Train the models:        vigil train sleep|stress --data PATH|synthetic --out DIR
    Build the device's set:  vigil export models --sleep DIR --stress DIR --out models
    Prove every output:      vigil verify --port /dev/pts/N --input session.vrec
    See it:                  vigil report --out R --night night.vrec --stress-session s.vrec
    All of it, built in:     vigil demo
    """


# ---------------------------------------------------------------- boards


@cli.group()
def board() -> None:
    """Start, stop and list the boards that run on this machine (native, vwrist).

    \b
    native  the firmware as a host program; its serial port is a pseudo-terminal
    vwrist  the virtual wrist board: the Cortex-M4F firmware on QEMU mps2-an386
    """


@board.command("start")
@click.option("--board", "name", type=BOARD_CHOICE, default="vwrist", show_default=True, help="Which board.")
@click.option("--no-build", is_flag=True, help="Do not (re)build the firmware, even if a source changed.")
@click.option("--json", "as_json", is_flag=True, help="Print the board's record as JSON.")
def board_start(name: str, no_build: bool, as_json: bool) -> None:
    """Build the firmware if needed, start the board in the background and print its
    serial port. It runs until `vigil board stop`."""
    proc, started = boards.start_detached(name, build=not no_build)
    if as_json:
        emit_json({**proc.__dict__, "started_now": started})
    else:
        if not started:
            console.print(f"[yellow]{name} was already running[/] (pid {proc.pid})")
        click.echo(proc.port)


@board.command("stop")
@click.option("--board", "name", type=BOARD_CHOICE, default=None, help="Only this board (default: all).")
def board_stop(name: str | None) -> None:
    """Stop boards started with `vigil board start`."""
    stopped = boards.stop_detached(name)
    for proc in stopped:
        console.print(f"stopped {proc.board} (pid {proc.pid}, {proc.port})")
    if not stopped:
        console.print("no board was running")


@board.command("list")
@click.option("--json", "as_json", is_flag=True, help="JSON output.")
def board_list(as_json: bool) -> None:
    """The boards running in the background."""
    running = boards.running_detached()
    if as_json:
        emit_json([proc.__dict__ for proc in running])
        return
    for proc in running:
        click.echo(f"{proc.board}\t{proc.port}\tpid {proc.pid}")


@cli.command()
@click.option("-e", "--environment", "env", required=True, help="PlatformIO environment: vwrist, native or a real board.")
@click.option("--port", default=None, help="Upload port for a real board.")
def flash_cmd(env: str, port: str | None) -> None:
    """Build and start a board: vwrist and native start here in the background (like
    `vigil board start`); any other environment is built and uploaded by PlatformIO."""
    if env in boards.BOARDS:
        flash.build(env)
        proc, _ = boards.start_detached(env, build=False)
        click.echo(proc.port)
    else:
        flash.upload(env, port)


flash_cmd.name = "flash"


# ---------------------------------------------------------------- talking to a device


@cli.command()
@click.option("--port", required=True, help="Serial port of the device (e.g. /dev/pts/3, /dev/ttyACM0).")
@click.option("--count", default=3, show_default=True, help="Pings to send.")
@click.option("--timeout", default=5.0, show_default=True, help="Seconds to wait for each answer.")
@click.option("--json", "as_json", is_flag=True, help="Print HELLO and timings as JSON.")
def ping(port: str, count: int, timeout: float, as_json: bool) -> None:
    """Ask a device who it is (HELLO) and measure round trips (PING/PONG)."""
    with Link.open(port) as link:
        hello = link.request_hello(timeout=timeout)
        rtts = [link.ping(nonce=f"ping{i}".encode(), timeout=timeout)[1] for i in range(count)]
    summary = {
        "port": port,
        "hello": hello.as_dict(),
        "round_trip_ms": [round(1000 * r, 3) for r in rtts],
        "link": link.counters.as_dict(),
    }
    if as_json:
        emit_json(summary)
        return
    table = Table(title=f"{hello.board} on {port}", show_header=False)
    for key, value in hello.as_dict().items():
        table.add_row(key, str(value))
    table.add_row("round trip", ", ".join(f"{1000 * r:.2f} ms" for r in rtts))
    Console().print(table)


def monitor_view(totals: MonitorTotals, started: float, port: str, log: JsonlLog) -> Group:
    table = Table(title=f"vigil monitor — {port} → {log.path}", show_header=True)
    table.add_column("what")
    table.add_column("count", justify="right")
    for name, n in sorted(totals.by_type.items()):
        table.add_row(name, str(n))
    table.add_row("[red]link errors[/]", str(totals.errors))
    table.add_row("records logged", str(log.records))
    table.add_row("elapsed", f"{time.monotonic() - started:.1f} s")
    last = ""
    if totals.last:
        last = "last: " + ", ".join(f"{k}={v}" for k, v in totals.last.items() if k not in ("t", "port"))
    return Group(table, Text(last, no_wrap=True, overflow="ellipsis"))


@cli.command()
@click.option("--port", required=True, help="Serial port of the device.")
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False, path_type=Path), help="JSON Lines log (appended).")
@click.option("--duration", type=float, default=None, help="Stop after this many seconds (default: until Ctrl-C).")
@click.option("--stats-every", type=float, default=0.0, help="Also request device STATS every S seconds (0: never).")
@click.option("--no-hello", is_flag=True, help="Do not ask the device to announce itself first.")
@click.option("--quiet", is_flag=True, help="No live view; only the log and a final line.")
def monitor(port: str, out: Path, duration: float | None, stats_every: float, no_hello: bool, quiet: bool) -> None:
    """Show what the device streams, live, and log every frame and link error to OUT.

    Each record is one JSON line, flushed as it arrives, so a crash loses at most the
    line being written (read_log skips such a partial last line). Link errors (CRC,
    framing) and reboots are logged as records too."""
    totals = MonitorTotals()
    started = time.monotonic()
    with JsonlLog(out) as log, Link.open(port) as link:

        def on_event(event: Any) -> None:
            record = event_record(event, port)
            log.write(record)
            totals.add(record)

        link.listeners.append(on_event)
        if not no_hello:
            link.request_hello()
        live = Live(monitor_view(totals, started, port, log), console=console, refresh_per_second=4) if not quiet else nullcontext()
        next_stats = time.monotonic()
        try:
            with live:
                while duration is None or time.monotonic() - started < duration:
                    if stats_every and time.monotonic() >= next_stats:
                        link.send(p.MsgType.STATS_REQ)
                        next_stats = time.monotonic() + stats_every
                    link.drain()
                    if isinstance(live, Live):
                        live.update(monitor_view(totals, started, port, log))
                    time.sleep(0.1)
        except KeyboardInterrupt:
            pass
    console.print(f"{log.records} records logged to {out}; link errors {totals.errors}; reboots {link.counters.reboots}")


# ---------------------------------------------------------------- link proofs


def run_linktest(link: Link, echo: int, replay_bytes: int, faults: int, show_progress: bool) -> dict:
    hello = link.request_hello()
    report: dict[str, Any] = {"hello": hello.as_dict()}
    with progress_bar(show_progress) as bar:
        if echo:
            report["echo"] = linkcheck.as_dict(linkcheck.echo_test(link, echo, progress=tracker(bar, "echo", echo)))
        if replay_bytes:
            n_frames = linkcheck.frame_count(replay_bytes)
            result = linkcheck.replay_test(link, replay_bytes, progress=tracker(bar, "replay", n_frames))
            report["replay"] = linkcheck.as_dict(result)
    if faults:
        report["faults"] = linkcheck.as_dict(linkcheck.fault_test(link, faults))
    report["device_stats"] = link.stats()
    report["host_link"] = link.counters.as_dict()
    report["ok"] = all(report[k]["ok"] for k in ("echo", "replay", "faults") if k in report)
    return report


def print_linktest(report: dict) -> None:
    table = Table(title=f"link test — {report['hello']['board']} (boot {report['hello']['boot_id']})")
    table.add_column("check")
    table.add_column("result")
    table.add_column("figures")
    mark = {True: "[green]pass[/]", False: "[red]FAIL[/]"}
    if "echo" in report:
        e = report["echo"]
        table.add_row(
            "echo",
            mark[e["ok"]],
            f"{e['replies']}/{e['frames']} replies in order, {e['mismatched']} mismatched, "
            f"{e['round_trips_per_second']:.0f} round trips/s",
        )
    if "replay" in report:
        r = report["replay"]
        table.add_row(
            "sample replay",
            mark[r["ok"]],
            f"{r['bytes'] / 1e6:.2f} MB in {r['frames']} frames, {r['bytes'] / max(r['seconds'], 1e-9) / 1e3:.0f} kB/s; "
            f"device counted {r['device_samples']} samples, CRC {'match' if r['crc_device'] == r['crc_expected'] else 'DIFFERS'}, "
            f"{r['overflows']} overflows, queue high water {r['queue_high_water']}/{r['queue_slots']}",
        )
    if "faults" in report:
        f = report["faults"]
        errs = ", ".join(f"{k} {v}" for k, v in f["device_errors"].items() if v)
        table.add_row(
            "injected faults",
            mark[f["ok"]],
            f"{f['rounds']} damaged frames → device counted {errs}; gaps {f['device_gaps']} (predicted "
            f"{f['predicted_gaps']}); {f['foreign_replies']} damaged frames delivered",
        )
    s = report["device_stats"]
    table.add_row(
        "device",
        "",
        f"stack high water {s['stack_high_water']} of {s['stack_size']} B, uptime {s['uptime_ms']} ms, "
        f"{s['frames_rx']} frames in / {s['frames_tx']} out",
    )
    Console().print(table)
    click.echo("link test: " + ("PASSED" if report["ok"] else "FAILED"))


def linktest_options(f: Callable) -> Callable:
    f = click.option("--json", "as_json", is_flag=True, help="Print the full report as JSON.")(f)
    f = click.option("--faults", default=120, show_default=True, help="Damaged frames to inject (0: skip).")(f)
    f = click.option("--replay-bytes", default=1_000_000, show_default=True, help="Sample bytes to replay (0: skip).")(f)
    f = click.option("--echo", default=10_000, show_default=True, help="Echo frames to send (0: skip).")(f)
    return f


@cli.command()
@click.option("--port", required=True, help="Serial port of the device.")
@linktest_options
def linktest(port: str, echo: int, replay_bytes: int, faults: int, as_json: bool) -> None:
    """Prove the link loses nothing: echo frames (all back, in order), replay samples under
    flow control (device CRC equals ours), inject faults (each counted, none delivered).
    Exit status 1 if any check fails."""
    with Link.open(port) as link:
        report = run_linktest(link, echo, replay_bytes, faults, show_progress=not as_json and sys.stderr.isatty())
    emit_json(report) if as_json else print_linktest(report)
    if not report["ok"]:
        sys.exit(1)


@cli.command()
@click.option("--board", "name", type=BOARD_CHOICE, default="vwrist", show_default=True, help="Board to run on.")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=Path("build/demo"),
              show_default=True, help="Where the trained models, firmware, logs and the report go.")  # fmt: skip
@click.option("--skip-training", is_flag=True,
              help="Use the committed models/ (no training, no model export): faster, same proofs.")  # fmt: skip
@click.option("--night-hours", type=float, default=1.5, show_default=True,
              help="Length of the synthetic night replayed through the board (vwrist takes ~1.5 min per hour).")  # fmt: skip
@linktest_options
def demo(name: str, out_dir: Path, skip_training: bool, night_hours: float, echo: int, replay_bytes: int, faults: int,
         as_json: bool) -> None:  # fmt: skip
    """The built-in demo, end to end (`make demo` runs this):

    \b
    1. train the sleep CNN on synthetic nights and the stress trio on synthetic stress sessions
       (built in; the features are the device twins' integers);
    2. export all four models and the consensus (`vigil export models`) into OUT/models;
    3. build the board's firmware carrying them, boot it, prove the link (echo, flow-controlled
       replay, injected faults, reset);
    4. replay a synthetic night and a stress session of people the models never saw, showing the
       device's sleep and stress results live, and verify every output bit-exact against the twins;
    5. write the report: OUT/report/index.html.
    Exit status 0 only when every proof passed."""
    from vigil import demo as demo_mod
    from vigil.report.html import write_report
    from vigil.report.report_data import ReportInputs, build_report_data

    settings = demo_mod.DemoSettings(out=out_dir, board=name, train=not skip_training, night_hours=night_hours)
    paths = demo_mod.DemoPaths(out_dir)
    show = not as_json and sys.stderr.isatty()
    con = Console(stderr=True, quiet=as_json)
    summary: dict[str, Any] = {"out": str(paths.out)}
    if skip_training:
        from vigil.bundle.consensus_twin import models_dir

        models = models_dir().resolve()
        sleep_dir, stress_dir = models / "sleep", models / "stress"
        con.print(f"[bold]vigil demo[/] — using the committed models in {models}")
    else:
        con.print("[bold]vigil demo[/] — training, exporting, building, replaying, verifying, reporting")
        with progress_bar(show) as bar:
            summary["training"] = demo_mod.train_models(settings, paths, con, lambda what, n: tracker(bar, what, n))
        written = demo_mod.export_models(paths)
        con.print(f"exported {len(written)} model files to {paths.models}")
        models, sleep_dir, stress_dir = paths.models, paths.sleep, paths.stress
    demo_mod.models_env(models)
    con.print(f"[bold]building[/] the {name} firmware with these models")
    artifact = demo_mod.build_firmware(name, models, paths.build)
    recordings = demo_mod.demo_recordings(settings)
    summary["verify"] = {}
    logs: dict[str, Path] = {}
    with boards.running_board(name, artifact=artifact) as proc:
        con.print(f"{name} is up on {proc.port} (pid {proc.pid})")
        with Link.open(proc.port) as link:
            link.request_hello()
            report = run_linktest(link, echo, replay_bytes, faults, show_progress=show)
            report["reset"] = demo_reset(link)
            summary["link"] = report
            for what, rec in recordings.items():
                minutes = len(rec.accel) / rec.accel_rate_hz / 60
                con.print(f"[bold]replaying[/] a synthetic {what} ({minutes:g} min) — device results as they arrive:")
                logs[what] = paths.logs / f"{what}.jsonl"
                with demo_mod.live_results(link, con, logs[what]):
                    result = run_verify(link, rec, show_progress=show)
                summary["verify"][what] = result
                demo_mod.write_json(paths.logs / f"{what}-verify.json", result)
    con.print("[bold]writing the report[/]")
    inputs = ReportInputs(night=recordings["night"], stress_session=recordings["stress"], models=models,
                          sleep_model=sleep_dir, stress_model=stress_dir,
                          verify=[paths.logs / f"{w}-verify.json" for w in recordings],
                          night_log=logs["night"], stress_log=logs["stress"])  # fmt: skip
    written_report = write_report(build_report_data(inputs), paths.report)
    summary["report"] = str(written_report.index)
    link_ok = summary["link"]["ok"] and summary["link"]["reset"]["ok"]
    summary["ok"] = link_ok and all(v["ok"] for v in summary["verify"].values())
    if as_json:
        emit_json(summary)
    else:
        print_linktest(summary["link"])
        r = summary["link"]["reset"]
        click.echo(f"reset: boot id {r['before']} → {r['after']}, host counted {r['reboots']} reboot")
        for what, v in summary["verify"].items():
            print_verify(v, f"synthetic {what}")
        click.echo(f"report: {summary['report']}")
    if not summary["ok"]:
        sys.exit(1)


def demo_reset(link: Link) -> dict:
    before = link.hello.boot_id if link.hello else 0
    after = link.reset().boot_id
    return {"before": f"{before:08x}", "after": f"{after:08x}", "reboots": link.counters.reboots,
            "ok": after != before and link.counters.reboots == 1}  # fmt: skip


# ---------------------------------------------------------------- recordings through the device


def _load_recording(path: Path) -> Any:
    from vigil.data.recording import Recording

    return Recording.load(path)


def _replay_with_progress(link: Link, rec: Any, show: bool) -> Any:
    from vigil import replay as replay_mod

    frames = replay_mod.frame_count(rec)
    with progress_bar(show) as bar:
        return replay_mod.replay(link, rec, progress=tracker(bar, "replay", frames))


@cli.command()
@click.option("--port", required=True, help="Serial port of the device.")
@click.option("--input", "input_path", required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Recording (.vrec, see `vigil convert`).")  # fmt: skip
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Also log every frame the device sends as JSON Lines.")  # fmt: skip
@click.option("--json", "as_json", is_flag=True, help="Print a JSON summary.")
@click.option("--any-models", is_flag=True,
              help="Replay even if the device's models (HELLO) are not those of models/ ($VIGIL_MODELS_DIR).")
def replay(port: str, input_path: Path, out: Path | None, as_json: bool, any_models: bool) -> None:
    """Stream a recording into the device (flow controlled: nothing is lost at any link
    speed) and collect what it computes: spectrogram columns, epoch images, beats, HRV,
    sleep classes (SLEEP) and stress records with their alert and its reasons (STRESS).
    Refuses a device whose models differ from models/ unless --any-models."""
    rec = _load_recording(input_path)
    with Link.open(port) as link, (JsonlLog(out) if out else nullcontext()) as log:
        if log is not None:
            link.listeners.append(lambda event: log.write(event_record(event, port)))
        hello = link.request_hello()
        if not any_models:
            from vigil.bundle.model_bundle import bundle_hashes
            from vigil.bundle.consensus_twin import models_dir
            from vigil.verify import check_models

            check_models(hello, bundle_hashes(models_dir()))
        outputs = _replay_with_progress(link, rec, show=not as_json and sys.stderr.isatty())
    result = {
        "board": hello.board,
        "columns": len(outputs.columns),
        "epoch_images": len(outputs.images),
        "beats": len(outputs.beats),
        "hrv_segments": len(outputs.hrv),
        "sleep_epochs": len(outputs.sleep),
        "stress_segments": len(outputs.stress),
        "alerts": sum(r["alert"] for r in outputs.stress),
        "device_errors": [e.code_name for e in outputs.errors],
    }
    if as_json:
        emit_json(result)
    else:
        click.echo(", ".join(f"{k} {v}" for k, v in result.items()))


@cli.command()
@click.option("--port", required=True, help="Serial port of the device.")
@click.option("--input", "input_path", required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Recording (.vrec, see `vigil convert` and `vigil synth`).")  # fmt: skip
@click.option("--json", "as_json", is_flag=True, help="Per stage: windows compared and mismatches, and costs.")
def verify(port: str, input_path: Path, as_json: bool) -> None:
    """Replay a recording into the device and prove every output equals the Python twin,
    integer for integer. Exit status 0 only when every window of every stage matches;
    otherwise the first differing window, stage and index are named.

    \b
    Stages: accel_derivative, stft_columns, epoch_image, ppg_filtered, ppg_beats, hrv_features,
    sleep (sleep CNN per epoch), stress (tree, SVM, stress NN, consensus, alert and reasons per
    segment). The device must carry the models of models/ (or $VIGIL_MODELS_DIR): HELLO's
    hashes are compared first and a difference is refused, naming both hashes.
    The device also reports what each stage cost (instructions on the virtual board)."""
    rec = _load_recording(input_path)
    with Link.open(port) as link:
        link.request_hello()
        report = run_verify(link, rec, show_progress=not as_json and sys.stderr.isatty())
    report["recording"] = str(input_path)
    if as_json:
        emit_json(report)
    else:
        print_verify(report, input_path.name)
    if not report["ok"]:
        sys.exit(1)


def run_verify(link: Link, rec: Any, show_progress: bool) -> dict:
    from vigil import replay as replay_mod
    from vigil.verify import verify_recording

    with progress_bar(show_progress) as bar:
        return verify_recording(link, rec, progress=tracker(bar, "replay", replay_mod.frame_count(rec)))


def print_verify(report: dict, name: str) -> None:
    table = Table(title=f"verify {name} on {report['board']}")
    for col in ("stage", "windows", "mismatches", "first mismatch"):
        table.add_column(col)
    for stage, r in report["stages"].items():
        table.add_row(stage, str(r["windows"]), str(r["mismatches"]), r["first_mismatch"] or "")
    Console().print(table)
    if report["device_errors"]:
        click.echo(f"device errors: {', '.join(report['device_errors'])}")
    if "total_instructions_per_second_of_signal" in report["cost"]:
        click.echo(f"all stages (DSP and models): {report['cost']['total_instructions_per_second_of_signal']:,} instructions per second of signal")
    for stage, per in (("sleep_cnn", "instructions_per_epoch"), ("stress", "instructions_per_segment")):
        if per in report["cost"].get(stage, {}):
            click.echo(f"{stage}: {report['cost'][stage][per]:,} {per.replace('_', ' ')}")
    click.echo(f"verify {name}: " + ("all outputs bit-exact" if report["ok"] else "MISMATCH"))


@cli.command()
@click.option("--out", required=True, type=click.Path(dir_okay=False, path_type=Path), help="Recording to write (.vrec).")
@click.option("--seconds", type=float, default=600.0, show_default=True, help="Length of the session.")
@click.option("--seed", type=int, default=1, show_default=True, help="Random seed (same seed, same recording).")
@click.option("--ppg-rate", type=click.Choice(["none", "64", "100", "128"]), default="64", show_default=True,
              help="PPG sample rate in Hz, or none for an accelerometer-only recording.")  # fmt: skip
@click.option("--stress", type=float, default=0.0, show_default=True, help="0 relaxed … 1 acute stress (heart rate, HRV).")
@click.option("--difficulty", type=click.Choice(["clean", "typical", "moderate", "hard"]), default="typical",
              show_default=True, help="PPG noise, baseline wander and motion artifacts; with --night also how "
              "much the sleep stages overlap in movement.")  # fmt: skip
@click.option("--night", is_flag=True, help="A whole night instead: hypnogram (wake / NREM / REM per 30-s epoch, "
              "stored as sleep labels) and the wrist movement it makes; PPG relaxed. Length from --hours.")  # fmt: skip
@click.option("--hours", type=float, default=8.0, show_default=True, help="With --night: hours in bed.")
@click.option("--activity", type=click.Choice(["resting", "seated", "walking"]), default="resting", show_default=True,
              help="The wrist's movement: resting (quiet and restless periods, looks asleep to the sleep CNN), "
                   "seated (an awake person fidgeting: what the stress alert is made for) or walking (too much "
                   "motion: the alert is blocked).")  # fmt: skip
def synth(out: Path, seconds: float, seed: int, ppg_rate: str, stress: float, difficulty: str, night: bool,
          hours: float, activity: str) -> None:  # fmt: skip
    """Write a built-in synthetic session (wrist accelerometer + PPG) as a recording, e.g.
    for `vigil verify` with no real data at hand; with --night a labelled night in bed, e.g. to replay
    through a board or to check the sleep CNN.

    \b
    Example: vigil synth --out session.vrec --seconds 300
             vigil synth --activity seated --stress 1 --seconds 720 --out stressed.vrec
             vigil synth --night --hours 7.5 --difficulty moderate --ppg-rate none --out night.vrec"""
    rate = None if ppg_rate == "none" else int(ppg_rate)
    if night:
        from vigil.data.synthetic_night import synthetic_night

        rec = synthetic_night(hours, seed=seed, difficulty=difficulty, ppg_rate_hz=rate)
        rec.save(out)
        counts = {name: int((rec.sleep_labels == k).sum()) for k, name in enumerate(SLEEP_CLASS_LABELS)}
        ppg_note = "" if rate is None else f", PPG {rate} Hz"
        epochs = ", ".join(f"{k} {v}" for k, v in counts.items())
        click.echo(f"wrote {out}: {rec.accel_seconds:g} s night, accelerometer 50 Hz{ppg_note}, epochs {epochs}")
        return
    if activity == "resting":
        from vigil.data.synthetic import synthetic_session

        rec = synthetic_session(seconds, seed, rate, stress, difficulty)
    else:
        from vigil.data.synthetic_day import synthetic_day

        rec = synthetic_day(seconds, seed, activity, stress=stress, ppg_rate_hz=rate, difficulty=difficulty)
    rec.save(out)
    click.echo(f"wrote {out}: {seconds:g} s, accelerometer 50 Hz" + ("" if ppg_rate == "none" else f", PPG {ppg_rate} Hz"))


cli.add_command(convert)


# ---------------------------------------------------------------- models for the device


@cli.group("export")
def export_group() -> None:
    """Convert trained models into what the firmware carries."""


@cli.group("engine")
def engine_group() -> None:
    """vigil's int8 engine: check a model on a board before flashing it."""


@engine_group.command("check")
@click.argument("model", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--board", "name", type=BOARD_CHOICE, default="native", show_default=True, help="Board to run on.")
@click.option("--samples", default=20, show_default=True, help="Inputs to run: edge values first, then random.")
@click.option("--seed", default=0, show_default=True, help="Seed of the random inputs.")
@click.option("--clock-mhz", type=float, default=64.0, show_default=True,
              help="Clock to state milliseconds at (vwrist: instructions / clock, one instruction per cycle).")
@click.option("--json", "as_json", is_flag=True,
              help="JSON with mismatches, arena_bytes, flash_bytes, instructions_per_inference, instructions_per_mac, "
                   "ms_per_inference_at_clock.")  # fmt: skip
def engine_check_cmd(model: Path, name: str, samples: int, seed: int, clock_mhz: float, as_json: bool) -> None:
    """Compile MODEL (an int8 .tflite) for vigil's engine, build a firmware that carries it,
    run SAMPLES inputs on the board and through TFLM's reference kernels (the tflite-micro
    interpreter), and report mismatching outputs (must be 0), arena and flash bytes, and, on
    the virtual board, instructions per inference and per MAC, and the milliseconds they
    take at --clock-mhz (an estimate: the Cortex-M4 spends more than one cycle on loads,
    multiplies into 64 bits and taken branches). Exit status 1 on any mismatch."""
    from vigil.engine import engine_check

    with progress_bar(not as_json and sys.stderr.isatty()) as bar:
        report = engine_check(model.read_bytes(), name, samples, seed, progress=tracker(bar, "inferences", samples),
                              clock_mhz=clock_mhz)  # fmt: skip
    if as_json:
        emit_json(report)
    else:
        table = Table(title=f"engine check {model.name} on {name}", show_header=False)
        for key in ("mismatches", "samples", "arena_bytes", "weight_bytes", "flash_bytes", "macs",
                    "instructions_per_inference", "instructions_per_mac"):  # fmt: skip
            value = report.get(key)
            table.add_row(key, "—" if value is None else f"{value:,}" if isinstance(value, int) else str(value))
        ms = report["ms_per_inference_at_clock"]
        table.add_row(f"ms at {clock_mhz:g} MHz", "—" if ms is None else f"{ms:.3f}")
        table.add_row("ops", " → ".join(report["ops"]))
        Console().print(table)
        click.echo("engine check: " + ("bit-exact with TFLM" if report["mismatches"] == 0 else f"MISMATCH {report['first_mismatch']}"))
    if report["mismatches"]:
        sys.exit(1)


@engine_group.command("fuzz")
@click.option("--seed", "first_seed", default=0, show_default=True, help="First graph seed (graphs SEED .. SEED+COUNT-1).")
@click.option("--count", default=200, show_default=True, help="Graphs to draw and check.")
@click.option("--board", "name", type=BOARD_CHOICE, default="native", show_default=True, help="Board to run on.")
@click.option("--samples", default=3, show_default=True, help="Inputs per graph (calibrated, uniform, extremes).")
@click.option("--batch", default=40, show_default=True, help="Graphs per firmware build (1-255).")
@click.option("--jobs", default=2, show_default=True, help="Processes converting graphs while the board runs.")
@click.option("--keep", "keep_dir", type=click.Path(file_okay=False, path_type=Path),
              help="Write each failing graph here (gSEED.tflite and gSEED.txt) to replay with `engine check`.")
@click.option("--json", "as_json", is_flag=True, help="The summary as JSON (statuses, op and path coverage, failures).")
def engine_fuzz_cmd(first_seed: int, count: int, name: str, samples: int, batch: int, jobs: int,
                    keep_dir: Path | None, as_json: bool) -> None:
    """Draw COUNT random int8 models inside the engine's op set (conv, depthwise, pools, mean, add with
    broadcast, dense, relu/relu6, softmax/sigmoid, odd and 1-wide shapes), convert each with the TFLite
    converter, and check every output on the board against TFLM's reference kernels. The same seed gives
    the same graphs on every machine. Exit status 1 if any graph is refused, fails to convert or build,
    crashes the board or mismatches.

    \b
    vigil engine fuzz --count 200 --board native          # what `make test` runs (and 30 on vwrist)
    vigil engine fuzz --seed 5000 --count 2000 --keep fails/
    vigil engine check fails/g5123.tflite --board vwrist   # replay one"""
    from vigil.engine_fuzz import run_fuzz

    with progress_bar(not as_json and sys.stderr.isatty()) as bar:
        report = run_fuzz(first_seed, count, name, samples=samples, batch=batch, jobs=jobs, keep_dir=keep_dir,
                          progress=tracker(bar, "graphs", count))  # fmt: skip
    summary = report.summary()
    if as_json:
        emit_json(summary)
    else:
        table = Table(title=f"engine fuzz: seeds {first_seed}..{first_seed + count - 1} on {name}", show_header=False)
        for status, n in summary["statuses"].items():
            table.add_row(status, f"{n:,}")
        table.add_row("outputs compared", f"{summary['outputs_compared']:,}")
        table.add_row("ops (graphs)", ", ".join(f"{k} {v}" for k, v in summary["graphs_with_op"].items()))
        table.add_row("paths (graphs)", ", ".join(f"{k} {v}" for k, v in summary["graphs_with_path"].items()))
        table.add_row("seconds", f"{summary['seconds']:g}")
        Console().print(table)
        for f in summary["failures"]:
            click.echo(f"{f['name']}: {f['status']} {f['detail'] or f['first_mismatch']}")
    if report.failures:
        sys.exit(1)


@export_group.command("nn")
@click.argument("model", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--name", required=True, help="C identifier for the model (e.g. sleep_cnn).")
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False, path_type=Path), help="Output folder.")
@click.option("--json", "as_json", is_flag=True, help="Print the manifest entry as JSON.")
def export_nn(model: Path, name: str, out_dir: Path, as_json: bool) -> None:
    """Compile an int8 .tflite for vigil's engine. Writes NAME.tflite, NAME_tflite.h (the
    16-byte-aligned array TFLM users include), NAME_plan.h (weights, per-channel
    requantization, op list, static arena planned on the host) and an entry in
    OUT/manifest.json (hash, ops, arena bytes, weight bytes, MACs). An op the engine does not
    support stops the export with its name and position."""
    from vigil.export.headers import export_model

    out_dir.mkdir(parents=True, exist_ok=True)
    entry = export_model(model.read_bytes(), name, out_dir)
    manifest_path = out_dir / "manifest.json"
    manifest = json.loads(manifest_path.read_text()) if manifest_path.exists() else {"models": {}}
    manifest.setdefault("models", {})[name] = entry
    manifest_path.write_text(json.dumps(manifest, indent=1, sort_keys=True, default=str) + "\n")
    if as_json:
        emit_json(entry)
    else:
        click.echo(f"{name}: {', '.join(str(f) for f in entry['files'])} in {out_dir}; "
                   f"arena {entry['arena_bytes']:,} B, weights {entry['weight_bytes']:,} B, {entry['macs']:,} MACs")  # fmt: skip


@export_group.command("models")
@click.option("--sleep", "sleep_dir", type=click.Path(exists=True, file_okay=False, path_type=Path), default=None,
              help="Sleep training folder (sleep_cnn.tflite + manifest.json). Default: OUT/sleep.")  # fmt: skip
@click.option("--stress", "stress_dir", type=click.Path(exists=True, file_okay=False, path_type=Path), default=None,
              help="Stress training folder (`vigil train stress --out`). Default: OUT/stress.")  # fmt: skip
@click.option("--out", "out_dir", default="models", show_default=True, type=click.Path(file_okay=False, path_type=Path),
              help="The models folder the firmware builds with.")  # fmt: skip
@click.option("--alert-probability", type=float, default=None,
              help="Alert threshold on the weighted P(stress) (default: OUT/manifest.json's, else 0.6).")  # fmt: skip
@click.option("--motion-limit", type=int, default=None,
              help="Largest motion level (mean |accel derivative| per sample, milli-g) still 'little motion' "
                   "(default: OUT/manifest.json's, else 30: above a seated person's fidgeting, "
                   "below walking; benchmarks/alert_gating.py).")  # fmt: skip
@click.option("--check", is_flag=True, help="Regenerate in memory only; exit 1 if any file of OUT differs.")
@click.option("--json", "as_json", is_flag=True, help="Print the stale/written files and model hashes as JSON.")
def export_models(sleep_dir: Path | None, stress_dir: Path | None, out_dir: Path, alert_probability: float | None,
                  motion_limit: int | None, check: bool, as_json: bool) -> None:  # fmt: skip
    """Build the device's models folder from a sleep and a stress training folder: copies of the trained
    files with a MODEL_CARD.md each (OUT/sleep, OUT/stress), the C headers the firmware includes
    (OUT/firmware: engine plans, TFLM arrays, tree/SVM tables, micromlgen ports, stress_consensus.h,
    vigil_models.h with the hashes HELLO announces) and OUT/manifest.json (data, settings, hashes,
    metrics). Without --sleep/--stress it regenerates OUT from its own copies, e.g.

    \b
        vigil export models --sleep runs/sleep --stress runs/stress --out models
        vigil export models --check     # committed models/ = what the generator makes

    Build a firmware against another folder with VIGIL_MODELS_DIR=DIR (pio run / vigil board start).
    """
    from vigil.bundle import model_bundle as mb

    settings = mb.ConsensusSettings()
    if (out_dir / mb.MANIFEST).is_file():
        settings = mb.ConsensusSettings.from_dict(mb.read_bundle_manifest(out_dir)["consensus"])
    settings = mb.ConsensusSettings(
        settings.alert_probability if alert_probability is None else alert_probability,
        settings.motion_limit if motion_limit is None else motion_limit,
    )
    files = mb.build_model_bundle(sleep_dir or out_dir / "sleep", stress_dir or out_dir / "stress", settings)
    stale = mb.write_model_bundle(files, out_dir, check=check)
    hashes = json.loads(files[mb.MANIFEST])["hashes"]
    if as_json:
        emit_json({"out": str(out_dir), "check": check, "stale" if check else "written": stale, "hashes": hashes})
    else:
        verb = "stale" if check else "wrote"
        for rel in stale:
            click.echo(f"{verb}: {out_dir / rel}")
        click.echo(f"{out_dir}: {len(files)} files, {len(stale)} {'stale' if check else 'changed'}; models "
                   + ", ".join(f"{k} {v[:8]}" for k, v in hashes.items()))  # fmt: skip
    if check and stale:
        sys.exit(1)


# ---------------------------------------------------------------- stress models


@cli.group("train")
def train_group() -> None:
    """Train models on real or synthetic data."""


@train_group.command("stress")
@click.option("--data", required=True,
              help="An HRV-feature CSV file, a WESAD folder (S<n>/S<n>_quest.csv + S<n>_E4_Data/ or .zip; one "
                   "subject's folder or the root), or 'synthetic' (PPG sessions through the twin).")  # fmt: skip
@click.option("--from", "data_format", type=click.Choice(["hrv-csv", "wesad", "synthetic"]), default=None,
              help="Data format (default: detected). WESAD: Base = relax, TSST = stress, features from the "
                   "wrist BVP through the device's PPG twin.")  # fmt: skip
@click.option("--layout", type=click.Choice(["potgieter", "potgieter-new", "header"]), default=None,
              help="HRV CSV layout (default: detected).")  # fmt: skip
@click.option("--difficulty", type=click.Choice(["easy", "moderate", "hard"]), default="moderate", show_default=True,
              help="Synthetic data only.")  # fmt: skip
@click.option("--protocol", type=click.Choice(["kfold20", "blocks", "loso"]), default="blocks", show_default=True,
              help="Evaluation protocol for metrics.json.")  # fmt: skip
@click.option("--seed", default=0, show_default=True, help="Seed of the splits, the models and synthetic data.")
@click.option("--nn-epochs", default=120, show_default=True, help="Training epochs of the stress MLP.")
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False, path_type=Path), help="Output folder.")
@click.option("--json", "as_json", is_flag=True, help="Print the manifest as JSON.")
def train_stress(data: str, data_format: str | None, layout: str | None, difficulty: str, protocol: str, seed: int,
                 nn_epochs: int, out_dir: Path, as_json: bool) -> None:  # fmt: skip
    """Train the stress trio (decision tree, RBF SVM, int8 MLP) and its consensus weights on all of the data,
    evaluate them with PROTOCOL, and write models, scaler, weights, metrics.json and manifest.json to OUT."""
    from vigil.ml.stress_io import load_stress_data, train_stress_folder

    dataset = load_stress_data(data, data_format, layout, difficulty, seed)
    show = not as_json and sys.stderr.isatty()
    with progress_bar(show) as bar:
        manifest, metrics = train_stress_folder(dataset, out_dir, protocol, seed, nn_epochs,
                                                lambda n: tracker(bar, f"{protocol} folds", n))  # fmt: skip
    if as_json:
        emit_json(manifest)
    else:
        print_stress_metrics(metrics, f"stress trio on {len(dataset)} segments — {protocol}")
        click.echo(f"wrote {', '.join(manifest['files'])} and manifest.json to {out_dir}")


@cli.command("evaluate")
@click.argument("model_dir", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--protocol", type=click.Choice(["kfold20", "blocks", "loso", "lso5"]), default=None,
              help="Protocol (default: the one recorded at training). Stress: kfold20, blocks, loso; "
                   "sleep: loso, lso5 (held-out subjects).")  # fmt: skip
@click.option("--json", "as_json", is_flag=True, help="The full report as JSON (per fold too).")
def evaluate_cmd(model_dir: Path, protocol: str | None, as_json: bool) -> None:
    """Re-run an evaluation protocol on the data recorded in MODEL_DIR's manifest: from `vigil train stress`,
    accuracy, precision, sensitivity, specificity and F1 of each model and of the consensus; from `vigil train
    sleep`, the sleep CNN's held-out-subject report (kappa, per class, sleep/wake AUC, wake at 90 % sleep)."""
    from vigil.ml import protocols
    from vigil.ml.sleep_io import KIND as SLEEP_KIND
    from vigil.ml.sleep_io import manifest_kind
    from vigil.ml.stress import evaluate_stress
    from vigil.ml.stress_io import dataset_from_manifest, read_manifest, with_proposal_reference

    if manifest_kind(model_dir) == SLEEP_KIND:
        evaluate_sleep_dir(model_dir, protocol, as_json)
        return
    manifest = read_manifest(model_dir)
    dataset = dataset_from_manifest(manifest)
    settings = manifest["settings"]
    protocol = protocol or settings["protocol"]
    with progress_bar(not as_json and sys.stderr.isatty()) as bar:
        n_folds = len(protocols.folds(dataset, protocol, settings["seed"]))
        report = evaluate_stress(dataset, protocol, seed=settings["seed"], nn_epochs=settings["nn_epochs"],
                                 progress=tracker(bar, f"{protocol} folds", n_folds))  # fmt: skip
    with_proposal_reference(report, dataset, protocol)
    if as_json:
        emit_json(report)
    else:
        print_stress_metrics(report, f"{model_dir.name}: {len(dataset)} segments — {protocol}")


# ---------------------------------------------------------------- sleep CNN


@train_group.command("sleep")
@click.option("--data", required=True, help="'synthetic' (nights from the built-in generator), a Walch sleep-accel "
              "folder (every subject with labels) or one Walch acceleration file.")  # fmt: skip
@click.option("--from", "data_format", type=click.Choice(["walch", "synthetic"]), default=None,
              help="Data format (default: 'synthetic' for --data synthetic, else walch).")  # fmt: skip
@click.option("--subjects", type=int, default=None,
              help="Synthetic: how many people (default 8); Walch: the first N subjects (default all).")  # fmt: skip
@click.option("--hours", type=float, default=8.0, show_default=True, help="Synthetic only: hours in bed per night.")
@click.option("--difficulty", type=click.Choice(["clean", "easy", "typical", "moderate", "hard"]), default="moderate",
              show_default=True, help="Synthetic only: how much the stages overlap in movement.")  # fmt: skip
@click.option("--protocol", type=click.Choice(["loso", "lso5"]), default="lso5", show_default=True,
              help="Held-out subjects for metrics.json: one per fold (loso) or five folds of whole subjects "
                   "(lso5).")  # fmt: skip
@click.option("--epochs", type=int, default=8, show_default=True,
              help="Training epochs per model (the best on held-out training subjects is kept).")  # fmt: skip
@click.option("--seed", default=0, show_default=True, help="Seed of the synthetic people, splits and training.")
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False, path_type=Path), help="Output folder.")
@click.option("--json", "as_json", is_flag=True, help="Print the manifest as JSON.")
def train_sleep(data: str, data_format: str | None, subjects: int | None, hours: float, difficulty: str,
                protocol: str, epochs: int, seed: int, out_dir: Path, as_json: bool) -> None:  # fmt: skip
    """Train the sleep CNN (wake / NREM / REM from the device's int8 spectrogram images, which the DSP twin
    makes from each recording's accelerometer), evaluate it by held-out subjects through the int8 model
    (TFLM), fit the kept model on all subjects and write sleep_cnn.keras, sleep_cnn.tflite (input: the image
    bytes unchanged), metrics.json and manifest.json to OUT.

    \b
    Example: vigil train sleep --data synthetic --out models/sleep
             vigil train sleep --data sleep-accel/ --protocol lso5 --out models/sleep-walch"""
    from vigil.ml.sleep import sleep_folds, train_sleep_cnn
    from vigil.ml.sleep_data import load_sleep_data, recording_count
    from vigil.ml.sleep_io import save_sleep_cnn

    if epochs < 1 or (subjects is not None and subjects < 1):
        raise VigilError(f"--epochs {epochs} --subjects {subjects}: expected positive numbers")
    show = not as_json and sys.stderr.isatty()
    started = time.monotonic()
    with progress_bar(show) as bar:
        dataset = load_sleep_data(data, data_format, subjects, difficulty, seed, hours,
                                  progress=tracker(bar, "recordings → images",
                                                   recording_count(data, data_format, subjects)))  # fmt: skip
        n_folds = len(sleep_folds(dataset, protocol, seed))
        cnn, metrics = train_sleep_cnn(dataset, protocol, epochs, seed,
                                       fold_progress=tracker(bar, f"{protocol} folds", n_folds),
                                       epoch_progress=tracker(bar, "final model epochs", epochs))  # fmt: skip
    settings = {"protocol": protocol, "epochs": epochs, "seed": seed, "seconds": round(time.monotonic() - started, 1)}
    manifest = save_sleep_cnn(cnn, out_dir, dataset, settings, metrics)
    if as_json:
        emit_json(manifest)
    else:
        print_sleep_metrics(metrics["evaluation"], f"sleep CNN on {len(dataset)} epochs of "
                            f"{len(dataset.subject_names)} subjects — {protocol}")  # fmt: skip
        click.echo(f"wrote {', '.join(manifest['files'])} and manifest.json to {out_dir} "
                   f"in {settings['seconds']:g} s")  # fmt: skip


def evaluate_sleep_dir(model_dir: Path, protocol: str | None, as_json: bool) -> None:
    from vigil.ml.sleep import evaluate_sleep, sleep_folds
    from vigil.ml.sleep_data import dataset_from_source
    from vigil.ml.sleep_io import read_sleep_manifest

    manifest = read_sleep_manifest(model_dir)
    settings = manifest["settings"]
    protocol = protocol or settings["protocol"]
    dataset = dataset_from_source(manifest["data"])
    with progress_bar(not as_json and sys.stderr.isatty()) as bar:
        n_folds = len(sleep_folds(dataset, protocol, settings["seed"]))
        report = evaluate_sleep(dataset, protocol, epochs=settings["epochs"], seed=settings["seed"],
                                progress=tracker(bar, f"{protocol} folds", n_folds))  # fmt: skip
    if as_json:
        emit_json(report)
    else:
        print_sleep_metrics(report, f"{model_dir.name}: {len(dataset)} epochs — {protocol}")


def print_sleep_metrics(report: dict, title: str) -> None:
    sw = report["sleep_wake"]
    table = Table(title=f"{title} ({report['folds']} folds, {report['seconds']} s): accuracy {report['accuracy']:.3f}, "
                        f"κ {report['kappa']:.3f}")  # fmt: skip
    for col in ("class", "precision", "sensitivity", "specificity", "F1"):
        table.add_column(col, justify="left" if col == "class" else "right")
    for name, m in report["classes"].items():
        table.add_row(name, *(f"{m[k]:.3f}" for k in ("precision", "sensitivity", "specificity", "f1")))
    Console().print(table)
    click.echo(f"sleep/wake: accuracy {sw['accuracy']:.3f}, κ {sw['kappa']:.3f}, AUC {sw['auc']:.3f}, "
               f"wake correct at 90 % sleep correct {sw['wake_correct_at_90_sleep_correct']:.3f}")  # fmt: skip


def print_stress_metrics(report: dict, title: str) -> None:
    table = Table(title=f"{title} ({report['folds']} folds, {report['seconds']} s)")
    for col in ("model", "accuracy", "precision", "sensitivity", "specificity", "F1"):
        table.add_column(col, justify="left" if col == "model" else "right", no_wrap=col == "model")
    for name, m in report["models"].items():
        table.add_row(name, *(f"{m[k]:.3f}" for k in ("accuracy", "precision", "sensitivity", "specificity", "f1")))
    reference = report.get("proposal_reference")
    if reference:
        table.add_section()
        for name, accuracy in reference["accuracy"].items():
            table.add_row(f"proposal: {name}", f"{accuracy:.3f}", "", "", "", "0.77–0.78" if "vote" in name else "")
    Console(width=None if sys.stdout.isatty() else 110).print(table)  # pipes and logs: no truncated headers


# ---------------------------------------------------------------- report


def _report_progress(bar: Progress | nullcontext) -> Callable[[str, int, int], None] | None:
    """A (step, done, total) callback that shows one bar per step."""
    if not isinstance(bar, Progress):
        return None
    tasks: dict[str, Any] = {}

    def update(step: str, done: int, total: int) -> None:
        if step not in tasks:
            tasks[step] = bar.add_task(step, total=total)
        bar.update(tasks[step], completed=done)

    return update


@cli.command("report")
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Folder to write: index.html, the PNGs it shows, report.json.")  # fmt: skip
@click.option("--night", type=click.Path(exists=True, path_type=Path), default=None,
              help="Night recording (.vrec, or anything `vigil convert` reads): spectrogram, PSG labels, "
                   "hypnogram.")  # fmt: skip
@click.option("--stress-session", type=click.Path(exists=True, path_type=Path), default=None,
              help="Recording with PPG: beats, HRV per minute, the stress models' outputs.")  # fmt: skip
@click.option("--models", "models_dir", type=click.Path(exists=True, file_okay=False, path_type=Path), default=None,
              help="A models/ bundle (`vigil export models`): without a device log its twin computes the device's "
                   "SLEEP / STRESS records (sleep CNN outputs, P(stress) per model, consensus, alerts and their "
                   "reasons). Default: the repo's models/ ($VIGIL_MODELS_DIR) when neither --sleep-model nor "
                   "--stress-model is given.")  # fmt: skip
@click.option("--sleep-model", type=click.Path(exists=True, file_okay=False, path_type=Path), default=None,
              help="Folder of `vigil train sleep` (sleep_cnn.tflite, metrics.json, manifest.json).")  # fmt: skip
@click.option("--stress-model", type=click.Path(exists=True, file_okay=False, path_type=Path), default=None,
              help="Folder of `vigil train stress` (the trio, metrics.json, manifest.json).")  # fmt: skip
@click.option("--verify", "verify_reports", multiple=True, type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="A `vigil verify --json` report (repeatable): its verdict and per-stage mismatch "
                   "table.")  # fmt: skip
@click.option("--night-log", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="Device log of the night (`vigil replay --out`): its spectrogram columns and SLEEP records "
                   "replace the host's.")  # fmt: skip
@click.option("--stress-log", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="Device log of the stress session: its beats, HRV and STRESS records (model outputs, "
                   "alerts, reasons) replace the host's; its HELLO's model hashes are checked against the "
                   "report's models.")  # fmt: skip
@click.option("--json", "as_json", is_flag=True,
              help="Print what the page holds as JSON (also written as report.json).")  # fmt: skip
def report_cmd(out_dir: Path, night: Path | None, stress_session: Path | None, models_dir: Path | None,
               sleep_model: Path | None, stress_model: Path | None, verify_reports: tuple[Path, ...],
               night_log: Path | None, stress_log: Path | None, as_json: bool) -> None:  # fmt: skip
    """Write an HTML page with PNG plots of a night and a stress session: hypnogram (PSG vs predicted), the
    spectrogram with the PSG labels under it, PPG with detected beats, HRV over time with decisions and alerts,
    per-model probabilities, confusion matrices, and the per-model and consensus metrics table.

    Every signal is computed by the Python twins of the firmware (the device's own integers), and so are the
    models' records: the twin of the models/ bundle gives each epoch's sleep CNN outputs and each segment's
    P(stress) of tree, SVM and MLP, weighted vote, decision, alert and the six reasons. With a device log the
    device's records are shown instead (the page says which, how many equal the twin's, and whether the models
    the device announced are the report's). Give any subset: a part without its inputs is left out with a note.

    \b
    vigil replay --port PORT --input stress.vrec --out stress.jsonl
    vigil report --out build/report --night night.vrec --stress-session stress.vrec \\
                 --stress-log stress.jsonl --models models --verify night_verify.json
    Open build/report/index.html in a browser."""
    from vigil.report.html import write_report
    from vigil.report.report_data import ReportInputs, build_report_data

    inputs = ReportInputs(night=night, stress_session=stress_session, sleep_model=sleep_model,
                          stress_model=stress_model, verify=list(verify_reports), night_log=night_log,
                          stress_log=stress_log, models=models_dir)  # fmt: skip
    show = not as_json and sys.stderr.isatty()
    with progress_bar(show) as bar:
        data = build_report_data(inputs, progress=_report_progress(bar))
        figures = tracker(bar, "figures", 8)
        drawn: list[str] = []

        def step(name: str) -> None:
            drawn.append(name)
            if figures:
                figures(len(drawn))

        written = write_report(data, out_dir, step)
    if as_json:
        emit_json({"index": str(written.index), **written.summary})
        return
    for section, why in data.missing.items():
        console.print(f"[yellow]left out[/] {section}: {why}")
    for table in data.metrics:
        print_metrics_table(table)
    click.echo(f"wrote {written.index} and {len(written.figures)} figures")


def print_metrics_table(table: Any) -> None:
    t = Table(title=table.title)
    for col in ("model", "accuracy", "precision", "sensitivity", "specificity", "F1", "κ", "AUC"):
        t.add_column(col, justify="left" if col == "model" else "right")
    for r in table.rows:
        cells = [r.accuracy, r.precision, r.sensitivity, r.specificity, r.f1, r.kappa, r.auc]
        t.add_row(r.name, *("—" if v is None else f"{v:.3f}" for v in cells))
    Console().print(t)


def main() -> None:
    cli(prog_name="vigil")


if __name__ == "__main__":
    main()
