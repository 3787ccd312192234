"""The disclosure gate: combine node cells, apply the primary and secondary rules, audit, release.

Pure pandas/numpy/scipy (no Flask, no database): the combine service calls
``combine_cells`` → ``apply_gate`` → ``release_bytes``; the frames they pass and their columns are
defined in frames.py.

The names below are loaded on first use: a module that needs only the vocabulary
(``from hub.disclosure.frames import …``, as the pages and the API do) does not load the solvers.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

#: Public name → the module of this package that defines it.
_EXPORTS = {
    "AuditCache": "cache",
    "GateConfig": "config",
    "GateResult": "gate",
    "apply_gate": "gate",
    "combine_cells": "sums",
    "release_bytes": "gate",
}

__all__ = sorted(_EXPORTS)

if TYPE_CHECKING:
    from .cache import AuditCache
    from .config import GateConfig
    from .gate import GateResult, apply_gate, release_bytes
    from .sums import combine_cells


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value
