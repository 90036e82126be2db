"""The device's models in one folder, ``models/``, from two training folders (`vigil export models`).

    files = build_model_bundle(sleep_dir, stress_dir)       # {relative path: bytes}, nothing written
    stale = write_model_bundle(files, Path("models"))        # or check=True: only compare

Layout (every file is a pure function of the two training folders and the consensus settings):

``sleep/``   the sleep training folder's files (those its manifest lists: ``sleep_context.tflite`` of a context model,
    kind "vigil-sleep-context", or ``sleep_cnn.tflite`` of the seed's CNN, kind "vigil-sleep-cnn") + ``manifest.json``,
    ``MODEL_CARD.md``.
``stress/``  the stress training folder's files (those its manifest lists) + ``manifest.json``, ``MODEL_CARD.md``.
``firmware/`` generated C headers the firmware includes (``-Imodels/firmware``, or ``$VIGIL_MODELS_DIR/firmware``):
    ``sleep_context_plan.h`` / ``sleep_context_tflite.h`` or ``sleep_cnn_plan.h`` / ``sleep_cnn_tflite.h`` (the sleep
    model, by its kind), ``stress_nn_plan.h`` / ``stress_nn_tflite.h`` (vigil's engine
    plan and the TFLM array), ``stress_tree.h``, ``stress_svm.h`` (fixed-point tables), the micromlgen ports,
    ``stress_consensus.h`` (stress-NN input quantization, NN output → Q15 table, consensus weights Q15, alert
    threshold and gating limits) and ``vigil_models.h`` (model names + hashes announced in HELLO, shared arena, and
    ``SLEEP_MODEL_INPUT_CONTEXT``: 1 when the sleep model takes the context of epoch features, 0 the epoch image; the
    firmware compiles the matching sleep path).
``manifest.json`` what each model was trained on, the consensus settings, SHA-256 of every other file, metrics.

Regenerating from ``models/`` itself (``--check`` without ``--sleep``/``--stress``) reads the copies in
``models/sleep`` and ``models/stress`` and the settings in ``models/manifest.json``, so a committed bundle can be
checked with no training folder at hand.

Model hashes (HELLO, ``vigil_models.h``): the first ``MODEL_HASH_SIZE`` bytes of the SHA-256 of the sleep model's
``.tflite`` (named ``sleep_context`` or ``sleep_cnn`` in HELLO) and ``stress_nn.tflite``, and of the generated headers
``stress_tree.h``, ``stress_svm.h`` and ``stress_consensus.h`` (these *are* the tree, SVM and consensus the device
runs).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from vigil.codegen import banner
from vigil.dsp import config as dsp_config
from vigil.device.protocol import MODEL_HASH_SIZE, MODELS_MAX
from vigil.errors import VigilError
from vigil.manifest import read_json_file, read_manifest_file
from vigil.records import SLEEP_CLASS_NAMES, STRESS_CLASS_NAMES

SLEEP_KIND = "vigil-sleep-cnn"
SLEEP_CONTEXT_KIND = "vigil-sleep-context"
STRESS_KIND = "vigil-stress-trio"
BUNDLE_KIND = "vigil-models"
MANIFEST = "manifest.json"
SLEEP_MODEL = "sleep_cnn.tflite"
SLEEP_CONTEXT_MODEL = "sleep_context.tflite"
STRESS_NN = "stress_nn.tflite"
SLEEP_INPUT_SHAPE = (1, 65, 73, 1)  # bins x frames x 1: the epoch image transposed (firmware/app/models.c)
SLEEP_INPUT_LAYOUT = "bins x frames"  # how a sleep manifest's input.layout must begin
SLEEP_CONTEXT_INPUT_SHAPE = (1, dsp_config.SLEEP_CONTEXT_INPUT)  # 54 epochs x 4 feature bytes, oldest first
SLEEP_CONTEXT_INPUT_QUANT = (1.0, dsp_config.FEATURE_ZERO_POINT)  # real value = the feature code


@dataclass(frozen=True)
class SleepModelKind:
    """One kind of sleep model the device can run: its training folder's manifest kind and model file, its name in
    HELLO and in the generated headers, what it takes as input and its decision delay (the SLEEP record's)."""

    manifest_kind: str
    model_file: str
    name: str  # HELLO name, header prefix (<name>_plan.h)
    input: str  # "context" or "image"
    input_shape: tuple[int, ...]
    input_quant: tuple[float, int]
    input_text: str  # the bundle manifest's and model card's words
    delay_epochs: int


SLEEP_KINDS: dict[str, SleepModelKind] = {
    SLEEP_CONTEXT_KIND: SleepModelKind(
        SLEEP_CONTEXT_KIND, SLEEP_CONTEXT_MODEL, "sleep_context", "context", SLEEP_CONTEXT_INPUT_SHAPE,
        SLEEP_CONTEXT_INPUT_QUANT,
        f"the last {dsp_config.SLEEP_CONTEXT_EPOCHS} epochs' feature vectors, oldest first "
        f"({dsp_config.SLEEP_CONTEXT_EPOCHS} x {dsp_config.EPOCH_FEATURES} int8 = code - 128, scale 1.0, zero point "
        f"-128; epochs before the start -128), deciding the epoch {dsp_config.SLEEP_CONTEXT_DELAY} epochs back",
        dsp_config.SLEEP_CONTEXT_DELAY),
    SLEEP_KIND: SleepModelKind(
        SLEEP_KIND, SLEEP_MODEL, "sleep_cnn", "image", SLEEP_INPUT_SHAPE,
        (dsp_config.IMAGE_SCALE_DB, dsp_config.IMAGE_ZERO_POINT),
        "epoch image transposed to bins x frames x 1 (65 x 73 x 1), int8 unchanged", dsp_config.IMAGE_DELAY_EPOCHS),
}  # fmt: skip
Q15_ONE = 1 << 15
#: NN output pairs: d = q_stress - q_relax of the int8 logits spans -255..255.
LOGIT_DIFF_SPAN = 255
#: The generated headers, in the order vigil_models.h lists them (HELLO order), after the sleep model's name
#: (SleepModelKind.name: "sleep_context" or "sleep_cnn").
STRESS_MODEL_ORDER = ("stress_nn", "stress_tree", "stress_svm", "stress_consensus")


def model_order(sleep_name: str) -> tuple[str, ...]:
    """HELLO's model order for a bundle whose sleep model is named ``sleep_name``."""
    return (sleep_name, *STRESS_MODEL_ORDER)


#: HELLO order of a bundle with the seed's CNN (what models/ held before the context model)
MODEL_ORDER = model_order("sleep_cnn")
_BANNER = banner("vigil.bundle.model_bundle", "the training folders", "vigil export models")


@dataclass(frozen=True)
class ConsensusSettings:
    """What the local consensus needs beyond the trained models. Stored in models/manifest.json."""

    #: The alert needs the weighted probability of stress >= this. Measured (benchmarks/alert_gating.py) with the
    #: proposal-trained trio on synthetic PPG: a unanimous trio's weighted P(stress) was 0.77-0.90 at stress 1.0,
    #: so unanimity is the binding condition and 0.6 only refuses a unanimous but lukewarm trio. (The committed
    #: WESAD trio is never unanimous on synthetic PPG; on WESAD it alerts on 50 % of TSST minutes, docs/stress.md.)
    alert_probability: float = 0.6
    #: "Little motion": the accelerometer's motion level (mean |derivative of |a|| per sample over a 30-s
    #: epoch, milli-g) of every epoch covering the segment is <= this. Measured per epoch
    #: (benchmarks/alert_gating.py): still wrist 3, synthetic nights at most 9; a seated awake person
    #: fidgeting (vigil.data.synthetic_day "seated", 2400 epochs of 40 people) p99 18 / p99.9 23 / max 28;
    #: walking (800 epochs) min 35 / p1 38 / p50 69. 30 lets every seated epoch through and blocks every
    #: walking one (where wrist PPG is unreliable).
    motion_limit: int = 30
    #: "Sustained": the trio's evidence (unanimous, above the threshold, valid inputs) must also have held in one of
    #: this many segments before (0: off, a single minute alerts). Held out by subject on WESAD (LOSO, 10 subjects;
    #: docs/stress.md section 4): single minutes 50 alerts, 46 in TSST (0.92); with 2, 36 alerts, all in TSST, and 9 of
    #: 10 subjects alerted during their TSST (1: 29 alerts, all in TSST; 3: 37, all in TSST).
    sustain_lookback: int = 2

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ConsensusSettings:
        lookback = int(d.get("sustain_lookback", cls.sustain_lookback))
        if not 0 <= lookback <= 255:
            raise VigilError(f"consensus sustain_lookback {lookback}: expected 0..255 segments")
        return cls(float(d["alert_probability"]), int(d["motion_limit"]), lookback)

    def threshold_q15(self) -> int:
        if not 0.0 <= self.alert_probability <= 1.0:
            raise VigilError(f"alert probability {self.alert_probability!r}: expected 0..1")
        return round(self.alert_probability * Q15_ONE)


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def model_hash(data: bytes) -> bytes:
    """The HELLO hash of a model file: the first MODEL_HASH_SIZE bytes of its SHA-256."""
    return hashlib.sha256(data).digest()[:MODEL_HASH_SIZE]


def _read_json(path: Path, kind: str) -> dict[str, Any]:
    return read_manifest_file(path, kind, {"vigil-sleep-cnn": "`vigil train sleep --arch seed`",
                                           "vigil-sleep-context": "`vigil train sleep`", "vigil-stress-trio":
                                           "`vigil train stress`"}.get(kind, "`vigil export models`"))  # fmt: skip


def sleep_kind_of(folder: Path) -> SleepModelKind:
    """The kind of sleep model a training folder (or a bundle's sleep/) holds, from its manifest."""
    path = Path(folder) / MANIFEST
    data = read_json_file(path, "a folder written by `vigil train sleep`") if path.is_file() else None
    kind = data.get("kind") if isinstance(data, dict) else None
    if kind not in SLEEP_KINDS:
        _read_json(path, SLEEP_CONTEXT_KIND)  # the missing-file error, or "expected a ... manifest, got kind ..."
    return SLEEP_KINDS[str(kind)]


def _json_bytes(data: Any) -> bytes:
    return (json.dumps(data, indent=1, sort_keys=True, default=str) + "\n").encode()


# ---------------------------------------------------------------- reading the training folders


@dataclass
class TrainingFolders:
    sleep_files: dict[str, bytes]
    sleep_manifest: dict[str, Any]
    stress_files: dict[str, bytes]
    stress_manifest: dict[str, Any]
    stress_dir: Path
    sleep_kind: SleepModelKind = SLEEP_KINDS[SLEEP_KIND]

    @property
    def sleep_model(self) -> bytes:
        return self.sleep_files[self.sleep_kind.model_file]


def _check_sleep_manifest_input(path: Path, kind: SleepModelKind, manifest: dict[str, Any]) -> None:
    """What the manifest says of the input must be what the device feeds this kind of model."""
    spec = manifest.get("input", {})
    if kind.input == "image":
        layout = str(spec.get("layout", SLEEP_INPUT_LAYOUT))
        if not layout.startswith(SLEEP_INPUT_LAYOUT):
            raise VigilError(f"{path}:1: the device feeds the CNN {SLEEP_INPUT_LAYOUT} (the epoch image "
                             f"transposed), the manifest says {layout!r}")  # fmt: skip
        return
    device = {"context_epochs": dsp_config.SLEEP_CONTEXT_EPOCHS, "features": dsp_config.EPOCH_FEATURES,
              "delay_epochs": dsp_config.SLEEP_CONTEXT_DELAY}  # fmt: skip
    for key, value in device.items():
        if key in spec and spec[key] != value:
            raise VigilError(f"{path}:1: input.{key} is {spec[key]!r}; the device's context model takes {value} "
                             "(vigil.dsp.config)")


def read_training_folders(sleep_dir: Path, stress_dir: Path) -> TrainingFolders:
    sleep_dir, stress_dir = Path(sleep_dir), Path(stress_dir)
    kind = sleep_kind_of(sleep_dir)
    sleep_manifest = _read_json(sleep_dir / MANIFEST, kind.manifest_kind)
    _check_sleep_manifest_input(sleep_dir / MANIFEST, kind, sleep_manifest)
    sleep_files = _manifest_files(sleep_dir, sleep_manifest, (kind.model_file,))
    stress_manifest = _read_json(stress_dir / MANIFEST, STRESS_KIND)
    stress_files = _manifest_files(stress_dir, stress_manifest, (
        "stress_tree.joblib", "stress_svm.joblib", STRESS_NN, "stress_scaler.json", "stress_consensus.json"))
    return TrainingFolders(sleep_files, sleep_manifest, stress_files, stress_manifest, stress_dir, kind)


def _manifest_files(folder: Path, manifest: dict[str, Any], required: tuple[str, ...]) -> dict[str, bytes]:
    """Every file the training folder's manifest lists (checked against its SHA-256), and the manifest."""
    names = sorted(manifest.get("files", {}))
    for name in required:
        if name not in names:
            raise VigilError(f"{folder / MANIFEST}:1: expected {name} among its files")
    files = {}
    for name in names:
        path = folder / name
        if not path.is_file():
            raise VigilError(f"{path}: missing; {folder / MANIFEST} lists it")
        data = path.read_bytes()
        if sha256(data) != manifest["files"][name]:
            raise VigilError(f"{path}: SHA-256 differs from {folder / MANIFEST}; the folder was changed")
        files[name] = data
    files[MANIFEST] = (folder / MANIFEST).read_bytes()
    return files


# ---------------------------------------------------------------- generated headers


def stress_nn_input_quant(scale: np.ndarray, offset: np.ndarray, in_scale: float,
                          in_zp: int) -> tuple[list[int], list[int], list[int]]:  # fmt: skip
    """Per feature (mul, add, shift) with q = clamp((raw * mul + add) >> shift, -128, 127) = the stress NN's int8
    input for raw device features: round(scaled / in_scale) + zp, scaled = scale * raw + offset, rounded half up."""
    from vigil.export.svm_export import _mantissa_shift  # the same 30-bit mantissa the SVM's scaler uses

    muls, adds, shifts = [], [], []
    for a, b in zip(scale, offset):
        slope = float(a) / in_scale
        mul, shift = (0, 1) if slope == 0.0 else _mantissa_shift(slope)
        add = round((float(b) / in_scale + in_zp) * 2.0**shift) + (1 << (shift - 1))
        if abs(add) >= 1 << 61:
            raise VigilError(f"stress NN input: scaler offset {b!r} too large for the fixed-point input map")
        muls.append(mul)
        adds.append(add)
        shifts.append(shift)
    return muls, adds, shifts


def logit_pair_table_q15(out_scale: float) -> np.ndarray:
    """P(stress) in Q15 for each int8 logit difference d = q_stress - q_relax in -255..255: the two-class softmax
    1 / (1 + exp(-out_scale d)), rounded; index d + 255. (The zero point cancels in the difference.)"""
    d = np.arange(-LOGIT_DIFF_SPAN, LOGIT_DIFF_SPAN + 1, dtype=np.float64)
    return np.rint(Q15_ONE / (1.0 + np.exp(-out_scale * d))).astype(np.int64)


def consensus_weights_q15(weights: list[float]) -> np.ndarray:
    """The consensus weights in Q15, summing to exactly 32768 (largest remainder, ties to the lower index)."""
    from vigil.export.tree_export import q15_distribution

    w = np.asarray(weights, dtype=np.float64)
    if w.shape != (3,) or np.any(w < 0) or w.sum() <= 0:
        raise VigilError(f"consensus weights {weights!r}: expected three non-negative numbers, not all zero")
    return q15_distribution(w[None, :])[0]


@dataclass(frozen=True)
class ConsensusConstants:
    """Everything stress_consensus.h holds, as integers (the twin uses these same numbers)."""

    nn_in_mul: list[int]
    nn_in_add: list[int]
    nn_in_shift: list[int]
    nn_p_stress_q15: list[int]  # index d + 255
    weights_q15: list[int]  # tree, svm, nn
    threshold_q15: int
    motion_limit: int
    inputs_baseline: bool = False  # the models read the features relative to the wearer's baseline (rel_*)
    sustain_lookback: int = 0  # SUSTAINED looks back this many segments (0: always set)
    decision_q15: int = 16384  # decision: weighted_q15 > this (the trio's learnt threshold; 16384 = P > 0.5)


def consensus_constants(stress_files: dict[str, bytes], settings: ConsensusSettings) -> ConsensusConstants:
    from vigil.export.tflite_reader import read_tflite

    scaler = json.loads(stress_files["stress_scaler.json"])
    graph = read_tflite(stress_files[STRESS_NN], check_ops=False)
    qi, qo = graph.tensors[graph.inputs[0]].quant, graph.tensors[graph.outputs[0]].quant
    if qi is None or qo is None:
        raise VigilError(f"{STRESS_NN}: expected int8 input and output with quantization parameters")
    muls, adds, shifts = stress_nn_input_quant(np.asarray(scaler["scale"]), np.asarray(scaler["offset"]),
                                               float(qi.scale), int(qi.zero_point))  # fmt: skip
    consensus = json.loads(stress_files["stress_consensus.json"])
    if list(consensus.get("models", [])) != ["tree", "svm", "nn"]:
        raise VigilError("stress_consensus.json:1: expected models [tree, svm, nn]")
    inputs = consensus.get("inputs", "raw")
    if inputs not in ("raw", "baseline"):
        raise VigilError(f"stress_consensus.json:1: inputs {inputs!r}; expected raw or baseline")
    return ConsensusConstants(
        muls, adds, shifts, logit_pair_table_q15(float(qo.scale)).tolist(),
        consensus_weights_q15(consensus["weights"]).tolist(), settings.threshold_q15(), settings.motion_limit,
        inputs == "baseline", settings.sustain_lookback, decision_q15(consensus),
    )  # fmt: skip


def decision_q15(consensus: dict) -> int:
    """stress_consensus.json's decision threshold (``vigil.ml.stress.choose_threshold``; 0.5 for folders trained before
    it was learnt) in Q15: the device decides stress when weighted_q15 > this."""
    threshold = float(consensus.get("decision_threshold", 0.5))
    if not 0.0 < threshold < 1.0:
        raise VigilError(f"stress_consensus.json:1: decision_threshold {threshold}; expected between 0 and 1")
    return int(round(threshold * 32768))


def stress_consensus_header(c: ConsensusConstants, weights: list[float], settings: ConsensusSettings) -> str:
    from vigil.export.headers import c_static_array

    n = len(c.nn_in_mul)
    lines = [
        _BANNER,
        "/* The stress trio's local consensus (firmware/core/ml/stress_consensus_q15.h):",
        f" * weights tree/svm/nn {', '.join(f'{w:.6f}' for w in weights)} -> Q15 {c.weights_q15};",
        f" * decision: P(stress) > {c.decision_q15 / 32768:.4f} (Q15 {c.decision_q15}, the trio's own threshold);",
        f" * alert threshold P(stress) >= {settings.alert_probability} (Q15 {c.threshold_q15}); "
        "little motion: level <= "
        f"{settings.motion_limit} milli-g;",
        f" * sustained: the trio's evidence (unanimous, above the threshold) also in one of the "
        f"{settings.sustain_lookback} segments before.",
        " * Stress NN input: q_f = clamp((raw_f * mul_f + add_f) >> shift_f, -128, 127) (feature_quant_s8.h).",
        " * Stress NN output: P(stress) Q15 = p_stress_q15[q_stress - q_relax + 255] (logit_pair_q15.h). */",
        "#ifndef STRESS_CONSENSUS_H",
        "#define STRESS_CONSENSUS_H",
        "",
        '#include "ml/feature_quant_s8.h"',
        '#include "ml/logit_pair_q15.h"',
        '#include "ml/stress_consensus_q15.h"',
        "",
        f"#define STRESS_NN_N_FEATURES {n}u",
        "/* 1: the trio reads each feature relative to the wearer's baseline (hrv_features_t.rel) and needs it ready */",
        f"#define STRESS_INPUTS_BASELINE {int(c.inputs_baseline)}u",
        "",
        c_static_array("int32_t", "stress_nn_in_mul", np.asarray(c.nn_in_mul), 8),
        c_static_array("int64_t", "stress_nn_in_add", np.asarray(c.nn_in_add), 4, suffix="LL"),
        c_static_array("uint8_t", "stress_nn_in_shift", np.asarray(c.nn_in_shift), 16),
        f"static const feature_quant_s8_t stress_nn_input_quant = {{ {n}u, stress_nn_in_mul, stress_nn_in_add, "
        "stress_nn_in_shift };",
        "",
        c_static_array("uint16_t", "stress_nn_p_stress_q15", np.asarray(c.nn_p_stress_q15), 16),
        "static const stress_consensus_q15_t stress_consensus = {",
        f"    {{ {', '.join(f'{w}u' for w in c.weights_q15)} }}, /* weight_q15: tree, svm, nn */",
        f"    {c.threshold_q15}u, /* threshold_q15 */",
        f"    {c.motion_limit}u, /* motion_limit */",
        f"    {c.sustain_lookback}u, /* sustain_lookback */",
        f"    {c.decision_q15}u, /* decision_q15 */",
        "};",
        "",
        "#endif /* STRESS_CONSENSUS_H */",
        "",
    ]
    return "\n".join(lines)


def vigil_models_header(hashes: dict[str, bytes], arenas: dict[str, int], sleep: SleepModelKind) -> str:
    if len(hashes) > MODELS_MAX:
        raise VigilError(f"{len(hashes)} models: HELLO carries at most {MODELS_MAX}")
    rows = []
    for name, digest in hashes.items():
        rows.append(f'    {{ "{name}", {{ {", ".join(f"0x{b:02x}" for b in digest)} }} }},')
    arena = max(arenas.values())
    return "\n".join([
        _BANNER,
        "/* The models this firmware carries: names and hashes (HELLO), and the one arena they share. */",
        "#ifndef VIGIL_MODELS_H",
        "#define VIGIL_MODELS_H",
        "",
        "#include <stdint.h>",
        "",
        f"#define VIGIL_MODELS_COUNT {len(hashes)}u",
        f"#define VIGIL_MODELS_HASH_BYTES {MODEL_HASH_SIZE}u",
        *(f"#define VIGIL_MODELS_ARENA_{k.upper()} {v}u" for k, v in arenas.items()),
        f"#define VIGIL_MODELS_ARENA_BYTES {arena}u /* the largest plan's arena: models run one at a time */",
        f"/* The sleep model ({sleep.name}) takes: 1 = the context of epoch features (dsp/sleep_context.h,",
        " * sleep_context_plan.h), 0 = the epoch image (dsp/epoch_image.h, sleep_cnn_plan.h); firmware/app compiles",
        " * the matching sleep path. */",
        f"#define SLEEP_MODEL_INPUT_CONTEXT {1 if sleep.input == 'context' else 0}",
        "",
        "typedef struct vigil_model_id {",
        "    const char *name;",
        "    uint8_t hash[VIGIL_MODELS_HASH_BYTES];",
        "} vigil_model_id_t;",
        "",
        "static const vigil_model_id_t vigil_models[VIGIL_MODELS_COUNT] = {",
        *rows,
        "};",
        "",
        "#endif /* VIGIL_MODELS_H */",
        "",
    ])  # fmt: skip


def _nn_headers(name: str, model_bytes: bytes) -> tuple[dict[str, str], int]:
    from vigil.export.headers import plan_header, tflite_header
    from vigil.export.plan import device_plan

    plan = device_plan(model_bytes)
    headers = {f"{name}_plan.h": plan_header(name, plan, model_bytes, "vigil export models"),
               f"{name}_tflite.h": tflite_header(name, model_bytes, "vigil export models")}
    return headers, plan.arena_bytes


def firmware_headers(folders: TrainingFolders, settings: ConsensusSettings) -> dict[str, str]:
    import joblib

    from vigil.export.micromlgen_port import micromlgen_ports
    from vigil.export.svm_export import svm_header
    from vigil.export.tree_export import tree_header
    from vigil.ml.stress_io import load_scaler

    out: dict[str, str] = {}
    arenas = {}
    sleep = folders.sleep_kind
    for name, data in ((sleep.name, folders.sleep_model), ("stress_nn", folders.stress_files[STRESS_NN])):
        headers, arenas[name] = _nn_headers(name, data)
        out.update(headers)
    # joblib files are loaded from the folder they were read from (pickles: trusted folders only, see stress_io)
    tree = joblib.load(folders.stress_dir / "stress_tree.joblib")
    svm = joblib.load(folders.stress_dir / "stress_svm.joblib")
    scaler = load_scaler(folders.stress_dir)
    out["stress_tree.h"] = tree_header(tree, scaler, "stress")
    out["stress_svm.h"] = svm_header(svm, scaler, "stress")
    out.update(micromlgen_ports(tree, svm, "stress", scaler))
    weights = json.loads(folders.stress_files["stress_consensus.json"])["weights"]
    constants = consensus_constants(folders.stress_files, settings)
    out["stress_consensus.h"] = stress_consensus_header(constants, weights, settings)
    hashes = {
        sleep.name: model_hash(folders.sleep_model),
        "stress_nn": model_hash(folders.stress_files[STRESS_NN]),
        "stress_tree": model_hash(out["stress_tree.h"].encode()),
        "stress_svm": model_hash(out["stress_svm.h"].encode()),
        "stress_consensus": model_hash(out["stress_consensus.h"].encode()),
    }
    out["vigil_models.h"] = vigil_models_header(hashes, arenas, sleep)
    return out


# ---------------------------------------------------------------- model cards and manifest


def stress_dataset_kind(stress_manifest: dict[str, Any]) -> str:
    """"synthetic", "wesad", "proposal" (the proposal's HRV-segment CSV, Potgieter layout) or "hrv-csv" (another
    CSV)."""
    data = stress_manifest.get("data", {})
    if data.get("kind") in ("synthetic", "wesad"):
        return str(data["kind"])
    layout = str(data.get("layout") or "")
    path = str(data.get("dataset") or data.get("path") or "")
    return "proposal" if layout.startswith("potgieter") or "potgieter" in path.lower() else "hrv-csv"


def _fmt_metrics(summary: dict[str, Any]) -> list[str]:
    """Markdown lines of a summary: {model: {metric: value}} (stress) or {metric: value} (sleep)."""
    if summary and not any(isinstance(m, dict) for m in summary.values()):
        summary = {"model": summary}
    lines = []
    for model, m in summary.items():
        if isinstance(m, dict):
            values = (f"{k} {v:.3f}" if isinstance(v, float) else f"{k} {v}" for k, v in m.items())
            lines.append(f"- {model}: " + ", ".join(values))
    return lines or ["- none recorded"]


def _beside_lines(beside: dict[str, Any] | None) -> list[str]:
    """The block-wise figures printed beside a random k-fold evaluation's (``summary_beside``)."""
    if not beside:
        return []
    return ["", f"Beside them, the same models held out by {beside['protocol']} (whole 10-minute blocks; neighbouring "
            "minutes on both sides of a random split flatter a model):", *_fmt_metrics(beside["models"])]


def sleep_model_card(manifest: dict[str, Any], kind: SleepModelKind | None = None) -> str:
    if kind is not None and kind.input == "context":
        return context_model_card(manifest, kind)
    stand_in = bool(manifest.get("stand_in"))
    data = manifest.get("data", {})
    lines = [
        "# Sleep CNN (`sleep_cnn.tflite`)",
        "",
        "Generated by `vigil export models` from the sleep training folder's manifest; do not edit.",
        "",
        "## Data",
        "UNTRAINED STAND-IN (random weights, for developing the firmware path only)." if stand_in
        else f"Trained on: `{json.dumps(data, sort_keys=True, default=str)}`.",
        "",
        "## Intended use",
        "Per 30-s epoch, wake / NREM / REM from the accelerometer's epoch image (65 bins x 73 frames int8, scale "
        "0.5 dB, zero point -128), on the wrist device through vigil's int8 engine; class = argmax of the 3 int8 "
        "outputs (lowest index on ties). Research use; not a medical device.",
        "",
        "## Metrics",
        *_fmt_metrics(manifest.get("metrics", {}).get("summary", manifest.get("summary", {})) or {}),
        "",
        "## Limits",
        "Wrist accelerometry cannot see brain activity: NREM/REM separation is weak, and still wake is confused with "
        "sleep. " + ("This stand-in's outputs are meaningless." if stand_in else ""),
        "",
    ]
    return "\n".join(lines)


def context_model_card(manifest: dict[str, Any], kind: SleepModelKind) -> str:
    stand_in = bool(manifest.get("stand_in"))
    data = manifest.get("data", {})
    c = dsp_config
    lines = [
        f"# Context sleep model (`{kind.model_file}`)",
        "",
        "Generated by `vigil export models` from the sleep training folder's manifest; do not edit.",
        "",
        "## Data",
        "UNTRAINED STAND-IN (random weights, for developing the firmware path only)." if stand_in
        else f"Trained on: `{json.dumps(data, sort_keys=True, default=str)}`.",
        "",
        "## Intended use",
        f"Per 30-s epoch, wake / NREM / REM from {c.EPOCH_FEATURES} integer features of the wrist accelerometer per "
        "epoch (activity, posture-direction change, still 5-s windows, minutes since the start; "
        f"`vigil.dsp.epoch_features`), over the last {c.SLEEP_CONTEXT_EPOCHS} epochs, on the wrist device through "
        f"vigil's int8 engine. Each decision comes {c.SLEEP_CONTEXT_DELAY} epochs "
        f"({c.SLEEP_CONTEXT_DELAY * c.EPOCH_S // 60} minutes) late: epoch t is decided when epoch "
        f"t + {c.SLEEP_CONTEXT_DELAY} completes, so the last {c.SLEEP_CONTEXT_DELAY} epochs of a recording are never "
        "decided. Class = argmax of the 3 int8 outputs (lowest index on ties). Research use; not a medical device.",
        "",
        "## Metrics (held-out whole subjects: night-wise cross-validation, the int8 model through TFLM)",
        *_fmt_metrics(manifest.get("metrics", {}).get("summary", manifest.get("summary", {})) or {}),
        "",
        "van_hees_kappa and random_forest_auc are the references on the same folds and epochs (the van Hees 2015 "
        "sustained-inactivity rule; a random forest on seven per-epoch movement features): see docs/sleep.md.",
        "",
        "## Training",
        *([f"- {k}: {v}" for k, v in manifest.get("settings", {}).items()] or ["- none recorded"]),
        "(`seconds`: the whole `vigil train sleep` run, cross-validation included, on the machine that trained it.)",
        "",
        "## Limits",
        "Wrist accelerometry cannot see brain activity: NREM/REM separation is weak, and still wake can pass for "
        "sleep. " + ("This stand-in's outputs are meaningless." if stand_in else ""),
        "",
    ]
    return "\n".join(lines)


def _protocol_words(protocol: str | None) -> str:
    return {"loso": "leave one subject out: every figure is on people the models never saw",
            "blocks": "whole 10-minute blocks", "kfold20": "random 20-fold, as the proposal"}.get(
        protocol or "", f"the protocol in settings ({protocol})")  # fmt: skip


def stress_model_card(manifest: dict[str, Any], consensus: dict[str, Any], settings: ConsensusSettings) -> str:
    kind = stress_dataset_kind(manifest)
    what = {"synthetic": "SYNTHETIC PPG sessions through the DSP twin (not real people)",
            "wesad": "WESAD wrist BVP (Base = relax, TSST = stress) through the DSP twin",
            "proposal": "the proposal's HRV-segment dataset", "hrv-csv": "an HRV-feature CSV"}[kind]  # fmt: skip
    relative = consensus.get("inputs") == "baseline"
    from vigil.dsp.ppg_tables import BASELINE_MOTION_MAX, BASELINE_SEGMENTS, BASELINE_WARMUP

    relative_words = (", each minus the wearer's running baseline: the median over the last "
                      f"{BASELINE_SEGMENTS} valid, still minutes before it (motion level <= {BASELINE_MOTION_MAX})"
                      if relative else "")  # fmt: skip
    ready_words = f", the baseline ready ({BASELINE_WARMUP} valid, still minutes)" if relative else ""
    lines = [
        "# Stress trio: decision tree, RBF SVM, int8 MLP, and their consensus",
        "",
        "Generated by `vigil export models` from the stress training folder's manifest; do not edit.",
        "",
        "## Data",
        f"Trained on {what}: `{json.dumps(manifest.get('data', {}), sort_keys=True, default=str)}`, "
        f"{manifest.get('rows', '?')} rows of 60-s segments; "
        f"settings `{json.dumps(manifest.get('settings', {}), sort_keys=True)}`.",
        "",
        "## Intended use",
        "Per 60-s PPG segment on the wrist device: six HRV features (AVHR, AVRR, SDRR, RMSSD, pNN50, pNN20, device "
        f"integers{relative_words}) -> each model's P(stress) in Q15 -> weighted probability "
        f"(weights tree/svm/nn {consensus.get('weights')}), stress when it is above "
        f"{float(consensus.get('decision_threshold', 0.5))} (the threshold learnt with the weights on the validation "
        "subjects), and a unanimity flag. An alert needs all three models to "
        f"say stress, weighted P(stress) >= {settings.alert_probability}, valid features{ready_words}, awake (sleep "
        f"model) and motion level <= {settings.motion_limit} milli-g"
        + (f", and the three models' stress (unanimous, above the threshold) in one of the {settings.sustain_lookback} "
           "minutes before as well: one stressed-looking minute alone never alerts" if settings.sustain_lookback else "")
        + ". Research use; not a medical device.",
        "",
        f"## Metrics (held out: {_protocol_words(manifest.get('settings', {}).get('protocol'))})",
        *_fmt_metrics(manifest.get("summary", {})),
        *_beside_lines(manifest.get("summary_beside")),
        *([f"Training, cross-validation included, took {manifest['settings']['seconds']:g} s on the machine that "
           "trained it."] if "seconds" in manifest.get("settings", {}) else []),
        "",
        "## Limits",
        "HRV stress markers are not specific to stress (exercise, caffeine, posture move them too); models trained "
        "on one population or on synthetic data do not transfer without re-validation; "
        + (f"the wearer's baseline needs {BASELINE_WARMUP} valid, still minutes before the first classification, and "
           "takes whatever the wearer's heart did in them as usual (sitting through a stressful hour counts as usual "
           "too)." if relative else "per-person baselines are not modelled."),
        "",
    ]
    return "\n".join(lines)


def build_model_bundle(sleep_dir: Path, stress_dir: Path,
                       settings: ConsensusSettings | None = None) -> dict[str, bytes]:  # fmt: skip
    """Every file of models/ (relative path -> bytes), from the two training folders; nothing is written."""
    folders = read_training_folders(sleep_dir, stress_dir)
    kind = folders.sleep_kind
    _check_sleep_model(folders.sleep_model, Path(sleep_dir) / kind.model_file, kind)
    settings = settings or ConsensusSettings()
    files: dict[str, bytes] = {}
    for name, data in folders.sleep_files.items():
        files[f"sleep/{name}"] = data
    for name, data in folders.stress_files.items():
        files[f"stress/{name}"] = data
    consensus = json.loads(folders.stress_files["stress_consensus.json"])
    files["sleep/MODEL_CARD.md"] = sleep_model_card(folders.sleep_manifest, kind).encode()
    files["stress/MODEL_CARD.md"] = stress_model_card(folders.stress_manifest, consensus, settings).encode()
    for name, text in firmware_headers(folders, settings).items():
        files[f"firmware/{name}"] = text.encode()
    manifest = {
        "kind": BUNDLE_KIND,
        "version": 1,
        "sleep": {
            "stand_in": bool(folders.sleep_manifest.get("stand_in")),
            "data": folders.sleep_manifest.get("data"),
            "classes": list(SLEEP_CLASS_NAMES),
            "input": kind.input_text,
            "metrics": folders.sleep_manifest.get("metrics", folders.sleep_manifest.get("summary")),
            "kind": kind.manifest_kind,
            "model": kind.name,
            "delay_epochs": kind.delay_epochs,
        },
        "stress": {
            "dataset": stress_dataset_kind(folders.stress_manifest),
            "data": folders.stress_manifest.get("data"),
            "rows": folders.stress_manifest.get("rows"),
            "settings": folders.stress_manifest.get("settings"),
            "classes": list(STRESS_CLASS_NAMES),
            "weights": consensus.get("weights"),
            "metrics": folders.stress_manifest.get("summary"),
        },
        "consensus": settings.to_dict(),
        "hashes": {name: model_hash(_hashed_file(files, name, kind)).hex() for name in model_order(kind.name)},
        "files": {path: sha256(data) for path, data in sorted(files.items())},
    }
    files[MANIFEST] = _json_bytes(manifest)
    return files


def _check_sleep_model(model: bytes, where: Path, kind: SleepModelKind) -> None:
    """The device feeds the sleep model its input (one epoch image, or the unrolled context) in the model's own input
    quantization and reads one int8 per class."""
    from vigil.export.tflite_reader import read_tflite

    what = {"image": "the epoch image's", "context": "the epoch features'"}[kind.input]
    graph = read_tflite(model, check_ops=False)
    tin, tout = graph.tensors[graph.inputs[0]], graph.tensors[graph.outputs[0]]
    if tuple(tin.shape) != kind.input_shape or tin.quant is None:
        raise VigilError(f"{where}: expected an int8 input of shape {list(kind.input_shape)}, got {list(tin.shape)}")
    scale, zero_point = kind.input_quant
    if (float(tin.quant.scale), int(tin.quant.zero_point)) != (scale, zero_point):
        raise VigilError(f"{where}: expected {what} input quantization (scale {scale}, zero point {zero_point}), got "
                         f"({tin.quant.scale}, {tin.quant.zero_point})")  # fmt: skip
    if int(np.prod(tout.shape)) != len(SLEEP_CLASS_NAMES):
        raise VigilError(f"{where}: expected {len(SLEEP_CLASS_NAMES)} outputs (wake, nrem, rem), got shape {list(tout.shape)}")


def _hashed_file(files: dict[str, bytes], model: str, sleep: SleepModelKind) -> bytes:
    model_files = {sleep.name: f"sleep/{sleep.model_file}", "stress_nn": f"stress/{STRESS_NN}"}
    return files[model_files.get(model, f"firmware/{model}.h")]


def rebuild_from_bundle(models_dir: Path, settings: ConsensusSettings | None = None) -> dict[str, bytes]:
    """The bundle regenerated from its own copies (models/sleep, models/stress) and settings."""
    models_dir = Path(models_dir)
    if settings is None:
        manifest = read_bundle_manifest(models_dir)
        settings = ConsensusSettings.from_dict(manifest["consensus"])
    return build_model_bundle(models_dir / "sleep", models_dir / "stress", settings)


def read_bundle_manifest(models_dir: Path) -> dict[str, Any]:
    return _read_json(Path(models_dir) / MANIFEST, BUNDLE_KIND)


def bundle_sleep_kind(models_dir: Path) -> SleepModelKind:
    """The kind of sleep model a bundle carries (its sleep/ folder's manifest)."""
    return sleep_kind_of(Path(models_dir) / "sleep")


def bundle_hashes(models_dir: Path) -> dict[str, bytes]:
    """name -> HELLO hash of the models in a bundle (what a firmware built with it announces)."""
    manifest = read_bundle_manifest(models_dir)
    return {name: bytes.fromhex(h) for name, h in manifest["hashes"].items()}


def write_model_bundle(files: dict[str, bytes], out_dir: Path, check: bool = False) -> list[str]:
    """Write the files that differ (or with check=True only list them); also lists files in out_dir's
    sleep/, stress/, firmware/ that the bundle does not have (removed when writing). Returns the stale paths."""
    out_dir = Path(out_dir)
    stale = []
    for rel, data in sorted(files.items()):
        path = out_dir / rel
        if path.is_file() and path.read_bytes() == data:
            continue
        stale.append(rel)
        if not check:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
    for sub in ("sleep", "stress", "firmware"):
        for path in sorted((out_dir / sub).glob("*")) if (out_dir / sub).is_dir() else []:
            rel = f"{sub}/{path.name}"
            if rel not in files:
                stale.append(rel)
                if not check:
                    path.unlink()
    return stale


# ---------------------------------------------------------------- a stand-in sleep CNN


def write_standin_sleep_folder(out_dir: Path, seed: int = 0) -> Path:
    """An UNTRAINED sleep CNN folder (vigil.ml.architectures.sleep_cnn + Softmax, int8) to develop the firmware path
    before a trained one exists. Calibrated on random images spanning the whole int8 range, so its input has the
    epoch image's quantization (scale 0.5, zero point -128)."""
    import keras

    from vigil.dsp.config import IMAGE_SCALE_DB, IMAGE_ZERO_POINT
    from vigil.export.tflite import output_silenced, to_int8_tflite
    from vigil.ml.architectures import SLEEP_IMAGE_SHAPE, sleep_cnn

    keras.utils.set_random_seed(seed)
    model = keras.Sequential([sleep_cnn(), keras.layers.Softmax()])
    rng = np.random.default_rng(seed)
    q = rng.integers(-128, 128, size=(16, *SLEEP_IMAGE_SHAPE))
    q[0], q[1] = -128, 127  # both ends of the int8 range, so the calibrated range is exactly the image's
    rep = (IMAGE_SCALE_DB * (q - IMAGE_ZERO_POINT)).astype(np.float32)
    with output_silenced():
        tflite = to_int8_tflite(model, rep)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / SLEEP_MODEL).write_bytes(tflite)
    manifest = {"kind": SLEEP_KIND, "version": 1, "stand_in": True,
                "data": {"kind": "none", "note": "untrained stand-in, random weights (seed %d)" % seed},
                "class_names": list(SLEEP_CLASS_NAMES), "files": {SLEEP_MODEL: sha256(tflite)},
                "input": {"shape": list(SLEEP_INPUT_SHAPE), "dtype": "int8",
                          "layout": "bins x frames (epoch image transposed)",
                          "scale": IMAGE_SCALE_DB, "zero_point": IMAGE_ZERO_POINT}}  # fmt: skip
    (out_dir / MANIFEST).write_bytes(_json_bytes(manifest))
    return out_dir


def write_standin_context_folder(out_dir: Path, seed: int = 0, hidden: int = 16) -> Path:
    """An UNTRAINED context sleep model folder (Input(216) -> Dense(hidden, relu) -> Dense(3) -> Softmax, int8; no hidden
    layer when ``hidden`` is 0) to develop and test the firmware path before a trained one exists. Calibrated on random
    feature codes that include 0 and 255, so its input quantization is the device's (scale 1.0, zero point -128)."""
    import keras

    from vigil.export.tflite import output_silenced, to_int8_tflite

    keras.utils.set_random_seed(seed)
    n_in = dsp_config.SLEEP_CONTEXT_INPUT
    layers = [keras.Input((n_in,))]
    if hidden:
        layers.append(keras.layers.Dense(hidden, activation="relu"))
    layers += [keras.layers.Dense(len(SLEEP_CLASS_NAMES)), keras.layers.Softmax()]
    model = keras.Sequential(layers)
    w, b = model.layers[0].get_weights()
    model.layers[0].set_weights([w / dsp_config.FEATURE_CODE_MAX, b])  # inputs are codes 0..255: keep outputs unsaturated
    rng = np.random.default_rng(seed)
    codes = rng.integers(0, dsp_config.FEATURE_CODE_MAX + 1, size=(64, n_in))
    codes[0], codes[1] = 0, dsp_config.FEATURE_CODE_MAX  # both ends: the calibrated range is exactly 0..255
    with output_silenced():
        tflite = to_int8_tflite(model, codes.astype(np.float32))
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / SLEEP_CONTEXT_MODEL).write_bytes(tflite)
    kind = SLEEP_KINDS[SLEEP_CONTEXT_KIND]
    manifest = {"kind": SLEEP_CONTEXT_KIND, "version": 1, "stand_in": True, "arch": "context",
                "data": {"kind": "none", "note": "untrained stand-in, random weights (seed %d)" % seed},
                "class_names": list(SLEEP_CLASS_NAMES), "files": {SLEEP_CONTEXT_MODEL: sha256(tflite)},
                "input": {"shape": list(kind.input_shape), "dtype": "int8", "scale": kind.input_quant[0],
                          "zero_point": kind.input_quant[1], "layout": kind.input_text,
                          "context_epochs": dsp_config.SLEEP_CONTEXT_EPOCHS, "features": dsp_config.EPOCH_FEATURES,
                          "delay_epochs": dsp_config.SLEEP_CONTEXT_DELAY}}  # fmt: skip
    (out_dir / MANIFEST).write_bytes(_json_bytes(manifest))
    return out_dir


def export_bundle(out_dir: Path, sleep_dir: Path | None = None, stress_dir: Path | None = None,
                  alert_probability: float | None = None, motion_limit: int | None = None, check: bool = False,
                  sustain_lookback: int | None = None) -> tuple[dict[str, bytes], list[str]]:
    """`vigil export models`: the bundle from the training folders (default: OUT's own copies), with the consensus
    settings given, else OUT/manifest.json's, else the defaults; written (or with `check` only compared).
    Returns (files, the stale or written ones)."""
    settings = ConsensusSettings()
    if (out_dir / MANIFEST).is_file():
        settings = ConsensusSettings.from_dict(read_bundle_manifest(out_dir)["consensus"])
    settings = ConsensusSettings(settings.alert_probability if alert_probability is None else alert_probability,
                                 settings.motion_limit if motion_limit is None else motion_limit,
                                 settings.sustain_lookback if sustain_lookback is None else sustain_lookback)
    files = build_model_bundle(sleep_dir or out_dir / "sleep", stress_dir or out_dir / "stress", settings)
    return files, write_model_bundle(files, out_dir, check=check)
