"""The auditor: bounds every hidden cell as an attacker would, from this release and earlier ones.

Attacker model (what a reader of every release knows; world.py's ``attacker_bounds``):
- a published count is ≥ threshold and lies in its rounding window ``[r - b//2, r + b - 1 - b//2]``;
  a published cost lies in its rounding window and is ≥ 0 (``negative_sum`` hides the others);
- a hidden cell is only known to be hidden: every output says ``suppressed`` / "afgeschermd" and
  nothing else, never why. So a hidden count is only known to be ≥ 0 (not "< 10": a reader cannot
  tell a small cell from a partner). A hidden cost may hold refunds, so no reader knows a bound below;
  the auditor grants the strongest true one that leaves the cell its protection P: 0 when
  value − P ≥ 0 (every cost without refunds), else value − P (world.py's ``attacker_bounds``).
  Hidden provider cells are not listed at all (tables.py), so they are only known to be ≥ 0, like counts;
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
- cost cells: protection ``P = ceil(p% * top1)`` on both sides of the true sum, top1 the largest
  absolute per-child amount (the p%-rule's own protection level: no reader can estimate the largest
  contribution, payment or refund, to within p%; world.py's ``cost_protection``).

Decomposition (speed): cells are grouped per (schooljaar, family) — families share no line
(tables.py). A hierarchy-only family (a measure bound by no row and no inequality; today's catalogue
has none left, since ``leerlingen``, ``jeugdbescherming`` and ``jeugdreclassering`` are bound to the
clients by inequalities) whose lines are the same in every release is a tree: exact bounds by
propagation, no LP (trees.py). The distinct counts, the new clients' rows and the pupils are one family
(overlap.py): each category's hierarchy as a tree first (``column_tree_bounds``), then LP chunks.
In the two-dimensional families (rows × categories × hierarchy) the vestiging-level targets go first to
the school-type networks of flows.py: with the type's and region's cells fixed, the lines over a type's
vestigingen are a network, and maximum flows give its exact bounds (chunks with helpers for large types,
the whole type for what a chunk leaves). Fixing variables only *shrinks* the attacker's feasible set, so
an interval proven wide enough in any restriction is at least as wide in the full problem (sound).
What the networks leave (type-level targets, cells a late submission changed, cells whose protection
runs through a hidden type cell) goes to HiGHS LPs (lps.py): one exact problem per family up to
``WHOLE_FAMILY_VARS`` variables, else blocks of one small school type whole (or ``CHUNK_UNITS`` of a
large one's vestigingen) plus every type and regio cell plus the ``DONORS`` largest vestigingen per
column. Hierarchy-only families changed by a late submission are one LP problem each. A block can fail
a cell the full problem would pass (over-suppression, or an unproven cell reported in
``GateResult.audit["failed"]``, which the hub refuses to publish). Inside an LP problem, connected
components with a single line get the exact closed-form bound; in the others, bound propagation first
rules out the target sides no feasible point reaches (they get no LP: lps.py's ``unreachable_sides``),
then rounds of "maximise the sum of min(x, required point)" over the unproven targets (each optimum is
a feasible point, so every target reaching its point there is proven), then one LP per still-unproven
target and side, at most
``MAX_SINGLE_LPS`` per problem and side. Between the rounds of one gate call the certified intervals carry over
(``Auditor(prior=...)``): a round only hides more cells, which widens boxes and keeps lines, so
what an earlier round proved still holds. Network and LP results are cached by a SHA-256 digest of their
inputs (cache.py's ``AuditCache``): after a late submission only problems whose cells changed are solved again.
The cache holds derived bounds of unprotected cells: keep it in the combining process's memory, never
persist or log it.

The pieces: world.py builds the variables, their bounds and the targets from the releases; trees.py,
flows.py and lps.py bound them; this module runs them in that order (``Auditor.run``) and drives the
type networks (``Auditor.network_bounds``).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from . import flows, trees
from .cache import AuditCache, digest
from .lps import BlockLPs
from .world import EPS, INF, TWO_SIDED, WIDTH, World, satisfied


@dataclass
class AuditStats:
    cells_audited: int = 0
    closed_form: int = 0
    lps_solved: int = 0
    blocks: int = 0
    blocks_cached: int = 0
    flows_solved: int = 0  # maximum-flow problems (flows.py)
    network_proven: int = 0  # targets proven by the type networks alone
    carried: int = 0  # targets an earlier round of the same gate call proved (``Auditor(prior=...)``)
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
            "carried": self.carried,
            "min_width": None if self.min_width is None else int(self.min_width),
            "min_cost_protection_ratio": None if self.min_cost_protection is None else round(float(self.min_cost_protection), 4),
            "failed": len(self.failed),
        }


class VarSet:
    """A set of variable numbers, kept small: a national gate keeps two per LP problem (its block and its
    loose variables) for as long as the gate call runs (``Provenance``). Stored as a bitmap over the
    set's range, or as sorted int32 numbers where those take less room; either is exact."""

    __slots__ = ("start", "bits", "values", "size")

    def __init__(self, values) -> None:
        a = np.asarray(values, dtype=np.int64).ravel()
        if len(a) > 1 and not bool((a[1:] > a[:-1]).all()):
            a = np.unique(a)
        self.size = len(a)
        self.start, self.bits, self.values = 0, None, None
        if not len(a):
            self.values = np.zeros(0, np.int32)
            return
        if int(a[0]) < 0 or int(a[-1]) > np.iinfo(np.int32).max:
            raise ValueError("variable numbers out of the int32 range")
        span = int(a[-1]) - int(a[0]) + 1
        if (span + 7) // 8 < 4 * len(a):
            self.start = int(a[0])
            mask = np.zeros(span, dtype=bool)
            mask[a - self.start] = True
            self.bits = np.packbits(mask)
        else:
            self.values = a.astype(np.int32)

    def __len__(self) -> int:
        return self.size

    def contains(self, variables: np.ndarray) -> np.ndarray:
        """Per variable number in ``variables``: whether it is in the set."""
        v = np.asarray(variables, dtype=np.int64)
        if self.bits is None:
            pos = np.searchsorted(self.values, v)
            return (pos < len(self.values)) & (self.values[np.minimum(pos, max(len(self.values) - 1, 0))] == v) \
                if len(self.values) else np.zeros(len(v), dtype=bool)
        off = v - self.start
        inside = (off >= 0) & (off < 8 * len(self.bits))
        out = np.zeros(len(v), dtype=bool)
        o = off[inside]
        out[inside] = (self.bits[o >> 3] >> (7 - (o & 7))) & 1 == 1
        return out

    def meets(self, variables: np.ndarray) -> bool:
        """Whether any of ``variables`` is in the set."""
        return bool(len(variables)) and bool(self.contains(variables).any())

    def to_array(self) -> np.ndarray:
        if self.bits is None:
            return self.values.astype(np.int64)
        return self.start + np.flatnonzero(np.unpackbits(self.bits)).astype(np.int64)


class Provenance:
    """Which problem, and which of its points, certified each end of an interval, over the rounds of one
    gate call.

    A problem is a restriction of the attacker's problem: some variables may move within their boxes
    (its movable set), the overlap variables (overlap.py) move freely as slacks, and every other cell
    variable sits at its true value. Each end it certifies is the target's value at one of its feasible
    points. Between rounds a reveal narrows boxes: the revealed count's, from ≥ 0 to ≥ threshold
    (world.py's ``targets``), and any box that rises with it (a revealed provider would raise the floor
    of its unit's clients, world.py's ``provider_floors``; none is revealed today); the gate passes
    every narrowed variable with its new box (gate.py's ``_carried``). A point is still feasible if each
    narrowed variable is inside its new box there: if it could not move in the problem (it sat at its
    true value, which every box holds), or if the LP point that certified the end (``BlockLPs.witnesses``) has it inside. Overlap
    variables are never narrowed (their box is always ≥ 0); if one were, every end goes stale. Every
    other change between rounds hides a published cell, which widens a box. So only the other ends go
    stale (``stale``). A problem is one of: a set of variables (an LP block with its loose variables, a
    type network); one category's hierarchy in a family (``trees.column_tree_bounds``); a whole family.
    An end without a point (a closed form, a network, a cached block) goes stale whenever a narrowed
    variable could move in its problem.
    """

    def __init__(self) -> None:
        # per problem: ("set", movable, loose), ("column", family, column), ("family", family); a set's two
        # arrays are disjoint (a loose variable lies outside the block), so neither repeats the other
        self._keys: list[tuple] = []
        self._ids: dict[tuple, int] = {}
        self._cert_problem: list[int] = []  # per certificate (an end): its problem
        self._cert_point: list = []  # per certificate: None (no point), () (the truth) or (variables, values)

    def of_set(self, movable: np.ndarray, loose: np.ndarray | None = None) -> int:
        """A problem over the variables ``movable`` and ``loose``: the loose ones (outside ``movable``)
        moved only as part of a sum."""
        self._keys.append(("set", VarSet(movable), VarSet(() if loose is None else loose)))
        return len(self._keys) - 1

    def of_key(self, key: tuple) -> int:
        if key not in self._ids:
            self._ids[key] = len(self._keys)
            self._keys.append(key)
        return self._ids[key]

    def certificate(self, problem: int, point=None) -> int:
        self._cert_problem.append(problem)
        self._cert_point.append(point)
        return len(self._cert_problem) - 1

    def stale(self, w: World, changed: np.ndarray, lo, hi=None) -> np.ndarray:
        """Per certificate: whether the point behind it may lie outside the new boxes of the ``changed``
        variables, ``[lo, hi]`` per changed variable (a scalar applies to all; ``hi`` None: no upper end).

        The gate passes every variable whose box narrowed between two rounds (``narrowed``): a revealed
        count (now ≥ threshold) and whatever that raises with it (the floor a revealed provider puts
        under its unit's clients, world.py's ``provider_floors``).
        """
        changed = np.asarray(changed, dtype=np.int64)
        n = len(w.family)
        new_lo = np.full(n, -np.inf)
        new_hi = np.full(n, np.inf)
        new_lo[changed] = np.broadcast_to(np.asarray(lo, dtype=float), changed.shape)
        if hi is not None:
            new_hi[changed] = np.broadcast_to(np.asarray(hi, dtype=float), changed.shape)
        if len(changed) and w.overlap[changed].any():
            # An overlap variable moves outside the problems' movable sets (lps.py ``solve``) and is in no
            # point: nothing about it is recorded, so every end goes stale (no reveal narrows one today).
            return np.ones(len(self._cert_problem), dtype=bool)
        is_changed = np.zeros(n, dtype=bool)
        is_changed[changed] = True
        floor = new_lo - EPS * np.maximum(1.0, np.abs(np.where(np.isfinite(new_lo), new_lo, 0.0)))
        ceiling = new_hi + EPS * np.maximum(1.0, np.abs(np.where(np.isfinite(new_hi), new_hi, 0.0)))
        families = set(w.family[changed].tolist())
        columns = set(zip(w.family[changed].tolist(), w.column[changed].tolist()))
        touched = np.zeros(len(self._keys), dtype=bool)  # a changed variable could move in the problem
        loose_touched = np.zeros(len(self._keys), dtype=bool)
        for pid, key in enumerate(self._keys):
            if key[0] == "set":
                loose_touched[pid] = key[2].meets(changed)
                touched[pid] = loose_touched[pid] or key[1].meets(changed)
            elif key[0] == "column":
                touched[pid] = (key[1], key[2]) in columns
                loose_touched[pid] = touched[pid]
            else:
                touched[pid] = key[1] in families
                loose_touched[pid] = touched[pid]
        out = np.zeros(len(self._cert_problem), dtype=bool)
        outside: dict[tuple[int, int], bool] = {}  # per point (its arrays are shared by the ends it set)
        for cid, (pid, point) in enumerate(zip(self._cert_problem, self._cert_point)):
            if not touched[pid] or (isinstance(point, tuple) and not point):
                continue
            if point is None or loose_touched[pid]:
                out[cid] = True
                continue
            variables, values = point
            memo = (id(variables), id(values))
            found = outside.get(memo)
            if found is None:
                # The point's variables are the problem's (a loose sum is -1); a changed variable of the
                # problem outside this point's component sat at its true value, which every box holds.
                # The result depends on the two arrays only (the problem's checks ran above), so a cached
                # block's values array shared with other variables (lps.py ``solve``) keys apart.
                at = (variables >= 0) & is_changed[np.maximum(variables, 0)]
                var = variables[at]
                found = bool(((values[at] < floor[var]) | (values[at] > ceiling[var])).any())
                outside[memo] = found
            out[cid] = found
        return out


def narrowed(before: World, after: World) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """The variables whose box is narrower in ``after`` than in ``before`` (two rounds of one gate call,
    the same variables), with their new (lo, hi); None when the worlds do not share their variables."""
    if len(before.lo) != len(after.lo) or not np.array_equal(before.t, after.t):
        return None
    changed = np.flatnonzero((after.lo > before.lo) | (after.hi < before.hi))
    return changed, after.lo[changed], after.hi[changed]


def _improve(got_lo, got_hi, src_lo, src_hi, tpos, lo, hi, cid_lo, cid_hi) -> None:
    """Widen the certified intervals at target positions ``tpos`` by (lo, hi), recording the certificate
    (``Provenance``; one id, or one per position and end) of each end that moved."""
    tpos = np.asarray(tpos, dtype=np.int64)
    if not len(tpos):
        return
    for val, got, src, cid, better, sign in ((np.asarray(lo, float), got_lo, src_lo, cid_lo, np.less, 1.0),
                                             (np.asarray(hi, float), got_hi, src_hi, cid_hi, np.greater, -1.0)):
        cid = np.broadcast_to(np.asarray(cid, dtype=np.int64), tpos.shape)
        order = np.lexsort((sign * val, tpos))
        first = np.r_[True, tpos[order][1:] != tpos[order][:-1]]
        best = order[first]  # per distinct position, the best value of this call
        take = better(val[best], got[tpos[best]])
        got[tpos[best[take]]] = val[best[take]]
        src[tpos[best[take]]] = cid[best[take]]


class Auditor:
    """Runs the audit of a :class:`World`; see the module docstring for the decomposition."""

    def __init__(self, world: World, cache: AuditCache | None = None,
                 prior: tuple[np.ndarray, ...] | None = None, provenance: Provenance | None = None):
        self.w = world
        self.cache = cache
        # Certified (lo, hi) per variable from an earlier round of the same gate call, whose world was a
        # restriction of this one (see ``run``); (INF, -INF) where none; and, with a ``provenance``, the
        # problem id that certified each end (-1 none).
        self.prior = prior
        self.provenance = provenance if provenance is not None else Provenance()
        self.stats = AuditStats()
        self.lps = BlockLPs(world, cache, self.stats)
        #: per variable, after ``run``: (lo, hi, problem of lo, problem of hi)
        self.certified: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None = None

    def network_bounds(self, families: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Flow bounds (flows.py) of the vestiging-level targets of two-dimensional families, per school type.

        Returns target positions, their certified (lo, hi) and the problem (``Provenance``) of each: the
        type's network variables, a superset of what any of its chunks let move. A type of at most ``flows.EXACT_UNITS``
        vestigingen is one exact network; a larger one is done in chunks with helpers, and a target a
        chunk leaves unproven gets its whole type's network.
        """
        w = self.w
        nt = len(w.target_var)
        target_of_var = np.full(len(w.t), -1, dtype=np.int64)
        target_of_var[w.target_var] = np.arange(nt)
        out_pos, out_lo, out_hi, out_pid = [], [], [], []
        in_net = (w.level == 0) & w.in_all & (w.role != flows.NOT_IN_NETWORK)
        fam_sel = np.zeros(int(w.family.max()) + 1 if len(w.family) else 0, dtype=bool)
        fam_sel[families] = True
        cand = np.flatnonzero(in_net & fam_sel[w.family])
        if not len(cand):
            return np.zeros(0, np.int64), np.zeros(0), np.zeros(0), np.zeros(0, np.int64)
        if w.overlap[fam_sel[w.family]].any():
            # A family with inequalities (the new clients' rows in the distinct counts' family): with every
            # cell off the network held at its true value, each inequality caps its network member by its
            # slack (N ≤ C: N at most C's true value). A restriction, so the flows stay sound.
            lo, hi = trees.overlap_boxes(w, fam_sel[w.family])
            w = replace(w, lo=np.where(in_net, lo, w.lo), hi=np.where(in_net, hi, w.hi))
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
                gkey = digest([np.array([11]), w.t[pv], w.lo[pv], w.hi[pv], w.role[pv],
                                np.unique(w.column[pv], return_inverse=True)[1], np.searchsorted(units, w.unit[pv]),
                                t_idx, w.target_kind[tpos], w.req_lo[tpos], w.req_hi[tpos]])
                found = self.cache.get(gkey)
                if found is not None:
                    self.stats.blocks_cached += 1
                    out_pos.append(tpos)
                    out_lo.append(found[0])
                    out_hi.append(found[1])
                    out_pid.append(np.full(len(tpos), self.provenance.certificate(self.provenance.of_set(pv))))
                    continue
            if len(units) <= flows.EXACT_UNITS:
                lo, hi = self._network_block(w, pv, tpos)
            else:
                lo = np.full(len(tpos), INF)
                hi = np.full(len(tpos), -INF)
                # pv is sorted by unit, so each chunk of units is a contiguous slice of pv.
                chunk_of_var = np.searchsorted(units, w.unit[pv]) // flows.CHUNK_UNITS
                helper_vars = pv[np.isin(w.unit[pv], self._helpers(w, pv))]
                t_chunk = chunk_of_var[t_idx]
                bounds = np.searchsorted(chunk_of_var, np.arange(int(chunk_of_var[-1]) + 2))
                for k in np.unique(t_chunk):
                    in_chunk = t_chunk == k
                    own = pv[bounds[k]:bounds[k + 1]]
                    block = np.union1d(own, helper_vars)
                    clo, chi = self._network_block(w, block, tpos[in_chunk])
                    lo[in_chunk], hi[in_chunk] = clo, chi
                short = ~satisfied(w.target_kind[tpos], w.req_lo[tpos], w.req_hi[tpos], lo, hi)
                if short.any():  # the exact problem of the whole type
                    flo, fhi = self._network_block(w, pv, tpos[short])
                    lo[short], hi[short] = np.minimum(lo[short], flo), np.maximum(hi[short], fhi)
            if gkey is not None:
                self.cache.put(gkey, (lo.copy(), hi.copy()))
            out_pos.append(tpos)
            out_lo.append(lo)
            out_hi.append(hi)
            out_pid.append(np.full(len(tpos), self.provenance.certificate(self.provenance.of_set(pv))))
        if not out_pos:
            return np.zeros(0, np.int64), np.zeros(0), np.zeros(0), np.zeros(0, np.int64)
        return np.concatenate(out_pos), np.concatenate(out_lo), np.concatenate(out_hi), np.concatenate(out_pid)

    def _solve_blocks(self, blocks: list, pending: np.ndarray, got_lo: np.ndarray, got_hi: np.ndarray,
                      target_of_var: np.ndarray, src: tuple[np.ndarray, np.ndarray]) -> None:
        """Solve each LP block for its pending targets, in order; updates the arrays (and ``src``, the
        problem of each certified end) in place."""
        w = self.w
        for item in blocks:
            block, own = item if isinstance(item, tuple) else (item, item)
            free = np.zeros(len(w.t), dtype=bool)
            free[block] = True
            # Every block proves what it can about the targets among its own variables (all of its free
            # ones unless it names fewer) that no block before it proved; each block is a restriction of
            # the attacker's problem, so the hull of the proven intervals is sound.
            tpos = target_of_var[own]
            tpos = tpos[tpos >= 0]
            tpos = tpos[pending[tpos]]
            if not len(tpos):
                continue
            self.stats.blocks += 1
            lo, hi = self.lps.solve(block, free, tpos)
            self._take(got_lo, got_hi, src, tpos, lo, hi)
            pending[tpos] = ~satisfied(w.target_kind[tpos], w.req_lo[tpos], w.req_hi[tpos], got_lo[tpos], got_hi[tpos])

    def _take(self, got_lo, got_hi, src, tpos, lo, hi) -> None:
        """Widen the intervals by an LP problem's (lo, hi) (``BlockLPs.solve``, just solved), each end with
        the certificate of the problem and the point behind it."""
        prov = self.provenance
        pid = prov.of_set(self.lps.movable, self.lps.loose_moved)
        wit_lo, wit_hi = self.lps.witnesses
        cid_lo = np.array([prov.certificate(pid, p) for p in wit_lo], dtype=np.int64)
        cid_hi = np.array([prov.certificate(pid, p) for p in wit_hi], dtype=np.int64)
        _improve(got_lo, got_hi, src[0], src[1], tpos, lo, hi, cid_lo, cid_hi)

    def _keyed_certificates(self, keys: list[tuple]) -> np.ndarray:
        """One certificate (without a point) per distinct problem key, per position."""
        prov = self.provenance
        made: dict[tuple, int] = {}
        out = np.empty(len(keys), dtype=np.int64)
        for i, k in enumerate(keys):
            if k not in made:
                made[k] = prov.certificate(prov.of_key(k))
            out[i] = made[k]
        return out

    def _network_parts(self, families: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
        """Of each family with both network arcs and inequalities: its cells with an arc and the overlap
        variables of their inequalities, as family ids of their own (``BlockLPs.block_sets``' ``family``);
        None when no family has both."""
        w = self.w
        n_lines = len(w.line_ptr) - 1
        line_of = np.repeat(np.arange(n_lines), np.diff(w.line_ptr))
        nfam = int(w.family.max()) + 1 if len(w.family) else 0
        family = w.family.copy()
        ids = []
        for fam in families:
            in_fam = w.family == fam
            arcs = in_fam & (w.role != flows.NOT_IN_NETWORK)
            if not arcs.any() or not (in_fam & w.overlap).any():
                continue
            touched = np.zeros(n_lines, dtype=bool)
            touched[line_of[arcs[w.line_idx]]] = True
            part = arcs.copy()
            part[w.line_idx[touched[line_of] & w.overlap[w.line_idx]]] = True
            family[part] = nfam + len(ids)
            ids.append(nfam + len(ids))
        return (family, np.array(ids, dtype=np.int64)) if ids else None

    @staticmethod
    def _helpers(w: World, pv: np.ndarray) -> np.ndarray:
        """Units of a type that join every chunk: per column the ``HELPERS`` with most room down and up
        (``w``: the world as the networks see it, ``network_bounds``)."""
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

    def _network_block(self, w: World, block: np.ndarray, tpos: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Certified (lo, hi) of targets ``tpos`` over the network of ``block`` (all else fixed), in ``w``:
        the world as the networks see it (``network_bounds``)."""
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
        need_up = np.ceil(need_up - EPS * np.maximum(1.0, np.abs(req_hi)))
        need_down = np.ceil(need_down - EPS * np.maximum(1.0, np.abs(req_lo)))
        key = None
        if self.cache is not None:
            key = digest([np.array([7]), t, w.lo[block], w.hi[block], w.role[block], w.column[block],
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

    def run(self) -> tuple[np.ndarray, np.ndarray]:
        """Certified (lo, hi) per target, and updates ``self.stats``."""
        w = self.w
        nt = len(w.target_var)
        got_lo = np.full(nt, INF)
        got_hi = np.full(nt, -INF)
        src = (np.full(nt, -1, dtype=np.int64), np.full(nt, -1, dtype=np.int64))  # problem of each end
        if self.prior is not None:
            # Within one gate call a round only hides more cells: every box widens and the lines stay, so
            # the attacker's feasible set grows, and an interval certified in an earlier round (a set of
            # feasible points) is still certified. Targets it already meets need no new problem.
            got_lo = np.minimum(got_lo, self.prior[0][w.target_var])
            got_hi = np.maximum(got_hi, self.prior[1][w.target_var])
            if len(self.prior) == 4:
                src = (self.prior[2][w.target_var].copy(), self.prior[3][w.target_var].copy())
            self.stats.carried = int(satisfied(w.target_kind, w.req_lo, w.req_hi, got_lo, got_hi).sum())
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
            lo, hi = trees.tree_bounds(w, tree_mask)
            self.stats.closed_form += int(tree_mask[w.target_var].sum())
            sel = tree_mask[w.target_var]
            cids = self._keyed_certificates([("family", int(f)) for f in w.family[w.target_var[sel]]])
            _improve(got_lo, got_hi, src[0], src[1], np.flatnonzero(sel), lo[w.target_var[sel]], hi[w.target_var[sel]],
                     cids, cids)
        # Two-dimensional families: the type networks first (fast, exact per type; for the new clients' rows
        # a restriction, with the distinct counts held).
        fam2 = np.flatnonzero(fam_2d & fam_has_target)
        fam_net = np.zeros(nfam, dtype=bool)
        fam_net[np.unique(w.family[w.role != flows.NOT_IN_NETWORK])] = True
        if (fam_net & fam_2d & fam_has_target).any():
            npos, nlo, nhi, npid = self.network_bounds(np.flatnonzero(fam_net & fam_2d & fam_has_target))
            _improve(got_lo, got_hi, src[0], src[1], npos, nlo, nhi, npid, npid)
            net_ok = satisfied(w.target_kind[npos], w.req_lo[npos], w.req_hi[npos], got_lo[npos], got_hi[npos])
            self.stats.network_proven = int(net_ok.sum())
        # The distinct-count family (inequalities; only its new clients' rows have arcs): each category's
        # hierarchy as a tree, with every other category held at its true value (trees.py,
        # ``column_tree_bounds``). Most of its cells are proven there; the LP blocks get the rest.
        netless = np.zeros(nfam, dtype=bool)  # the families with inequalities: the distinct counts'
        netless[np.unique(w.family[w.overlap])] = True
        netless &= fam_2d & fam_has_target
        if netless.any():
            mask = netless[w.family]
            view = w
            if (netless & changed).any():
                # A family a late submission changed: hold every variable it changed (a key with several
                # values, a cell absent from a release or in another type there) at its true value. Each
                # release's line then binds the unchanged cells alike (their sum is the same constant), so
                # the unchanged cells form the tree of one release: a restriction, so sound.
                multi = np.bincount(w.key, minlength=int(w.key.max()) + 1)[w.key] > 1 if len(w.key) else np.zeros(0, bool)
                hold = mask & changed[w.family] & (multi | ~w.in_all)
                view = replace(w, lo=np.where(hold, w.t, w.lo), hi=np.where(hold, w.t, w.hi))
            lo, hi = trees.column_tree_bounds(view, mask)
            sel = np.flatnonzero(mask[w.target_var])
            before = satisfied(w.target_kind[sel], w.req_lo[sel], w.req_hi[sel], got_lo[sel], got_hi[sel])
            tv = w.target_var[sel]
            cids = self._keyed_certificates([("column", int(f), int(c)) for f, c in zip(w.family[tv], w.column[tv])])
            _improve(got_lo, got_hi, src[0], src[1], sel, lo[tv], hi[tv], cids, cids)
            self.stats.closed_form += int((satisfied(w.target_kind[sel], w.req_lo[sel], w.req_hi[sel],
                                                     got_lo[sel], got_hi[sel]) & ~before).sum())
        pending = ~satisfied(w.target_kind, w.req_lo, w.req_hi, got_lo, got_hi)
        pending_var = np.zeros(len(w.t), dtype=bool)
        pending_var[w.target_var[pending]] = True
        # The networks' rows in a family with inequalities (the new clients' rows next to the distinct
        # counts) first get LPs of their own: the rest of the family held at its true values, the slacks of
        # their inequalities (N ≤ C) free. Small problems (a restriction, so sound) that prove most of what
        # the networks left; the chunks of the whole family get the rest.
        sub = self._network_parts(fam2)
        if sub is not None:
            family, ids = sub
            self._solve_blocks(self.lps.block_sets(ids, pending_var, family=family), pending, got_lo, got_hi,
                               target_of_var, src)
            pending_var[:] = False
            pending_var[w.target_var[pending]] = True
        # What is left goes to LP problems: changed hierarchy-only families whole; two-dimensional ones
        # whole when small, else in chunks (type-level targets, changed cells, what the networks left).
        # The blocks are made one at a time as they are solved (``iter_blocks``): at national scale the
        # chunks of one call, each with its family's type and regio cells, are large together.
        whole: set[int] = set()  # the families some block held whole

        def blocks():
            changed_whole = (np.flatnonzero(w.family == f) for f in np.flatnonzero(~fam_2d & changed & fam_has_target))
            for item in itertools.chain(changed_whole, self.lps.iter_blocks(fam2, pending_var)):
                b = item[0] if isinstance(item, tuple) else item
                whole.update(int(f) for f in np.unique(w.family[b]) if len(b) == int(key_count[f]))
                yield item

        self._solve_blocks(blocks(), pending, got_lo, got_hi, target_of_var, src)
        ok = satisfied(w.target_kind, w.req_lo, w.req_hi, got_lo, got_hi)
        # What the chunks of a large family leave gets the exact problem of its whole family: slower,
        # but only for the few cells (often type and regio cells) that a chunk holds too tightly.
        for fam in np.unique(w.family[w.target_var[~ok]]) if (~ok).any() else ():
            if int(fam) in whole or not fam_2d[fam]:
                continue
            block = np.flatnonzero(w.family == fam)
            tpos = target_of_var[block]
            tpos = tpos[tpos >= 0]
            tpos = tpos[~ok[tpos]]
            free = np.zeros(len(w.t), dtype=bool)
            free[block] = True
            self.stats.blocks += 1
            lo, hi = self.lps.solve(block, free, tpos)
            self._take(got_lo, got_hi, src, tpos, lo, hi)
            ok = satisfied(w.target_kind, w.req_lo, w.req_hi, got_lo, got_hi)
        self.stats.cells_audited = nt
        cert_lo = np.full(len(w.t), INF)
        cert_hi = np.full(len(w.t), -INF)
        cert_lo[w.target_var], cert_hi[w.target_var] = got_lo, got_hi
        src_lo = np.full(len(w.t), -1, dtype=np.int64)
        src_hi = np.full(len(w.t), -1, dtype=np.int64)
        src_lo[w.target_var], src_hi[w.target_var] = src
        self.certified = (cert_lo, cert_hi, src_lo, src_hi)
        self.stats.failed = list(np.flatnonzero(~ok))
        cnt = w.target_kind != TWO_SIDED
        if cnt.any():
            self.stats.min_width = float(np.min(np.floor(got_hi[cnt] + EPS) - np.ceil(got_lo[cnt] - EPS) + 1))
        cost = ~cnt
        if cost.any():
            need = (w.req_hi[cost] - w.req_lo[cost]) / 2
            t = w.t[w.target_var[cost]]
            prot = np.minimum(got_hi[cost] - t, t - got_lo[cost])
            self.stats.min_cost_protection = float(np.min(prot / np.maximum(need, 1)))
        return got_lo, got_hi

