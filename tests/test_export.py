"""vigil.export: reading .tflite files, rewriting what TF 2.21's converter emits, compiling plans, headers.

The plan's numbers (paddings, per-channel multipliers/shifts, activation ranges, arena offsets) are checked by
running the plan through a small integer numpy executor written here (TFLM's reference arithmetic: double
rounding MultiplyByQuantizedMultiplier) and comparing with the TFLM interpreter, exactly, on random and edge
inputs. Models are converted from Keras once per module (marked slow)."""

from __future__ import annotations

import copy
import itertools
import os
import shutil
import subprocess
from dataclasses import replace
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pytest

from vigil.device.flash import CORTEX_M4_FLAGS
from vigil.export import graph_rewrite, headers, plan as planmod, tflite_reader
from vigil.export.plan import Plan, PlanOp, assign_offsets, compile_plan
from vigil.export.tflite_reader import UnsupportedOpError, read_tflite

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
ROOT = Path(__file__).resolve().parents[1]
SEED_SHAPE = (65, 73, 1)
#: conv1 63*71*8*9 + conv2 29*33*16*9*8 + dense 15312*32 + dense 32*3
SEED_MACS = 322_056 + 1_102_464 + 489_984 + 96
assert SEED_MACS == 1_914_600  # "1.91 M MACs" in issue 4


# --- the integer twin of a plan (test helper: TFLM reference arithmetic in numpy) ----------------------------

def _srdhm(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """SaturatingRoundingDoublingHighMul (int32 semantics in int64; a == b == INT32_MIN cannot occur here)."""
    ab = a.astype(np.int64) * b.astype(np.int64)
    nudge = np.where(ab >= 0, 1 << 30, 1 - (1 << 30))
    s = ab + nudge
    return np.sign(s) * (np.abs(s) >> 31)  # C division truncates toward zero


def _rdbpot(x: np.ndarray, exponent: np.ndarray) -> np.ndarray:
    mask = (np.int64(1) << exponent) - 1
    remainder = x & mask
    threshold = (mask >> 1) + (x < 0)
    return (x >> exponent) + (remainder > threshold)


def requantize(acc: np.ndarray, mult: np.ndarray, shift: np.ndarray) -> np.ndarray:
    """TFLM MultiplyByQuantizedMultiplier, double-rounding variant, broadcast over the last axis."""
    left = np.maximum(shift, 0).astype(np.int64)
    right = np.maximum(-shift, 0).astype(np.int64)
    x = (acc.astype(np.int64) << left).astype(np.int32).astype(np.int64)  # int32 wrap, as in C
    return _rdbpot(_srdhm(x, mult), right)


def _window_view(x: np.ndarray, op: PlanOp, fill: int) -> tuple[np.ndarray, np.ndarray]:
    """Patches (oh, ow, kh, kw, c) of the padded input and the validity mask of each tap."""
    p = op.params
    oh, ow, _ = op.out_shape
    kh, kw = p["filter_h"], p["filter_w"]
    dh, dw = p.get("dilation_h", 1), p.get("dilation_w", 1)
    rows = np.arange(oh)[:, None] * p["stride_h"] - p["pad_h"] + np.arange(kh)[None, :] * dh  # (oh, kh)
    cols = np.arange(ow)[:, None] * p["stride_w"] - p["pad_w"] + np.arange(kw)[None, :] * dw  # (ow, kw)
    h, w, _ = x.shape
    valid = ((rows >= 0) & (rows < h))[:, None, :, None] & ((cols >= 0) & (cols < w))[None, :, None, :]
    patches = x[np.clip(rows, 0, h - 1)[:, None, :, None], np.clip(cols, 0, w - 1)[None, :, None, :], :]
    patches = np.where(valid[..., None], patches, fill)
    return patches, valid


def _finish(acc: np.ndarray, op: PlanOp) -> np.ndarray:
    bias = op.bias.astype(np.int64)[:acc.shape[-1]]  # FC biases are padded to four rows
    out = requantize(acc + bias, op.multipliers.astype(np.int64), op.shifts.astype(np.int64))
    out = out + op.params["out_zp"]
    return np.clip(out, op.params["act_min"], op.params["act_max"]).astype(np.int8)


def run_op(x: np.ndarray, op: PlanOp) -> np.ndarray:
    if op.pool is not None:  # a fused convolution + max pool: the convolution, then the pool
        conv = replace(op, pool=None, out_shape=op.mid_shape)
        pool = replace(op, kind="MAX_POOL_2D", pool=None, params=op.pool)
        return run_op(run_op(x, conv), pool)
    p = op.params
    if op.kind == "RESHAPE":
        return x.reshape(op.out_shape)
    if op.kind == "FULLY_CONNECTED":
        n_out, n_in = op.out_shape[2], x.size
        if op.extra and op.extra[0] == planmod.FC_WEIGHTS_ROW4:  # interleaved, input offset folded into the bias
            order = planmod.fc_row4_order(n_out, n_in)
            w = np.empty(n_out * n_in, dtype=np.int8)
            w[order[order >= 0]] = op.weights[order >= 0]
            assert not op.weights[order < 0].any() and not op.bias[n_out:].any()  # the padding is zeros
            acc = w.reshape(n_out, n_in).astype(np.int64) @ x.reshape(-1).astype(np.int64)
        else:
            acc = op.weights.astype(np.int64) @ (x.reshape(-1).astype(np.int64) - p["in_zp"])
        return _finish(acc, op).reshape(op.out_shape)
    if op.kind in ("CONV_2D", "DEPTHWISE_CONV_2D"):
        patches, _ = _window_view(x, op, p["in_zp"])
        centred = patches.astype(np.int64) - p["in_zp"]  # taps outside the input contribute 0, as in TFLM
        if op.kind == "CONV_2D":
            acc = np.einsum("yxijc,oijc->yxo", centred, op.weights.astype(np.int64))
        else:
            centred = np.repeat(centred, p["depth_multiplier"], axis=-1)
            acc = np.einsum("yxijc,ijc->yxc", centred, op.weights[0].astype(np.int64))
        return _finish(acc, op)
    if op.kind == "MAX_POOL_2D":
        patches, _ = _window_view(x, op, -128)
        out = patches.max(axis=(2, 3))
        return np.clip(out, p["act_min"], p["act_max"]).astype(np.int8)
    if op.kind == "AVERAGE_POOL_2D":
        patches, valid = _window_view(x, op, 0)
        acc = patches.astype(np.int64).sum(axis=(2, 3))
        count = valid.sum(axis=(2, 3))[..., None]
        avg = np.where(acc > 0, (acc + count // 2) // count, -((-acc + count // 2) // count))
        return np.clip(avg, p["act_min"], p["act_max"]).astype(np.int8)
    if op.kind == "MEAN":  # TFLM's QuantizedMeanOrSum: int32 sum, minus zp * count, one requantization
        mult, shift, count, reduce_h, reduce_w = op.extra[:5]
        axes = tuple(a for a, on in ((0, reduce_h), (1, reduce_w)) if on)
        acc = x.astype(np.int64).sum(axis=axes, keepdims=True) - p["in_zp"] * count
        out = requantize(acc, np.int64(mult), np.int64(shift)) + p["out_zp"]
        return np.clip(out, -128, 127).astype(np.int8).reshape(op.out_shape)
    raise NotImplementedError(op.kind)


def run_add(x1: np.ndarray, x2: np.ndarray, op: PlanOp) -> np.ndarray:
    """TFLM reference int8 ADD: both operands shifted left by 20, rescaled, summed, rescaled. The operands broadcast
    to the output as in NumPy (BroadcastAdd4DSlow: an operand's size-1 axes repeat)."""
    m1, s1, m2, s2, mo, so, left = (np.int64(v) for v in op.extra[:7])
    a = (np.broadcast_to(x1, op.out_shape).astype(np.int64) - op.params["in_zp"]) << left
    b = (np.broadcast_to(x2, op.out_shape).astype(np.int64) - op.params["in2_zp"]) << left
    total = requantize(a, m1, s1) + requantize(b, m2, s2)
    out = requantize(total, mo, so) + op.params["out_zp"]
    return np.clip(out, op.params["act_min"], op.params["act_max"]).astype(np.int8)


def run_plan(plan: Plan, x: np.ndarray) -> np.ndarray:
    """The plan on one input, every tensor living in one arena at its planned offset (so a planning error that
    overwrites a live tensor changes the result)."""
    arena = np.full(plan.arena_bytes, 0x55, dtype=np.uint8)

    def load(t: int, shape: tuple[int, ...]) -> np.ndarray:
        off = plan.offsets[t]
        return arena[off:off + int(np.prod(shape))].view(np.int8).reshape(shape).copy()

    def store(t: int, value: np.ndarray) -> None:
        off = plan.offsets[t]
        arena[off:off + value.size] = value.reshape(-1).view(np.uint8)

    store(plan.input.tensor, x.astype(np.int8))
    for step, op in enumerate(plan.ops):
        if step in plan.scratch_offsets:  # scribble over the scratch: it belongs to this op only
            off = plan.scratch_offsets[step]
            arena[off:off + op.scratch_bytes] = 0xAA
        if op.overlap:  # row by row, each row computed from the arena as it is then
            row = op.out_shape[1] * op.out_shape[2]
            for r in range(op.out_shape[0]):
                full = run_op(load(op.inputs[0], op.in_shape), op).reshape(-1)
                off = plan.offsets[op.output] + r * row
                arena[off:off + row] = full[r * row:(r + 1) * row].view(np.uint8)
            continue
        x1 = load(op.inputs[0], op.in_shape)
        if op.kind == "ADD":
            x2 = op.weights if op.weights is not None else load(op.inputs[1], op.in2_shape)
            store(op.output, run_add(x1, x2, op))
        else:
            store(op.output, run_op(x1, op))
    return load(plan.output.tensor, plan.output.shape[1:])


def edge_inputs(shape: tuple[int, ...], n_random: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    xs = [np.full(shape, -128), np.full(shape, 127), np.zeros(shape), rng.choice([-128, 127], size=shape)]
    xs += [rng.integers(-128, 128, size=shape) for _ in range(n_random)]
    return np.stack(xs).astype(np.int8)


# --- models (converted once) -----------------------------------------------------------------------------------

def _convert(layers: list[object], input_shape: tuple[int, ...], seed: int = 0) -> bytes:
    import keras

    from vigil.export.tflite import to_int8_tflite

    keras.utils.set_random_seed(seed)
    model = keras.Sequential([keras.Input(input_shape), *layers])
    # non-zero biases, so the bias path is exercised too
    for layer in model.layers:
        weights = layer.get_weights()
        if len(weights) == 2:
            layer.set_weights([weights[0], np.random.default_rng(seed).normal(0, 0.1, weights[1].shape)])
    rep = np.random.default_rng(seed + 1).uniform(-1, 1, (16, *input_shape))
    return to_int8_tflite(model, rep)


@pytest.fixture(scope="module")
def seed_cnn() -> bytes:
    import keras.layers as L

    return _convert([L.Conv2D(8, 3, activation="relu"), L.MaxPooling2D(2), L.Conv2D(16, 3, activation="relu"),
                     L.Flatten(), L.Dense(32, activation="relu"), L.Dense(3)], SEED_SHAPE)


@pytest.fixture(scope="module")
def mlp() -> bytes:
    import keras.layers as L

    return _convert([L.Dense(11, activation="relu"), L.Dense(5, activation="relu"), L.Dense(2)], (6,), seed=1)


@pytest.fixture(scope="module")
def dilated() -> bytes:
    """Dilated SAME conv (odd channels), dilated VALID depthwise with multiplier 2, strided SAME conv, avg pool,
    RELU6: exercises paddings, dilations, depthwise and pooling."""
    import keras.layers as L

    return _convert([L.Conv2D(3, 3, dilation_rate=2, padding="same", activation="relu6"),
                     L.DepthwiseConv2D(3, dilation_rate=(2, 3), depth_multiplier=2),
                     L.Conv2D(5, (2, 3), strides=2, padding="same", activation="relu"),
                     L.AveragePooling2D(2, padding="same"), L.Conv2D(1, 1), L.Flatten(), L.Dense(4)],
                    (17, 19, 2), seed=2)


@pytest.fixture(scope="module")
def pools() -> bytes:
    """Strided VALID conv to one channel from 3, SAME max pool at stride 1, strided SAME depthwise with RELU,
    VALID average pool at stride 2, dense with RELU6."""
    import keras.layers as L

    return _convert([L.Conv2D(1, 3, strides=2, padding="valid"), L.MaxPooling2D(3, strides=1, padding="same"),
                     L.Conv2D(7, 1), L.DepthwiseConv2D(3, strides=2, padding="same", activation="relu"),
                     L.AveragePooling2D(3, strides=2, padding="valid"), L.Flatten(),
                     L.Dense(5, activation="relu6")], (23, 21, 3), seed=6)


@pytest.fixture(scope="module")
def heads() -> bytes:
    """MEAN (global average pooling), LOGISTIC and SOFTMAX: planned, not yet run by the twin."""
    import keras
    import keras.layers as L

    from vigil.export.tflite import to_int8_tflite

    keras.utils.set_random_seed(9)
    x = keras.Input((6, 5, 3))
    h = L.GlobalAveragePooling2D()(L.Conv2D(4, 3, padding="same")(x))
    model = keras.Model(x, L.Softmax()(L.Dense(3)(L.Dense(4, activation="sigmoid")(h))))
    return to_int8_tflite(model, np.random.default_rng(9).uniform(-1, 1, (16, 6, 5, 3)))


def _functional(build: Callable[[Any, Any], Any], shape: tuple[int, ...], seed: int) -> bytes:
    """A Keras functional model `build(input, keras.layers)`, converted the usual way (representative data
    uniform in [-1, 1])."""
    import keras
    import keras.layers as L

    from vigil.export.tflite import to_int8_tflite

    keras.utils.set_random_seed(seed)
    x = keras.Input(shape)
    model = keras.Model(x, build(x, L))
    return to_int8_tflite(model, np.random.default_rng(seed).uniform(-1, 1, (16, *shape)))


def _patch_tflite(model: bytes, edit: Callable[[Any, Any], None]) -> bytes:
    """The model with `edit(schema, subgraph 0 as an object tree)` applied, written back as a .tflite: for cases
    the converter never writes but a .tflite may hold (TFLM is the oracle for the edited file)."""
    import flatbuffers
    from tflite_micro.tensorflow.lite.micro.python import schema_py_generated as schema

    tree = schema.ModelT.InitFromObj(schema.Model.GetRootAsModel(bytearray(model), 0))
    edit(tree, tree.subgraphs[0])
    builder = flatbuffers.Builder(len(model) + 1024)
    builder.Finish(tree.Pack(builder), file_identifier=b"TFL3")
    return bytes(builder.Output())


def _opcode_is(tree: Any, op: Any, name: str) -> bool:
    from tflite_micro.tensorflow.lite.micro.python import schema_py_generated as schema

    code = tree.operatorCodes[op.opcodeIndex]
    return max(code.builtinCode, code.deprecatedBuiltinCode) == getattr(schema.BuiltinOperator, name)


def add_broadcast() -> bytes:
    """ADDs of two activations of different shapes, both operand orders: (h, w, c) + (1, 1, c) (Keras
    GlobalAveragePooling2D(keepdims=True) of the same tensor), (1, 1, c) + (h, w, c), (h, w, c) + (h, w, 1) (a
    one-filter conv), (h, w, 1) + (1, 1, c) (both operands broadcast), then a same-shape ADD; odd sizes."""
    def build(x: Any, L: Any) -> Any:
        a = L.Conv2D(4, 3, padding="same", activation="relu")(x)
        g = L.GlobalAveragePooling2D(keepdims=True)(a)
        c1 = L.Conv2D(1, 1)(a)
        h = L.Add()([L.Add()([g, L.Add()([a, g])]), c1])
        return L.Add()([h, L.Add()([c1, g])])
    return _functional(build, (7, 5, 3), seed=21)


def add_broadcast_thin() -> bytes:
    """Broadcast ADDs on a one-pixel-wide tensor (W = 1): (h, 1, 1) + (1, 1, c) and back, (1, 1, c) + (h, 1, c),
    then a constant (h, 1, 1) column added (the converter keeps it as the ADD's second operand), a flatten and a
    dense layer."""
    import keras

    column = np.linspace(-0.5, 0.7, 9, dtype=np.float32).reshape(9, 1, 1)

    def build(x: Any, L: Any) -> Any:
        a = L.Conv2D(3, (3, 1), padding="same")(x)
        g = L.Lambda(lambda t: keras.ops.mean(t, axis=1, keepdims=True))(a)  # (1, 1, 3): W is already 1
        c1 = L.Conv2D(1, 1, activation="relu")(a)
        h = L.Add()([g, L.Add()([c1, g])])
        h = L.Lambda(lambda t: t + column)(h)
        return L.Dense(3)(L.Flatten()(h))
    return _functional(build, (9, 1, 2), seed=22)


def add_constants() -> bytes:
    """Constant operands that are larger than the activation: (1, 1, c) activation + (h, 1, c) constant (the
    converter folds the Keras `(t + v) + column` into one), and (h, w, c) + a (1, w, 1) constant row."""
    row = np.linspace(-0.4, 0.6, 5, dtype=np.float32).reshape(1, 5, 1)

    def build(x: Any, L: Any) -> Any:
        import keras

        a = L.Lambda(lambda t: t + row)(L.MaxPooling2D(1)(x))  # (4, 5, 3) + (1, 5, 1)
        g = L.GlobalAveragePooling2D(keepdims=True)(a)  # (1, 1, 3)
        column = np.linspace(-0.5, 0.7, 4, dtype=np.float32).reshape(4, 1, 1)
        vec = np.array([0.3, -0.2, 0.1], dtype=np.float32)
        b = L.Lambda(lambda t: keras.ops.add(t, vec) + column)(g)  # (1, 1, 3) + (4, 1, 3) constant
        return L.Add()([L.Conv2D(3, (1, 5))(a), b])  # (4, 1, 3) + (4, 1, 3)
    return _functional(build, (4, 5, 3), seed=25)


def _is_constant(tree: Any, sg: Any, tensor: int) -> bool:
    data = tree.buffers[sg.tensors[tensor].buffer].data
    return data is not None and len(data) > 0


def add_constant_first() -> bytes:
    """add_constants with every constant ADD operand made TFLite's input 0 (the converter writes it second; a
    .tflite may have it first, and TFLM then applies input 1's parameters to the constant)."""
    def edit(tree: Any, sg: Any) -> None:
        for op in sg.operators:
            if _opcode_is(tree, op, "ADD") and _is_constant(tree, sg, op.inputs[1]):
                op.inputs = np.asarray(op.inputs[::-1], dtype=np.int32)
    return _patch_tflite(add_constants(), edit)


def mean_axes() -> bytes:
    """MEAN over H only (axis 1) and over W only (axis -2), keep_dims true, added ((1, w, c) + (h, 1, c): both
    operands broadcast), then MEAN over H and W added back."""
    import keras

    def build(x: Any, L: Any) -> Any:
        a = L.Conv2D(4, 3, padding="same")(x)
        mh = L.Lambda(lambda t: keras.ops.mean(t, axis=1, keepdims=True))(a)
        mw = L.Lambda(lambda t: keras.ops.mean(t, axis=-2, keepdims=True))(a)
        s = L.Add()([mh, mw])
        return L.Add()([s, L.GlobalAveragePooling2D(keepdims=True)(s)])
    return _functional(build, (7, 5, 3), seed=23)


def mean_flat() -> bytes:
    """MEAN with keep_dims false over W only ((1, 7, 5, 4) -> (1, 7, 4)) and over H only (-> (1, 5, 4)), reshaped
    back to (7, 1, 4) and (1, 5, 4) and added, then global average pooling (axes 1 and 2, keep_dims false)."""
    import keras

    def build(x: Any, L: Any) -> Any:
        a = L.Conv2D(4, 3, padding="same")(x)
        mw = L.Reshape((7, 1, 4))(L.Lambda(lambda t: keras.ops.mean(t, axis=2))(a))
        mh = L.Reshape((1, 5, 4))(L.Lambda(lambda t: keras.ops.mean(t, axis=1))(a))
        return L.Dense(3)(L.GlobalAveragePooling2D()(L.Add()([mw, mh])))
    return _functional(build, (7, 5, 3), seed=23)


def mean_1d() -> bytes:
    """Rank-3 activations (Keras 1D): GlobalAveragePooling1D with keep_dims true added back, then without."""
    def build(x: Any, L: Any) -> Any:
        g = L.GlobalAveragePooling1D(keepdims=True)(x)
        return L.Dense(2)(L.GlobalAveragePooling1D()(L.Add()([x, g])))
    return _functional(build, (11, 3), seed=24)


def mean_thin() -> bytes:
    """MEAN over a 1-wide W (one value per mean), keep_dims false, then over the rank-3 result's axis 1."""
    import keras

    def build(x: Any, L: Any) -> Any:
        m = L.Lambda(lambda t: keras.ops.mean(t, axis=2))(L.Conv2D(3, (2, 1), activation="relu")(x))
        return L.Dense(2)(L.GlobalAveragePooling1D()(m))
    return _functional(build, (9, 1, 2), seed=26)


def _means_keep_quantization(model: bytes) -> bytes:
    """The model with every MEAN output given its input's scale and zero point (the converter calibrates its own).
    TFLM once had a separate integer path for MEANs that do not requantize; this shows which path runs now."""
    def edit(tree: Any, sg: Any) -> None:
        for op in sg.operators:
            if _opcode_is(tree, op, "MEAN"):
                sg.tensors[op.outputs[0]].quantization = copy.deepcopy(sg.tensors[op.inputs[0]].quantization)
    return _patch_tflite(model, edit)


def mean_axes_same_quant() -> bytes:
    """mean_axes (keep_dims true: H, W, and H and W together) with equal input and output quantizations."""
    return _means_keep_quantization(mean_axes())


def mean_1d_same_quant() -> bytes:
    """mean_1d (keep_dims true and false) with equal input and output quantizations."""
    return _means_keep_quantization(mean_1d())


#: Models whose ADDs broadcast two activations or a constant, and MEANs over one axis or without keep_dims (the
#: engine refused or ran them wrongly before), with the ADD/MEAN shapes each plan must have.
BROADCAST_MODELS: dict[str, Callable[[], bytes]] = {
    "add_broadcast": add_broadcast, "add_broadcast_thin": add_broadcast_thin, "add_constants": add_constants,
    "add_constant_first": add_constant_first, "mean_axes": mean_axes, "mean_flat": mean_flat, "mean_1d": mean_1d,
    "mean_thin": mean_thin, "mean_axes_same_quant": mean_axes_same_quant, "mean_1d_same_quant": mean_1d_same_quant,
}


def _oracle(model: bytes, xs: np.ndarray) -> np.ndarray:
    from vigil.export.tflite import tflm_reference

    return tflm_reference(model, xs)


# --- reading ---------------------------------------------------------------------------------------------------

@pytest.mark.slow
def test_read_seed_cnn(seed_cnn: bytes) -> None:
    g = read_tflite(seed_cnn)
    assert g.op_names() == ["CONV_2D", "MAX_POOL_2D", "CONV_2D", "SHAPE", "STRIDED_SLICE", "PACK", "RESHAPE",
                            "FULLY_CONNECTED", "FULLY_CONNECTED"]
    conv1 = g.operators[0]
    assert conv1.options["padding"] == "VALID" and conv1.options["fused_activation_function"] == "RELU"
    assert (conv1.options["stride_h"], conv1.options["dilation_w_factor"]) == (1, 1)
    w = g.tensors[conv1.inputs[1]]
    assert w.shape == (8, 3, 3, 1) and w.dtype == np.int8 and w.data is not None
    assert w.quant.per_channel and w.quant.scales.size == 8 and w.quant.axis == 0
    bias = g.tensors[conv1.inputs[2]]
    assert bias.dtype == np.int32 and bias.data.shape == (8,)
    pool = g.operators[1].options
    assert (pool["filter_height"], pool["filter_width"], pool["stride_h"]) == (2, 2, 2)
    inp, out = g.tensors[g.inputs[0]], g.tensors[g.outputs[0]]
    assert inp.shape == (1, *SEED_SHAPE) and inp.dtype == np.int8 and not inp.quant.per_channel
    assert out.shape == (1, 3) and out.dtype == np.int8
    dense = g.tensors[g.operators[7].inputs[1]]
    assert dense.shape == (32, 15312) and dense.quant.scales.size == 32  # per-channel dense weights


@pytest.mark.slow
def test_read_mlp(mlp: bytes) -> None:
    g = read_tflite(mlp)
    assert g.op_names() == ["FULLY_CONNECTED"] * 3
    assert [g.tensors[op.inputs[1]].shape for op in g.operators] == [(11, 6), (5, 11), (2, 5)]
    assert [op.options["fused_activation_function"] for op in g.operators] == ["RELU", "RELU", "NONE"]


def test_not_a_tflite_file() -> None:
    with pytest.raises(tflite_reader.TfliteFormatError):
        read_tflite(b"\x00" * 64)


# --- rewriting -------------------------------------------------------------------------------------------------

@pytest.mark.slow
def test_flatten_folds_to_static_reshape(seed_cnn: bytes) -> None:
    raw = read_tflite(seed_cnn)
    g = graph_rewrite.rewrite(raw)
    assert raw.op_names()[3:7] == ["SHAPE", "STRIDED_SLICE", "PACK", "RESHAPE"]
    assert g.op_names() == ["CONV_2D", "MAX_POOL_2D", "CONV_2D", "RESHAPE", "FULLY_CONNECTED", "FULLY_CONNECTED"]
    reshape = g.operators[3]
    assert reshape.inputs == (raw.operators[6].inputs[0],) and reshape.options["new_shape"] == [1, 15312]
    assert reshape.index == 6  # original position kept
    # the rewritten graph, serialized, runs in TFLM with outputs identical to the original's
    xs = edge_inputs(SEED_SHAPE, 4, seed=3)
    assert np.array_equal(_oracle(graph_rewrite.to_tflite(g, seed_cnn), xs), _oracle(seed_cnn, xs))


@pytest.mark.slow
def test_dilated_convs_fuse(dilated: bytes) -> None:
    raw = read_tflite(dilated)
    g = graph_rewrite.rewrite(raw)
    # the bias of a dilated conv comes out as a separate ADD of a constant (with the fused activation)
    assert raw.op_names() == ["SPACE_TO_BATCH_ND", "CONV_2D", "BATCH_TO_SPACE_ND", "ADD",
                              "SPACE_TO_BATCH_ND", "DEPTHWISE_CONV_2D", "BATCH_TO_SPACE_ND", "ADD",
                              "CONV_2D", "AVERAGE_POOL_2D", "CONV_2D",
                              "SHAPE", "STRIDED_SLICE", "PACK", "RESHAPE", "FULLY_CONNECTED"]
    assert g.op_names() == ["CONV_2D", "ADD", "DEPTHWISE_CONV_2D", "ADD", "CONV_2D", "AVERAGE_POOL_2D", "CONV_2D",
                            "RESHAPE", "FULLY_CONNECTED"]
    assert g.operators[1].options["fused_activation_function"] == "RELU6"
    c0, c1 = g.operators[0].options, g.operators[2].options
    assert (c0["padding"], c0["dilation_h_factor"], c0["dilation_w_factor"]) == ("SAME", 2, 2)
    assert (c1["padding"], c1["dilation_h_factor"], c1["dilation_w_factor"]) == ("VALID", 2, 3)
    assert g.operators[0].inputs[0] == raw.inputs[0]
    assert g.operators[2].outputs == raw.operators[6].outputs
    # Found here: TFLM runs the converter's SPACE_TO_BATCH_ND form wrongly (the flatbuffer gives the batched
    # intermediate tensors batch 1), so the original file is not a usable oracle for dilated convolutions.
    # The fused model is checked against TensorFlow Lite's interpreter on the original file (within its known
    # off-by-one rounding difference), and is then itself the TFLM oracle for the plan (test_plan_bit_exact).
    import tensorflow as tf

    xs = edge_inputs((17, 19, 2), 6, seed=4)
    fused = _oracle(graph_rewrite.to_tflite(g, dilated), xs).astype(np.int32)
    interp = tf.lite.Interpreter(model_content=dilated)
    interp.allocate_tensors()
    tfl = []
    for x in xs:
        interp.set_tensor(interp.get_input_details()[0]["index"], x[None])
        interp.invoke()
        tfl.append(interp.get_tensor(interp.get_output_details()[0]["index"])[0].astype(np.int32))
    assert np.abs(fused - np.stack(tfl)).max() <= 1


def _unsupported(layers_fn: object) -> bytes:
    import keras
    import keras.layers as L

    from vigil.export.tflite import to_int8_tflite

    keras.utils.set_random_seed(5)
    model = layers_fn(keras, L)
    return to_int8_tflite(model, np.random.default_rng(5).uniform(-1, 1, (8, 6)))


@pytest.mark.slow
def test_unsupported_ops_are_refused_by_name_and_position() -> None:
    tanh = _unsupported(lambda k, L: k.Sequential([k.Input((6,)), L.Dense(4), L.Activation("tanh"), L.Dense(2)]))
    assert read_tflite(tanh, check_ops=False).op_names() == ["FULLY_CONNECTED", "TANH", "FULLY_CONNECTED"]
    with pytest.raises(UnsupportedOpError, match=r"unsupported op TANH at operator 1 \(0-based, of 3"):
        read_tflite(tanh)

    def concat(k: object, L: object) -> object:
        x = k.Input((6,))
        return k.Model(x, L.Dense(2)(L.Concatenate()([L.Dense(3)(x), L.Dense(4)(x)])))

    cat = _unsupported(concat)
    names = read_tflite(cat, check_ops=False).op_names()
    with pytest.raises(UnsupportedOpError) as err:
        read_tflite(cat)
    assert err.value.op_name == "CONCATENATION" and err.value.index == names.index("CONCATENATION")
    assert f"at operator {names.index('CONCATENATION')}" in str(err.value)


# --- plans -----------------------------------------------------------------------------------------------------

def _plan(model: bytes) -> Plan:
    return compile_plan(graph_rewrite.rewrite(read_tflite(model)))


def check_arena(plan: Plan) -> None:
    """Exhaustively: no two buffers (tensors, scratch) live at the same step share a byte, except an
    overlapping op's input and output, whose every output row must end before the input rows it still
    needs; arena <= naive sum; aligned."""
    buffers = {r: (plan.offsets[r], plan.sizes[r], plan.lifetimes[r]) for r in set(plan.alias.values())}
    for step, off in plan.scratch_offsets.items():
        buffers[-1 - step] = (off, plan.ops[step].scratch_bytes, (step, step))
    allowed = set()
    for op in plan.ops:
        if op.overlap:
            src, dst = plan.alias[op.inputs[0]], plan.alias[op.output]
            allowed.add(frozenset((src, dst)))
            assert plan.offsets[src] - plan.offsets[dst] >= planmod.overlap_delta(op)
    for a, b in itertools.combinations(sorted(buffers), 2):
        (oa, sa, la), (ob, sb, lb) = buffers[a], buffers[b]
        if la[1] < lb[0] or lb[1] < la[0] or frozenset((a, b)) in allowed:
            continue
        assert oa + sa <= ob or ob + sb <= oa, (a, b)
    for off, size, _ in buffers.values():
        assert off % planmod.ARENA_ALIGN == 0 and off + size <= plan.arena_bytes
    assert plan.arena_bytes <= plan.naive_arena_bytes + sum(op.scratch_bytes for op in plan.ops)


@pytest.mark.slow
def test_seed_cnn_plan(seed_cnn: bytes) -> None:
    plan = _plan(seed_cnn)
    assert plan.macs == SEED_MACS == 1_914_600
    assert [op.macs for op in plan.ops] == [322_056, 0, 1_102_464, 0, 489_984, 96]
    check_arena(plan)
    # conv1 output (63*71*8) and conv1 input (65*73) are live together, then the pool output (31*35*8):
    # without conv+pool fusion (a kernel-side change) this is the least a tensor-level plan can do.
    assert plan.arena_bytes == 63 * 71 * 8 + 31 * 35 * 8 == 44_464
    assert plan.naive_arena_bytes > plan.arena_bytes
    reshape = plan.ops[3]
    assert plan.offsets[reshape.output] == plan.offsets[reshape.inputs[0]]  # in place
    assert plan.weight_bytes == sum(op.weights.nbytes + op.bias.nbytes + op.multipliers.nbytes + op.shifts.nbytes
                                    for op in plan.ops if op.weights is not None)


def test_arena_planner_random_lifetimes() -> None:
    rng = np.random.default_rng(7)
    for _ in range(200):
        n = int(rng.integers(1, 12))
        sizes = {i: int(rng.integers(1, 100)) for i in range(n)}
        starts = rng.integers(0, 10, n)
        life = {i: (int(starts[i]), int(starts[i] + rng.integers(0, 5))) for i in range(n)}
        off = assign_offsets(sizes, life)
        for a, b in itertools.combinations(range(n), 2):
            if not (life[a][1] < life[b][0] or life[b][1] < life[a][0]):
                assert off[a] + sizes[a] <= off[b] or off[b] + sizes[b] <= off[a]
        assert max(off[i] + sizes[i] for i in range(n)) <= sum(-(-s // 4) * 4 for s in sizes.values())


PLANNED_OPS = {
    "seed_cnn": ["CONV_2D", "MAX_POOL_2D", "CONV_2D", "RESHAPE", "FULLY_CONNECTED", "FULLY_CONNECTED"],
    "mlp": ["FULLY_CONNECTED"] * 3,
    "dilated": ["CONV_2D", "ADD", "DEPTHWISE_CONV_2D", "ADD", "CONV_2D", "AVERAGE_POOL_2D", "CONV_2D", "RESHAPE",
                "FULLY_CONNECTED"],
    "pools": ["CONV_2D", "MAX_POOL_2D", "CONV_2D", "DEPTHWISE_CONV_2D", "AVERAGE_POOL_2D", "RESHAPE",
              "FULLY_CONNECTED"],
}


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["plain", "fused+overlap"])
@pytest.mark.parametrize("name", sorted(PLANNED_OPS))
def test_plan_bit_exact_with_tflm(name: str, mode: str, request: pytest.FixtureRequest) -> None:
    """The plan's parameters, run by the integer twin in its planned arena, give TFLM's outputs exactly."""
    model = request.getfixturevalue(name)
    g = graph_rewrite.rewrite(read_tflite(model))
    fancy = mode != "plain"
    plan = compile_plan(g, fuse_pool=fancy, overlap=fancy)
    if not fancy:
        assert plan.op_names() == PLANNED_OPS[name]
    check_arena(plan)
    oracle_model = graph_rewrite.oracle_tflite(model)
    assert (oracle_model == model) == (name != "dilated")
    shape = tuple(plan.input.shape[1:])
    xs = edge_inputs(shape, (12 if not fancy else 2) if name == "seed_cnn" else 60, seed=8)
    expected = _oracle(oracle_model, xs)
    got = np.stack([run_plan(plan, x) for x in xs])
    assert got.shape == expected.shape
    assert np.array_equal(got, expected), f"{(got != expected).sum()} mismatches of {got.size}"


@pytest.mark.slow
def test_plan_of_mean_logistic_softmax(heads: bytes) -> None:
    """Planned with TFLM's Prepare-time parameters; their kernels are not yet checked (no twin for them here)."""
    plan = _plan(heads)
    assert plan.op_names() == ["CONV_2D", "MEAN", "FULLY_CONNECTED", "LOGISTIC", "FULLY_CONNECTED", "SOFTMAX"]
    check_arena(plan)
    mean, logistic, softmax = plan.ops[1], plan.ops[3], plan.ops[5]
    g = graph_rewrite.rewrite(read_tflite(heads))
    ratio = g.tensors[mean.inputs[0]].quant.scale / g.tensors[mean.output].quant.scale / 30
    assert mean.extra[2] == 6 * 5 and abs(mean.extra[0] * 2.0 ** (mean.extra[1] - 31) / ratio - 1) < 1e-6
    assert (1 << 30) <= logistic.extra[0] <= (1 << 31) and logistic.extra[2] > 0
    assert (1 << 30) <= softmax.extra[0] < (1 << 31) and softmax.extra[1] >= 0 and softmax.extra[2] < 0
    assert logistic.params["out_zp"] == softmax.params["out_zp"] == -128


class _Models(dict):  # type: ignore[type-arg]
    """name → .tflite of BROADCAST_MODELS, converted on first use."""

    def __missing__(self, name: str) -> bytes:
        self[name] = BROADCAST_MODELS[name]()
        return self[name]


@pytest.fixture(scope="module")
def broadcast_models() -> _Models:
    return _Models()


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["plain", "fused+overlap"])
@pytest.mark.parametrize("name", sorted(BROADCAST_MODELS))
def test_broadcast_add_and_mean_bit_exact(name: str, mode: str, broadcast_models: _Models) -> None:
    """ADD with broadcasting operands (two activations, or a constant, either order) and MEAN over H, W or both with
    or without keep_dims: the plan, run by the integer twin, gives TFLM's outputs exactly."""
    model = broadcast_models[name]
    fancy = mode != "plain"
    plan = compile_plan(graph_rewrite.rewrite(read_tflite(model)), fuse_pool=fancy, overlap=fancy)  # (the twin
    check_arena(plan)                                                  # has no small_fc: the C tests run that)
    xs = edge_inputs(tuple(plan.input.shape[1:]), 60, seed=8)
    expected = _oracle(model, xs)
    got = np.stack([run_plan(plan, x) for x in xs])
    assert got.shape == expected.shape
    assert np.array_equal(got, expected), f"{(got != expected).sum()} mismatches of {got.size}"


def _ops(plan: Plan, kind: str) -> list[PlanOp]:
    return [op for op in plan.ops if op.kind == kind]


@pytest.mark.slow
def test_broadcast_add_plans(broadcast_models: _Models) -> None:
    """What the plans hold: each ADD's operand and output shapes as TFLite has them (operand order kept), a
    constant as the second operand with its own shape, and a constant TFLite gives first swapped to second together
    with its zero point, multiplier and shift."""
    plan = _plan(broadcast_models["add_broadcast"])
    assert [(op.in_shape, op.in2_shape, op.out_shape) for op in _ops(plan, "ADD")] == [
        ((7, 5, 4), (1, 1, 4), (7, 5, 4)), ((1, 1, 4), (7, 5, 4), (7, 5, 4)), ((7, 5, 4), (7, 5, 1), (7, 5, 4)),
        ((7, 5, 1), (1, 1, 4), (7, 5, 4)), ((7, 5, 4), (7, 5, 4), (7, 5, 4))]
    assert all(len(op.inputs) == 2 and op.weights is None for op in _ops(plan, "ADD"))
    plan = _plan(broadcast_models["add_constants"])
    consts = [op for op in _ops(plan, "ADD") if op.weights is not None]
    assert [(op.in_shape, op.in2_shape, op.out_shape) for op in consts] == [
        ((4, 5, 3), (1, 5, 1), (4, 5, 3)), ((1, 1, 3), (4, 1, 3), (4, 1, 3))]
    assert all(op.weights.shape == op.in2_shape and len(op.inputs) == 1 for op in consts)
    swapped = [op for op in _ops(_plan(broadcast_models["add_constant_first"]), "ADD") if op.weights is not None]
    g = read_tflite(broadcast_models["add_constant_first"])
    assert all(g.tensors[g.operators[op.source_index].inputs[0]].is_constant for op in swapped)
    for op, orig in zip(swapped, consts):
        assert (op.in_shape, op.in2_shape, op.inputs) == (orig.in_shape, orig.in2_shape, orig.inputs)
        assert np.array_equal(op.weights, orig.weights) and op.extra == orig.extra
        assert (op.params["in_zp"], op.params["in2_zp"]) == (orig.params["in_zp"], orig.params["in2_zp"])


@pytest.mark.slow
def test_mean_plans_carry_the_reduced_axes(broadcast_models: _Models) -> None:
    """MEAN's p[] names the reduced axes (NN_P_MEAN_REDUCE_H/W): with keep_dims false a W-only mean's output
    (1, 7, 4) looks like an H-only mean's in (h, w, c), so the shape cannot tell them."""
    def means(name: str) -> list[tuple[object, ...]]:
        return [(op.in_shape, op.out_shape, *op.extra[2:5]) for op in _ops(_plan(broadcast_models[name]), "MEAN")]

    # (input, output as the tensor's own (h, w, c), count, reduce_h, reduce_w)
    assert means("mean_flat") == [((7, 5, 4), (1, 7, 4), 5, 0, 1), ((7, 5, 4), (1, 5, 4), 7, 1, 0),
                                  ((7, 5, 4), (1, 1, 4), 35, 1, 1)]
    assert means("mean_axes") == [((7, 5, 4), (1, 5, 4), 7, 1, 0), ((7, 5, 4), (7, 1, 4), 5, 0, 1),
                                  ((7, 5, 4), (1, 1, 4), 35, 1, 1)]
    assert means("mean_1d") == [((1, 11, 3), (1, 1, 3), 11, 0, 1), ((1, 11, 3), (1, 1, 3), 11, 0, 1)]
    assert means("mean_thin") == [((8, 1, 3), (1, 8, 3), 1, 0, 1), ((1, 8, 3), (1, 1, 3), 8, 0, 1)]
    g = read_tflite(broadcast_models["mean_axes_same_quant"])
    for op in (op for op in g.operators if op.opcode == "MEAN"):
        a, b = g.tensors[op.inputs[0]].quant, g.tensors[op.outputs[0]].quant
        assert (a.scale, a.zero_point) == (b.scale, b.zero_point)


@pytest.mark.slow
def test_add_and_mean_outside_the_engine_are_refused(broadcast_models: _Models) -> None:
    """MEAN over the channels (alone or with W) and ADD operands that do not broadcast stay outside the op set."""
    import keras

    for axes in (-1, (2, 3)):
        model = _functional(lambda x, L, ax=axes: L.Lambda(lambda t: keras.ops.mean(t, axis=ax, keepdims=True))(
            L.Conv2D(3, 1)(x)), (4, 5, 2), seed=27)
        with pytest.raises(UnsupportedOpError, match=r"MEAN over axes .* only H and/or W"):
            _plan(model)
    g = graph_rewrite.rewrite(read_tflite(broadcast_models["add_broadcast"]))
    add = next(op for op in g.operators if op.opcode == "ADD")
    n_ops = len(g.operators)
    assert planmod._compile_op(g, add, n_ops).in2_shape == (1, 1, 4)
    g.tensors[add.inputs[1]] = replace(g.tensors[add.inputs[1]], shape=(1, 1, 3, 4))  # w 3 against 5
    with pytest.raises(UnsupportedOpError, match="do not broadcast"):
        planmod._compile_op(g, add, n_ops)
    last = g.operators[-1]  # (7, 5, 4) + (7, 5, 4) cannot give the (7, 5, 8) it is made to claim
    g.tensors[last.outputs[0]] = replace(g.tensors[last.outputs[0]], shape=(1, 7, 5, 8))
    with pytest.raises(UnsupportedOpError, match="do not broadcast to the output"):
        planmod._compile_op(g, last, n_ops)


def test_every_supported_op_has_one_prepare_function() -> None:
    """The plan compiler dispatches on the op code (TFLM's Prepare per op kind): every op the reader accepts has a
    prepare function, and an op without one is refused by name and position, not passed on."""
    assert set(planmod._PREPARE) == set(tflite_reader.SUPPORTED_OPS)
    graph = tflite_reader.Graph(tensors=[], operators=[], inputs=(), outputs=())
    tanh = tflite_reader.Operator(index=1, opcode="TANH", inputs=(0,), outputs=(1,))
    with pytest.raises(UnsupportedOpError, match=r"unsupported op TANH at operator 1 \(0-based, of 3"):
        planmod._compile_op(graph, tanh, 3)


def test_quantize_multiplier_tflm_semantics() -> None:
    qm = planmod.quantize_multiplier
    assert qm(0.0) == (0, 0)
    assert qm(0.5) == (1 << 30, 0)
    assert qm(1.0) == (1 << 30, 1)
    assert qm(0.75) == (3 << 29, 0)
    assert qm(2.0 ** -40) == (0, 0)  # shift below -31 flushes to zero
    assert qm(1.0 - 2.0 ** -33) == (1 << 30, 1)  # rounds up to 2^31: halved, shift + 1
    m, s = qm(0.0123456)
    assert abs(m * 2.0 ** (s - 31) - 0.0123456) < 1e-11 and (1 << 30) <= m < (1 << 31)


def test_activation_ranges() -> None:
    q = tflite_reader.Quantization(np.array([0.05], dtype=np.float32), np.array([-20]), 0)
    t = tflite_reader.Tensor(0, "t", (1, 4), np.dtype(np.int8), None, q)
    assert planmod.activation_range("NONE", t) == (-128, 127)
    assert planmod.activation_range("RELU", t) == (-20, 127)
    assert planmod.activation_range("RELU6", t) == (-20, 100)


# --- headers ---------------------------------------------------------------------------------------------------

@pytest.mark.slow
def test_headers_deterministic_and_compile(seed_cnn: bytes, mlp: bytes, tmp_path: Path) -> None:
    plan = _plan(mlp)
    a = headers.write_headers("stress_nn", mlp, plan, tmp_path / "a")
    b = headers.write_headers("stress_nn", mlp, _plan(mlp), tmp_path / "b")
    assert [p.name for p in a] == ["stress_nn.tflite", "stress_nn_tflite.h", "stress_nn_plan.h"]
    assert all(x.read_bytes() == y.read_bytes() for x, y in zip(a, b))
    assert (tmp_path / "a" / "stress_nn.tflite").read_bytes() == mlp
    tfl_h = (tmp_path / "a" / "stress_nn_tflite.h").read_text()
    assert "VIGIL_NN_ALIGNED(16) const unsigned char stress_nn_tflite[]" in tfl_h
    assert f"stress_nn_tflite_len = {len(mlp)}u" in tfl_h
    entry = headers.export_model(seed_cnn, "sleep_cnn", tmp_path / "a")
    # export_model writes the plan the engine runs: conv + max pool fused, rows in place.
    assert entry["macs"] == SEED_MACS and entry["arena_bytes"] == 20_992
    assert entry["ops"] == ["CONV_2D", "CONV_2D", "RESHAPE", "FULLY_CONNECTED", "FULLY_CONNECTED"]
    assert entry["files"] == ["sleep_cnn.tflite", "sleep_cnn_tflite.h", "sleep_cnn_plan.h"]
    assert len(str(entry["sha256"])) == 64
    with pytest.raises(Exception, match="C identifier"):
        headers.check_name("9bad-name")
    fused = compile_plan(graph_rewrite.rewrite(read_tflite(seed_cnn)), fuse_pool=True, overlap=True)
    assert fused.arena_bytes == 20_992 <= 23 * 1024  # issue 4's arena target for this model
    (tmp_path / "a" / "sleep_fused_plan.h").write_text(headers.plan_header("sleep_fused", fused, seed_cnn))
    fused_h = (tmp_path / "a" / "sleep_fused_plan.h").read_text()
    assert ".flags = NN_OP_FLAG_POOL," in fused_h and ".flags = NN_OP_FLAG_OUT_OVERLAPS_IN," in fused_h
    gcc = shutil.which("gcc")
    if gcc is None:
        pytest.skip("no gcc")
    probe = tmp_path / "probe.c"
    probe.write_text(
        '#include <stdio.h>\n#include <string.h>\n#include "stress_nn_tflite.h"\n#include "stress_nn_plan.h"\n'
        '#include "sleep_cnn_plan.h"\n#include "sleep_fused_plan.h"\n'
        "int main(void) {\n"
        '    printf("%u %u %u %u %u %u\\n", (unsigned)stress_nn_plan.n_ops, (unsigned)stress_nn_plan.arena_bytes,\n'
        "           (unsigned)sleep_cnn_plan.n_ops, (unsigned)sleep_cnn_plan.macs,\n"
        "           (unsigned)((size_t)stress_nn_tflite % 16u), stress_nn_tflite_len);\n"
        '    printf("%u %u\\n", (unsigned)sleep_fused_plan.arena_bytes, (unsigned)sleep_fused_ops[0].pool_h);\n'
        '    printf("%d %d\\n", (int)sleep_cnn_ops[0].out_mult[0], (int)sleep_cnn_ops[0].out_shift[0]);\n'
        "    return 0;\n}\n")
    exe = tmp_path / "probe"
    flags = ["-std=c11", "-Wall", "-Wextra", "-Wshadow", "-Wstrict-prototypes", "-Werror",
             f"-I{ROOT / 'firmware' / 'core'}", f"-I{tmp_path / 'a'}"]
    subprocess.run([gcc, *flags, str(probe), "-o", str(exe)], check=True, capture_output=True, text=True)
    out = subprocess.run([str(exe)], check=True, capture_output=True, text=True).stdout.split()
    seed_plan = fused  # export_model wrote sleep_cnn_plan.h from the engine's (fused) plan
    assert out == [str(len(plan.ops)), str(plan.arena_bytes), str(len(seed_plan.ops)), str(SEED_MACS), "0",
                   str(len(mlp)), "20992", "2", str(seed_plan.ops[0].multipliers[0]), str(seed_plan.ops[0].shifts[0])]
    arm = shutil.which("arm-none-eabi-gcc")
    if arm is not None:
        subprocess.run([arm, *CORTEX_M4_FLAGS, *flags, "-O2",
                        "-c", str(probe), "-o", str(tmp_path / "probe.o")], check=True, capture_output=True, text=True)
