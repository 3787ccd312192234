"""The auditor's world: what a reader of every release knows, and which hidden cells must stay wide.

``attacker_bounds`` is the attacker model of audit.py per cell (a published cell lies in its rounding
window, a hidden one is only known to be hidden); ``targets`` is what every hidden cell must keep.
``static_world`` numbers the variables over all releases (one per distinct (cell key, true value)) and
gathers every release's lines, once per gate call; ``build_world`` adds the statuses of one round of
suppression: the attacker's box per variable and the targets, as a :class:`World` for the
:class:`~hub.disclosure.audit.Auditor`. ``satisfied`` says whether a certified interval meets a target.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np
import pandas as pd

from shared.codes import CLIENTEN, CLIENTEN_AANBIEDER, CLIENTEN_CONSORTIUM, KOSTEN

from .config import GateConfig
from .frames import (KEY, LEVELS, PRIMARY, PROVIDER_AGGREGATE, PUBLISHED, REGIO, SCHOOLTYPE, SECONDARY, THRESHOLD,
                     VESTIGING)
from .rules import round_to, rounding_window
from .coverage import NOT_COMPARED
from .overlap import DISTINCT_FAMILY, OVERLAP
from .tables import NEW_CLIENT_FAMILY, OVERLAP_FAMILY, SUPPORT_FAMILY, Table

INF = np.inf
EPS = 1e-6  # relative tolerance of a certified bound against its required point

# Target kinds.
FULL_RANGE = 1  # threshold count: lo <= req_lo and hi >= req_hi
WIDTH = 2  # insider count: hi - lo >= req_hi - req_lo
TWO_SIDED = 3  # cost: lo <= req_lo and hi >= req_hi (req = t -/+ P)

#: Measures of the families with row lines (rows × categories × hierarchy): never a tree. The distinct
#: counts' family (overlap.py) is no network either: only its new clients' rows have arcs, the rest goes
#: to the LPs.
TWO_DIM_MEASURES = sorted(NEW_CLIENT_FAMILY | {KOSTEN} | SUPPORT_FAMILY | DISTINCT_FAMILY | OVERLAP_FAMILY)


def satisfied(kind: np.ndarray, req_lo: np.ndarray, req_hi: np.ndarray, got_lo: np.ndarray, got_hi: np.ndarray) -> np.ndarray:
    """Whether each certified interval ``[got_lo, got_hi]`` meets its target (``WIDTH``: wide enough)."""
    tol_lo = EPS * np.maximum(1.0, np.abs(req_lo))
    tol_hi = EPS * np.maximum(1.0, np.abs(req_hi))
    side = (got_lo <= req_lo + tol_lo) & (got_hi >= req_hi - tol_hi)
    width = (got_hi - got_lo) >= (req_hi - req_lo) - tol_hi
    return np.where(kind == WIDTH, width, side)


def cost_protection(cells: pd.DataFrame, config: GateConfig) -> np.ndarray:
    """Per cell, the p%-protection ``P = ceil(p% * top1)`` a hidden cost keeps on both sides (0 elsewhere).

    ``top1`` is the largest absolute per-child amount, so a refund is covered by its size. A cell fed by
    a schema-1 refund (``legacy_negatives``) does not know that size: its own size stands in as well, at
    school level always, above it only when the sum itself is negative. (Its own size at every level
    would make an aggregate with one refund among thousands of children hide ±p% of a national total,
    which made national releases unprovable.)
    """
    value = cells["value"].to_numpy(np.int64)
    is_cost = cells["measure"].to_numpy() == KOSTEN
    school_level = cells["level"].to_numpy() == VESTIGING
    own = np.where(school_level, np.abs(value), np.maximum(0, -value))
    legacy = cells["legacy_negatives"].to_numpy(np.int64) > 0
    top = np.maximum(cells["top1"].to_numpy(np.int64), np.where(legacy, own, 0)).astype(float)
    return np.where(is_cost, np.ceil(config.p_percent * top / 100.0), 0.0)


def attacker_bounds(cells: pd.DataFrame, status: np.ndarray, config: GateConfig, revealed: np.ndarray | None = None):
    """What a reader knows about each cell's true value (audit.py's attacker model).

    A reader sees a value for a published cell and nothing but "hidden" for any other: not why it is
    hidden, so a hidden count is only known to be >= 0, unless it is ``revealed`` (``targets``): then
    it is known to be at least the threshold. A published cost is >= 0 (``negative_sum``
    hides the others). A hidden cost may hold refunds, so a reader knows no bound below; the auditor
    still grants the strongest true one that leaves the cell its own protection P (``cost_protection``):
    0 when ``value - P >= 0`` (every cost without refunds), else ``value - P``. A true bound only
    narrows what the auditor certifies, so granting it is sound, and a cell that nets to little or
    below 0 shelters the other cells of its lines by no more than its own protection.
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
    hidden = ~published & is_cost
    lo[hidden] = np.minimum(0.0, value[hidden] - cost_protection(cells, config)[hidden])
    if revealed is not None:
        # Hidden counts a reader can tell are no threshold cell (``targets``): at least t.
        m = revealed & ~published & ~is_cost
        lo[m] = np.maximum(lo[m], t)
    if "floor_nodes" in cells.columns:
        # What the overlap figures' existence and relations tell (tables.py's ``known_bounds``).
        count = ~is_cost
        floor = t * cells["floor_nodes"].to_numpy(np.int64)
        lo[count] = np.maximum(lo[count], floor[count])
        pinned = cells["pinned"].to_numpy(bool)
        lo[pinned], hi[pinned] = value[pinned], value[pinned]
    return provider_floors(cells, lo), hi


def provider_floors(cells: pd.DataFrame, lo: np.ndarray) -> np.ndarray:
    """``lo`` with the floors the published providers put under ``clienten`` in a school year without
    consortium cells.

    A provider's clients at a unit are clients of the unit (P ≤ C). With consortium cells the lines
    P ≤ K ≤ C say so (overlap.py); without them the relation is a floor: only published provider cells
    are listed (a hidden one could be any value ≥ 0), a provider's type and regio totals are never
    published, and each provider cell is in no other line than its column. So what a reader can
    derive about the clients is exactly: at a vestiging at least every published provider's low end
    there; at a school type at least, per provider, the sum of those low ends over its vestigingen (or
    the provider's own low end there, if published); at the regio the same over the types. As a
    line per provider cell the relation made the national simulation's audit seven times slower; as a
    floor it is the same knowledge (the projection of those lines) at no cost.
    """
    measure = cells["measure"].to_numpy()
    if (measure == CLIENTEN_CONSORTIUM).any() or not (measure == CLIENTEN_AANBIEDER).any():
        return lo
    level = cells["level"].to_numpy()
    prov = np.flatnonzero((measure == CLIENTEN_AANBIEDER) & (lo > 0))
    if not len(prov):
        return lo
    frame = pd.DataFrame({"level": level[prov], "unit": cells["unit"].to_numpy()[prov],
                          "parent": cells["parent"].to_numpy()[prov], "jaar": cells["schooljaar"].to_numpy()[prov],
                          "p": cells["category"].to_numpy()[prov], "lo": lo[prov]})
    floor: dict[tuple, float] = {}
    vest = frame[frame["level"] == VESTIGING]
    for (jaar, unit), v in vest.groupby(["jaar", "unit"])["lo"].max().items():
        floor[(jaar, VESTIGING, unit)] = v
    # per provider: over a type's vestigingen, or its own low end there; then over the types
    per_type = vest.groupby(["jaar", "parent", "p"])["lo"].sum()
    own = frame[frame["level"] == SCHOOLTYPE].set_index(["jaar", "unit", "p"])["lo"]
    per_type = per_type.combine(own.rename_axis(["jaar", "parent", "p"]), max, fill_value=0.0)
    for (jaar, unit), v in per_type.groupby(level=[0, 1]).max().items():
        floor[(jaar, SCHOOLTYPE, unit)] = v
    own_r = frame[frame["level"] == REGIO].set_index(["jaar", "p"])["lo"]
    per_regio = per_type.groupby(level=[0, 2]).sum().combine(own_r, max, fill_value=0.0)
    regio_units = np.unique(cells["unit"].to_numpy()[level == REGIO])
    for jaar, v in per_regio.groupby(level=0).max().items():
        for unit in regio_units:
            floor[(jaar, REGIO, unit)] = v
    clients = np.flatnonzero(measure == CLIENTEN)
    keys = zip(cells["schooljaar"].to_numpy()[clients], level[clients], cells["unit"].to_numpy()[clients])
    add = np.array([floor.get(k, 0.0) for k in keys])
    out = lo.copy()
    out[clients] = np.maximum(out[clients], add)
    return out


def targets(cells: pd.DataFrame, status: np.ndarray, reason: np.ndarray, config: GateConfig,
            revealed: np.ndarray | None = None):
    """Hidden cells to protect: (mask, kind, required low point, required high point).

    Every hidden cell is a target, not only the primary ones: a reader cannot tell them apart, so a
    partner narrowed to a few values would stand out from the rest (and tell that it is >= threshold).
    A count hidden below the threshold keeps the whole ``[0, threshold-1]``; any other hidden count
    (at least the threshold: every other rule applies only there) keeps ``threshold`` integers, and
    with ``revealed`` given (the auditor's rounds, gate.py) it must also reach 0 unless it is
    revealed: a hidden count whose interval leaves out 0 is no threshold cell, so a reader knows it is
    at least the threshold and can narrow it and its lines further (an outside attack did). Such a
    count is *revealed*: the next round's reader knows it is at least the threshold
    (``attacker_bounds``) and it keeps its ``threshold`` integers above that; a hidden cost keeps its p%-protection on both sides (``cost_protection``;
    the low point may be below 0: a cost with refunds can be negative, and a reader cannot rule it out).
    A provider's unpublished aggregate (``provider_aggregate``) is the one hidden cell that is no target.
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
    # A provider's aggregate is unpublished by policy, not for anyone's privacy: the sum of its
    # published schools is no secret, so it needs no protection of its own (rules.py).
    m = primary & ~is_cost & (reason != THRESHOLD) & (reason != PROVIDER_AGGREGATE)
    kind[m], req_lo[m], req_hi[m] = WIDTH, 0, t - 1
    if revealed is not None:
        kind[m & ~revealed] = FULL_RANGE
    # The overlap variables (overlap.py) are the auditor's own: no reader sees them, nothing to protect.
    kind[cells["measure"].to_numpy() == OVERLAP] = 0
    if "never_small" in cells.columns:
        # A partner a reader knows to hold at least the threshold (the compared clients and support of the
        # overlap figures, tables.py's ``known_bounds``): being hidden tells nothing of it, and its value
        # passed the rules, so it keeps no width of its own.
        kind[cells["never_small"].to_numpy(bool) & (status == SECONDARY)] = 0
        # The not-compared clients (coverage.py) are the auditor's own: a small group keeps [0, t − 1], a
        # larger one nothing (it is no figure).
        kind[(cells["measure"].to_numpy() == NOT_COMPARED) & (reason != THRESHOLD)] = 0
    # Cost cells are protected to p% of their largest absolute contribution (``cost_protection``).
    protection = cost_protection(cells, config)
    m = primary & is_cost & (protection > 0)
    kind[m], req_lo[m], req_hi[m] = TWO_SIDED, value[m] - protection[m], value[m] + protection[m]
    return kind > 0, kind, req_lo, req_hi


@dataclass
class ReleaseState:
    """One release as the auditor sees it: catalogue, true values, statuses and reasons."""

    table: Table
    status: np.ndarray
    reason: np.ndarray
    #: Hidden counts a reader can tell are at least the threshold (``targets``); the gate's rounds fill it.
    revealed: np.ndarray | None = None


@dataclass
class World:
    """Variables (one per distinct (cell key, true value)) and the lines of every release over them."""

    t: np.ndarray  # true value per variable (float)
    lo: np.ndarray  # attacker's bounds per variable
    hi: np.ndarray
    family: np.ndarray  # int code
    unit: np.ndarray  # int code of (schooljaar, level, unit)
    level: np.ndarray  # 0 vestiging, 1 schooltype, 2 regio
    parent: np.ndarray  # int code of the parent unit name
    type_of: np.ndarray  # int code of the school type a vestiging or type cell belongs to (-1: regio)
    key: np.ndarray  # int code of the cell key (several variables share one when a value changed)
    two_dim: np.ndarray  # bool: the variable's family has row lines (distinct counts, kosten, ondersteuning)
    role: np.ndarray  # int8: the variable's arc in its type's network (flows.py; 0 = none)
    overlap: np.ndarray  # bool: an overlap variable of the distinct counts (overlap.py)
    column: np.ndarray  # int code of (measure, category): the column line the variable belongs to
    in_all: np.ndarray  # bool: the same value and school type in every release (a late submission did not change it)
    line_ptr: np.ndarray
    line_idx: np.ndarray
    line_coef: np.ndarray
    # Targets: variable, kind, required low point, required high point.
    target_var: np.ndarray
    target_kind: np.ndarray
    req_lo: np.ndarray
    req_hi: np.ndarray


def _joint_codes(tables: Sequence[Table], columns: list[str]) -> list[np.ndarray]:
    """Per table, one int64 code per cell for the tuple of ``columns``, consistent across the tables."""
    sizes = [len(tb.cells) for tb in tables]
    code = np.zeros(sum(sizes), dtype=np.int64)
    for c in columns:
        part, uniques = pd.factorize(np.concatenate([tb.cells[c].to_numpy(dtype=object) for tb in tables]))
        code = code * (len(uniques) + 1) + part
    return np.split(code, np.cumsum(sizes)[:-1])


@dataclass
class StaticWorld:
    """What a world needs that does not depend on the statuses: built once per gate call, reused per round."""

    var_of: list[np.ndarray]  # per release: variable of each cell
    arrays: dict[str, np.ndarray]  # per variable: t, key, family, unit, level, parent, column, ...
    line_ptr: np.ndarray
    line_idx: np.ndarray
    line_coef: np.ndarray


def static_world(tables: Sequence[Table]) -> StaticWorld:
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
            "level": cells["level"].map({lv: i for i, lv in enumerate(LEVELS)}).to_numpy(np.int8),
            "parent": cells["parent"].to_numpy(dtype=object),
            "two_dim": cells["measure"].isin(TWO_DIM_MEASURES).to_numpy(),
            "role": cells["role"].to_numpy(np.int8),
            "overlap": (cells["measure"] == OVERLAP).to_numpy(),
            "column": column_codes[i],
            "type_of": np.where(lv == VESTIGING, cells["parent"].to_numpy(dtype=object),
                                np.where(lv == SCHOOLTYPE, cells["unit"].to_numpy(dtype=object), None)),
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
    return StaticWorld(var_of=var_of, arrays=arrays, line_ptr=np.concatenate(ptrs),
                       line_idx=np.concatenate(idxs) if idxs else np.zeros(0, np.int64),
                       line_coef=np.concatenate(coefs) if coefs else np.zeros(0, np.int8))


def build_world(releases: Sequence[ReleaseState], config: GateConfig, static: StaticWorld | None = None
                ) -> tuple[World, np.ndarray]:
    """The auditor's world for these statuses; ``static`` (from ``static_world``) saves rebuilding the rest.

    Also returns, per target, (release index, cell) of the release cell it came from.
    """
    if static is None:
        static = static_world([rel.table for rel in releases])
    a = static.arrays
    n_vars = len(a["t"])
    lo = np.full(n_vars, -INF)
    hi = np.full(n_vars, INF)
    tvars, tkinds, tlos, this, origins = [], [], [], [], []
    shown = np.zeros(n_vars, dtype=bool)  # published in some release: its value is no secret
    never_small = np.zeros(n_vars, dtype=bool)  # known ≥ threshold from some release (tables.known_bounds)
    for i, rel in enumerate(releases):
        shown[static.var_of[i][rel.status == PUBLISHED]] = True
        if "never_small" in rel.table.cells.columns:
            never_small[static.var_of[i][rel.table.cells["never_small"].to_numpy(bool)]] = True
    for i, rel in enumerate(releases):
        v = static.var_of[i]
        rlo, rhi = attacker_bounds(rel.table.cells, rel.status, config, rel.revealed)
        np.maximum.at(lo, v, rlo)
        np.minimum.at(hi, v, rhi)
        m, k, rq_lo, rq_hi = targets(rel.table.cells, rel.status, rel.reason, config, rel.revealed)
        # A partner whose value another release published protects nothing and needs no protection.
        m &= ~((rel.status != PRIMARY) & shown[v])
        # A partner some release's overlap figures tell to be ≥ threshold keeps no width in any release.
        m &= ~((rel.status != PRIMARY) & never_small[v])
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
        key=a["key"], two_dim=a["two_dim"], role=a["role"], overlap=a["overlap"], column=a["column"],
        in_all=a["in_all"], type_of=a["type_of"],
        line_ptr=static.line_ptr, line_idx=static.line_idx, line_coef=static.line_coef,
        target_var=tv[first].astype(np.int64), target_kind=np.concatenate(tkinds)[first].astype(np.int8),
        req_lo=np.concatenate(tlos)[first].astype(float), req_hi=np.concatenate(this)[first].astype(float),
    )
    return world, origin_arr

