"""The int8 NN kernels (firmware/core/nn) against the tflite-micro interpreter, op by op.

Each case builds a one-op Keras model with random weights, converts it with full-integer
quantization (int8 in/out, per-channel weights), reads the quantized tensors and options from the
`.tflite`, computes the kernel parameters on the host (vigil.export.quant), runs the C kernel
through `program harness nn` (firmware/tests/test_nn_kernels.c documents the format) and the
model through TFLM, and requires identical int8 outputs on random and edge inputs."""

from __future__ import annotations

import re
import struct
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np
import pytest

import nn_models  # tests/ is on sys.path (pytest's rootdir-relative import of test modules)
from nn_models import OpInfo, schema
from vigil.export import quant
from vigil.export.plan import FC_SMALL_MAX_INPUTS, fc_small_rows, fold_fc_input_offset, interleave_fc_weights, relu_params

ROOT = Path(__file__).resolve().parents[1]
FIRMWARE = ROOT / "firmware"



def _harness_ops() -> dict[str, int]:
    """The harness's op numbers, read from their one definition: each HARNESS_OP_* of test_nn_kernels.c is an
    nn_op_kind of nn_plan.h or a number of its own."""
    kinds = {m[1]: int(m[2]) for m in re.finditer(r"\b(NN_OP_\w+)\s*=\s*(\d+)",
                                                     (FIRMWARE / "core" / "nn" / "nn_plan.h").read_text())}
    defines = re.findall(r"#define HARNESS_OP_(\w+) (\w+)", (FIRMWARE / "tests" / "test_nn_kernels.c").read_text())
    return {name: int(value) if value.isdigit() else kinds[value] for name, value in defines}


HARNESS_OPS = _harness_ops()
OP_CONV2D = HARNESS_OPS["CONV2D"]
OP_DEPTHWISE_CONV2D = HARNESS_OPS["DEPTHWISE_CONV2D"]
OP_FULLY_CONNECTED = HARNESS_OPS["FULLY_CONNECTED"]
OP_MAX_POOL2D = HARNESS_OPS["MAX_POOL2D"]
OP_AVG_POOL2D = HARNESS_OPS["AVG_POOL2D"]
OP_ADD = HARNESS_OPS["ADD"]
OP_MEAN = HARNESS_OPS["MEAN"]
OP_LOGISTIC = HARNESS_OPS["LOGISTIC"]
OP_SOFTMAX = HARNESS_OPS["SOFTMAX"]
OP_ADD_BROADCAST = HARNESS_OPS["ADD_BROADCAST"]
OP_RELU = HARNESS_OPS["RELU"]
OP_FULLY_CONNECTED_ROW4 = HARNESS_OPS["FULLY_CONNECTED_ROW4"]
OP_FULLY_CONNECTED_SMALL = HARNESS_OPS["FULLY_CONNECTED_SMALL"]

RANDOM_SAMPLES = 12
GCC_FLAGS = [
    "-std=c11", "-Wall", "-Wextra", "-Wshadow", "-Wstrict-prototypes", "-Werror",
    "-ffp-contract=off", "-O2", "-g",
]  # fmt: skip

DRIVER = """#include <string.h>
#include "check.h"
int main(int argc, char **argv)
{
    if (argc == 2 && strcmp(argv[1], "harness") == 0) {
        return harness_nn(stdin, stdout);
    }
    check_totals_t t = {0, 0};
    run_nn_tests(&t);
    printf("%u passed, %u failed\\n", t.passed, t.failed);
    return t.failed ? 1 : 0;
}
"""


# the kernels' variants: the portable C, and the Cortex-M4 DSP algorithm (four lanes through
# SMLAD/SXTB16/SADD16) with those instructions emulated in C (firmware/core/nn/nn_dot.h)
VARIANTS = {"portable": [], "dsp_emulated": ["-DNN_EMULATE_DSP"]}


@pytest.fixture(scope="session")
def nn_program(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """The NN kernels, their unit checks and harness, built with gcc (warnings are errors), once
    per variant; every comparison runs on all of them."""
    out_dir = tmp_path_factory.mktemp("nn")
    driver = out_dir / "driver.c"
    driver.write_text(DRIVER)
    sources = [driver, FIRMWARE / "tests" / "test_nn_kernels.c", *sorted((FIRMWARE / "core" / "nn").glob("*.c"))]
    programs = []
    for name, defines in VARIANTS.items():
        out = out_dir / f"nn_program_{name}"
        cmd = ["gcc", *GCC_FLAGS, *defines, f"-I{FIRMWARE / 'core'}", f"-I{FIRMWARE / 'tests'}", *map(str, sources)]
        res = subprocess.run([*cmd, "-o", str(out)], capture_output=True, text=True, check=False)
        assert res.returncode == 0, res.stderr
        programs.append(out)
    return programs


# ------------------------------------------------------------------ harness protocol


def encode_request(op: int, params: Sequence[int], arrays: Sequence[np.ndarray]) -> bytes:
    """One harness request (see firmware/tests/test_nn_kernels.c)."""
    out = [struct.pack("<ii", op, len(params)), np.asarray(params, dtype="<i4").tobytes()]
    out.append(struct.pack("<i", len(arrays)))
    for a in arrays:
        if a.dtype == np.int8:
            out += [struct.pack("<ii", 1, a.size), a.tobytes()]
        else:
            out += [struct.pack("<ii", 4, a.size), np.asarray(a, dtype="<i4").tobytes()]
    return b"".join(out)


def run_harness(program: Path, requests: Sequence[bytes]) -> list[np.ndarray]:
    res = subprocess.run([str(program), "harness"], input=b"".join(requests), capture_output=True, check=False)
    assert res.returncode == 0, res.stderr.decode()
    outs, pos = [], 0
    for _ in requests:
        (n,) = struct.unpack_from("<i", res.stdout, pos)
        outs.append(np.frombuffer(res.stdout, dtype=np.int8, count=n, offset=pos + 4).copy())
        pos += 4 + n
    assert pos == len(res.stdout)
    return outs


# ------------------------------------------------------------------ kernel parameters from the .tflite


@dataclass(frozen=True)
class KernelCall:
    """A kernel's op code, parameters and constant arrays; `inputs` maps each of its variable
    inputs to the model input that feeds it."""

    op: int
    params: list[int]
    constants: list[np.ndarray]
    inputs: list[int]


def _bias(op: OpInfo) -> np.ndarray:
    b = op.inputs[2] if len(op.inputs) > 2 else None
    return np.zeros(0, np.int32) if b is None or b.data is None else b.data.astype(np.int32).ravel()


def _window(same: bool, size: int, k: int, stride: int, dilation: int, out_size: int) -> int:
    assert quant.compute_out_size(same, size, k, stride, dilation) == out_size
    return quant.compute_padding(stride, dilation, size, k, out_size)


def conv_call(op: OpInfo) -> KernelCall:
    inp, filt, out, o = op.inputs[0], op.inputs[1], op.outputs[0], op.options
    assert inp is not None and filt is not None and filt.data is not None
    _, h, w, c = inp.shape
    oc, kh, kw, ic = filt.shape
    _, oh, ow, _ = out.shape
    assert ic == c, "grouped convolutions are not supported"
    same = o.Padding() == schema.Padding.SAME
    sh, sw, dh, dw = o.StrideH(), o.StrideW(), o.DilationHFactor(), o.DilationWFactor()
    ph, pw = _window(same, h, kh, sh, dh, oh), _window(same, w, kw, sw, dw, ow)
    mults, shifts = quant.conv_multipliers(inp.scale, filt.scales, out.scale, oc)
    lo, hi = quant.activation_range(o.FusedActivationFunction(), out.scale, out.zero_point)
    params = [-inp.zero_point, out.zero_point, lo, hi, h, w, c, kh, kw, oh, ow, oc, sh, sw, dh, dw, ph, pw]
    return KernelCall(OP_CONV2D, params, [filt.data.astype(np.int8).ravel(), _bias(op), mults, shifts], [0])


def depthwise_call(op: OpInfo) -> KernelCall:
    inp, filt, out, o = op.inputs[0], op.inputs[1], op.outputs[0], op.options
    assert inp is not None and filt is not None and filt.data is not None
    _, h, w, c = inp.shape
    _, kh, kw, oc = filt.shape
    _, oh, ow, _ = out.shape
    dm = oc // c
    same = o.Padding() == schema.Padding.SAME
    sh, sw, dh, dw = o.StrideH(), o.StrideW(), o.DilationHFactor(), o.DilationWFactor()
    ph, pw = _window(same, h, kh, sh, dh, oh), _window(same, w, kw, sw, dw, ow)
    mults, shifts = quant.conv_multipliers(inp.scale, filt.scales, out.scale, oc)
    lo, hi = quant.activation_range(o.FusedActivationFunction(), out.scale, out.zero_point)
    params = [-inp.zero_point, out.zero_point, lo, hi, h, w, c, kh, kw, oh, ow, dm, sh, sw, dh, dw, ph, pw]
    return KernelCall(OP_DEPTHWISE_CONV2D, params, [filt.data.astype(np.int8).ravel(), _bias(op), mults, shifts], [0])


def fully_connected_call(op: OpInfo) -> KernelCall:
    inp, filt, out, o = op.inputs[0], op.inputs[1], op.outputs[0], op.options
    assert inp is not None and filt is not None and filt.data is not None
    units, depth = filt.shape
    batches = int(np.prod(inp.shape)) // depth
    per_channel = filt.scales.size > 1
    if per_channel:
        mults, shifts = quant.conv_multipliers(inp.scale, filt.scales, out.scale, units)
    else:
        m, s = quant.fully_connected_multiplier(inp.scale, filt.scale, out.scale)
        mults, shifts = np.array([m], np.int32), np.array([s], np.int32)
    lo, hi = quant.activation_range(o.FusedActivationFunction(), out.scale, out.zero_point)
    params = [-inp.zero_point, -filt.zero_point, out.zero_point, lo, hi, batches, depth, units, int(per_channel)]
    return KernelCall(
        OP_FULLY_CONNECTED, params, [filt.data.astype(np.int8).ravel(), _bias(op), mults, shifts], [0]
    )


def fully_connected_row4_call(op: OpInfo) -> KernelCall:
    """The same op through nn_fully_connected_s8_row4: weights interleaved and padded, the input offset folded
    into the (padded) bias, by the plan's own functions."""
    call = fully_connected_call(op)
    filt, inp = op.inputs[1], op.inputs[0]
    assert filt is not None and filt.data is not None and inp is not None
    w = filt.data.astype(np.int8).reshape(filt.shape)
    bias = _bias(op) if _bias(op).size else np.zeros(w.shape[0], np.int32)
    folded = fold_fc_input_offset(w, bias, inp.zero_point)
    return KernelCall(OP_FULLY_CONNECTED_ROW4, call.params, [interleave_fc_weights(w), folded, *call.constants[2:]],
                      call.inputs)


def fully_connected_small_rows(op: OpInfo) -> np.ndarray | None:
    """The op's NN_FC_WEIGHTS_SMALL records, by the plan's own function (None where the plan would not use them)."""
    call = fully_connected_call(op)
    filt, inp, out = op.inputs[1], op.inputs[0], op.outputs[0]
    assert filt is not None and filt.data is not None and inp is not None
    w = filt.data.astype(np.int8).reshape(filt.shape)
    bias = _bias(op) if _bias(op).size else np.zeros(w.shape[0], np.int32)
    mults, shifts = (np.broadcast_to(a, (w.shape[0],)) for a in call.constants[2:4])  # per-tensor: one for all
    return fc_small_rows(w, bias, inp.zero_point, mults, shifts, out.zero_point)


def fully_connected_small_call(op: OpInfo) -> KernelCall:
    """The same op through nn_fully_connected_s8_small: the plan's records (bias, weights, requantization)."""
    call = fully_connected_call(op)
    rows = fully_connected_small_rows(op)
    assert rows is not None
    _, _, _, lo, hi, batches, depth, units, _ = call.params
    return KernelCall(OP_FULLY_CONNECTED_SMALL, [(depth + 3) // 4, units, lo, hi, batches, depth], [rows.ravel()],
                      call.inputs)


def pool_call(kind: int) -> Callable[[OpInfo], KernelCall]:
    def make(op: OpInfo) -> KernelCall:
        inp, out, o = op.inputs[0], op.outputs[0], op.options
        assert inp is not None
        _, h, w, c = inp.shape
        _, oh, ow, _ = out.shape
        kh, kw, sh, sw = o.FilterHeight(), o.FilterWidth(), o.StrideH(), o.StrideW()
        same = o.Padding() == schema.Padding.SAME
        ph, pw = _window(same, h, kh, sh, 1, oh), _window(same, w, kw, sw, 1, ow)
        lo, hi = quant.activation_range(o.FusedActivationFunction(), out.scale, out.zero_point)
        return KernelCall(kind, [lo, hi, h, w, c, kh, kw, oh, ow, sh, sw, ph, pw], [], [0])

    return make


def broadcast_dims4(shape: tuple[int, ...]) -> list[int]:
    """A shape right-aligned to 4 dimensions (TFLM extends shapes with leading 1s)."""
    assert len(shape) <= 4, f"ADD of rank {len(shape)}"
    return [1] * (4 - len(shape)) + list(shape)


def broadcast_strides4(shape: tuple[int, ...], out_dims: list[int]) -> list[int]:
    """Element strides of a row-major input along the 4 output dimensions, 0 where it broadcasts."""
    dims = broadcast_dims4(shape)
    strides, step = [0, 0, 0, 0], 1
    for d in range(3, -1, -1):
        assert dims[d] in (1, out_dims[d])
        strides[d] = 0 if dims[d] == 1 and out_dims[d] != 1 else step
        step *= dims[d]
    return strides


def add_call_for(model_inputs: list[int]) -> Callable[[OpInfo], KernelCall]:
    def make(op: OpInfo) -> KernelCall:
        a, b, out, o = op.inputs[0], op.inputs[1], op.outputs[0], op.options
        assert a is not None and b is not None
        p = quant.add_params(a.scale, a.zero_point, b.scale, b.zero_point, out.scale, out.zero_point)
        lo, hi = quant.activation_range(o.FusedActivationFunction(), out.scale, out.zero_point)
        params = [
            p.input1_offset, p.input2_offset, p.output_offset, lo, hi, p.left_shift,
            p.input1_multiplier, p.input1_shift, p.input2_multiplier, p.input2_shift,
            p.output_multiplier, p.output_shift, int(np.prod(out.shape)),
        ]  # fmt: skip
        feeds = [model_inputs.index(a.index), model_inputs.index(b.index)]
        if a.shape == b.shape == out.shape:
            return KernelCall(OP_ADD, params, [], feeds)
        dims = broadcast_dims4(out.shape)
        params += [*dims, *broadcast_strides4(a.shape, dims), *broadcast_strides4(b.shape, dims)]
        return KernelCall(OP_ADD_BROADCAST, params, [], feeds)

    return make


def mean_call(op: OpInfo) -> KernelCall:
    inp, axes, out = op.inputs[0], op.inputs[1], op.outputs[0]
    assert inp is not None and axes is not None and axes.data is not None
    shape = inp.shape if len(inp.shape) == 4 else (inp.shape[0], inp.shape[1], 1, inp.shape[2])
    _, h, w, c = shape
    reduced = {int(a) % len(inp.shape) for a in axes.data.ravel()}
    if len(inp.shape) == 3:  # [1, T, C] is [1, T, 1, C]
        reduced = {1 if a == 1 else a + 1 for a in reduced}
    assert reduced <= {1, 2}, f"MEAN over axes {reduced}"
    count = (h if 1 in reduced else 1) * (w if 2 in reduced else 1)
    mult, shift = quant.mean_multiplier(inp.scale, out.scale, count)
    params = [inp.zero_point, out.zero_point, mult, shift, int(1 in reduced), int(2 in reduced), h, w, c]
    return KernelCall(OP_MEAN, params, [], [0])


def logistic_call(op: OpInfo) -> KernelCall:
    inp = op.inputs[0]
    assert inp is not None
    p = quant.logistic_params(inp.scale, inp.zero_point)
    params = [p.input_zero_point, p.input_range_radius, p.input_multiplier, p.input_left_shift, int(np.prod(inp.shape))]
    return KernelCall(OP_LOGISTIC, params, [], [0])


def softmax_call(op: OpInfo) -> KernelCall:
    inp = op.inputs[0]
    assert inp is not None and op.options is not None
    p = quant.softmax_params(op.options.Beta(), inp.scale)
    depth = inp.shape[-1]
    rows = int(np.prod(inp.shape)) // depth
    return KernelCall(OP_SOFTMAX, [p.input_multiplier, p.input_left_shift, p.diff_min, rows, depth], [], [0])


def relu_call(kind: str) -> Callable[[OpInfo], KernelCall]:
    def make(op: OpInfo) -> KernelCall:
        inp, out = op.inputs[0], op.outputs[0]
        assert inp is not None
        r = relu_params(kind, inp.scale, inp.zero_point, out.scale, out.zero_point)
        params = [inp.zero_point, out.zero_point, r.multiplier, r.shift, int(r.rescale), r.act_min, r.act_max,
                  int(np.prod(inp.shape))]
        return KernelCall(OP_RELU, params, [], [0])

    return make


# ------------------------------------------------------------------ the comparison


def edge_and_random_inputs(
    shape: tuple[int, ...], rng: np.random.Generator, n_random: int = RANDOM_SAMPLES
) -> list[np.ndarray]:
    """All -128, all 127, a -128/127 checkerboard, all zero, a ramp through the int8 codes, then
    uniform random int8."""
    n = int(np.prod(shape))
    checker = np.where(np.arange(n) % 2 == 0, -128, 127).astype(np.int8).reshape(shape)
    ramp = ((np.arange(n) % 256) - 128).astype(np.int8).reshape(shape)
    edges = [np.full(shape, -128, np.int8), np.full(shape, 127, np.int8), checker, np.zeros(shape, np.int8), ramp]
    rand = [rng.integers(-128, 128, shape, dtype=np.int8) for _ in range(n_random)]
    return edges + rand


def check_model(
    programs: list[Path], tflite: bytes, expect_code: int, seed: int, n_random: int = RANDOM_SAMPLES,
    maker: Callable[[OpInfo], KernelCall] | None = None,
) -> int:
    """Runs the single-op model through TFLM and the C kernel; returns the outputs compared."""
    info = nn_models.read_model(tflite)
    codes = [op.code for op in info.ops]
    assert codes == [expect_code], f"converter emitted {codes}"
    op = info.ops[0]
    makers: dict[int, Callable[[OpInfo], KernelCall]] = {
        schema.BuiltinOperator.CONV_2D: conv_call,
        schema.BuiltinOperator.DEPTHWISE_CONV_2D: depthwise_call,
        schema.BuiltinOperator.FULLY_CONNECTED: fully_connected_call,
        schema.BuiltinOperator.MAX_POOL_2D: pool_call(OP_MAX_POOL2D),
        schema.BuiltinOperator.AVERAGE_POOL_2D: pool_call(OP_AVG_POOL2D),
        schema.BuiltinOperator.ADD: add_call_for(info.inputs),
        schema.BuiltinOperator.MEAN: mean_call,
        schema.BuiltinOperator.LOGISTIC: logistic_call,
        schema.BuiltinOperator.SOFTMAX: softmax_call,
        schema.BuiltinOperator.RELU: relu_call("RELU"),
        schema.BuiltinOperator.RELU6: relu_call("RELU6"),
    }
    call = (maker or makers[expect_code])(op)
    rng = np.random.default_rng(seed)
    model_tensors = {t.index: t for t in op.inputs if t is not None}
    shapes = [model_tensors[i].shape for i in info.inputs]
    per_input = [edge_and_random_inputs(s, rng, n_random) for s in shapes]
    # a second input gets its own edge values in a different order, so -128 meets 127
    samples = [[xs[(k + j) % len(xs)] for j, xs in enumerate(per_input)] for k in range(len(per_input[0]))]

    tflm = nn_models.tflm_runner(tflite)
    want = [tflm(xs).ravel() for xs in samples]
    requests = []
    for xs in samples:
        variable = [xs[i].ravel() for i in call.inputs]
        requests.append(encode_request(call.op, call.params, variable + call.constants))
    for program in programs:
        got = run_harness(program, requests)
        bad = [(k, int(np.sum(g != w))) for k, (g, w) in enumerate(zip(got, want)) if not np.array_equal(g, w)]
        assert not bad, f"{program.name}: mismatching samples (index, elements): {bad}; params {call.params}"
    return sum(w.size for w in want)


def keras_model(shapes: Sequence[tuple[int, ...]], body: Callable[..., Any]) -> Any:
    import keras

    inputs = [keras.Input(shape=s, batch_size=1) for s in shapes]
    return keras.Model(inputs, body(*inputs))


def activation_layer(name: str | None) -> Callable[[Any], Any]:
    import keras

    if name is None:
        return lambda x: x
    if name == "relu":
        return keras.layers.ReLU()
    return keras.layers.ReLU(max_value=6.0)


# ------------------------------------------------------------------ cases

# (input HWC, filters, kernel, strides, padding, dilation, activation, input range, weight scale)
CONV_CASES = [
    ((5, 6, 2), 3, (3, 3), (1, 1), "same", (1, 1), "relu", (-1.0, 1.0), 0.5),
    ((5, 6, 2), 3, (3, 3), (1, 1), "valid", (1, 1), None, (-1.0, 1.0), 0.5),
    ((7, 7, 1), 1, (3, 3), (2, 2), "same", (1, 1), "relu6", (-3.0, 3.0), 1.0),
    ((8, 9, 3), 5, (2, 3), (2, 1), "valid", (1, 1), None, (0.0, 4.0), 0.2),
    ((8, 8, 3), 4, (3, 3), (2, 2), "same", (1, 1), "relu", (-8.0, 0.5), 0.3),
    ((9, 8, 2), 3, (3, 3), (1, 1), "same", (2, 2), None, (-1.0, 1.0), 0.5),
    ((10, 11, 3), 4, (3, 2), (1, 1), "valid", (2, 3), "relu", (-1.0, 2.0), 0.5),
    ((6, 6, 4), 7, (1, 1), (1, 1), "same", (1, 1), "relu6", (-1.0, 1.0), 2.0),
    ((6, 5, 5), 3, (5, 5), (3, 3), "same", (1, 1), None, (-1.0, 1.0), 0.05),
    ((4, 4, 2), 4, (4, 4), (1, 1), "valid", (1, 1), None, (-1.0, 1.0), 0.5),
    ((3, 3, 1), 2, (5, 5), (1, 1), "same", (1, 1), "relu", (-0.01, 0.01), 0.5),
    ((33, 37, 1), 8, (3, 3), (1, 1), "same", (1, 1), "relu", (-1.0, 1.0), 0.5),
    ((12, 10, 8), 16, (3, 3), (1, 1), "valid", (1, 1), "relu", (0.0, 6.0), 0.2),
    # one input channel, 3x3, stride_w 1: the two-pixel row path (conv2d_patch.h nn_conv3x3_c1_*), with odd
    # widths, an odd channel count, stride_h 2 and SAME borders falling back to the gathered path
    ((9, 11, 1), 5, (3, 3), (1, 1), "valid", (1, 1), None, (-4.0, 4.0), 1.0),
    ((10, 8, 1), 3, (3, 3), (2, 1), "same", (1, 1), "relu6", (-1.0, 3.0), 0.5),
    ((6, 7, 1), 2, (3, 3), (1, 1), "same", (1, 1), None, (0.0, 1.0), 2.0),
    # filter rows of a multiple of four taps: interior pairs widened straight from the input rows
    # (nn_conv2d_patch_pair), with a row dilation and with strides
    ((10, 9, 4), 5, (3, 3), (1, 1), "same", (2, 1), "relu", (-1.0, 2.0), 0.5),
    ((9, 11, 4), 3, (3, 2), (2, 3), "valid", (1, 1), None, (-3.0, 1.0), 0.5),
]

# (input HWC, kernel, strides, padding, depth multiplier, dilation, activation, input range)
DEPTHWISE_CASES = [
    ((6, 7, 3), (3, 3), (1, 1), "same", 1, (1, 1), "relu", (-1.0, 1.0)),
    ((6, 7, 3), (3, 3), (2, 2), "valid", 2, (1, 1), None, (-1.0, 1.0)),
    ((9, 8, 2), (3, 3), (1, 1), "same", 1, (2, 2), "relu6", (-2.0, 5.0)),
    ((5, 5, 1), (2, 2), (1, 1), "valid", 3, (1, 1), None, (0.0, 1.0)),
    ((8, 8, 5), (5, 5), (2, 2), "same", 1, (1, 1), None, (-4.0, 4.0)),
    ((7, 6, 4), (3, 1), (1, 1), "same", 2, (2, 1), "relu", (-1.0, 1.0)),  # TF: dilation needs stride 1
]

# (input depth, units, activation, per-channel weights, input range)
FC_CASES = [
    (7, 5, None, True, (-1.0, 1.0)),
    (7, 5, "relu", False, (-1.0, 1.0)),
    (1, 1, None, True, (0.0, 2.0)),
    (1, 3, None, False, (-5.0, 1.0)),
    (33, 3, "relu6", True, (-3.0, 3.0)),
    (64, 32, "relu", False, (0.0, 8.0)),
    (6, 11, "relu", True, (-1.0, 1.0)),
    # four-row groups with and without tails and leftover rows (the interleaved layout, NN_FC_WEIGHTS_ROW4)
    (13, 9, None, True, (-2.0, 0.5)),
    (8, 4, "relu", False, (0.0, 1.0)),
    (300, 7, None, True, (-4.0, 4.0)),
    # the small-layer kernel (NN_FC_WEIGHTS_SMALL): one to four input words, RELU6's upper clamp, 16 inputs
    (16, 7, "relu6", True, (-3.0, 3.0)),
    (11, 5, "relu", False, (0.0, 4.0)),
]

# (input HWC, pool, strides, padding, input range)
POOL_CASES = [
    ((6, 6, 3), (2, 2), (2, 2), "valid", (-1.0, 1.0)),
    ((7, 7, 2), (3, 3), (2, 2), "same", (-1.0, 1.0)),
    ((5, 8, 1), (2, 3), (1, 2), "same", (0.0, 3.0)),
    ((9, 9, 4), (3, 3), (1, 1), "valid", (-6.0, 0.5)),
    ((4, 5, 5), (2, 2), (3, 3), "same", (-1.0, 1.0)),
    ((31, 35, 8), (2, 2), (2, 2), "valid", (0.0, 5.0)),
]

# (shape, input 1 range, input 2 range, activation)
ADD_CASES = [
    ((4, 4, 3), (-1.0, 1.0), (-1.0, 1.0), None),
    ((5, 3, 2), (-1.0, 1.0), (-4.0, 8.0), None),
    ((2, 7), (0.0, 3.0), (-0.1, 0.1), "relu"),
    ((2, 3, 5), (-10.0, 2.0), (-1.0, 20.0), "relu6"),
    ((1, 1, 1), (-100.0, 100.0), (-0.001, 0.002), None),
]


@pytest.mark.parametrize("case", CONV_CASES, ids=lambda c: f"{c[0]}x{c[1]}k{c[2]}s{c[3]}{c[4]}d{c[5]}{c[6]}")
def test_conv2d_matches_tflm(nn_program: list[Path], case: tuple[Any, ...]) -> None:
    import keras

    shape, filters, kernel, strides, padding, dilation, act, rng_in, wscale = case
    layer = keras.layers.Conv2D(filters, kernel, strides=strides, padding=padding, dilation_rate=dilation)
    act_layer = activation_layer(act)
    model = keras_model([shape], lambda x: act_layer(layer(x)))
    nn_models.randomize_weights(model, np.random.default_rng(1), wscale, wscale)
    tflite = nn_models.convert_int8(model, [rng_in])
    assert check_model(nn_program, tflite, schema.BuiltinOperator.CONV_2D, seed=2) > 0


@pytest.mark.parametrize("case", DEPTHWISE_CASES, ids=lambda c: f"{c[0]}k{c[1]}s{c[2]}{c[3]}m{c[4]}d{c[5]}{c[6]}")
def test_depthwise_conv2d_matches_tflm(nn_program: list[Path], case: tuple[Any, ...]) -> None:
    import keras

    shape, kernel, strides, padding, dm, dilation, act, rng_in = case
    layer = keras.layers.DepthwiseConv2D(
        kernel, strides=strides, padding=padding, depth_multiplier=dm, dilation_rate=dilation
    )
    act_layer = activation_layer(act)
    model = keras_model([shape], lambda x: act_layer(layer(x)))
    nn_models.randomize_weights(model, np.random.default_rng(3), 0.7, 0.4)
    tflite = nn_models.convert_int8(model, [rng_in])
    assert check_model(nn_program, tflite, schema.BuiltinOperator.DEPTHWISE_CONV_2D, seed=4) > 0


@pytest.mark.parametrize("case", FC_CASES, ids=lambda c: f"{c[0]}to{c[1]}{c[2]}{'pc' if c[3] else 'pt'}")
def test_fully_connected_matches_tflm(nn_program: list[Path], case: tuple[Any, ...]) -> None:
    import keras

    depth, units, act, per_channel, rng_in = case
    layer = keras.layers.Dense(units)
    act_layer = activation_layer(act)
    model = keras_model([(depth,)], lambda x: act_layer(layer(x)))
    nn_models.randomize_weights(model, np.random.default_rng(5), 0.6, 0.5)
    tflite = nn_models.convert_int8(model, [rng_in], per_channel_dense=per_channel)
    info = nn_models.read_model(tflite)
    assert (info.ops[0].inputs[1].scales.size > 1) == (per_channel and units > 1)
    assert check_model(nn_program, tflite, schema.BuiltinOperator.FULLY_CONNECTED, seed=6) > 0
    # the plan runs an op through the interleaved kernel when no channel shifts left (multipliers below one)
    if all(s <= 0 for s in fully_connected_call(info.ops[0]).constants[3]):
        assert check_model(nn_program, tflite, schema.BuiltinOperator.FULLY_CONNECTED, seed=6,
                           maker=fully_connected_row4_call) > 0
    # and a small layer through the small-layer kernel, wherever its arithmetic is exact (plan small_fc=True)
    if depth <= FC_SMALL_MAX_INPUTS and all(s <= -1 for s in fully_connected_call(info.ops[0]).constants[3]):
        assert fully_connected_small_rows(info.ops[0]) is not None
        assert check_model(nn_program, tflite, schema.BuiltinOperator.FULLY_CONNECTED, seed=6,
                           maker=fully_connected_small_call) > 0


@pytest.mark.parametrize("kind", ["max", "avg"])
@pytest.mark.parametrize("case", POOL_CASES, ids=lambda c: f"{c[0]}p{c[1]}s{c[2]}{c[3]}")
def test_pool2d_matches_tflm(nn_program: list[Path], case: tuple[Any, ...], kind: str) -> None:
    import keras

    shape, pool, strides, padding, rng_in = case
    cls = keras.layers.MaxPooling2D if kind == "max" else keras.layers.AveragePooling2D
    layer = cls(pool_size=pool, strides=strides, padding=padding)
    model = keras_model([shape], layer)
    tflite = nn_models.convert_int8(model, [rng_in])
    code = schema.BuiltinOperator.MAX_POOL_2D if kind == "max" else schema.BuiltinOperator.AVERAGE_POOL_2D
    assert check_model(nn_program, tflite, code, seed=7) > 0


@pytest.mark.parametrize("case", ADD_CASES, ids=lambda c: f"{c[0]}{c[3]}")
def test_add_matches_tflm(nn_program: list[Path], case: tuple[Any, ...]) -> None:
    import keras

    shape, r1, r2, act = case
    act_layer = activation_layer(act)
    model = keras_model([shape, shape], lambda a, b: act_layer(keras.layers.Add()([a, b])))
    tflite = nn_models.convert_int8(model, [r1, r2])
    assert check_model(nn_program, tflite, schema.BuiltinOperator.ADD, seed=8) > 0


# (input shape, layer, input range)
MEAN_CASES = [
    ((6, 7, 3), "gap2d", (-1.0, 1.0)),
    ((5, 5, 1), "gap2d", (0.0, 4.0)),
    ((16, 9, 16), "gap2d", (-3.0, 0.5)),
    ((1, 1, 5), "gap2d", (-1.0, 1.0)),
    ((13, 4), "gap1d", (-1.0, 1.0)),
    ((64, 7), "gap1d", (0.0, 10.0)),
    ((3, 5, 2), "mean_h", (-1.0, 1.0)),
    ((3, 5, 2), "mean_w", (-2.0, 1.0)),
]


@pytest.mark.parametrize("case", MEAN_CASES, ids=lambda c: f"{c[0]}{c[1]}")
def test_mean_matches_tflm(nn_program: list[Path], case: tuple[Any, ...]) -> None:
    import keras

    shape, kind, rng_in = case
    layers = {
        "gap2d": keras.layers.GlobalAveragePooling2D(),
        "gap1d": keras.layers.GlobalAveragePooling1D(),
        "mean_h": keras.layers.Lambda(lambda x: keras.ops.mean(x, axis=1, keepdims=True)),
        "mean_w": keras.layers.Lambda(lambda x: keras.ops.mean(x, axis=2)),
    }
    model = keras_model([shape], layers[kind])
    tflite = nn_models.convert_int8(model, [rng_in])
    assert check_model(nn_program, tflite, schema.BuiltinOperator.MEAN, seed=9) > 0


# (input shape, input range): LOGISTIC and SOFTMAX are checked on every int8 value (the edge and
# random inputs, plus a ramp through all 256 codes)
ACTIVATION_CASES = [
    ((256,), (-1.0, 1.0)),
    ((256,), (-8.0, 8.0)),
    ((256,), (-20.0, 3.0)),
    ((256,), (0.0, 0.5)),
    ((4, 64), (-100.0, 100.0)),
    ((256,), (-0.05, 0.02)),
    ((256,), (-1.0e4, 1.0e4)),  # radius 0: every input saturates
    ((256,), (-300.0, 200.0)),
]

SOFTMAX_CASES = [
    ((3,), (-1.0, 1.0)),
    ((10,), (-8.0, 8.0)),
    ((1,), (-1.0, 1.0)),
    ((5, 7), (-30.0, 4.0)),
    ((2, 3, 11), (0.0, 0.3)),
    ((256,), (-3.0, 3.0)),
    ((33,), (-200.0, 200.0)),
    ((17,), (-1.0e4, 1.0e4)),  # beta * scale * 2^26 above 2^31 - 1: TFLM clamps the multiplier
]


@pytest.mark.parametrize("case", ACTIVATION_CASES, ids=lambda c: f"{c[0]}{c[1]}")
def test_logistic_matches_tflm(nn_program: list[Path], case: tuple[Any, ...]) -> None:
    import keras

    shape, rng_in = case
    model = keras_model([shape], keras.layers.Activation("sigmoid"))
    tflite = nn_models.convert_int8(model, [rng_in])
    assert check_model(nn_program, tflite, schema.BuiltinOperator.LOGISTIC, seed=10) > 0


@pytest.mark.parametrize("case", SOFTMAX_CASES, ids=lambda c: f"{c[0]}{c[1]}")
def test_softmax_matches_tflm(nn_program: list[Path], case: tuple[Any, ...]) -> None:
    import keras

    shape, rng_in = case
    model = keras_model([shape], keras.layers.Softmax())
    tflite = nn_models.convert_int8(model, [rng_in])
    assert check_model(nn_program, tflite, schema.BuiltinOperator.SOFTMAX, seed=11) > 0


def _sweep_ranges(seed: int, n: int) -> list[tuple[float, float]]:
    """Input ranges with log-uniform widths (1e-3 .. 1e3) and random placement around zero."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        width = float(10.0 ** rng.uniform(-3, 3))
        low = -width * float(rng.uniform(0.0, 1.0))
        out.append((low, low + width))
    return out


SWEEP_CASES = 24
SWEEP_RANDOM_SAMPLES = 64


@pytest.mark.parametrize("index", range(SWEEP_CASES))
def test_logistic_sweep_of_scales(nn_program: list[Path], index: int) -> None:
    """Every int8 code through LOGISTIC, for many input quantizations (the int8 output hides most
    fixed-point details, so breadth of quantizations is what exposes a wrong rounding)."""
    import keras

    rng_in = _sweep_ranges(12, SWEEP_CASES)[index]
    model = keras_model([(256,)], keras.layers.Activation("sigmoid"))
    tflite = nn_models.convert_int8(model, [rng_in])
    assert check_model(nn_program, tflite, schema.BuiltinOperator.LOGISTIC, seed=13 + index) > 0


@pytest.mark.parametrize("index", range(SWEEP_CASES))
def test_softmax_sweep_of_scales(nn_program: list[Path], index: int) -> None:
    """SOFTMAX on many input quantizations and depths, many random rows each."""
    import keras

    rng_in = _sweep_ranges(14, SWEEP_CASES)[index]
    depth = int(np.random.default_rng(index).integers(2, 40))
    model = keras_model([(8, depth)], keras.layers.Softmax())
    tflite = nn_models.convert_int8(model, [rng_in])
    code = schema.BuiltinOperator.SOFTMAX
    assert check_model(nn_program, tflite, code, seed=15 + index, n_random=SWEEP_RANDOM_SAMPLES) > 0


# (shape 1, shape 2, activation)
# (the converter turns some shapes, e.g. (4, 4, 3) + (1, 1, 3), into RESHAPE + ADD: not one-op models)
ADD_BROADCAST_CASES = [
    ((1, 1, 5), (3, 2, 5), "relu"),
    ((3, 4, 2), (3, 1, 2), None),
    ((5, 1, 3), (1, 4, 1), "relu6"),
    ((4, 4, 3), (1, 4, 3), None),
    ((2, 5, 3), (2, 5, 1), None),
    ((1, 6, 1), (4, 6, 7), None),
]


@pytest.mark.parametrize("case", ADD_BROADCAST_CASES, ids=lambda c: f"{c[0]}+{c[1]}{c[2]}")
def test_add_broadcast_matches_tflm(nn_program: list[Path], case: tuple[Any, ...]) -> None:
    import keras

    s1, s2, act = case
    act_layer = activation_layer(act)
    add = keras.layers.Lambda(lambda ab: keras.ops.add(ab[0], ab[1]))
    model = keras_model([s1, s2], lambda a, b: act_layer(add([a, b])))
    tflite = nn_models.convert_int8(model, [(-1.0, 2.0), (-3.0, 0.5)])
    assert check_model(nn_program, tflite, schema.BuiltinOperator.ADD, seed=17) > 0


def test_c_unit_checks(nn_program: list[Path]) -> None:
    for program in nn_program:
        res = subprocess.run([str(program)], capture_output=True, text=True, check=False)
        assert res.returncode == 0, res.stdout


def test_harness_refuses_a_malformed_request(nn_program: list[Path]) -> None:
    # a pooling request whose input array is one element short
    req = encode_request(OP_MAX_POOL2D, [-128, 127, 2, 2, 1, 2, 2, 1, 1, 2, 2, 0, 0], [np.zeros(3, np.int8)])
    res = subprocess.run([str(nn_program[0]), "harness"], input=req, capture_output=True, check=False)
    assert res.returncode == 1 and b"inconsistent" in res.stderr


def test_dot_product_variants_agree_on_long_vectors(nn_program: list[Path]) -> None:
    """FULLY_CONNECTED with hand-made parameters: all input lengths 1..67 (every remainder of the
    four-lane loop), extreme offsets and values, portable and DSP variants give the same int8."""
    rng = np.random.default_rng(16)
    requests = []
    for depth in range(1, 68):
        for offset in (-127, 128, 0):
            x = rng.choice(np.array([-128, 127, 0, -1, 1], np.int8), depth)
            w = rng.integers(-128, 128, (3, depth), dtype=np.int8)
            bias = rng.integers(-5000, 5000, 3).astype(np.int32)
            # multiplier ~2^-(8 + log2 depth): the outputs span the int8 range without all saturating
            shift = -7 - int(np.log2(depth))
            params = [offset, 0, 3, -128, 127, 1, depth, 3, 0]
            consts = [w.ravel(), bias, np.array([1 << 30], np.int32), np.array([shift], np.int32)]
            requests.append(encode_request(OP_FULLY_CONNECTED, params, [x, *consts]))
    outs = [run_harness(p, requests) for p in nn_program]
    for a, b in zip(outs[0], outs[1]):
        assert np.array_equal(a, b)
    assert len({int(v) for o in outs[0] for v in o}) > 50  # the outputs are not all saturated


@pytest.mark.parametrize(
    ("real", "want"),
    [
        (0.0, (0, 0)),
        (0.5, (1 << 30, 0)),
        (1.0, (1 << 30, 1)),
        (0.75, (3 << 29, 0)),
        (2.0**-40, (0, 0)),  # below 2^-31 after frexp: flushed to zero
        (1.0 - 2.0**-33, (1 << 30, 1)),  # the significand rounds up to 2^31: carried
        (0.3, (1288490189, -1)),
    ],
)
def test_quantize_multiplier(real: float, want: tuple[int, int]) -> None:
    assert quant.quantize_multiplier(real) == want


# (shape, input range, max_value): a standalone ReLU layer converts to RELU / RELU6 (TFLM rescales RELU's output
# to its own quantization; RELU6 clamps in the input's)
RELU_CASES = [
    ((4, 5, 3), (-1.0, 1.0), None),
    ((7,), (-10.0, 0.5), None),
    ((2, 3, 8), (0.0, 3.0), None),
    ((33,), (-100.0, 100.0), None),
    ((4, 5, 3), (-1.0, 1.0), 6.0),
    ((9,), (-20.0, 20.0), 6.0),
    ((3, 3, 2), (-0.5, 8.0), 6.0),
]


@pytest.mark.parametrize("case", RELU_CASES, ids=lambda c: f"{c[0]}{c[1]}max{c[2]}")
def test_relu_matches_tflm(nn_program: list[Path], case: tuple[Any, ...]) -> None:
    import keras

    shape, rng_in, max_value = case
    model = keras_model([shape], keras.layers.ReLU(max_value=max_value))
    tflite = nn_models.convert_int8(model, [rng_in])
    code = schema.BuiltinOperator.RELU if max_value is None else schema.BuiltinOperator.RELU6
    assert check_model(nn_program, tflite, code, seed=12) > 0
