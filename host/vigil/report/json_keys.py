"""Reading the keys of a JSON file that vigil itself writes (a training folder's metrics.json, a bundle's manifest,
`vigil verify --json`): each key by its exact name, a missing one an error naming the file and the key.

    keys = JsonKeys(read_json_file(path), path, "`vigil train stress`'s metrics.json")
    keys("models.tree.accuracy")          # the value, else VigilError
                                          # 'PATH:1: expected ...: no key "models.tree.accuracy"'
    keys.number("models.tree.accuracy")   # as a float (an error naming the key if it is not a number)
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from vigil.errors import VigilError


class JsonKeys:
    """The parsed JSON of ``path``, read by dotted key ("evaluation.sleep_wake.auc"); ``expected`` names the file's
    kind and its writer for the errors."""

    def __init__(self, data: Any, path: Path, expected: str) -> None:
        self.data, self.path, self.expected = data, Path(path), expected

    def error(self, what: str) -> VigilError:
        return VigilError(f"{self.path}:1: expected {self.expected}: {what}")

    def __call__(self, key: str) -> Any:
        value = self.data
        for part in key.split("."):
            if not isinstance(value, dict) or part not in value:
                raise self.error(f'no key "{key}"')
            value = value[part]
        return value

    def has(self, key: str) -> bool:
        try:
            self(key)
        except VigilError:
            return False
        return True

    def number(self, key: str) -> float:
        value = self(key)
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise self.error(f'"{key}" is {value!r}, not a number')
        return float(value)

    def integer(self, key: str) -> int:
        value = self(key)
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.error(f'"{key}" is {value!r}, not an integer')
        return value

    def mapping(self, key: str) -> dict[str, Any]:
        value = self(key)
        if not isinstance(value, dict):
            raise self.error(f'"{key}" is not an object')
        return value

    def matrix(self, key: str, k: int) -> np.ndarray:
        """A (k, k) matrix of counts (a confusion matrix: rows true, columns predicted) as int64."""
        try:
            counts = np.asarray(self(key), dtype=np.int64)
        except (TypeError, ValueError):
            raise self.error(f'"{key}" is not a matrix of counts') from None
        if counts.shape != (k, k):
            raise self.error(f'"{key}" is a {counts.shape} matrix; expected {k} x {k}')
        return counts
