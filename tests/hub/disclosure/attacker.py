"""An attacker written independently of the gate: one dense LP over every cell of a published release.

It knows the catalogue's additive lines (derived here from the release rows and a schools mapping),
the rounding windows, "< threshold" (0..T-1) for threshold cells, ≥ threshold for published counts,
and non-negativity (other hidden cells are shown as "afgeschermd", see hub/disclosure/audit.py). With several releases, cells whose true value is unchanged share one
variable (the test says which, by passing the true values).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.optimize import linprog

KEY = ["level", "unit", "schooljaar", "measure", "category"]


def lines_of(release: pd.DataFrame, parent: dict[str, str]) -> list[list[tuple[tuple, int]]]:
    """Every additive line as [(cell key, coefficient), ...] with the total at -1."""
    keys = {tuple(r) for r in release[KEY].itertuples(index=False, name=None)}
    out = []
    by_col: dict[tuple, list[tuple]] = {}
    for k in keys:
        level, unit, jaar, measure, category = k
        if level == "vestiging":
            total = ("schooltype", parent[unit], jaar, measure, category)
        elif level == "schooltype":
            total = ("regio", "regio", jaar, measure, category)
        else:
            continue
        by_col.setdefault(total, []).append(k)
    for total, parts in by_col.items():
        if total in keys:
            out.append([(p, 1) for p in parts] + [(total, -1)])
    rows: dict[tuple, list[tuple]] = {}
    for k in keys:
        level, unit, jaar, measure, category = k
        if measure in ("nieuwe_clienten_verwijzer", "nieuwe_clienten_leeftijd"):
            rows.setdefault((level, unit, jaar, measure, "nieuwe_clienten", ""), []).append(k)
        elif measure == "kosten" and category != "totaal":
            rows.setdefault((level, unit, jaar, "kosten", "kosten", "totaal"), []).append(k)
    for (level, unit, jaar, _kind, tm, tc), parts in rows.items():
        total = (level, unit, jaar, tm, tc)
        if total in keys:
            out.append([(p, 1) for p in parts] + [(total, -1)])
    return out


def interval(releases: list[pd.DataFrame], parent: dict[str, str], target: tuple, *, threshold: int = 10,
             base: int = 5, cost_base: int = 10000, truth: list[dict[tuple, int]] | None = None) -> tuple[float, float]:
    """(min, max) of the target's true value in the LAST release, over everything the releases say."""
    var: dict[tuple, int] = {}

    def var_of(rel_i: int, key: tuple) -> int:
        # Same key and same true value in two releases → one variable (the attacker knows what changed).
        ident = (key, truth[rel_i][key]) if truth else (key, rel_i)
        if ident not in var:
            var[ident] = len(var)
        return var[ident]

    bounds: dict[int, list[float]] = {}
    rows_eq = []
    for i, rel in enumerate(releases):
        for r in rel.itertuples(index=False):
            key = (r.level, r.unit, r.schooljaar, r.measure, r.category)
            v = var_of(i, key)
            b = bounds.setdefault(v, [0.0, np.inf])
            if r.status == "published":
                half = (cost_base if r.measure == "kosten" else base) // 2
                lo, hi = r.value - half, r.value + half
                if r.measure != "kosten":
                    lo = max(lo, threshold)
            elif r.measure == "kosten":
                lo, hi = (-np.inf if r.reason == "negative" else 0.0), np.inf
            elif r.reason == "threshold":
                lo, hi = 0, threshold - 1
            else:
                lo, hi = 0, np.inf
            b[0], b[1] = max(b[0], lo), min(b[1], hi)
        for line in lines_of(rel, parent):
            rows_eq.append({var_of(i, k): c for k, c in line})
    n = len(var)
    A = np.zeros((len(rows_eq), n))
    for j, row in enumerate(rows_eq):
        for v, c in row.items():
            A[j, v] += c
    bnds = [tuple(bounds.get(v, [0.0, np.inf])) for v in range(n)]
    tv = var_of(len(releases) - 1, target)
    out = []
    for sign in (1.0, -1.0):
        c = np.zeros(n)
        c[tv] = sign
        res = linprog(c, A_eq=A if len(rows_eq) else None, b_eq=np.zeros(len(rows_eq)) if len(rows_eq) else None,
                      bounds=bnds, method="highs")
        if res.status == 3:
            out.append(-sign * np.inf)
        else:
            assert res.status == 0, res.message
            out.append(res.x[tv])
    return out[0], out[1]
