"""The auditor: bounds every primarily hidden cell as an attacker would, from this release and earlier ones.

Attacker model (what a reader of every release knows; gate.py's ``attacker_bounds``):
- a published count is ≥ threshold and lies in its rounding window ``[r - b//2, r + b - 1 - b//2]``;
  a published cost lies in its rounding window and is ≥ 0 (it passed the negative rule);
- a hidden cell is only known to be hidden: every output says ``suppressed`` / "afgeschermd" and
  nothing else, never why. So a hidden count is only known to be ≥ 0 (not "< 10": a reader cannot
  tell a small cell from a partner), and a hidden cost is ≥ 0 unless its true sum is negative.
  Hidden provider cells are not listed at all (tables.py), so they too are only known to be ≥ 0;
- no flag is published (a row where one category holds nearly all children has that category
  hidden instead, rules.py's ``group_disclosure``);
- every additive line of the catalogue (tables.py) holds exactly, in every release;
- a cell whose true value did not change between releases is ONE variable across them (the attacker
  is assumed to know which cells a late submission touched).

Requirement, per hidden cell (primary and partner alike, of this release and of every release in
``history``; a partner whose value some release published needs none):
- ``threshold`` counts: the derivable interval is the whole ``[0, threshold-1]``, i.e. covers
  ``threshold`` integers (``hi - lo + 1 >= threshold``);
- every other hidden count: at least ``threshold`` integers wide, so a partner cannot be told apart
  from a small cell by how narrow it is;
- cost cells: protection ``P = ceil(p% * top1)`` on both sides of the true sum (the p%-rule's own
  protection level: no reader can estimate the largest contribution to within p%).

Decomposition (speed): cells are grouped per (schooljaar, family) — families share no line
(tables.py). Hierarchy-only families (every measure but the nieuwe_clienten and kosten families) whose
lines are the same in every release form a tree: exact bounds by propagation, no LP (``tree_bounds``).
In the two-dimensional families (rows × categories × hierarchy) the vestiging-level targets go first to
the school-type networks of flows.py: with the type's and region's cells fixed, the lines over a type's
vestigingen are a network, and maximum flows give its exact bounds (chunks with helpers for large types,
the whole type for what a chunk leaves). Fixing variables only *shrinks* the attacker's feasible set, so
an interval proven wide enough in any restriction is at least as wide in the full problem (sound).
What the networks leave (type-level targets, cells a late submission changed, cells whose protection
runs through a hidden type cell) goes to HiGHS LPs: one exact problem per family up to
``WHOLE_FAMILY_VARS`` variables, else blocks of one small school type whole (or ``CHUNK_UNITS`` of a
large one's vestigingen) plus every type and regio cell plus the ``DONORS`` largest vestigingen per
column. Hierarchy-only families changed by a late submission are one LP problem each. A block can fail
a cell the full problem would pass (over-suppression, or an unproven cell reported in
``GateResult.audit["failed"]``, which the hub refuses to publish). Inside an LP problem, connected
components with a single line get the exact closed-form bound; others get rounds of "maximise the sum
of min(x, required point)" over the unproven targets (each optimum is a feasible point, so every target
reaching its point there is proven), then one LP per still-unproven target and side, at most
``MAX_SINGLE_LPS`` per problem and side. Network and LP results are cached by a SHA-256 digest of their
inputs (``AuditCache``): after a late submission only problems whose cells changed are solved again.
The cache holds derived bounds of unprotected cells: keep it in the combining process's memory, never
persist or log it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

import highspy
import numpy as np
import pandas as pd
from highspy import _core as _highs_core
from scipy.optimize import linprog
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import connected_components

from . import flows

INF = np.inf
CHUNK_UNITS = 12  # vestigingen per block in the two-dimensional families
WHOLE_FAMILY_VARS = 6000  # a family this small (a region of ~350 locations) is audited whole (exact)
MAX_SINGLE_LPS = 1000  # per block and side; targets beyond it count as unproven (never published, see hub/services/combine.py)
DONORS = 2  # per (schooltype, column): the vestigingen with the largest values join every block
TYPE_BLOCK_UNITS = 400  # a school type this small is one LP block, with its own type cells
_EPS = 1e-6

# Target kinds.
FULL_RANGE = 1  # threshold count: lo <= req_lo and hi >= req_hi
WIDTH = 2  # insider count: hi - lo >= req_hi - req_lo
TWO_SIDED = 3  # cost: lo <= req_lo and hi >= req_hi (req = t -/+ P)


class _SingleTargetLP:
    """min ``sign * x[j]`` over ``A x = b``, ``lo <= x <= hi``, for one j after another, warm-started.

    HiGHS (the solver behind SciPy's ``linprog(method="highs")``) through highspy, keeping the model and
    its basis between targets: only the objective changes, so each re-solve starts from the previous
    optimum (a few simplex iterations instead of a cold solve). ``highspy._core._Highs`` is the class the
    public ``highspy.Highs`` wraps; the wrapper prints a banner on the process's C-level stdout.
    """

    def __init__(self, A, b: np.ndarray, lo: np.ndarray, hi: np.ndarray):
        csc = A.tocsc()
        n = A.shape[1]
        lp = highspy.HighsLp()
        lp.num_col_, lp.num_row_ = n, A.shape[0]
        lp.col_cost_ = np.zeros(n)
        lp.col_lower_, lp.col_upper_ = np.asarray(lo, float), np.asarray(hi, float)
        lp.row_lower_ = lp.row_upper_ = np.asarray(b, float)
        lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
        lp.a_matrix_.num_col_, lp.a_matrix_.num_row_ = n, A.shape[0]
        lp.a_matrix_.start_, lp.a_matrix_.index_, lp.a_matrix_.value_ = csc.indptr, csc.indices, csc.data
        self._h = _highs_core._Highs()
        self._h.setOptionValue("output_flag", False)
        self._h.setOptionValue("presolve", "off")
        self._h.passModel(lp)
        self._last: int | None = None

    def optimum(self, j: int, sign: float) -> np.ndarray | None:
        h = self._h
        if self._last is not None and self._last != j:
            h.changeColCost(self._last, 0.0)
        h.changeColCost(j, sign)
        self._last = j
        h.run()
        if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
            return None
        return np.asarray(h.getSolution().col_value)


class AuditCache:
    """Block results keyed by the digest of the block's inputs (in memory only).

    It also keeps the catalogue tables of the last few combined frames (``tables``, keyed by the
    frame's digest): the release a late submission supersedes comes back as history, and its table
    need not be built again.
    """

    MAX_TABLES = 3

    def __init__(self, max_entries: int = 200_000):
        self._data: dict[bytes, tuple[np.ndarray, np.ndarray, int]] = {}
        self.tables: dict[bytes, object] = {}
        self.max_entries = max_entries
        self.hits = 0
        self.misses = 0

    def table(self, key: bytes, build):
        """The table stored under ``key``, else ``build()`` stored (the oldest of ``MAX_TABLES`` goes)."""
        found = self.tables.pop(key, None)
        if found is None:
            found = build()
            while len(self.tables) >= self.MAX_TABLES:
                self.tables.pop(next(iter(self.tables)))
        self.tables[key] = found  # most recently used last
        return found

    def get(self, key: bytes):
        found = self._data.get(key)
        if found is None:
            self.misses += 1
        else:
            self.hits += 1
        return found

    def put(self, key: bytes, value) -> None:
        if len(self._data) >= self.max_entries:
            self._data.pop(next(iter(self._data)))
        self._data[key] = value

    def __len__(self) -> int:
        return len(self._data)


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
    two_dim: np.ndarray  # bool: the variable's family has row lines (nieuwe_clienten, kosten)
    role: np.ndarray  # int8: the variable's arc in its type's network (flows.py; 0 = none)
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


@dataclass
class AuditStats:
    cells_audited: int = 0
    closed_form: int = 0
    lps_solved: int = 0
    blocks: int = 0
    blocks_cached: int = 0
    flows_solved: int = 0  # maximum-flow problems (flows.py)
    network_proven: int = 0  # targets proven by the type networks alone
    min_width: float | None = None  # smallest certified interval width (integers) over threshold/insider counts
    min_cost_protection: float | None = None  # smallest certified protection / required protection (costs)
    failed: list[int] = field(default_factory=list)  # target positions that failed

    def to_dict(self) -> dict:
        return {
            "cells_audited": self.cells_audited,
            "closed_form": self.closed_form,
            "lps_solved": self.lps_solved,
            "blocks": self.blocks,
            "blocks_cached": self.blocks_cached,
            "flows_solved": self.flows_solved,
            "network_proven": self.network_proven,
            "min_width": None if self.min_width is None else int(self.min_width),
            "min_cost_protection_ratio": None if self.min_cost_protection is None else round(float(self.min_cost_protection), 4),
            "failed": len(self.failed),
        }


def line_intervals(ptr: np.ndarray, idx: np.ndarray, coef: np.ndarray, lo: np.ndarray, hi: np.ndarray,
                   const: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Exact bound of each member of each line ``sum(coef*x) = const`` given only that line and the boxes.

    Returned per member position (aligned with ``idx``), intersected with the member's own box.
    """
    n_lines = len(ptr) - 1
    if len(idx) == 0:
        return np.zeros(0), np.zeros(0)
    a = coef.astype(float)
    l, h = lo[idx], hi[idx]
    # a*x ranges over [min(a l, a h), max(a l, a h)].
    with np.errstate(invalid="ignore"):
        tmin = np.where(a > 0, a * l, a * h)
        tmax = np.where(a > 0, a * h, a * l)
    line_of = np.repeat(np.arange(n_lines), np.diff(ptr))
    ninf_min = np.bincount(line_of, weights=np.isneginf(tmin), minlength=n_lines)
    pinf_max = np.bincount(line_of, weights=np.isposinf(tmax), minlength=n_lines)
    fmin = np.where(np.isfinite(tmin), tmin, 0.0)
    fmax = np.where(np.isfinite(tmax), tmax, 0.0)
    smin = np.bincount(line_of, weights=fmin, minlength=n_lines)
    smax = np.bincount(line_of, weights=fmax, minlength=n_lines)
    # Sums over the *other* members.
    o_min = np.where(ninf_min[line_of] - np.isneginf(tmin) > 0, -INF, smin[line_of] - fmin)
    o_max = np.where(pinf_max[line_of] - np.isposinf(tmax) > 0, INF, smax[line_of] - fmax)
    c = 0.0 if const is None else const[line_of]
    # a*x = c - others  ⇒  a*x ∈ [c - o_max, c - o_min]
    ax_lo, ax_hi = c - o_max, c - o_min
    x_lo = np.where(a > 0, ax_lo, -ax_hi)
    x_hi = np.where(a > 0, ax_hi, -ax_lo)
    return np.maximum(x_lo, l), np.minimum(x_hi, h)


def satisfied(kind: np.ndarray, req_lo: np.ndarray, req_hi: np.ndarray, got_lo: np.ndarray, got_hi: np.ndarray) -> np.ndarray:
    tol_lo = _EPS * np.maximum(1.0, np.abs(req_lo))
    tol_hi = _EPS * np.maximum(1.0, np.abs(req_hi))
    side = (got_lo <= req_lo + tol_lo) & (got_hi >= req_hi - tol_hi)
    width = (got_hi - got_lo) >= (req_hi - req_lo) - tol_hi
    return np.where(kind == WIDTH, width, side)


def _digest(parts: list[np.ndarray]) -> bytes:
    h = hashlib.sha256()
    for p in parts:
        arr = np.ascontiguousarray(p)
        h.update(str(arr.dtype).encode() + str(arr.shape).encode())
        h.update(arr.tobytes())
    return h.digest()


class Auditor:
    """Runs the audit of a :class:`World`; see the module docstring for the decomposition."""

    def __init__(self, world: World, cache: AuditCache | None = None):
        self.w = world
        self.cache = cache
        self.stats = AuditStats()
        n = len(world.t)
        line_of = np.repeat(np.arange(len(world.line_ptr) - 1), np.diff(world.line_ptr))
        order = np.argsort(world.line_idx, kind="stable")
        ptr = np.zeros(n + 1, dtype=np.int64)
        np.add.at(ptr, world.line_idx + 1, 1)
        self.var_ptr = np.cumsum(ptr)
        self.var_lines = line_of[order]

    # -- block construction -------------------------------------------------------------------

    def block_sets(self, families: np.ndarray, pending_var: np.ndarray) -> list[np.ndarray]:
        """LP blocks for the pending targets of the two-dimensional families (rows × categories × hierarchy).

        A family of at most ``WHOLE_FAMILY_VARS`` variables is one block (exact). In a larger one, a
        block is a *chunk* (a school type of at most ``TYPE_BLOCK_UNITS`` vestigingen whole, else
        ``CHUNK_UNITS`` of its vestigingen) plus every schooltype and regio cell plus the donors: per
        (schooltype, column) the ``DONORS`` vestigingen with the largest values, which let a hidden type
        cell move along the regio column. Everything else is fixed at its true value.
        """
        w = self.w
        blocks: list[np.ndarray] = []
        for fam in families:
            vars_f = np.flatnonzero(w.family == fam)
            if not pending_var[vars_f].any():
                continue
            if len(vars_f) <= WHOLE_FAMILY_VARS:  # small enough for the exact problem
                blocks.append(vars_f)
                continue
            unit_of = w.unit[vars_f]
            lv = w.level[vars_f]
            type_of = w.type_of[vars_f]
            vest = vars_f[lv == 0]
            aggr = lv > 0
            aggr_pending = pending_var[vars_f] & aggr
            donor_units: set[int] = set()
            chunks: list[tuple[np.ndarray, np.ndarray | None]] = []
            for tau in np.unique(w.type_of[vest]):
                pv = vest[w.type_of[vest] == tau]
                units = np.unique(w.unit[pv])
                col = w.column[pv]
                for c in np.unique(col):
                    cv = pv[col == c]
                    top = cv[np.lexsort((w.unit[cv], -w.t[cv]))][:DONORS]
                    donor_units.update(int(u) for u in w.unit[top])
                if len(units) <= TYPE_BLOCK_UNITS:
                    # A small type whole, with its own type cells: a hidden type cell moves with all of
                    # its vestigingen (which a donors-only block would hold fixed).
                    own = aggr & (lv == 1) & (type_of == tau)
                    chunks.append((units, own))
                    aggr_pending &= ~own
                else:
                    chunks += [(units[i:i + CHUNK_UNITS], None) for i in range(0, len(units), CHUNK_UNITS)]
            donors = np.isin(unit_of, np.array(sorted(donor_units), dtype=np.int64)) & ~aggr
            for units, own in chunks:
                chosen = np.isin(unit_of, units)
                pending = pending_var[vars_f[chosen]].any() or (own is not None and pending_var[vars_f[own]].any())
                if pending:
                    blocks.append(np.sort(vars_f[chosen | aggr | donors]))
            if aggr_pending.any():  # regio cells and the type cells of large types
                blocks.append(np.sort(vars_f[aggr | donors]))
        return blocks

    def network_bounds(self, families: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Flow bounds (flows.py) of the vestiging-level targets of two-dimensional families, per school type.

        Returns target positions and their certified (lo, hi). A type of at most ``flows.EXACT_UNITS``
        vestigingen is one exact network; a larger one is done in chunks with helpers, and a target a
        chunk leaves unproven gets its whole type's network.
        """
        w = self.w
        nt = len(w.target_var)
        target_of_var = np.full(len(w.t), -1, dtype=np.int64)
        target_of_var[w.target_var] = np.arange(nt)
        out_pos, out_lo, out_hi = [], [], []
        in_net = (w.level == 0) & w.in_all & (w.role != flows.NOT_IN_NETWORK)
        fam_sel = np.zeros(int(w.family.max()) + 1 if len(w.family) else 0, dtype=bool)
        fam_sel[families] = True
        cand = np.flatnonzero(in_net & fam_sel[w.family])
        if not len(cand):
            return np.zeros(0, np.int64), np.zeros(0), np.zeros(0)
        order = np.lexsort((w.unit[cand], w.parent[cand], w.family[cand]))
        cand = cand[order]
        group = w.family[cand].astype(np.int64) * (int(w.parent.max()) + 1) + w.parent[cand]
        starts = np.flatnonzero(np.r_[True, group[1:] != group[:-1]])
        ends = np.r_[starts[1:], len(cand)]
        for s, e in zip(starts, ends):
            pv = cand[s:e]  # one family, one school type; sorted by unit
            tpos = target_of_var[pv]
            tpos = tpos[tpos >= 0]
            if not len(tpos):
                continue
            units = np.unique(w.unit[pv])
            order = np.argsort(pv, kind="stable")
            t_idx = order[np.searchsorted(pv[order], w.target_var[tpos])]  # position of each target in pv
            gkey = None
            if self.cache is not None:  # the whole type at once: a late submission leaves most types as they were
                gkey = _digest([np.array([11]), w.t[pv], w.lo[pv], w.hi[pv], w.role[pv],
                                np.unique(w.column[pv], return_inverse=True)[1], np.searchsorted(units, w.unit[pv]),
                                t_idx, w.target_kind[tpos], w.req_lo[tpos], w.req_hi[tpos]])
                found = self.cache.get(gkey)
                if found is not None:
                    self.stats.blocks_cached += 1
                    out_pos.append(tpos)
                    out_lo.append(found[0])
                    out_hi.append(found[1])
                    continue
            if len(units) <= flows.EXACT_UNITS:
                lo, hi = self._network_block(pv, tpos)
            else:
                lo = np.full(len(tpos), INF)
                hi = np.full(len(tpos), -INF)
                # pv is sorted by unit, so each chunk of units is a contiguous slice of pv.
                chunk_of_var = np.searchsorted(units, w.unit[pv]) // flows.CHUNK_UNITS
                helper_vars = pv[np.isin(w.unit[pv], self._helpers(pv))]
                t_chunk = chunk_of_var[t_idx]
                bounds = np.searchsorted(chunk_of_var, np.arange(int(chunk_of_var[-1]) + 2))
                for k in np.unique(t_chunk):
                    in_chunk = t_chunk == k
                    own = pv[bounds[k]:bounds[k + 1]]
                    block = np.union1d(own, helper_vars)
                    clo, chi = self._network_block(block, tpos[in_chunk])
                    lo[in_chunk], hi[in_chunk] = clo, chi
                short = ~satisfied(w.target_kind[tpos], w.req_lo[tpos], w.req_hi[tpos], lo, hi)
                if short.any():  # the exact problem of the whole type
                    flo, fhi = self._network_block(pv, tpos[short])
                    lo[short], hi[short] = np.minimum(lo[short], flo), np.maximum(hi[short], fhi)
            if gkey is not None:
                self.cache.put(gkey, (lo.copy(), hi.copy()))
            out_pos.append(tpos)
            out_lo.append(lo)
            out_hi.append(hi)
        if not out_pos:
            return np.zeros(0, np.int64), np.zeros(0), np.zeros(0)
        return np.concatenate(out_pos), np.concatenate(out_lo), np.concatenate(out_hi)

    def _helpers(self, pv: np.ndarray) -> np.ndarray:
        """Units of a type that join every chunk: per column the ``HELPERS`` with most room down and up."""
        w = self.w
        down = w.t[pv] - w.lo[pv]
        up = np.where(np.isfinite(w.hi[pv]), w.hi[pv] - w.t[pv], 1e18)
        chosen: set[int] = set()
        col = w.column[pv]
        unit = w.unit[pv]
        for room in (down, up):
            order = np.lexsort((unit, -room, col))
            c_sorted = col[order]
            first = np.r_[0, np.flatnonzero(c_sorted[1:] != c_sorted[:-1]) + 1]
            rank = np.arange(len(order)) - np.repeat(first, np.diff(np.r_[first, len(order)]))
            pick = order[(rank < flows.HELPERS) & (room[order] > 0)]
            chosen.update(int(u) for u in unit[pick])
        return np.array(sorted(chosen), dtype=unit.dtype)

    def _network_block(self, block: np.ndarray, tpos: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Certified (lo, hi) of targets ``tpos`` over the network of ``block`` (all else fixed)."""
        w = self.w
        tvars = w.target_var[tpos]
        local = np.searchsorted(block, tvars) if np.all(block[:-1] <= block[1:]) else None
        if local is None:
            srt = np.argsort(block, kind="stable")
            block = block[srt]
            local = np.searchsorted(block, tvars)
        t = w.t[block]
        kind, req_lo, req_hi = w.target_kind[tpos], w.req_lo[tpos], w.req_hi[tpos]
        tt = w.t[tvars]
        width = kind == WIDTH
        need_up = np.where(width, req_hi - req_lo, np.maximum(0.0, req_hi - tt))
        need_down = np.where(width, 0.0, np.maximum(0.0, tt - req_lo))
        need_up = np.ceil(need_up - _EPS * np.maximum(1.0, np.abs(req_hi)))
        need_down = np.ceil(need_down - _EPS * np.maximum(1.0, np.abs(req_lo)))
        key = None
        if self.cache is not None:
            key = _digest([np.array([7]), t, w.lo[block], w.hi[block], w.role[block], w.column[block],
                           w.unit[block], local, kind, need_up, need_down])
            found = self.cache.get(key)
            if found is not None:
                self.stats.blocks_cached += 1
                return found[0], found[1]
        self.stats.blocks += 1
        cols, col_local = np.unique(w.column[block], return_inverse=True)
        _, unit_local = np.unique(w.unit[block], return_inverse=True)
        tail, head = flows.arc_ends(w.role[block], col_local, unit_local, len(cols))
        net = flows.Network(tail, head, t, w.lo[block], w.hi[block])
        lo, hi, solved = flows.bound_targets(net, local, need_up, need_down, width)
        self.stats.flows_solved += solved
        if key is not None:
            self.cache.put(key, (lo.copy(), hi.copy()))
        return lo, hi

    def tree_bounds(self, var_mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Exact bounds in hierarchy-only families: a tree of lines (vestigingen → type → regio).

        On an acyclic system of sum constraints over boxes, propagating bounds up and then down gives
        each variable's exact projection: (1) a type's range from its children, (2) the regio line
        with those ranges, (3) the type lines with the types' final ranges.
        """
        w = self.w
        n_lines = len(w.line_ptr) - 1
        line_of = np.repeat(np.arange(n_lines), np.diff(w.line_ptr))
        line_scope = np.zeros(n_lines, dtype=bool)
        line_scope[line_of[var_mask[w.line_idx]]] = True
        total_pos = np.flatnonzero(w.line_coef < 0)
        total_level = np.full(n_lines, -1)
        total_level[line_of[total_pos]] = w.level[w.line_idx[total_pos]]

        def subset(sel_lines):
            keep = sel_lines[line_of]
            counts = np.bincount(line_of[keep], minlength=n_lines)[sel_lines]
            ptr = np.concatenate([[0], np.cumsum(counts)])
            return ptr, w.line_idx[keep], w.line_coef[keep]

        lo, hi = w.lo.copy(), w.hi.copy()
        type_lines = subset(line_scope & (total_level == 1))
        regio_lines = subset(line_scope & (total_level == 2))
        for step, (ptr, idx, coef) in enumerate((type_lines, regio_lines, type_lines)):
            if not len(idx):
                continue
            ilo, ihi = line_intervals(ptr, idx, coef, lo, hi)
            if step == 0:  # only the totals (types) take their children's range
                sel = coef < 0
            elif step == 1:
                sel = np.ones(len(idx), dtype=bool)
            else:
                sel = coef > 0
            np.maximum.at(lo, idx[sel], ilo[sel])
            np.minimum.at(hi, idx[sel], ihi[sel])
        self.stats.closed_form += int(var_mask[w.target_var].sum())
        return lo, hi

    def run(self) -> tuple[np.ndarray, np.ndarray]:
        """Certified (lo, hi) per target, and updates ``self.stats``."""
        w = self.w
        nt = len(w.target_var)
        got_lo = np.full(nt, INF)
        got_hi = np.full(nt, -INF)
        target_of_var = np.full(len(w.t), -1, dtype=np.int64)
        target_of_var[w.target_var] = np.arange(nt)
        nfam = int(w.family.max()) + 1 if len(w.family) else 0
        # A key with several values in one family: a late submission changed it, so the releases'
        # lines differ and the family is no longer a tree.
        key_count = np.bincount(w.family, minlength=nfam)
        distinct = pd.Series(w.key).groupby(w.family).nunique().reindex(range(nfam), fill_value=0).to_numpy()
        changed = key_count != distinct
        # A cell absent from a release, or in another school type there (in_all false), also means the
        # releases' lines differ: old A+B+D=T and new A+B+C+D=T pin C, which no tree propagation sees.
        changed |= np.bincount(w.family, weights=~w.in_all, minlength=nfam) > 0
        fam_2d = np.zeros(nfam, dtype=bool)
        fam_2d[w.family[w.two_dim]] = True
        fam_has_target = np.zeros(nfam, dtype=bool)
        fam_has_target[w.family[w.target_var]] = True
        tree_mask = (~fam_2d & ~changed & fam_has_target)[w.family]
        if tree_mask.any():
            lo, hi = self.tree_bounds(tree_mask)
            sel = tree_mask[w.target_var]
            got_lo[sel] = lo[w.target_var[sel]]
            got_hi[sel] = hi[w.target_var[sel]]
        # Two-dimensional families: the type networks first (fast, exact per type).
        fam2 = np.flatnonzero(fam_2d & fam_has_target)
        if len(fam2):
            npos, nlo, nhi = self.network_bounds(fam2)
            np.minimum.at(got_lo, npos, nlo)
            np.maximum.at(got_hi, npos, nhi)
            net_ok = satisfied(w.target_kind[npos], w.req_lo[npos], w.req_hi[npos], got_lo[npos], got_hi[npos])
            self.stats.network_proven = int(net_ok.sum())
        pending = ~satisfied(w.target_kind, w.req_lo, w.req_hi, got_lo, got_hi)
        pending_var = np.zeros(len(w.t), dtype=bool)
        pending_var[w.target_var[pending]] = True
        # What is left goes to LP problems: changed hierarchy-only families whole; two-dimensional ones
        # whole when small, else in chunks (type-level targets, changed cells, what the networks left).
        blocks = [np.flatnonzero(w.family == f) for f in np.flatnonzero(~fam_2d & changed & fam_has_target)]
        blocks += self.block_sets(fam2, pending_var)
        for block in blocks:
            free = np.zeros(len(w.t), dtype=bool)
            free[block] = True
            # Every block proves what it can about every target among its free variables; each block is
            # a restriction of the attacker's problem, so the hull of the proven intervals is sound.
            tpos = target_of_var[block]
            tpos = tpos[tpos >= 0]
            tpos = tpos[pending[tpos]]
            if not len(tpos):
                continue
            self.stats.blocks += 1
            lo, hi = self._solve_block(block, free, tpos)
            np.minimum.at(got_lo, tpos, lo)
            np.maximum.at(got_hi, tpos, hi)
        ok = satisfied(w.target_kind, w.req_lo, w.req_hi, got_lo, got_hi)
        self.stats.cells_audited = nt
        self.stats.failed = list(np.flatnonzero(~ok))
        cnt = w.target_kind != TWO_SIDED
        if cnt.any():
            self.stats.min_width = float(np.min(np.floor(got_hi[cnt] + _EPS) - np.ceil(got_lo[cnt] - _EPS) + 1))
        cost = ~cnt
        if cost.any():
            need = (w.req_hi[cost] - w.req_lo[cost]) / 2
            t = w.t[w.target_var[cost]]
            prot = np.minimum(got_hi[cost] - t, t - got_lo[cost])
            self.stats.min_cost_protection = float(np.min(prot / np.maximum(need, 1)))
        return got_lo, got_hi

    def _block_system(self, block: np.ndarray, free: np.ndarray):
        """Rows of the restricted system: lines touching the block, over its free variables only."""
        w = self.w
        lines = np.unique(np.concatenate([self.var_lines[self.var_ptr[v]:self.var_ptr[v + 1]] for v in block])
                          if len(block) else np.zeros(0, np.int64))
        local = np.full(len(w.t), -1, dtype=np.int64)
        local[block] = np.arange(len(block))
        rows, cols, vals, rhs = [], [], [], []
        seen = set()
        for ln in lines:
            s, e = w.line_ptr[ln], w.line_ptr[ln + 1]
            m, a = w.line_idx[s:e], w.line_coef[s:e]
            keep = free[m]
            m, a = m[keep], a[keep]
            if not len(m):
                continue
            key = (tuple(m.tolist()), tuple(a.tolist()))
            if key in seen:  # the same line in several releases, over the same variables
                continue
            seen.add(key)
            r = len(rhs)
            rows.append(np.full(len(m), r))
            cols.append(local[m])
            vals.append(a.astype(float))
            rhs.append(float(np.dot(a.astype(float), w.t[m])))
        if rhs:
            return np.concatenate(rows), np.concatenate(cols), np.concatenate(vals), np.array(rhs)
        return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0), np.zeros(0)

    def _solve_block(self, block: np.ndarray, free: np.ndarray, tpos: np.ndarray):
        w = self.w
        rows, cols, vals, rhs = self._block_system(block, free)
        tvars_local = np.searchsorted(block, w.target_var[tpos])  # blocks are sorted
        key = None
        if self.cache is not None:
            key = _digest([w.t[block], w.lo[block], w.hi[block], rows, cols, vals, rhs, tvars_local,
                           w.target_kind[tpos], w.req_lo[tpos], w.req_hi[tpos]])
            found = self.cache.get(key)
            if found is not None:
                self.stats.blocks_cached += 1
                return found[0], found[1]
        nv = len(block)
        lo_v, hi_v, t_v = w.lo[block], w.hi[block], w.t[block]
        got_lo = np.full(len(tpos), INF)
        got_hi = np.full(len(tpos), -INF)
        # Connected components of the block's variables through its rows.
        if len(rhs):
            A = csr_matrix((vals, (rows, cols)), shape=(len(rhs), nv))
            adj = csr_matrix((np.ones(len(rows)), (cols, rows + nv)), shape=(nv + len(rhs), nv + len(rhs)))
            ncomp, label = connected_components(adj, directed=False)
            var_comp = label[:nv]
            row_comp = label[nv:]
        else:
            A = csr_matrix((0, nv))
            var_comp = np.arange(nv)
            row_comp = np.zeros(0, np.int64)
        t_comp = var_comp[tvars_local]
        for comp in np.unique(t_comp):
            which = np.flatnonzero(t_comp == comp)
            cvars = np.flatnonzero(var_comp == comp)
            crow = np.flatnonzero(row_comp == comp)
            tl = tvars_local[which]
            if len(crow) == 0:
                got_lo[which], got_hi[which] = lo_v[tl], hi_v[tl]
                self.stats.closed_form += len(which)
            elif len(crow) == 1:
                sub = A[crow[0]]
                m, a = sub.indices, sub.data
                ilo, ihi = line_intervals(np.array([0, len(m)]), m, a, lo_v, hi_v, const=rhs[crow])
                pos = {int(v): i for i, v in enumerate(m)}
                for j, v in zip(which, tl):
                    k = pos[int(v)]
                    got_lo[j], got_hi[j] = ilo[k], ihi[k]
                self.stats.closed_form += len(which)
            else:
                lo_c, hi_c = self._lp_component(A[crow][:, cvars], rhs[crow], lo_v[cvars], hi_v[cvars], t_v[cvars],
                                                np.searchsorted(cvars, tl), tpos[which])
                got_lo[which], got_hi[which] = lo_c, hi_c
        if key is not None:
            self.cache.put(key, (got_lo.copy(), got_hi.copy()))
        return got_lo, got_hi

    def _lp_component(self, A, b, lo, hi, t, tl, tpos):
        """Certified bounds of targets ``tl`` (local indices) from a few LPs.

        Rounds of "maximise sum(min(x_j, required high point))" over the still-unproven targets (and
        the mirror for the low side) prove many targets per LP: every optimum is a feasible point, so
        each target that reaches its required point there is proven. What a round cannot prove gets
        its own LP.
        """
        w = self.w
        kind, req_lo, req_hi = w.target_kind[tpos], w.req_lo[tpos], w.req_hi[tpos]
        # Unbounded variables get a large finite box: a restriction, so still sound, and no unbounded LPs.
        cap = 4 * float(np.max(np.abs(t))) + 1e6 if len(t) else 1e6
        lo_f = np.where(np.isfinite(lo), lo, -cap)
        hi_f = np.where(np.isfinite(hi), hi, cap)
        n = A.shape[1]
        got_lo = t[tl].astype(float).copy()  # the truth itself is feasible
        got_hi = t[tl].astype(float).copy()
        scale = np.maximum(1.0, (req_hi - req_lo) / 2)
        width = kind == WIDTH

        def record(x) -> None:
            np.minimum(got_lo, x[tl], out=got_lo)
            np.maximum(got_hi, x[tl], out=got_hi)

        def need(side: str) -> np.ndarray:
            if side == "hi":
                return ~width & (got_hi < req_hi - _EPS * np.maximum(1.0, np.abs(req_hi)))
            return ~width & (got_lo > req_lo + _EPS * np.maximum(1.0, np.abs(req_lo)))

        def clipped_round(js: np.ndarray, side: str) -> bool:
            # Variables x (n) then y (len(js)); y_j <= x_j (hi side) or y_j >= x_j (lo side).
            k = len(js)
            sign = 1.0 if side == "hi" else -1.0
            c = np.concatenate([np.zeros(n), -sign / scale[js]])
            ub_rows = np.arange(k)
            A_ub = csr_matrix((np.concatenate([sign * np.ones(k), -sign * np.ones(k)]),
                               (np.concatenate([ub_rows, ub_rows]), np.concatenate([n + ub_rows, tl[js]]))),
                              shape=(k, n + k))
            A_eq = csr_matrix((A.data, A.indices, A.indptr), shape=(A.shape[0], n + k)) if A.shape[0] else None
            if side == "hi":
                ybounds = np.column_stack([np.full(k, -cap), req_hi[js]])
            else:
                ybounds = np.column_stack([req_lo[js], np.full(k, cap)])
            bounds = np.vstack([np.column_stack([lo_f, hi_f]), ybounds])
            self.stats.lps_solved += 1
            res = linprog(c, A_ub=A_ub, b_ub=np.zeros(k), A_eq=A_eq, b_eq=b if A_eq is not None else None,
                          bounds=bounds, method="highs")
            if res.status != 0:
                return False
            record(res.x[:n])
            return True

        model: list[_SingleTargetLP] = []

        def single(j: int, sign: float) -> None:
            # One model per component, re-solved from the last optimal basis with only the objective changed.
            if not model:
                model.append(_SingleTargetLP(A, b, lo_f, hi_f))
            self.stats.lps_solved += 1
            x = model[0].optimum(int(tl[j]), sign)
            if x is not None:
                record(x)

        for side in ("hi", "lo"):
            while True:
                js = np.flatnonzero(need(side))
                if not len(js):
                    break
                before = int(need(side).sum())
                if not clipped_round(js, side) or int(need(side).sum()) == before:
                    break
            budget = MAX_SINGLE_LPS
            for j in np.flatnonzero(need(side)):
                if not need(side)[j]:  # an earlier LP's optimum already proved it
                    continue
                if budget == 0:  # left unproven: the gate adds a partner, which is sound
                    break
                budget -= 1
                single(int(j), -1.0 if side == "hi" else 1.0)
        for j in np.flatnonzero(width):
            ok = satisfied(kind[j:j + 1], req_lo[j:j + 1], req_hi[j:j + 1], got_lo[j:j + 1], got_hi[j:j + 1])[0]
            if not ok:
                single(int(j), -1.0)
                single(int(j), 1.0)
        return got_lo, got_hi
