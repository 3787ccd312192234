"""Column primitives for millions of rows: a text column is held factorised (codes per row, distinct
values once), so every check runs once per distinct value; ASCII digits are read from a fixed-width
byte matrix (numpy, no Python loop per row)."""

from __future__ import annotations

import ctypes
import ctypes.util
import os
from typing import Any, Callable

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

# Arrow's default allocator in its wheels (mimalloc) spends much system time handing pages back and
# faulting them in again while threads parse a large file; jemalloc does not. An explicit choice in
# ARROW_DEFAULT_MEMORY_POOL is left alone.
if "ARROW_DEFAULT_MEMORY_POOL" not in os.environ:
    try:
        pa.set_memory_pool(pa.jemalloc_memory_pool())
    except NotImplementedError:  # a pyarrow built without jemalloc
        pass

_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3  # glibc's mallopt parameters


def keep_freed_memory() -> None:
    """Let glibc's malloc keep freed blocks (up to its 32 MB limit for heap blocks) for reuse instead of
    handing each back to the system: the readers and ``aggregate`` make and drop many arrays of
    millions of rows, and every fresh mapping is paid again in page faults (system time, measurably so
    in a virtual machine). Nothing happens where the C library has no ``mallopt``."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        libc.mallopt(_M_MMAP_THRESHOLD, 32 * 1024 * 1024)
        libc.mallopt(_M_TRIM_THRESHOLD, 512 * 1024 * 1024)
    except (OSError, AttributeError):
        pass


#: Text columns of the readers' frames: pandas' ``str`` held as Python strings, whether or not pyarrow
#: is installed (Arrow storage would make every ``to_numpy(object)`` downstream a conversion).
TEXT = pd.StringDtype("python", na_value=np.nan)


def text_series(values: np.ndarray) -> pd.Series:
    """An object array of ``str`` as a :data:`TEXT` column (empty: ``object``, as pandas infers it)."""
    return pd.Series(values, dtype=TEXT if len(values) else object, copy=False)


class Distinct:
    """A text column factorised once: ``codes`` per row and the distinct raw ``values``. Dates, codes
    and even BSNs repeat across rows, so checks on ``values`` and a ``spread`` back are cheap.

    ``arrow_values`` holds ``values`` as an Arrow array when the column came from one.
    """

    __slots__ = ("codes", "values", "arrow_values")

    def __init__(self, values: Any = None, *, codes: np.ndarray | None = None, arrow_values: Any = None):
        self.arrow_values = arrow_values
        if codes is not None:
            self.codes = codes
            self.values = np.asarray(values, dtype=object)
            return
        codes, uniques = pd.factorize(np.asarray(values, dtype=object), sort=False)
        self.codes = codes
        self.values = np.asarray(uniques, dtype=object)

    @classmethod
    def of(cls, values: Any) -> Distinct:
        """``values`` itself when already factorised, else its factorisation."""
        return values if isinstance(values, Distinct) else cls(values)

    @classmethod
    def from_arrow(cls, array: Any) -> Distinct:
        """A pyarrow string (chunked) array without nulls, dictionary-encoded by Arrow."""
        if len(array) == 0:
            return cls(np.empty(0, dtype=object), codes=np.empty(0, dtype=np.int32))
        if isinstance(array, pa.ChunkedArray):
            # one hash table over the whole column: cheaper than a table per chunk and unifying them
            array = array.combine_chunks()
        encoded = pc.dictionary_encode(array)
        dictionary = encoded.dictionary
        codes = encoded.indices.to_numpy(zero_copy_only=False)
        values = dictionary.to_numpy(zero_copy_only=False)
        return cls(values, codes=codes, arrow_values=dictionary)

    @classmethod
    def constant(cls, value: str, n: int) -> Distinct:
        return cls(np.array([value], dtype=object), codes=np.zeros(n, dtype=np.int32))

    def __len__(self) -> int:
        return len(self.codes)

    def spread(self, per_value: np.ndarray) -> np.ndarray:
        return per_value[self.codes]

    def trimmed(self) -> np.ndarray:
        """``values`` with surrounding whitespace removed (``str.strip``). Values whose first and last
        bytes are printable ASCII other than space cannot change, so only the others are stripped."""
        out = self.values.copy()
        if self.arrow_values is not None and len(out):
            arr = self.arrow_values
            if isinstance(arr, pa.ChunkedArray):
                arr = arr.combine_chunks()
            offsets = np.frombuffer(arr.buffers()[1], dtype=np.int32)[arr.offset : arr.offset + len(arr) + 1]
            data_buffer = arr.buffers()[2]
            data = np.frombuffer(data_buffer, dtype=np.uint8) if data_buffer is not None else np.empty(0, np.uint8)
            if len(data) == 0:
                data = np.zeros(1, dtype=np.uint8)
            nonempty = offsets[1:] > offsets[:-1]
            first = data[np.minimum(offsets[:-1], len(data) - 1)]
            last = data[np.maximum(offsets[1:] - 1, 0)]
            may_change = nonempty & ~((first > 32) & (first < 127) & (last > 32) & (last < 127))
            todo = np.flatnonzero(may_change)
        else:
            todo = np.arange(len(out))
        if len(todo):
            out[todo] = [v.strip() for v in out[todo]]
        return out



def by_unique(values: Any, func: Callable[[str], Any], dtype: Any = object) -> np.ndarray:
    """Apply ``func`` to each distinct (trimmed) value once and spread the results back."""
    d = Distinct.of(values)
    return d.spread(per_value(d, func, dtype))


def per_value(values: Any, func: Callable[[str], Any], dtype: Any = object) -> np.ndarray:
    """``func`` of each distinct (trimmed) value of a column, in the order of its ``values``."""
    d = Distinct.of(values)
    if len(d.values) == 0:
        return np.empty(0, dtype=dtype)
    return np.array([func(u.strip()) for u in d.values], dtype=dtype)


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
