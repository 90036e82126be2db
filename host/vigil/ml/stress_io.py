"""Stress datasets by name, and the trained trio on disk (what `vigil train stress` writes, `vigil evaluate` reads).

Folder layout (all next to each other):

``stress_tree.joblib``, ``stress_svm.joblib``  the scikit-learn models, pickled by joblib. Pickles are tied to the
    scikit-learn version (recorded in the manifest) and run code when loaded: load only folders you trust. The
    firmware does not read them; the fixed-point export reads the fitted attributes.
``stress_nn.keras``, ``stress_nn.tflite``  the float Keras net and the int8 model the device runs.
``stress_scaler.json``  FeatureScaler constants, including the folded per-feature ``scale`` / ``offset``.
``stress_consensus.json``  model order, weights, the unanimity rule.
``metrics.json``  the evaluation report (``evaluate_stress``).
``manifest.json``  the data (path and layout, or synthetic parameters), protocol, seed, epochs, versions and the
    SHA-256 of every file above.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np

from vigil.data.hrv_csv import HrvDataset, load_hrv_csv
from vigil.errors import VigilError
from vigil.manifest import file_sha256, portable_source, read_manifest_file, source_path
from vigil.ml.stress import MODEL_NAMES, FeatureScaler, Int8StressNet, StressTrio

MANIFEST = "manifest.json"
#: ``new(description, total)`` -> a per-step callback or None (vigil.console.bars)
Bars = Callable[[str, int], Callable[[int], None] | None]
DATA_FORMATS = ("hrv-csv", "wesad", "empatica", "synthetic")


def load_stress_data(data: str, data_format: str | None = None, layout: str | None = None,
                     difficulty: str = "moderate", seed: int = 0, inputs: str | None = None) -> HrvDataset:  # fmt: skip
    """``data`` = "synthetic" (the built-in generator) or a path; ``data_format`` is detected when None (a
    `.csv` file is an HRV-feature CSV). ``inputs``: what the models read, "raw" or "baseline" (features relative to
    the wearer's baseline: WESAD only, its default; the others have no wearer's history and default to "raw")."""
    synthetic = data == "synthetic" or data_format == "synthetic"
    path = Path(data)
    if not synthetic and not path.exists():
        raise VigilError(f"{path}: no such file or folder (give an HRV-feature CSV, a WESAD folder, or 'synthetic')")
    fmt = "synthetic" if synthetic else data_format or detect_stress_format(path)
    if inputs == "baseline" and fmt != "wesad":
        raise VigilError(f"--inputs baseline: the features relative to the wearer's baseline need recordings with "
                         f"their history (--from wesad); {data} is not")  # fmt: skip
    if synthetic:
        from vigil.data.synthetic_stress import synthetic_stress_dataset

        return synthetic_stress_dataset(difficulty=difficulty, seed=seed)
    if fmt == "hrv-csv":
        return load_hrv_csv(path, layout)
    if fmt == "wesad":
        from vigil.data.wesad import load_wesad

        return load_wesad(path, inputs=inputs or "baseline")
    if fmt == "empatica":
        raise VigilError(f"{path}: an Empatica E4 folder carries no condition labels to train on; give a WESAD "
                         "subject folder (E4 data beside its S<n>_quest.csv) or an HRV-feature CSV")  # fmt: skip
    raise VigilError(f"{path}: cannot tell the stress data format; expected an HRV-feature CSV file (--from hrv-csv) "
                     "or a WESAD folder with S<n>_quest.csv (--from wesad)")  # fmt: skip


def detect_stress_format(path: Path) -> str | None:
    """hrv-csv for a file; wesad for a folder with ``*_quest.csv`` in it or in its subfolders; empatica for an
    E4 folder without one."""
    if path.is_file():
        return "hrv-csv"
    if list(path.glob("*_quest.csv")) or list(path.glob("*/*_quest.csv")):
        return "wesad"
    if (path / "BVP.csv").is_file() or list(path.glob("*_E4_Data")):
        return "empatica"
    return None


def dataset_from_manifest(manifest: dict) -> HrvDataset:
    src = manifest["data"]
    if src["kind"] == "synthetic":
        from vigil.data.synthetic_stress import synthetic_stress_dataset

        keys = ("subjects", "sessions_per_condition", "session_s", "difficulty", "seed")
        return synthetic_stress_dataset(**{k: src[k] for k in keys})
    if src["kind"] == "wesad":
        from vigil.data.wesad import load_wesad

        return load_wesad(source_path(src), inputs=src.get("inputs", "raw"))
    return load_hrv_csv(source_path(src), src.get("layout"))



def save_stress_trio(trio: StressTrio, out_dir: Path, dataset: HrvDataset, settings: dict, metrics: dict) -> dict:
    """Write the folder described in the module doc; returns the manifest."""
    import joblib
    import sklearn

    out_dir.mkdir(parents=True, exist_ok=True)
    joblib.dump(trio.models["tree"], out_dir / "stress_tree.joblib")
    joblib.dump(trio.models["svm"], out_dir / "stress_svm.joblib")
    nn = trio.models["nn"]
    if isinstance(nn, Int8StressNet):
        nn.keras_model.save(out_dir / "stress_nn.keras")
        (out_dir / "stress_nn.tflite").write_bytes(nn.tflite)
    (out_dir / "stress_scaler.json").write_text(json.dumps(trio.scaler.to_dict(), indent=1) + "\n")
    consensus = {
        "models": list(MODEL_NAMES),
        "weights": trio.weights.tolist(),
        "decision_threshold": trio.threshold,
        "rule": "stress = sum_j weights[j] * p_j[stress] > decision_threshold; unanimous = every model's argmax is "
                "stress",
        "chosen_on": trio.validation,
        "inputs": dataset.source.get("inputs", "raw"),  # raw features, or relative to the wearer's baseline
    }
    (out_dir / "stress_consensus.json").write_text(json.dumps(consensus, indent=1) + "\n")
    (out_dir / "metrics.json").write_text(json.dumps(metrics, indent=1) + "\n")
    files = sorted(p.name for p in out_dir.iterdir() if p.name.startswith("stress_") or p.name == "metrics.json")
    manifest = {
        "kind": "vigil-stress-trio",
        "version": 1,
        "data": portable_source(dataset.source),
        "rows": len(dataset),
        "settings": settings,
        "versions": {"scikit-learn": sklearn.__version__, "numpy": np.__version__},
        "files": {name: file_sha256(out_dir / name) for name in files},
        "summary": {k: {m: metrics["models"][k][m] for m in ("accuracy", "f1")} for k in metrics["models"]},
    }
    if "beside" in metrics:  # a random k-fold figure never travels without the block-wise one
        beside = metrics["beside"]
        manifest["summary_beside"] = {"protocol": beside["protocol"],
                                      "models": {k: {m: v[m] for m in ("accuracy", "f1")}
                                                 for k, v in beside["models"].items()}}  # fmt: skip
    (out_dir / MANIFEST).write_text(json.dumps(manifest, indent=1, default=str) + "\n")
    return manifest


#: The proposal's own figures on its HRV file, random 20-fold cross-validation (Python 2 scikit-learn; quoted in
#: ../shared/data/README.md): accuracy of a logistic-regression baseline and of the equal-weight and adjusted-weight
#: soft votes; F1 "about 0.77-0.78" for the ensembles.
PROPOSAL_KFOLD20 = {"logistic regression": 0.782, "equal-weight vote": 0.823, "adjusted-weight vote": 0.830}
PROPOSAL_F1 = "about 0.77-0.78"


def with_proposal_reference(metrics: dict, dataset: HrvDataset, protocol: str) -> dict:
    """Add the proposal's figures (key ``proposal_reference``) when this is its file under its protocol."""
    if protocol == "kfold20" and dataset.source.get("layout") == "potgieter":
        metrics["proposal_reference"] = {"protocol": "kfold20", "accuracy": dict(PROPOSAL_KFOLD20), "f1": PROPOSAL_F1,
                                         "source": "the proposal (Python 2 scikit-learn), ../shared/data/README.md"}  # fmt: skip
    return metrics


BESIDE_KFOLD = "blocks"  # printed beside every random k-fold figure: whole time blocks held out


def with_blocks_beside(metrics: dict, dataset: HrvDataset, protocol: str, seed: int, nn_epochs: int,
                       progress: Callable[[int], None] | None = None) -> dict:  # fmt: skip
    """Beside a random k-fold evaluation (neighbouring minutes of one person on both sides of a split flatter it),
    the same models held out by whole 10-minute blocks (key ``beside``: protocol, rows, folds, per model the
    metrics)."""
    from vigil.ml.metrics import METRIC_NAMES
    from vigil.ml.stress import evaluate_stress

    if protocol != "kfold20":
        return metrics
    other = evaluate_stress(dataset, BESIDE_KFOLD, seed=seed, nn_epochs=nn_epochs, progress=progress)
    metrics["beside"] = {"protocol": BESIDE_KFOLD, "rows": other["rows"], "folds": other["folds"],
                         "models": {k: {m: v[m] for m in METRIC_NAMES} for k, v in other["models"].items()}}  # fmt: skip
    return metrics


def train_stress_folder(dataset: HrvDataset, out_dir: Path, protocol: str = "blocks", seed: int = 0,
                        nn_epochs: int = 120, progress: Callable[[int], Callable[[int], None] | None] | None = None,
                        ) -> tuple[dict, dict]:  # fmt: skip
    """`vigil train stress`: evaluate with ``protocol``, fit the trio on all rows, write the folder; returns
    (manifest, metrics). ``progress(n_folds)`` may return a per-fold callback."""
    from vigil.ml import protocols
    from vigil.ml.stress import evaluate_stress, fit_stress_trio

    started = time.monotonic()
    n_folds = len(protocols.folds(dataset, protocol, seed))
    metrics = evaluate_stress(dataset, protocol, seed=seed, nn_epochs=nn_epochs,
                              progress=progress(n_folds) if progress else None)  # fmt: skip
    with_proposal_reference(metrics, dataset, protocol)
    with_blocks_beside(metrics, dataset, protocol, seed, nn_epochs)
    trio = fit_stress_trio(dataset.features, dataset.labels, protocols.units(dataset, protocol), seed=seed,
                           nn_epochs=nn_epochs)  # fmt: skip
    settings = {"protocol": protocol, "seed": seed, "nn_epochs": nn_epochs,
                "seconds": round(time.monotonic() - started, 1)}
    return save_stress_trio(trio, out_dir, dataset, settings, metrics), metrics


#: A class with fewer rows than this cannot be learnt, let alone held out (the trio refuses it in one line).
MIN_CLASS_ROWS = 5


def require_learnable(dataset: HrvDataset, data: str, protocol: str, seed: int = 0) -> None:
    """One VigilError line when the trio cannot learn from ``dataset`` under ``protocol``: a class with fewer than
    MIN_CLASS_ROWS rows, or a fold whose training rows lack a class (e.g. one subject holds all the stress rows)."""
    from vigil.ml import protocols

    counts = np.bincount(np.asarray(dataset.labels, dtype=np.int64), minlength=2)[:2]
    if counts.min() < MIN_CLASS_ROWS:
        raise VigilError(f"{data}: {counts[0]} relax and {counts[1]} stress rows; training needs at least "
                         f"{MIN_CLASS_ROWS} of each")  # fmt: skip
    for k, fold in enumerate(protocols.folds(dataset, protocol, seed)):
        missing = {0, 1} - set(np.unique(dataset.labels[fold.train]).tolist())
        if missing:
            held = sorted(set(np.asarray(dataset.groups)[fold.test].tolist()))
            raise VigilError(f"{data}: {protocol} fold {k + 1} (holding out group {', '.join(map(str, held))}) "
                             f"leaves no {'stress' if 1 in missing else 'relax'} rows to train on; every fold "
                             "needs both classes (more subjects or sessions, or another --protocol)")  # fmt: skip


def train_stress_source(data: str, out_dir: Path, data_format: str | None = None, layout: str | None = None,
                        difficulty: str = "moderate", protocol: str = "blocks", seed: int = 0, nn_epochs: int = 120,
                        progress: Bars | None = None, inputs: str | None = None) -> tuple[dict, dict]:
    """`vigil train stress`: load_stress_data, then train_stress_folder into ``out_dir``; returns (manifest,
    metrics). ``progress(description, total)`` may return a per-fold callback."""
    dataset = load_stress_data(data, data_format, layout, difficulty, seed, inputs)
    require_learnable(dataset, data, protocol, seed)
    folds = (lambda n: progress(f"{protocol} folds", n)) if progress else None
    return train_stress_folder(dataset, out_dir, protocol, seed, nn_epochs, folds)


@dataclass
class FolderEvaluation:
    """`vigil evaluate` of a training folder: its kind ("sleep" or "stress"), the protocol run, the number of
    sleep epochs or stress segments evaluated, and the report (evaluate_sleep's or evaluate_stress's)."""

    kind: str
    protocol: str
    size: int
    report: dict


def evaluate_folder(model_dir: Path, protocol: str | None = None, progress: Bars | None = None,
                    data: str | None = None, data_format: str | None = None) -> FolderEvaluation:  # fmt: skip
    """Re-run ``protocol`` (default: the one the folder was trained with) on the data recorded in the manifest of
    a `vigil train stress` or `vigil train sleep` folder; with ``data``, score the model on those recordings instead
    (sleep: ``vigil.ml.sleep_evaluate``; a stress model goes through the device twin: ``vigil.evaluation``). ``progress(description, total)`` may return a per-step callback."""
    from vigil.ml import protocols
    from vigil.ml.sleep_context_io import KIND as CONTEXT_KIND
    from vigil.ml.sleep_context_io import evaluate_context_folder
    from vigil.ml.sleep_io import KIND as SLEEP_KIND
    from vigil.ml.sleep_io import evaluate_sleep_folder, manifest_kind
    from vigil.ml.stress import evaluate_stress

    kind = manifest_kind(model_dir)
    if data is not None:
        if protocol is not None:
            raise VigilError("--protocol and --data: give one (a protocol re-trains on the training data; --data "
                             "scores the trained model on new recordings)")  # fmt: skip
        if kind not in (SLEEP_KIND, CONTEXT_KIND):
            raise VigilError(f"{model_dir}: not a sleep model folder; a stress model is scored on new data through "
                             "the device twin (vigil.evaluation.evaluate_model)")  # fmt: skip
        from vigil.ml.sleep_evaluate import evaluate_sleep_data

        report = evaluate_sleep_data(model_dir, data, data_format, progress=progress)
        return FolderEvaluation("sleep-data", "new data", len(report["per_night"]), report)
    if kind in (SLEEP_KIND, CONTEXT_KIND):
        evaluate = evaluate_sleep_folder if kind == SLEEP_KIND else evaluate_context_folder
        report, size, protocol = evaluate(model_dir, protocol, progress)
        return FolderEvaluation("sleep", protocol, size, report)
    manifest = read_manifest(model_dir)
    dataset = dataset_from_manifest(manifest)
    settings = manifest["settings"]
    protocol = protocol or settings["protocol"]
    n_folds = len(protocols.folds(dataset, protocol, settings["seed"]))
    report = evaluate_stress(dataset, protocol, seed=settings["seed"], nn_epochs=settings["nn_epochs"],
                             progress=progress(f"{protocol} folds", n_folds) if progress else None)
    with_proposal_reference(report, dataset, protocol)
    with_blocks_beside(report, dataset, protocol, settings["seed"], settings["nn_epochs"])
    return FolderEvaluation("stress", protocol, len(dataset), report)


def read_manifest(out_dir: Path) -> dict[str, Any]:
    manifest = read_manifest_file(Path(out_dir) / MANIFEST, "vigil-stress-trio", "`vigil train stress`")
    return manifest


def load_scaler(out_dir: Path) -> FeatureScaler:
    return FeatureScaler.from_dict(json.loads((Path(out_dir) / "stress_scaler.json").read_text()))
