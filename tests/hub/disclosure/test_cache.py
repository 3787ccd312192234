"""The audit cache (cache.py): bounded, keyed by input digests, and invisible in the release."""

from __future__ import annotations

import numpy as np
import pandas as pd

from hub.disclosure import AuditCache, release_bytes
from hub.disclosure.cache import digest, frame_digest

from .helpers import TYPES3, gate, region, three_schools


def test_cache_reuses_blocks_and_gives_the_same_release():
    cells = three_schools({"01": 3, "02": 10, "03": 12})
    cache = AuditCache()
    _, a = gate(cells, TYPES3, cache=cache)
    _, b = gate(cells, TYPES3, cache=cache)
    assert b.audit["blocks_cached"] >= 1 and b.audit["lps_solved"] == 0
    assert release_bytes(a.release) == release_bytes(b.release)


def test_a_late_submission_reuses_the_cached_networks():
    """History changes the variables' numbering: the cache must still recognise unchanged problems."""
    rng = np.random.default_rng(8)
    cells, units = region(rng, 10, types=("BO", "SO", "VO"))
    cache = AuditCache()
    combined1, result1 = gate(cells, units, cache=cache)
    assert result1.audit["flows_solved"] > 0
    late = [c[:4] + (c[4] + 20,) + c[5:] if (c[1] == "03AA00" and c[2] == "leerlingen") else c for c in cells]
    combined2, result2 = gate(late, units, history=[(combined1, result1.release)], cache=cache)
    assert result2.audit["failed"] == 0
    assert result2.audit["flows_solved"] == 0 and result2.audit["blocks_cached"] > 0


def test_entries_are_bounded_and_counted():
    cache = AuditCache(max_entries=2)
    for i in range(3):
        cache.put(bytes([i]), (np.zeros(1), np.ones(1)))
    assert len(cache) == 2
    assert cache.get(bytes([0])) is None  # the oldest went first
    assert cache.get(bytes([2]))[1][0] == 1.0
    assert (cache.hits, cache.misses) == (1, 1)


def test_tables_keep_the_most_recently_used():
    cache = AuditCache()
    built = []

    def build(name):
        return lambda: built.append(name) or name

    for name in ("a", "b", "c"):
        cache.table(name.encode(), build(name))
    assert cache.table(b"a", build("a again")) == "a"  # found: not built again, now the most recent
    cache.table(b"d", build("d"))  # MAX_TABLES = 3: the least recently used ("b") goes
    assert sorted(cache.tables) == [b"a", b"c", b"d"]
    assert built == ["a", "b", "c", "d"]


def test_digests_tell_dtype_shape_and_order_apart():
    a = np.arange(4, dtype=np.int64)
    assert digest([a]) == digest([a.copy()])
    assert digest([a]) != digest([a.astype(np.int32)])
    assert digest([a]) != digest([a.reshape(2, 2)])
    assert digest([a[:2], a[2:]]) != digest([a[2:], a[:2]])
    frame = pd.DataFrame({"unit": ["x", "y"], "value": [1, 2]})
    assert frame_digest(frame) == frame_digest(frame.set_axis([5, 7]))  # the index does not count
    assert frame_digest(frame) != frame_digest(frame.iloc[::-1])
