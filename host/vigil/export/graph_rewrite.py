"""Rewrite what TensorFlow 2.21's converter emits into vigil's op set (batch 1).

- Shape-only subgraphs (a Keras `Flatten` becomes SHAPE → STRIDED_SLICE → PACK → RESHAPE): every op whose
  inputs are known at compile time (constants, or the static shape of a tensor) is evaluated here, and a
  RESHAPE whose target shape was computed that way becomes one static RESHAPE (data input only; the target
  is the output tensor's static shape, checked against the folded value).
- A dilated convolution (SPACE_TO_BATCH_ND → CONV_2D/DEPTHWISE_CONV_2D → BATCH_TO_SPACE_ND) is fused back into
  one convolution with `dilation_*_factor` = block size and the padding (SAME or VALID) that gives the same
  result. A combination that matches neither is refused (UnsupportedOpError), never approximated.

The rewritten graph keeps the original tensors list and each op's original `index` (for error messages)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from vigil.export.tflite_reader import Graph, Operator, UnsupportedOpError, check_supported

_SHAPE_OPS = ("SHAPE", "STRIDED_SLICE", "PACK")


def rewrite(graph: Graph) -> Graph:
    """Fold shape-only subgraphs and fuse dilated convolutions; then check every remaining op is supported."""
    g = fold_shape_subgraphs(graph)
    g = fuse_dilated_convs(g)
    check_supported(g)
    return g


def _n_ops(graph: Graph) -> int:
    return max((op.index for op in graph.operators), default=-1) + 1


# --- shape-only subgraphs -------------------------------------------------------------------------------------

def _strided_slice_1d(x: np.ndarray, begin: int, end: int, stride: int, opts: dict[str, object]) -> np.ndarray:
    if int(opts.get("begin_mask", 0)) & 1:
        begin = 0 if stride > 0 else x.size - 1
    if int(opts.get("end_mask", 0)) & 1:
        end = x.size if stride > 0 else -x.size - 1
    if int(opts.get("shrink_axis_mask", 0)) & 1:
        return np.asarray(x[begin], dtype=x.dtype)
    return x[slice(begin, end, stride)]


def _evaluate(op: Operator, known: dict[int, np.ndarray], graph: Graph) -> np.ndarray | None:
    """Value of a shape op's output if all it needs is known at compile time (batch 1), else None."""
    if op.opcode == "SHAPE":
        shape = graph.tensors[op.inputs[0]].shape
        return np.asarray([1, *shape[1:]], dtype=np.int32)  # batch 1, whatever the converter left there
    ins = [known.get(i) for i in op.inputs]
    if any(v is None for v in ins):
        return None
    if op.opcode == "STRIDED_SLICE":
        x, begin, end, strides = ins
        if x.ndim != 1 or begin.size != 1:
            return None
        opts = op.options
        if int(opts.get("ellipsis_mask", 0)) or int(opts.get("new_axis_mask", 0)):
            return None
        return _strided_slice_1d(x, int(begin[0]), int(end[0]), int(strides[0]), opts)
    if op.opcode == "PACK":
        return np.stack([np.asarray(v) for v in ins], axis=int(op.options.get("axis", 0)))
    return None


def fold_shape_subgraphs(graph: Graph) -> Graph:
    """Evaluate SHAPE/STRIDED_SLICE/PACK at compile time; turn RESHAPE(data, computed shape) into a static
    RESHAPE. A shape op whose value cannot be computed is left in place (and refused later)."""
    known: dict[int, np.ndarray] = {t.index: t.data for t in graph.tensors if t.data is not None}
    ops: list[Operator] = []
    folded: set[int] = set()
    for op in graph.operators:
        if op.opcode in _SHAPE_OPS:
            value = _evaluate(op, known, graph)
            if value is not None:
                known[op.outputs[0]] = value
                folded.add(op.index)
                continue
        if op.opcode == "RESHAPE":
            op = _static_reshape(op, known, graph)
        ops.append(op)
    # A folded value still needed by a remaining op other than RESHAPE means the subgraph was not shape-only.
    used = {i for op in ops for i in op.inputs}
    for op in graph.operators:
        if op.index in folded and op.outputs[0] in used:
            raise UnsupportedOpError(op.opcode, op.index, _n_ops(graph), "its value feeds a computation")
    return replace(graph, operators=ops)


def _static_reshape(op: Operator, known: dict[int, np.ndarray], graph: Graph) -> Operator:
    out = graph.tensors[op.outputs[0]]
    target = out.shape
    if len(op.inputs) > 1 and op.inputs[1] >= 0:
        computed = known.get(op.inputs[1])
        if computed is None:
            raise UnsupportedOpError("RESHAPE", op.index, _n_ops(graph), "its target shape is computed at run time")
        dims = [int(d) for d in np.asarray(computed).ravel()]
        n_in = int(np.prod(graph.tensors[op.inputs[0]].shape[1:], dtype=np.int64))  # batch 1
        if dims.count(-1) == 1:
            rest = int(np.prod([d for d in dims if d != -1], dtype=np.int64))
            dims[dims.index(-1)] = n_in // rest
        if [1, *dims[1:]] != [1, *target[1:]] or int(np.prod(dims[1:], dtype=np.int64)) != n_in:
            raise UnsupportedOpError("RESHAPE", op.index, _n_ops(graph),
                                     f"folded shape {dims} disagrees with the tensor's {list(target)}")
    return replace(op, inputs=(op.inputs[0],), options={**op.options, "new_shape": [1, *target[1:]]})


# --- dilated convolutions -------------------------------------------------------------------------------------

def _same_pad_before(k_eff: int) -> int:
    """TFLite SAME padding at stride 1 (output size = input size): the padding before; odd extra goes after."""
    return max(k_eff - 1, 0) // 2


def fuse_dilated_convs(graph: Graph) -> Graph:
    """SPACE_TO_BATCH_ND → CONV_2D|DEPTHWISE_CONV_2D (VALID, stride 1) → BATCH_TO_SPACE_ND → one dilated conv."""
    ops = list(graph.operators)
    n = _n_ops(graph)
    i = 0
    while i < len(ops):
        op = ops[i]
        if op.opcode != "SPACE_TO_BATCH_ND":
            i += 1
            continue
        stb_out = op.outputs[0]
        convs = [c for c in ops if stb_out in c.inputs]
        if len(convs) != 1 or convs[0].opcode not in ("CONV_2D", "DEPTHWISE_CONV_2D") or convs[0].inputs[0] != stb_out:
            raise UnsupportedOpError(op.opcode, op.index, n, "not the input of exactly one convolution")
        conv = convs[0]
        btss = [b for b in ops if conv.outputs[0] in b.inputs]
        if len(btss) != 1 or btss[0].opcode != "BATCH_TO_SPACE_ND" or conv.outputs[0] in graph.outputs:
            raise UnsupportedOpError(op.opcode, op.index, n, "its convolution is not followed by BATCH_TO_SPACE_ND")
        bts = btss[0]
        fused = _fuse(graph, op, conv, bts)
        ops = [fused if o is conv else o for o in ops if o is not op and o is not bts]
        i = 0
    return replace(graph, operators=ops)


def _fuse(graph: Graph, stb: Operator, conv: Operator, bts: Operator) -> Operator:
    n = _n_ops(graph)
    t = graph.tensors
    block_t, pad_t = t[stb.inputs[1]].data, t[stb.inputs[2]].data
    block2_t, crop_t = t[bts.inputs[1]].data, t[bts.inputs[2]].data
    if block_t is None or pad_t is None or block2_t is None or crop_t is None:
        raise UnsupportedOpError(stb.opcode, stb.index, n, "block shape, paddings or crops computed at run time")
    block = [int(b) for b in block_t.ravel()]
    pads = np.asarray(pad_t).reshape(2, 2)
    crops = np.asarray(crop_t).reshape(2, 2)
    opts = conv.options
    if (block != [int(b) for b in block2_t.ravel()] or len(block) != 2 or opts.get("padding") != "VALID"
            or (int(opts.get("stride_h", 1)), int(opts.get("stride_w", 1))) != (1, 1)
            or (int(opts.get("dilation_h_factor", 1)), int(opts.get("dilation_w_factor", 1))) != (1, 1)):
        raise UnsupportedOpError(stb.opcode, stb.index, n, "not a dilated stride-1 convolution")
    in_shape = t[stb.inputs[0]].shape
    out_shape = t[bts.outputs[0]].shape
    filt = t[conv.inputs[1]].shape  # CONV_2D: (O, KH, KW, I); DEPTHWISE: (1, KH, KW, O)
    # the paddings (SAME, VALID) that give this axis's geometry; an axis whose effective kernel is 1 (a kernel
    # of 1 along an axis of a convolution dilated along the other) fits both, and so takes the other axis's
    fits: set[str] = {"SAME", "VALID"}
    for axis in range(2):
        size, k, d = in_shape[1 + axis], filt[1 + axis], block[axis]
        k_eff = (k - 1) * d + 1
        # output row r reads padded rows r + crop_before ..., i.e. input rows from r + crop_before - pad_before
        pad_before = int(pads[axis, 0]) - int(crops[axis, 0])
        out = out_shape[1 + axis]
        axis_fits = set()
        if out == size and pad_before == _same_pad_before(k_eff):
            axis_fits.add("SAME")
        if out == size - k_eff + 1 and pad_before == 0:
            axis_fits.add("VALID")
        if not axis_fits:
            raise UnsupportedOpError(stb.opcode, stb.index, n, "its padding/crops match neither SAME nor VALID")
        fits &= axis_fits
    if not fits:
        raise UnsupportedOpError(stb.opcode, stb.index, n, "SAME along one axis and VALID along the other: "
                                 "one TFLite padding cannot say it")
    padding = "SAME" if "SAME" in fits else "VALID"
    q_in, q_stb = t[stb.inputs[0]].quant, t[stb.outputs[0]].quant
    q_conv, q_out = t[conv.outputs[0]].quant, t[bts.outputs[0]].quant
    for a, b in ((q_in, q_stb), (q_conv, q_out)):
        if a is None or b is None or a.scale != b.scale or a.zero_point != b.zero_point:
            raise UnsupportedOpError(stb.opcode, stb.index, n, "requantizes around the convolution")
    new_opts = {**opts, "padding": padding, "dilation_h_factor": block[0], "dilation_w_factor": block[1]}
    return replace(conv, inputs=(stb.inputs[0], *conv.inputs[1:]), outputs=bts.outputs, options=new_opts)


# --- back to a .tflite (to check a rewrite against the oracle) ------------------------------------------------

def to_tflite(graph: Graph, model_bytes: bytes) -> bytes:
    """Serialize a rewritten graph as a `.tflite` (the original model with subgraph 0's operator list replaced),
    so the TFLM interpreter can run it: a rewrite is right when this model's outputs equal the original's."""
    import flatbuffers
    from tflite_micro.tensorflow.lite.micro.python import schema_py_generated as schema

    model = schema.ModelT.InitFromObj(schema.Model.GetRootAsModel(bytearray(model_bytes), 0))
    sg = model.subgraphs[0]
    originals = list(sg.operators)
    ops = []
    for op in graph.operators:
        src = originals[op.index]
        src.inputs = np.asarray(op.inputs, dtype=np.int32)
        src.outputs = np.asarray(op.outputs, dtype=np.int32)
        if op.opcode == "RESHAPE":
            src.builtinOptionsType = schema.BuiltinOptions.ReshapeOptions
            src.builtinOptions = schema.ReshapeOptionsT()
            src.builtinOptions.newShape = [int(d) for d in op.options["new_shape"]]  # type: ignore[union-attr]
        elif op.opcode in ("CONV_2D", "DEPTHWISE_CONV_2D"):
            opts = src.builtinOptions
            opts.padding = getattr(schema.Padding, str(op.options["padding"]))
            opts.dilationHFactor = int(op.options.get("dilation_h_factor", 1))  # type: ignore[arg-type]
            opts.dilationWFactor = int(op.options.get("dilation_w_factor", 1))  # type: ignore[arg-type]
        ops.append(src)
    sg.operators = ops
    builder = flatbuffers.Builder(len(model_bytes) + 1024)
    builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
    return bytes(builder.Output())


def oracle_tflite(model_bytes: bytes) -> bytes:
    """The `.tflite` to give the TFLM oracle for a model: the model itself when no rewrite was needed, else
    the rewritten graph serialized. TFLM runs the converter's SPACE_TO_BATCH_ND form of a dilated convolution
    wrongly (the flatbuffer gives the batched intermediate tensors batch 1), while the fused model agrees with
    TensorFlow Lite's interpreter on the original (to its known off-by-one), so the fused one is the oracle."""
    from vigil.export.tflite_reader import read_tflite

    raw = read_tflite(model_bytes)
    if not any(op.opcode == "SPACE_TO_BATCH_ND" for op in raw.operators):
        return bytes(model_bytes)
    return to_tflite(rewrite(raw), model_bytes)
