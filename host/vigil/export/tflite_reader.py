"""Read a `.tflite` flatbuffer into plain dataclasses, using the schema module shipped with tflite-micro.

Only subgraph 0 is read (TFLM runs subgraph 0; control flow ops are not supported). Builtin options are
decoded into a dict with snake_case keys; enum values for padding and fused activation become names
("SAME"/"VALID", "NONE"/"RELU"/"RELU6"/...)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np
from tflite_micro.tensorflow.lite.micro.python import schema_py_generated as schema

from vigil.errors import VigilError

#: Ops vigil's engine runs (after graph_rewrite). Anything else is refused by name and position.
SUPPORTED_OPS: tuple[str, ...] = (
    "CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED", "MAX_POOL_2D", "AVERAGE_POOL_2D", "RESHAPE",
    "SOFTMAX", "LOGISTIC", "MEAN", "ADD", "RELU", "RELU6",
)
#: Ops that graph_rewrite removes (shape-only subgraphs folded at compile time, dilated-conv wrappers fused).
REWRITABLE_OPS: tuple[str, ...] = ("SHAPE", "STRIDED_SLICE", "PACK", "SPACE_TO_BATCH_ND", "BATCH_TO_SPACE_ND")
#: Fused activations the engine supports.
SUPPORTED_ACTIVATIONS: tuple[str, ...] = ("NONE", "RELU", "RELU6")

_OPCODE_NAMES: dict[int, str] = {
    v: k for k, v in vars(schema.BuiltinOperator).items() if not k.startswith("_") and isinstance(v, int)
}
_PADDING_NAMES: dict[int, str] = {v: k for k, v in vars(schema.Padding).items() if not k.startswith("_")}
_ACTIVATION_NAMES: dict[int, str] = {
    v: k for k, v in vars(schema.ActivationFunctionType).items() if not k.startswith("_")
}
_DTYPES: dict[int, np.dtype] = {
    schema.TensorType.FLOAT32: np.dtype(np.float32),
    schema.TensorType.INT32: np.dtype(np.int32),
    schema.TensorType.UINT8: np.dtype(np.uint8),
    schema.TensorType.INT64: np.dtype(np.int64),
    schema.TensorType.BOOL: np.dtype(np.bool_),
    schema.TensorType.INT16: np.dtype(np.int16),
    schema.TensorType.INT8: np.dtype(np.int8),
    schema.TensorType.FLOAT64: np.dtype(np.float64),
}


class TfliteFormatError(VigilError):
    """The file is not a `.tflite` model vigil can read (bad flatbuffer, unknown tensor type, several subgraphs)."""


class UnsupportedOpError(VigilError):
    """The model uses an op (or a fused activation) that vigil's engine does not run. The message names the op
    and its position in the graph: operator index in subgraph 0, as listed by the TFLite converter."""

    def __init__(self, op_name: str, index: int, n_ops: int, detail: str = "") -> None:
        self.op_name = op_name
        self.index = index
        extra = f" ({detail})" if detail else ""
        super().__init__(
            f"unsupported op {op_name}{extra} at operator {index} (0-based, of {n_ops} in the source graph); "
            f"vigil's engine runs "
            f"{', '.join(SUPPORTED_OPS)} with fused NONE/RELU/RELU6 — change the model, no fallback is made"
        )


@dataclass(frozen=True)
class Quantization:
    """Affine quantization: real = scale * (q - zero_point), per channel along `axis` if several scales.
    Scales stay float32, as TFLM reads them (multipliers are derived from them in double, as TFLM does)."""

    scales: np.ndarray  # float32, shape (n,)
    zero_points: np.ndarray  # int64, shape (n,)
    axis: int

    @property
    def per_channel(self) -> bool:
        return self.scales.size > 1

    @property
    def scale(self) -> float:
        """The per-tensor scale (first one), as a Python float of the float32 value."""
        return float(self.scales[0])

    @property
    def zero_point(self) -> int:
        return int(self.zero_points[0])


@dataclass
class Tensor:
    index: int
    name: str
    shape: tuple[int, ...]
    dtype: np.dtype
    data: np.ndarray | None  # constant contents (reshaped, typed), None for activations
    quant: Quantization | None

    @property
    def is_constant(self) -> bool:
        return self.data is not None

    @property
    def nbytes(self) -> int:
        return int(np.prod(self.shape, dtype=np.int64)) * self.dtype.itemsize


@dataclass
class Operator:
    index: int  # position in the source graph (kept through rewrites, for error messages)
    opcode: str
    inputs: tuple[int, ...]  # tensor indices, -1 for an absent optional input
    outputs: tuple[int, ...]
    options: dict[str, object] = field(default_factory=dict)


@dataclass
class Graph:
    tensors: list[Tensor]
    operators: list[Operator]
    inputs: tuple[int, ...]
    outputs: tuple[int, ...]

    def op_names(self) -> list[str]:
        return [op.opcode for op in self.operators]

    def consumers(self, tensor: int) -> list[Operator]:
        return [op for op in self.operators if tensor in op.inputs]

    def producer(self, tensor: int) -> Operator | None:
        for op in self.operators:
            if tensor in op.outputs:
                return op
        return None


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def decode_options(options: object | None) -> dict[str, object]:
    """Builtin options object → dict (snake_case keys, padding/activation as names, arrays as lists)."""
    if options is None:
        return {}
    out: dict[str, object] = {}
    for key, value in vars(options).items():
        skey = _snake(key)
        if skey == "padding":
            value = _PADDING_NAMES.get(int(value), str(value))
        elif skey == "fused_activation_function":
            value = _ACTIVATION_NAMES.get(int(value), str(value))
        elif isinstance(value, np.ndarray):
            value = value.tolist()
        out[skey] = value
    return out


def _quantization(q: object | None) -> Quantization | None:
    if q is None or q.scale is None or len(q.scale) == 0:
        return None
    scales = np.asarray(q.scale, dtype=np.float32)
    zps = np.asarray(q.zeroPoint if q.zeroPoint is not None else np.zeros(scales.size), dtype=np.int64)
    return Quantization(scales=scales, zero_points=zps, axis=int(q.quantizedDimension))


def _tensor(index: int, t: object, buffers: list[object]) -> Tensor:
    if t.type not in _DTYPES:
        raise TfliteFormatError(f"tensor {index} ({t.name!r}) has unsupported type {t.type}")
    dtype = _DTYPES[t.type]
    shape = tuple(int(s) for s in (t.shape if t.shape is not None else []))
    data = None
    buf = buffers[t.buffer] if 0 < t.buffer < len(buffers) else None
    if buf is not None and buf.data is not None and len(buf.data) > 0:
        raw = np.asarray(buf.data, dtype=np.uint8).tobytes()
        data = np.frombuffer(raw, dtype=dtype.newbyteorder("<")).astype(dtype).reshape(shape)
    name = t.name.decode() if isinstance(t.name, bytes) else str(t.name)
    return Tensor(index=index, name=name, shape=shape, dtype=dtype, data=data, quant=_quantization(t.quantization))


def opcode_name(model: object, opcode_index: int) -> str:
    oc = model.operatorCodes[opcode_index]
    code = max(int(oc.builtinCode), int(oc.deprecatedBuiltinCode))
    if code == schema.BuiltinOperator.CUSTOM:
        custom = oc.customCode.decode() if isinstance(oc.customCode, bytes) else str(oc.customCode)
        return f"CUSTOM:{custom}"
    return _OPCODE_NAMES.get(code, f"BUILTIN_{code}")


def read_tflite(model_bytes: bytes, check_ops: bool = True) -> Graph:
    """Parse a `.tflite` model (subgraph 0). With `check_ops`, an op that is neither supported nor removable
    by graph_rewrite raises UnsupportedOpError naming it and its operator index."""
    try:
        fb = schema.Model.GetRootAsModel(bytearray(model_bytes), 0)
        model = schema.ModelT.InitFromObj(fb)
    except Exception as exc:  # the flatbuffer library raises assorted errors on garbage
        raise TfliteFormatError(f"not a readable .tflite flatbuffer: {exc}") from exc
    if not model.subgraphs:
        raise TfliteFormatError("the model has no subgraph")
    sg = model.subgraphs[0]
    buffers = list(model.buffers or [])
    tensors = [_tensor(i, t, buffers) for i, t in enumerate(sg.tensors or [])]
    ops = [
        Operator(
            index=i,
            opcode=opcode_name(model, op.opcodeIndex),
            inputs=tuple(int(x) for x in (op.inputs if op.inputs is not None else [])),
            outputs=tuple(int(x) for x in (op.outputs if op.outputs is not None else [])),
            options=decode_options(op.builtinOptions),
        )
        for i, op in enumerate(sg.operators or [])
    ]
    graph = Graph(
        tensors=tensors,
        operators=ops,
        inputs=tuple(int(x) for x in sg.inputs),
        outputs=tuple(int(x) for x in sg.outputs),
    )
    if check_ops:
        check_supported(graph, allow_rewritable=True)
    return graph


def check_supported(graph: Graph, allow_rewritable: bool = False) -> None:
    """Raise UnsupportedOpError for the first op (or fused activation) the engine cannot run."""
    allowed = SUPPORTED_OPS + (REWRITABLE_OPS if allow_rewritable else ())
    n = max((op.index for op in graph.operators), default=-1) + 1
    for op in graph.operators:
        if op.opcode not in allowed:
            raise UnsupportedOpError(op.opcode, op.index, n)
        act = op.options.get("fused_activation_function", "NONE")
        if act not in SUPPORTED_ACTIVATIONS:
            raise UnsupportedOpError(op.opcode, op.index, n, f"fused activation {act}")
