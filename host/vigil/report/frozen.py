"""The report's data is built once and then only read: its dataclasses are frozen, and ``freeze`` (called from their
``__post_init__``) makes what they hold immutable too.

- a numpy array becomes a read-only view (the array it was built from stays writable: a Recording's samples are
  not touched);
- a list becomes a tuple;
- a dict becomes a read-only mapping (``types.MappingProxyType``), its arrays read-only views.

Values nested deeper (a manifest's details) are kept as they are: the report only shows them.
"""

from __future__ import annotations

from dataclasses import fields
from types import MappingProxyType
from typing import Any

import numpy as np


def read_only(value: Any) -> Any:
    """``value`` as an immutable container (see the module doc); anything else unchanged."""
    if isinstance(value, np.ndarray):
        view = value.view()
        view.flags.writeable = False
        return view
    if isinstance(value, list):
        return tuple(value)
    if isinstance(value, dict):
        return MappingProxyType({k: read_only(v) if isinstance(v, np.ndarray) else v for k, v in value.items()})
    return value


def freeze(obj: Any) -> None:
    """Replace each field of the frozen dataclass ``obj`` by ``read_only`` of it (from ``__post_init__``)."""
    for f in fields(obj):
        object.__setattr__(obj, f.name, read_only(getattr(obj, f.name)))
