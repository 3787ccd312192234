"""Combine node contributions into the hierarchy vestiging → schooltype → regio (``combine_cells``).

Sums are exact integer sums (``abs_sum``, the sum of absolute per-child amounts, too). ``top1``/``top2``
at every level are the two largest of the children's ``top1``/``top2`` (absolute amounts, so a large
refund ranks by its size): a child (one pupil) lives in one municipality and attends one school, so
the pooled per-row largest amounts are distinct children and the top two of the pool is exact.
``max_node_value``/``max_node_contributors`` are taken per level from the per-node sums over that
level's unit (a municipality feeding many schools of one type is the insider at the type level).
The ``GEEN`` bucket (no school) is its own schooltype ``GEEN``; codes missing from ``schools`` get
schooltype ``onbekend``. ``regio`` is everything in the round. The frames' columns: frames.py.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from shared.codes import GEEN_SCHOOL

from .frames import (
    COMBINED_COLUMNS, CONTRIBUTION_COLUMNS, CONTRIBUTION_INTS, KEY, LEVELS, REGIO, REGIO_UNIT, SCHOOLTYPE,
    UNKNOWN_SCHOOLTYPE, VESTIGING, shared_objects,
)


def _top_two(gid: np.ndarray, ngroups: int, a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The two largest of the pooled values ``a`` ∪ ``b`` per group id."""
    g = np.concatenate([gid, gid])
    v = np.concatenate([a, b])
    order = np.lexsort((-v, g))
    g, v = g[order], v[order]
    first = np.ones(len(g), dtype=bool)
    first[1:] = g[1:] != g[:-1]
    top1 = np.zeros(ngroups, dtype=np.int64)
    top2 = np.zeros(ngroups, dtype=np.int64)
    top1[g[first]] = v[first]
    idx = np.flatnonzero(first) + 1
    ok = idx < len(g)
    idx = idx[ok]
    same = g[idx] == g[idx - 1]
    top2[g[idx[same]]] = v[idx[same]]
    return top1, top2


def empty_combined() -> pd.DataFrame:
    text = set(KEY) | {"parent"}
    frame = pd.DataFrame({c: pd.Series(dtype="object" if c in text else "int64") for c in COMBINED_COLUMNS})
    return frame


def combine_cells(contributions: pd.DataFrame, schools: pd.DataFrame) -> pd.DataFrame:
    """Sum node cells per vestiging and build the schooltype and regio levels (pure, deterministic)."""
    missing = [c for c in CONTRIBUTION_COLUMNS if c not in contributions.columns]
    if missing:
        raise ValueError(f"contributions lacks columns: {', '.join(missing)}")
    if contributions.empty:
        return empty_combined()
    base = contributions[CONTRIBUTION_COLUMNS].copy()
    for c in ("node", "vestigingscode", "schooljaar", "measure", "category"):
        base[c] = base[c].astype(str)
    for c in CONTRIBUTION_INTS:
        base[c] = base[c].astype("int64")
    types = dict(zip(schools["vestigingscode"].astype(str), schools["schooltype"].astype(str))) if len(schools) else {}
    types[GEEN_SCHOOL] = GEEN_SCHOOL
    base["schooltype"] = base["vestigingscode"].map(types).fillna(UNKNOWN_SCHOOLTYPE).astype(str)

    frames = []
    for level, unit_col in ((VESTIGING, "vestigingscode"), (SCHOOLTYPE, "schooltype"), (REGIO, None)):
        unit = base[unit_col] if unit_col else pd.Series(REGIO_UNIT, index=base.index)
        work = pd.DataFrame({
            "unit": unit.to_numpy(dtype=object), "schooljaar": base["schooljaar"].to_numpy(dtype=object),
            "measure": base["measure"].to_numpy(dtype=object), "category": base["category"].to_numpy(dtype=object),
            "node": base["node"].to_numpy(dtype=object),
        })
        keys = ["unit", "schooljaar", "measure", "category"]
        gid = work.groupby(keys, sort=True).ngroup().to_numpy()
        ngroups = int(gid.max()) + 1
        first_rows = pd.Series(np.arange(len(gid))).groupby(gid).first().to_numpy()
        out = work.iloc[first_rows][keys].reset_index(drop=True)
        vals = {c: base[c].to_numpy() for c in CONTRIBUTION_INTS}
        for c in ("value", "contributors", "negatives", "abs_sum", "legacy_negatives"):
            out[c] = np.bincount(gid, weights=vals[c], minlength=ngroups).round().astype(np.int64)
        out["top1"], out["top2"] = _top_two(gid, ngroups, vals["top1"], vals["top2"])
        # Per-node sums within the unit, then the largest node and the number of nodes.
        node_codes = pd.factorize(work["node"])[0]
        pair = gid.astype(np.int64) * (int(node_codes.max()) + 1) + node_codes
        pair_codes, pair_uniques = pd.factorize(pair)
        pg = (pair_uniques // (int(node_codes.max()) + 1)).astype(np.int64)
        pv = np.bincount(pair_codes, weights=vals["value"]).round().astype(np.int64)
        pc = np.bincount(pair_codes, weights=vals["contributors"]).round().astype(np.int64)
        out["nodes"] = np.bincount(pg, minlength=ngroups).astype(np.int64)
        mv = np.full(ngroups, np.iinfo(np.int64).min, dtype=np.int64)
        np.maximum.at(mv, pg, pv)
        mc = np.full(ngroups, np.iinfo(np.int64).min, dtype=np.int64)
        np.maximum.at(mc, pg, pc)
        out["max_node_value"] = mv
        out["max_node_contributors"] = mc
        out.insert(0, "level", level)
        if level == VESTIGING:
            parent = base["schooltype"].to_numpy(dtype=object)[first_rows]
        else:
            parent = np.full(ngroups, REGIO_UNIT if level == SCHOOLTYPE else "", dtype=object)
        out.insert(5, "parent", parent)
        frames.append(out)
    combined = pd.concat(frames, ignore_index=True)
    combined["_lv"] = combined["level"].map({lv: i for i, lv in enumerate(LEVELS)})
    combined = combined.sort_values(["_lv", "unit", "schooljaar", "measure", "category"], kind="mergesort")
    combined = combined.drop(columns="_lv").reset_index(drop=True)
    for c in COMBINED_COLUMNS[len(KEY) + 1:]:
        combined[c] = combined[c].astype("int64")
    for c in KEY + ["parent"]:
        combined[c] = shared_objects(combined[c])
    return combined[COMBINED_COLUMNS]
