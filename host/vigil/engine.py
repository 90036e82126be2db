"""`vigil engine check`: prove a model runs bit-exact on a board through vigil's engine.

Compiles the model's plan, builds a firmware that carries it (a separate PlatformIO build
directory under .pio/engine/, so the default firmware is untouched), boots the board, runs N
inputs (edge values, then random) on the device and through the tflite-micro interpreter
(TFLM's reference kernels: the oracle), and reports mismatches, arena and flash bytes, and
instructions per inference and per MAC (on the virtual board, where ticks are instructions),
with milliseconds at a clock the user names.

A firmware may carry up to 255 models (NN_RUN names one by its index): `vigil engine fuzz`
(vigil.engine_fuzz) checks generated models a batch per build."""

from __future__ import annotations

import hashlib
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np

from vigil.codegen import banner
from vigil.device import board as boards
from vigil.device import flash
from vigil.device import protocol as p
from vigil.device.link import Link
from vigil.errors import VigilError
from vigil.export.graph_rewrite import oracle_tflite
from vigil.export.headers import plan_header
from vigil.export.plan import Plan, device_plan
from vigil.export.tflite import tflm_reference
from vigil.project import project_root
from vigil.replay import VIRTUAL_INSTRUCTIONS_PER_SECOND

ENGINE_MODEL_NAME = "engine_model"
#: The HELLO name of a firmware that carries several models (`vigil engine fuzz`): see batch_identity.
ENGINE_BATCH_NAME = "engine_batch"
#: NN_RUN names a model with one byte.
MAX_MODELS_PER_FIRMWARE = 255
#: Models below this many MACs are timed over TIMING_RUNS_SMALL runs (firmware/app/nn_task.h): one run is then a
#: few board ticks (40 instructions each on vwrist), too coarse to read alone.
TIMING_SMALL_MACS = 100_000
TIMING_RUNS_SMALL = 64
#: The clock `vigil engine check` states milliseconds at unless told (an nRF52840 runs at 64 MHz).
DEFAULT_CLOCK_MHZ = 64.0


def timing_runs(plan: Plan) -> int:
    """How many runs the device times per NN_RUN (ENGINE_MODEL_TIMING_RUNS); its ticks are divided by it."""
    return TIMING_RUNS_SMALL if plan.macs < TIMING_SMALL_MACS else 1


@dataclass
class EngineBuild:
    plans: list[Plan]  # in NN_RUN's model order
    artifact: Path
    hello_name: str  # what the firmware's HELLO lists (batch_identity)
    hello_hash: bytes

    @property
    def plan(self) -> Plan:
        return self.plans[0]


def compile_model(model_bytes: bytes) -> Plan:
    """The plan the engine runs (the same as `vigil export nn` and `vigil export models` write)."""
    return device_plan(model_bytes)


def model_hash(model_bytes: bytes) -> bytes:
    return hashlib.sha256(model_bytes).digest()[: p.MODEL_HASH_SIZE]


def batch_identity(models: Sequence[bytes]) -> tuple[str, bytes]:
    """The one HELLO entry of an engine firmware: one model is itself (`engine_model`, its .tflite's hash, as every
    vigil model is announced); several are `engine_batch` and the hash of their hashes in order."""
    if len(models) == 1:
        return ENGINE_MODEL_NAME, model_hash(models[0])
    joined = b"".join(model_hash(m) for m in models)
    return ENGINE_BATCH_NAME, hashlib.sha256(joined).digest()[: p.MODEL_HASH_SIZE]


def _plan_name(index: int, count: int) -> str:
    return ENGINE_MODEL_NAME if count == 1 else f"engine_m{index}"


def engine_model_header(plans: Sequence[Plan], hello_name: str, hello_hash: bytes, timing: bool = True) -> str:
    """engine_model.h (firmware/app/nn_task.h): the plans in NN_RUN's order, their timing runs (1 each without
    `timing`: a check of outputs only), the largest arena, op count and input, and the HELLO entry."""
    names = [_plan_name(i, len(plans)) for i in range(len(plans))]
    digest = ", ".join(f"0x{b:02x}" for b in hello_hash)
    return "\n".join([
        banner("vigil.engine", "the models under check", "vigil engine check|fuzz"),
        "/* The models a firmware built for `vigil engine check|fuzz` carries. */",
        "#ifndef VIGIL_ENGINE_MODEL_H",
        "#define VIGIL_ENGINE_MODEL_H",
        *(f'#include "{n}_plan.h"' for n in names),
        f'#define ENGINE_MODEL_NAME "{hello_name}"',
        f"#define ENGINE_MODEL_HASH {{{digest}}}",
        f"#define ENGINE_MODEL_COUNT {len(plans)}u",
        "#define ENGINE_MODEL_PLANS {" + ", ".join(f"&{n}_plan" for n in names) + "}",
        "#define ENGINE_MODEL_TIMING_RUNS {" + ", ".join(f"{timing_runs(q) if timing else 1}u" for q in plans) + "}",
        f"#define ENGINE_MODEL_ARENA_BYTES {max(q.arena_bytes for q in plans)}u",
        f"#define ENGINE_MODEL_OPS {max(max(len(q.ops), 1) for q in plans)}u",
        f"#define ENGINE_MODEL_INPUT_BYTES {max(max(q.input.nbytes, 1) for q in plans)}u",
        "#endif",
        "",
    ])  # fmt: skip


def build_engine_firmware(models: bytes | Sequence[bytes], board: str, plans: Sequence[Plan] | None = None,
                          timing: bool = True) -> EngineBuild:
    """A firmware for `board` carrying the models' plans (compiled here unless given), built in its own PlatformIO
    build directory under .pio/engine/ (keyed by the models and `timing`: a second check reuses it). Without
    `timing` each NN_RUN runs its model once (the per-op pass aside): outputs, not instruction counts."""
    models = [models] if isinstance(models, (bytes, bytearray)) else list(models)
    if not 1 <= len(models) <= MAX_MODELS_PER_FIRMWARE:
        raise VigilError(f"an engine firmware carries 1 to {MAX_MODELS_PER_FIRMWARE} models, not {len(models)}")
    spec = boards.spec(board)
    plans = list(plans) if plans is not None else [compile_model(m) for m in models]
    name, digest = batch_identity(models)
    out = project_root() / ".pio" / "engine" / f"{board}-{digest.hex()[:12]}{'' if timing else '-untimed'}"
    out.mkdir(parents=True, exist_ok=True)
    for i, (model, plan) in enumerate(zip(models, plans)):
        (out / f"{_plan_name(i, len(models))}_plan.h").write_text(plan_header(_plan_name(i, len(models)), plan, model))
    (out / "engine_model.h").write_text(engine_model_header(plans, name, digest, timing))
    if " " in str(out):
        raise VigilError(f"{out}: a path with spaces cannot go into PlatformIO's build flags; move the checkout")
    flash.build(spec.env, extra_env={"PLATFORMIO_BUILD_FLAGS": f"-DVIGIL_ENGINE_MODEL -I{out}",
                                     "PLATFORMIO_BUILD_DIR": str(out / "build")})  # fmt: skip
    return EngineBuild(plans, out / "build" / spec.env / spec.artifact, name, digest)


def check_inputs(shape: tuple[int, ...], samples: int, seed: int) -> np.ndarray:
    """Edge values first (all -128, all 127, zeros, alternating extremes), then random int8."""
    rng = np.random.default_rng(seed)
    size = int(np.prod(shape))
    edges = [np.full(size, -128), np.full(size, 127), np.zeros(size), np.where(np.arange(size) % 2, 127, -128)]
    batch = [e for e in edges[:samples]]
    while len(batch) < samples:
        batch.append(rng.integers(-128, 128, size))
    return np.stack(batch).astype(np.int8).reshape((samples, *shape))


@dataclass
class DeviceRun:
    """One NN_RUN: the output, and the ticks of the model's timing runs (whole plan, and op by op)."""

    output: np.ndarray
    ticks: int
    op_ticks: list[int]


def infer(link: Link, x: np.ndarray, model: int = 0) -> DeviceRun:
    """One NN_RUN of model `model` on the device (ticks of that model's timing runs, firmware/app/nn_task.h)."""
    data = x.astype(np.int8).tobytes()
    for off in range(0, len(data), p.NN_CHUNK):
        link.send(p.MsgType.NN_INPUT, off.to_bytes(2, "little") + data[off : off + p.NN_CHUNK])
    link.send(p.MsgType.NN_RUN, bytes([model]))
    result = p.NnResult.unpack(link.expect(p.MsgType.NN_RESULT, timeout=60).payload)
    if result.status != p.NnStatus.OK:
        raise VigilError(f"{link.path}: model {model}: the device answered {p.NnStatus(result.status).name}")
    out = bytearray(result.output_bytes)
    got = 0
    while got < result.output_bytes:
        frame = link.expect(p.MsgType.NN_OUTPUT).payload
        off = int.from_bytes(frame[:2], "little")
        out[off : off + len(frame) - 2] = frame[2:]
        got += len(frame) - 2
    op_ticks: list[int] = []
    while len(op_ticks) < result.n_ops:
        frame = link.expect(p.MsgType.NN_OP_COST).payload
        count = int.from_bytes(frame[2:4], "little")
        op_ticks += [int(v) for v in np.frombuffer(frame[4 : 4 + 4 * count], dtype="<u4")]
    return DeviceRun(np.frombuffer(bytes(out), dtype=np.int8), result.ticks, op_ticks)


def check_carries(link: Link, build: EngineBuild, board: str) -> float:
    """HELLO must list the build's entry (else the board runs another firmware); returns its ticks per second."""
    hello = link.request_hello()
    carried = {m.name: m.hash for m in hello.models}
    if carried.get(build.hello_name) != build.hello_hash:
        raise VigilError(f"the {board} firmware does not carry these models (HELLO lists {sorted(carried)})")
    return float(hello.ticks_per_second)


def flash_bytes(artifact: Path, board: str) -> int | None:
    if not boards.counts_instructions(board):  # the Cortex-M builds (an ELF); a host program's size means nothing here
        return None
    out = subprocess.run(["arm-none-eabi-size", "-B", str(artifact)], capture_output=True, text=True, check=True).stdout
    text, data = (int(v) for v in re.split(r"\s+", out.splitlines()[1].strip())[:2])
    return text + data


def instructions_per_tick(board: str, ticks_per_second: float) -> float | None:
    """On the QEMU boards (-icount shift=0) a tick is a fixed number of instructions; elsewhere ticks are time."""
    return VIRTUAL_INSTRUCTIONS_PER_SECOND / ticks_per_second if boards.counts_instructions(board) else None


def engine_check(model_bytes: bytes, board: str = "native", samples: int = 20, seed: int = 0,
                 progress: Callable[[int], None] | None = None, clock_mhz: float = DEFAULT_CLOCK_MHZ
                 ) -> dict[str, Any]:  # fmt: skip
    """Run `samples` inputs on the board and through TFLM; the report `vigil engine check --json` prints."""
    if not clock_mhz > 0:
        raise VigilError(f"--clock-mhz must be positive, not {clock_mhz}")
    build = build_engine_firmware(model_bytes, board)
    plan = build.plan
    inputs = check_inputs(tuple(plan.input.shape[1:]) if len(plan.input.shape) > 1 else tuple(plan.input.shape),
                          samples, seed)  # fmt: skip
    want = tflm_reference(oracle_tflite(model_bytes), inputs).reshape(samples, -1)
    mismatches, first = 0, None
    ticks, op_ticks = [], []
    with boards.running_board(board, artifact=build.artifact) as proc, Link.open(proc.port) as link:
        per_tick = instructions_per_tick(board, check_carries(link, build, board))
        for i, x in enumerate(inputs):
            run = infer(link, x)
            diff = np.nonzero(run.output != want[i])[0]
            if len(diff):
                mismatches += len(diff)
                first = first or {"sample": i, "index": int(diff[0]), "device": int(run.output[diff[0]]),
                                  "tflm": int(want[i][diff[0]])}
            ticks.append(run.ticks)
            op_ticks = run.op_ticks
            if progress:
                progress(i + 1)
    report: dict[str, Any] = {
        "board": board,
        "samples": samples,
        "mismatches": mismatches,
        "first_mismatch": first,
        "arena_bytes": plan.arena_bytes,
        "weight_bytes": plan.weight_bytes,
        "macs": plan.macs,
        "flash_bytes": flash_bytes(build.artifact, board),
        "ops": [op.kind for op in plan.ops],
    }
    # one nn_plan_run without per-op hooks (the headline) and each op's nn_plan_run_op timed alone (the
    # breakdown; their sum leaves out the executor's loop): ticks of `runs` runs, divided (nn_task.h)
    runs = timing_runs(plan)
    report["timing_runs"] = runs
    report["clock_mhz"] = clock_mhz
    if per_tick is not None:
        instr = int(round(float(np.median(ticks)) * per_tick / runs))
        report["instructions_per_inference"] = instr
        report["instructions_per_mac"] = round(instr / plan.macs, 3) if plan.macs else None
        report["instructions_per_op"] = [int(round(t * per_tick / runs)) for t in op_ticks]
        report["ms_per_inference_at_clock"] = round(instr / (clock_mhz * 1e3), 4)
    else:
        report["instructions_per_inference"] = None
        report["instructions_per_mac"] = None
        report["ms_per_inference_at_clock"] = None
        report["ns_per_inference"] = int(float(np.median(ticks)) / runs)
    return report
