"""LP problems of the auditor: blocks of variables, their connected components, one warm LP per target.

What the closed forms (trees.py) and the type networks (flows.py) leave goes to HiGHS LPs over blocks
(``BlockLPs.block_sets``): a two-dimensional family of at most ``WHOLE_FAMILY_VARS`` variables whole
(exact), else a chunk (a school type of at most ``TYPE_BLOCK_UNITS`` vestigingen whole, or
``CHUNK_UNITS`` of a large one's vestigingen) plus every type and regio cell plus the ``DONORS``
largest vestigingen per column, everything else fixed at its true value (a restriction, so sound). In the distinct-count family the
donors are also chosen per column with a pending target, and the vestigingen outside the block are
*loose* rather than fixed (``loose_boxes``): each moves within its share of its overlap lines' slacks,
and per column line their sum is one outside variable.
Inside a block (``BlockLPs.solve``), connected components with a single line get the exact closed-form
bound; others first get a few passes of bound propagation (``implied_bounds``): a target side whose
required point lies beyond them gets no LP, for no feasible point reaches it. Then rounds of "maximise
the sum of min(x, required point)" over the unproven targets, and one LP per still-unproven target and
side (``SingleTargetLP``, warm-started after a first solve with presolve and dual simplex), at most
``MAX_SINGLE_LPS`` per problem and side. Block results are cached by the digest of their inputs
(cache.py).
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Iterator

import highspy
import numpy as np
import pandas as pd
from highspy import _core as _highs_core
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import connected_components

from .cache import AuditCache, digest
from .trees import line_intervals
from .world import EPS, INF, WIDTH, World, satisfied

if TYPE_CHECKING:
    from .audit import AuditStats

CHUNK_UNITS = 12  # vestigingen per block in the two-dimensional families
WHOLE_FAMILY_VARS = 1000  # a family this small is audited whole (exact); larger ones in blocks (faster, same releases on the demo and the regional bench)
MAX_SINGLE_LPS = 1000  # per block and side; targets beyond it count as unproven (never published, see hub/services/combine.py)
DONORS = 2  # per (schooltype, column): the vestigingen with the largest values join every block
COLUMN_DONORS = 8  # distinct counts: per (schooltype, column) with a pending target, the vestigingen with most there
TYPE_BLOCK_UNITS = 400  # a school type this small is one LP block, with its own type cells
PROPAGATION_ROUNDS = 3  # passes of ``implied_bounds`` before a component's LPs (0: none, the bench's reference)
#: Between the rounds of a gate call, a revealed count makes stale only the certified ends whose point could
#: have it below the threshold (audit.py's ``Provenance``); False: every end in its family (the reference
#: bench/hub/bench_audit_lp.py runs beside it).
CARRY_WITNESSES = True


def lp_threads() -> int:
    """Threads for an audit's LP components: the CPUs this process may use, at most 4, or the
    ``JEUGDHUB_AUDIT_THREADS`` setting (1 solves them one after the other)."""
    setting = os.environ.get("JEUGDHUB_AUDIT_THREADS", "").strip()
    if setting.isdigit() and int(setting) >= 1:
        return int(setting)
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cpus = os.cpu_count() or 1
    return max(1, min(4, cpus))


#: HiGHS' simplex_strategy for the audit LPs: 4 is primal (see SingleTargetLP); 1 is HiGHS' dual, the
#: reference bench/hub/bench_audit_lp.py runs beside it.
SIMPLEX_STRATEGY = 4
#: ... and for a model's first solve, with presolve (see ``SingleTargetLP._run``): 1 is dual; None: the
#: first solve as the others (the reference in bench/hub/bench_audit_lp.py).
COLD_SIMPLEX_STRATEGY: int | None = 1


class SingleTargetLP:
    """min ``sign * x[j]`` over ``A x = b``, ``lo <= x <= hi``, for one j after another, warm-started.

    HiGHS (the solver behind SciPy's ``linprog(method="highs")``) through highspy, keeping the model and
    its basis between targets: only the objective changes, so each re-solve starts from the previous
    optimum (a few simplex iterations instead of a cold solve). ``highspy._core._Highs`` is the class the
    public ``highspy.Highs`` wraps; the wrapper prints a banner on the process's C-level stdout.

    With ``clip`` (the local indices of the targets and their required high and low points) the model
    also holds, per target j, ``y⁺_j ≤ x_j`` with ``y⁺_j ≤ hi point`` and ``y⁻_j ≥ x_j`` with
    ``y⁻_j ≥ low point``, at cost 0: ``clipped`` then maximises Σ min(x_j, hi point) (or minimises
    Σ max(x_j, low point)) over a set of targets by changing costs only, warm like the single targets.
    """

    def __init__(self, A, b: np.ndarray, lo: np.ndarray, hi: np.ndarray,
                 clip: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None, cap: float = 1e6):
        n, m = A.shape[1], A.shape[0]
        k = 0 if clip is None else len(clip[0])
        col_lo, col_hi = np.asarray(lo, float), np.asarray(hi, float)
        row_lo = row_hi = np.asarray(b, float)
        matrix = A.tocsc() if not k else None
        if k:
            tl, push_hi, push_lo = clip
            r = np.arange(k)
            # Rows m..m+k: y⁺_j − x_j ≤ 0; rows m+k..m+2k: y⁻_j − x_j ≥ 0.
            clip_rows = csr_matrix((np.concatenate([np.ones(k), -np.ones(k), np.ones(k), -np.ones(k)]),
                                    (np.concatenate([r, r, k + r, k + r]),
                                     np.concatenate([n + r, tl, n + k + r, tl]))), shape=(2 * k, n + 2 * k))
            eq = csr_matrix((A.data, A.indices, A.indptr), shape=(m, n + 2 * k)) if m else csr_matrix((0, n + 2 * k))
            from scipy.sparse import vstack

            matrix = vstack([eq, clip_rows]).tocsc()
            col_lo = np.concatenate([col_lo, np.full(k, -cap), np.asarray(push_lo, float)])
            col_hi = np.concatenate([col_hi, np.asarray(push_hi, float), np.full(k, cap)])
            row_lo = np.concatenate([row_lo, np.full(k, -highspy.kHighsInf), np.zeros(k)])
            row_hi = np.concatenate([row_hi, np.zeros(k), np.full(k, highspy.kHighsInf)])
        self.n, self.k = n, k
        lp = highspy.HighsLp()
        lp.num_col_, lp.num_row_ = n + 2 * k, m + 2 * k
        lp.col_cost_ = np.zeros(n + 2 * k)
        lp.col_lower_, lp.col_upper_ = col_lo, col_hi
        lp.row_lower_, lp.row_upper_ = row_lo, row_hi
        lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
        lp.a_matrix_.num_col_, lp.a_matrix_.num_row_ = n + 2 * k, m + 2 * k
        lp.a_matrix_.start_, lp.a_matrix_.index_, lp.a_matrix_.value_ = matrix.indptr, matrix.indices, matrix.data
        self._h = _highs_core._Highs()
        self._h.setOptionValue("output_flag", False)
        self._h.setOptionValue("presolve", "off")
        # Primal simplex: only costs change between targets, so the last optimum stays a feasible
        # basis and primal simplex goes on from it; HiGHS' default (dual) first has to win back dual
        # feasibility (HiGHS discussion #1617). The demo's three gates take 2.5-2.9x less time with the
        # same releases (bench/README.md, "Audit LPs: primal simplex"). Any optimum is as sound as another.
        self._h.setOptionValue("simplex_strategy", SIMPLEX_STRATEGY)
        self._h.passModel(lp)
        self._costed = np.zeros(0, dtype=np.int32)  # the columns whose cost is not 0 now
        self._cold = True  # no basis yet

    def _set_costs(self, cols: np.ndarray, costs: np.ndarray) -> None:
        h = self._h
        if len(self._costed):
            h.changeColsCost(len(self._costed), self._costed, np.zeros(len(self._costed)))
        cols = np.asarray(cols, dtype=np.int32)
        h.changeColsCost(len(cols), cols, np.asarray(costs, dtype=float))
        self._costed = cols

    def _run(self) -> np.ndarray | None:
        h = self._h
        if self._cold and COLD_SIMPLEX_STRATEGY is not None:
            # The first solve has no basis to go on from: HiGHS' presolve and dual simplex find the first
            # optimum about twice as fast as primal simplex from the slack basis (bench/README.md, "Audit
            # LPs: the first solve"). The warm solves after it use primal simplex, without presolve.
            self._cold = False
            h.setOptionValue("presolve", "on")
            h.setOptionValue("simplex_strategy", COLD_SIMPLEX_STRATEGY)
            h.run()
            h.setOptionValue("presolve", "off")
            h.setOptionValue("simplex_strategy", SIMPLEX_STRATEGY)
        else:
            h.run()
        if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
            return None
        return np.asarray(h.getSolution().col_value)[:self.n]

    def optimum(self, j: int, sign: float) -> np.ndarray | None:
        self._set_costs(np.array([j]), np.array([sign]))
        return self._run()

    def clipped(self, js: np.ndarray, side: str, weight: np.ndarray) -> np.ndarray | None:
        """The optimum of max Σ weight·min(x_j, hi point) over targets ``js`` (side "hi"), or of
        min Σ weight·max(x_j, low point) (side "lo")."""
        base = self.n if side == "hi" else self.n + self.k
        sign = -1.0 if side == "hi" else 1.0
        self._set_costs(base + np.asarray(js), sign * np.asarray(weight, dtype=float))
        return self._run()


def loose_boxes(w: World) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Variables a block may leave free outside it, in a box that keeps every overlap line true.

    A *loose* variable is a vestiging cell (no overlap variable) whose only line besides its unit's
    overlap lines (overlap.py) is one hierarchy line: its column of the type (the distinct counts). Its
    box is its attacker's box cut to ``[t - down, t + up]``, where every overlap line's slack ``s`` is
    shared equally among the members that can use it up (the small side going up, the big side going
    down): a member's ``up`` is its share on the lines where it is small, its ``down`` its share where it
    is big. Any point of these boxes keeps every overlap line of the unit at ``s ≥ 0``: a restriction of
    the attacker's problem, so sound. Returns (loose mask, box low, box high) per variable.
    """
    n = len(w.t)
    n_lines = len(w.line_ptr) - 1
    idx, coef = w.line_idx, w.line_coef
    line_of = np.repeat(np.arange(n_lines), np.diff(w.line_ptr))
    is_ov = w.overlap[idx]
    ov_line = np.zeros(n_lines, dtype=bool)
    ov_line[line_of[is_ov]] = True
    # Distinct other lines per variable (a line repeated by a release over the same variables is one).
    first = np.zeros(n_lines, dtype=bool)
    seen: set[tuple[bytes, bytes]] = set()
    for ln in np.flatnonzero(~ov_line):
        s, e = w.line_ptr[ln], w.line_ptr[ln + 1]
        sig = (idx[s:e].tobytes(), coef[s:e].tobytes())
        if sig not in seen:
            seen.add(sig)
            first[ln] = True
    other_lines = np.bincount(idx[first[line_of]], minlength=n)
    loose = (other_lines == 1) & (w.level == 0) & ~w.overlap
    part = np.flatnonzero(ov_line[line_of] & ~is_ov)
    slack = np.full(n_lines, np.nan)
    ov_pos = np.flatnonzero(is_ov)
    slack[line_of[ov_pos]] = w.t[idx[ov_pos]] - np.maximum(w.lo[idx[ov_pos]], 0.0)
    users = np.bincount(line_of[part], minlength=n_lines)
    share = slack / np.maximum(users, 1)
    up = np.full(n, INF)
    down = np.full(n, INF)
    small = coef[part] < 0
    np.minimum.at(up, idx[part[small]], share[line_of[part[small]]])
    np.minimum.at(down, idx[part[~small]], share[line_of[part[~small]]])
    box_lo = np.maximum(w.lo, w.t - np.maximum(down, 0.0))
    box_hi = np.minimum(w.hi, w.t + np.maximum(up, 0.0))
    # A variable whose box would not contain its true value (cannot happen for a feasible truth) stays fixed.
    loose &= np.isfinite(box_lo) & np.isfinite(box_hi) & (box_lo <= w.t) & (w.t <= box_hi)
    return loose, box_lo, box_hi


def _column_donors(w: World, vest: np.ndarray):
    """For vestiging variables ``vest`` of one family: a function from pending variables to the units
    holding, per (school type, column) of theirs, the ``DONORS`` largest positive values."""
    frame = pd.DataFrame({"v": vest, "tau": w.type_of[vest], "col": w.column[vest], "unit": w.unit[vest],
                          "t": w.t[vest]})
    frame = frame[(frame["t"] > 0) & ~w.overlap[vest]]
    top = (frame.sort_values(["tau", "col", "t", "unit"], ascending=[True, True, False, True], kind="stable")
           .groupby(["tau", "col"], sort=False).head(COLUMN_DONORS))
    by_column = top.groupby(["tau", "col"])["unit"].apply(lambda u: u.to_numpy())

    def donors(pending: np.ndarray) -> np.ndarray:
        if not len(pending):
            return np.zeros(0, np.int64)
        keys = set(zip(w.type_of[pending].tolist(), w.column[pending].tolist()))
        found = [by_column[k] for k in keys if k in by_column.index]
        return np.unique(np.concatenate(found)) if found else np.zeros(0, np.int64)

    return donors


def implied_bounds(A, b: np.ndarray, lo: np.ndarray, hi: np.ndarray, rounds: int):
    """Outer bounds of every point of ``A x = b``, ``lo <= x <= hi``: ``rounds`` passes of each line's
    own bound of each member (trees.py's ``line_intervals``), the boxes tightened after each pass.
    Every feasible point lies within them (each pass only cuts off points that break a line)."""
    rows = A.tocsr()
    out_lo, out_hi = np.array(lo, dtype=float), np.array(hi, dtype=float)
    for _ in range(rounds):
        a_lo, a_hi = line_intervals(rows.indptr, rows.indices, rows.data, out_lo, out_hi, const=np.asarray(b, float))
        np.maximum.at(out_lo, rows.indices, a_lo)
        np.minimum.at(out_hi, rows.indices, a_hi)
    return out_lo, out_hi


def unreachable_sides(A, b: np.ndarray, lo: np.ndarray, hi: np.ndarray, tl: np.ndarray, push_lo: np.ndarray,
                      push_hi: np.ndarray, width: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per target (local index ``tl``): whether its high point ``push_hi`` lies above, and its low point
    ``push_lo`` below, what ``A x = b`` within the boxes lets it reach (``implied_bounds`` with
    ``PROPAGATION_ROUNDS`` passes; none: nothing is ruled out). A point the bounds still admit is never
    ruled out, not even within the tolerance (2 EPS) the LP's own answer is read with. Width targets
    combine their two sides, so neither side of theirs is ruled out."""
    none = np.zeros(len(tl), dtype=bool)
    if not PROPAGATION_ROUNDS or not len(tl):
        return none, none.copy()
    out_lo, out_hi = implied_bounds(A, b, lo, hi, PROPAGATION_ROUNDS)
    above = ~width & (out_hi[tl] < push_hi - 2 * EPS * np.maximum(1.0, np.abs(push_hi)))
    below = ~width & (out_lo[tl] > push_lo + 2 * EPS * np.maximum(1.0, np.abs(push_lo)))
    return above, below


def _ranges(starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """The concatenation of ``arange(s, e)`` for each pair (vectorised)."""
    lengths = ends - starts
    total = int(lengths.sum())
    if not total:
        return np.zeros(0, np.int64)
    offsets = np.repeat(starts - np.concatenate([[0], np.cumsum(lengths)[:-1]]), lengths)
    return np.arange(total) + offsets


def _outside_truth(rows, cols, vals, rhs, n_block: int, n_out: int, t_block: np.ndarray) -> np.ndarray:
    """The true value of each outside column: its row's rhs less the row's block members at their truth."""
    if not n_out:
        return np.zeros(0)
    is_out = cols >= n_block
    row_sum = np.zeros(len(rhs))
    np.add.at(row_sum, rows[~is_out], vals[~is_out] * t_block[cols[~is_out]])
    t_out = np.zeros(n_out)
    t_out[cols[is_out] - n_block] = rhs[rows[is_out]] - row_sum[rows[is_out]]
    return t_out


def _mix(x: np.ndarray) -> np.ndarray:
    """SplitMix64's finaliser on uint64 values (wrapping arithmetic): a well-spread hash of each."""
    x = x.copy()
    x ^= x >> np.uint64(30)
    x *= np.uint64(0xBF58476D1CE4E5B9)
    x ^= x >> np.uint64(27)
    x *= np.uint64(0x94D049BB133111EB)
    x ^= x >> np.uint64(31)
    return x


def _first_of_equal_exact(starts: np.ndarray, ends: np.ndarray, *columns: np.ndarray) -> np.ndarray:
    seen: set[tuple[bytes, ...]] = set()
    out = np.zeros(len(starts), dtype=bool)
    for i, (a, b) in enumerate(zip(starts.tolist(), ends.tolist())):
        sig = tuple(c[a:b].tobytes() for c in columns)
        if sig not in seen:
            seen.add(sig)
            out[i] = True
    return out


def first_of_equal_segments(starts: np.ndarray, ends: np.ndarray, *columns: np.ndarray) -> np.ndarray:
    """For non-empty segments ``[starts[i], ends[i])`` of ``columns`` (arrays of one length): True at the
    first segment of each distinct sequence of entries (every column equal, in order, bit for bit).

    Exact, and vectorised: segments are grouped by their length and two position-dependent 64-bit
    hashes, then every segment taken as a repeat is compared entry by entry with the first of its
    group; should two different segments ever share the hashes, the plain loop decides instead.
    """
    n = len(starts)
    if n == 0:
        return np.zeros(0, dtype=bool)
    lengths = ends - starts
    idx = _ranges(starts, ends)
    pos = (np.arange(len(idx)) - np.repeat(np.cumsum(lengths) - lengths, lengths)).astype(np.uint64)
    picked = [np.ascontiguousarray(c[idx]) for c in columns]
    # Bit for bit: an 8-byte column as its bits (a float's sign of zero included), a smaller one widened.
    words = [b.view(np.uint64) if b.dtype.itemsize == 8 else b.astype(np.int64).view(np.uint64) for b in picked]
    with np.errstate(over="ignore"):
        h1 = _mix(pos * np.uint64(0x9E3779B97F4A7C15) + np.uint64(1))
        h2 = _mix(pos * np.uint64(0xD1B54A32D192ED03) + np.uint64(2))
        for k, w in enumerate(words):
            h1 = _mix(h1 ^ _mix(w + np.uint64(0x632BE59BD9B4E019 * (k + 1) % 2**64)))
            h2 = _mix(h2 + _mix(w ^ np.uint64(0x8CB92BA72F3D8DD7 * (k + 1) % 2**64)))
        s1 = np.add.reduceat(h1, np.cumsum(lengths) - lengths)
        s2 = np.add.reduceat(h2, np.cumsum(lengths) - lengths)
    # Group the segments by (length, s1, s2): a stable sort puts each group's first segment first.
    lengths_u = lengths.astype(np.uint64)
    order = np.lexsort((s2, s1, lengths_u))
    new_key = np.ones(n, dtype=bool)
    new_key[1:] = ((lengths_u[order][1:] != lengths_u[order][:-1]) | (s1[order][1:] != s1[order][:-1])
                   | (s2[order][1:] != s2[order][:-1]))
    group = np.empty(n, dtype=np.int64)
    group[order] = np.cumsum(new_key) - 1
    firsts = order[new_key]  # per group, its first segment
    first = np.zeros(n, dtype=bool)
    first[firsts] = True
    dup = np.flatnonzero(~first)
    if len(dup):
        rep = firsts[group[dup]]
        mine = _ranges(starts[dup], ends[dup])
        theirs = _ranges(starts[rep], ends[rep])
        if not all(c[mine].tobytes() == c[theirs].tobytes() for c in columns):
            return _first_of_equal_exact(starts, ends, *columns)
    return first


class BlockLPs:
    """The LP side of one audit: blocks of a :class:`World`'s variables and their certified bounds."""

    def __init__(self, world: World, cache: AuditCache | None, stats: "AuditStats"):
        self.w = world
        self.cache = cache
        self.stats = stats
        n = len(world.t)
        line_of = np.repeat(np.arange(len(world.line_ptr) - 1), np.diff(world.line_ptr))
        order = np.argsort(world.line_idx, kind="stable")
        ptr = np.zeros(n + 1, dtype=np.int64)
        np.add.at(ptr, world.line_idx + 1, 1)
        self.var_ptr = np.cumsum(ptr)
        self.var_lines = line_of[order]
        self.loose, self.loose_lo, self.loose_hi = loose_boxes(world)

    def block_sets(self, families: np.ndarray, pending_var: np.ndarray,
                   family: np.ndarray | None = None) -> list[np.ndarray | tuple[np.ndarray, np.ndarray]]:
        """:meth:`iter_blocks` as a list."""
        return list(self.iter_blocks(families, pending_var, family))

    def iter_blocks(self, families: np.ndarray, pending_var: np.ndarray,
                    family: np.ndarray | None = None) -> Iterator[np.ndarray | tuple[np.ndarray, np.ndarray]]:
        """LP blocks for the pending targets of the two-dimensional families (rows × categories × hierarchy).

        A family of at most ``WHOLE_FAMILY_VARS`` variables is one block (exact). In a larger one, a
        block is a *chunk* (a school type of at most ``TYPE_BLOCK_UNITS`` vestigingen whole, else
        ``CHUNK_UNITS`` of its vestigingen) plus every schooltype and regio cell plus the donors: per
        (schooltype, column) the ``DONORS`` vestigingen with the largest values, which let a hidden type
        cell move along the regio column. Everything else is fixed at its true value. ``family``: other
        family ids to take the families from (a part of a family, ``Auditor.run``); default the world's.
        """
        w = self.w
        family = w.family if family is None else family
        for fam in families:
            # int32: at national scale a block is large (every chunk holds its family's type and regio
            # cells and its donors).
            vars_f = np.flatnonzero(family == fam).astype(np.int32)
            if not pending_var[vars_f].any():
                continue
            # A family with cells that are neither network arcs nor overlap variables (the distinct counts,
            # overlap.py) is always done in chunks (small LPs): only what they leave gets the whole family
            # (Auditor.run). The network parts of a family (``family``) and the cost and support families are not.
            netless = bool(((w.role[vars_f] == 0) & ~w.overlap[vars_f]).any())
            if len(vars_f) <= WHOLE_FAMILY_VARS and not netless:  # small enough for the exact problem
                yield vars_f
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
                if netless:
                    # Many columns (every care type, group, consortium and provider): donors per column
                    # would bring in nearly every unit. The DONORS units with the most in all columns
                    # together carry the large values of most columns.
                    size = pd.Series(w.t[pv]).groupby(w.unit[pv]).sum().sort_values(ascending=False, kind="stable")
                    donor_units.update(int(u) for u in size.index[:DONORS])
                else:
                    col = w.column[pv]
                    for c in np.unique(col):
                        cv = pv[col == c]
                        top = cv[np.lexsort((w.unit[cv], -w.t[cv]))][:DONORS]
                        donor_units.update(int(u) for u in w.unit[top])
                if len(units) <= TYPE_BLOCK_UNITS and not netless:
                    # A small type whole, with its own type cells: a hidden type cell moves with all of
                    # its vestigingen (which a donors-only block would hold fixed).
                    own = aggr & (lv == 1) & (type_of == tau)
                    chunks.append((units, own))
                    aggr_pending &= ~own
                else:
                    chunks += [(units[i:i + CHUNK_UNITS], None) for i in range(0, len(units), CHUNK_UNITS)]
            donors = np.isin(unit_of, np.array(sorted(donor_units), dtype=np.int64)) & ~aggr
            column_donors = _column_donors(w, vest) if netless else None
            for units, own in chunks:
                chosen = np.isin(unit_of, units)
                own_vars = None
                if column_donors is not None:
                    own_vars = np.sort(vars_f[chosen | aggr])  # the donors' targets are their own chunks' work
                    # Per column with a pending target in the chunk: the units of its type with the most
                    # there, which can take what the target's unit gives (a rare care type is 0 nearly
                    # everywhere, and the units by total would hold none of it).
                    cp = vars_f[chosen & pending_var[vars_f] & ~aggr]
                    extra = column_donors(cp)
                    if len(extra):
                        chosen |= np.isin(unit_of, extra)
                pending = pending_var[vars_f[chosen]].any() or (own is not None and pending_var[vars_f[own]].any())
                if pending:
                    block = np.sort(vars_f[chosen | aggr | donors])
                    yield block if own_vars is None else (block, own_vars)
            if aggr_pending.any():  # regio cells and the type cells of large types
                yield np.sort(vars_f[aggr | donors])


    def _system(self, block: np.ndarray, free: np.ndarray):
        """Rows of the restricted system: lines touching the block, over its free variables, plus one
        *outside* column per line for the loose variables of units outside the block (``loose_boxes``).

        Returns (rows, cols, vals, rhs, outside_lo, outside_hi): the outside columns follow the block's
        ``len(block)`` variables. A loose variable is in no other row of the system, so the sum of a
        line's loose members takes exactly every value between the sums of their boxes' ends.
        """
        w = self.w
        empty = np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0), np.zeros(0), np.zeros(0), np.zeros(0)
        if not len(block):
            return empty
        # ``free`` is the block as a mask, and the block sorted: its columns are found by searchsorted.
        assert int(free.sum()) == len(block) and bool(free[block].all()) and bool((np.diff(block) > 0).all())
        touched = np.zeros(len(w.line_ptr) - 1, dtype=bool)  # a mask, not np.unique: O(lines), no hashing
        touched[self.var_lines[_ranges(self.var_ptr[block], self.var_ptr[block + 1])]] = True
        lines = np.flatnonzero(touched)
        starts, ends = w.line_ptr[lines], w.line_ptr[lines + 1]
        pos = _ranges(starts, ends)
        entry_line = np.repeat(np.arange(len(lines)), ends - starts)
        member, coef = w.line_idx[pos], w.line_coef[pos]
        is_free = free[member]
        # Loose only in units with no variable in the block: their overlap lines then have no free member,
        # so the shares of their slacks (``loose_boxes``) hold however the block moves. (Per line entry,
        # not per variable of the world: a block touches few of them.)
        loose = self.loose[member] & ~is_free
        if loose.any():
            loose &= ~np.isin(w.unit[member], np.unique(w.unit[block]))
        # One row per line with a free member, the first of lines that repeat (another release's copy of
        # the same line over the same free variables).
        fe = np.flatnonzero(is_free)
        bounds = np.searchsorted(entry_line[fe], np.arange(len(lines) + 1))
        keep = np.zeros(len(lines), dtype=bool)
        with_free = np.flatnonzero(bounds[1:] > bounds[:-1])
        keep[with_free] = first_of_equal_segments(bounds[with_free], bounds[with_free + 1], member[fe], coef[fe])
        n_rows = int(keep.sum())
        if not n_rows:
            return empty
        row_of = np.cumsum(keep) - 1
        sel = is_free & keep[entry_line]
        # The block's own (free) variables by their place in the block, which is sorted.
        rows, cols, vals = row_of[entry_line[sel]], np.searchsorted(block, member[sel]), coef[sel].astype(float)
        rhs = np.bincount(rows, weights=vals * w.t[member[sel]], minlength=n_rows)
        out_lo = out_hi = np.zeros(0)
        out = loose & keep[entry_line]
        # The loose variables this system lets move (each within its box): with the block, every variable
        # a point of this problem may hold away from its true value (``BlockLPs.movable`` and ``loose_moved``).
        self._last_loose = np.unique(member[out])
        if out.any():
            o_row, o_coef, o_member = row_of[entry_line[out]], coef[out].astype(float), member[out]
            end_a, end_b = o_coef * self.loose_lo[o_member], o_coef * self.loose_hi[o_member]
            lo_sum = np.bincount(o_row, weights=np.minimum(end_a, end_b), minlength=n_rows)
            hi_sum = np.bincount(o_row, weights=np.maximum(end_a, end_b), minlength=n_rows)
            truth = np.bincount(o_row, weights=o_coef * w.t[o_member], minlength=n_rows)
            with_out = np.zeros(n_rows, dtype=bool)
            with_out[o_row] = True
            with_out &= hi_sum > lo_sum
            out_rows = np.flatnonzero(with_out)
            rhs[out_rows] += truth[out_rows]
            rows = np.concatenate([rows, out_rows])
            cols = np.concatenate([cols, len(block) + np.arange(len(out_rows))])
            vals = np.concatenate([vals, np.ones(len(out_rows))])
            out_lo, out_hi = lo_sum[out_rows], hi_sum[out_rows]
        return rows, cols, vals, rhs, out_lo, out_hi

    def solve(self, block: np.ndarray, free: np.ndarray, tpos: np.ndarray):
        """Certified (lo, hi) of targets ``tpos`` over ``block``, its ``free`` variables free and all else fixed.
        Afterwards ``self.movable`` (the block) and ``self.loose_moved`` (its loose variables, outside it)
        hold the cell variables the problem let move; every other cell variable sat at its true value in
        each point it used (the overlap variables of its lines moved as slacks, in boxes no round
        narrows). And
        ``self.witnesses`` holds, per target, the point behind each end (see below; audit.py's ``Provenance``)."""
        w = self.w
        self._last_loose = np.zeros(0, np.int64)
        self.witnesses = ([None] * len(tpos), [None] * len(tpos))
        rows, cols, vals, rhs, out_lo, out_hi = self._system(block, free)
        # The block is sorted and the loose variables lie outside it (``_system``), both without repeats;
        # kept apart, not merged, so that a problem's record (audit.py's ``Provenance``) holds each once.
        self.movable = block
        self.loose_moved = self._last_loose  # moved only as part of a sum
        tvars_local = np.searchsorted(block, w.target_var[tpos])  # blocks are sorted
        key = None
        if self.cache is not None:
            key = digest([w.t[block], w.lo[block], w.hi[block], rows, cols, vals, rhs, out_lo, out_hi, tvars_local,
                           w.target_kind[tpos], w.req_lo[tpos], w.req_hi[tpos]])
            found = self.cache.get(key)
            if found is not None:
                self.stats.blocks_cached += 1
                if len(found) > 2:
                    self.witnesses = self._in_world(block, found[2])
                return found[0], found[1]
        nv = len(block) + len(out_lo)
        # The outside columns' true value: the sum of their loose members' (the row's rhs balances it).
        t_out = _outside_truth(rows, cols, vals, rhs, len(block), len(out_lo), w.t[block])
        lo_v = np.concatenate([w.lo[block], out_lo])
        hi_v = np.concatenate([w.hi[block], out_hi])
        t_v = np.concatenate([w.t[block], t_out])
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
        jobs = []  # components that need LPs: independent problems, solved side by side (see _solve_all)
        job_vars: dict[int, np.ndarray] = {}  # per job: its component's variables (block-local columns)
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
                args = (A[crow][:, cvars], rhs[crow], lo_v[cvars], hi_v[cvars], t_v[cvars], np.searchsorted(cvars, tl),
                        tpos[which])
                job_vars[id(args)] = cvars
                jobs.append((which, args))
        # Per target and end, the point that certified it: None where a closed form did (no point kept),
        # () where the truth itself is the end, else (the component's variables by their place in the
        # block, a loose sum as -1; their values at that point). Block-local, so that a cached result
        # (the same problem in another gate call, whose variables are numbered otherwise) stays right.
        wit_lo: list = [None] * len(tpos)
        wit_hi: list = [None] * len(tpos)
        for (which, args), (lo_c, hi_c, solved, points, pt_lo, pt_hi) in zip(
                jobs, self._solve_all([args for _, args in jobs])):
            got_lo[which], got_hi[which] = lo_c, hi_c
            self.stats.lps_solved += solved
            cvars = job_vars[id(args)]
            local = np.where(cvars < len(block), cvars, -1)
            for j, a, b in zip(which, pt_lo, pt_hi):
                wit_lo[j] = () if a < 0 else (local, points[a])
                wit_hi[j] = () if b < 0 else (local, points[b])
        self.witnesses = self._in_world(block, (wit_lo, wit_hi))
        if key is not None:
            self.cache.put(key, (got_lo.copy(), got_hi.copy(), (wit_lo, wit_hi)))
        return got_lo, got_hi

    @staticmethod
    def _in_world(block: np.ndarray, witnesses: tuple[list, list]) -> tuple[list, list]:
        """Block-local witnesses (``solve``) with the world's variable numbers (-1 stays -1). The ends of one
        component share its variables' array, mapped once (``Provenance.stale`` checks each point once)."""
        mapped: dict[int, np.ndarray] = {}

        def one(wit):
            if not wit:
                return wit
            local, values = wit
            if id(local) not in mapped:
                mapped[id(local)] = np.where(local >= 0, block[np.maximum(local, 0)], -1)
            return mapped[id(local)], values

        return [one(x) for x in witnesses[0]], [one(x) for x in witnesses[1]]

    def _solve_all(self, jobs: list[tuple]) -> list[tuple[np.ndarray, np.ndarray, int]]:
        """:meth:`_component` for each job, in order. HiGHS releases the GIL while it solves, so the
        components (disjoint variables, one model each) run on up to :func:`lp_threads` threads; each
        result depends only on its own job, so the outcome is the same in any order or thread count."""
        threads = min(lp_threads(), len(jobs))
        if threads <= 1:
            return [self._component(*job) for job in jobs]
        with ThreadPoolExecutor(max_workers=threads, thread_name_prefix="audit-lp") as pool:
            return list(pool.map(lambda job: self._component(*job), jobs))

    def _component(self, A, b, lo, hi, t, tl, tpos):
        """Certified bounds of targets ``tl`` (local indices) from a few LPs.

        Rounds of "maximise sum(min(x_j, required high point))" over the still-unproven targets (and
        the mirror for the low side) prove many targets per LP: every optimum is a feasible point, so
        each target that reaches its required point there is proven. What a round cannot prove gets
        its own LP. Returns (lo, hi, number of LPs solved, the points that set an end, and per target the
        index of the point behind its low and its high end: -1 for the truth); it writes nothing shared
        (threads).
        """
        w = self.w
        kind, req_lo, req_hi = w.target_kind[tpos], w.req_lo[tpos], w.req_hi[tpos]
        # Unbounded variables get a large finite box: a restriction, so still sound, and no unbounded LPs.
        cap = 4 * float(np.max(np.abs(t))) + 1e6 if len(t) else 1e6
        lo_f = np.where(np.isfinite(lo), lo, -cap)
        hi_f = np.where(np.isfinite(hi), hi, cap)
        got_lo = t[tl].astype(float).copy()  # the truth itself is feasible
        got_hi = t[tl].astype(float).copy()
        scale = np.maximum(1.0, (req_hi - req_lo) / 2)
        width = kind == WIDTH

        # The points that set an end (pt_lo / pt_hi: index into ``points``, -1: the truth).
        points: list[np.ndarray] = []
        pt_lo = np.full(len(tl), -1, dtype=np.int64)
        pt_hi = np.full(len(tl), -1, dtype=np.int64)

        def record(x) -> None:
            lower, higher = x[tl] < got_lo, x[tl] > got_hi
            if lower.any() or higher.any():
                points.append(np.array(x, dtype=float))
                pt_lo[lower] = pt_hi[higher] = len(points) - 1
            np.minimum(got_lo, x[tl], out=got_lo)
            np.maximum(got_hi, x[tl], out=got_hi)

        # A width target is proven when it can move its whole width up from its true value (or, failing
        # that, down): the clipped rounds try those points first, as for the two-sided targets.
        t_tl = t[tl].astype(float)
        push_hi = np.where(width, t_tl + (req_hi - req_lo), req_hi)
        push_lo = np.where(width, t_tl - (req_hi - req_lo), req_lo)

        # No LP for a side no feasible point reaches: it stays unproven here, as the LP would leave it.
        beyond_hi, beyond_lo = unreachable_sides(A, b, lo_f, hi_f, tl, push_lo, push_hi, width)

        def width_open() -> np.ndarray:
            return width & ~satisfied(kind, req_lo, req_hi, got_lo, got_hi)

        def need(side: str) -> np.ndarray:
            if side == "hi":
                short = got_hi < push_hi - EPS * np.maximum(1.0, np.abs(push_hi))
                return (~width | width_open()) & ~beyond_hi & short
            # Width targets try the low side only with their box's room below (a count at 0 has none).
            room = lo_f[tl] < t_tl - EPS
            short = got_lo > push_lo + EPS * np.maximum(1.0, np.abs(push_lo))
            return (~width | (width_open() & room)) & ~beyond_lo & short

        solved = [0]
        if not (need("hi").any() or need("lo").any() or width.any()):
            return got_lo, got_hi, 0, points, pt_lo, pt_hi
        # One warm model per component for the clipped rounds and the single targets alike.
        model = SingleTargetLP(A, b, lo_f, hi_f, clip=(tl, push_hi, push_lo), cap=cap)

        def clipped_round(js: np.ndarray, side: str) -> bool:
            solved[0] += 1
            x = model.clipped(js, side, 1.0 / scale[js])
            if x is None:
                return False
            record(x)
            return True

        def single(j: int, sign: float) -> None:
            solved[0] += 1
            x = model.optimum(int(tl[j]), sign)
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
            for j in np.flatnonzero(need(side) & ~width):
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
        return got_lo, got_hi, solved[0], points, pt_lo, pt_hi
