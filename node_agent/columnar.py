"""Column primitives for millions of rows: work once per distinct value, and read ASCII digits
from a fixed-width byte matrix (numpy, no Python loop per row)."""

from __future__ import annotations

from typing import Any, Callable

import numpy as np
import pandas as pd


def by_unique(values: np.ndarray, func: Callable[[str], Any], dtype: Any = object) -> np.ndarray:
    """Apply ``func`` to each distinct (trimmed) value once and spread the results back."""
    codes, uniques = pd.factorize(values, sort=False)
    if len(uniques) == 0:
        return np.empty(len(values), dtype=dtype)
    results = np.array([func(u.strip()) for u in uniques], dtype=dtype)
    return results[codes]


class Distinct:
    """A column factorised once: codes per row and the distinct raw values, so every check runs
    once per distinct value (dates, codes and even BSNs repeat across school years)."""

    def __init__(self, values: np.ndarray):
        codes, uniques = pd.factorize(values, sort=False)
        self.codes = codes
        self.values = np.asarray(uniques, dtype=object)

    def spread(self, per_value: np.ndarray) -> np.ndarray:
        return per_value[self.codes]


def byte_matrix(values: np.ndarray, width: int) -> np.ndarray | None:
    """Values as an (n, width + 1) uint8 matrix, or None when a value is not ASCII."""
    try:
        packed = values.astype(f"S{width + 1}")
    except (UnicodeEncodeError, ValueError, TypeError):
        return None
    return packed.view(np.uint8).reshape(len(values), width + 1)


def digits(matrix: np.ndarray, cols: slice) -> np.ndarray:
    """The number spelled by the byte columns ``cols`` of a matrix of ASCII digits, per row."""
    part = matrix[:, cols].astype(np.int64) - 48
    weights = 10 ** np.arange(part.shape[1] - 1, -1, -1, dtype=np.int64)
    return part @ weights


def fast_digits(values: np.ndarray, width: int) -> tuple[np.ndarray, np.ndarray]:
    """(ints, ok) for values of 1..width ASCII digits and nothing else."""
    n = len(values)
    ints = np.zeros(n, dtype=np.int64)
    m = byte_matrix(values, width)
    if m is None or n == 0:
        return ints, np.zeros(n, dtype=bool)
    digit = (m >= 48) & (m <= 57)
    length = (m != 0).sum(axis=1)
    ok = digit[:, 0] & (m[:, width] == 0) & (digit.sum(axis=1) == length)
    if ok.any():
        ints[ok] = values[ok].astype(np.int64)
    return ints, ok

