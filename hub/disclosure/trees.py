"""Closed-form bounds: one line alone (``line_intervals``) and the hierarchy-only families (``tree_bounds``).

A line ``sum(coef * x) = const`` over boxes bounds each member exactly, given that line alone. In a
family whose only lines are the hierarchy columns (vestigingen → type → regio) and whose lines are the
same in every release, the lines form a tree, and propagating those bounds up and down the tree gives
every variable's exact projection: no LP (audit.py decides which families qualify).
"""

from __future__ import annotations

import numpy as np

from dataclasses import replace

from .world import INF, World


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


def tree_bounds(w: World, var_mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Exact bounds in hierarchy-only families: a tree of lines (vestigingen → type → regio).

    On an acyclic system of sum constraints over boxes, propagating bounds up and then down gives
    each variable's exact projection: (1) a type's range from its children, (2) the regio line
    with those ranges, (3) the type lines with the types' final ranges. ``var_mask`` selects the
    families' variables; the bounds of every other variable are its box.
    """
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
    return lo, hi



def _overlap_lines(w: World, var_mask: np.ndarray) -> np.ndarray:
    """Per line: whether it holds an overlap variable (overlap.py) among ``var_mask``."""
    n_lines = len(w.line_ptr) - 1
    line_of = np.repeat(np.arange(n_lines), np.diff(w.line_ptr))
    has_overlap = np.zeros(n_lines, dtype=bool)
    has_overlap[line_of[var_mask[w.line_idx] & w.overlap[w.line_idx]]] = True
    return has_overlap


def overlap_boxes(w: World, var_mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The world's boxes, with each variable of ``var_mask`` narrowed to what its overlap lines leave it
    when every other member of them is held at its true value.

    An overlap line ``Σ big − Σ small − s = 0`` then lets its one moving member use up the slack ``s``
    (its true value less its lower bound): up when the member is on the small side, down when on the big
    side; and grow it as far as its upper bound allows (none for an overlap variable in the reader's
    box, world.py; its true value where a late submission's audit holds it): down on the small side, up
    on the big side. A restriction of the attacker's problem (every other member fixed, ``s`` taking up the rest), so
    bounds proven within these boxes over the remaining lines are sound.
    """
    n_lines = len(w.line_ptr) - 1
    line_of = np.repeat(np.arange(n_lines), np.diff(w.line_ptr))
    member, coef = w.line_idx, w.line_coef
    in_fam = var_mask[member]
    is_ov = w.overlap[member]
    has_overlap = _overlap_lines(w, var_mask)
    slack_of_line = np.full(n_lines, np.nan)
    ov_pos = np.flatnonzero(in_fam & is_ov)
    slack_of_line[line_of[ov_pos]] = w.t[member[ov_pos]] - np.maximum(w.lo[member[ov_pos]], 0.0)
    grow_of_line = np.full(n_lines, np.nan)
    grow_of_line[line_of[ov_pos]] = w.hi[member[ov_pos]] - w.t[member[ov_pos]]
    lo, hi = w.lo.copy(), w.hi.copy()
    part = np.flatnonzero(in_fam & ~is_ov & has_overlap[line_of])
    slack = slack_of_line[line_of[part]]
    grow = grow_of_line[line_of[part]]
    up = np.full(len(w.t), INF)
    down = np.full(len(w.t), INF)
    small = coef[part] < 0
    np.minimum.at(up, member[part[small]], slack[small])
    np.minimum.at(down, member[part[~small]], slack[~small])
    np.minimum.at(down, member[part[small]], grow[small])
    np.minimum.at(up, member[part[~small]], grow[~small])
    fam = np.flatnonzero(var_mask)
    lo[fam] = np.maximum(lo[fam], w.t[fam] - down[fam])
    hi[fam] = np.minimum(hi[fam], w.t[fam] + up[fam])
    return lo, hi


def column_tree_bounds(w: World, var_mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Certified bounds in the distinct-count family, one category's hierarchy at a time.

    Hold every other category at its true value: an overlap line ``Σ big − Σ small − s = 0``
    (overlap.py) then bounds its one moving member by the slack ``s`` (up when the member is on the
    small side, down when on the big side), and what is left of the category is a tree of hierarchy
    lines over those boxes. Its exact bounds (``tree_bounds``) are the projection of a restriction of
    the attacker's problem, so they are sound: they can be too narrow (the LPs try again), never too
    wide. Only for a family whose lines are the same in every release. A row line (one unit's categories)
    holds its members at their true values.
    """
    n_lines = len(w.line_ptr) - 1
    line_of = np.repeat(np.arange(n_lines), np.diff(w.line_ptr))
    member, coef = w.line_idx, w.line_coef
    in_fam = var_mask[member]
    has_overlap = _overlap_lines(w, var_mask)
    lo, hi = overlap_boxes(w, var_mask)
    # A row line (an equality within one unit: the support's soort row and the overlap figures' rows,
    # tables.py) binds members of different categories: with every other category held, each of its
    # members is held too (a restriction, so sound; the LPs try them free).
    row_line = np.zeros(n_lines, dtype=bool)
    plain = in_fam & ~has_overlap[line_of]
    if plain.any():
        first_unit = np.full(n_lines, -1, dtype=np.int64)
        pos = np.flatnonzero(plain)
        first_unit[line_of[pos[::-1]]] = w.unit[member[pos[::-1]]]
        other = np.zeros(n_lines, dtype=bool)
        other[line_of[pos[w.unit[member[pos]] != first_unit[line_of[pos]]]]] = True
        row_line[np.unique(line_of[pos])] = True
        row_line &= ~other
        pinned = np.unique(member[row_line[line_of] & in_fam])
        lo[pinned], hi[pinned] = w.t[pinned], w.t[pinned]
    # The hierarchy lines of the family only (no overlap line, no row), over the restricted boxes.
    keep = ~has_overlap[line_of] & ~row_line[line_of]
    counts = np.bincount(line_of[keep], minlength=n_lines)
    view = replace(w, lo=lo, hi=hi, line_ptr=np.concatenate([[0], np.cumsum(counts)]),
                   line_idx=member[keep], line_coef=coef[keep])
    return tree_bounds(view, var_mask & ~w.overlap)
