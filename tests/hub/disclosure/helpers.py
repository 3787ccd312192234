"""Small regions for the gate's tests: contributions frames from tuples, random regions, worlds, and the
independent attacker's check that a hidden cell keeps its range."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.optimize import linprog
from scipy.sparse import csr_matrix

from hub.disclosure import GateConfig, apply_gate, combine_cells
from hub.disclosure.frames import PRIMARY, PUBLISHED
from hub.disclosure.gate import _secondary
from hub.disclosure.rules import primary_reasons
from hub.disclosure.tables import build_table
from hub.disclosure.world import ReleaseState, build_world
from shared.codes import AGE_BANDS, VERWIJZERS

from .attacker import Attack, interval, public, width

KEY_COLUMNS = ["level", "unit", "schooljaar", "measure", "category"]

T = 10
JAAR = "2024-2025"
VERWIJZER_CODES = list(VERWIJZERS)
AGES = [a for a, _, _ in AGE_BANDS]
COST_TYPES = ["ambulant", "daghulp", "jeugd-ggz"]
COLUMNS = ["node", "vestigingscode", "schooljaar", "measure", "category", "value", "contributors", "top1", "top2",
           "negatives", "abs_sum", "legacy_negatives"]


def contributions(cells: list[tuple]) -> pd.DataFrame:
    """Rows ``(node, vestiging, measure, category, value[, contributors, top1, top2, negatives[, abs_sum]])``.

    A cost row without ``abs_sum`` is read as a schema-1 node's (frames.py's ``contributions``): its
    ``abs_sum`` is its value when it has no refund, and a refund's size is unknown (``legacy_negatives``).
    """
    rows = []
    for c in cells:
        node, vest, measure, category, value, *rest = c
        contributors = rest[0] if rest else value
        top1, top2, negatives = (rest[1:4] + [0, 0, 0])[:3] if len(rest) > 1 else (0, 0, 0)
        if len(rest) > 4:
            abs_sum, legacy = rest[4], 0
        elif measure == "kosten":
            abs_sum, legacy = abs(value), negatives
        else:
            abs_sum, legacy = 0, 0
        rows.append((node, vest, JAAR, measure, category, value, contributors, top1, top2, negatives, abs_sum, legacy))
    return pd.DataFrame(rows, columns=COLUMNS)


def cost_row(node: str, vest: str, category: str, amounts: list[int]) -> tuple:
    """A schema-2 node's cost cell from its per-child net amounts (aggregate.py's fields, zeros left out)."""
    nonzero = sorted((a for a in amounts if a), key=abs, reverse=True)
    top = [abs(a) for a in nonzero] + [0, 0]
    return (node, vest, "kosten", category, sum(nonzero), len(nonzero), top[0], top[1], sum(a < 0 for a in nonzero),
            sum(abs(a) for a in nonzero))


def schools(mapping: dict[str, str]) -> pd.DataFrame:
    return pd.DataFrame({"vestigingscode": list(mapping), "schooltype": list(mapping.values())})


def gate(cells: list[tuple], types: dict[str, str], config: GateConfig | None = None, history=(), cache=None):
    combined = combine_cells(contributions(cells), schools(types))
    return combined, apply_gate(combined, config or GateConfig(), history=history, cache=cache)


def row(release: pd.DataFrame, unit: str, measure: str, category: str = "", level: str | None = None) -> pd.Series:
    sel = (release["unit"] == unit) & (release["measure"] == measure) & (release["category"] == category)
    if level:
        sel &= release["level"] == level
    found = release[sel]
    assert len(found) == 1, (unit, measure, category, len(found))
    return found.iloc[0]


def key(unit: str, measure: str, category: str = "", level: str = "vestiging") -> tuple:
    return (level, unit, JAAR, measure, category)


def parents(types: dict[str, str]) -> dict[str, str]:
    out = dict(types)
    out.update({t: "regio" for t in set(types.values())})
    return out


def truth(combined: pd.DataFrame) -> dict[tuple, int]:
    """True values per key, zeros for the catalogue's completed cells (absent from ``combined``)."""
    values = {tuple(r[:5]): int(r[5]) for r in combined[["level", "unit", "schooljaar", "measure", "category", "value"]].itertuples(index=False, name=None)}

    class Filled(dict):
        def __missing__(self, k):
            return 0

    return Filled(values)


def assert_protected(release, types, target, combined=None, history=(), threshold=T):
    """Independent LP over what a reader sees: every hidden count keeps ≥ T values."""
    releases = [public(h[1]) for h in history] + [public(release)]
    truths = None
    if combined is not None:
        truths = [truth(h[0]) for h in history] + [truth(combined)]
    lo, hi = interval(releases, parents(types), target, threshold=threshold, truth=truths)
    assert width(lo, hi) >= threshold, (target, lo, hi)
    return lo, hi


def cost_protection(combined: pd.DataFrame, p_percent: int = 10) -> dict[tuple, float]:
    """Per cost cell, the protection docs/disclosure-control.md promises a hidden cost: ⌈p % · top1⌉ of
    the largest absolute per-child amount (computed here, not by the gate)."""
    costs = combined[combined["measure"] == "kosten"]
    return {tuple(r[:5]): float(np.ceil(p_percent * r[5] / 100)) for r in
            costs[KEY_COLUMNS + ["top1"]].itertuples(index=False, name=None)}


def assert_costs_protected(release, types, combined, p_percent: int = 10) -> int:
    """Independent LP over what a reader sees: no hidden cost is known to within its protection P.

    The attacker knows every line and published value, and of each hidden cost the strongest true lower
    bound that could leave it its protection: 0, or its value − P when that is lower (a cost with refunds
    may be negative). Returns how many hidden cost cells were checked."""
    values = truth(combined)
    protection = cost_protection(combined, p_percent)
    hidden = release[(release["measure"] == "kosten") & (release["status"] != PUBLISHED)]
    keys = [tuple(k) for k in hidden[KEY_COLUMNS].itertuples(index=False, name=None)]
    floor = {k: min(0.0, values[k] - protection.get(k, 0.0)) for k in keys}
    attack = Attack([public(release)], parents(types), truth=[values], cost_floor=[floor])
    for k in keys:
        lo, hi = attack.interval(k)
        need = protection.get(k, 0.0)
        assert lo <= values[k] - need + 1e-6 and hi >= values[k] + need - 1e-6, (k, values[k], need, lo, hi)
    return len(keys)


def verwijzer_unit(vest, values, node="0356", leeftijd=True):
    cells = [(node, vest, "leerlingen", "", 400), (node, vest, "nieuwe_clienten", "", sum(values.values()))]
    cells += [(node, vest, "nieuwe_clienten_verwijzer", c, v) for c, v in values.items()]
    if leeftijd:
        cells += [(node, vest, "nieuwe_clienten_leeftijd", "9-11", sum(values.values()))]
    return cells


TYPES3 = {"01AA00": "BO", "02BB00": "BO", "03CC00": "BO"}


def three_schools(first: dict[str, int]):
    cells = verwijzer_unit("01AA00", first)
    cells += verwijzer_unit("02BB00", {"01": 40, "02": 35, "03": 30})
    cells += verwijzer_unit("03CC00", {"01": 25, "02": 45, "03": 50})
    return cells


def region(rng: np.random.Generator, n_units: int, types: tuple[str, ...] = ("BO", "SO"), refunds: float = 0.0):
    """Consistent verwijzer/leeftijd rows and cost rows for ``n_units`` vestigingen over two nodes.

    ``refunds`` > 0: that share of the children's amounts is a refund (negative, up to twice a payment),
    and the cost rows are a schema-2 node's, with absolute amounts."""
    units = {f"{i + 1:02d}AA00": types[i % len(types)] for i in range(n_units)}
    cells = []
    for i, vest in enumerate(units):
        node = "0356" if i % 3 else "0344"
        new = int(rng.choice([0, 2, 4, 7, 12, 25]))
        verw = rng.multinomial(new, np.ones(4) / 4)
        ages = rng.multinomial(new, np.ones(3) / 3)
        cells += [(node, vest, "leerlingen", "", 300), (node, vest, "nieuwe_clienten", "", new)]
        cells += [(node, vest, "nieuwe_clienten_verwijzer", c, int(v)) for c, v in zip(VERWIJZER_CODES[:4], verw) if v]
        cells += [(node, vest, "nieuwe_clienten_leeftijd", a, int(v)) for a, v in zip(AGES[2:5], ages) if v]
        clients = int(rng.integers(3, 30))
        amounts = rng.integers(50_000, 900_000, size=(3, clients))
        if refunds > 0:
            flip = rng.random(amounts.shape) < refunds
            amounts = np.where(flip, -2 * amounts, amounts)
            for z, row in zip(COST_TYPES, amounts):
                cells.append(cost_row(node, vest, z, [int(a) for a in row]))
            cells.append(cost_row(node, vest, "totaal", [int(a) for a in amounts.sum(axis=0)]))
            continue
        for z, row in zip(COST_TYPES, amounts):
            top = np.sort(row)[::-1]
            cells.append((node, vest, "kosten", z, int(row.sum()), clients, int(top[0]), int(top[1]), 0))
        total = amounts.sum(axis=0)
        top = np.sort(total)[::-1]
        cells.append((node, vest, "kosten", "totaal", int(total.sum()), clients, int(top[0]), int(top[1]), 0))
    return cells, units


def distinct_region(rng: np.random.Generator, n_units: int, types: tuple[str, ...] = ("BO", "VO")):
    """Distinct counts with true overlaps (clienten, three care types, their two groups) for ``n_units``
    vestigingen: a child with jeugd-ggz and daghulp counts once in "specialistisch" and once in each."""
    units = {f"{i + 1:02d}AA00": types[i % len(types)] for i in range(n_units)}
    cells = []
    for vest in units:
        ambulant, ggz, daghulp = (int(x) for x in rng.integers(0, 14, 3))
        both = int(rng.integers(0, min(ggz, daghulp) + 1))
        clients = ambulant + ggz + daghulp - both
        cells += [("0356", vest, "leerlingen", "", 300), ("0356", vest, "clienten", "", clients),
                  ("0356", vest, "clienten_zorgtype", "ambulant", ambulant),
                  ("0356", vest, "clienten_zorgtype", "jeugd-ggz", ggz), ("0356", vest, "clienten_zorgtype", "daghulp", daghulp),
                  ("0356", vest, "clienten_zorgintensiteit", "basis", ambulant),
                  ("0356", vest, "clienten_zorgintensiteit", "specialistisch", ggz + daghulp - both)]
    return [c for c in cells if c[4]], units


def suppressed(table, config: GateConfig):
    """(status, reason) of ``table``'s cells after primary and secondary suppression (no audit)."""
    reason = primary_reasons(table.cells, config)
    status = np.where(reason != "", PRIMARY, PUBLISHED).astype(object)
    _secondary(table, status, reason, config, np.zeros(len(table.cells), dtype=bool))
    return status, reason


def world_of(cells, units):
    """The catalogue table and the auditor's world of one release after primary and secondary suppression."""
    table = build_table(combine_cells(contributions(cells), schools(units)))
    config = GateConfig()
    status, reason = suppressed(table, config)
    world, _ = build_world([ReleaseState(table, status, reason)], config)
    return table, world


def assert_within_exact(world, lo, hi, tpos, block):
    """Every interval certified for targets ``tpos`` lies within the exact LP bounds over ``block`` (sound)."""
    cap = 4 * float(np.max(np.abs(world.t[block]))) + 1e6
    ref = lp_reference(world, block, cap, only=np.searchsorted(block, world.target_var[tpos]))
    t = world.t[world.target_var[tpos]]
    assert (np.maximum(lo[tpos], t - cap) >= ref[:, 0] - 1e-6).all()
    assert (np.minimum(hi[tpos], t + cap) <= ref[:, 1] + 1e-6).all()


def lp_reference(world, free: np.ndarray, cap: float, only=None):
    """Min/max of every free variable (or of the positions ``only`` in ``free``), all other variables fixed
    at their true values (HiGHS); an infinite bound is ``cap`` from the true value."""
    pos = np.full(len(world.t), -1)
    pos[free] = np.arange(len(free))
    rows, cols, vals, rhs = [], [], [], []
    for ln in range(len(world.line_ptr) - 1):
        m = world.line_idx[world.line_ptr[ln]:world.line_ptr[ln + 1]]
        a = world.line_coef[world.line_ptr[ln]:world.line_ptr[ln + 1]].astype(float)
        keep = pos[m] >= 0
        if not keep.any():
            continue
        r = len(rhs)
        rows += [r] * int(keep.sum())
        cols += list(pos[m[keep]])
        vals += list(a[keep])
        rhs.append(float(np.dot(a[keep], world.t[m[keep]])))
    A = csr_matrix((vals, (rows, cols)), shape=(len(rhs), len(free)))
    t = world.t[free]
    bounds = np.column_stack([np.where(np.isfinite(world.lo[free]), world.lo[free], t - cap),
                              np.where(np.isfinite(world.hi[free]), world.hi[free], t + cap)])
    out = []
    for j in range(len(free)) if only is None else only:
        ends = []
        for sign in (1.0, -1.0):
            c = np.zeros(len(free))
            c[j] = sign
            res = linprog(c, A_eq=A, b_eq=rhs, bounds=bounds, method="highs")
            assert res.status == 0, res.message
            ends.append(res.x[j])
        out.append(ends)
    return np.array(out)
