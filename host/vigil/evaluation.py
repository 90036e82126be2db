"""`vigil evaluate`: which evaluation a model folder gets. A protocol re-run or a sleep model on new nights is
``vigil.ml.stress_io.evaluate_folder``; a stress model on new WESAD subjects runs the whole device twin
(``vigil.stress_evaluation``: the sleep context and the alert need the bundle), so it is dispatched here, above the
``ml`` layer."""

from __future__ import annotations

from pathlib import Path

from vigil.ml.stress_io import Bars, FolderEvaluation, evaluate_folder


def evaluate_model(model_dir: Path, protocol: str | None = None, progress: Bars | None = None,
                   data: str | None = None, data_format: str | None = None) -> FolderEvaluation:  # fmt: skip
    """``evaluate_folder``, except a stress model (or a models/ bundle) with ``data``: ``evaluate_stress_data``."""
    from vigil.errors import VigilError
    from vigil.ml.sleep_context_io import KIND as CONTEXT_KIND
    from vigil.ml.sleep_io import KIND as SLEEP_KIND
    from vigil.ml.sleep_io import manifest_kind

    if data is None or manifest_kind(model_dir) in (SLEEP_KIND, CONTEXT_KIND):
        return evaluate_folder(model_dir, protocol, progress, data=data, data_format=data_format)
    if protocol is not None:
        raise VigilError("--protocol and --data: give one (a protocol re-trains on the training data; --data "
                         "scores the trained model on new recordings)")  # fmt: skip
    from vigil.stress_evaluation import evaluate_stress_data

    report = evaluate_stress_data(model_dir, data, data_format, progress=progress)
    return FolderEvaluation("stress-data", "new data", report["minutes_labelled"], report)
