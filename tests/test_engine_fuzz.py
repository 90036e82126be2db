"""`vigil engine fuzz`: generated int8 graphs inside the engine's op set, every output on the board equal to TFLM's.

200 graphs (fixed seeds 0..199) run on `native`, and 40 of them (every fifth) on `vwrist`, where the Cortex-M4
DSP paths run. A graph the engine refuses, the converter cannot convert, the board cannot build or run, or whose
outputs differ from TFLM's fails the test; so does a run that stopped exercising one of the engine's ops or
specialised paths (the generator drifted). `vigil engine fuzz --seed S --count N` runs thousands
(docs/benchmarks.md)."""

from __future__ import annotations

from collections import Counter

import pytest

from vigil.engine_fuzz import AGREED, Prepared, prepared_graphs, run_prepared
from vigil.engine_graphs import INPUT, MAX_CHANNELS, draw_graph

NATIVE_SEEDS = range(0, 200)
VWRIST_EVERY = 5  # seeds 0, 5, 10, ...: 40 graphs
#: Ops and kernel paths (vigil.engine_fuzz.op_paths) that the 200 graphs must exercise, at least this often
#: (measured on these seeds: each is reached 2 to 30 times as often).
OPS_AT_LEAST = {"CONV_2D": 40, "DEPTHWISE_CONV_2D": 20, "FULLY_CONNECTED": 40, "MAX_POOL_2D": 20,
                "AVERAGE_POOL_2D": 10, "MEAN": 20, "ADD": 20, "SOFTMAX": 10, "LOGISTIC": 10, "RESHAPE": 10,
                "RELU": 1, "RELU6": 1}
PATHS_AT_LEAST = {"conv3x3_c1": 5, "conv3x3_c1_pool2x2": 2, "conv_pool_direct": 10, "conv_2d_pool_strip": 5,
                  "depthwise_conv_2d_pool_strip": 5, "conv_rows_widened": 10, "conv_dilated": 10,
                  "depthwise_dilated": 2, "rows_in_place": 3, "fc_small": 20, "fc_row4": 10, "add_broadcast": 5,
                  "add_constant": 10, "add_same_shape": 10, "pool_overlapping": 10}


def test_generator_is_deterministic_and_spans_the_op_set() -> None:
    """No TensorFlow here: the specs alone. Same seed, same graph; across 300 seeds every op and every range the
    issue names is drawn (kernels 1-7 per axis, strides 1-3, dilations, multipliers 1-3, 1-17 channels, 1-wide
    and odd inputs, representative data from ~0.03 to ~30 wide)."""
    specs = [draw_graph(s) for s in range(300)]
    assert [s.describe() for s in specs[:20]] == [draw_graph(s).describe() for s in range(20)]
    assert len({s.describe() for s in specs}) == 300
    ops = Counter(n.op for s in specs for n in s.nodes)
    assert set(ops) == {"conv", "depthwise", "max_pool", "avg_pool", "mean", "add", "const_add", "relu", "relu6",
                        "flatten", "dense", "softmax", "sigmoid"}
    convs = [n.args for s in specs for n in s.nodes if n.op in ("conv", "depthwise")]
    assert {k for a in convs for k in a["kernel"]} == set(range(1, 8))
    assert {st for a in convs for st in a["strides"]} == {1, 2, 3}
    assert {dl for a in convs for dl in a["dilation"]} == {1, 2, 3}
    assert any(a["dilation"][0] > 1 and a["dilation"][1] == 1 for a in convs)  # dilation along one axis
    assert {a["padding"] for a in convs} == {"SAME", "VALID"}
    assert {n.args["multiplier"] for s in specs for n in s.nodes if n.op == "depthwise"} == {1, 2, 3}
    assert {n.args["filters"] for s in specs for n in s.nodes if n.op == "conv"} >= set(range(1, MAX_CHANNELS + 1))
    pools = [n.args for s in specs for n in s.nodes if n.op in ("max_pool", "avg_pool")]
    assert any(a["strides"][0] < a["pool"][0] for a in pools) and any(a["strides"] == (1, 1) for a in pools)
    assert {a["activation"] for a in convs} == {"none", "relu", "relu6"}
    assert {tuple(n.args["axes"]) for s in specs for n in s.nodes if n.op == "mean"} == {(1, 2), (1,), (2,)}
    adds = [(s, n) for s in specs for n in s.nodes if n.op == "add"]
    shape = lambda s, i: s.input_shape if i == INPUT else s.nodes[i].shape  # noqa: E731
    assert any(shape(s, n.inputs[0]) != shape(s, n.inputs[1]) for s, n in adds)  # broadcast
    assert any(1 in s.input_shape[:2] for s in specs) and any(s.input_shape[0] % 2 for s in specs)
    assert {s.per_channel_dense for s in specs} == {True, False}
    spreads = [s.rep_spread for s in specs]
    assert min(spreads) < 0.05 and max(spreads) > 20
    assert all(d >= 1 for s in specs for n in s.nodes for d in n.shape)


@pytest.fixture(scope="module")
def graphs() -> list[Prepared]:
    """The 200 graphs converted once (two worker processes) and run through TFLM."""
    return list(prepared_graphs(NATIVE_SEEDS, samples=3, jobs=2))


def _assert_agreed(report: object) -> None:
    failures = [(r.name, r.status, r.detail[:200] or r.first_mismatch) for r in report.failures]
    assert not failures, failures


@pytest.mark.board
@pytest.mark.slow
def test_200_generated_graphs_on_native(graphs: list[Prepared]) -> None:
    report = run_prepared(graphs, "native")
    _assert_agreed(report)
    s = report.summary()
    assert s["count"] == 200 and s["statuses"]["ok"] >= 194  # TFLM itself refuses a few (dead units): <= 3 %
    assert all(r.status in AGREED for r in report.results)
    assert s["outputs_compared"] > 10_000 and s["mismatching_outputs"] == 0
    for op, n in OPS_AT_LEAST.items():
        assert s["graphs_with_op"].get(op, 0) >= n, (op, s["graphs_with_op"])
    for path, n in PATHS_AT_LEAST.items():
        assert s["graphs_with_path"].get(path, 0) >= n, (path, s["graphs_with_path"])


@pytest.mark.board
@pytest.mark.slow
def test_40_generated_graphs_on_vwrist(graphs: list[Prepared]) -> None:
    subset = [g for g in graphs if g.seed is not None and g.seed % VWRIST_EVERY == 0]
    report = run_prepared(subset, "vwrist")
    _assert_agreed(report)
    s = report.summary()
    assert s["count"] == 40 and s["statuses"]["ok"] >= 38
    for path in ("conv3x3_c1", "conv_pool_direct", "conv_rows_widened", "fc_small", "fc_row4", "add_broadcast"):
        assert s["graphs_with_path"].get(path, 0) >= 1, (path, s["graphs_with_path"])


def test_scales_tflm_aborts_on_are_refused_at_the_boundary() -> None:
    """TFLM's Prepare aborts (TFLITE_CHECK) on a SOFTMAX whose beta x input scale x 2^26 is not above 1, and on an
    ADD whose output multiplier is not below 1; vigil.export.quant refuses exactly those, and accepts the scales
    just on the other side."""
    import numpy as np

    from vigil.export import quant

    edge = float(np.float32(2.0**-26))
    assert quant.softmax_params(1.0, float(np.nextafter(np.float32(edge), np.float32(1)))).input_multiplier > 0
    with pytest.raises(quant.TflmAbortError, match="PreprocessSoftmaxScaling"):
        quant.softmax_params(1.0, edge)  # exactly 1: not above
    # ADD: output multiplier 2 * max(s1, s2) / (2^20 * s_out) must stay below 1
    assert quant.add_params(1.0, 0, 0.5, 0, 2.0**-19 * 1.0001, 0).output_multiplier > 0
    with pytest.raises(quant.TflmAbortError, match="ADD output multiplier"):
        quant.add_params(1.0, 0, 0.5, 0, 2.0**-19, 0)


@pytest.mark.slow
def test_a_graph_tflm_aborts_on_is_refused_naming_the_op() -> None:
    """Graph 158 (a dense unit dead on the representative data collapses the softmax's input scale to 8e-9): the
    TFLM interpreter aborts the process on it, and the engine refuses it naming the op, its position and why."""
    import subprocess
    import sys

    from vigil.engine import compile_model
    from vigil.engine_graphs import convert
    from vigil.export.quant import TflmAbortError

    spec = draw_graph(158)
    model = convert(spec)
    with pytest.raises(TflmAbortError, match=r"SOFTMAX \(operator \d+ of \d+\).*aborts"):
        compile_model(model)
    code = ("import sys, numpy as np; from vigil.export.tflite import tflm_reference; "
            "tflm_reference(sys.stdin.buffer.read(), np.zeros((1, *%r), np.int8))" % (spec.input_shape,))
    res = subprocess.run([sys.executable, "-c", code], input=model, capture_output=True)
    assert res.returncode < 0 or res.returncode == 134, res.stderr[-500:]  # SIGABRT
