"""The trained-model folders the report reads: the stress trio (`vigil train stress`) and the sleep model
(`vigil train sleep`, either kind), loaded so that they predict from the twins' integers as the device would.

Sleep folder, one of two kinds (its ``manifest.json``'s ``kind``):

- ``vigil-sleep-context`` (the default of `vigil train sleep`): ``sleep_context.tflite``, input (1, 216) int8 = the
  last 54 epochs' feature codes (``vigil.dsp.epoch_features.context_inputs``; row t decides epoch t, known when
  epoch t + 6 ends), output (1, 3) int8 softmax wake / NREM / REM;
- ``vigil-sleep-cnn`` (`vigil train sleep --arch seed`; the manifest may be absent, as in the stand-in CNN):
  ``sleep_cnn.tflite``, input (1, 65, 73, 1) int8 = one epoch image, bins x frames; output 3 int8 values.

Both have ``metrics.json`` (held-out figures). Class = argmax of the int8 outputs. The model runs through
``vigil.ml.sleep_evaluate.device_outputs`` (the twin's inputs, TFLM's reference kernels: the oracle the device's
engine is bit-exact with), the function `vigil evaluate` scores with.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from vigil.dsp.config import EPOCH_FEATURES, IMAGE_FRAMES, SLEEP_CONTEXT_EPOCHS, SLEEP_CONTEXT_INPUT, STFT_BINS
from vigil.errors import VigilError
from vigil.manifest import read_json_file
from vigil.ml.sleep_context_io import KIND as SLEEP_CONTEXT_KIND
from vigil.ml.sleep_context_io import TFLITE as SLEEP_CONTEXT_FILE
from vigil.ml.sleep_io import KIND as SLEEP_KIND
from vigil.ml.stress import DECISION_DEFAULT, MODEL_NAMES, Int8StressNet, StressTrio
from vigil.ml.stress_io import MANIFEST, load_scaler, read_manifest
from vigil.report.json_keys import JsonKeys

SLEEP_MODEL_FILE = "sleep_cnn.tflite"
METRICS_FILE = "metrics.json"
STRESS_FILES = ("stress_tree.joblib", "stress_svm.joblib", "stress_nn.tflite", "stress_scaler.json",
                "stress_consensus.json")  # fmt: skip


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
    # folders trained before the trio learnt its decision threshold decide at 0.5, as their devices do
    threshold = consensus.number("decision_threshold") if consensus.has("decision_threshold") else DECISION_DEFAULT
    trio = StressTrio(load_scaler(folder), models, np.asarray(consensus("weights"), dtype=np.float64), {}, threshold)
    return StressModel(folder, trio, manifest)


# ---------------------------------------------------------------- sleep


@dataclass
class SleepModel:
    """A sleep folder of either kind, loaded: its int8 model and the output quantization that turns the int8
    outputs into probabilities. Predictions are ``vigil.ml.sleep_evaluate.device_outputs`` (``predict_recording``):
    the twin makes the model's inputs from the recording, TFLM runs the model, as ``vigil evaluate`` scores it."""

    path: Path  # the folder
    tflite: bytes
    manifest: dict[str, Any] | None
    input_shape: tuple[int, ...]  # per sample, without the batch axis
    output_quant: tuple[float, int]
    output_is_softmax: bool
    arch: str = "seed"  # "context" (kind vigil-sleep-context) or "seed" (the CNN, kind vigil-sleep-cnn)

    @property
    def model_file(self) -> str:
        return SLEEP_MODEL_FILES[self.arch]

    @property
    def label(self) -> str:
        """How the page names the model: "sleep CNN" or "context model"."""
        return SLEEP_MODEL_LABELS[self.arch]

    @property
    def hello_name(self) -> str:
        """The model's name in a device's HELLO (its header prefix in a models/ bundle)."""
        return Path(self.model_file).stem

    def predict_recording(self, rec: Any) -> tuple[np.ndarray, np.ndarray]:
        """The epochs the device decides in ``rec`` (k,) and the model's int8 outputs for them (k, 3), through the
        twin and TFLM (``vigil.ml.sleep_evaluate.device_outputs``)."""
        from vigil.ml.sleep_evaluate import device_outputs

        epochs, outputs = device_outputs(self.path, self.arch, rec)
        return np.asarray(epochs, dtype=np.int64), np.asarray(outputs, dtype=np.int8).reshape(len(epochs), -1)

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


#: The model file of each kind of sleep folder, and the input it takes per sample (what device_outputs feeds it).
SLEEP_MODEL_FILES = {"seed": SLEEP_MODEL_FILE, "context": SLEEP_CONTEXT_FILE}
SLEEP_MODEL_INPUTS = {"seed": (STFT_BINS, IMAGE_FRAMES, 1), "context": (SLEEP_CONTEXT_INPUT,)}
SLEEP_MODEL_LABELS = {"seed": "sleep CNN", "context": "context model"}
SLEEP_INPUT_TEXT = {"seed": f"an epoch image of {STFT_BINS} bins x {IMAGE_FRAMES} frames x 1",
                    "context": f"{SLEEP_CONTEXT_INPUT} feature codes ({SLEEP_CONTEXT_EPOCHS} epochs x "
                               f"{EPOCH_FEATURES})"}  # fmt: skip


def sleep_folder_arch(folder: Path) -> str:
    """"context" for a folder whose manifest is kind vigil-sleep-context, "seed" for a CNN folder (its manifest
    kind vigil-sleep-cnn, or no manifest with a sleep_cnn.tflite: the stand-in CNN); else an error naming the
    file."""
    path = folder / MANIFEST
    if not path.is_file():
        if (folder / SLEEP_CONTEXT_FILE).is_file():  # a context folder's manifest says how its input is laid out
            raise VigilError(f"{path}: no manifest; expected a folder written by `vigil train sleep`")
        if not (folder / SLEEP_MODEL_FILE).is_file():
            raise VigilError(f"{folder / SLEEP_MODEL_FILE}: missing; expected the int8 sleep model of "
                             f"`vigil train sleep` ({SLEEP_CONTEXT_FILE} with its manifest, or {SLEEP_MODEL_FILE})")
        return "seed"
    data = read_json_file(path)
    kind = data.get("kind") if isinstance(data, dict) else None
    if kind == SLEEP_CONTEXT_KIND:
        return "context"
    if kind == SLEEP_KIND:
        return "seed"
    raise VigilError(f"{path}:1: expected the manifest of a `vigil train sleep` folder (kind {SLEEP_CONTEXT_KIND} "
                     f"or {SLEEP_KIND}), got kind {kind!r}")  # fmt: skip


def load_sleep_model(folder: str | Path) -> SleepModel:
    """Load a `vigil train sleep` folder of either kind (see the module doc); errors name the file."""
    from vigil.export.tflite_reader import read_tflite

    folder = Path(folder)
    if not folder.is_dir():
        raise VigilError(f"{folder}: no such folder (give the --out folder of `vigil train sleep`)")
    arch = sleep_folder_arch(folder)
    manifest = read_json_file(folder / MANIFEST) if (folder / MANIFEST).is_file() else None
    model_path = folder / SLEEP_MODEL_FILES[arch]
    if not model_path.is_file():
        raise VigilError(f"{model_path}: missing; expected the int8 {SLEEP_MODEL_LABELS[arch]} of `vigil train sleep`")
    tflite = model_path.read_bytes()
    try:
        graph = read_tflite(tflite, check_ops=False)
    except VigilError as exc:
        raise VigilError(f"{model_path}: {exc}") from None
    t_in, t_out = graph.tensors[graph.inputs[0]], graph.tensors[graph.outputs[0]]
    shape = tuple(int(s) for s in t_in.shape[1:])
    if t_in.dtype != np.int8 or t_out.dtype != np.int8 or t_out.quant is None:
        raise VigilError(f"{model_path}: expected int8 input and output")
    if shape != SLEEP_MODEL_INPUTS[arch]:
        raise VigilError(f"{model_path}: input shape {shape}; expected {SLEEP_INPUT_TEXT[arch]}")
    if int(np.prod(t_out.shape[1:])) != 3:
        raise VigilError(f"{model_path}: output shape {tuple(t_out.shape)}; expected 3 values (wake, NREM, REM)")
    return SleepModel(folder, tflite, manifest, shape, (t_out.quant.scale, t_out.quant.zero_point),
                      graph.op_names()[-1].upper() == "SOFTMAX", arch)  # fmt: skip
