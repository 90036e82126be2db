"""Keras → full-integer int8 `.tflite`, and the oracle: TensorFlow Lite Micro's Python interpreter.

The oracle is TFLM (`tflite_micro.runtime`), not TensorFlow Lite's own interpreter, which rounds differently
on a small share of outputs."""

from __future__ import annotations

import contextlib
import os
import sys
from typing import Iterator, Sequence

import numpy as np

from vigil.errors import VigilError

#: TFLM arena for the oracle: generous, the host has memory (the device arena is planned separately).
ORACLE_ARENA_BYTES = 4 * 1024 * 1024


@contextlib.contextmanager
def output_silenced() -> Iterator[None]:
    """Send file descriptors 1 and 2 to /dev/null for the block: TensorFlow's converter prints "Saved artifact
    ..." to stdout (which would corrupt `--json` output) and MLIR chatter to stderr. Its errors still raise."""
    sys.stdout.flush()
    sys.stderr.flush()
    saved = [os.dup(1), os.dup(2)]
    try:
        with open(os.devnull, "w") as null, contextlib.redirect_stdout(null), contextlib.redirect_stderr(null):
            os.dup2(null.fileno(), 1)  # C++ writes to the descriptors,
            os.dup2(null.fileno(), 2)  # Python's print to sys.stdout (which click's test runner replaces)
            yield
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        for fd, copy in zip((1, 2), saved):
            os.dup2(copy, fd)
            os.close(copy)


def to_int8_tflite(keras_model: object, representative: np.ndarray | Sequence[np.ndarray], *,
                   per_channel_dense: bool = True) -> bytes:  # fmt: skip
    """Full-integer post-training quantization: int8 weights (per channel), int8 activations, int8 input and
    output. `representative` is a float batch (N, *input_shape) that calibrates activation ranges, or one such
    batch per model input (a list, same N). ``per_channel_dense=False`` quantizes FULLY_CONNECTED weights per
    tensor (what older converters did; the engine supports both)."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import tensorflow as tf  # imported here: slow, and only conversion needs it

    batches = [np.asarray(r, dtype=np.float32) for r in representative] if isinstance(representative, (list, tuple)) \
        else [np.asarray(representative, dtype=np.float32)]  # fmt: skip
    if any(b.ndim < 2 or b.shape[0] == 0 for b in batches) or len({b.shape[0] for b in batches}) != 1:
        raise VigilError("the representative dataset must be a non-empty batch (N, *input_shape), one per input, same N")

    def samples() -> Iterator[list[np.ndarray]]:
        for i in range(batches[0].shape[0]):
            yield [b[i][None] for b in batches]

    converter = tf.lite.TFLiteConverter.from_keras_model(keras_model)
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    converter.representative_dataset = samples
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    converter.inference_input_type = tf.int8
    converter.inference_output_type = tf.int8
    if not per_channel_dense:
        converter._experimental_disable_per_channel_quantization_for_dense_layers = True
    return bytes(converter.convert())


def tflm_reference(model_bytes: bytes, inputs: np.ndarray) -> np.ndarray:
    """Run TFLM's reference kernels on each int8 input of the batch `inputs` (N, *input_shape[1:]) and return
    the outputs stacked (N, *output_shape[1:]). Single input, single output models.
    For a model with dilated convolutions pass `graph_rewrite.oracle_tflite(model_bytes)` (see there why)."""
    from tflite_micro.python.tflite_micro import runtime

    interp = runtime.Interpreter.from_bytes(bytes(model_bytes), arena_size=ORACLE_ARENA_BYTES)
    shape = tuple(int(s) for s in interp.get_input_details(0)["shape"])
    batch = np.asarray(inputs)
    if batch.dtype != np.int8:
        raise VigilError(f"tflm_reference takes int8 inputs, got {batch.dtype}")
    if batch.shape[1:] != shape[1:]:
        raise VigilError(f"inputs have shape {batch.shape[1:]} per sample, the model takes {shape[1:]}")
    outs = []
    for x in batch:
        interp.set_input(np.ascontiguousarray(x.reshape(shape)), 0)
        interp.invoke()
        out = np.array(interp.get_output(0), copy=True)
        outs.append(out.reshape(out.shape[1:]))
    return np.stack(outs)
