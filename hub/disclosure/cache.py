"""The audit cache: results of audit problems keyed by a SHA-256 digest of their inputs, in memory only.

A network or LP problem of the auditor (audit.py, lps.py) is a pure function of its inputs, so its
result can be stored under their digest (``digest``): after a late submission only the problems whose
cells changed are solved again, and a release is the same with or without the cache. The cache holds
derived bounds of unprotected cells: keep it in the combining process's memory, never persist or log it.
"""

from __future__ import annotations

import hashlib
import threading

import numpy as np
import pandas as pd


class AuditCache:
    """Block results keyed by the digest of the block's inputs (in memory only).

    It also keeps the catalogue tables of the last few combined frames (``tables``, keyed by the
    frame's digest): the release a late submission supersedes comes back as history, and its table
    need not be built again.
    """

    MAX_TABLES = 3

    def __init__(self, max_entries: int = 200_000):
        # Two combines (two rounds) may share the process's cache on two threads.
        self._lock = threading.Lock()
        self._data: dict[bytes, tuple[np.ndarray, np.ndarray, int]] = {}
        self.tables: dict[bytes, object] = {}
        self.max_entries = max_entries
        self.hits = 0
        self.misses = 0

    def table(self, key: bytes, build):
        """The table stored under ``key``, else ``build()`` stored (the oldest of ``MAX_TABLES`` goes)."""
        with self._lock:
            found = self.tables.pop(key, None)
        if found is None:
            found = build()  # outside the lock: another thread may build the same table meanwhile (same result)
        with self._lock:
            self.tables.pop(key, None)
            while len(self.tables) >= self.MAX_TABLES:
                self.tables.pop(next(iter(self.tables)))
            self.tables[key] = found  # most recently used last
        return found

    def get(self, key: bytes):
        with self._lock:
            found = self._data.get(key)
            if found is None:
                self.misses += 1
            else:
                self.hits += 1
        return found

    def put(self, key: bytes, value) -> None:
        with self._lock:
            if len(self._data) >= self.max_entries:
                self._data.pop(next(iter(self._data)))
            self._data[key] = value

    def __len__(self) -> int:
        return len(self._data)


def digest(parts: list[np.ndarray]) -> bytes:
    """SHA-256 over the arrays of a problem's inputs, with each one's dtype and shape."""
    h = hashlib.sha256()
    for p in parts:
        arr = np.ascontiguousarray(p)
        h.update(str(arr.dtype).encode() + str(arr.shape).encode())
        h.update(arr.tobytes())
    return h.digest()


def frame_digest(frame: pd.DataFrame) -> bytes:
    """SHA-256 of a frame's rows (values and order, not its index): the key of its table in the cache."""
    hashed = pd.util.hash_pandas_object(frame, index=False).to_numpy()
    return hashlib.sha256(hashed.tobytes()).digest()
