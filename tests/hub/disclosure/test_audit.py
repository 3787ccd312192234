"""The auditor's building blocks: closed-form line bounds and exact tree bounds against a full LP."""

from __future__ import annotations

import numpy as np
from scipy.optimize import linprog

from hub.disclosure.audit import line_intervals


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
