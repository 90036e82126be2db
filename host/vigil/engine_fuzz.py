"""`vigil engine fuzz`: generated models (vigil.engine_graphs) checked on a board against the tflite-micro oracle.

For each seed: draw a graph, convert it with the TFLite converter, compile the device plan (a refusal of a model
inside the op set is a failure), run its inputs through TFLM's reference kernels; this runs in worker processes,
`jobs` at a time. The graphs are then packed into firmwares (up to `batch` models each, within a weight budget
that fits the virtual board's flash), and every input runs on the board: every output must equal TFLM's.

A report says, per graph, what happened (ok, mismatch, refused, convert_failed, build_failed, device_error), and
over the run which ops and which specialised kernel paths the plans took, so a run that stopped exercising a
path shows it. Failing models are written with their description to `keep_dir` for replay with
`vigil engine check`."""

from __future__ import annotations

import json
import multiprocessing
import shutil
import time
from collections import deque
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Sequence

import numpy as np

from vigil.errors import VigilError
from vigil.export.plan import FC_WEIGHTS_ROW4, FC_WEIGHTS_ROWS, FC_WEIGHTS_SMALL, Plan, PlanOp, pools_directly

#: Inputs per graph (engine_graphs.check_inputs: calibrated, uniform, extremes, in turn).
DEFAULT_SAMPLES = 3
#: Models per firmware, and the weight bytes one firmware may carry (the virtual board has 1 MB of flash).
DEFAULT_BATCH = 40
BATCH_WEIGHT_BYTES = 400_000

#: What can happen to a graph. "tflm_aborts": TFLM's own Prepare aborts on the model's scales (a dead unit makes
#: an activation range collapse), and the engine refuses it naming why: the two agree, nothing to compare. Every
#: status but "ok" and "tflm_aborts" is a failure.
STATUSES = ("ok", "tflm_aborts", "mismatch", "refused", "compile_error", "convert_failed", "convert_crashed",
            "oracle_failed", "oracle_crashed", "build_failed", "device_error")
AGREED = ("ok", "tflm_aborts")


@dataclass
class Prepared:
    """A graph ready for the board (model, plan, inputs, TFLM's outputs), or why it is not."""

    name: str  # gSEED for a generated graph
    description: str
    seed: int | None = None
    model: bytes | None = None
    plan: Plan | None = None
    inputs: np.ndarray | None = None
    want: np.ndarray | None = None
    status: str = "ok"
    detail: str = ""


@dataclass
class GraphResult:
    name: str
    seed: int | None
    status: str
    detail: str = ""
    ops: list[str] = field(default_factory=list)
    paths: list[str] = field(default_factory=list)
    macs: int = 0
    arena_bytes: int = 0
    outputs_compared: int = 0
    mismatches: int = 0
    first_mismatch: dict[str, int] | None = None


@dataclass
class FuzzReport:
    board: str
    first_seed: int
    count: int
    samples: int
    seconds: float
    results: list[GraphResult]

    @property
    def failures(self) -> list[GraphResult]:
        return [r for r in self.results if r.status not in AGREED]

    def summary(self) -> dict[str, Any]:
        statuses = {s: sum(r.status == s for r in self.results) for s in STATUSES}
        ops: dict[str, int] = {}
        paths: dict[str, int] = {}
        for r in self.results:
            for o in set(r.ops):
                ops[o] = ops.get(o, 0) + 1
            for q in set(r.paths):
                paths[q] = paths.get(q, 0) + 1
        return {
            "board": self.board, "first_seed": self.first_seed, "count": self.count, "samples": self.samples,
            "seconds": round(self.seconds, 1), "statuses": statuses,
            "outputs_compared": sum(r.outputs_compared for r in self.results),
            "mismatching_outputs": sum(r.mismatches for r in self.results),
            "graphs_with_op": dict(sorted(ops.items())), "graphs_with_path": dict(sorted(paths.items())),
            "failures": [asdict(r) for r in self.failures],
        }  # fmt: skip


# --- kernel paths a plan takes (the preconditions as the C code states them) ---------------------------------

def op_paths(op: PlanOp) -> list[str]:
    """The specialised paths of firmware/core/nn that this op runs through (names as in docs/benchmarks.md)."""
    p = op.params
    out: list[str] = []
    if op.kind == "CONV_2D":
        in_c = op.in_shape[2]
        if in_c == 1 and (p["filter_h"], p["filter_w"]) == (3, 3) and p["stride_w"] == 1 \
                and (p["dilation_h"], p["dilation_w"]) == (1, 1):
            out.append("conv3x3_c1")
            # nn_conv2d_maxpool_s8's 2x2 window of such pixels (the windows and pairs that lie inside)
            if op.pool is not None and pools_directly(op) and (op.pool["filter_h"], op.pool["filter_w"]) == (2, 2):
                out.append("conv3x3_c1_pool2x2")
        if (p["filter_w"] * in_c) % 4 == 0 and p["dilation_w"] == 1:
            out.append("conv_rows_widened")
        if p["dilation_h"] > 1 or p["dilation_w"] > 1:
            out.append("conv_dilated")
    if op.kind == "DEPTHWISE_CONV_2D" and (p["dilation_h"] > 1 or p["dilation_w"] > 1):
        out.append("depthwise_dilated")
    if op.pool is not None:
        out.append("conv_pool_direct" if pools_directly(op) else f"{op.kind.lower()}_pool_strip")
    if op.overlap:
        out.append("rows_in_place")
    if op.kind == "FULLY_CONNECTED":
        out.append({FC_WEIGHTS_ROW4: "fc_row4", FC_WEIGHTS_SMALL: "fc_small", FC_WEIGHTS_ROWS: "fc_rows"}[op.extra[0]])
    if op.kind == "ADD":
        if op.weights is not None:
            out.append("add_constant")
        elif op.in2_shape != op.in_shape or op.out_shape != op.in_shape:
            out.append("add_broadcast")
        else:
            out.append("add_same_shape")
    if op.shifts is not None and np.any(op.shifts > 0):
        out.append("left_shift")
    overlapping = op.kind in ("MAX_POOL_2D", "AVERAGE_POOL_2D") and (
        p["stride_h"] < p["filter_h"] or p["stride_w"] < p["filter_w"])
    if overlapping:
        out.append("pool_overlapping")
    return out


def plan_paths(plan: Plan) -> list[str]:
    return sorted({q for op in plan.ops for q in op_paths(op)})


# --- preparing graphs (worker processes) ---------------------------------------------------------------------

def prepare(seed: int, samples: int = DEFAULT_SAMPLES, oracle: bool = True) -> Prepared:
    """Draw, convert, compile and (with `oracle`) run through TFLM: in a worker process, TensorFlow stays out of the
    main one."""
    from vigil.engine_graphs import check_inputs, convert, draw_graph

    spec = draw_graph(seed)
    out = Prepared(f"g{seed}", spec.describe(), seed)
    try:
        out.model = convert(spec)
    except Exception as e:  # noqa: BLE001 (the converter raises many kinds; each is a result to report)
        out.status, out.detail = "convert_failed", f"{type(e).__name__}: {str(e).splitlines()[0][:300]}"
        return out
    return prepare_model(out, check_inputs(spec, out.model, samples), oracle)


def prepare_model(g: Prepared, inputs: np.ndarray, oracle: bool = True) -> Prepared:
    """Compile g.model (a refusal is a result) and, with `oracle`, run `inputs` through TFLM."""
    from vigil.engine import compile_model
    from vigil.export.quant import TflmAbortError

    try:
        g.plan = compile_model(g.model)
    except TflmAbortError as e:
        g.status, g.detail = "tflm_aborts", str(e)
        return g
    except VigilError as e:
        g.status, g.detail = "refused", str(e)
        return g
    except Exception as e:  # noqa: BLE001 (a crash of the compiler is a finding, not the end of the run)
        g.status, g.detail = "compile_error", f"{type(e).__name__}: {e}"
        return g
    g.inputs = np.asarray(inputs, dtype=np.int8)
    if oracle:
        try:
            g.want = oracle_outputs(g.model, g.inputs)
        except Exception as e:  # noqa: BLE001
            g.status, g.detail = "oracle_failed", f"{type(e).__name__}: {e}"
    return g


def oracle_outputs(model: bytes, inputs: np.ndarray) -> np.ndarray:
    """TFLM's outputs, one row per input (TFLM aborts the process on a model its Prepare rejects)."""
    from vigil.export.graph_rewrite import oracle_tflite
    from vigil.export.tflite import tflm_reference

    return tflm_reference(oracle_tflite(model), inputs).reshape(len(inputs), -1)


def _spawn() -> Any:
    return multiprocessing.get_context("spawn")  # not fork: TensorFlow's threads do not survive a fork


def _alone(seed: int, samples: int) -> Prepared:
    """A graph whose worker died, redone in workers of its own, stage by stage, to say which stage kills it."""
    with ProcessPoolExecutor(max_workers=1, mp_context=_spawn()) as pool:
        try:
            g = pool.submit(prepare, seed, samples, False).result()
        except BrokenProcessPool:
            from vigil.engine_graphs import draw_graph

            return Prepared(f"g{seed}", draw_graph(seed).describe(), seed, status="convert_crashed",
                            detail="the converter or the plan compiler ended the worker process")
    if g.status != "ok":
        return g
    with ProcessPoolExecutor(max_workers=1, mp_context=_spawn()) as pool:
        try:
            g.want = pool.submit(oracle_outputs, g.model, g.inputs).result()
        except BrokenProcessPool:
            g.status, g.detail = "oracle_crashed", ("the TFLM interpreter ended the process (an abort in its Prepare) "
                                                    "on a model the engine accepts")
    return g


def prepared_graphs(seeds: Iterable[int], samples: int, jobs: int) -> Iterator[Prepared]:
    """Prepared graphs in seed order; `jobs` worker processes convert ahead while the caller runs the board. A
    worker that dies (an abort in TFLM or the converter) costs only the graphs it was given: those in flight are
    redone alone (_alone), so the one that kills a worker is named."""
    pending = deque(seeds)
    inflight: deque[tuple[int, Future[Prepared]]] = deque()
    pool = ProcessPoolExecutor(max_workers=max(jobs, 1), mp_context=_spawn())
    try:
        while pending or inflight:
            while pending and len(inflight) < 2 * max(jobs, 1):
                seed = pending.popleft()
                inflight.append((seed, pool.submit(prepare, seed, samples)))
            seed, future = inflight.popleft()
            try:
                yield future.result()
            except BrokenProcessPool:
                suspects = [seed, *(q for q, _ in inflight)]
                inflight.clear()
                pool.shutdown(wait=False, cancel_futures=True)
                for q in suspects:
                    yield _alone(q, samples)
                pool = ProcessPoolExecutor(max_workers=max(jobs, 1), mp_context=_spawn())
    finally:
        pool.shutdown(wait=False, cancel_futures=True)


def batches(graphs: Iterable[Prepared], batch: int, weight_budget: int = BATCH_WEIGHT_BYTES
            ) -> Iterator[list[Prepared]]:  # fmt: skip
    """Runnable graphs grouped for one firmware each (at most `batch`, weights within the budget); graphs that
    cannot run (refused, not converted, no oracle) come out alone, as they arrive."""
    group: list[Prepared] = []
    weights = 0
    for g in graphs:
        if g.status != "ok":
            yield [g]
            continue
        w = g.plan.weight_bytes if g.plan is not None else 0
        if group and (len(group) >= batch or weights + w > weight_budget):
            yield group
            group, weights = [], 0
        group.append(g)
        weights += w
    if group:
        yield group


# --- on the board --------------------------------------------------------------------------------------------

def _result(g: Prepared, status: str | None = None, detail: str = "") -> GraphResult:
    plan = g.plan
    return GraphResult(
        name=g.name, seed=g.seed, status=status or g.status, detail=detail or g.detail,
        ops=[op.kind for op in plan.ops] if plan else [], paths=plan_paths(plan) if plan else [],
        macs=plan.macs if plan else 0, arena_bytes=plan.arena_bytes if plan else 0,
    )  # fmt: skip


def run_batch(group: list[Prepared], board: str, keep_build: bool = True) -> list[GraphResult]:
    """One firmware for the group, every input of every graph on the board. A graph whose run fails (the board
    stops answering, crashes) is a device_error; the board restarts for the graphs after it. Without `keep_build`
    the firmware's build folder (a few MB under .pio/engine) goes once the group has run."""
    from vigil.device import board as boards
    from vigil.device.link import Link
    from vigil.engine import build_engine_firmware, check_carries, infer

    if group[0].status != "ok":
        return [_result(group[0])]
    try:
        build = build_engine_firmware([g.model for g in group], board, plans=[g.plan for g in group], timing=False)
    except VigilError as e:
        return [_result(g, "build_failed", str(e)) for g in group]
    results: list[GraphResult] = []
    while len(results) < len(group):
        with boards.running_board(board, artifact=build.artifact) as proc, Link.open(proc.port) as link:
            check_carries(link, build, board)
            for i in range(len(results), len(group)):
                g = group[i]
                r = _result(g)
                try:
                    for k, (x, want) in enumerate(zip(g.inputs, g.want)):
                        got = infer(link, x, model=i).output
                        diff = np.nonzero(got != want)[0]
                        r.outputs_compared += int(want.size)
                        if len(diff):
                            r.mismatches += len(diff)
                            r.first_mismatch = r.first_mismatch or {
                                "sample": k, "index": int(diff[0]), "device": int(got[diff[0]]),
                                "tflm": int(want[diff[0]])}
                except (VigilError, OSError) as e:
                    results.append(_result(g, "device_error", f"{e}{_board_log_tail(proc.log)}"))
                    break  # restart the board for the rest
                if r.mismatches:
                    r.status = "mismatch"
                results.append(r)
    if not keep_build:
        shutil.rmtree(build.artifact.parents[2], ignore_errors=True)  # .pio/engine/<key>/build/<env>/<artifact>
    return results


def _board_log_tail(log: str, lines: int = 12) -> str:
    """What the board printed last (a crash, a sanitizer's report), for a device_error's detail."""
    try:
        text = Path(log).read_text(errors="replace").strip().splitlines()
    except OSError:
        return ""
    return ("; the board's log ends: " + " | ".join(text[-lines:])) if text else ""


def keep_failure(g: Prepared, r: GraphResult, keep_dir: Path) -> None:
    """The failing model and what it is, to replay with `vigil engine check KEEP/NAME.tflite`."""
    keep_dir.mkdir(parents=True, exist_ok=True)
    if g.model is not None:
        (keep_dir / f"{g.name}.tflite").write_bytes(g.model)
    (keep_dir / f"{g.name}.txt").write_text(f"{g.description}\n\n{json.dumps(asdict(r), indent=2)}\n")


def run_fuzz(first_seed: int, count: int, board: str = "native", samples: int = DEFAULT_SAMPLES,
             batch: int = DEFAULT_BATCH, jobs: int = 2, keep_dir: Path | None = None,
             progress: Callable[[int], None] | None = None) -> FuzzReport:  # fmt: skip
    """Seeds first_seed .. first_seed + count - 1 through the board; see the module docstring."""
    if count < 1 or samples < 1:
        raise VigilError("count and samples must be at least 1")
    graphs = prepared_graphs(range(first_seed, first_seed + count), samples, jobs)
    return run_prepared(graphs, board, batch, keep_dir, progress, keep_builds=False)


def run_prepared(graphs: Iterable[Prepared], board: str, batch: int = DEFAULT_BATCH, keep_dir: Path | None = None,
                 progress: Callable[[int], None] | None = None, keep_builds: bool = True) -> FuzzReport:  # fmt: skip
    """Prepared graphs (prepared_graphs, or a list kept to run on several boards) through the board. The test
    suite keeps the builds (the same seeds build the same firmwares next time); `vigil engine fuzz` does not."""
    if not 1 <= batch <= 255:
        raise VigilError(f"batch must be 1 to 255 graphs per firmware, not {batch}")
    began = time.monotonic()
    results: list[GraphResult] = []
    samples = 0
    for group in batches(graphs, batch):
        for g, r in zip(group, run_batch(group, board, keep_builds)):
            results.append(r)
            samples = max(samples, len(g.inputs) if g.inputs is not None else 0)
            if r.status not in AGREED and keep_dir is not None:
                keep_failure(g, r, keep_dir)
        if progress:
            progress(len(results))
    results.sort(key=lambda r: r.seed or 0)
    seeds = [r.seed for r in results if r.seed is not None]
    return FuzzReport(board, min(seeds, default=0), len(results), samples, time.monotonic() - began, results)


def check_models(models: Sequence[tuple[str, bytes, np.ndarray]], board: str, batch: int = DEFAULT_BATCH
                 ) -> list[GraphResult]:  # fmt: skip
    """(name, .tflite, int8 inputs) models, compiled and run through TFLM here, then a batch per firmware on the
    board: the fuzz's machinery for models built by hand (tests of each kernel path's preconditions)."""
    prepared = [prepare_model(Prepared(name, name, model=model), inputs) for name, model, inputs in models]
    results: list[GraphResult] = []
    for group in batches(prepared, batch):
        results += run_batch(group, board)
    order = {name: i for i, (name, _, _) in enumerate(models)}
    return sorted(results, key=lambda r: order[r.name])
