"""Compile a rewritten graph into a plan for vigil's C engine (firmware/core/nn/nn_plan.h).

Per op: shapes (batch 1, H×W×C), strides, explicit paddings, dilations, zero points, the fused activation's
int8 clamp range, and the fixed-point parameters TFLM computes in its Prepare step (per-channel output
multipliers and shifts with QuantizeMultiplier semantics, softmax/logistic/add/mean parameters), so the
device does no float and no parsing. One static arena: activation tensors get offsets from their lifetimes in
the op order (greedy, largest first, reusing the space of dead tensors); a RESHAPE's output aliases its input."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from vigil.errors import VigilError
from vigil.export import quant
from vigil.export.quant import quantize_multiplier  # re-exported: the one QuantizeMultiplier of the package

__all__ = ["Plan", "PlanOp", "PlanError", "TensorIO", "compile_plan", "assign_offsets", "activation_range",
           "manifest_entry", "quantize_multiplier", "conv_scratch_bytes", "ReluParams", "relu_params",
           "FC_WEIGHTS_ROWS", "FC_WEIGHTS_ROW4", "fc_row4_order", "interleave_fc_weights", "fold_fc_input_offset",
           "FC_WEIGHTS_SMALL", "FC_SMALL_MAX_INPUTS", "fc_small_rows", "broadcast_hwc"]
from vigil.export.tflite_reader import Graph, Operator, Tensor, UnsupportedOpError

#: Arena offsets are aligned so that int32 reads of any buffer are aligned on the Cortex-M4.
ARENA_ALIGN = 4
_ACTIVATIONS = {"NONE": quant.ACT_NONE, "RELU": quant.ACT_RELU, "RELU6": quant.ACT_RELU6}


class PlanError(VigilError):
    """The graph uses a supported op in a way the engine does not (batch > 1, float tensors, ...)."""


@dataclass
class PlanOp:
    kind: str
    source_index: int  # operator index in the .tflite
    inputs: tuple[int, ...]  # activation tensor indices (1, or 2 for ADD)
    output: int
    in_shape: tuple[int, int, int]
    in2_shape: tuple[int, int, int] | None
    out_shape: tuple[int, int, int]
    params: dict[str, int] = field(default_factory=dict)  # scalar parameters, names as in nn_op
    extra: list[int] = field(default_factory=list)  # op-specific fixed-point parameters (nn_op.p)
    weights: np.ndarray | None = None  # int8, TFLite layout (see nn_plan.h)
    bias: np.ndarray | None = None  # int32 (out channels)
    multipliers: np.ndarray | None = None  # int32 per output channel
    shifts: np.ndarray | None = None  # int8 per output channel (TFLM sign: > 0 is a left shift)
    macs: int = 0
    # CONV_2D/DEPTHWISE_CONV_2D with a MAX_POOL_2D fused in (compile_plan(fuse_pool=True)): the pool's
    # window, strides, paddings and clamp; mid_shape is the convolution's output, which never reaches the
    # arena: the kernel keeps pool_h rows of it in a scratch buffer of scratch_bytes.
    pool: dict[str, int] | None = None
    mid_shape: tuple[int, int, int] | None = None
    scratch_bytes: int = 0
    # The output shares bytes with the input (compile_plan(overlap=True)): valid only for a kernel that
    # writes output rows in order, each row after it has read what that row needs (see nn_plan.h).
    overlap: bool = False
    # FULLY_CONNECTED in the NN_FC_WEIGHTS_SMALL layout (compile_plan(small_fc=True)): one int32 record per output
    # row (fc_small_rows); weights, bias, multipliers and shifts are then None (the records hold them).
    fc_small: np.ndarray | None = None


@dataclass
class TensorIO:
    tensor: int
    offset: int
    shape: tuple[int, ...]
    scale: float
    zero_point: int

    @property
    def nbytes(self) -> int:
        return int(np.prod(self.shape, dtype=np.int64))


@dataclass
class Plan:
    ops: list[PlanOp]
    offsets: dict[int, int]  # activation tensor → arena offset
    sizes: dict[int, int]  # activation tensor → bytes
    lifetimes: dict[int, tuple[int, int]]  # buffer root tensor → (first step, last step)
    alias: dict[int, int]  # tensor → buffer root (RESHAPE outputs alias their input)
    arena_bytes: int
    weight_bytes: int
    macs: int
    input: TensorIO
    output: TensorIO
    scratch_offsets: dict[int, int] = field(default_factory=dict)  # op step → scratch offset

    @property
    def naive_arena_bytes(self) -> int:
        """Every buffer separately (no reuse): what the plan is compared against."""
        return sum(_align(self.sizes[t]) for t in set(self.alias.values()))

    def op_names(self) -> list[str]:
        return [op.kind for op in self.ops]


def _align(n: int) -> int:
    return (n + ARENA_ALIGN - 1) // ARENA_ALIGN * ARENA_ALIGN


def _hwc(shape: tuple[int, ...], where: str) -> tuple[int, int, int]:
    if not shape or shape[0] != 1:
        raise PlanError(f"{where}: batch must be 1, shape is {list(shape)}")
    rest = list(shape[1:])
    if len(rest) > 3:
        raise PlanError(f"{where}: more than 4 dimensions {list(shape)}")
    while len(rest) < 3:
        rest.insert(0, 1)
    return (rest[0], rest[1], rest[2])


def activation_range(act: str, out: Tensor) -> tuple[int, int]:
    """TFLM CalculateActivationRangeQuantized for int8 (vigil.export.quant)."""
    if act not in _ACTIVATIONS:
        raise PlanError(f"fused activation {act} is not supported")
    return quant.activation_range(_ACTIVATIONS[act], out.quant.scale, out.quant.zero_point)


def conv_scratch_bytes(filter_h: int, filter_w: int, in_c: int) -> int:
    """CONV_2D's scratch (NN_CONV2D_SCRATCH_BYTES in nn_kernels.h): a pair of int16 patches of the receptive
    field (4 bytes per tap) and two int8 gathers of it, each rounded up to a word."""
    taps = filter_h * filter_w * in_c
    return 4 * taps + 2 * _align(taps)


#: FULLY_CONNECTED weight layouts (nn_kernels.h NN_FC_WEIGHTS_*), the op's p[0] in the plan.
FC_WEIGHTS_ROWS = 0
FC_WEIGHTS_ROW4 = 1
_INT32 = np.iinfo(np.int32)


def _round4(n: int) -> int:
    return (n + 3) // 4 * 4


def fc_row4_order(n_out: int, n_in: int) -> np.ndarray:
    """Where each weight of the NN_FC_WEIGHTS_ROW4 layout (nn_kernels.h) comes from: flat indices into the
    (out, in) matrix, -1 for the zero padding. Rows and inputs are padded to multiples of four; per group of
    four rows, blocks of four inputs with the four rows' lanes of a block together (16 bytes)."""
    idx = np.full((_round4(n_out), _round4(n_in)), -1, dtype=np.int64)
    idx[:n_out, :n_in] = np.arange(n_out * n_in, dtype=np.int64).reshape(n_out, n_in)
    return idx.reshape(-1, 4, idx.shape[1] // 4, 4).transpose(0, 2, 1, 3).ravel()  # group, block, row, lane


def interleave_fc_weights(weights: np.ndarray) -> np.ndarray:
    """(out, in) int8 weights → NN_FC_WEIGHTS_ROW4, flat and zero-padded (fc_row4_order): the kernel walks a
    group of four rows with one pointer (nn_fully_connected_s8_row4)."""
    w = np.asarray(weights, dtype=np.int8)
    order = fc_row4_order(*w.shape)
    return np.where(order >= 0, np.append(w.ravel(), np.int8(0))[order], 0).astype(np.int8)


def fold_fc_input_offset(weights: np.ndarray, bias: np.ndarray, in_zp: int, where: str = "FULLY_CONNECTED"
                         ) -> np.ndarray:
    """bias - in_zp * sum(row), padded with zeros to a multiple of four rows: sum_i w[i] * (x[i] - in_zp) + bias
    == sum_i w[i] * x[i] + folded, exactly, so the kernel never adds the offset to the input. Refused if it
    leaves int32 (it does not for int8 models of any size the engine runs)."""
    folded = np.asarray(bias, dtype=np.int64) - int(in_zp) * np.asarray(weights, dtype=np.int64).sum(axis=1)
    if folded.min(initial=0) < _INT32.min or folded.max(initial=0) > _INT32.max:
        raise PlanError(f"{where}: bias with the input offset folded in leaves int32")
    # zero rows up to a multiple of four, as the weights (NN_FC_WEIGHTS_ROW4)
    return np.concatenate([folded, np.zeros(_round4(folded.size) - folded.size, np.int64)]).astype(np.int32)


#: NN_FC_WEIGHTS_SMALL (nn_kernels.h): layers of at most this many inputs, four per word, records of
#: FC_SMALL_CHANNEL_WORDS + 2 words per four inputs per output row.
FC_WEIGHTS_SMALL = 2
FC_SMALL_MAX_INPUTS = 16
FC_SMALL_CHANNEL_WORDS = 4


def fc_small_rows(weights: np.ndarray, bias: np.ndarray, in_zp: int, multipliers: np.ndarray, shifts: np.ndarray,
                  out_zp: int) -> np.ndarray | None:
    """(out, in) int8 weights and TFLM's per-channel requantization → the NN_FC_WEIGHTS_SMALL records
    (nn_kernels.h), (out, FC_SMALL_CHANNEL_WORDS + 2 * ceil(in / 4)) int32: [2 * folded bias, per four inputs the
    doubled weights as int16 pairs {w0, w2}, {w1, w3}, multiplier, 2^(e-1) + out_zp * 2^e, e].

    None when the kernel's arithmetic would not be exact for every int8 input: more than FC_SMALL_MAX_INPUTS
    inputs, a channel without a right shift (e = -shift must be in [1, 31]), |2 * acc| reaching 2^31, or
    h + 2^(e-1) + out_zp * 2^e leaving int32 (|h| <= |acc|: h = round(acc * m / 2^31), m < 2^31)."""
    w = np.asarray(weights, dtype=np.int64)
    n_out, n_in = w.shape
    shifts = np.asarray(shifts, dtype=np.int64)
    if n_in > FC_SMALL_MAX_INPUTS or np.any(shifts > -1) or np.any(shifts < -31):
        return None
    folded = np.asarray(bias, dtype=np.int64) - int(in_zp) * w.sum(axis=1)
    acc_bound = np.abs(folded) + 128 * np.abs(w).sum(axis=1)  # x in [-128, 127]
    e = -shifts
    rounding = (np.int64(1) << (e - 1)) + int(out_zp) * (np.int64(1) << e)
    limit = int(_INT32.max)
    if np.any(2 * acc_bound > limit) or np.any(np.abs(rounding) > limit) or np.any(acc_bound + np.abs(rounding) + 1 > limit):
        return None
    words = (n_in + 3) // 4
    padded = np.zeros((n_out, 4 * words), dtype=np.int64)
    padded[:, :n_in] = 2 * w
    lanes = (padded & 0xFFFF).reshape(n_out, words, 4)
    pairs = np.stack([lanes[..., 0] | lanes[..., 2] << 16, lanes[..., 1] | lanes[..., 3] << 16], axis=-1)
    tail = np.stack([np.asarray(multipliers, dtype=np.int64), rounding, e], axis=1)
    rows = np.concatenate([2 * folded[:, None], pairs.reshape(n_out, 2 * words), tail], axis=1)
    return (rows & 0xFFFFFFFF).astype(np.uint32).view(np.int32)  # two's complement words


@dataclass(frozen=True)
class ReluParams:
    """A standalone RELU/RELU6 as TFLM's Prepare sets it up (nn_relu_params_t): RELU rescales the input to the
    output's quantization (multiplier, shift) then clamps; RELU6 only clamps, in the input's quantization."""

    multiplier: int
    shift: int
    act_min: int
    act_max: int
    rescale: bool


def relu_params(kind: str, in_scale: float, in_zp: int, out_scale: float, out_zp: int) -> ReluParams:
    """TFLM CalculateReluOpData (RELU: multiplier of in_scale / out_scale in double from the float32 scales,
    clamp [max(-128, out_zp + round(0 / out_scale)), 127]) and Relu6Prepare (RELU6: clamp [in_zp,
    FloatToQuantizedType(6, in_scale, in_zp)], no rescaling whatever the output's quantization says)."""
    if kind == "RELU":
        m, s = quantize_multiplier(float(np.float32(in_scale)) / float(np.float32(out_scale)))
        return ReluParams(m, s, max(quant.INT8_MIN, out_zp), quant.INT8_MAX, True)
    if kind == "RELU6":
        lo, hi = quant.activation_range(quant.ACT_RELU6, in_scale, in_zp)  # same rounding and int8 clamp
        return ReluParams(0, 0, lo, hi, False)
    raise ValueError(f"{kind} is not RELU or RELU6")


def _padding(padding: str, size: int, k: int, stride: int, dilation: int, out: int) -> int:
    """TFLM ComputePaddingHeightWidth: the padding before (top/left); the rest goes after."""
    return 0 if padding == "VALID" else quant.compute_padding(stride, dilation, size, k, out)


def _effective_scales(inp: Tensor, filt: Tensor, out: Tensor, channels: int, fc: bool = False
                      ) -> tuple[np.ndarray, np.ndarray]:
    """Per output channel (multiplier, shift) as TFLM's Prepare computes them: per-channel weights
    (and convolutions) via PopulateConvolutionQuantizationParams, per-tensor FULLY_CONNECTED via
    GetQuantizedConvolutionMultipler (vigil.export.quant has the float/double details)."""
    if fc and not filt.quant.per_channel:
        m, s = quant.fully_connected_multiplier(inp.quant.scale, filt.quant.scale, out.quant.scale)
        return np.full(channels, m, dtype=np.int32), np.full(channels, s, dtype=np.int8)
    mults, shifts = quant.conv_multipliers(inp.quant.scale, filt.quant.scales, out.quant.scale, channels)
    return mults, shifts.astype(np.int8)  # shifts lie in [-31, 30]: the kernels take them as int8


def _bias(graph: Graph, op: Operator, channels: int) -> np.ndarray:
    if len(op.inputs) > 2 and op.inputs[2] >= 0:
        return np.asarray(graph.tensors[op.inputs[2]].data, dtype=np.int32).reshape(channels)
    return np.zeros(channels, dtype=np.int32)  # the converter omits an all-zero bias


def _check_int8(graph: Graph, op: Operator, n_ops: int) -> None:
    for i in (*op.inputs[:1], *op.outputs):
        t = graph.tensors[i]
        if t.dtype != np.int8 or t.quant is None:
            raise UnsupportedOpError(op.opcode, op.index, n_ops, f"tensor {t.name!r} is {t.dtype}, not quantized int8")
    if op.opcode in ("CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED"):
        w = graph.tensors[op.inputs[1]]
        if w.dtype != np.int8 or w.data is None or w.quant is None or np.any(w.quant.zero_points != 0):
            raise UnsupportedOpError(op.opcode, op.index, n_ops, "weights are not constant symmetric int8")
        if len(op.inputs) > 2 and op.inputs[2] >= 0 and graph.tensors[op.inputs[2]].dtype != np.int32:
            raise UnsupportedOpError(op.opcode, op.index, n_ops, "bias is not int32")


def _aligned_hwc(shape: tuple[int, ...], where: str) -> tuple[int, int, int]:
    """A shape right-aligned to (n, h, w, c), leading 1s added, as TFLM's broadcasting extends shapes
    (RuntimeShape::ExtendedShape): (c,) and () are (1, 1, c) and (1, 1, 1). For a batch-1 activation this is
    _hwc; a constant's shape has no batch axis of its own."""
    dims = (1,) * max(0, 4 - len(shape)) + tuple(int(d) for d in shape)
    if len(dims) > 4 or dims[0] != 1:
        raise PlanError(f"{where}: operand of shape {list(shape)}; the engine runs batch 1, at most 4 dimensions")
    return (dims[1], dims[2], dims[3])


def broadcast_hwc(a: tuple[int, int, int], b: tuple[int, int, int]) -> tuple[int, int, int] | None:
    """NumPy's (and TFLM's) broadcast of two (h, w, c) shapes: per axis equal, or one of them 1. None if they
    do not broadcast."""
    if any(x != y and 1 not in (x, y) for x, y in zip(a, b)):
        return None
    h, w, c = (max(x, y) for x, y in zip(a, b))
    return (h, w, c)


def _mean_axes(graph: Graph, op: Operator, n_ops: int, in_hwc: tuple[int, int, int],
               out_hwc: tuple[int, int, int], where: str) -> tuple[bool, bool]:
    """MEAN's reduced axes as (reduce_h, reduce_w). TFLite's axis a of a rank-r input (negative: a + r, repeats
    counted once, as TFLM's ResolveAxis) is (h, w, c) axis a + 3 - r (_hwc pads on the left). Any keep_dims: the
    output holds the same values in the same order either way. Reducing the batch or the channels is refused."""
    rank = len(graph.tensors[op.inputs[0]].shape)
    given = [int(a) for a in np.asarray(graph.tensors[op.inputs[1]].data).ravel()]
    if any(not -rank <= a < rank for a in given):
        raise UnsupportedOpError(op.opcode, op.index, n_ops, f"MEAN axes {given} out of range for rank {rank}")
    axes = {a % rank for a in given}
    dims = {a + 3 - rank for a in axes}
    if not axes or 0 in axes or not dims <= {0, 1}:
        raise UnsupportedOpError(op.opcode, op.index, n_ops,
                                 f"MEAN over axes {given} of a rank-{rank} tensor; only H and/or W")
    reduce_h, reduce_w = 0 in dims, 1 in dims
    kept = (1 if reduce_h else in_hwc[0]) * (1 if reduce_w else in_hwc[1]) * in_hwc[2]
    if int(np.prod(out_hwc)) != kept:
        raise PlanError(f"{where}: output {out_hwc} does not hold the mean of {in_hwc} over axes {sorted(axes)}")
    return reduce_h, reduce_w


# Per-op compilation, after TFLM's Prepare/Eval pairing: each op kind has one prepare function computing what
# TFLM's Prepare computes for it (the Eval side is the kernel plan_executor.c calls), dispatched from _PREPARE.
# An op the engine cannot run is refused here, by name and position, before any arena is planned.


@dataclass(frozen=True)
class _Context:
    """What a prepare function reads besides its operator (TFLM's TfLiteContext, in short)."""

    graph: Graph
    n_ops: int  # operators in the source graph: a refusal names the op's position out of these
    small_fc: bool = False  # compile_plan(small_fc=): FULLY_CONNECTED may take the NN_FC_WEIGHTS_SMALL records


@dataclass(frozen=True)
class _Operands:
    """A one-input op's int8 input and output tensors with their (h, w, c) shapes."""

    inp: Tensor
    out: Tensor
    in_hwc: tuple[int, int, int]
    out_hwc: tuple[int, int, int]
    where: str  # "OPCODE (operator i)", for PlanError messages


def _begin(ctx: _Context, op: Operator) -> tuple[PlanOp, _Operands]:
    """The first steps of every prepare function but ADD's: int8 tensors (and weights) checked, batch-1 (h, w, c)
    shapes, and the PlanOp with the two zero points, to which the prepare function adds its own parameters."""
    _check_int8(ctx.graph, op, ctx.n_ops)
    inp, out = ctx.graph.tensors[op.inputs[0]], ctx.graph.tensors[op.outputs[0]]
    where = f"{op.opcode} (operator {op.index})"
    x = _Operands(inp, out, _hwc(inp.shape, where), _hwc(out.shape, where), where)
    pop = PlanOp(kind=op.opcode, source_index=op.index, inputs=(op.inputs[0],), output=op.outputs[0],
                 in_shape=x.in_hwc, in2_shape=None, out_shape=x.out_hwc,
                 params={"in_zp": inp.quant.zero_point, "out_zp": out.quant.zero_point})
    return pop, x


def _fused_activation(op: Operator) -> str:
    return str(op.options.get("fused_activation_function", "NONE"))


def _with_activation(pop: PlanOp, act: str, out: Tensor) -> PlanOp:
    """pop with the fused activation as an int8 clamp of its output (act_min, act_max). Prepare functions take it
    after their own checks, so an op the engine cannot run is refused for that before for its activation."""
    pop.params["act_min"], pop.params["act_max"] = activation_range(act, out)
    return pop


def _window(op: Operator, x: _Operands, kh: int, kw: int, dilated: bool) -> dict[str, int]:
    """A sliding window's strides, dilations (convolutions only; a pool has none) and the padding before it as
    TFLM computes it, in nn_op's names and order."""
    o = op.options
    sh, sw = int(o.get("stride_h", 1)), int(o.get("stride_w", 1))
    dh, dw = (int(o.get("dilation_h_factor", 1)), int(o.get("dilation_w_factor", 1))) if dilated else (1, 1)
    padding = str(o["padding"])
    return {"stride_h": sh, "stride_w": sw, **({"dilation_h": dh, "dilation_w": dw} if dilated else {}),
            "pad_h": _padding(padding, x.in_hwc[0], kh, sh, dh, x.out_hwc[0]),
            "pad_w": _padding(padding, x.in_hwc[1], kw, sw, dw, x.out_hwc[1])}


def _prepare_conv(ctx: _Context, op: Operator) -> PlanOp:
    """CONV_2D and DEPTHWISE_CONV_2D (TFLM conv.cc / depthwise_conv.cc Prepare): the same window, offsets and
    per-channel requantization (nn_conv_geometry_t, nn_quant_t, nn_per_channel_quant_t in nn_kernels.h); the
    depthwise one has a depth multiplier, CONV_2D scratch."""
    pop, x = _begin(ctx, op)
    filt = ctx.graph.tensors[op.inputs[1]]
    depthwise = op.opcode == "DEPTHWISE_CONV_2D"
    kh, kw, in_c, oc = filt.shape[1], filt.shape[2], x.in_hwc[2], x.out_hwc[2]
    dm = int(op.options.get("depth_multiplier", 1)) if depthwise else 1
    want = (1, in_c * dm) if depthwise else (oc, in_c)
    if (filt.shape[0], filt.shape[3]) != want or (depthwise and filt.shape[3] != oc):
        raise UnsupportedOpError(op.opcode, op.index, ctx.n_ops, f"filter {list(filt.shape)} for input {x.in_hwc}"
                                 " (grouped convolutions are not supported)")
    pop.params.update(filter_h=kh, filter_w=kw, **_window(op, x, kh, kw, dilated=True), depth_multiplier=dm)
    pop.weights = np.asarray(filt.data, dtype=np.int8)
    pop.bias = _bias(ctx.graph, op, oc)
    pop.multipliers, pop.shifts = _effective_scales(x.inp, filt, x.out, oc)
    if not depthwise:
        pop.scratch_bytes = conv_scratch_bytes(kh, kw, in_c)  # its im2col patches, in the arena
    per_out = kh * kw * (1 if depthwise else in_c)  # a depthwise output channel reads one input channel
    pop.macs = x.out_hwc[0] * x.out_hwc[1] * oc * per_out
    return _with_activation(pop, _fused_activation(op), x.out)


def _prepare_fully_connected(ctx: _Context, op: Operator) -> PlanOp:
    """FULLY_CONNECTED (TFLM fully_connected.cc Prepare): requantization per channel or per tensor, the weights in
    the layout of the kernel that will run the layer (_fc_layout). The input is flattened, whatever its shape."""
    pop, x = _begin(ctx, op)
    filt = ctx.graph.tensors[op.inputs[1]]
    n_out, n_in = filt.shape
    if int(np.prod(x.in_hwc)) != n_in:
        raise PlanError(f"{x.where}: input has {int(np.prod(x.in_hwc))} values, weights expect {n_in}")
    pop.params.update(filter_h=1, filter_w=1)
    w = np.asarray(filt.data, dtype=np.int8).reshape(n_out, n_in)
    pop.multipliers, pop.shifts = _effective_scales(x.inp, filt, x.out, n_out, fc=True)
    _fc_layout(pop, w, _bias(ctx.graph, op, n_out), x, ctx.small_fc)
    pop.macs = n_in * n_out
    return _with_activation(pop, _fused_activation(op), x.out)


def _fc_layout(pop: PlanOp, w: np.ndarray, bias: np.ndarray, x: _Operands, small_fc: bool) -> None:
    """Weights, bias and requantization of a FULLY_CONNECTED in the layout its kernel reads (nn_plan.h
    NN_P_FC_LAYOUT), the fastest that is exact for the layer: the small-layer records, else the four-row
    interleave with the input offset in the bias, else TFLite's rows."""
    in_zp = x.inp.quant.zero_point
    rows = fc_small_rows(w, bias, in_zp, pop.multipliers, pop.shifts, x.out.quant.zero_point) if small_fc else None
    if rows is not None:
        # few inputs: the records hold bias, requantization and weights, the op nothing else (nn_plan.h)
        pop.fc_small, pop.multipliers, pop.shifts = rows, None, None
        pop.extra = [FC_WEIGHTS_SMALL]
    elif np.all(pop.shifts <= 0):
        # the usual case (real multipliers below one): nn_fully_connected_s8_row4 only shifts right
        pop.weights, pop.bias = interleave_fc_weights(w), fold_fc_input_offset(w, bias, in_zp, x.where)
        pop.extra = [FC_WEIGHTS_ROW4]
    else:
        pop.weights, pop.bias = w, bias
        pop.extra = [FC_WEIGHTS_ROWS]


def _prepare_pool(ctx: _Context, op: Operator) -> PlanOp:
    """MAX_POOL_2D and AVERAGE_POOL_2D (TFLM pooling.cc Prepare): the window and the output's clamp, nothing to
    requantize."""
    pop, x = _begin(ctx, op)
    fh, fw = int(op.options["filter_height"]), int(op.options["filter_width"])
    pop.params.update(filter_h=fh, filter_w=fw, **_window(op, x, fh, fw, dilated=False))
    return _with_activation(pop, _fused_activation(op), x.out)


def _prepare_reshape(ctx: _Context, op: Operator) -> PlanOp:
    """RESHAPE: no kernel, the planner gives its output its input's bytes, so it must keep the element count and
    the quantization."""
    pop, x = _begin(ctx, op)
    same_quant = (x.inp.quant.scale, x.inp.quant.zero_point) == (x.out.quant.scale, x.out.quant.zero_point)
    if int(np.prod(x.in_hwc)) != int(np.prod(x.out_hwc)) or not same_quant:
        raise PlanError(f"{x.where}: changes the element count or the quantization, it cannot be in place")
    return _with_activation(pop, "NONE", x.out)  # a RESHAPE has no fused activation


def _prepare_softmax(ctx: _Context, op: Operator) -> PlanOp:
    """SOFTMAX (TFLM softmax_common.cc): beta x input scale as a multiplier and shift, and the cut-off difference
    (p[] in nn_plan.h). Refused, naming TFLM's reason, where TFLM's own Prepare aborts."""
    pop, x = _begin(ctx, op)
    sm = quant.softmax_params(float(op.options.get("beta", 1.0)), x.inp.quant.scale)
    pop.extra = [sm.input_multiplier, sm.input_left_shift, sm.diff_min]
    return _with_activation(pop, _fused_activation(op), x.out)


def _prepare_logistic(ctx: _Context, op: Operator) -> PlanOp:
    """LOGISTIC (TFLM logistic.cc): the input's rescaling to Q4 and the radius past which the output saturates."""
    pop, x = _begin(ctx, op)
    lg = quant.logistic_params(x.inp.quant.scale, x.inp.quant.zero_point)
    pop.extra = [lg.input_multiplier, lg.input_left_shift, lg.input_range_radius]
    return _with_activation(pop, _fused_activation(op), x.out)


def _prepare_mean(ctx: _Context, op: Operator) -> PlanOp:
    """MEAN over H and/or W (TFLM reduce_common.cc, QuantizedMeanOrSum): the multiplier with 1/count folded in."""
    pop, x = _begin(ctx, op)
    reduce_h, reduce_w = _mean_axes(ctx.graph, op, ctx.n_ops, x.in_hwc, x.out_hwc, x.where)
    count = (x.in_hwc[0] if reduce_h else 1) * (x.in_hwc[1] if reduce_w else 1)
    m, s = quant.mean_multiplier(x.inp.quant.scale, x.out.quant.scale, count)
    # the reduced axes explicitly: with keep_dims false the output shape no longer says them (nn_plan.h)
    pop.extra = [m, s, count, int(reduce_h), int(reduce_w)]
    return _with_activation(pop, _fused_activation(op), x.out)


def _prepare_relu(ctx: _Context, op: Operator) -> PlanOp:
    """A standalone RELU or RELU6 (relu_params: TFLM's CalculateReluOpData / Relu6Prepare)."""
    pop, x = _begin(ctx, op)
    if x.in_hwc != x.out_hwc:
        raise PlanError(f"{x.where}: output shape {x.out_hwc} differs from the input's {x.in_hwc}")
    r = relu_params(op.opcode, x.inp.quant.scale, x.inp.quant.zero_point, x.out.quant.scale, x.out.quant.zero_point)
    pop.extra = [r.multiplier, r.shift]
    # the op's own clamp, not a fused activation of its output (which TFLite's RELU has none of)
    pop.params["act_min"], pop.params["act_max"] = r.act_min, r.act_max
    return pop


def _add_operands(ctx: _Context, op: Operator) -> tuple[int, int]:
    """ADD's operands as the plan orders them, (activation, other): both per-tensor int8, at most one constant,
    and a constant always second (see _prepare_add)."""
    t = ctx.graph.tensors
    for i in (*op.inputs[:2], *op.outputs):
        x = t[i]
        if x.dtype != np.int8 or x.quant is None or x.quant.per_channel:
            raise UnsupportedOpError(op.opcode, op.index, ctx.n_ops, f"tensor {x.name!r} is not per-tensor int8")
    first, second = op.inputs[0], op.inputs[1]
    if t[first].is_constant and t[second].is_constant:
        raise UnsupportedOpError(op.opcode, op.index, ctx.n_ops, "both operands are constants")
    return (second, first) if t[first].is_constant else (first, second)


def _prepare_add(ctx: _Context, op: Operator) -> PlanOp:
    """ADD of two int8 operands of any NumPy-broadcastable shapes (TFLM: reference_integer_ops::Add when the
    shapes are equal, else BroadcastAdd4DSlow; both run AddFunc(input1[i], input2[j]) per output element, input
    1's multiplier and shift on input 1, never swapping them). One operand may be a constant (the converter's
    form of a bias after a dilated conv, or a Keras `x + v`): it goes into the plan as `weights`, always as the
    second operand. When the constant is TFLite's input 1 the operands swap together with their offsets,
    multipliers and shifts: AddFunc rescales each operand on its own and sums the two int32s, so the swap gives
    the same output bit for bit."""
    where = f"ADD (operator {op.index})"
    first, second = _add_operands(ctx, op)
    in1, in2, out = ctx.graph.tensors[first], ctx.graph.tensors[second], ctx.graph.tensors[op.outputs[0]]
    # no batch axis of its own on a constant, and rank < 4 either side: shapes right-aligned as TFLM extends them
    in_hwc, in2_hwc, out_hwc = (_aligned_hwc(x.shape, where) for x in (in1, in2, out))
    if broadcast_hwc(in_hwc, in2_hwc) != out_hwc:
        raise UnsupportedOpError(op.opcode, op.index, ctx.n_ops, f"operands {list(in1.shape)} and "
                                 f"{list(in2.shape)} do not broadcast to the output {list(out.shape)}")
    p = {"in_zp": in1.quant.zero_point, "in2_zp": in2.quant.zero_point, "out_zp": out.quant.zero_point}
    pop = PlanOp(kind="ADD", source_index=op.index, inputs=(first,), output=op.outputs[0], in_shape=in_hwc,
                 in2_shape=in2_hwc, out_shape=out_hwc, params=p)
    _with_activation(pop, _fused_activation(op), out)
    if in2.is_constant:
        pop.weights = np.asarray(in2.data, dtype=np.int8).reshape(in2_hwc)
    else:
        pop.inputs = (first, second)
    a = quant.add_params(in1.quant.scale, in1.quant.zero_point, in2.quant.scale, in2.quant.zero_point,
                         out.quant.scale, out.quant.zero_point)
    pop.extra = [a.input1_multiplier, a.input1_shift, a.input2_multiplier, a.input2_shift,
                 a.output_multiplier, a.output_shift, a.left_shift]
    return pop


#: One prepare function per op kind (the keys are tflite_reader.SUPPORTED_OPS).
_PREPARE: dict[str, Callable[[_Context, Operator], PlanOp]] = {
    "CONV_2D": _prepare_conv,
    "DEPTHWISE_CONV_2D": _prepare_conv,
    "FULLY_CONNECTED": _prepare_fully_connected,
    "MAX_POOL_2D": _prepare_pool,
    "AVERAGE_POOL_2D": _prepare_pool,
    "RESHAPE": _prepare_reshape,
    "SOFTMAX": _prepare_softmax,
    "LOGISTIC": _prepare_logistic,
    "MEAN": _prepare_mean,
    "ADD": _prepare_add,
    "RELU": _prepare_relu,
    "RELU6": _prepare_relu,
}


def _compile_op_where(graph: Graph, op: Operator, n_ops: int, small_fc: bool) -> PlanOp:
    """_compile_op, with the op and its position in a refusal of scales TFLM itself aborts on."""
    try:
        return _compile_op(graph, op, n_ops, small_fc)
    except quant.TflmAbortError as e:
        raise quant.TflmAbortError(f"{op.opcode} (operator {op.index} of {n_ops}): {e}") from None


def _compile_op(graph: Graph, op: Operator, n_ops: int, small_fc: bool = False) -> PlanOp:
    """The op's PlanOp from the prepare function of its kind; a kind without one is refused by name and position."""
    prepare = _PREPARE.get(op.opcode)
    if prepare is None:
        raise UnsupportedOpError(op.opcode, op.index, n_ops)
    return prepare(_Context(graph, n_ops, small_fc), op)


def _lifetimes(ops: list[PlanOp], graph: Graph, alias: dict[int, int]) -> dict[int, tuple[int, int]]:
    """Buffer root → (first step, last step). Graph inputs are live from step -1, outputs to the end."""
    life: dict[int, list[int]] = {}

    def touch(tensor: int, step: int) -> None:
        root = alias[tensor]
        span = life.setdefault(root, [step, step])
        span[0], span[1] = min(span[0], step), max(span[1], step)

    for i in graph.inputs:
        touch(i, -1)
    for step, op in enumerate(ops):
        for i in op.inputs:
            touch(i, step)
        touch(op.output, step)
    for o in graph.outputs:
        touch(o, len(ops))
    return {k: (v[0], v[1]) for k, v in life.items()}


def _overlaps(a: tuple[int, int], b: tuple[int, int]) -> bool:
    return not (a[1] < b[0] or b[1] < a[0])


def assign_offsets(sizes: dict[int, int], lifetimes: dict[int, tuple[int, int]]) -> dict[int, int]:
    """Greedy by size (largest first, ties by first use): the lowest aligned offset where the buffer fits
    between the buffers already placed whose lifetimes overlap its own."""
    order = sorted(sizes, key=lambda r: (-sizes[r], lifetimes[r][0], r))
    placed: dict[int, int] = {}
    for r in order:
        busy = sorted((placed[q], placed[q] + sizes[q]) for q in placed if _overlaps(lifetimes[q], lifetimes[r]))
        offset = 0
        for start, end in busy:
            if offset + sizes[r] <= start:
                break
            offset = max(offset, _align(end))
        placed[r] = offset
    return placed


def fuse_conv_pool(ops: list[PlanOp], graph: Graph) -> list[PlanOp]:
    """CONV_2D/DEPTHWISE_CONV_2D followed by a MAX_POOL_2D that is the only reader of its output → one op."""
    out: list[PlanOp] = []
    readers: dict[int, int] = {}
    for op in ops:
        for i in op.inputs:
            readers[i] = readers.get(i, 0) + 1
    for op in ops:
        prev = out[-1] if out else None
        if (op.kind == "MAX_POOL_2D" and prev is not None and prev.kind in ("CONV_2D", "DEPTHWISE_CONV_2D")
                and prev.pool is None and not prev.overlap and prev.output == op.inputs[0]
                and readers.get(prev.output, 0) == 1 and prev.output not in graph.outputs):
            q = op.params
            prev.pool = {k: q[k] for k in ("filter_h", "filter_w", "stride_h", "stride_w", "pad_h", "pad_w",
                                           "act_min", "act_max")}
            prev.mid_shape = prev.out_shape
            prev.out_shape = op.out_shape
            prev.output = op.output
            if pools_directly(prev):
                # nn_conv2d_maxpool_s8: the convolution's scratch and one running max per output channel
                prev.scratch_bytes += 4 * prev.mid_shape[2]
            else:
                # the pooled strip of convolution rows, then (word-aligned) the convolution's own scratch
                prev.scratch_bytes += _align(q["filter_h"] * prev.mid_shape[1] * prev.mid_shape[2])
            continue
        out.append(op)
    return out


def pools_directly(op: PlanOp) -> bool:
    """nn_op_pools_directly (nn_plan.h): a CONV_2D fused with a max pool whose windows do not overlap runs
    window by window (nn_conv2d_maxpool_s8) instead of through a strip of convolution rows."""
    return (op.kind == "CONV_2D" and op.pool is not None and op.pool["stride_h"] >= op.pool["filter_h"]
            and op.pool["stride_w"] >= op.pool["filter_w"])


#: Ops whose output rows depend on a window of input rows (row r reads from row r*stride - pad on).
_ROW_OPS = ("CONV_2D", "DEPTHWISE_CONV_2D", "MAX_POOL_2D", "AVERAGE_POOL_2D")


def overlap_delta(op: PlanOp) -> int:
    """Least (input start - output start) such that writing output row r never touches an input row that
    output rows r, r+1, ... still read: (r+1)*out_row <= delta + first_row(r)*in_row for every r."""
    oh, ow, oc = op.out_shape
    _, iw, ic = op.in_shape
    out_row, in_row = ow * oc, iw * ic
    return max((r + 1) * out_row - max(0, r * op.params["stride_h"] - op.params["pad_h"]) * in_row
               for r in range(oh))


def _groups(ops: list[PlanOp], graph: Graph, alias: dict[int, int], life: dict[int, tuple[int, int]],
            sizes: dict[int, int]) -> dict[int, tuple[int, int, int, int]]:
    """Candidate overlapping (input, output) pairs: out root → (in root, in offset, out offset, block size)
    within a block placed as one buffer. Only where the input dies at that op and is no graph input."""
    groups: dict[int, tuple[int, int, int, int]] = {}
    taken: set[int] = set()
    for step, op in enumerate(ops):
        if op.kind not in _ROW_OPS or op.pool is not None:
            continue
        src, dst = alias[op.inputs[0]], alias[op.output]
        if src in taken or dst in taken or src in {alias[i] for i in graph.inputs} or life[src][1] != step:
            continue
        delta = overlap_delta(op)
        # aligned, rounding the way that only makes (input start - output start) larger
        in_off, out_off = (_align(delta), 0) if delta >= 0 else (0, -delta // ARENA_ALIGN * ARENA_ALIGN)
        size = max(in_off + sizes[src], out_off + sizes[dst])
        if size >= _align(sizes[src]) + sizes[dst]:
            continue
        groups[dst] = (src, in_off, out_off, size)
        taken.update((src, dst))
    return groups


def _extent(placed: dict[int, int], blocks: dict[int, int]) -> int:
    return _align(max((placed[b] + blocks[b] for b in blocks), default=0))


def _place(ops: list[PlanOp], roots: set[int], sizes: dict[int, int], lifetimes: dict[int, tuple[int, int]],
           groups: dict[int, tuple[int, int, int, int]]) -> tuple[dict[int, int], dict[int, int]]:
    """Greedy placement of what the arena holds: buffers, overlap groups as one block each, and scratch
    buffers (keys -1 - step) live for their op's step only. Returns (offsets, sizes) per block."""
    blocks = {r: sizes[r] for r in roots}
    block_life = dict(lifetimes)
    for dst, (src, _, _, size) in groups.items():
        del blocks[src]
        blocks[dst] = size
        block_life[dst] = (min(lifetimes[src][0], lifetimes[dst][0]), max(lifetimes[src][1], lifetimes[dst][1]))
    for step, op in enumerate(ops):
        if op.scratch_bytes:
            blocks[-1 - step] = op.scratch_bytes
            block_life[-1 - step] = (step, step)
    return assign_offsets(blocks, block_life), blocks


def compile_plan(graph: Graph, fuse_pool: bool = False, overlap: bool = False, small_fc: bool = False) -> Plan:
    """Rewritten graph (graph_rewrite.rewrite) → Plan. Single input, single output.

    fuse_pool: fold a MAX_POOL_2D into the convolution before it (the convolution's output never exists
    whole). overlap: let a windowed op's output share bytes with its dying input (row-order kernels).
    small_fc: FULLY_CONNECTED layers of at most FC_SMALL_MAX_INPUTS inputs in the NN_FC_WEIGHTS_SMALL layout
    (fc_small_rows), where its arithmetic is exact. All three change what the kernels must do (nn_plan.h), so
    they are off unless the engine supports them."""
    if len(graph.inputs) != 1 or len(graph.outputs) != 1:
        raise PlanError("vigil's engine runs models with one input and one output")
    n_ops = max((op.index for op in graph.operators), default=-1) + 1
    ops = [_compile_op_where(graph, op, n_ops, small_fc) for op in graph.operators]
    if fuse_pool:
        ops = fuse_conv_pool(ops, graph)
    alias: dict[int, int] = {}
    for i in graph.inputs:
        alias[i] = i
    for op in ops:
        for i in op.inputs:
            alias.setdefault(i, i)
        # RESHAPE is in place: its output is the same bytes as its input (both int8, same count)
        alias[op.output] = alias[op.inputs[0]] if op.kind == "RESHAPE" else op.output
    sizes_t = {i: graph.tensors[i].nbytes for i in alias}
    roots = set(alias.values())
    sizes = {r: sizes_t[r] for r in roots}
    lifetimes = _lifetimes(ops, graph, alias)
    groups: dict[int, tuple[int, int, int, int]] = {}
    placed, blocks = _place(ops, roots, sizes, lifetimes, groups)
    if overlap:
        # a block has the union of both lifetimes, which can cost more than it saves: keep a pair only if
        # the arena shrinks with it
        for dst, group in _groups(ops, graph, alias, lifetimes, sizes).items():
            trial = {**groups, dst: group}
            placed2, blocks2 = _place(ops, roots, sizes, lifetimes, trial)
            if _extent(placed2, blocks2) < _extent(placed, blocks):
                groups, placed, blocks = trial, placed2, blocks2
        for op in ops:
            group = groups.get(alias[op.output])
            op.overlap = op.kind in _ROW_OPS and group is not None and group[0] == alias[op.inputs[0]]
    root_offsets = {r: placed[r] for r in roots if r in placed}
    for dst, (src, in_off, out_off, _) in groups.items():
        base = placed[dst]
        root_offsets[src], root_offsets[dst] = base + in_off, base + out_off
    offsets = {i: root_offsets[alias[i]] for i in alias}
    scratch = {-1 - k: v for k, v in placed.items() if k < 0}
    arena = _extent(placed, blocks)
    weight_bytes = sum(
        (op.weights.nbytes if op.weights is not None else 0) + (op.bias.nbytes if op.bias is not None else 0)
        + (op.multipliers.nbytes if op.multipliers is not None else 0)
        + (op.shifts.nbytes if op.shifts is not None else 0) + (op.fc_small.nbytes if op.fc_small is not None else 0)
        for op in ops
    )

    def io(i: int) -> TensorIO:
        t = graph.tensors[i]
        return TensorIO(tensor=i, offset=offsets[i], shape=t.shape, scale=t.quant.scale, zero_point=t.quant.zero_point)

    return Plan(ops=ops, offsets=offsets, sizes=sizes_t, lifetimes=lifetimes, alias=alias, arena_bytes=arena,
                weight_bytes=weight_bytes, macs=sum(op.macs for op in ops),
                input=io(graph.inputs[0]), output=io(graph.outputs[0]), scratch_offsets=scratch)


def manifest_entry(name: str, model_bytes: bytes, plan: Plan) -> dict[str, object]:
    """What the export manifest records for a model: hash, op list, arena and weight bytes, MACs."""
    import hashlib

    return {
        "name": name,
        "sha256": hashlib.sha256(model_bytes).hexdigest(),
        "ops": plan.op_names(),
        "arena_bytes": plan.arena_bytes,
        "weight_bytes": plan.weight_bytes,
        "macs": plan.macs,
        "input": {"shape": list(plan.input.shape), "scale": plan.input.scale, "zero_point": plan.input.zero_point},
        "output": {"shape": list(plan.output.shape), "scale": plan.output.scale,
                   "zero_point": plan.output.zero_point},
    }


def device_plan(model_bytes: bytes) -> Plan:
    """The plan the firmware runs, for every path that makes one (`vigil export nn`, `vigil export models`, `vigil
    engine check`): conv + max pool fused, rows in place where the planner finds them, and the small-layer
    FULLY_CONNECTED records where they are exact (plan_executor.c honours all three)."""
    from vigil.export.graph_rewrite import rewrite
    from vigil.export.tflite_reader import read_tflite

    return compile_plan(rewrite(read_tflite(model_bytes)), fuse_pool=True, overlap=True, small_fc=True)
