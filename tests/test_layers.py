"""Which layer of vigil may import which (every import in the module, at any depth: lazy imports count too).

- `vigil.records` and `vigil.codegen` are neutral homes: they import nothing of vigil's.
- The DSP twins are arithmetic: they know no device, no model, no training (`vigil.dsp` imports only itself,
  `vigil.codegen` and `vigil.errors`).
- Training (`vigil.ml`) uses the converter (`vigil.export`) but never the device layer or the model bundle.
- Conversion and C headers (`vigil.export`) never import training or the bundle: the bundle (`vigil.bundle`) sits
  above both, so there is no cycle between `ml` and `export`."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "host" / "vigil"

#: package -> vigil packages/modules it must not import
FORBIDDEN = {
    "vigil.records": ("vigil.",),
    "vigil.codegen": ("vigil.",),
    "vigil.dsp": ("vigil.device", "vigil.ml", "vigil.export", "vigil.bundle", "vigil.data", "vigil.report"),
    "vigil.ml": ("vigil.device", "vigil.bundle", "vigil.report"),
    "vigil.export": ("vigil.ml", "vigil.bundle", "vigil.device", "vigil.report"),
    "vigil.device": ("vigil.dsp", "vigil.ml", "vigil.bundle", "vigil.report"),
}
ALLOWED_EVERYWHERE = ("vigil.errors",)


def _module_name(path: Path) -> str:
    rel = path.relative_to(PACKAGE.parent).with_suffix("")
    parts = list(rel.parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(), str(path))
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out.append(node.module)
            out += [f"{node.module}.{a.name}" for a in node.names]  # `from vigil import x` imports vigil.x
    return [m for m in out if m == "vigil" or m.startswith("vigil.")]


def _modules() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


@pytest.mark.parametrize("layer", sorted(FORBIDDEN))
def test_layer_imports_only_what_it_may(layer: str) -> None:
    broken = []
    for path in _modules():
        name = _module_name(path)
        if name != layer and not name.startswith(layer + "."):
            continue
        for imported in _imports(path):
            if imported.startswith(ALLOWED_EVERYWHERE) or imported == name or imported.startswith(layer + "."):
                continue
            if any(imported == f.rstrip(".") or imported.startswith(f if f.endswith(".") else f + ".")
                   or imported == f for f in FORBIDDEN[layer]):
                broken.append(f"{path.relative_to(PACKAGE.parent)}: imports {imported}")
    assert not broken, "\n".join(broken)


def test_the_checker_sees_lazy_imports(tmp_path: Path) -> None:
    src = tmp_path / "m.py"
    src.write_text("def f():\n    from vigil.device import protocol\n    import vigil.ml.sleep\n")
    assert {"vigil.device", "vigil.device.protocol", "vigil.ml.sleep"} <= set(_imports(src))


def test_every_generator_speaks_the_one_difficulty_vocabulary() -> None:
    from vigil.data import synthetic_night, synthetic_ppg, synthetic_stress
    from vigil.data.difficulty import DIFFICULTIES

    for table in (synthetic_night.DIFFICULTY, synthetic_ppg.DIFFICULTY, synthetic_stress.DIFFICULTY):
        assert tuple(table) == DIFFICULTIES
    assert all(p.ppg in DIFFICULTIES for p in synthetic_stress.DIFFICULTY.values())
