"""vigil.export.graph_rewrite on convolutions dilated along one axis only.

The converter writes a dilated convolution as SPACE_TO_BATCH_ND → CONV_2D (VALID) → BATCH_TO_SPACE_ND. Along an
axis that is not dilated and whose kernel is 1, the paddings and crops say nothing (SAME and VALID are the same
there), so the fused convolution takes the other axis's padding; a graph that truly pads SAME along one axis and
VALID along the other has no single TFLite padding and is refused by name."""

from __future__ import annotations

import os
from dataclasses import replace

import numpy as np
import pytest

from test_export import edge_inputs, run_plan  # the plan's numpy twin (TFLM reference arithmetic)
from vigil.export import graph_rewrite
from vigil.export.plan import compile_plan
from vigil.export.tflite import tflm_reference
from vigil.export.tflite_reader import UnsupportedOpError, read_tflite

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

pytestmark = pytest.mark.slow


def _sequential(layers: list[object], shape: tuple[int, ...], seed: int) -> bytes:
    import keras

    from vigil.export.tflite import to_int8_tflite

    keras.utils.set_random_seed(seed)
    model = keras.Sequential([keras.Input(shape), *layers])
    rng = np.random.default_rng(seed)
    for layer in model.layers:  # non-zero biases: the converter then adds them after BATCH_TO_SPACE_ND
        w = layer.get_weights()
        if len(w) == 2:
            layer.set_weights([w[0], rng.normal(0, 0.2, w[1].shape)])
    return to_int8_tflite(model, rng.uniform(-1, 1, (16, *shape)))


@pytest.fixture(scope="module")
def one_axis_models() -> dict[str, bytes]:
    import keras.layers as L

    return {
        # a (7, 1) kernel dilated along H only, VALID: W has an effective kernel of 1
        "valid_h": _sequential([L.Conv2D(4, (7, 1), dilation_rate=(2, 1), activation="relu"), L.Flatten(),
                                L.Dense(3)], (64, 9, 1), seed=1),
        # (1, 5) dilated along W only, SAME, then a depthwise (3, 1) dilated along H only, SAME
        "same_w": _sequential([L.Conv2D(3, (1, 5), dilation_rate=(1, 3), padding="same"),
                               L.DepthwiseConv2D((3, 1), dilation_rate=(2, 1), padding="same", depth_multiplier=2,
                                                 activation="relu6"),
                               L.Flatten(), L.Dense(2)], (5, 17, 2), seed=2),
    }


@pytest.mark.parametrize("name,convs", [("valid_h", [("VALID", 2, 1)]),
                                        ("same_w", [("SAME", 1, 3), ("SAME", 2, 1)])])
def test_one_axis_dilation_fuses_and_runs_exactly(one_axis_models: dict[str, bytes], name: str,
                                                  convs: list[tuple[str, int, int]]) -> None:
    model = one_axis_models[name]
    raw = read_tflite(model)
    assert "SPACE_TO_BATCH_ND" in raw.op_names()  # the converter's form, not something we built
    g = graph_rewrite.rewrite(raw)
    assert "SPACE_TO_BATCH_ND" not in g.op_names() and "BATCH_TO_SPACE_ND" not in g.op_names()
    fused = [op.options for op in g.operators if op.opcode in ("CONV_2D", "DEPTHWISE_CONV_2D")]
    assert [(o["padding"], o["dilation_h_factor"], o["dilation_w_factor"]) for o in fused] == convs
    plan = compile_plan(g, fuse_pool=True, overlap=True, small_fc=True)
    xs = edge_inputs(tuple(plan.input.shape[1:]), 8, seed=3)
    want = tflm_reference(graph_rewrite.oracle_tflite(model), xs)
    got = np.stack([run_plan(plan, x) for x in xs]).reshape(want.shape)
    assert np.array_equal(got, want), f"{int((got != want).sum())} mismatches of {got.size}"


def test_same_on_one_axis_and_valid_on_the_other_is_refused(one_axis_models: dict[str, bytes]) -> None:
    """A SAME-padded (3, 3) convolution dilated by 2 whose W axis is made VALID (crops moved, output narrowed):
    no single TFLite padding gives it, so the rewrite refuses instead of approximating."""
    import keras.layers as L

    model = _sequential([L.Conv2D(2, 3, dilation_rate=2, padding="same"), L.Flatten(), L.Dense(2)], (9, 9, 1), 4)
    raw = read_tflite(model)
    stb = next(op for op in raw.operators if op.opcode == "SPACE_TO_BATCH_ND")
    bts = next(op for op in raw.operators if op.opcode == "BATCH_TO_SPACE_ND")
    pads = np.array(raw.tensors[stb.inputs[2]].data).reshape(2, 2)
    crops = np.array(raw.tensors[bts.inputs[2]].data).reshape(2, 2)
    assert pads[1, 0] - crops[1, 0] == 2  # SAME: (5 - 1) // 2 before
    crops[1, 0] = pads[1, 0]  # W now starts at the first input column: VALID
    tensors = list(raw.tensors)
    tensors[bts.inputs[2]] = replace(tensors[bts.inputs[2]], data=crops.astype(np.int32))
    out = tensors[bts.outputs[0]]
    tensors[bts.outputs[0]] = replace(out, shape=(1, 9, 9 - 5 + 1, out.shape[3]))
    with pytest.raises(UnsupportedOpError, match="SAME along one axis and VALID along the other"):
        graph_rewrite.rewrite(replace(raw, tensors=tensors))
    # the untouched graph fuses (SAME on both axes)
    assert graph_rewrite.rewrite(raw).operators[0].options["padding"] == "SAME"
