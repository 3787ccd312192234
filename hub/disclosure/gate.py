"""``apply_gate``: primary rules, secondary suppression to a fixed point, the auditor, and the release frame.

Secondary suppression works line by line: for every line (hierarchy column or row) the exact interval
each primarily hidden cell keeps *given that line alone* is computed in closed form (the attacker's
bounds of audit.py: rounding windows, "< threshold", ≥ threshold for other hidden counts, ≥ 0). A line
that narrows a cell below its requirement gets a complementary cell: the published member with the
smallest value (cells hidden in an earlier release first — sticky suppression — then by canonical key).
A cell hidden in an earlier release whose value did not change stays hidden (``earlier_hidden``).
This subsumes "0 or ≥ 2 hidden cells per line" and "the hidden cells of a line sum to ≥ threshold"
(for cost lines: leave every hidden cost cell its p%-protection ``ceil(p% * top1)`` on both sides).
All lines of a release are processed together, so verwijzer and leeftijd (which share
``nieuwe_clienten``) and every hierarchy level reach one common fixed point. The auditor (audit.py) then
checks every primary cell against everything published now and before; a failing cell gets an
``audit_partner`` from its own lines (after two failures: every published cell of its lines), and
both steps repeat until the audit passes or nothing is left to hide. ``GateResult.audit["failed"]``
counts primary cells the auditor could not prove protected: the caller must not publish a release
with ``failed > 0`` (see audit.py for when the block decomposition can produce them).

``apply_gate(..., cache=AuditCache())``: pass the same cache to successive calls for one round
(e.g. after a late submission) and only the audit problems whose inputs changed are solved again.
"""

from __future__ import annotations

import csv
import hashlib
import io
import math
from dataclasses import dataclass, field
from typing import Any, Iterable, Sequence

import numpy as np
import pandas as pd

from shared.codes import CLIENTEN_AANBIEDER, KOSTEN

from .audit import FULL_RANGE, INF, TWO_SIDED, WIDTH, AuditCache, Auditor, World, line_intervals, satisfied
from .config import GateConfig
from .frames import (
    AUDIT_PARTNER, COMBINED_COLUMNS, COMPLEMENTARY, EARLIER_HIDDEN, KEY, NEGATIVE, PRIMARY, PUBLISHED,
    RELEASE_COLUMNS, SECONDARY, THRESHOLD, VESTIGING,
)
from .rules import primary_reasons, round_to, rounding_window
from .tables import NEW_CLIENT_FAMILY, Table, build_table, network_role

TWO_DIM_MEASURES = sorted(NEW_CLIENT_FAMILY | {KOSTEN})

MAX_ROUNDS = 60


@dataclass
class GateResult:
    """The release frame (``RELEASE_COLUMNS``; ``release_bytes`` writes it) and what the auditor checked."""

    release: pd.DataFrame
    audit: dict[str, Any] = field(default_factory=dict)


@dataclass
class _Release:
    """One release as the auditor sees it: catalogue, true values, statuses and reasons."""

    table: Table
    status: np.ndarray
    reason: np.ndarray


def attacker_bounds(cells: pd.DataFrame, status: np.ndarray, config: GateConfig):
    """What a reader knows about each cell's true value (audit.py's attacker model).

    A reader sees a value for a published cell and nothing but "hidden" for any other: not why it is
    hidden, so a hidden count is only known to be >= 0. A hidden cost is >= 0 when it truly is (a reader
    may assume so); only a cost whose true sum is negative is unbounded below.
    """
    value = cells["value"].to_numpy(np.int64)
    is_cost = cells["measure"].to_numpy() == KOSTEN
    published = status == PUBLISHED
    t = config.threshold
    lo = np.zeros(len(cells))
    hi = np.full(len(cells), INF)
    below, above = rounding_window(config.rounding_base)
    r = round_to(value, config.rounding_base)
    m = published & ~is_cost
    lo[m] = np.maximum(r[m] - below, t)
    hi[m] = r[m] + above
    below_c, above_c = rounding_window(config.cost_rounding_eurocent)
    rc = round_to(value, config.cost_rounding_eurocent)
    m = published & is_cost
    lo[m] = np.maximum(rc[m] - below_c, 0)
    hi[m] = rc[m] + above_c
    lo[~published & is_cost & (value < 0)] = -INF
    return lo, hi


def targets(cells: pd.DataFrame, status: np.ndarray, reason: np.ndarray, config: GateConfig):
    """Hidden cells to protect: (mask, kind, required low point, required high point).

    Every hidden cell is a target, not only the primary ones: a reader cannot tell them apart, so a
    partner narrowed to a few values would stand out from the rest (and tell that it is >= threshold).
    A count hidden below the threshold keeps the whole ``[0, threshold-1]``; any other hidden count
    keeps ``threshold`` integers; a hidden cost keeps its p%-protection on both sides.
    """
    n = len(cells)
    value = cells["value"].to_numpy(np.int64).astype(float)
    is_cost = cells["measure"].to_numpy() == KOSTEN
    primary = status != PUBLISHED
    kind = np.zeros(n, dtype=np.int8)
    req_lo = np.zeros(n)
    req_hi = np.zeros(n)
    t = config.threshold
    m = primary & ~is_cost & (reason == THRESHOLD)
    kind[m], req_lo[m], req_hi[m] = FULL_RANGE, 0, t - 1
    m = primary & ~is_cost & (reason != THRESHOLD)
    kind[m], req_lo[m], req_hi[m] = WIDTH, 0, t - 1
    # Cost cells are protected to p% of their largest contribution. For a cell with a negative
    # contribution the nodes' top amounts (positive ones only) say nothing about the refund, so its own
    # size stands in as well: at school level always, above it only when the sum itself is negative.
    # (Its own size at every level would make an aggregate with one refund among thousands of children
    # hide ±p% of a national total, which made national releases unprovable.)
    school_level = cells["level"].to_numpy() == VESTIGING
    own = np.where(school_level, np.abs(value), np.maximum(0, -value))
    top = np.maximum(cells["top1"].to_numpy(np.int64), np.where(reason == NEGATIVE, own, 0)).astype(float)
    protection = np.ceil(config.p_percent * top / 100.0)
    m = primary & is_cost & (protection > 0)
    kind[m], req_lo[m], req_hi[m] = TWO_SIDED, value[m] - protection[m], value[m] + protection[m]
    return kind > 0, kind, req_lo, req_hi


def _joint_codes(tables: Sequence[Table], columns: list[str]) -> list[np.ndarray]:
    """Per table, one int64 code per cell for the tuple of ``columns``, consistent across the tables."""
    sizes = [len(tb.cells) for tb in tables]
    code = np.zeros(sum(sizes), dtype=np.int64)
    for c in columns:
        part, uniques = pd.factorize(np.concatenate([tb.cells[c].to_numpy(dtype=object) for tb in tables]))
        code = code * (len(uniques) + 1) + part
    return np.split(code, np.cumsum(sizes)[:-1])


def _choose(table: Table, candidates: np.ndarray, sticky: np.ndarray, known: np.ndarray | None = None) -> int | None:
    if known is not None:
        candidates = candidates[~known[candidates]]
    if not len(candidates):
        return None
    value = table.cells["value"].to_numpy(np.int64)[candidates]
    order = np.lexsort((candidates, np.abs(value), ~sticky[candidates]))
    return int(candidates[order[0]])


def _secondary(table: Table, status: np.ndarray, reason: np.ndarray, config: GateConfig, sticky: np.ndarray,
               known: np.ndarray | None = None) -> int:
    """Add complementary cells until no single line narrows a primary cell below its requirement."""
    cells = table.cells
    idx, ptr = table.line_idx, table.line_ptr
    line_of = np.repeat(np.arange(table.n_lines), np.diff(ptr))
    added = 0
    dead_lines: set[int] = set()
    while True:
        # A new partner is a target itself (targets): recompute after every pass.
        is_target, kind, req_lo, req_hi = targets(cells, status, reason, config)
        lo, hi = attacker_bounds(cells, status, config)
        ilo, ihi = line_intervals(ptr, idx, table.line_coef, lo, hi)
        member_target = is_target[idx]
        ok = satisfied(kind[idx], req_lo[idx], req_hi[idx], ilo, ihi)
        failing = np.unique(line_of[member_target & ~ok])
        failing = [int(x) for x in failing if int(x) not in dead_lines]
        if not failing:
            return added
        published = status == PUBLISHED
        for line in failing:
            members, _ = table.members(line)
            pick = _choose(table, members[published[members]], sticky, known)
            if pick is None:
                dead_lines.add(line)  # nothing left to hide here; the auditor has the last word
                continue
            if status[pick] == PUBLISHED:
                status[pick] = SECONDARY
                reason[pick] = COMPLEMENTARY
                published[pick] = False
                added += 1


def _table(combined: pd.DataFrame, cache: AuditCache | None) -> Table:
    """``build_table(combined)``, through the cache's tables when there is a cache."""
    if cache is None:
        return build_table(combined)
    hashed = pd.util.hash_pandas_object(combined[COMBINED_COLUMNS], index=False).to_numpy()
    key = hashlib.sha256(hashed.tobytes()).digest()
    return cache.table(key, lambda: build_table(combined))


def _prepare_history(history: Iterable[tuple[pd.DataFrame, pd.DataFrame]], cache: AuditCache | None = None) -> list[_Release]:
    out = []
    for combined, release in history:
        table = _table(combined, cache)
        keyed = release.set_index(KEY)[["status", "reason"]]
        found = keyed.reindex(pd.MultiIndex.from_frame(table.cells[KEY]))
        # A cell the earlier release did not list was not published: treat it as hidden.
        status = found["status"].fillna(SECONDARY).to_numpy(dtype=object)
        reason = found["reason"].fillna(COMPLEMENTARY).to_numpy(dtype=object)
        out.append(_Release(table, status, reason))
    return out


@dataclass
class _Static:
    """What a world needs that does not depend on the statuses: built once per gate call, reused per round."""

    var_of: list[np.ndarray]  # per release: variable of each cell
    arrays: dict[str, np.ndarray]  # per variable: t, key, family, unit, level, parent, column, ...
    line_ptr: np.ndarray
    line_idx: np.ndarray
    line_coef: np.ndarray


def _static_world(tables: Sequence[Table]) -> _Static:
    """Variables over all releases (one per distinct (cell key, true value)) and every release's lines."""
    values, per_cell = [], []
    key_codes = _joint_codes(tables, KEY)
    unit_codes = _joint_codes(tables, ["schooljaar", "level", "unit"])
    column_codes = _joint_codes(tables, ["measure", "category"])
    for i, tb in enumerate(tables):
        cells = tb.cells
        values.append(cells["value"].to_numpy(np.int64))
        lv = cells["level"].to_numpy(dtype=object)
        per_cell.append({
            "family": cells["family"].to_numpy(dtype=object),
            "unit": unit_codes[i],
            "level": cells["level"].map({"vestiging": 0, "schooltype": 1, "regio": 2}).to_numpy(np.int8),
            "parent": cells["parent"].to_numpy(dtype=object),
            "two_dim": cells["measure"].isin(TWO_DIM_MEASURES).to_numpy(),
            "role": network_role(cells["measure"], cells["category"]),
            "column": column_codes[i],
            "type_of": np.where(lv == "vestiging", cells["parent"].to_numpy(dtype=object),
                                np.where(lv == "schooltype", cells["unit"].to_numpy(dtype=object), None)),
        })
    key_code = np.concatenate(key_codes)
    offsets = np.cumsum([0] + [len(v) for v in values])
    if len(tables) == 1:
        var_of = [np.arange(len(values[0]))]
        n_vars = len(values[0])
    else:
        var = pd.DataFrame({"k": key_code, "v": np.concatenate(values)}).groupby(["k", "v"], sort=True).ngroup().to_numpy()
        n_vars = int(var.max()) + 1 if len(var) else 0
        # Number the variables in order of first appearance: the current release's cells first, in their
        # canonical order. A problem then has the same inputs with or without history, and the audit
        # cache's digests of a late submission match those of the run before it.
        remap = np.empty(n_vars, dtype=np.int64)
        remap[pd.unique(var)] = np.arange(n_vars)
        var = remap[var]
        var_of = [var[offsets[i]:offsets[i + 1]] for i in range(len(tables))]
    arrays = {"t": np.zeros(n_vars), "key": np.zeros(n_vars, dtype=np.int64), "releases": np.zeros(n_vars, dtype=np.int64)}
    for name, sample in per_cell[0].items():
        arrays[name] = np.empty(n_vars, dtype=sample.dtype)
    for i in reversed(range(len(tables))):  # the current release (index 0) writes last
        v = var_of[i]
        arrays["t"][v] = values[i]
        arrays["key"][v] = key_code[offsets[i]:offsets[i + 1]]
        arrays["releases"][v] += 1
        for name, col in per_cell[i].items():
            arrays[name][v] = col
    # A cell whose school changed type between releases sits in different column lines in each: it
    # must not be a free arc of one type's network (flows.py), so it counts as changed.
    moved = np.zeros(n_vars, dtype=bool)
    parent_code = pd.factorize(np.concatenate([pc["parent"] for pc in per_cell]))[0]
    final_parent = np.zeros(n_vars, dtype=np.int64)
    for i in reversed(range(len(tables))):
        final_parent[var_of[i]] = parent_code[offsets[i]:offsets[i + 1]]
    for i in range(len(tables)):
        moved[var_of[i]] |= final_parent[var_of[i]] != parent_code[offsets[i]:offsets[i + 1]]
    for name in ("family", "unit", "parent", "column", "type_of"):
        arrays[name] = pd.factorize(arrays[name])[0]
    arrays["in_all"] = (arrays.pop("releases") == len(tables)) & ~moved
    ptrs, idxs, coefs = [np.zeros(1, dtype=np.int64)], [], []
    for i, tb in enumerate(tables):
        ptrs.append(tb.line_ptr[1:] + ptrs[-1][-1])
        idxs.append(var_of[i][tb.line_idx])
        coefs.append(tb.line_coef)
    return _Static(var_of=var_of, arrays=arrays, line_ptr=np.concatenate(ptrs),
                   line_idx=np.concatenate(idxs) if idxs else np.zeros(0, np.int64),
                   line_coef=np.concatenate(coefs) if coefs else np.zeros(0, np.int8))


def _world(releases: Sequence[_Release], config: GateConfig, static: _Static | None = None
           ) -> tuple[World, np.ndarray]:
    """The auditor's world for these statuses; ``static`` (from ``_static_world``) saves rebuilding the rest."""
    if static is None:
        static = _static_world([rel.table for rel in releases])
    a = static.arrays
    n_vars = len(a["t"])
    lo = np.full(n_vars, -INF)
    hi = np.full(n_vars, INF)
    tvars, tkinds, tlos, this, origins = [], [], [], [], []
    shown = np.zeros(n_vars, dtype=bool)  # published in some release: its value is no secret
    for i, rel in enumerate(releases):
        shown[static.var_of[i][rel.status == PUBLISHED]] = True
    for i, rel in enumerate(releases):
        v = static.var_of[i]
        rlo, rhi = attacker_bounds(rel.table.cells, rel.status, config)
        np.maximum.at(lo, v, rlo)
        np.minimum.at(hi, v, rhi)
        m, k, rq_lo, rq_hi = targets(rel.table.cells, rel.status, rel.reason, config)
        # A partner whose value another release published protects nothing and needs no protection.
        m &= ~((rel.status != PRIMARY) & shown[v])
        c = np.flatnonzero(m)
        tvars.append(v[c])
        tkinds.append(k[c])
        tlos.append(rq_lo[c])
        this.append(rq_hi[c])
        origins.append(np.column_stack([np.full(len(c), i), c]))
    # Targets: the current release's first, then earlier releases' not already covered.
    tv = np.concatenate(tvars) if tvars else np.zeros(0, np.int64)
    _, first = np.unique(tv, return_index=True)
    first = np.sort(first)
    origin_arr = np.concatenate(origins)[first] if origins else np.zeros((0, 2), np.int64)
    world = World(
        t=a["t"], lo=lo, hi=hi, family=a["family"], unit=a["unit"], level=a["level"], parent=a["parent"],
        key=a["key"], two_dim=a["two_dim"], role=a["role"], column=a["column"],
        in_all=a["in_all"], type_of=a["type_of"],
        line_ptr=static.line_ptr, line_idx=static.line_idx, line_coef=static.line_coef,
        target_var=tv[first].astype(np.int64), target_kind=np.concatenate(tkinds)[first].astype(np.int8),
        req_lo=np.concatenate(tlos)[first].astype(float), req_hi=np.concatenate(this)[first].astype(float),
    )
    return world, origin_arr


def apply_gate(combined: pd.DataFrame, config: GateConfig, history: Sequence[tuple[pd.DataFrame, pd.DataFrame]] = (),
               cache: AuditCache | None = None) -> GateResult:
    """Protect ``combined``; pure and deterministic. ``cache`` (optional) reuses audit blocks across calls."""
    table = _table(combined, cache)
    cells = table.cells
    reason = primary_reasons(cells, config)
    status = np.where(reason != "", PRIMARY, PUBLISHED).astype(object)
    earlier = _prepare_history(history, cache)
    cur_keys = pd.MultiIndex.from_frame(cells[KEY])
    sticky = np.zeros(len(cells), dtype=bool)
    known = np.zeros(len(cells), dtype=bool)  # published earlier with this value: useless as a partner
    value = cells["value"].to_numpy(np.int64)
    for rel in earlier:
        shown = rel.table.cells.loc[rel.status == PUBLISHED, KEY + ["value"]]
        pos = cur_keys.get_indexer(pd.MultiIndex.from_frame(shown[KEY]))
        found = pos >= 0
        known[pos[found][value[pos[found]] == shown["value"].to_numpy(np.int64)[found]]] = True
        hidden = rel.table.cells.loc[rel.status != PUBLISHED, KEY + ["value"]]
        pos = cur_keys.get_indexer(pd.MultiIndex.from_frame(hidden[KEY]))
        found = pos >= 0
        sticky[pos[found]] = True
        # Once hidden, hidden while it holds the same value: showing it now would tell a reader of the
        # earlier release which of its hidden cells was a partner, and what it held.
        same = pos[found][value[pos[found]] == hidden["value"].to_numpy(np.int64)[found]]
        keep = same[status[same] == PUBLISHED]
        status[keep] = SECONDARY
        reason[keep] = EARLIER_HIDDEN
    primary_counts = pd.Series(reason[reason != ""]).value_counts().sort_index().to_dict()

    # Rounds of partner-adding re-solve only the blocks they changed: a cache scoped to this call
    # when the caller keeps none.
    audit_cache = cache if cache is not None else AuditCache()
    static = _static_world([table] + [rel.table for rel in earlier])
    rounds = 0
    lps_total = 0
    complementary = 0
    partners = 0
    attempts: dict[int, int] = {}
    stats = None
    while True:
        rounds += 1
        complementary += _secondary(table, status, reason, config, sticky, known)
        releases = [_Release(table, status, reason)] + earlier
        world, origin = _world(releases, config, static)
        auditor = Auditor(world, audit_cache)
        auditor.run()
        stats = auditor.stats
        lps_total += stats.lps_solved
        if not stats.failed or rounds >= MAX_ROUNDS:
            break
        added = 0
        for pos in stats.failed:
            rel_i, c = (int(x) for x in origin[pos])
            key = tuple(releases[rel_i].table.cells.loc[c, KEY]) if rel_i else None
            cur = c if rel_i == 0 else int(cur_keys.get_indexer(pd.MultiIndex.from_tuples([key]))[0])
            if cur < 0:
                continue
            attempts[cur] = attempts.get(cur, 0) + 1
            added += _audit_partner(table, status, reason, sticky, known, cur, everything=attempts[cur] > 2)
        partners += added
        if not added:
            break

    published = status == PUBLISHED
    release = _release_frame(cells, status, reason, published, config)
    audit = stats.to_dict() if stats is not None else {}
    audit.update({
        "rounds": rounds,
        "lps_solved_all_rounds": int(lps_total),
        "primary": {str(k): int(v) for k, v in primary_counts.items()},
        "complementary": int(complementary),
        "audit_partners": int(partners),
        "cells": int(len(cells)),
        "published": int(published.sum()),
        "history_releases": len(earlier),
        "cache_entries": len(cache) if cache is not None else 0,
    })
    return GateResult(release=release, audit=audit)


def _audit_partner(table: Table, status, reason, sticky, known, cell: int, everything: bool) -> int:
    """Hide the cheapest published cell of ``cell``'s lines (all of them after repeated failures).

    Cells an earlier release published with the same value (``known``) are never picked: hiding them
    protects nothing.
    """
    lines = table.lines_of(cell)
    members = np.unique(np.concatenate([table.members(int(ln))[0] for ln in lines])) if len(lines) else np.zeros(0, np.int64)
    published = status == PUBLISHED
    usable = published & ~known
    candidates = members[usable[members]]
    if not len(candidates):
        # Second ring: lines of the hidden cells that share a line with this one.
        ring = [table.members(int(ln))[0] for m in members if not published[m] for ln in table.lines_of(int(m))]
        if ring:
            members2 = np.unique(np.concatenate(ring))
            candidates = members2[usable[members2]]
    if not len(candidates):
        return 0
    if not everything:
        candidates = [_choose(table, candidates, sticky, known)]
    for p in candidates:
        status[p] = SECONDARY
        reason[p] = AUDIT_PARTNER
    return len(candidates)


def _release_frame(cells: pd.DataFrame, status, reason, published, config: GateConfig) -> pd.DataFrame:
    value = cells["value"].to_numpy(np.int64)
    is_cost = cells["measure"].to_numpy() == KOSTEN
    shown = np.where(is_cost, round_to(value, config.cost_rounding_eurocent), round_to(value, config.rounding_base))
    frame = cells[KEY].copy()
    frame["status"] = status.astype(object)
    frame["value"] = pd.array(np.where(published, shown, 0), dtype="Int64")
    frame.loc[~published, "value"] = pd.NA
    frame["reason"] = np.where(published, "", reason).astype(object)
    frame["flags"] = ""  # kept in the frame's columns; the gate publishes no flag (a flag is information)
    # A hidden provider cell would still say "this provider served a pupil here": leave it out.
    listed = published | (cells["measure"].to_numpy() != CLIENTEN_AANBIEDER)
    return frame[listed].reset_index(drop=True)


def release_bytes(release_frame: pd.DataFrame) -> bytes:
    """Canonical CSV (UTF-8, ``\\n``, header, rows sorted by key, integers only, empty = no value)."""
    frame = release_frame[RELEASE_COLUMNS]
    cols = [frame[c].astype(str).tolist() for c in KEY + ["status"]]
    value = pd.to_numeric(frame["value"], errors="coerce")
    shown = [str(int(v)) if ok else "" for v, ok in zip(value.fillna(0).to_numpy(), value.notna().to_numpy())]
    extra = [["" if (x is None or x is pd.NA or (isinstance(x, float) and math.isnan(x)) or x == "") else str(x)
              for x in frame[c].tolist()] for c in ("reason", "flags")]
    rows = sorted(zip(*cols, shown, *extra))
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow(RELEASE_COLUMNS)
    writer.writerows(rows)
    return buf.getvalue().encode("utf-8")
