"""Each specialised path of the int8 engine, on both sides of its precondition, exact on both boards.

For every path the engine chooses by itself (firmware/core/nn: the 3x3 single-channel convolution, its fused 2x2
max pool, convolution + max pool window by window or through a strip of rows, filter rows widened straight from
the input, rows computed in place, the small and four-row FULLY_CONNECTED layouts, ADD's same-shape, broadcast and
constant forms) two or more models sit just inside and just outside the condition. Each runs on `native`, on
`native_asan` (AddressSanitizer and UBSan stop the board at the first out-of-bounds access or undefined shift) and
on `vwrist` (where the Cortex-M4 DSP instructions run) against TFLM, and the plan is checked to take (or not take)
the path, as vigil.engine_fuzz.op_paths reads the conditions the C code tests."""

from __future__ import annotations

import os
from typing import Any, Callable

import numpy as np
import pytest

from vigil.engine_fuzz import AGREED, check_models, plan_paths
from vigil.engine import compile_model

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

pytestmark = [pytest.mark.board, pytest.mark.slow]

Build = Callable[[Any, Any], Any]  # (keras input, keras.layers) -> output tensor


def _model(build: Build, shape: tuple[int, ...], seed: int) -> bytes:
    import keras
    import keras.layers as L

    from vigil.export.tflite import output_silenced, to_int8_tflite

    keras.utils.set_random_seed(seed)
    x = keras.Input(shape)
    model = keras.Model(x, build(x, L))
    rng = np.random.default_rng(seed)
    for layer in model.layers:  # non-zero biases
        w = layer.get_weights()
        if len(w) == 2:
            layer.set_weights([w[0], rng.normal(0, 0.3, w[1].shape)])
    with output_silenced():
        return to_int8_tflite(model, rng.uniform(-1, 1, (16, *shape)))


def _head(h: Any, L: Any) -> Any:
    return L.Dense(3)(L.Flatten()(h))


#: name -> (build, input shape, paths the plan must take, paths it must not take)
CASES: dict[str, tuple[Build, tuple[int, ...], set[str], set[str]]] = {
    # the 3x3 single-channel path: one channel in, 3x3, stride_w 1 (stride_h free), no dilation
    "c1_3x3_stride_h2_same": (lambda x, L: _head(L.Conv2D(4, 3, strides=(2, 1), padding="same")(x), L), (11, 13, 1),
                              {"conv3x3_c1"}, set()),
    "c2_3x3": (lambda x, L: _head(L.Conv2D(4, 3)(x), L), (9, 11, 2), set(), {"conv3x3_c1"}),
    "c1_3x3_stride_w2": (lambda x, L: _head(L.Conv2D(4, 3, strides=(1, 2))(x), L), (9, 11, 1), set(),
                         {"conv3x3_c1"}),
    "c1_3x2": (lambda x, L: _head(L.Conv2D(4, (3, 2))(x), L), (9, 11, 1), set(), {"conv3x3_c1"}),
    "c1_3x3_dilated_h": (lambda x, L: _head(L.Conv2D(4, 3, dilation_rate=(2, 1))(x), L), (11, 9, 1),
                         {"conv_dilated"}, {"conv3x3_c1"}),
    # its fused 2x2 max pool: four pixels inside the input, two columns (odd sizes leave edge windows clipped)
    "c1_3x3_pool2x2": (lambda x, L: _head(L.MaxPooling2D(2)(L.Conv2D(5, 3)(x)), L), (12, 15, 1),
                       {"conv3x3_c1_pool2x2", "conv_pool_direct"}, set()),
    "c1_3x3_same_pool2x2_same_odd": (lambda x, L: _head(L.MaxPooling2D(2, padding="same")(
        L.Conv2D(3, 3, padding="same")(x)), L), (9, 11, 1), {"conv3x3_c1_pool2x2", "conv_pool_direct"}, set()),
    "c1_3x3_pool2x1": (lambda x, L: _head(L.MaxPooling2D((2, 1))(L.Conv2D(5, 3)(x)), L), (12, 15, 1),
                       {"conv3x3_c1", "conv_pool_direct"}, {"conv3x3_c1_pool2x2"}),
    "c1_3x3_stride_h2_pool2x2": (lambda x, L: _head(L.MaxPooling2D(2)(L.Conv2D(4, 3, strides=(2, 1))(x)), L),
                                 (17, 12, 1), {"conv3x3_c1_pool2x2"}, set()),
    # convolution + max pool: window by window when the windows do not overlap, else a strip of rows
    "pool_stride_equal": (lambda x, L: _head(L.MaxPooling2D(3)(L.Conv2D(4, 2)(x)), L), (13, 14, 3),
                          {"conv_pool_direct"}, {"conv_2d_pool_strip"}),
    "pool_stride_above": (lambda x, L: _head(L.MaxPooling2D(2, strides=3)(L.Conv2D(4, 2)(x)), L), (13, 14, 3),
                          {"conv_pool_direct"}, {"conv_2d_pool_strip"}),
    "pool_stride_below_h": (lambda x, L: _head(L.MaxPooling2D((3, 2), strides=(2, 2))(
        L.Conv2D(5, (5, 3), strides=(2, 1), padding="same", activation="relu")(x)), L), (33, 17, 1),
                            {"conv_2d_pool_strip"}, {"conv_pool_direct"}),
    "depthwise_pool": (lambda x, L: _head(L.MaxPooling2D(2)(L.DepthwiseConv2D(3, depth_multiplier=2)(x)), L),
                       (10, 9, 3), {"depthwise_conv_2d_pool_strip"}, {"conv_pool_direct"}),
    # filter rows widened straight from the input: filter_w * in_c a multiple of 4, dilation_w 1
    "rows_fw_c_4": (lambda x, L: _head(L.Conv2D(3, (3, 2))(x), L), (9, 10, 2), {"conv_rows_widened"}, set()),
    "rows_fw_c_6": (lambda x, L: _head(L.Conv2D(3, 3)(x), L), (9, 10, 2), set(), {"conv_rows_widened"}),
    "rows_fw_c_8_dilated_w": (lambda x, L: _head(L.Conv2D(3, (1, 4), dilation_rate=(1, 2))(x), L), (6, 12, 2),
                              {"conv_dilated"}, {"conv_rows_widened"}),
    # rows in place: the second convolution's input dies there and is no graph input
    "rows_in_place": (lambda x, L: _head(L.Conv2D(6, 3, activation="relu")(L.Conv2D(6, 3, activation="relu")(x)), L),
                      (24, 24, 1), {"rows_in_place"}, set()),
    "rows_graph_input": (lambda x, L: _head(L.Conv2D(6, 3, activation="relu")(x), L), (24, 24, 1), set(),
                         {"rows_in_place"}),  # the graph's input is never overwritten
    # FULLY_CONNECTED: at most 16 inputs take the small layout, 17 the four-row one
    "fc_16_inputs": (lambda x, L: L.Dense(5)(L.GlobalAveragePooling2D()(L.Conv2D(16, 1)(x))), (3, 4, 2),
                     {"fc_small"}, {"fc_row4"}),
    "fc_17_inputs": (lambda x, L: L.Dense(5)(L.GlobalAveragePooling2D()(L.Conv2D(17, 1)(x))), (3, 4, 2),
                     {"fc_row4"}, {"fc_small"}),
    # ADD: same shapes, an activation broadcast over H and W or over C (either order), a constant
    "add_same_shape": (lambda x, L: _head(L.Add()([x, L.Conv2D(3, 3, padding="same")(x)]), L), (7, 6, 3),
                       {"add_same_shape"}, {"add_broadcast"}),
    "add_broadcast_hw": (lambda x, L: _head(L.Add()([L.GlobalAveragePooling2D(keepdims=True)(x), x]), L), (7, 6, 3),
                         {"add_broadcast"}, {"add_same_shape"}),
    "add_broadcast_c": (lambda x, L: _head(L.Add()([x, L.Conv2D(1, 1)(x)]), L), (5, 7, 4), {"add_broadcast"},
                        {"add_same_shape"}),
    "add_constant": (lambda x, L: _head(L.Conv2D(3, 3, dilation_rate=2, padding="same")(x), L), (9, 9, 2),
                     {"add_constant", "conv_dilated"}, set()),
}


@pytest.fixture(scope="module")
def models() -> dict[str, bytes]:
    return {name: _model(build, shape, seed) for seed, (name, (build, shape, _, _)) in enumerate(CASES.items())}


def _inputs(model: bytes, seed: int) -> np.ndarray:
    """Edges (all -128, all 127) then uniform int8."""
    shape = compile_model(model).input.shape[1:]
    rng = np.random.default_rng(seed)
    xs = [np.full(shape, -128), np.full(shape, 127), *(rng.integers(-128, 128, shape) for _ in range(4))]
    return np.stack(xs).astype(np.int8)


@pytest.mark.parametrize("name", sorted(CASES))
def test_plan_takes_the_path_or_not(models: dict[str, bytes], name: str) -> None:
    _, _, takes, avoids = CASES[name]
    paths = set(plan_paths(compile_model(models[name])))
    assert takes <= paths, f"{name}: missing {takes - paths} (paths {sorted(paths)})"
    assert not avoids & paths, f"{name}: takes {avoids & paths}"


@pytest.mark.parametrize("board", ["native", "native_asan", "vwrist"])
def test_both_sides_exact_on_the_board(models: dict[str, bytes], board: str) -> None:
    results = check_models([(n, m, _inputs(m, i)) for i, (n, m) in enumerate(models.items())], board)
    bad = [(r.name, r.status, r.detail or r.first_mismatch) for r in results if r.status not in AGREED]
    assert not bad, bad
    assert [r.status for r in results] == ["ok"] * len(CASES)
    assert all(r.outputs_compared > 0 for r in results)
