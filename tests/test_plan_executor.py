"""The C plan executor (firmware/core/nn/plan_executor.c) on whole compiled plans, bit-exact with TFLM.

A plan is a C header, so each test writes NAME_plan.h (vigil.export.headers.plan_header), a small main.c that
includes it and runs nn_plan_run on int8 inputs read from stdin (one after the other, outputs to stdout), builds
it with gcc together with firmware/core/nn/*.c, and compares every output with the tflite-micro interpreter's:
exact equality, on edge inputs (-128, 127, 0 everywhere, random +-extremes) and random ones. Each model runs as a
plain plan and as a fused-pool + overlapping-output plan, with the portable and the emulated-DSP dot product.
The main.c also checks the arena-size refusal, the per-op hook, and that nothing is written past arena_bytes."""

from __future__ import annotations

import atexit
import functools
import shutil
import subprocess
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Callable

import numpy as np
import pytest

from test_export import (  # tests/ is on sys.path; shared builders, inputs, simulator
    BROADCAST_MODELS, _convert, _functional, edge_inputs, run_plan)
from vigil.device.flash import CORTEX_M4_FLAGS
from vigil.export import graph_rewrite, headers
from vigil.export.plan import Plan, compile_plan, pools_directly
from vigil.export.tflite import tflm_reference
from vigil.export.tflite_reader import read_tflite

ROOT = Path(__file__).resolve().parents[1]
NN_DIR = ROOT / "firmware" / "core" / "nn"
GCC_FLAGS = ["-std=c11", "-Wall", "-Wextra", "-Wshadow", "-Wstrict-prototypes", "-ffp-contract=off", "-O2",
             "-Werror"]
ARM_FLAGS = [*CORTEX_M4_FLAGS, "-std=c11", "-Wall", "-Wextra",
             "-Wshadow", "-O2", "-Werror"]
#: bytes after the arena that must stay untouched (a kernel writing past its planned buffers shows here)
GUARD_BYTES = 64

MAIN_C = """\
#include <stdio.h>
#include <string.h>

#include "nn/plan_executor.h"
#include "{name}_plan.h"

#define GUARD_BYTES {guard}u
#define GUARD_VALUE 0xA5u

static _Alignas(16) uint8_t arena[{upper}_ARENA_BYTES + GUARD_BYTES];

typedef struct hook_log {{
    uint32_t calls;
    int in_order;
}} hook_log;

/* Before/after pairs must come for op 0, 1, ... in order. */
static void hook(void *ctx, uint16_t op_index, nn_op_phase phase)
{{
    hook_log *log = ctx;
    if (op_index != log->calls / 2u || (uint32_t)phase != log->calls % 2u) {{
        log->in_order = 0;
    }}
    log->calls++;
}}

int main(void)
{{
    const nn_plan *plan = &{name}_plan;
    static uint8_t x[{upper}_INPUT_BYTES];
    if (nn_plan_run(plan, arena, plan->arena_bytes - 1u, NULL, NULL) != NN_ERR_ARENA_TOO_SMALL) {{
        fprintf(stderr, "a too small arena was not refused\\n");
        return 2;
    }}
    if (nn_plan_run(plan, arena + 1, plan->arena_bytes, NULL, NULL) != NN_ERR_ARGS) {{
        fprintf(stderr, "a misaligned arena was not refused\\n");
        return 2;
    }}
    unsigned k = 0;
    while (fread(x, 1, sizeof x, stdin) == sizeof x) {{
        /* a different garbage pattern every time: reading a byte before it is written shows as a mismatch */
        memset(arena, (int)((0x55u + 37u * k) & 0xFFu), plan->arena_bytes);
        memset(arena + plan->arena_bytes, (int)GUARD_VALUE, GUARD_BYTES);
        memcpy(arena + plan->in_offset, x, sizeof x);
        hook_log log = {{0u, 1}};
        const nn_status s = nn_plan_run(plan, arena, {upper}_ARENA_BYTES, hook, &log);
        if (s != NN_OK) {{
            fprintf(stderr, "nn_plan_run: %d\\n", (int)s);
            return 3;
        }}
        if (!log.in_order || log.calls != 2u * plan->n_ops) {{
            fprintf(stderr, "hook calls out of order or missing (%u)\\n", (unsigned)log.calls);
            return 4;
        }}
        for (unsigned i = 0; i < GUARD_BYTES; i++) {{
            if (arena[plan->arena_bytes + i] != GUARD_VALUE) {{
                fprintf(stderr, "wrote past the arena\\n");
                return 5;
            }}
        }}
        fwrite(arena + plan->out_offset, 1, plan->out_bytes, stdout);
        k++;
    }}
    return 0;
}}
"""


# --- models ----------------------------------------------------------------------------------------------------

def seed_cnn() -> bytes:
    import keras.layers as L

    return _convert([L.Conv2D(8, 3, activation="relu"), L.MaxPooling2D(2), L.Conv2D(16, 3, activation="relu"),
                     L.Flatten(), L.Dense(32, activation="relu"), L.Dense(3)], (65, 73, 1))


def mlp() -> bytes:
    import keras.layers as L

    return _convert([L.Dense(11, activation="relu"), L.Dense(5, activation="relu"), L.Dense(2)], (6,), seed=1)


def dilated() -> bytes:
    """Dilated convs (the converter's SPACE_TO_BATCH form, fused back; bias as a broadcast (1,1,c) ADD)."""
    import keras.layers as L

    return _convert([L.Conv2D(3, 3, dilation_rate=2, padding="same", activation="relu6"),
                     L.DepthwiseConv2D(3, dilation_rate=(2, 3), depth_multiplier=2),
                     L.Conv2D(5, (2, 3), strides=2, padding="same", activation="relu"),
                     L.AveragePooling2D(2, padding="same"), L.Conv2D(1, 1), L.Flatten(), L.Dense(4)],
                    (17, 19, 2), seed=2)


def dilated_relu() -> bytes:
    """Dilated convs without bias: the converter leaves their activations as standalone RELU and RELU6 ops
    (SPACE_TO_BATCH_ND, CONV_2D, BATCH_TO_SPACE_ND, RELU), which the engine runs as ops of their own."""
    import keras.layers as L

    return _convert([L.Conv2D(4, 3, dilation_rate=2, padding="same", activation="relu", use_bias=False),
                     L.Conv2D(3, 3, dilation_rate=(2, 1), activation="relu6", use_bias=False),
                     L.MaxPooling2D(2), L.Flatten(), L.Dense(5)], (13, 11, 1), seed=3)


def pools() -> bytes:
    import keras.layers as L

    return _convert([L.Conv2D(1, 3, strides=2, padding="valid"), L.MaxPooling2D(3, strides=1, padding="same"),
                     L.Conv2D(7, 1), L.DepthwiseConv2D(3, strides=2, padding="same", activation="relu"),
                     L.AveragePooling2D(3, strides=2, padding="valid"), L.Flatten(),
                     L.Dense(5, activation="relu6")], (23, 21, 3), seed=6)


def depthwise_pool() -> bytes:
    """DEPTHWISE_CONV_2D (multiplier 3, SAME, odd sizes) into a SAME max pool with stride < window: the fused
    depthwise + pool path, with pool windows that share convolution rows and clip at the bottom."""
    import keras.layers as L

    return _convert([L.DepthwiseConv2D(3, depth_multiplier=3, padding="same", activation="relu"),
                     L.MaxPooling2D(3, strides=2, padding="same"), L.Conv2D(4, 3, strides=2, padding="same"),
                     L.MaxPooling2D(2), L.Flatten(), L.Dense(3)], (15, 13, 1), seed=4)


def conv_pool_direct() -> bytes:
    """CONV_2D into max pools whose windows do not overlap (nn_conv2d_maxpool_s8, window by window): SAME pool
    padding with windows clipped at the edges, a stride larger than the window (pixels no window reads), odd
    channel counts and odd window pixel counts."""
    import keras.layers as L

    return _convert([L.Conv2D(5, 3, padding="same", activation="relu"), L.MaxPooling2D(3, padding="same"),
                     L.Conv2D(3, 2), L.MaxPooling2D((2, 1), strides=(3, 2)), L.Flatten(), L.Dense(4)],
                    (13, 17, 2), seed=7)


def residual_add() -> bytes:
    """ADD of two activations (a residual block), then a strided conv."""
    def build(x: object, L: object) -> object:
        a = L.Conv2D(6, 3, padding="same", activation="relu")(x)
        b = L.Conv2D(6, 3, padding="same")(a)
        h = L.Add()([a, b])
        h = L.Conv2D(3, 3, strides=2)(h)
        return L.Dense(2)(L.Flatten()(h))
    return _functional(build, (11, 9, 2), seed=11)


def heads() -> bytes:
    """MEAN (global average pooling), LOGISTIC and SOFTMAX."""
    def build(x: object, L: object) -> object:
        h = L.GlobalAveragePooling2D()(L.Conv2D(4, 3, padding="same")(x))
        return L.Softmax()(L.Dense(3)(L.Dense(4, activation="sigmoid")(h)))
    return _functional(build, (6, 5, 3), seed=9)


def mean_logistic() -> bytes:
    """Ends in LOGISTIC; MEAN over a larger odd window."""
    def build(x: object, L: object) -> object:
        h = L.GlobalAveragePooling2D()(L.Conv2D(5, 3, activation="relu")(x))
        return L.Dense(3, activation="sigmoid")(h)
    return _functional(build, (13, 11, 1), seed=12)


def softmax_rows() -> bytes:
    """SOFTMAX over channels of every pixel (rows > 1), the model's last op."""
    def build(x: object, L: object) -> object:
        return L.Softmax()(L.Conv2D(7, 3, padding="same")(x))
    return _functional(build, (5, 4, 2), seed=13)


MODELS: dict[str, Callable[[], bytes]] = {
    "seed_cnn": seed_cnn, "mlp": mlp, "dilated": dilated, "pools": pools, "depthwise_pool": depthwise_pool,
    "conv_pool_direct": conv_pool_direct, "residual_add": residual_add, "heads": heads, "mean_logistic": mean_logistic, "softmax_rows": softmax_rows,
    "dilated_relu": dilated_relu,
    **BROADCAST_MODELS,  # ADD of broadcasting operands, MEAN over H or W with or without keep_dims (test_export)
}
EXPECTED_OPS = {
    "residual_add": {"ADD"}, "heads": {"MEAN", "LOGISTIC", "SOFTMAX"}, "mean_logistic": {"MEAN", "LOGISTIC"},
    "softmax_rows": {"SOFTMAX"}, "dilated": {"ADD", "DEPTHWISE_CONV_2D"}, "depthwise_pool": {"DEPTHWISE_CONV_2D"},
    "dilated_relu": {"RELU", "RELU6", "CONV_2D"},
    "add_broadcast": {"ADD", "MEAN"}, "add_broadcast_thin": {"ADD", "MEAN"}, "add_constants": {"ADD", "MEAN"},
    "add_constant_first": {"ADD", "MEAN"}, "mean_axes": {"ADD", "MEAN"}, "mean_flat": {"ADD", "MEAN", "RESHAPE"},
    "mean_1d": {"ADD", "MEAN"}, "mean_thin": {"MEAN"}, "mean_axes_same_quant": {"ADD", "MEAN"},
    "mean_1d_same_quant": {"ADD", "MEAN"},
}
#: random inputs per model beyond the four edge ones (the seed CNN is the slow one)
N_RANDOM = {"seed_cnn": 12}
DEFAULT_RANDOM = 60


class _Cases(dict):  # type: ignore[type-arg]
    """name → (model, inputs, TFLM outputs), converted and run through the oracle on first use."""

    def __missing__(self, name: str) -> tuple[bytes, np.ndarray, np.ndarray]:
        model = MODELS[name]()
        plan = compile_plan(graph_rewrite.rewrite(read_tflite(model)))
        xs = edge_inputs(tuple(plan.input.shape[1:]), N_RANDOM.get(name, DEFAULT_RANDOM), seed=5)
        expected = tflm_reference(graph_rewrite.oracle_tflite(model), xs)
        self[name] = (model, xs, expected)
        return self[name]


@pytest.fixture(scope="module")
def cases() -> _Cases:
    return _Cases()


@functools.cache
def engine_objects(defines: tuple[str, ...]) -> tuple[str, ...]:
    """firmware/core/nn/*.c compiled once per set of defines for the whole run: no engine file depends on a plan
    (only main.c includes the plan header), and recompiling the 14 files for each of the ~80 runners was most of
    this module's time."""
    out = Path(tempfile.mkdtemp(prefix="vigil_nn_objects_"))
    atexit.register(shutil.rmtree, out, True)

    def compile_one(src: Path) -> str:
        obj = out / f"{src.stem}.o"
        subprocess.run(["gcc", *GCC_FLAGS, *defines, f"-I{ROOT / 'firmware' / 'core'}", "-c", str(src), "-o",
                        str(obj)], check=True, capture_output=True, text=True)  # fmt: skip
        return str(obj)

    with ThreadPoolExecutor(max_workers=2) as pool:
        return tuple(pool.map(compile_one, sorted(NN_DIR.glob("*.c"))))


def build_runner(name: str, plan: Plan, model: bytes, tmp: Path, defines: list[str]) -> Path:
    tmp.mkdir(parents=True, exist_ok=True)
    (tmp / f"{name}_plan.h").write_text(headers.plan_header(name, plan, model))
    main = tmp / "main.c"
    main.write_text(MAIN_C.format(name=name, upper=name.upper(), guard=GUARD_BYTES))
    exe = tmp / "run_plan"
    subprocess.run(["gcc", *GCC_FLAGS, *defines, f"-I{ROOT / 'firmware' / 'core'}", f"-I{tmp}", str(main),
                    *engine_objects(tuple(defines)), "-o", str(exe)], check=True, capture_output=True, text=True)
    return exe


def run_runner(exe: Path, xs: np.ndarray, out_shape: tuple[int, ...]) -> np.ndarray:
    res = subprocess.run([str(exe)], input=xs.astype(np.int8).tobytes(), capture_output=True, check=False)
    assert res.returncode == 0, res.stderr.decode()
    got = np.frombuffer(res.stdout, dtype=np.int8)
    return got.reshape(len(xs), *out_shape)


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("gcc") is None, reason="no gcc")
@pytest.mark.parametrize("dot", ["portable", "emulated_dsp"])
@pytest.mark.parametrize("mode", ["plain", "fused+overlap"])
@pytest.mark.parametrize("name", sorted(MODELS))
def test_plan_executor_bit_exact(name: str, mode: str, dot: str, cases: dict, tmp_path: Path) -> None:
    model, xs, expected = cases[name]
    fancy = mode != "plain"
    plan = compile_plan(graph_rewrite.rewrite(read_tflite(model)), fuse_pool=fancy, overlap=fancy, small_fc=fancy)
    assert EXPECTED_OPS.get(name, set()) <= set(plan.op_names())
    defines = ["-DNN_EMULATE_DSP"] if dot == "emulated_dsp" else []
    exe = build_runner(name, plan, model, tmp_path, defines)
    got = run_runner(exe, xs, expected.shape[1:])
    flags = [("pool" if op.pool is not None else "") + ("overlap" if op.overlap else "") for op in plan.ops]
    print(f"{name} {mode} {dot}: arena {plan.arena_bytes} B, ops {plan.op_names()} {flags}, "
          f"{int((got != expected).sum())} mismatches of {got.size}")
    assert np.array_equal(got, expected), f"{int((got != expected).sum())} mismatches of {got.size}"


@pytest.mark.slow
def test_fused_plans_use_the_flags(cases: dict) -> None:
    """The fused+overlap runs above really exercise both contracts (and the seed CNN meets issue 4's arena)."""
    seed = compile_plan(graph_rewrite.rewrite(read_tflite(cases["seed_cnn"][0])), fuse_pool=True, overlap=True)
    assert any(op.pool is not None for op in seed.ops) and any(op.overlap for op in seed.ops)
    assert seed.arena_bytes <= 23 * 1024
    dw = compile_plan(graph_rewrite.rewrite(read_tflite(cases["depthwise_pool"][0])), fuse_pool=True, overlap=True)
    fused = [op for op in dw.ops if op.pool is not None]
    assert any(op.kind == "DEPTHWISE_CONV_2D" for op in fused)
    assert any(op.pool["stride_h"] < op.pool["filter_h"] for op in fused)
    # the seed CNN and conv_pool_direct pool window by window; the pools model's overlapping windows take the strip
    direct = compile_plan(graph_rewrite.rewrite(read_tflite(cases["conv_pool_direct"][0])), fuse_pool=True)
    assert [pools_directly(op) for op in direct.ops if op.pool is not None] == [True, True]
    assert any(pools_directly(op) for op in seed.ops)
    pools_plan = compile_plan(graph_rewrite.rewrite(read_tflite(cases["pools"][0])), fuse_pool=True)
    assert [pools_directly(op) for op in pools_plan.ops if op.pool is not None] == [False]


@pytest.mark.skipif(shutil.which("arm-none-eabi-gcc") is None, reason="no arm-none-eabi-gcc")
def test_executor_builds_for_cortex_m4(tmp_path: Path) -> None:
    """Every engine file, the executor included, compiles warning-free for the Cortex-M4 (DSP path on)."""
    for src in sorted(NN_DIR.glob("*.c")):
        subprocess.run(["arm-none-eabi-gcc", *ARM_FLAGS, f"-I{ROOT / 'firmware' / 'core'}", "-c", str(src),
                        "-o", str(tmp_path / (src.stem + ".o"))], check=True, capture_output=True, text=True)


UNIT_DRIVER = """\
#include "check.h"
int main(void)
{
    check_totals_t t = {0u, 0u};
    run_plan_tests(&t);
    printf("%u passed, %u failed\\n", t.passed, t.failed);
    return t.failed != 0u;
}
"""


@pytest.mark.skipif(shutil.which("gcc") is None, reason="no gcc")
def test_c_unit_checks(tmp_path: Path) -> None:
    """firmware/tests/test_plan_executor.c (the `plan` suite of the ctest program), built here with gcc."""
    driver = tmp_path / "driver.c"
    driver.write_text(UNIT_DRIVER)
    exe = tmp_path / "plan_unit"
    sources = [str(driver), str(ROOT / "firmware" / "tests" / "test_plan_executor.c"),
               *sorted(str(p) for p in NN_DIR.glob("*.c"))]
    subprocess.run(["gcc", *GCC_FLAGS, f"-I{ROOT / 'firmware' / 'core'}", f"-I{ROOT / 'firmware' / 'tests'}",
                    *sources, "-o", str(exe)], check=True, capture_output=True, text=True)
    res = subprocess.run([str(exe)], capture_output=True, text=True, check=False)
    assert res.returncode == 0 and res.stdout.strip() == "40 passed, 0 failed", res.stdout


@pytest.mark.skipif(shutil.which("gcc") is None, reason="no gcc")
def test_fully_connected_with_a_left_shift_keeps_the_row_major_kernel(cases: dict, tmp_path: Path) -> None:
    """A dense layer whose requantization shifts left (real multiplier >= 1, here made so by shrinking its
    output scale 256 times) keeps TFLite's layout and nn_fully_connected_s8 (the interleaved kernel only shifts
    right); the next layer stays interleaved. The executor's outputs equal the plan simulator's
    (tests/test_export.py) in both dot-product variants."""
    from vigil.export import plan as planmod
    from vigil.export.tflite_reader import Quantization

    model, xs, _ = cases["mlp"]
    graph = graph_rewrite.rewrite(read_tflite(model))
    hidden = graph.tensors[graph.operators[0].outputs[0]]
    hidden.quant = Quantization(scales=hidden.quant.scales / np.float32(256), zero_points=hidden.quant.zero_points,
                                axis=hidden.quant.axis)
    plan = compile_plan(graph, fuse_pool=True, overlap=True)
    first, second = plan.ops[0], plan.ops[1]
    assert np.any(first.shifts > 0) and first.extra == [planmod.FC_WEIGHTS_ROWS]
    assert first.weights.shape == (11, 6) and first.bias.shape == (11,)
    assert np.all(second.shifts <= 0) and second.extra == [planmod.FC_WEIGHTS_ROW4]
    want = np.stack([run_plan(plan, x) for x in xs])
    for dot, defines in (("portable", []), ("emulated_dsp", ["-DNN_EMULATE_DSP"])):
        exe = build_runner("mlp_left", plan, model, tmp_path / dot, defines)
        got = run_runner(exe, xs, want.shape[1:])
        assert np.array_equal(got, want), f"{dot}: {int((got != want).sum())} mismatches of {got.size}"


def test_small_fc_layout_where_exact(cases: dict) -> None:
    """compile_plan(small_fc=True) puts every layer of the 6-11-5-2 MLP in the NN_FC_WEIGHTS_SMALL layout (the
    records replace weights, bias, multipliers and shifts), and fc_small_rows refuses what its kernel could not
    compute exactly: more than FC_SMALL_MAX_INPUTS inputs, a channel without a right shift, an accumulator that
    could reach 2^30."""
    from vigil.export import plan as planmod

    plan = compile_plan(graph_rewrite.rewrite(read_tflite(cases["mlp"][0])), fuse_pool=True, overlap=True,
                        small_fc=True)
    assert [op.extra for op in plan.ops] == [[planmod.FC_WEIGHTS_SMALL]] * 3
    assert [op.fc_small.shape for op in plan.ops] == [(11, 8), (5, 10), (2, 8)]
    assert all(op.weights is None and op.bias is None and op.multipliers is None for op in plan.ops)
    rng = np.random.default_rng(3)
    w = rng.integers(-127, 128, (3, 6)).astype(np.int8)
    bias, mults = np.array([5, -7, 9], np.int32), np.full(3, 1 << 30, np.int32)
    rows = planmod.fc_small_rows(w, bias, 3, mults, np.array([-1, -7, -20]), -5)
    assert planmod.fc_small_rows(w, bias, 3, mults, np.array([-1, -7, -31]), -5) is None  # -5 * 2^31 leaves int32
    assert rows is not None and rows.shape == (3, 8)
    # [2 * (bias - in_zp * sum(row)), pairs {2w0, 2w2} {2w1, 2w3}, {2w4, 0} {2w5, 0}, multiplier, rounding, shift]
    assert rows[0, 0] == 2 * (5 - 3 * int(w[0].astype(np.int64).sum()))
    assert rows[1, 1] == np.int32(np.uint32((2 * int(w[1, 0])) & 0xFFFF | ((2 * int(w[1, 2])) & 0xFFFF) << 16))
    assert list(rows[1, 5:]) == [1 << 30, (1 << 6) - 5 * (1 << 7), 7]
    assert planmod.fc_small_rows(w, bias, 3, mults, np.array([-1, 0, -3]), -5) is None  # e = 0
    assert planmod.fc_small_rows(w, bias, 3, mults, np.array([-1, 1, -3]), -5) is None  # a left shift
    assert planmod.fc_small_rows(np.ones((2, 17), np.int8), np.zeros(2, np.int32), 0, mults[:2],
                                 np.array([-3, -3]), 0) is None  # 17 inputs
    big = np.array([(1 << 30) - 1000, 0, 0], np.int32)  # |acc| could pass 2^30: 2 * acc would leave int32
    assert planmod.fc_small_rows(w, big, 0, mults, np.array([-1, -7, -3]), 0) is None
