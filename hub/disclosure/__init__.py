"""The disclosure gate: combine node cells, apply the primary and secondary rules, audit, release.

Pure pandas/numpy/scipy (no Flask, no database): the combine service calls
``combine_cells`` → ``apply_gate`` → ``release_bytes`` (CONTRACTS.md, "Combined and release frames").
"""

from .audit import AuditCache
from .sums import combine_cells
from .config import GateConfig
from .gate import GateResult, apply_gate, release_bytes

__all__ = ["AuditCache", "GateConfig", "GateResult", "apply_gate", "combine_cells", "release_bytes"]
