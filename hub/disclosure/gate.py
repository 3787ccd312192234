"""``apply_gate``: primary rules, secondary suppression to a fixed point, the auditor, and the release frame.

Secondary suppression works line by line: for every line (hierarchy column or row) the exact interval
each hidden cell keeps *given that line alone* is computed in closed form (trees.py's ``line_intervals``
over world.py's ``attacker_bounds``: rounding windows for published cells, ≥ 0 for hidden ones). A line
that narrows a cell below its requirement gets a complementary cell: the published member with the
smallest value (cells hidden in an earlier release first — sticky suppression — then by canonical key).
A cell hidden in an earlier release whose value did not change stays hidden (``earlier_hidden``).
This subsumes "0 or ≥ 2 hidden cells per line" (for cost lines: leave every hidden cost cell its
p%-protection ``ceil(p% * top1)`` on both sides, top1 the largest absolute per-child amount). The hidden
cells of a line taken together are checked apart (``_small_unions``): when they all sit on one side, a
reader derives their sum, which must pass the threshold (and, for costs, the p% rule) like a cell.
All lines of a release are processed together, so verwijzer and leeftijd (which share
``nieuwe_clienten``) and every hierarchy level reach one common fixed point. The auditor (audit.py, on
the world that world.py builds) then checks every hidden cell against everything published now and
before; a failing cell gets an ``audit_partner`` from its own lines (after two failures: every
published cell of its lines), and both steps repeat until the audit passes or nothing is left to hide.
A hidden count the audit cannot show reaching 0 is *revealed* (world.py's ``targets``) for the next
rounds; a partner drops the reveals of its unit, which the next round finds again where they still hold
(``_reset_reveals``).
``GateResult.audit["failed"]`` counts hidden cells the auditor could not prove protected: the caller
must not publish a release with ``failed > 0`` (see audit.py for when the block decomposition can
produce them).

``apply_gate(..., cache=AuditCache())``: pass the same cache to successive calls for one round
(e.g. after a late submission) and only the audit problems whose inputs changed are solved again.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import math
from dataclasses import dataclass, field
from typing import Any, Iterable, Sequence

import numpy as np
import pandas as pd

from shared.codes import (
    CLIENTEN, CLIENTEN_AANBIEDER, CLIENTEN_VERGELEKEN, JEUGDHULP_ZONDER_ONDERSTEUNING, KOSTEN, OVERLAP_MEASURES,
)

from . import lps
from .audit import Auditor, Provenance, narrowed
from .cache import AuditCache, frame_digest
from .config import GateConfig
from .frames import (
    AUDIT_PARTNER, COMBINED_COLUMNS, COMPLEMENTARY, EARLIER_HIDDEN, KEY, LEVELS, LINKED_COUNT, PRIMARY, PUBLISHED,
    RELEASE_COLUMNS,
    SECONDARY,
    THRESHOLD,
)
from .rules import linked_count_index, primary_reasons, round_to
from .coverage import NOT_COMPARED
from .overlap import OVERLAP
from .tables import DEFAULT_CATALOGUE, Catalogue, Table, build_table
from .trees import line_intervals
from .world import FULL_RANGE, ReleaseState, attacker_bounds, build_world, satisfied, static_world, targets

MAX_ROUNDS = 60
#: The measures of a unit's overlap rows (tables.py): a failing one may take a partner from any of them.
UNIT_ROW_MEASURES = frozenset(OVERLAP_MEASURES) | {CLIENTEN, NOT_COMPARED}


@dataclass
class GateResult:
    """The release frame (``RELEASE_COLUMNS``; ``release_bytes`` writes it) and what the auditor checked."""

    release: pd.DataFrame
    audit: dict[str, Any] = field(default_factory=dict)
    #: The cells (level, unit, schooljaar, measure, category) the auditor could not prove, of any
    #: release it checked; empty when ``audit["failed"]`` is 0. Not part of the release.
    unproven: list[tuple] = field(default_factory=list)


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
    linked = linked_count_index(cells)
    has_link = linked >= 0
    while True:
        # A hidden count hides the cost of the same children, whatever hid the count: a published
        # cost next to a hidden count would tell that the count is a partner (>= threshold), not small.
        follow = has_link & (status == PUBLISHED)
        follow[follow] = status[linked[follow]] != PUBLISHED
        status[follow], reason[follow] = SECONDARY, LINKED_COUNT
        added += int(follow.sum())
        # A new partner is a target itself (targets): recompute after every pass.
        is_target, kind, req_lo, req_hi = targets(cells, status, reason, config)
        lo, hi = attacker_bounds(cells, status, config)
        ilo, ihi = line_intervals(ptr, idx, table.line_coef, lo, hi)
        member_target = is_target[idx]
        ok = satisfied(kind[idx], req_lo[idx], req_hi[idx], ilo, ihi)
        failing = np.unique(np.concatenate([line_of[member_target & ~ok], _small_unions(table, status, config)]))
        failing = [int(x) for x in failing if int(x) not in dead_lines]
        if not failing and not follow.any():
            return added
        published = status == PUBLISHED
        for line in failing:
            members, coef = table.members(line)
            shown = published[members]
            # Widen a small union of hidden parts with a part (a nonzero one) before the line's total.
            hidden_side = coef[~shown]
            side = shown & (coef == hidden_side[0]) if len(hidden_side) and (hidden_side == hidden_side[0]).all() else shown
            nonzero = table.cells["value"].to_numpy(np.int64)[members] != 0
            pick = _choose(table, members[side & nonzero], sticky, known) if (side & nonzero).any() else None
            if pick is None:
                pick = _choose(table, members[shown], sticky, known)
            if pick is None:
                dead_lines.add(line)  # nothing left to hide here; the auditor has the last word
                continue
            if status[pick] == PUBLISHED:
                status[pick] = SECONDARY
                reason[pick] = COMPLEMENTARY
                published[pick] = False
                added += 1


def _small_unions(table: Table, status: np.ndarray, config: GateConfig) -> np.ndarray:
    """Lines whose hidden cells, taken together, would be a small group.

    When every hidden cell of a line is on one side of it (parts, or the total alone), a reader derives
    their sum from the published ones: a group of cells as good as published. Per cell the auditor's
    intervals can all be wide while that sum is narrow ("these four school types together have 1 to 9
    children"); so the union must pass the primary rules a published cell passes: a count union is at
    least the threshold (0 too is widened: a reader who knows the rule would read a union the published
    cells keep below the threshold as exactly 0); a cost union has at least the threshold of contributors and passes the p%
    rule (on absolute amounts), with its largest per-child amount bounded from above (the largest of the
    members' at different units, their sum within one unit, where a child can be in several). Lines with
    an overlap variable (inequalities, overlap.py) form no sum of children and are skipped.
    """
    cells = table.cells
    idx, ptr, coef = table.line_idx, table.line_ptr, table.line_coef
    n_lines = table.n_lines
    if not n_lines:
        return np.zeros(0, np.int64)
    line_of = np.repeat(np.arange(n_lines), np.diff(ptr))
    hidden = status[idx] != PUBLISHED
    measure = cells["measure"].to_numpy()[idx]
    has_overlap = np.bincount(line_of, weights=measure == OVERLAP, minlength=n_lines) > 0
    pos = np.bincount(line_of, weights=hidden & (coef > 0), minlength=n_lines)
    neg = np.bincount(line_of, weights=hidden & (coef < 0), minlength=n_lines)
    one_sided = ((pos >= 2) & (neg == 0) | (neg >= 2) & (pos == 0)) & ~has_overlap
    if not one_sided.any():
        return np.zeros(0, np.int64)
    value = cells["value"].to_numpy(np.int64)[idx]
    union = np.bincount(line_of, weights=np.where(hidden, value, 0), minlength=n_lines)
    is_cost = np.bincount(line_of, weights=measure == KOSTEN, minlength=n_lines) > 0
    small_count = one_sided & ~is_cost & (union < config.threshold)
    out = list(np.flatnonzero(small_count))
    t = config.threshold
    cost_lines = np.flatnonzero(one_sided & is_cost)
    if not len(cost_lines):
        return np.array(out, dtype=np.int64)
    cols = {c: cells[c].to_numpy(np.int64) for c in ("contributors", "top1", "top2", "abs_sum")}
    unit = cells["unit_id"].to_numpy()  # (school year, level, unit)
    for line in cost_lines:
        s, e = ptr[line], ptr[line + 1]
        m = idx[s:e][hidden[s:e]]
        if value[s:e][hidden[s:e]].sum() == 0:
            continue
        contributors, top1, top2, abs_sum = (cols[c][m] for c in ("contributors", "top1", "top2", "abs_sum"))
        one_unit = len(np.unique(unit[m])) == 1
        if one_unit:  # a child can have several care types: fewest children and largest amount bounded
            n_children = int(contributors.max())
            first, second = int(top1.sum()), 0
        else:
            n_children = int(contributors.sum())
            ranked = np.sort(np.concatenate([top1, top2]))[::-1]
            first, second = int(ranked[0]), int(ranked[1]) if len(ranked) > 1 else 0
        rest = int(abs_sum.sum()) - first - second
        if n_children < t or 100 * rest < config.p_percent * first:
            out.append(int(line))
    return np.array(out, dtype=np.int64)


def _table(combined: pd.DataFrame, cache: AuditCache | None, catalogue: Catalogue = DEFAULT_CATALOGUE) -> Table:
    """``build_table(combined, catalogue)``, through the cache's tables when there is a cache."""
    if cache is None:
        return build_table(combined, catalogue)
    key = frame_digest(combined[COMBINED_COLUMNS]) + catalogue_digest(catalogue)
    return cache.table(key, lambda: build_table(combined, catalogue))


def catalogue_digest(catalogue: Catalogue) -> bytes:
    data = json.dumps({"groupings": catalogue.groupings.to_dict(), "consortia": dict(sorted(catalogue.consortia.items()))},
                      sort_keys=True).encode()
    return hashlib.sha256(data).digest()


def _prepare_history(history: Iterable[tuple[pd.DataFrame, pd.DataFrame]], config: GateConfig | None = None,
                     cache: AuditCache | None = None, catalogue: Catalogue = DEFAULT_CATALOGUE) -> list[ReleaseState]:
    """Each earlier release as the auditor sees it: its catalogue, and per cell the status and reason it
    was published with. A release lists no hidden provider cell and no overlap variable
    (``_release_frame``): those get the primary reason the rules give them (``provider_aggregate``,
    ``threshold``, ...), so each keeps exactly the requirement it had, or none; an unlisted cell the rules
    pass was a partner."""
    config = config or GateConfig()
    out = []
    for combined, release in history:
        table = _table(combined, cache, catalogue)
        keyed = release.set_index(KEY)[["status", "reason"]]
        found = keyed.reindex(pd.MultiIndex.from_frame(table.cells[KEY]))
        listed = found["status"].notna().to_numpy()
        status = found["status"].to_numpy(dtype=object).copy()
        reason = found["reason"].to_numpy(dtype=object).copy()
        if (~listed).any():
            primary = primary_reasons(table.cells, config)[~listed]
            status[~listed] = np.where(primary != "", PRIMARY, SECONDARY)
            reason[~listed] = np.where(primary != "", primary, COMPLEMENTARY)
        out.append(ReleaseState(table, status, reason, np.zeros(len(table.cells), dtype=bool)))
    return out


def _carried(certified: tuple[np.ndarray, ...], provenance: Provenance, before, after
             ) -> tuple[np.ndarray, ...] | None:
    """What the rounds before ``after`` certified that still holds in it.

    Between rounds a reveal narrows boxes: the revealed count's (≥ threshold) and whatever follows from
    it (a revealed provider would raise its unit's ``clienten`` floor, world.py's ``provider_floors``;
    defensive, as without consortium cells a hidden provider cell always reaches 0 and is never
    revealed today); a partner only widens a box. An end whose point may lie outside a narrowed box
    goes stale (audit.py's ``Provenance.stale``), every other end carries over. With
    ``lps.CARRY_WITNESSES`` off (the reference) every end in a narrowed variable's family goes stale.
    None (``narrowed`` found the worlds not sharing their variables, a bug within one gate call): start
    afresh, which is always sound.
    """
    change = narrowed(before, after)
    if change is None:
        return None
    changed, lo, hi = change
    if not len(changed):
        return certified
    if lps.CARRY_WITNESSES:
        stale = provenance.stale(after, changed, lo, hi)
        # An end without a recorded problem (none in the gate's loop; an Auditor given a bare prior) is stale.
        lo_stale = (certified[2] < 0) | stale[np.maximum(certified[2], 0)]
        hi_stale = (certified[3] < 0) | stale[np.maximum(certified[3], 0)]
    else:
        lo_stale = hi_stale = np.isin(after.family, np.unique(after.family[changed]))
    return (np.where(lo_stale, np.inf, certified[0]), np.where(hi_stale, -np.inf, certified[1]),
            np.where(lo_stale, -1, certified[2]), np.where(hi_stale, -1, certified[3]))


def apply_gate(combined: pd.DataFrame, config: GateConfig, history: Sequence[tuple[pd.DataFrame, pd.DataFrame]] = (),
               cache: AuditCache | None = None, catalogue: Catalogue = DEFAULT_CATALOGUE) -> GateResult:
    """Protect ``combined``; pure and deterministic. ``cache`` (optional) reuses audit blocks across calls;
    ``catalogue`` gives the groupings and the provider → consortium table (tables.py).

    The rounds drop the reveals a partner makes stale (``_reset_reveals``). That takes the partner search
    another way, which can end where no partner is left for a cell the way that keeps reveals would have
    passed (on generated corrections, about as often as the other way round). So when the first way leaves
    cells unproven, the gate is run again keeping every reveal, and the run with fewer unproven cells is
    the result (``audit["reveals_kept"]``). Either run is sound on its own: each ends on its own audit.
    """
    result = _gate(combined, config, history, cache, catalogue, reset_reveals=True)
    if result.audit.get("failed"):
        kept = _gate(combined, config, history, cache, catalogue, reset_reveals=False)
        if kept.audit["failed"] < result.audit["failed"]:
            kept.audit["reveals_kept"] = True
            return kept
    return result


def _gate(combined: pd.DataFrame, config: GateConfig, history: Sequence[tuple[pd.DataFrame, pd.DataFrame]],
          cache: AuditCache | None, catalogue: Catalogue, reset_reveals: bool) -> GateResult:
    table = _table(combined, cache, catalogue)
    cells = table.cells
    reason = primary_reasons(cells, config)
    status = np.where(reason != "", PRIMARY, PUBLISHED).astype(object)
    earlier = _prepare_history(history, config, cache, catalogue)
    cur_keys = pd.MultiIndex.from_frame(cells[KEY])
    sticky = np.zeros(len(cells), dtype=bool)
    # Useless as a partner: published earlier with this value, or pinned (a reader knows its value from
    # the overlap figures, tables.py's ``known_bounds``, and the auditor holds it there).
    known = cells["pinned"].to_numpy(bool).copy() if "pinned" in cells.columns else np.zeros(len(cells), dtype=bool)
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
    static = static_world([table] + [rel.table for rel in earlier])
    rounds = 0
    lps_total = 0
    complementary = 0
    partners = 0
    attempts: dict[int, int] = {}
    stats = None
    certified = None  # per variable: what earlier rounds proved (``_carried`` keeps what still holds)
    provenance = Provenance()  # which problem proved each end of ``certified``
    revealed = np.zeros(len(cells), dtype=bool)  # this release's hidden counts a reader knows are ≥ t
    unrevealed = 0
    prev_world = None
    while True:
        rounds += 1
        complementary += _secondary(table, status, reason, config, sticky, known)
        releases = [ReleaseState(table, status, reason, revealed)] + earlier
        world, origin = build_world(releases, config, static)
        if certified is not None:
            certified = _carried(certified, provenance, prev_world, world)
        auditor = Auditor(world, audit_cache, prior=certified, provenance=provenance)
        auditor.run()
        certified = auditor.certified
        prev_world = world
        stats = auditor.stats
        lps_total += stats.lps_solved
        if not stats.failed or rounds >= MAX_ROUNDS:
            break
        # A hidden count of at least t that cannot reach 0 is revealed as such (world.py's ``targets``):
        # the next round grants the reader that it is ≥ t and asks its width above that. Its box
        # shrinks, and so may others with it (``_carried`` finds them all in the next round's world).
        newly, still = [], []
        for pos in stats.failed:
            rel_i, c = (int(x) for x in origin[pos])
            state = releases[rel_i]
            if (world.target_kind[pos] == FULL_RANGE and state.revealed is not None and not state.revealed[c]
                    and state.reason[c] != THRESHOLD and state.status[c] != PUBLISHED):
                state.revealed[c] = True
                newly.append(int(world.target_var[pos]))
            else:
                still.append(pos)
        # The other failing targets get partners in the same round.
        added = 0
        failing: list[int] = []
        for pos in still:
            rel_i, c = (int(x) for x in origin[pos])
            key = tuple(releases[rel_i].table.cells.loc[c, KEY]) if rel_i else None
            cur = c if rel_i == 0 else int(cur_keys.get_indexer(pd.MultiIndex.from_tuples([key]))[0])
            if cur >= 0:
                failing.append(cur)
        # A cell whose hierarchy total fails too is bounded through that total (e.g. every school's cell
        # of a category by a narrow type cell): give the total its partner first, and only then, if
        # still needed, the cell itself. When no total could take a partner (its lines have no published
        # cell left), the cells themselves get theirs this round: deferring them would end the loop.
        first = _without_failing_parents(table, failing)
        was_published = status == PUBLISHED
        for group in (first, sorted(set(failing) - set(first))):
            for cur in group:
                attempts[cur] = attempts.get(cur, 0) + 1
                added += _audit_partner(table, status, reason, sticky, known, cur, everything=attempts[cur] > 2)
            if added:
                break
        partners += added
        # A partner widens boxes: the reveals of its unit may be stale (``_reset_reveals``).
        if reset_reveals:
            unrevealed += _reset_reveals(releases, table, np.flatnonzero((status != PUBLISHED) & was_published))
        if not added and not newly:
            break

    # What only the rounds needed goes before the release frame is built: at national scale the problems'
    # records and their points (``Provenance``), the last world and, without a caller's cache, this
    # call's are a few hundred MiB.
    del auditor, provenance, certified, prev_world, world, audit_cache
    published = status == PUBLISHED
    release = _release_frame(cells, status, reason, published, config)
    audit = stats.to_dict() if stats is not None else {}
    audit.update({
        "rounds": rounds,
        "lps_solved_all_rounds": int(lps_total),
        "primary": {str(k): int(v) for k, v in primary_counts.items()},
        "complementary": int(complementary),
        "audit_partners": int(partners),
        "revealed": int(sum(int(r.revealed.sum()) for r in releases if r.revealed is not None)),
        "unrevealed": int(unrevealed),
        "cells": int(len(cells)),
        "published": int(published.sum()),
        "history_releases": len(earlier),
        "cache_entries": len(cache) if cache is not None else 0,
    })
    unproven = []
    if stats is not None and stats.failed:
        for pos in stats.failed:
            rel_i, c = (int(x) for x in origin[pos])
            unproven.append(tuple(releases[rel_i].table.cells.loc[c, KEY]))
    return GateResult(release=release, audit=audit, unproven=unproven)


def _reset_reveals(releases: Sequence[ReleaseState], table: Table, partners: np.ndarray) -> int:
    """Un-reveal the revealed counts of the units that just got a partner (``partners``, positions in
    ``table``, this release's); the number un-revealed.

    A reveal holds for the world it was found in. A partner widens boxes, so a count revealed before it
    may reach 0 again: a school's "support only" revealed while its compared clients were published can
    reach 0 once they are hidden, and kept revealed it would only make the auditor's reader stronger than
    any reader of the final publication (sound, but it costs the cells of its lines: there, "both" and
    "care only" of the school, unprovable). A partner mostly frees the cells of its own unit, so those
    reveals go; the next round reveals again what still cannot reach 0. Un-revealing widens a box, which
    stales no certified end (each is the target's value at a point that stays feasible), and the count's
    target is again to reach 0. The loop ends only on an audit that passes with the reveals it then
    holds, so every count that audit does not reveal reaches 0 given those that it does: a reader of the
    final publication, who reveals step by step from nothing, reveals no count outside that set.
    Partners only grow, so the loop still ends.
    """
    if not len(partners):
        return 0
    cells = table.cells
    units = set(zip(cells["level"].to_numpy(dtype=object)[partners], cells["unit"].to_numpy(dtype=object)[partners]))
    dropped = 0
    for state in releases:
        if state.revealed is None or not state.revealed.any():
            continue
        rc = state.table.cells
        at = np.flatnonzero(state.revealed)
        pairs = zip(rc["level"].to_numpy(dtype=object)[at], rc["unit"].to_numpy(dtype=object)[at])
        drop = at[np.fromiter(((lv, u) in units for lv, u in pairs), dtype=bool, count=len(at))]
        state.revealed[drop] = False
        dropped += len(drop)
    return dropped


def _without_failing_parents(table: Table, failing: list[int]) -> list[int]:
    """The failing cells whose parent cell (same measure and category one level up) is not failing."""
    if not failing:
        return []
    cells = table.cells
    fail = np.array(sorted(set(failing)), dtype=np.int64)
    sub = cells.iloc[fail]
    lv = sub["level"].to_numpy(dtype=object)
    parent_level = np.where(lv == LEVELS[0], LEVELS[1], LEVELS[2])
    pkey = pd.MultiIndex.from_arrays([parent_level, sub["parent"].to_numpy(dtype=object), sub["schooljaar"].to_numpy(),
                                      sub["measure"].to_numpy(), sub["category"].to_numpy()])
    parent = pd.MultiIndex.from_frame(cells[KEY]).get_indexer(pkey)
    has_failing_parent = (lv != LEVELS[2]) & np.isin(parent, fail)
    return [int(c) for c in fail[~has_failing_parent]]


def _audit_partner(table: Table, status, reason, sticky, known, cell: int, everything: bool) -> int:
    """Hide the cheapest published cell of ``cell``'s lines (all of them after repeated failures).

    Cells an earlier release published with the same value, and pinned cells (``known``), are never
    picked: hiding them protects nothing.
    """
    lines = table.lines_of(cell)
    members = np.unique(np.concatenate([table.members(int(ln))[0] for ln in lines])) if len(lines) else np.zeros(0, np.int64)
    cells = table.cells
    if cells["measure"].iloc[cell] == NOT_COMPARED:
        # A small group of clients not compared is told by the clients less the compared ones: widen the
        # compared side by the care-only figure first, so "both" and "support only" can stay.
        unit = cells["unit_id"].to_numpy()
        care = np.flatnonzero((unit == unit[cell]) & cells["measure"].isin(
            [CLIENTEN_VERGELEKEN, JEUGDHULP_ZONDER_ONDERSTEUNING]).to_numpy())
        if (status[care] == PUBLISHED).any() and not everything:
            members = care
    if everything and cells["measure"].iloc[cell] in UNIT_ROW_MEASURES:
        # The overlap figures' rows bind a unit's support and clients (tables.py): a bound can run through
        # any of them (support only ≥ support − clients), so every one of the unit's is a candidate.
        unit = cells["unit_id"].to_numpy()
        same = np.flatnonzero((unit == unit[cell]) & cells["measure"].isin(UNIT_ROW_MEASURES).to_numpy())
        members = np.union1d(members, same)
    published = status == PUBLISHED
    usable = published & ~known
    candidates = members[usable[members]]
    ring_pick = None
    if not len(candidates):
        # Second ring: lines of the hidden cells that share a line with this one.
        ring = [table.members(int(ln))[0] for m in members if not published[m] for ln in table.lines_of(int(m))]
        if ring:
            members2 = np.unique(np.concatenate(ring))
            candidates = members2[usable[members2]]
            if len(candidates) and not everything:
                ring_pick = _ring_partner(table, candidates, members2, cell, usable, sticky, known)
    if not len(candidates):
        return 0
    if not everything:
        candidates = [ring_pick if ring_pick is not None else _choose(table, candidates, sticky, known)]
    for p in candidates:
        status[p] = SECONDARY
        reason[p] = AUDIT_PARTNER
    return len(candidates)


def _ring_partner(table: Table, candidates: np.ndarray, ring: np.ndarray, cell: int, usable, sticky, known) -> int | None:
    """The second ring's partner for ``cell``: one that can move.

    A cell whose own lines have nothing left to hide (its neighbours hidden, pinned or published
    earlier) is bound through a hidden neighbour's other lines, e.g. a school's support through its
    type's total, which the regio total and the other types' totals fix. A partner there helps only if
    it can move itself: every line of it outside the ring holds another hidden cell a reader cannot
    pin. Such a partner comes first, of the failing cell's own measure and category first (the same
    hierarchy), then the cheapest as ``_choose`` ranks them; None when none can move.
    """
    cells = table.cells
    free = np.zeros(len(candidates), dtype=bool)
    in_ring = np.zeros(len(cells), dtype=bool)
    in_ring[ring] = True
    slack = ~usable & ~known  # hidden, and not pinned or shown elsewhere
    for i, p in enumerate(candidates):
        ok = True
        for ln in table.lines_of(int(p)):
            m = table.members(int(ln))[0]
            others = m[m != p]
            if in_ring[others].all():
                continue  # a line within the ring: the one that reaches the failing cell
            if not (slack[others] & ~in_ring[others]).any():
                ok = False
                break
        free[i] = ok
    if not free.any():
        return None
    moving = candidates[free]
    same = ((cells["measure"].to_numpy()[moving] == cells["measure"].iloc[cell])
            & (cells["category"].to_numpy()[moving] == cells["category"].iloc[cell]))
    return _choose(table, moving[same] if same.any() else moving, sticky, known)


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
    # A hidden provider cell would still say "this provider served a pupil here": leave it out. The
    # auditor's overlap variables (overlap.py) and not-compared clients (coverage.py) are no cells of the
    # release at all.
    measure = cells["measure"].to_numpy()
    listed = (published | (measure != CLIENTEN_AANBIEDER)) & (measure != OVERLAP) & (measure != NOT_COMPARED)
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
