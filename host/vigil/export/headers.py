"""C headers for a model: `NAME_tflite.h` (the `.tflite` bytes, the form TFLM users include) and
`NAME_plan.h` (the compiled plan for vigil's engine; struct layout in firmware/core/nn/nn_plan.h).

Output is a pure function of the inputs (no dates, no paths), so regenerating gives identical files."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import numpy as np

from vigil.codegen import banner, c_array
from vigil.errors import VigilError
from vigil.export.plan import Plan, PlanOp, device_plan, manifest_entry

#: Alignment of the model bytes (TFLM requires 16) and of weight arrays (word loads for the DSP path).
MODEL_ALIGN = 16
WEIGHT_ALIGN = 16
_INT8_PER_LINE = 16
_INT32_PER_LINE = 8
_ALIGN_MACRO = "VIGIL_NN_ALIGNED"

_KINDS = {
    "CONV_2D": "NN_OP_CONV_2D", "DEPTHWISE_CONV_2D": "NN_OP_DEPTHWISE_CONV_2D",
    "FULLY_CONNECTED": "NN_OP_FULLY_CONNECTED", "MAX_POOL_2D": "NN_OP_MAX_POOL_2D",
    "AVERAGE_POOL_2D": "NN_OP_AVERAGE_POOL_2D", "RESHAPE": "NN_OP_RESHAPE", "SOFTMAX": "NN_OP_SOFTMAX",
    "LOGISTIC": "NN_OP_LOGISTIC", "MEAN": "NN_OP_MEAN", "ADD": "NN_OP_ADD", "RELU": "NN_OP_RELU",
    "RELU6": "NN_OP_RELU6",
}


def check_name(name: str) -> str:
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
        raise VigilError(f"model name {name!r} must be a C identifier (letters, digits, underscores)")
    return name


def _align_macro() -> str:
    return (
        f"#ifndef {_ALIGN_MACRO}\n"
        "#if defined(__cplusplus)\n"
        f"#define {_ALIGN_MACRO}(n) alignas(n)\n"
        "#else\n"
        f"#define {_ALIGN_MACRO}(n) _Alignas(n)\n"
        "#endif\n"
        "#endif\n"
    )


#: How a header written by `vigil export nn` is written again (model bundles pass `vigil export models`).
EXPORT_NN = "vigil export nn MODEL --name NAME --out DIR"


def c_static_array(ctype: str, name: str, values: np.ndarray, per_line: int, align: int | None = None,
                   suffix: str = "") -> str:
    """A model header's private table: vigil.codegen.c_array, static, optionally aligned (VIGIL_NN_ALIGNED)."""
    lines = c_array(ctype, name, np.asarray(values).ravel(), per_line, suffix=suffix, static=True,
                    attributes=f"{_ALIGN_MACRO}({align})" if align else "")
    return "\n".join(lines)


def c_header_open(first_line: str, comment: list[str], guard: str, include: str) -> list[str]:
    """The opening lines of a generated model header: the banner (vigil.codegen.banner), its comment (lines after
    the first start with " * "), the include guard and one include."""
    return [first_line, *comment, " */", f"#ifndef {guard}", f"#define {guard}", "", f'#include "{include}"', ""]


def tflite_header(name: str, model_bytes: bytes, regenerate: str = EXPORT_NN) -> str:
    """`const unsigned char NAME_tflite[]` (16-byte aligned) and `NAME_tflite_len`."""
    check_name(name)
    guard = f"{name.upper()}_TFLITE_H"
    digest = hashlib.sha256(model_bytes).hexdigest()
    body = c_array("unsigned char", f"{name}_tflite", model_bytes, 12, size="", static=True,
                   attributes=f"{_ALIGN_MACRO}({MODEL_ALIGN})")
    return "\n".join([
        banner("vigil.export.headers", f"{name}.tflite", regenerate),
        f"/* {name}.tflite as a C array (sha256 {digest}). */",
        f"#ifndef {guard}\n#define {guard}\n\n{_align_macro()}", *body,
        f"static const unsigned int {name}_tflite_len = {len(model_bytes)}u;\n\n#endif /* {guard} */\n",
    ])


def _shape(s: tuple[int, int, int] | None) -> str:
    h, w, c = s if s is not None else (0, 0, 0)
    return f"{{ {h}, {w}, {c} }}"


def _op_struct(name: str, i: int, op: PlanOp, plan: Plan) -> str:
    p = op.params
    extra = list(op.extra) + [0] * (8 - len(op.extra))
    in2 = plan.offsets[op.inputs[1]] if len(op.inputs) > 1 else 0

    def arr(suffix: str, present: bool) -> str:
        return f"{name}_op{i}_{suffix}" if present else "0"

    flags = " | ".join(f for f, on in (("NN_OP_FLAG_POOL", op.pool is not None),
                                        ("NN_OP_FLAG_OUT_OVERLAPS_IN", op.overlap)) if on) or "0"
    fields = [
        f".kind = {_KINDS[op.kind]}", f".flags = {flags}", f".source_index = {op.source_index}",
        f".in_offset = {plan.offsets[op.inputs[0]]}u", f".in2_offset = {in2}u",
        f".out_offset = {plan.offsets[op.output]}u",
        f".in = {_shape(op.in_shape)}", f".in2 = {_shape(op.in2_shape)}", f".out = {_shape(op.out_shape)}",
        f".filter_h = {p.get('filter_h', 1)}", f".filter_w = {p.get('filter_w', 1)}",
        f".stride_h = {p.get('stride_h', 1)}", f".stride_w = {p.get('stride_w', 1)}",
        f".dilation_h = {p.get('dilation_h', 1)}", f".dilation_w = {p.get('dilation_w', 1)}",
        f".pad_h = {p.get('pad_h', 0)}", f".pad_w = {p.get('pad_w', 0)}",
        f".depth_multiplier = {p.get('depth_multiplier', 1)}",
        f".in_zp = {p['in_zp']}", f".in2_zp = {p.get('in2_zp', 0)}", f".out_zp = {p['out_zp']}",
        f".act_min = {p['act_min']}", f".act_max = {p['act_max']}", f".macs = {op.macs}u",
        f".weights = {arr('weights', op.weights is not None)}", f".bias = {arr('bias', op.bias is not None)}",
        f".out_mult = {arr('mult', op.multipliers is not None)}",
        f".out_shift = {arr('shift', op.shifts is not None)}",
        ".p = { " + ", ".join(str(int(v)) for v in extra) + " }",
    ]
    if op.fc_small is not None:
        fields.append(f".fc_small = &{name}_op{i}_fc")
    if op.pool is not None:
        q = op.pool
        fields += [
            f".mid = {_shape(op.mid_shape)}", f".pool_h = {q['filter_h']}", f".pool_w = {q['filter_w']}",
            f".pool_stride_h = {q['stride_h']}", f".pool_stride_w = {q['stride_w']}",
            f".pool_pad_h = {q['pad_h']}", f".pool_pad_w = {q['pad_w']}",
            f".pool_act_min = {q['act_min']}", f".pool_act_max = {q['act_max']}",
        ]
    if op.scratch_bytes:
        fields += [f".scratch_offset = {plan.scratch_offsets[i]}u", f".scratch_bytes = {op.scratch_bytes}u"]
    return f"    {{ /* {i}: {op.kind} (tflite operator {op.source_index}) */\n        " + \
        ",\n        ".join(fields) + "\n    }"


def _fc_small_struct(name: str, i: int, op: PlanOp) -> str:
    """A NN_FC_WEIGHTS_SMALL layer's records and the kernel's parameter struct, both const (nn_kernels.h)."""
    rows = np.asarray(op.fc_small)
    array = c_static_array("int32_t", f"{name}_op{i}_rows", rows, rows.shape[1], 8)
    words = (rows.shape[1] - 4) // 2
    p = op.params
    return array + (
        f"static const nn_fc_small_params_t {name}_op{i}_fc = {{\n"
        f"    .rows = {name}_op{i}_rows, .input_words = {words}, .output_c = {rows.shape[0]},\n"
        f"    .activation_min = {p['act_min']}, .activation_max = {p['act_max']}\n}};\n"
    )


_U16_MAX = 0xFFFF
_U32_MAX = 0xFFFFFFFF


def _check_fits(plan: Plan) -> None:
    """nn_op stores shapes and geometry in uint16, offsets and MACs in uint32: refuse rather than truncate."""
    for op in plan.ops:
        small = [*op.in_shape, *op.out_shape, *(op.in2_shape or ()), op.source_index,
                 *(v for k, v in op.params.items() if not k.endswith("zp") and not k.startswith("act"))]
        if max(small) > _U16_MAX or op.macs > _U32_MAX:
            raise VigilError(f"{op.kind} (tflite operator {op.source_index}) is too large for nn_op's fields")
    if plan.arena_bytes > _U32_MAX or plan.macs > _U32_MAX or len(plan.ops) > _U16_MAX:
        raise VigilError("the model is too large for nn_plan's fields")


def plan_header(name: str, plan: Plan, model_bytes: bytes, regenerate: str = EXPORT_NN) -> str:
    """The plan as const data: weights, biases, multipliers, shifts, the op list and the nn_plan."""
    check_name(name)
    _check_fits(plan)
    guard = f"{name.upper()}_PLAN_H"
    digest = hashlib.sha256(model_bytes).hexdigest()
    out = [
        banner("vigil.export.headers", f"{name}.tflite", regenerate) + "\n",
        f"/* {name}: compiled plan for vigil's int8 engine (from {name}.tflite, sha256 {digest}).\n"
        f" * Ops: {' '.join(plan.op_names())}.\n"
        f" * Arena {plan.arena_bytes} B, weights {plan.weight_bytes} B, {plan.macs} MACs. */\n",
        f"#ifndef {guard}\n#define {guard}\n\n#include <stdint.h>\n\n#include \"nn/nn_plan.h\"\n"
        + ("#include \"nn/nn_kernels.h\"\n" if any(op.fc_small is not None for op in plan.ops) else "")
        + f"\n{_align_macro()}\n",
        f"#define {name.upper()}_ARENA_BYTES {plan.arena_bytes}u\n",
        f"#define {name.upper()}_INPUT_BYTES {plan.input.nbytes}u\n",
        f"#define {name.upper()}_OUTPUT_BYTES {plan.output.nbytes}u\n\n",
    ]
    for i, op in enumerate(plan.ops):
        if op.weights is not None:
            out.append(c_static_array("int8_t", f"{name}_op{i}_weights", op.weights, _INT8_PER_LINE, WEIGHT_ALIGN))
        if op.bias is not None:
            out.append(c_static_array("int32_t", f"{name}_op{i}_bias", op.bias, _INT32_PER_LINE))
        if op.multipliers is not None:
            out.append(c_static_array("int32_t", f"{name}_op{i}_mult", op.multipliers, _INT32_PER_LINE))
        if op.shifts is not None:
            out.append(c_static_array("int8_t", f"{name}_op{i}_shift", op.shifts, _INT8_PER_LINE))
        if op.fc_small is not None:
            out.append(_fc_small_struct(name, i, op))
    ops = ",\n".join(_op_struct(name, i, op, plan) for i, op in enumerate(plan.ops))
    out.append(f"\nstatic const nn_op {name}_ops[{len(plan.ops)}] = {{\n{ops}\n}};\n\n")
    ins, outs = plan.input, plan.output
    in_hwc = _shape(plan.ops[0].in_shape if plan.ops else None)
    out_hwc = _shape(plan.ops[-1].out_shape if plan.ops else None)
    out.append(
        f"static const nn_plan {name}_plan = {{\n"
        f"    .ops = {name}_ops,\n    .n_ops = {len(plan.ops)},\n"
        f"    .arena_bytes = {plan.arena_bytes}u,\n    .weight_bytes = {plan.weight_bytes}u,\n"
        f"    .macs = {plan.macs}u,\n"
        f"    .in_offset = {ins.offset}u, .in_bytes = {ins.nbytes}u,\n"
        f"    .out_offset = {outs.offset}u, .out_bytes = {outs.nbytes}u,\n"
        f"    .in_shape = {in_hwc}, .out_shape = {out_hwc},\n"
        f"    .in_zp = {ins.zero_point}, .out_zp = {outs.zero_point},\n"
        f"    .in_scale = {float(np.float32(ins.scale))!r}f, .out_scale = {float(np.float32(outs.scale))!r}f\n"
        f"}};\n\n#endif /* {guard} */\n"
    )
    return "".join(out)


def write_headers(name: str, model_bytes: bytes, plan: Plan, out_dir: Path) -> list[Path]:
    """Write NAME.tflite, NAME_tflite.h and NAME_plan.h into out_dir; return their paths."""
    check_name(name)
    out_dir.mkdir(parents=True, exist_ok=True)
    files = {
        out_dir / f"{name}.tflite": model_bytes,
        out_dir / f"{name}_tflite.h": tflite_header(name, model_bytes).encode(),
        out_dir / f"{name}_plan.h": plan_header(name, plan, model_bytes).encode(),
    }
    for path, data in files.items():
        path.write_bytes(data)
    return list(files)


def export_model(model_bytes: bytes, name: str, out_dir: Path) -> dict[str, object]:
    """`vigil export nn` in one call: read, rewrite, plan, write NAME.tflite / NAME_tflite.h / NAME_plan.h;
    return the manifest entry (hash, op list, arena, weight bytes, MACs, files written)."""
    plan = device_plan(model_bytes)
    files = write_headers(name, model_bytes, plan, out_dir)
    return {**manifest_entry(name, model_bytes, plan), "files": [f.name for f in files]}


def export_to_folder(model_bytes: bytes, name: str, out_dir: Path) -> dict[str, object]:
    """`vigil export nn`: export_model into ``out_dir`` (created if needed) and record its entry as
    ``models[name]`` of ``out_dir/manifest.json`` (the other entries kept); returns the entry."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    entry = export_model(model_bytes, name, out_dir)
    manifest_path = out_dir / "manifest.json"
    manifest = json.loads(manifest_path.read_text()) if manifest_path.exists() else {"models": {}}
    manifest.setdefault("models", {})[name] = entry
    manifest_path.write_text(json.dumps(manifest, indent=1, sort_keys=True, default=str) + "\n")
    return entry
