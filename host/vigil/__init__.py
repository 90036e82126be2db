"""vigil: on-device sleep and stress monitoring with bit-exact Python twins of the firmware.

The public API (docs/api.md) is importable from here; each name loads its module on first use, so `import vigil`
stays fast and loads no TensorFlow until a name that needs it is touched.

    import vigil
    night = vigil.synthetic_night(hours=1.0, seed=3)        # a Recording with sleep labels
    columns = vigil.accel_columns(night.accel)              # the device's spectrogram columns, integer for integer
"""

from __future__ import annotations

from importlib import import_module
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from vigil import quiet_tensorflow

try:
    __version__ = version("vigil")
except PackageNotFoundError:  # running from a checkout without installing
    __version__ = "0.0.0"

quiet_tensorflow.install()  # before anything imports TensorFlow: its import prints C++ log lines otherwise

#: public name -> "module:attribute" (docs/api.md groups them the same way)
_API: dict[str, str] = {
    # recordings: the format, converters, built-in generators
    "Recording": "vigil.data.recording:Recording",
    "convert_source": "vigil.data.convert:convert_source",
    "synthetic_night": "vigil.data.synthetic_night:synthetic_night",
    "synthetic_session": "vigil.data.synthetic:synthetic_session",
    "synthetic_day": "vigil.data.synthetic_day:synthetic_day",
    # the twins of the device's fixed-point DSP
    "accel_columns": "vigil.dsp.accel:accel_columns",
    "accel_motion": "vigil.dsp.accel:accel_motion",
    "wrist_motion": "vigil.dsp.accel:wrist_motion",
    "epoch_images": "vigil.dsp.epoch_image:epoch_images",
    "epoch_features": "vigil.dsp.epoch_features:epoch_features",
    "context_inputs": "vigil.dsp.epoch_features:context_inputs",
    "ppg_chain": "vigil.dsp.ppg:ppg_chain",
    "HrvFeatures": "vigil.dsp.hrv:HrvFeatures",
    # what the device reports
    "SLEEP_CLASS_NAMES": "vigil.records:SLEEP_CLASS_NAMES",
    "SLEEP_CLASS_LABELS": "vigil.records:SLEEP_CLASS_LABELS",
    "STRESS_CLASS_NAMES": "vigil.records:STRESS_CLASS_NAMES",
    # training and evaluation
    "load_sleep_data": "vigil.ml.sleep_data:load_sleep_data",
    "SleepDataset": "vigil.ml.sleep_data:SleepDataset",
    "SleepCnn": "vigil.ml.sleep:SleepCnn",
    "train_sleep_cnn": "vigil.ml.sleep:train_sleep_cnn",
    "evaluate_sleep": "vigil.ml.sleep:evaluate_sleep",
    "load_stress_data": "vigil.ml.stress_io:load_stress_data",
    "StressTrio": "vigil.ml.stress:StressTrio",
    "fit_stress_trio": "vigil.ml.stress:fit_stress_trio",
    "evaluate_stress": "vigil.ml.stress:evaluate_stress",
    "train_stress_folder": "vigil.ml.stress_io:train_stress_folder",
    "classification_metrics": "vigil.ml.metrics:classification_metrics",
    "cohen_kappa": "vigil.ml.metrics:cohen_kappa",
    # export for the device
    "to_int8_tflite": "vigil.export.tflite:to_int8_tflite",
    "tflm_reference": "vigil.export.tflite:tflm_reference",
    "device_plan": "vigil.export.plan:device_plan",
    "export_model": "vigil.export.headers:export_model",
    "build_model_bundle": "vigil.bundle.model_bundle:build_model_bundle",
    "write_model_bundle": "vigil.bundle.model_bundle:write_model_bundle",
    "DeviceModels": "vigil.bundle.consensus_twin:DeviceModels",
    # the link, the boards, proofs
    "Link": "vigil.device.link:Link",
    "running_board": "vigil.device.board:running_board",
    "replay_recording": "vigil.replay:replay",  # not "replay": that is the submodule vigil.replay
    "twin_outputs": "vigil.verify:twin_outputs",
    "verify_recording": "vigil.verify:verify_recording",
    "engine_check": "vigil.engine:engine_check",
    "run_fuzz": "vigil.engine_fuzz:run_fuzz",
    # the report
    "ReportInputs": "vigil.report.report_data:ReportInputs",
    "build_report_data": "vigil.report.report_data:build_report_data",
    "write_report": "vigil.report.html:write_report",
    # errors
    "VigilError": "vigil.errors:VigilError",
}

__all__ = ["__version__", *_API]


def __getattr__(name: str) -> Any:
    try:
        module, attr = _API[name].split(":")
    except KeyError:
        raise AttributeError(f"module 'vigil' has no attribute {name!r}") from None
    value = getattr(import_module(module), attr)
    globals()[name] = value  # the next access is a plain lookup
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_API))
