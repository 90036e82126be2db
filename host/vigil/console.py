"""What `vigil` prints: each command's human output (rich tables, lines), its JSON, progress bars, the live
monitor view.

The commands (vigil.cli) call one library function and hand its result to a renderer here. Tables go to stdout
through ``stdout()``: the terminal's width, or at least ``PIPE_WIDTH`` columns when stdout is a pipe or a file,
so a logged table keeps its headers. Notes, the live view and progress bars go to stderr (``err``); ``emit_json``
prints JSON as it is, whatever the width."""

from __future__ import annotations

import json
import sys
import time
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Any, Callable, Iterator

import click
from rich.console import Console, Group
from rich.live import Live
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table
from rich.text import Text

from vigil.errors import VigilError

#: notes, the live monitor view, progress bars
err = Console(stderr=True)
#: the width of tables written to a pipe or a file (a terminal's own width is used as it is)
PIPE_WIDTH = 120
#: ``new(description, total)`` -> a ``done(n)`` callback, or None (no bar)
Bars = Callable[[str, int], Callable[[int], None] | None]
PASS = {True: "[green]pass[/]", False: "[red]FAIL[/]"}


class OneLineErrors(click.Group):
    """A command group that prints a VigilError as one line (``Error: ...``, exit status 1), not a traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except VigilError as exc:
            raise click.ClickException(str(exc)) from None


def stdout() -> Console:
    """A console on stdout: the terminal's width, or at least PIPE_WIDTH columns when not a terminal."""
    console = Console()
    return console if console.is_terminal else Console(width=max(PIPE_WIDTH, console.width))


def emit_json(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, default=str))


# ---------------------------------------------------------------- progress


def show_progress(as_json: bool) -> bool:
    """Progress bars only for a person at a terminal (never with --json, never into a log)."""
    return not as_json and sys.stderr.isatty()


def progress_bar(enabled: bool) -> Progress | nullcontext:
    if not enabled:
        return nullcontext()
    return Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(), console=err
    )


def tracker(bar: Progress | nullcontext | None, description: str, total: int) -> Callable[[int], None] | None:
    if not isinstance(bar, Progress):
        return None
    task = bar.add_task(description, total=total)
    return lambda done: bar.update(task, completed=done)


@contextmanager
def bars(enabled: bool) -> Iterator[Bars]:
    """Progress bars on stderr while the block runs: yields ``new(description, total)``, which adds a bar and returns
    its ``done(n)`` callback (None when not enabled). Nothing is drawn before the first bar."""
    bar = progress_bar(enabled)
    shown = False

    def new(description: str, total: int) -> Callable[[int], None] | None:
        nonlocal shown
        if isinstance(bar, Progress) and not shown:
            bar.start()
            shown = True
        return tracker(bar, description, total)

    try:
        yield new
    finally:
        if shown:
            bar.stop()


def with_progress(as_json: bool, run: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """``run(*args, progress=new, **kwargs)`` with progress bars on stderr unless ``as_json`` or not a terminal
    (``new`` as in ``bars``)."""
    with bars(show_progress(as_json)) as new:
        return run(*args, progress=new, **kwargs)


def with_bar(as_json: bool, description: str, total: int, run: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """``run(*args, progress=done, **kwargs)`` with one progress bar of ``total`` steps (``done(n)``), shown unless
    ``as_json`` or not a terminal."""
    with progress_bar(show_progress(as_json)) as bar:
        return run(*args, progress=tracker(bar, description, total), **kwargs)


def step_tracker(bar: Progress | nullcontext | None) -> Callable[[str, int, int], None] | None:
    """A (step, done, total) callback that shows one bar per step."""
    if not isinstance(bar, Progress):
        return None
    tasks: dict[str, Any] = {}

    def update(step: str, done: int, total: int) -> None:
        if step not in tasks:
            tasks[step] = bar.add_task(step, total=total)
        bar.update(tasks[step], completed=done)

    return update


def counter(bar: Progress | nullcontext | None, description: str, total: int) -> Callable[[str], None]:
    """A ``step(name)`` callback that moves one bar a step per call (a no-op without a bar)."""
    done = tracker(bar, description, total)
    names: list[str] = []

    def step(name: str) -> None:
        names.append(name)
        if done:
            done(len(names))

    return step


# ---------------------------------------------------------------- boards


def print_board_started(proc: Any, started: bool, as_json: bool) -> None:
    if as_json:
        emit_json({**proc.__dict__, "started_now": started})
        return
    if not started:
        err.print(f"[yellow]{proc.board} was already running[/] (pid {proc.pid})")
    click.echo(proc.port)


def print_boards_stopped(stopped: list[Any]) -> None:
    for proc in stopped:
        err.print(f"stopped {proc.board} (pid {proc.pid}, {proc.port})")
    if not stopped:
        err.print("no board was running")


def print_boards(running: list[Any], as_json: bool) -> None:
    if as_json:
        emit_json([proc.__dict__ for proc in running])
        return
    for proc in running:
        click.echo(f"{proc.board}\t{proc.port}\tpid {proc.pid}")
    if not running:
        err.print("no board running")


def print_flashed(flashed: Any | None) -> None:
    """`vigil flash`: the serial port of a board started here, and on stderr the board it replaced (nothing after
    an upload: PlatformIO printed it)."""
    if flashed is None:
        return
    if hasattr(flashed, "command"):  # a real chip, uploaded by a Debian tool
        click.echo(f"uploaded {flashed.env}: {' '.join(flashed.command)}", err=True)
        return
    if flashed.replaced is not None:
        click.echo(f"replaced the running {flashed.replaced.board} board (pid {flashed.replaced.pid}, "
                   f"{flashed.replaced.port}) with the new build", err=True)
    click.echo(flashed.board.port)


# ---------------------------------------------------------------- talking to a device


def print_doctor(results: list[Any], as_json: bool) -> None:
    """`vigil doctor`: one line per check (vigil.doctor.render), or the checks as JSON."""
    if as_json:
        emit_json([c.as_dict() for c in results])
        return
    from vigil.doctor import render

    for line in render(results):
        click.echo(line)



def print_ping(result: Any, as_json: bool) -> None:
    """`vigil ping`: HELLO's fields (the models one per line: name and hash) and the round trips."""
    if as_json:
        emit_json(result.as_dict())
        return
    hello = result.hello.as_dict()
    table = Table(title=f"{result.hello.board} on {result.port}", show_header=False)
    for key, value in hello.items():
        if key == "models":
            width = max((len(m["name"]) for m in value), default=0)
            value = "\n".join(f"{m['name']:<{width}}  {m['hash']}" for m in value) or "none"
        table.add_row(key, str(value))
    table.add_row("round trip", ", ".join(f"{1000 * r:.2f} ms" for r in result.round_trips_s))
    stdout().print(table)


def monitor_view(totals: Any, port: str, log_path: Path) -> Group:
    table = Table(title=f"vigil monitor — {port} → {log_path}", show_header=True)
    table.add_column("what")
    table.add_column("count", justify="right")
    for name, n in sorted(totals.by_type.items()):
        table.add_row(name, str(n))
    table.add_row("[red]link errors[/]", str(totals.errors))
    stats = getattr(totals, "last_stats", None)
    if stats and stats.get("live_samples"):
        dropped = stats.get("live_dropped", 0)
        table.add_row("live samples", f"{stats['live_samples']} from the sources, "
                      + ("[green]none dropped[/]" if not dropped else f"[red]{dropped} dropped[/] (held in place)"))
    table.add_row("records logged", str(totals.records))
    table.add_row("elapsed", f"{time.monotonic() - totals.started:.1f} s")
    lines = [readable_line(r) for r in (totals.last_sleep, totals.last_stress) if r is not None and "readable" in r]
    if totals.last:
        lines.append("last: " + ", ".join(f"{k}={v}" for k, v in totals.last.items()
                                          if k not in ("t", "port", "readable")))
    return Group(table, *(Text(line, no_wrap=True, overflow="ellipsis") for line in lines))


def readable_line(record: dict) -> str:
    """A SLEEP or STRESS record as a person reads it (vigil.records.readable_*), one line."""
    h = record["readable"]
    if record["type"] == "SLEEP":
        probs = "  ".join(f"{c} {p:.2f}" for c, p in h["p"].items())
        return f"sleep epoch {record['epoch']}: {h['class']}  ({probs})  motion {record['motion']} milli-g"
    models = "  ".join(f"{m} {p:.2f}" for m, p in h["p_stress"].items())
    verdict = "ALERT" if h["alert"] else "no alert: " + ", ".join(h["conditions_failed"])
    return (f"stress segment {record['segment']}: P(stress) {h['p_weighted']:.2f} ({models}), "
            f"{h['decision']}, {verdict}")


class MonitorView:
    """`vigil monitor`'s live table on stderr, shown from the first update on; nothing when not enabled.
    Use it as the ``on_update`` of vigil.monitor.run_monitor, inside a ``with``."""

    def __init__(self, port: str, log_path: Path, enabled: bool = True) -> None:
        self.port, self.log_path, self.enabled = port, log_path, enabled
        self.live: Live | None = None

    def __enter__(self) -> MonitorView:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.live is not None:
            self.live.stop()

    def render(self, state: Any) -> Group:
        return monitor_view(state, self.port, self.log_path)

    def __call__(self, state: Any) -> None:
        if not self.enabled:
            return
        view = self.render(state)
        if self.live is None:
            self.live = Live(view, console=err, refresh_per_second=4)
            self.live.start(refresh=True)
        else:
            self.live.update(view)


def print_monitor_end(totals: Any, log_path: Path) -> None:
    err.print(f"{totals.records} records logged to {log_path}; link errors {totals.errors}; reboots {totals.reboots}")


def live_verify_view(verifier: Any, port: str) -> Group:
    """`vigil monitor --verify`'s live table: signal time, what has been checked, the first mismatch, drops."""
    out = verifier.outputs
    table = Table(title=f"vigil monitor --verify — {port} (live, raw tap)", show_header=False)
    table.add_row("signal", f"{verifier.signal_s / 60:.1f} min tapped, checked to {verifier.checked.signal_s / 60 if verifier.checked else 0:.1f} min")
    table.add_row("outputs", f"{len(out.features)} epoch features, {len(out.beats)} beats, {len(out.hrv)} HRV, "
                  f"{len(out.sleep)} SLEEP, {len(out.stress)} STRESS ({sum(r['alert'] for r in out.stress)} alerts)")
    if verifier.first_mismatch is None:
        table.add_row("twins", "[green]every output equal so far[/]")
    else:
        m = verifier.first_mismatch
        table.add_row("twins", f"[red]MISMATCH[/] at {verifier.first_mismatch_signal_s / 60:.1f} min: {m['stage']} window "
                      f"{m['window']}, {m['index']}: device {m['device']}, twin {m['twin']}")
    held, gaps = sum(verifier.held.values()), sum(g.missing for g in verifier.gaps)
    drops = "[green]none[/]" if not held else f"[yellow]{held} samples dropped by the sources, held in place[/]"
    if gaps:
        drops += f", [red]{gaps} samples of tap frames lost on the way[/]"
    table.add_row("drops", drops)
    table.add_row("device errors", str(len(out.errors)))
    return Group(table)


class LiveVerifyView(MonitorView):
    """The live table of `vigil monitor --verify` (vigil.live.run_live_verify's ``on_update``)."""

    def __init__(self, port: str, enabled: bool = True) -> None:
        super().__init__(port, Path("-"), enabled)

    def render(self, state: Any) -> Group:
        return live_verify_view(state, self.port)


def print_live_verify(report: dict, as_json: bool = False) -> None:
    """The end of `vigil monitor --verify`: the stages' table, where every sample went, the recording."""
    if as_json:
        emit_json(report)
        return
    sources = ("its sensors" if report["sources"] == "sensors"
               else f"the seeded wrist, seed {report['seed']}, speed {report['speed']}")  # fmt: skip
    table = Table(title=f"live session on {report['board']} ({sources}): "
                  f"{report['signal_s'] / 60:.1f} min of signal in {report['wall_s']:.0f} s")
    table.add_column("stage")
    table.add_column("windows", justify="right")
    table.add_column("mismatches", justify="right")
    table.add_column("first mismatch")
    for name, st in report["stages"].items():
        table.add_row(name, str(st["windows"]), str(st["mismatches"]), st["first_mismatch"] or "")
    stdout().print(table)
    samples = report["samples"]
    stdout().print(f"samples: {samples['accel']} accelerometer, {samples['ppg']} PPG tapped; the device's sources "
                   f"delivered {samples['device_delivered']}, dropped {report['dropped']} "
                   f"({'each held in its place' if report['drops_explained'] else 'NOT ALL ACCOUNTED FOR'}); "
                   f"sample CRC {'matches' if report['tap_crc_ok'] else 'DIFFERS'}")
    if report.get("first_mismatch_signal_s") is not None:
        stdout().print(f"first mismatch seen live at {report['first_mismatch_signal_s'] / 60:.1f} min of signal")
    if report.get("recording"):
        stdout().print(f"recording: {report['recording']} (vigil verify --port PORT --input {report['recording']})")
    stdout().print(f"{'OK' if report['ok'] else 'FAILED'}: every output equal to its twin, nothing lost"
                   if report["ok"] else "FAILED: see above")


# ---------------------------------------------------------------- link proofs


def print_linktest(report: dict, as_json: bool = False) -> None:
    if as_json:
        emit_json(report)
        return
    table = Table(title=f"link test — {report['hello']['board']} (boot {report['hello']['boot_id']})")
    table.add_column("check")
    table.add_column("result")
    table.add_column("figures")
    if "echo" in report:
        e = report["echo"]
        table.add_row("echo", PASS[e["ok"]], f"{e['replies']}/{e['frames']} replies in order, {e['mismatched']} "
                      f"mismatched, {e['round_trips_per_second']:.0f} round trips/s")
    if "replay" in report:
        r = report["replay"]
        crc = "match" if r["crc_device"] == r["crc_expected"] else "DIFFERS"
        table.add_row("sample replay", PASS[r["ok"]],
                      f"{r['bytes'] / 1e6:.2f} MB in {r['frames']} frames, "
                      f"{r['bytes'] / max(r['seconds'], 1e-9) / 1e3:.0f} kB/s; device counted {r['device_samples']} "
                      f"samples, CRC {crc}, {r['overflows']} overflows, queue high water "
                      f"{r['queue_high_water']}/{r['queue_slots']}")
    if "faults" in report:
        f = report["faults"]
        errs = ", ".join(f"{k} {v}" for k, v in f["device_errors"].items() if v)
        table.add_row("injected faults", PASS[f["ok"]],
                      f"{f['rounds']} damaged frames → device counted {errs}; gaps {f['device_gaps']} (predicted "
                      f"{f['predicted_gaps']}); {f['foreign_replies']} damaged frames delivered")
    s = report["device_stats"]
    table.add_row("device", "", f"stack high water {s['stack_high_water']} of {s['stack_size']} B, uptime "
                  f"{s['uptime_ms']} ms, {s['frames_rx']} frames in / {s['frames_tx']} out")
    stdout().print(table)
    click.echo("link test: " + ("PASSED" if report["ok"] else "FAILED"))


def print_demo(summary: dict, as_json: bool) -> None:
    """`vigil demo`'s closing output: the link proofs, the reset, each recording's verification, the report."""
    if as_json:
        emit_json(summary)
        return
    print_linktest(summary["link"])
    r = summary["link"]["reset"]
    click.echo(f"reset: boot id {r['before']} → {r['after']}, host counted {r['reboots']} reboot")
    for what, v in summary["verify"].items():
        print_verify(v, f"synthetic {what}")
    click.echo(f"report: {summary['report']}")


# ---------------------------------------------------------------- recordings through the device


def print_replay(result: dict, as_json: bool) -> None:
    if as_json:
        emit_json(result)
    else:
        click.echo(", ".join(f"{k} {' '.join(v) if k == 'csv' else v}" for k, v in result.items() if v or k != "csv"))


def print_verify(report: dict, name: str, as_json: bool = False) -> None:
    if as_json:
        emit_json(report)
        return
    table = Table(title=f"verify {name} on {report['board']}")
    for col in ("stage", "windows", "mismatches", "first mismatch"):
        table.add_column(col)
    for stage, r in report["stages"].items():
        table.add_row(stage, str(r["windows"]), str(r["mismatches"]), r["first_mismatch"] or "")
    stdout().print(table)
    if report["device_errors"]:
        click.echo(f"device errors: {', '.join(report['device_errors'])}")
    cost = report["cost"]
    if "total_instructions_per_second_of_signal" in cost:
        click.echo(f"all stages (DSP and models): {cost['total_instructions_per_second_of_signal']:,} instructions "
                   "per second of signal")
    for stage, per in (("sleep_cnn", "instructions_per_epoch"), ("stress", "instructions_per_segment")):
        if per in cost.get(stage, {}):
            click.echo(f"{stage}: {cost[stage][per]:,} {per.replace('_', ' ')}")
    click.echo(f"verify {name}: " + ("all outputs bit-exact" if report["ok"] else "MISMATCH"))


def print_synth(summary: dict) -> None:
    """`vigil synth`: what was written (vigil.data.convert.synthesize's summary)."""
    ppg = "" if summary["ppg_rate_hz"] is None else f", PPG {summary['ppg_rate_hz']} Hz"
    if summary["epochs"] is None:
        click.echo(f"wrote {summary['out']}: {summary['seconds']:g} s, accelerometer 50 Hz{ppg}")
    else:
        epochs = ", ".join(f"{k} {v}" for k, v in summary["epochs"].items())
        click.echo(f"wrote {summary['out']}: {summary['seconds']:g} s night, accelerometer 50 Hz{ppg}, epochs {epochs}")


def print_conversion(report: dict[str, Any], rec: Any, as_json: bool) -> None:
    """`vigil convert`: the recording written and how each channel was converted; warnings on stderr."""
    if as_json:
        emit_json(report)
        return
    conv = rec.meta.get("conversion", {})
    who = f", subject {report['subject']}" if report.get("subject") else ""
    click.echo(f"wrote {report['out']} ({report['format']}{who}): {report['duration_s']:.2f} s")
    accel = conv.get("accel", {})
    if report["accel_samples"]:
        click.echo(f"  accelerometer  {report['accel_rate_hz']} Hz, {report['accel_samples']} samples; "
                   f"{accel.get('resampling', 'as is')}; clipped {accel.get('clipped', 0)}")
    else:
        click.echo("  accelerometer  none")
    cal = conv.get("calibration")
    if cal:  # counts -> milli-g fitted on the recording itself (ICHI)
        click.echo(f"  calibration    {cal['method']} from {cal['still_windows']} still 1-s windows: offset "
                   f"{cal['offset_counts']} counts, gain {cal['gain_counts_per_g']} counts/g")
    ppg = conv.get("ppg", {})
    if report["ppg_samples"]:
        click.echo(f"  PPG            {report['ppg_rate_hz']} Hz, {report['ppg_samples']} samples; "
                   f"resampling {ppg.get('resampling', 'none')}; saturated {ppg.get('clipped', 0)}")
    else:
        click.echo("  PPG            none")
    if report["sleep_labels"]:
        counts = ", ".join(f"{k} {v}" for k, v in report["label_counts"].items())
        click.echo(f"  sleep labels   {report['sleep_labels']} epochs from {report['sleep_labels_start_s']:g} s: "
                   f"{counts}")
    if report.get("start_time"):
        click.echo(f"  start          {report['start_time']}")
    for message in report["warnings"]:
        click.echo(f"warning: {message}", err=True)


# ---------------------------------------------------------------- models for the device


def _figure(value: Any) -> str:
    return "—" if value is None else f"{value:,}" if isinstance(value, int) else str(value)


def print_engine_check(report: dict, model_name: str, as_json: bool) -> None:
    if as_json:
        emit_json(report)
        return
    table = Table(title=f"engine check {model_name} on {report['board']}", show_header=False)
    for key in ("mismatches", "samples", "arena_bytes", "weight_bytes", "flash_bytes", "macs",
                "instructions_per_inference", "instructions_per_mac"):
        table.add_row(key, _figure(report.get(key)))
    ms = report["ms_per_inference_at_clock"]
    table.add_row(f"ms at {report['clock_mhz']:g} MHz", "—" if ms is None else f"{ms:.3f}")
    table.add_row("ops", " → ".join(report["ops"]))
    stdout().print(table)
    verdict = "bit-exact with TFLM" if report["mismatches"] == 0 else f"MISMATCH {report['first_mismatch']}"
    click.echo("engine check: " + verdict)


def print_fuzz(summary: dict, as_json: bool) -> None:
    """`vigil engine fuzz`: statuses, coverage and each failing graph (vigil.engine_fuzz.FuzzReport.summary)."""
    if as_json:
        emit_json(summary)
        return
    last = summary["first_seed"] + summary["count"] - 1
    table = Table(title=f"engine fuzz: seeds {summary['first_seed']}..{last} on {summary['board']}", show_header=False)
    for status, n in summary["statuses"].items():
        table.add_row(status, f"{n:,}")
    table.add_row("outputs compared", f"{summary['outputs_compared']:,}")
    table.add_row("ops (graphs)", ", ".join(f"{k} {v}" for k, v in summary["graphs_with_op"].items()))
    table.add_row("paths (graphs)", ", ".join(f"{k} {v}" for k, v in summary["graphs_with_path"].items()))
    table.add_row("seconds", f"{summary['seconds']:g}")
    stdout().print(table)
    for f in summary["failures"]:
        click.echo(f"{f['name']}: {f['status']} {f['detail'] or f['first_mismatch']}")


def print_export_nn(entry: dict, name: str, out_dir: Path, as_json: bool) -> None:
    if as_json:
        emit_json(entry)
        return
    click.echo(f"{name}: {', '.join(str(f) for f in entry['files'])} in {out_dir}; arena {entry['arena_bytes']:,} B, "
               f"weights {entry['weight_bytes']:,} B, {entry['macs']:,} MACs")


def print_bundle_export(out_dir: Path, files: dict[str, bytes], stale: list[str], check: bool, as_json: bool) -> None:
    """`vigil export models`: the files written (or, with --check, those that differ) and the model hashes."""
    hashes = json.loads(files["manifest.json"])["hashes"]
    if as_json:
        emit_json({"out": str(out_dir), "check": check, "stale" if check else "written": stale, "hashes": hashes})
        return
    for rel in stale:
        click.echo(f"{'stale' if check else 'wrote'}: {out_dir / rel}")
    click.echo(f"{out_dir}: {len(files)} files, {len(stale)} {'stale' if check else 'changed'}; models "
               + ", ".join(f"{k} {v[:8]}" for k, v in hashes.items()))


# ---------------------------------------------------------------- training and evaluation


def print_sleep_metrics(report: dict, title: str) -> None:
    sw = report["sleep_wake"]
    folds = f"{report['folds']} folds, " if "folds" in report else ""
    table = Table(title=f"{title} ({folds}{report['seconds']} s): accuracy "
                  f"{report['accuracy']:.3f}, κ {report['kappa']:.3f}")
    for col in ("class", "precision", "sensitivity", "specificity", "F1"):
        table.add_column(col, justify="left" if col == "class" else "right")
    for name, m in report["classes"].items():
        table.add_row(name, *(f"{m[k]:.3f}" for k in ("precision", "sensitivity", "specificity", "f1")))
    stdout().print(table)
    click.echo(f"sleep/wake: accuracy {sw['accuracy']:.3f}, κ {sw['kappa']:.3f}, AUC {sw['auc']:.3f}, "
               f"wake correct at 90 % sleep correct {sw['wake_correct_at_90_sleep_correct']:.3f}")
    for name, ref in report.get("references", {}).items():
        auc = f", AUC {ref['auc']:.3f}" if "auc" in ref else ""
        click.echo(f"  same folds, {name.replace('_', ' ')}: sleep/wake accuracy {ref['accuracy']:.3f}, "
                   f"κ {ref['kappa']:.3f}{auc}")


def print_night_table(report: dict) -> None:
    """Per night: the model's agreement with the PSG and total sleep time, sleep-onset latency and WASO."""
    mean = report["tst_error_min_mean"]
    table = Table(title=f"per night ({report['nights']}): predicted vs PSG, minutes"
                  + (f"; mean |TST error| {mean:.1f} min" if mean is not None else ""))
    for col in ("night", "epochs", "accuracy", "κ", "TST", "TST PSG", "SOL", "SOL PSG", "WASO", "WASO PSG", "SE",
                "SE PSG"):
        table.add_column(col, justify="left" if col == "night" else "right")
    fmt = lambda v: "–" if v is None else f"{v:.0f}" if isinstance(v, (int, float)) and abs(v) >= 2 else f"{v:.2f}"  # noqa: E731
    for n in report["per_night"]:
        pred, psg = n["predicted"], n["psg"]
        cells = [n["night"], str(n["epochs_scored"]), f"{n['accuracy']:.3f}", f"{n['kappa']:.3f}"]
        for key in ("tst_min", "sleep_onset_latency_min", "waso_min", "sleep_efficiency"):
            cells += [fmt(pred[key]), fmt(psg[key])]
        table.add_row(*cells)
    stdout().print(table)


def print_stress_metrics(report: dict, title: str) -> None:
    table = Table(title=f"{title} ({report['folds']} folds, {report['seconds']} s)")
    for col in ("model", "accuracy", "precision", "sensitivity", "specificity", "F1"):
        table.add_column(col, justify="left" if col == "model" else "right", no_wrap=col == "model")
    for name, m in report["models"].items():
        table.add_row(name, *(f"{m[k]:.3f}" for k in ("accuracy", "precision", "sensitivity", "specificity", "f1")))
    beside = report.get("beside")
    if beside:
        table.add_section()
        for name, m in beside["models"].items():
            table.add_row(f"{beside['protocol']}: {name}",
                          *(f"{m[k]:.3f}" for k in ("accuracy", "precision", "sensitivity", "specificity", "f1")))
    reference = report.get("proposal_reference")
    if reference:
        table.add_section()
        for name, accuracy in reference["accuracy"].items():
            table.add_row(f"proposal: {name}", f"{accuracy:.3f}", "", "", "", "0.77–0.78" if "vote" in name else "")
    stdout().print(table)


def _pct(v: float | None) -> str:
    return "—" if v is None else f"{100 * v:.0f} %"


def print_stress_data_evaluation(report: dict, title: str) -> None:
    """`vigil evaluate STRESS --data`: per model and consensus on the classified minutes, coverage, alerts, subjects."""
    table = Table(title=f"{title} ({report['seconds']} s)")
    for col in ("model", "minutes", "accuracy", "precision", "sensitivity", "specificity", "F1"):
        table.add_column(col, justify="left" if col == "model" else "right", no_wrap=col == "model")
    for name, m in report["models"].items():
        table.add_row(name, str(m["n"]),
                      *(f"{m[k]:.3f}" for k in ("accuracy", "precision", "sensitivity", "specificity", "f1")))
    stdout().print(table)
    by = report["coverage_by_condition"]
    alerts = report["alerts"]
    click.echo(f"coverage: {report['minutes_classified']} of {report['minutes_labelled']} labelled minutes classified "
               f"({_pct(report['coverage'])}; base {_pct(by['base'])}, TSST {_pct(by['tsst'])}); the rest had "
               "invalid features or no record")
    click.echo(f"alerts: {alerts['count']} ({alerts['true']} in TSST: precision {_pct(alerts['precision'])}), "
               f"{_pct(alerts['sensitivity'])} of TSST minutes alerted")
    subjects = Table(title="per subject")
    for col in ("subject", "protocol from", "labelled", "classified", "consensus accuracy", "alerts (in TSST)"):
        subjects.add_column(col, justify="left" if col == "subject" else "right")
    for r in report["per_subject"]:
        acc = "—" if r["consensus_accuracy"] is None else f"{r['consensus_accuracy']:.3f}"
        tap = r.get("sync_tap_s")
        start = "E4 start (no tap)" if tap is None else f"tap at {tap / 60:.1f} min"
        subjects.add_row(r["subject"], start, str(r["minutes_labelled"]), str(r["minutes_classified"]), acc,
                         f"{r['alerts']} ({r['alerts_true']})")
    stdout().print(subjects)


def print_stress_training(manifest: dict, metrics: dict, out_dir: Path, as_json: bool) -> None:
    """`vigil train stress`: the evaluation's table and the files written (or the manifest as JSON)."""
    if as_json:
        emit_json(manifest)
        return
    print_stress_metrics(metrics, f"stress trio on {manifest['rows']} segments — {manifest['settings']['protocol']}")
    click.echo(f"wrote {', '.join(manifest['files'])} and manifest.json to {out_dir}")


def print_sleep_training(manifest: dict, metrics: dict, out_dir: Path, as_json: bool) -> None:
    """`vigil train sleep`: the held-out-subject table and the files written (or the manifest as JSON)."""
    if as_json:
        emit_json(manifest)
        return
    settings = manifest["settings"]
    arch = manifest.get("arch", "seed CNN")
    print_sleep_metrics(metrics["evaluation"], f"sleep {arch} on {manifest['epochs_scored']} epochs of "
                        f"{len(manifest['subjects'])} subjects — {settings['protocol']}")
    click.echo(f"wrote {', '.join(manifest['files'])} and manifest.json to {out_dir} in {settings['seconds']:g} s")


def print_evaluation(evaluation: Any, model_dir: Path, as_json: bool) -> None:
    """`vigil evaluate`: the sleep or stress table of vigil.ml.stress_io.evaluate_folder's result."""
    if as_json:
        emit_json(evaluation.report)
    elif evaluation.kind == "sleep-data":
        print_sleep_metrics(evaluation.report, f"{model_dir.name} ({evaluation.report['arch']}) on "
                            f"{evaluation.report['data']}: {evaluation.report['n']} scored epochs, as the device")
        print_night_table(evaluation.report)
    elif evaluation.kind == "sleep":
        print_sleep_metrics(evaluation.report, f"{model_dir.name}: {evaluation.size} epochs — {evaluation.protocol}")
    elif evaluation.kind == "stress-data":
        print_stress_data_evaluation(evaluation.report, f"{model_dir} on {evaluation.report['data']} "
                                     f"({len(evaluation.report['subjects'])} subjects), as the device")
    else:
        print_stress_metrics(evaluation.report, f"{model_dir.name}: {evaluation.size} segments — "
                             f"{evaluation.protocol}")


# ---------------------------------------------------------------- report


def print_metrics_table(table: Any) -> None:
    t = Table(title=table.title)
    for col in ("model", "accuracy", "precision", "sensitivity", "specificity", "F1", "κ", "AUC"):
        t.add_column(col, justify="left" if col == "model" else "right")
    for r in table.rows:
        cells = [r.accuracy, r.precision, r.sensitivity, r.specificity, r.f1, r.kappa, r.auc]
        t.add_row(r.name, *("—" if v is None else f"{v:.3f}" for v in cells))
    stdout().print(t)


def print_report(data: Any, written: Any, as_json: bool) -> None:
    """`vigil report`: what was left out and why, the metrics tables, the page written (or its summary as JSON)."""
    if as_json:
        emit_json({"index": str(written.index), **written.summary})
        return
    for section, why in data.missing.items():
        err.print(f"[yellow]left out[/] {section}: {why}")
    for table in data.metrics:
        print_metrics_table(table)
    click.echo(f"wrote {written.index} and {len(written.figures)} figures")


# ---------------------------------------------------------------- exploration


def print_exploration(report: dict, as_json: bool) -> None:
    """`vigil explore sleep`: the clusters x PSG stages table, purity, adjusted Rand index, notes (or JSON)."""
    if as_json:
        emit_json(report)
        return
    sub = report["subsample"]
    what = f"{report['epochs_clustered']:,} scored epochs" + (f" (a seeded sample of {sub['of']:,})" if sub else "")
    table = Table(title=f"{report['method']} on {report['features']} features ({report['feature_count']}, "
                  f"standardized): {what} of {report['nights']} nights vs PSG")
    for col in ("cluster", *report["stages"], "epochs", "majority", "its share"):
        table.add_column(col, justify="left" if col == "cluster" else "right")
    stages = [s.lower() for s in report["stages"]]
    for r in report["table"]:
        share = max(r[s] for s in stages) / max(r["total"], 1)
        table.add_row(r["cluster"], *(f"{r[s]:,}" for s in stages), f"{r['total']:,}", r["majority"], f"{share:.2f}")
    stdout().print(table)
    click.echo(f"purity {report['purity']:.3f} (every epoch its largest stage: {report['largest_stage_share']:.3f}), "
               f"adjusted Rand index {report['adjusted_rand_index']:.3f} (0 chance, 1 the PSG's stages)")
    if report["noise"]:
        click.echo(f"OPTICS left {report['noise']:,} epochs in no cluster (row 'noise', counted as one cluster)")
    if report.get("pca_components"):
        click.echo(f"OPTICS clustered the features' first {report['pca_components']} principal components")
    if report.get("plot"):
        click.echo(f"wrote {report['plot']}")
