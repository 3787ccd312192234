"""Closed-form bounds (trees.py): one line's bounds and exact tree bounds, each against a full LP."""

from __future__ import annotations

import numpy as np
from scipy.optimize import linprog

from hub.disclosure.trees import line_intervals, tree_bounds

from .helpers import world_of


def _lp_bounds(members, coefs, lo, hi, const=0.0):
    n = len(lo)
    A = np.zeros((1, n))
    A[0, members] = coefs
    out = []
    for v in range(n):
        c = np.zeros(n)
        c[v] = 1
        a = linprog(c, A_eq=A, b_eq=[const], bounds=list(zip(lo, hi)), method="highs")
        b = linprog(-c, A_eq=A, b_eq=[const], bounds=list(zip(lo, hi)), method="highs")
        out.append((a.x[v], b.x[v]))
    return out


def test_line_intervals_equal_the_lp_on_one_line():
    rng = np.random.default_rng(5)
    for _ in range(30):
        n = int(rng.integers(2, 7))
        truth = rng.integers(0, 30, n).astype(float)
        coefs = np.ones(n)
        coefs[-1] = -1
        truth[-1] = truth[:-1].sum()
        lo = np.maximum(0, truth - rng.integers(0, 10, n))
        hi = truth + rng.integers(0, 10, n)
        ilo, ihi = line_intervals(np.array([0, n]), np.arange(n), coefs.astype(np.int8), lo, hi)
        for v, (a, b) in enumerate(_lp_bounds(np.arange(n), coefs, lo, hi)):
            assert abs(ilo[v] - a) < 1e-6 and abs(ihi[v] - b) < 1e-6


def test_line_intervals_with_unbounded_members():
    lo = np.array([0.0, 0.0, 10.0])
    hi = np.array([9.0, np.inf, np.inf])
    ilo, ihi = line_intervals(np.array([0, 3]), np.arange(3), np.array([1, 1, -1], dtype=np.int8), lo, hi)
    assert (ilo[0], ihi[0]) == (0.0, 9.0)
    assert ilo[2] == 10.0 and np.isinf(ihi[2])


def test_tree_bounds_equal_the_full_lp_on_a_hierarchy_family():
    rng = np.random.default_rng(11)
    types = {f"{i:02d}AA00": ("BO" if i % 3 else "VO") for i in range(1, 9)}
    # No measure of today's catalogue is hierarchy-only (jeugdbescherming ≤ leerlingen binds it to the
    # distinct counts' family, overlap.py); tree_bounds still bounds one category's hierarchy, which is
    # what column_tree_bounds gives it. Its lines are the jeugdbescherming columns (the inequality lines
    # have no type or regio total, so tree_bounds leaves them out).
    cells = [("0356", v, "jeugdbescherming", "", int(rng.choice([0, 2, 5, 9, 12, 20, 33]))) for v in types]
    table, world = world_of([c for c in cells if c[4]], types)
    measure = table.cells["measure"].to_numpy()
    mask = measure == "jeugdbescherming"  # one release: variable i is cell i
    assert set(table.cells.loc[mask, "level"]) == {"vestiging", "schooltype", "regio"}
    assert world.two_dim[measure == "clienten"].all()  # the distinct counts: never a tree (audit.py)
    assert np.isfinite(world.hi[mask]).any() and np.isinf(world.hi[mask]).any()  # published and hidden cells
    lo, hi = tree_bounds(world, mask)
    # Full LP over that family's variables and lines.
    vars_ = np.flatnonzero(mask)
    pos = {int(v): i for i, v in enumerate(vars_)}
    rows = []
    for ln in range(len(world.line_ptr) - 1):
        m = world.line_idx[world.line_ptr[ln]:world.line_ptr[ln + 1]]
        if mask[m].all():
            r = np.zeros(len(vars_))
            r[[pos[int(x)] for x in m]] = world.line_coef[world.line_ptr[ln]:world.line_ptr[ln + 1]]
            rows.append(r)
    A = np.array(rows)
    bounds = list(zip(world.lo[vars_], world.hi[vars_]))
    for i, v in enumerate(vars_):
        c = np.zeros(len(vars_))
        c[i] = 1
        a = linprog(c, A_eq=A, b_eq=np.zeros(len(A)), bounds=bounds, method="highs")
        b = linprog(-c, A_eq=A, b_eq=np.zeros(len(A)), bounds=bounds, method="highs")
        assert abs(a.x[i] - lo[v]) < 1e-6
        assert (b.status == 3 and np.isinf(hi[v])) or abs(b.x[i] - hi[v]) < 1e-6


def test_column_tree_bounds_lie_within_the_full_lp_of_the_distinct_family():
    """A restriction: every interval it certifies holds the truth and lies within the exact LP bounds."""
    from hub.disclosure.trees import column_tree_bounds

    from .helpers import lp_reference

    rng = np.random.default_rng(5)
    types = {f"{i:02d}AA00": ("BO" if i % 2 else "VO") for i in range(1, 7)}
    cells = []
    for v in types:
        ambulant, ggz, daghulp = (int(x) for x in rng.integers(0, 14, 3))
        both = int(rng.integers(0, min(ggz, daghulp) + 1))
        clients = ambulant + ggz + daghulp - both
        cells += [("0356", v, "clienten", "", clients), ("0356", v, "clienten_zorgtype", "ambulant", ambulant),
                  ("0356", v, "clienten_zorgtype", "jeugd-ggz", ggz), ("0356", v, "clienten_zorgtype", "daghulp", daghulp),
                  ("0356", v, "clienten_zorgintensiteit", "basis", ambulant),
                  ("0356", v, "clienten_zorgintensiteit", "specialistisch", ggz + daghulp - both)]
    table, world = world_of([c for c in cells if c[4]], types)
    mask = world.overlap.copy()
    mask[world.family == world.family[np.flatnonzero(world.overlap)[0]]] = True
    assert world.overlap[mask].any() and (~world.overlap[mask]).sum() > 30
    lo, hi = column_tree_bounds(world, mask)
    free = np.flatnonzero(mask)
    cap = 1e6
    exact = lp_reference(world, free, cap)
    for j, v in enumerate(free):
        if world.overlap[v]:
            continue
        assert lo[v] <= world.t[v] + 1e-9 <= hi[v] + 2e-9
        e_lo, e_hi = exact[j]
        # (the reference LP boxes unbounded cells at ``cap``: an unbounded pupil count reaches it there)
        assert lo[v] >= min(e_lo, world.t[v]) - 1e-6 and min(hi[v], cap) <= max(e_hi, world.t[v]) + 1e-6
