"""The `vigil` command line: each command parses its options, calls one library function, prints (vigil.console)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Callable

import click

import vigil.console as ui
from vigil import __version__
from vigil.data.convert import convert, synthesize
from vigil.data.difficulty import DIFFICULTIES
from vigil.device import board as boards
from vigil.device import linkcheck
from vigil.device.port import resolve_port
from vigil.doctor import checks
from vigil.explore import explore

BOARD_CHOICE = click.Choice(sorted(boards.BOARDS))
FILE = click.Path(exists=True, dir_okay=False, path_type=Path)
FOLDER = click.Path(exists=True, file_okay=False, path_type=Path)
NEW_FILE = click.Path(dir_okay=False, path_type=Path)
NEW_FOLDER = click.Path(file_okay=False, path_type=Path)
SETTINGS = {"help_option_names": ["-h", "--help"], "max_content_width": 100, "show_default": True}
DIFFICULTY = click.Choice(DIFFICULTIES)
PORT = click.option("--port", envvar="VIGIL_PORT", callback=lambda _c, _p, v: resolve_port(v), show_envvar=True,
                    help="Serial port (/dev/pts/3, /dev/ttyACM0) or a running board's name (vwrist, native).")


def exit_unless(ok: bool) -> None:
    if not ok:
        sys.exit(1)


@click.group(cls=ui.OneLineErrors, context_settings=SETTINGS)
@click.version_option(__version__, prog_name="vigil")
def cli() -> None:
    """vigil: on-device sleep and stress monitoring, proven bit-exact against Python twins.

    \b
    Ready?                   vigil doctor
    Boards on this machine:  vigil board start --board vwrist   (then --port vwrist, or a device path)
    Talk to it, watch it:    vigil ping --port vwrist;  vigil monitor --port vwrist --out night.jsonl
    Train, build the set:    vigil train sleep|stress --data PATH|synthetic --out DIR;  vigil export models
    On nights it never saw:  vigil evaluate DIR --data PATH --from ichi|walch [--json]
    Prove every output:      vigil verify --port vwrist --input session.vrec
    See it:                  vigil report --out R --night night.vrec --stress-session s.vrec
    All of it, built in:     vigil demo
    """


engine_group = click.Group("engine", help="vigil's int8 engine: check a model on a board before flashing it.")
export_group = click.Group("export", help="Convert trained models into what the firmware carries.")
train_group = click.Group("train", help="Train models on real or synthetic data.")
for group in (engine_group, export_group, train_group, convert, explore):
    cli.add_command(group)


@cli.group()
def board() -> None:
    """Start, stop and list the boards that run on this machine (native, vwrist, f405).

    \b
    native  the firmware as a host program; its serial port is a pseudo-terminal
    vwrist  the virtual wrist board: the Cortex-M4F firmware on QEMU mps2-an386
    f405    the STM32F405 port on QEMU netduinoplus2 (the image a real F405 runs)
    """


@board.command("start")
@click.option("--board", "name", type=BOARD_CHOICE, default="vwrist", help="Which board.")
@click.option("--no-build", is_flag=True, help="Do not (re)build the firmware, even if a source changed.")
@click.option("--json", "as_json", is_flag=True, help="Print the board's record as JSON.")
def board_start(name: str, no_build: bool, as_json: bool) -> None:
    """Build the firmware if needed, start the board in the background (until `vigil board stop`), print its port."""
    ui.print_board_started(*boards.start_detached(name, build=not no_build), as_json)


@board.command("stop")
@click.option("--board", "name", type=BOARD_CHOICE, default=None, help="Only this board (default: all).")
def board_stop(name: str | None) -> None:
    """Stop boards started with `vigil board start`."""
    ui.print_boards_stopped(boards.stop_detached(name))


@board.command("list")
@click.option("--json", "as_json", is_flag=True, help="JSON output.")
def board_list(as_json: bool) -> None:
    """The boards running in the background."""
    ui.print_boards(boards.running_detached(), as_json)


@cli.command("flash")
@click.option("-e", "--environment", "env", required=True,
              help="PlatformIO environment: native, vwrist, f405 (here), nano33ble or another real board.")
@click.option("--port", default=None, help="Upload port for a real board (stm32flash, bossac, PlatformIO).")
@click.option("--hardware", is_flag=True, help="f405: upload to a real STM32F405 instead of starting it on QEMU.")
@click.option("--uploader", type=click.Choice(["dfu-util", "stm32flash", "openocd", "bossac"]), default=None,
              help="The tool for a real f405 or nano33ble (default: the first installed that can reach it).")
def flash_cmd(env: str, port: str | None, hardware: bool, uploader: str | None) -> None:
    """Build and start or upload a board. native, vwrist and f405 start here, in the background (like `vigil board
    start`). A real f405 (--hardware) or nano33ble is uploaded with dfu-util, stm32flash, openocd or bossac, whichever
    is installed (docs/boards.md); other environments with PlatformIO (build and upload)."""
    ui.print_flashed(boards.flash_board(env, port, hardware, uploader))


@cli.command()
@PORT
@click.option("--count", default=3, help="Pings to send.")
@click.option("--timeout", default=5.0, help="Seconds to wait for each answer.")
@click.option("--json", "as_json", is_flag=True, help="Print HELLO and timings as JSON.")
def ping(port: str, count: int, timeout: float, as_json: bool) -> None:
    """Ask a device who it is (HELLO) and measure round trips (PING/PONG)."""
    ui.print_ping(linkcheck.ping(port, count, timeout), as_json)


@cli.command()
@PORT
@click.option("--out", "out", required=True, type=NEW_FILE, help="JSON Lines log (appended).")
@click.option("--duration", type=float, default=None, help="Stop after this many seconds (default: until Ctrl-C).")
@click.option("--stats-every", type=float, default=0.0, help="Also request device STATS every S seconds (0: never).")
@click.option("--no-hello", is_flag=True, help="Do not ask the device to announce itself first.")
@click.option("--quiet", is_flag=True, help="No live view; only the log and a final line.")
@click.option("--live", is_flag=True, help="Put the device in live mode: it samples its own sources (the seeded wrist "
              "on boards without sensors) on its own clock; back to host samples at the end.")
@click.option("--verify", is_flag=True, help="Live mode with the raw tap: every output is checked against the twins "
              "as it streams (the first mismatch is shown at once), the session is checked whole at the end, and "
              "its samples are kept as a recording (--rec). Exit 1 on a mismatch or an unexplained drop.")
@click.option("--seed", type=int, default=0, help="Live mode: the seeded wrist's seed (the same seed, the same signal "
              "on every board).")
@click.option("--speed", type=click.IntRange(1, 1000), default=1, help="Live mode: the seeded wrist's clock, in "
              "multiples of the board's (60: an hour of signal in a minute).")
@click.option("--sensors", is_flag=True, help="Live mode on the board's own sensors (a Nano 33 BLE Sense's LSM9DS1 "
              "and a MAX3010x on its header, at --ppg-rate 100) instead of the seeded wrist; --seed and --speed "
              "are then unused. A board without sensors refuses in one line.")
@click.option("--signal-seconds", type=float, default=None, help="--verify: stop after this much signal.")
@click.option("--ppg-rate", type=int, default=64, help="Live mode: the PPG rate (Hz).")
@click.option("--rec", "rec", type=NEW_FILE, default=None, help="--verify: the session's .vrec (default: OUT with "
              "the suffix .vrec), for `vigil verify` to replay later.")
@click.option("--json", "as_json", is_flag=True, help="--verify: print the report as JSON.")
def monitor(port: str, out: Path, duration: float | None, stats_every: float, no_hello: bool, quiet: bool, live: bool,
            verify: bool, seed: int, speed: int, sensors: bool, signal_seconds: float | None, ppg_rate: int,
            rec: Path | None, as_json: bool) -> None:
    """Show what the device streams, live (sleep classes, stress probabilities, alerts and the conditions that
    failed), and log every frame and link error to OUT, one JSON line each as it arrives.

    \b
    Live mode, checked as it streams (the seeded wrist at 60 times real time, 30 minutes of signal):
      vigil monitor --port vwrist --out live.jsonl --verify --speed 60 --signal-seconds 1800
      vigil verify --port vwrist --input live.vrec  # the same session replayed later
    On a board with sensors (the wearer's own signal):
      vigil monitor --port /dev/ttyUSB0 --out wrist.jsonl --verify --sensors --ppg-rate 100 --duration 600"""
    from vigil.live import LiveSettings, verify_live
    from vigil.monitor import run_monitor

    settings = LiveSettings(seed=seed, speed=speed, ppg_rate_hz=ppg_rate, signal_s=signal_seconds, duration_s=duration,
                            sensors=sensors)
    if sensors and not (live or verify):
        raise click.UsageError("--sensors is a live mode setting: add --live or --verify")
    if verify:
        if signal_seconds is None and duration is None and not sys.stdin.isatty():
            raise click.UsageError("--verify without a terminal needs --signal-seconds or --duration to end")
        rec = rec or out.with_suffix(".vrec")
        with ui.LiveVerifyView(port, enabled=not quiet and not as_json) as view:
            report = verify_live(port, settings, rec, log=out, on_update=view)
        ui.print_live_verify(report, as_json)
        exit_unless(report["ok"])
        return
    with ui.MonitorView(port, out, enabled=not quiet) as view:
        totals = run_monitor(port, out, duration, stats_every, hello=not no_hello, on_update=view,
                             live=settings if live else None)
    ui.print_monitor_end(totals, out)


def linktest_options(f: Callable) -> Callable:
    for option in (click.option("--json", "as_json", is_flag=True, help="Print the full report as JSON."),
                   click.option("--faults", default=120, help="Damaged frames to inject (0: skip)."),
                   click.option("--replay-bytes", default=1_000_000, help="Sample bytes to replay (0: skip)."),
                   click.option("--echo", default=10_000, help="Echo frames to send (0: skip).")):
        f = option(f)
    return f


@cli.command()
@PORT
@linktest_options
def linktest(port: str, echo: int, replay_bytes: int, faults: int, as_json: bool) -> None:
    """Prove the link loses nothing: echo frames (all back, in order), replay samples under flow control (device CRC
    equals ours), inject faults (each counted, none delivered). Exit status 1 if any check fails."""
    report = ui.with_progress(as_json, linkcheck.linktest, port, echo, replay_bytes, faults)
    ui.print_linktest(report, as_json)
    exit_unless(report["ok"])


@cli.command()
@click.option("--board", "name", type=BOARD_CHOICE, default="vwrist", help="Board to run on.")
@click.option("--out", "out_dir", type=NEW_FOLDER, default=Path("build/demo"), help="Where everything goes.")
@click.option("--skip-training", is_flag=True, help="Use the committed models/ (no training, no export): same proofs.")
@click.option("--night-hours", type=float, default=1.5, help="The synthetic night replayed (vwrist: ~1.5 min/hour).")
@linktest_options
def demo(name: str, out_dir: Path, skip_training: bool, night_hours: float, echo: int, replay_bytes: int,
         faults: int, as_json: bool) -> None:
    """The built-in demo (`make demo`): train both models on synthetic data, export them, build and boot the board,
    prove the link, replay a night and stress sessions of unseen people (live), verify every output bit-exact,
    write OUT/report/index.html. Exit status 0 only if every proof passed."""
    from vigil.demo import DemoSettings, run_demo
    settings = DemoSettings(out=out_dir, board=name, train=not skip_training, night_hours=night_hours)
    summary = run_demo(settings, echo, replay_bytes, faults, quiet=as_json, show_progress=ui.show_progress(as_json))
    ui.print_demo(summary, as_json)
    exit_unless(summary["ok"])


@cli.command()
@PORT
@click.option("--input", "input_path", required=True, type=FILE, help="Recording (.vrec, see `vigil convert`).")
@click.option("--out", type=NEW_FILE, default=None, help="Also log every frame the device sends as JSON Lines.")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON summary.")
@click.option("--any-models", is_flag=True, help="Replay even if the device's models (HELLO) are not models/'s.")
@click.option("--csv", "csv_stem", type=NEW_FILE, help="Also write CSV.sleep.csv (epochs), CSV.stress.csv (segments).")
def replay(port: str, input_path: Path, out: Path | None, as_json: bool, any_models: bool, csv_stem: Path | None
           ) -> None:
    """Stream a recording into the device (flow controlled: nothing is lost at any link speed) and collect what it
    computes: spectrogram columns, epoch images, beats, HRV, SLEEP and STRESS records (alerts and their reasons).
    Refuses a device whose models differ from models/ ($VIGIL_MODELS_DIR) unless --any-models."""
    from vigil.replay import replay_recording
    result = ui.with_progress(as_json, replay_recording, port, input_path, out, any_models, csv_stem=csv_stem)
    ui.print_replay(result, as_json)


@cli.command()
@PORT
@click.option("--input", "input_path", required=True, type=FILE, help="Recording (.vrec: `vigil convert`, `synth`).")
@click.option("--json", "as_json", is_flag=True, help="Per stage: windows compared and mismatches, and costs.")
def verify(port: str, input_path: Path, as_json: bool) -> None:
    """Replay a recording into the device and prove every output equals the Python twin, integer for integer (DSP
    stages, sleep CNN, stress models, consensus, alert and reasons); the first differing window is named. The
    device must carry models/ ($VIGIL_MODELS_DIR; HELLO's hashes first). Exit 0 only when every window matches."""
    from vigil.verify import verify_file
    report = ui.with_progress(as_json, verify_file, port, input_path)
    ui.print_verify(report, input_path.name, as_json)
    exit_unless(report["ok"])


@cli.command()
@click.option("--out", required=True, type=NEW_FILE, help="Recording to write (.vrec).")
@click.option("--seconds", type=float, default=600.0, help="Length of the session.")
@click.option("--seed", type=int, default=1, help="Random seed (same seed, same recording).")
@click.option("--ppg-rate", type=click.Choice(["none", "64", "100", "128"]), default="64",
              help="PPG sample rate in Hz, or none for an accelerometer-only recording.")
@click.option("--stress", type=float, default=0.0, help="0 relaxed … 1 acute stress (heart rate, HRV).")
@click.option("--difficulty", type=DIFFICULTY, default="typical",
              help="PPG noise and motion artifacts; with --night also how much the sleep stages overlap.")
@click.option("--night", is_flag=True, help="A labelled night instead (wake / NREM / REM per 30-s epoch, --hours).")
@click.option("--hours", type=float, default=8.0, help="With --night: hours in bed.")
@click.option("--activity", type=click.Choice(["resting", "seated", "walking"]), default="resting",
              help="Resting (looks asleep), seated (awake, fidgeting: what the alert is for), walking (blocks it).")
def synth(out: Path, seconds: float, seed: int, ppg_rate: str, stress: float, difficulty: str, night: bool,
          hours: float, activity: str) -> None:
    """Write a built-in synthetic session (wrist accelerometer + PPG) as a recording, or with --night a labelled
    night in bed, e.g. `vigil synth --activity seated --stress 1 --seconds 720 --out stressed.vrec`."""
    rate = None if ppg_rate == "none" else int(ppg_rate)
    ui.print_synth(synthesize(out, seconds, seed, rate, stress, difficulty, activity, hours if night else None))


@engine_group.command("check")
@click.argument("model", type=FILE)
@click.option("--board", "name", type=BOARD_CHOICE, default="native", help="Board to run on.")
@click.option("--samples", default=20, help="Inputs to run: edge values first, then random.")
@click.option("--seed", default=0, help="Seed of the random inputs.")
@click.option("--clock-mhz", type=float, default=64.0, help="Clock to state ms at (vwrist: one instruction a cycle).")
@click.option("--json", "as_json", is_flag=True, help="The report as JSON (mismatches, bytes, instructions, ms).")
def engine_check_cmd(model: Path, name: str, samples: int, seed: int, clock_mhz: float, as_json: bool) -> None:
    """Compile MODEL (an int8 .tflite) for the engine, build a firmware carrying it, run SAMPLES inputs on the board
    and through TFLM: mismatches (must be 0), arena and flash bytes; on vwrist instructions per inference and per
    MAC, and ms at --clock-mhz (an estimate: some instructions take more than a cycle). Exit 1 on any mismatch."""
    from vigil.engine import engine_check
    report = ui.with_bar(as_json, "inferences", samples, engine_check, model.read_bytes(), name, samples, seed,
                         clock_mhz=clock_mhz)
    ui.print_engine_check(report, model.name, as_json)
    exit_unless(report["mismatches"] == 0)


@engine_group.command("fuzz")
@click.option("--seed", "first_seed", default=0, help="First graph seed (graphs SEED .. SEED+COUNT-1).")
@click.option("--count", default=200, help="Graphs to draw and check.")
@click.option("--board", "name", type=BOARD_CHOICE, default="native", help="Board to run on.")
@click.option("--samples", default=3, help="Inputs per graph (calibrated, uniform, extremes).")
@click.option("--batch", default=40, help="Graphs per firmware build (1-255).")
@click.option("--jobs", default=2, help="Processes converting graphs while the board runs.")
@click.option("--keep", "keep_dir", type=NEW_FOLDER, help="Write each failing graph here (gSEED.tflite, gSEED.txt).")
@click.option("--json", "as_json", is_flag=True, help="The summary as JSON (statuses, op and path coverage, failures).")
def engine_fuzz_cmd(first_seed: int, count: int, name: str, samples: int, batch: int, jobs: int,
                    keep_dir: Path | None, as_json: bool) -> None:
    """Draw COUNT random int8 models in the engine's op set (same seed, same graphs), convert each with the TFLite
    converter, check every output on the board against TFLM. Exit 1 if a graph is refused, fails or mismatches;
    replay one kept with --keep: `vigil engine check KEEP/gSEED.tflite`."""
    from vigil.engine_fuzz import run_fuzz
    report = ui.with_bar(as_json, "graphs", count, run_fuzz, first_seed, count, name, samples, batch, jobs, keep_dir)
    ui.print_fuzz(report.summary(), as_json)
    exit_unless(not report.failures)


@export_group.command("nn")
@click.argument("model", type=FILE)
@click.option("--name", required=True, help="C identifier for the model (e.g. sleep_cnn).")
@click.option("--out", "out_dir", required=True, type=NEW_FOLDER, help="Output folder.")
@click.option("--json", "as_json", is_flag=True, help="Print the manifest entry as JSON.")
def export_nn(model: Path, name: str, out_dir: Path, as_json: bool) -> None:
    """Compile an int8 .tflite for the engine: NAME.tflite, NAME_tflite.h (TFLM's array), NAME_plan.h (weights,
    requantization, ops, arena) and an entry in OUT/manifest.json. An op outside the engine's set is named, refused."""
    from vigil.export.headers import export_to_folder
    ui.print_export_nn(export_to_folder(model.read_bytes(), name, out_dir), name, out_dir, as_json)


@export_group.command("models")
@click.option("--sleep", "sleep_dir", type=FOLDER, default=None, help="Sleep training folder (default: OUT/sleep).")
@click.option("--stress", "stress_dir", type=FOLDER, default=None, help="Stress training folder (default: OUT/stress).")
@click.option("--out", "out_dir", default="models", type=NEW_FOLDER, help="The models folder the firmware uses.")
@click.option("--alert-probability", type=float, default=None,
              help="Alert threshold on the weighted P(stress) (default: OUT/manifest.json's, else 0.6).")
@click.option("--motion-limit", type=int, default=None,
              help="Largest motion level (milli-g) still 'little motion' (default: OUT/manifest.json's, else 30).")
@click.option("--sustain", "sustain_lookback", type=click.IntRange(0, 255), default=None,
              help="The alert also needs the trio's stress in one of this many minutes before (0: one minute alerts; "
              "default: OUT/manifest.json's, else 2).")
@click.option("--check", is_flag=True, help="Regenerate in memory only; exit 1 if any file of OUT differs.")
@click.option("--json", "as_json", is_flag=True, help="Print the stale/written files and model hashes as JSON.")
def export_models(sleep_dir: Path | None, stress_dir: Path | None, out_dir: Path, alert_probability: float | None,
                  motion_limit: int | None, sustain_lookback: int | None, check: bool, as_json: bool) -> None:
    """Build the device's models folder from a sleep and a stress training folder: their files with model cards,
    the C headers the firmware includes (OUT/firmware, with the hashes HELLO announces) and OUT/manifest.json.
    Without --sleep/--stress it regenerates OUT from its own copies (`vigil export models --check`: the committed
    models/ is what the generator makes). Build against another folder with VIGIL_MODELS_DIR=DIR."""
    from vigil.bundle.model_bundle import export_bundle
    files, stale = export_bundle(out_dir, sleep_dir, stress_dir, alert_probability, motion_limit, check,
                                 sustain_lookback)
    ui.print_bundle_export(out_dir, files, stale, check, as_json)
    exit_unless(not (check and stale))


@train_group.command("stress")
@click.option("--data", required=True, help="An HRV-feature CSV, a WESAD folder (a subject's or the root) or "
              "'synthetic' (PPG sessions through the twin).")
@click.option("--from", "data_format", type=click.Choice(["hrv-csv", "wesad", "synthetic"]), default=None,
              help="Data format (default: detected). WESAD: Base = relax, TSST = stress, from the wrist BVP.")
@click.option("--layout", type=click.Choice(["potgieter", "potgieter-new", "header"]), help="HRV CSV layout.")
@click.option("--difficulty", type=DIFFICULTY, default="moderate", help="Synthetic data only.")
@click.option("--protocol", type=click.Choice(["kfold20", "blocks", "loso"]), default="blocks",
              help="Evaluation protocol for metrics.json.")
@click.option("--seed", default=0, help="Seed of the splits, the models and synthetic data.")
@click.option("--nn-epochs", default=120, help="Training epochs of the stress MLP.")
@click.option("--inputs", type=click.Choice(["raw", "baseline"]), default=None,
              help="What the models read: the features as they are, or relative to the wearer's own running baseline "
                   "(as the device computes it; WESAD only, and its default).")
@click.option("--out", "out_dir", required=True, type=NEW_FOLDER, help="Output folder.")
@click.option("--json", "as_json", is_flag=True, help="Print the manifest as JSON.")
def train_stress(data: str, data_format: str | None, layout: str | None, difficulty: str, protocol: str, seed: int,
                 nn_epochs: int, inputs: str | None, out_dir: Path, as_json: bool) -> None:
    """Train the stress trio (decision tree, RBF SVM, int8 MLP) and its consensus weights on all of the data,
    evaluate them with PROTOCOL, and write models, scaler, weights, metrics.json and manifest.json to OUT."""
    from vigil.ml.stress_io import train_stress_source
    manifest, metrics = ui.with_progress(as_json, train_stress_source, data, out_dir, data_format, layout, difficulty,
                                         protocol, seed, nn_epochs, inputs=inputs)
    ui.print_stress_training(manifest, metrics, out_dir, as_json)


@train_group.command("sleep")
@click.option("--data", required=True, help="'synthetic' (built-in nights), a Walch sleep-accel or ICHI folder / file.")
@click.option("--from", "data_format", type=click.Choice(["walch", "ichi", "synthetic"]), default=None,
              help="Data format (default: detected; a folder of p*.npy nights is ichi, else walch).")
@click.option("--subjects", type=int, default=None, help="Synthetic: people (default 8); else the first N (all).")
@click.option("--hours", type=float, default=8.0, help="Synthetic only: hours in bed per night.")
@click.option("--difficulty", type=DIFFICULTY, default="moderate", help="Synthetic only: how much stages overlap.")
@click.option("--arch", type=click.Choice(["context", "seed"]), default="context", help="context: 27 min of features.")
@click.option("--protocol", type=click.Choice(["loso", "lso5"]), default="lso5", help="Held-out subjects per fold.")
@click.option("--epochs", type=int, default=None, help="Training epochs per model, the best kept (context 60, seed 8).")
@click.option("--seed", default=0, help="Seed of the synthetic people, splits and training.")
@click.option("--out", "out_dir", required=True, type=NEW_FOLDER, help="Output folder.")
@click.option("--json", "as_json", is_flag=True, help="Print the manifest as JSON.")
def train_sleep(data: str, data_format: str | None, subjects: int | None, hours: float, difficulty: str, arch: str,
                protocol: str, epochs: int | None, seed: int, out_dir: Path, as_json: bool) -> None:
    """Train the sleep model (wake / NREM / REM from the twin's inputs), evaluate it by held-out subjects through the
    int8 model (TFLM; beside van Hees and a random forest), fit it on all subjects, write it with its metrics to OUT.

    \b
    Example: vigil train sleep --data ../shared/data/ichi2014_train --from ichi --out build/sleep-ichi"""
    from vigil.ml.sleep_io import train_sleep_source
    manifest, metrics = ui.with_progress(as_json, train_sleep_source, data, out_dir, data_format, subjects, hours,
                                         difficulty, protocol, epochs, seed, arch=arch)
    ui.print_sleep_training(manifest, metrics, out_dir, as_json)


@cli.command("evaluate")
@click.argument("model_dir", type=FOLDER)
@click.option("--protocol", type=click.Choice(["kfold20", "blocks", "loso", "lso5"]), default=None,
              help="Default: the training's. Stress: kfold20, blocks, loso; sleep: loso, lso5.")
@click.option("--data", default=None,
              help="Score the model on recordings it never saw: sleep Walch/ICHI nights, stress WESAD subjects.")
@click.option("--from", "data_format", type=click.Choice(["walch", "ichi", "wesad"]), default=None,
              help="--data's format.")
@click.option("--json", "as_json", is_flag=True, help="The full report as JSON (per fold / per night too).")
def evaluate_cmd(model_dir: Path, protocol: str | None, data: str | None, data_format: str | None,
                 as_json: bool) -> None:
    """Without --data, re-run a protocol on the data in MODEL_DIR's manifest. With --data, score the model on new
    recordings as the device would (twins + int8 models in TFLM): sleep κ, AUC, per night TST, SOL, WASO vs PSG;
    stress (models/, models/stress or a stress training folder; WESAD Base vs TSST minutes) per model and consensus
    accuracy, F1, precision, sensitivity, specificity, alert precision and coverage (minutes classified).

    \b
    Example: vigil evaluate models/stress --data ../shared/data/wesad_wrist_train --from wesad --json"""
    from vigil.evaluation import evaluate_model
    evaluation = ui.with_progress(as_json, evaluate_model, model_dir, protocol, data=data, data_format=data_format)
    ui.print_evaluation(evaluation, model_dir, as_json)


@cli.command("report")
@click.option("--out", "out_dir", required=True, type=NEW_FOLDER, help="Folder for index.html, its PNGs, report.json.")
@click.option("--night", type=click.Path(exists=True, path_type=Path), help="Night recording (or what convert reads).")
@click.option("--stress-session", type=click.Path(exists=True, path_type=Path), help="Recording with PPG.")
@click.option("--models", type=FOLDER, help="A models/ bundle: its twin makes the records a device log would "
              "(default: models/ or $VIGIL_MODELS_DIR, unless --sleep-model or --stress-model is given).")
@click.option("--sleep-model", type=FOLDER, help="Folder of `vigil train sleep`.")
@click.option("--stress-model", type=FOLDER, help="Folder of `vigil train stress`.")
@click.option("--verify", multiple=True, type=FILE, help="A `vigil verify --json` report (repeatable).")
@click.option("--night-log", type=FILE, help="Device log of the night (`vigil replay --out`).")
@click.option("--stress-log", type=FILE, help="Device log of the stress session (its model hashes are checked).")
@click.option("--json", "as_json", is_flag=True, help="Print what the page holds as JSON (also in report.json).")
def report_cmd(out_dir: Path, verify: tuple[Path, ...], as_json: bool, **inputs: Path | None) -> None:
    """Write an HTML page with PNG plots of a night and a stress session (hypnogram, spectrogram with PSG labels, PPG
    with beats, HRV with decisions and alerts, per-model probabilities, confusion matrices, metrics tables). Signals
    and the models' records come from the firmware's Python twins, or from device logs when given (the page says
    which). A part without its inputs is left out with a note.

    \b
    vigil report --out build/report --night night.vrec --stress-session stress.vrec \\
                 --stress-log stress.jsonl --models models --verify night_verify.json"""
    from vigil.report import html, report_data
    with ui.progress_bar(ui.show_progress(as_json)) as bar:
        data = report_data.build_report_data(report_data.ReportInputs(verify=list(verify), **inputs),
                                             progress=ui.step_tracker(bar))
        written = html.write_report(data, out_dir, ui.counter(bar, "figures", 8))
    ui.print_report(data, written, as_json)


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="The checks as JSON.")
def doctor(as_json: bool) -> None:
    """Is this machine ready? Compilers, QEMU, Python packages, PlatformIO's offline set-up, models, boards."""
    results = checks()
    ui.print_doctor(results, as_json)
    exit_unless(all(c.ok for c in results))


def main() -> None:
    cli(prog_name="vigil")


if __name__ == "__main__":
    main()
