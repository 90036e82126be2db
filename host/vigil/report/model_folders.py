"""The trained-model folders the report reads: the stress trio (`vigil train stress`) and the sleep CNN
(`vigil train sleep`), loaded so that they predict from the twins' integers as the device would.

Sleep folder: ``sleep_cnn.tflite`` (int8; input the device's int8 epoch image, as frames x bins or bins x
frames, with or without a channel axis; output 3 int8 values wake / NREM / REM, class = argmax),
``metrics.json`` (held-out figures), ``manifest.json`` (``"kind": "vigil-sleep-cnn"``). The CNN runs through
TFLM's reference kernels (``tflm_reference``), the oracle the device's engine is bit-exact with.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from vigil.dsp.config import IMAGE_FRAMES, STFT_BINS
from vigil.errors import VigilError
from vigil.manifest import read_json_file, read_manifest_file
from vigil.ml.sleep_io import KIND as SLEEP_KIND
from vigil.ml.stress import MODEL_NAMES, Int8StressNet, StressTrio
from vigil.ml.stress_io import MANIFEST, load_scaler, read_manifest
from vigil.report.json_keys import JsonKeys

SLEEP_MODEL_FILE = "sleep_cnn.tflite"
METRICS_FILE = "metrics.json"
STRESS_FILES = ("stress_tree.joblib", "stress_svm.joblib", "stress_nn.tflite", "stress_scaler.json",
                "stress_consensus.json")  # fmt: skip
SLEEP_BATCH = 64  # images per TFLM call between progress reports


# ---------------------------------------------------------------- stress


@dataclass
class StressModel:
    """A trio folder, loaded: ``trio.probabilities(features)`` on device-unit features."""

    path: Path
    trio: StressTrio
    manifest: dict[str, Any]


def load_stress_model(folder: str | Path) -> StressModel:
    """Load a `vigil train stress` folder. Its joblib pickles run code when loaded: trusted folders only."""
    import joblib

    folder = Path(folder)
    if not folder.is_dir():
        raise VigilError(f"{folder}: no such folder (give the --out folder of `vigil train stress`)")
    manifest = read_manifest(folder)
    for name in STRESS_FILES:
        if not (folder / name).is_file():
            raise VigilError(f"{folder / name}: missing from the stress model folder")
    with warnings.catch_warnings():  # version skew is reported by the manifest's versions, not as noise here
        warnings.simplefilter("ignore")
        models = {"tree": joblib.load(folder / "stress_tree.joblib"), "svm": joblib.load(folder / "stress_svm.joblib")}
    models["nn"] = Int8StressNet.from_tflite((folder / "stress_nn.tflite").read_bytes())
    consensus = JsonKeys(read_json_file(folder / "stress_consensus.json"), folder / "stress_consensus.json",
                         "`vigil train stress`'s stress_consensus.json")  # fmt: skip
    if list(consensus("models")) != list(MODEL_NAMES):
        raise consensus.error(f"models {consensus('models')}; expected {list(MODEL_NAMES)}")
    trio = StressTrio(load_scaler(folder), models, np.asarray(consensus("weights"), dtype=np.float64))
    return StressModel(folder, trio, manifest)


# ---------------------------------------------------------------- sleep


@dataclass
class SleepModel:
    path: Path  # the folder
    tflite: bytes
    manifest: dict[str, Any] | None
    input_shape: tuple[int, ...]  # per sample, without the batch axis
    output_quant: tuple[float, int]
    output_is_softmax: bool

    def model_input(self, images: np.ndarray) -> np.ndarray:
        """(n, IMAGE_FRAMES, STFT_BINS) epoch images -> the model's (n, *input_shape) layout."""
        imgs = np.asarray(images, dtype=np.int8)
        h, w = self.input_shape[0], self.input_shape[1]
        if (h, w) == (STFT_BINS, IMAGE_FRAMES):  # bins x frames, as vigil.ml.architectures.sleep_cnn
            imgs = np.transpose(imgs, (0, 2, 1))
        return np.ascontiguousarray(imgs.reshape(len(imgs), *self.input_shape))

    def predict(
        self, images: np.ndarray, progress: Callable[[int], None] | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Classes (n,) and probabilities (n, 3) of epoch images, through TFLM's reference kernels. Probabilities
        are the dequantized outputs when the model ends in a softmax, else the softmax of the dequantized logits."""
        from vigil.export.tflite import tflm_reference
        from vigil.ml.sleep import device_class

        x = self.model_input(images)
        outs = []
        for start in range(0, len(x), SLEEP_BATCH):
            outs.append(tflm_reference(self.tflite, x[start : start + SLEEP_BATCH]).reshape(-1, 3))
            if progress:
                progress(min(start + SLEEP_BATCH, len(x)))
        q = np.concatenate(outs) if outs else np.zeros((0, 3), dtype=np.int8)
        return device_class(q), self.probabilities(q)

    def probabilities(self, outputs: np.ndarray) -> np.ndarray:
        """(n, 3) int8 outputs -> (n, 3) probabilities through the output quantization: the dequantized values
        when the model ends in a softmax (renormalised: int8 steps do not sum to exactly 1), else the softmax
        of the dequantized logits."""
        scale, zp = self.output_quant
        real = (np.asarray(outputs, dtype=np.float64).reshape(-1, 3) - zp) * scale
        if self.output_is_softmax:
            probs = np.clip(real, 0.0, None)
            return probs / np.maximum(probs.sum(axis=1, keepdims=True), 1e-12)
        e = np.exp(real - real.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)


def load_sleep_model(folder: str | Path) -> SleepModel:
    """Load a `vigil train sleep` folder (see the module doc); errors name the file."""
    from vigil.export.tflite_reader import read_tflite

    folder = Path(folder)
    if not folder.is_dir():
        raise VigilError(f"{folder}: no such folder (give the --out folder of `vigil train sleep`)")
    model_path = folder / SLEEP_MODEL_FILE
    if not model_path.is_file():
        raise VigilError(f"{model_path}: missing; expected the int8 sleep CNN of `vigil train sleep`")
    manifest = None
    if (folder / MANIFEST).is_file():
        manifest = read_manifest_file(folder / MANIFEST, SLEEP_KIND, "`vigil train sleep`")
    tflite = model_path.read_bytes()
    try:
        graph = read_tflite(tflite, check_ops=False)
    except VigilError as exc:
        raise VigilError(f"{model_path}: {exc}") from None
    t_in, t_out = graph.tensors[graph.inputs[0]], graph.tensors[graph.outputs[0]]
    shape = tuple(int(s) for s in t_in.shape[1:])
    if t_in.dtype != np.int8 or t_out.dtype != np.int8 or t_out.quant is None:
        raise VigilError(f"{model_path}: expected int8 input and output")
    if int(np.prod(shape)) != IMAGE_FRAMES * STFT_BINS or sorted(shape[:2]) != sorted((IMAGE_FRAMES, STFT_BINS)):
        raise VigilError(f"{model_path}: input shape {shape}; expected an epoch image of {IMAGE_FRAMES} x {STFT_BINS}")
    if int(np.prod(t_out.shape[1:])) != 3:
        raise VigilError(f"{model_path}: output shape {tuple(t_out.shape)}; expected 3 values (wake, NREM, REM)")
    return SleepModel(folder, tflite, manifest, shape, (t_out.quant.scale, t_out.quant.zero_point),
                      graph.op_names()[-1].upper() == "SOFTMAX")  # fmt: skip
