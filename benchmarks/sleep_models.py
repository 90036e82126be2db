"""The seed's other sleep models beside the device's context model, on the same held-out nights (issue 12).

    PYTHONPATH=host .venv/bin/python benchmarks/sleep_models.py [--data ../shared/data/ichi2014_train]
        [--subjects N] [--protocol lso5|loso] [--seed 0] [--json]
    PYTHONPATH=host .venv/bin/python benchmarks/sleep_models.py --table saved.json     # the table of a --json run

Reads every night (or the nights of the first N patients) once through the twin: the context dataset
(``vigil.ml.sleep_context.context_dataset``) and each epoch's spectrogram image (``vigil.ml.sleep_baselines``).
Then, on the same folds of held-out whole patients and the same (night, epoch) rows: the context model through TFLM
with van Hees 2015 and the random forest on movement features (``evaluate_context``), and the seed's feed-forward
net and logistic regression on the pooled image and on the movement features (``evaluate_baselines``). Prints a
Markdown table (3-class accuracy / κ; sleep/wake accuracy, κ, AUC, wake correct at 90 % sleep correct) with the
data, the times, the machine and the date: the lines docs/benchmarks.md quotes. A progress bar on a terminal.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import shlex
import sys
import time
from pathlib import Path
from typing import Any

import vigil.console as ui
from vigil.ml.sleep_baselines import INPUTS, baseline_dataset, evaluate_baselines
from vigil.ml.sleep_context import context_folds, evaluate_context
from vigil.ml.sleep_data import recording_count, sleep_recordings

ICHI = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "ichi2014_train"
ROWS = (("context model (device, int8 via TFLM)", "context", "216 context codes (54 epochs x 4 features)"),
        ("van Hees 2015 (z-angle rule, no training)", "van_hees_2015", "z-angle of 5-s means"),
        ("random forest", "random_forest_movement", INPUTS["movement"].split(" (")[0]),
        ("feed-forward net (MLP, 16 hidden)", "mlp_image", "spectrogram image, pooled per frequency bin (130)"),
        ("feed-forward net (MLP, 16 hidden)", "mlp_movement", INPUTS["movement"].split(" (")[0]),
        ("logistic regression", "logistic_image", "spectrogram image, pooled per frequency bin (130)"),
        ("logistic regression", "logistic_movement", INPUTS["movement"].split(" (")[0]))  # fmt: skip


def machine() -> str:
    info = Path("/proc/cpuinfo")
    names = [line.split(":", 1)[1].strip() for line in (info.read_text().splitlines() if info.exists() else [])
             if line.startswith("model name")]  # fmt: skip
    return f"{names[0] if names else platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"


def run(data: str, subjects: int | None, protocol: str, seed: int, as_json: bool) -> dict[str, Any]:
    started = time.monotonic()
    with ui.bars(ui.show_progress(as_json)) as new:
        source, recordings = sleep_recordings(data, "ichi", subjects)
        bds = baseline_dataset(recordings, source, new("nights → features + images", recording_count(data, "ichi",
                                                                                                        subjects)))
        read_s = time.monotonic() - started
        n_folds = len(context_folds(bds.context, protocol, seed))
        context = evaluate_context(bds.context, protocol, seed=seed, progress=new("context model folds", n_folds))
        baselines = evaluate_baselines(bds, protocol, seed, progress=new("MLP + logistic folds", n_folds))
    ds = bds.context
    return {"command": " ".join(shlex.quote(a) for a in [Path(sys.argv[0]).as_posix(), *sys.argv[1:]]),
            "machine": machine(), "date": datetime.date.today().isoformat(), "data": source,
            "epochs": len(ds), "nights": len(ds.night_names), "subjects": len(ds.subject_names),
            "wake_share": float((ds.labels == 0).mean()), "class_counts": baselines["class_counts"],
            "protocol": protocol, "folds": n_folds, "seed": seed,
            "seconds": {"read": round(read_s, 1), "context": context["seconds"], "baselines": baselines["seconds"],
                        "total": round(time.monotonic() - started, 1)},
            "context": context, "baselines": baselines}  # fmt: skip


def figures(result: dict[str, Any], key: str) -> dict[str, Any]:
    """One row's figures: 3-class (None for sleep/wake-only references) and sleep/wake."""
    if key == "context":
        m = result["context"]
    elif key in result["context"]["references"]:
        return {"three": None, "sw": result["context"]["references"][key]}
    else:
        m = result["baselines"]["models"][key]
    return {"three": (m["accuracy"], m["kappa"]), "sw": m["sleep_wake"]}


def print_table(result: dict[str, Any]) -> None:
    def f(v: float | None) -> str:
        return "—" if v is None else f"{v:.3f}"

    s = result["seconds"]
    print(f"{result['epochs']:,} scored epochs of {result['nights']} nights, {result['subjects']} patients "
          f"({100 * result['wake_share']:.0f} % wake); held-out patients, {result['protocol']} ({result['folds']} "
          f"folds, seed {result['seed']}), the same folds and epochs for every row")  # fmt: skip
    print()
    print("| model | inputs | 3-class accuracy / κ | sleep/wake accuracy | κ | AUC | wake correct at 90 % sleep correct |")
    print("|---|---|---|---|---|---|---|")
    for name, key, inputs in ROWS:
        r = figures(result, key)
        sw = r["sw"]
        three = "—" if r["three"] is None else f"{r['three'][0]:.3f} / {r['three'][1]:.3f}"
        print(f"| {name} | {inputs} | {three} | {f(sw['accuracy'])} | {f(sw['kappa'])} | {f(sw.get('auc'))} "
              f"| {f(sw.get('wake_correct_at_90_sleep_correct'))} |")
    print()
    print(f"`{result['command']}`: reading {s['read']:.0f} s, context model {s['context']:.0f} s, MLP + logistic "
          f"{s['baselines']:.0f} s, total {s['total']:.0f} s ({result['machine']}, {result['date']})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=str(ICHI), help="an ICHI-2014 folder of p*.npy nights")
    parser.add_argument("--subjects", type=int, default=None, help="only the nights of the first N patients")
    parser.add_argument("--protocol", choices=("lso5", "loso"), default="lso5", help="held-out patients per fold")
    parser.add_argument("--seed", type=int, default=0, help="seed of the folds and the models")
    parser.add_argument("--json", action="store_true", help="everything as JSON (per fold, per night too)")
    parser.add_argument("--table", type=Path, default=None, help="only print the table of a saved --json output")
    args = parser.parse_args()
    if args.table:
        print_table(json.loads(args.table.read_text()))
        return
    if not Path(args.data).exists():
        sys.exit(f"{args.data}: no such folder (the ICHI-2014 nights; see issue 12)")
    result = run(args.data, args.subjects, args.protocol, args.seed, args.json)
    if args.json:
        print(json.dumps(result, indent=1, default=str))
    else:
        print_table(result)


if __name__ == "__main__":
    main()
