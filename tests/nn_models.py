"""Helpers for tests/test_nn_kernels.py: tiny one-op Keras models converted to int8 `.tflite`
(full-integer post-training quantization, int8 input/output, per-channel weights), and a minimal
reader of the converted flatbuffer (tensors, quantization, constant data, op options)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any, Callable, Sequence

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from tflite_micro.tensorflow.lite.micro.python import schema_py_generated as schema  # noqa: E402

TFLM_ARENA_BYTES = 1 << 20  # generous: the default (10 x the model size) is too small for big activations

# (low, high) of the float data in the representative dataset, per model input
InputRange = tuple[float, float]


def convert_int8(
    model: Any,
    input_ranges: Sequence[InputRange],
    *,
    seed: int = 0,
    samples: int = 32,
    per_channel_dense: bool = True,
) -> bytes:
    """Full-integer quantization of a Keras model (batch 1), representative data uniform in the
    given ranges, int8 input and output."""
    from vigil.export.tflite import to_int8_tflite

    shapes = [tuple(int(d) for d in inp.shape[1:]) for inp in model.inputs]
    rng = np.random.default_rng(seed)
    # drawn sample by sample, input by input (the order the values always had)
    draws = [[rng.uniform(lo, hi, (1, *shape)).astype(np.float32) for shape, (lo, hi) in zip(shapes, input_ranges)]
             for _ in range(samples)]  # fmt: skip
    batches = [np.concatenate([d[k] for d in draws]) for k in range(len(shapes))]
    return to_int8_tflite(model, batches, per_channel_dense=per_channel_dense)


def randomize_weights(model: Any, rng: np.random.Generator, weight_scale: float, bias_scale: float) -> None:
    """Replaces every layer's weights by uniform random values (kernels, then biases)."""
    for layer in model.layers:
        new = []
        for w in layer.get_weights():
            scale = bias_scale if w.ndim == 1 else weight_scale
            new.append(rng.uniform(-scale, scale, w.shape).astype(np.float32))
        if new:
            layer.set_weights(new)


@dataclass(frozen=True)
class TensorInfo:
    index: int
    shape: tuple[int, ...]
    type: int
    scales: np.ndarray  # float32
    zero_points: np.ndarray  # int64
    data: np.ndarray | None  # constant contents, typed, or None

    @property
    def scale(self) -> float:
        return float(self.scales[0])

    @property
    def zero_point(self) -> int:
        return int(self.zero_points[0])


@dataclass(frozen=True)
class OpInfo:
    code: int
    inputs: list[TensorInfo | None]
    outputs: list[TensorInfo]
    options: Any


@dataclass(frozen=True)
class ModelInfo:
    ops: list[OpInfo]
    inputs: list[int]  # subgraph input tensor indices, in the interpreter's order
    outputs: list[int]


_NUMPY_TYPES = {
    schema.TensorType.INT8: np.int8,
    schema.TensorType.INT32: np.int32,
    schema.TensorType.FLOAT32: np.float32,
    schema.TensorType.INT16: np.int16,
    schema.TensorType.INT64: np.int64,
}

_OPTIONS = {
    schema.BuiltinOptions.Conv2DOptions: schema.Conv2DOptions,
    schema.BuiltinOptions.DepthwiseConv2DOptions: schema.DepthwiseConv2DOptions,
    schema.BuiltinOptions.FullyConnectedOptions: schema.FullyConnectedOptions,
    schema.BuiltinOptions.Pool2DOptions: schema.Pool2DOptions,
    schema.BuiltinOptions.AddOptions: schema.AddOptions,
    schema.BuiltinOptions.SoftmaxOptions: schema.SoftmaxOptions,
}


def _tensor(model: Any, sg: Any, index: int) -> TensorInfo:
    t = sg.Tensors(index)
    q = t.Quantization()
    scales = q.ScaleAsNumpy() if q is not None and not q.ScaleIsNone() else np.zeros(0)
    zps = q.ZeroPointAsNumpy() if q is not None and not q.ZeroPointIsNone() else np.zeros(0)
    buf = model.Buffers(t.Buffer())
    data = None
    if buf is not None and buf.DataLength() > 0:
        raw = buf.DataAsNumpy().tobytes()
        data = np.frombuffer(raw, dtype=_NUMPY_TYPES[t.Type()]).reshape(tuple(t.ShapeAsNumpy()))
    shape = tuple(int(d) for d in t.ShapeAsNumpy()) if t.ShapeLength() else ()
    return TensorInfo(
        index, shape, t.Type(), np.asarray(scales, np.float32), np.asarray(zps, np.int64), data
    )


def read_model(tflite: bytes) -> ModelInfo:
    """The first subgraph's operators with their tensors and builtin options."""
    model = schema.Model.GetRootAs(tflite, 0)
    sg = model.Subgraphs(0)
    ops = []
    for i in range(sg.OperatorsLength()):
        op = sg.Operators(i)
        opcode = model.OperatorCodes(op.OpcodeIndex())
        code = max(opcode.BuiltinCode(), opcode.DeprecatedBuiltinCode())
        inputs = [None if j < 0 else _tensor(model, sg, int(j)) for j in op.InputsAsNumpy()]
        outputs = [_tensor(model, sg, int(j)) for j in op.OutputsAsNumpy()]
        options = None
        cls = _OPTIONS.get(op.BuiltinOptionsType())
        table = op.BuiltinOptions()
        if cls is not None and table is not None:
            options = cls()
            options.Init(table.Bytes, table.Pos)
        ops.append(OpInfo(code, inputs, outputs, options))
    return ModelInfo(ops, [int(j) for j in sg.InputsAsNumpy()], [int(j) for j in sg.OutputsAsNumpy()])


def tflm_runner(tflite: bytes) -> Callable[[Sequence[np.ndarray]], np.ndarray]:
    """The tflite-micro interpreter (TFLM reference kernels) on this model: inputs -> output 0."""
    from tflite_micro.python.tflite_micro import runtime

    interp = runtime.Interpreter.from_bytes(tflite, arena_size=TFLM_ARENA_BYTES)

    def run(inputs: Sequence[np.ndarray]) -> np.ndarray:
        for i, x in enumerate(inputs):
            interp.set_input(x, i)
        interp.invoke()
        return np.array(interp.get_output(0))

    return run
