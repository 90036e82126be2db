"""docs/api.md: `import vigil` gives every name the page lists, and the page's examples run, in order, as written."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

import vigil

DOC = Path(__file__).resolve().parents[1] / "docs" / "api.md"


def _table_names() -> set[str]:
    names: set[str] = set()
    for line in DOC.read_text().splitlines():
        if line.startswith("| ") and not line.startswith("| group") and not line.startswith("|---"):
            names |= set(re.findall(r"`([A-Za-z_][A-Za-z0-9_]*)`", line.split("|")[2]))
    return names


def test_the_page_lists_exactly_the_public_api() -> None:
    listed = _table_names()
    assert listed == set(vigil.__all__) - {"__version__"}, (listed ^ (set(vigil.__all__) - {"__version__"}))
    for name in listed:
        assert getattr(vigil, name) is not None, name


def test_import_vigil_loads_no_tensorflow() -> None:
    code = "import sys, vigil; vigil.Recording; vigil.accel_columns; print('tensorflow' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


def test_the_command_line_starts_without_scipy_or_tensorflow() -> None:
    """`vigil --help`, `vigil ping`, `vigil board start`: every command imports vigil.cli first; scipy.signal,
    scipy.optimize and TensorFlow load only in the commands that compute with them (1.6 s -> 0.3 s a command)."""
    code = ("import sys, vigil.cli; print(sorted(m for m in ('tensorflow', 'scipy.signal', 'scipy.optimize', "
            "'scipy.stats') if m in sys.modules))")  # fmt: skip
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_no_public_name_shadows_a_submodule() -> None:
    """`from vigil import replay` must give the module vigil.replay: an API name equal to a submodule's would
    give the API's object instead (the package's __getattr__ answers first)."""
    import pkgutil

    submodules = {m.name for m in pkgutil.iter_modules(vigil.__path__)}
    assert submodules & set(vigil.__all__) == set()
    code = "from vigil import replay, verify; import types; print(isinstance(replay, types.ModuleType))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "True"


def test_an_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        vigil.nope  # noqa: B018


@pytest.mark.board
@pytest.mark.slow
def test_the_examples_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocks = re.findall(r"```python\n(.*?)```", DOC.read_text(), re.S)
    assert len(blocks) >= 5
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, object] = {}
    for i, block in enumerate(blocks):
        exec(compile(block, f"docs/api.md block {i + 1}", "exec"), namespace)  # noqa: S102
