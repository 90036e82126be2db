"""TensorFlow's import without its log lines.

Importing tensorflow (or keras, which imports it) prints absl's "All log messages before absl::InitializeLog() ..."
and oneDNN/CPU-feature INFO lines from C++, straight to file descriptor 2, whatever TF_CPP_MIN_LOG_LEVEL says in
TensorFlow 2.21: they break progress bars and look like errors to a user. `install()` (run by `import vigil`) puts
a finder first on sys.meta_path that runs the first import of `tensorflow` with descriptor 2 sent to /dev/null.
Python exceptions still propagate; nothing else is silenced, and later log lines (real warnings) still show."""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import os
import sys
from types import ModuleType
from typing import Sequence

_QUIET = ("tensorflow",)


class _QuietLoader(importlib.abc.Loader):
    def __init__(self, loader: importlib.abc.Loader) -> None:
        self._loader = loader

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType | None:
        return self._loader.create_module(spec)

    def exec_module(self, module: ModuleType) -> None:
        sys.stderr.flush()
        saved = os.dup(2)
        try:
            with open(os.devnull, "w") as null:
                os.dup2(null.fileno(), 2)
                self._loader.exec_module(module)
        finally:
            os.dup2(saved, 2)
            os.close(saved)


class _QuietFinder(importlib.abc.MetaPathFinder):
    def find_spec(self, name: str, path: Sequence[str] | None, target: ModuleType | None = None
                  ) -> importlib.machinery.ModuleSpec | None:  # fmt: skip
        if name not in _QUIET:
            return None
        spec = importlib.machinery.PathFinder.find_spec(name, path)
        if spec is not None and spec.loader is not None:
            spec.loader = _QuietLoader(spec.loader)
        return spec


def install() -> None:
    """Silence the first import of tensorflow from here on (once; the C++ INFO level off too)."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    if not any(isinstance(f, _QuietFinder) for f in sys.meta_path):
        sys.meta_path.insert(0, _QuietFinder())
