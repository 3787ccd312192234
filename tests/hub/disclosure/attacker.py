"""An attacker written independently of the gate: LPs over what the releases show, and nothing else.

It reads release frames as a reader gets them (``public``: key, ``status``, ``value``; the API's cells
have exactly these fields) and knows what any reader of the documentation knows:
- the catalogue's additive lines (derived here from the cells present and a school → type mapping,
  which DUO publishes): hierarchy columns, referrer and age rows over ``nieuwe_clienten``, cost
  categories over ``kosten/totaal``, the SWVs' soort groups over ``leerlingen_ondersteuning`` (each
  pupil with support counts under one group, so the groups add up to the total);
- the overlap figures' rows: at every unit "support only" + "both" = the compared support
  (``ondersteuning_vergeleken``), "care only" + "both" = the compared clients (``clienten_vergeleken``);
  at a school with them the compared support is its ``leerlingen_ondersteuning``; and per school the
  compared clients at most ``clienten``, and the compared clients and support at least the threshold
  (a school has the figures only when each compared side had that many children there);
- the documented inequalities between distinct counts per unit (``inequalities_of``), from the
  groupings table and, when given, the provider → consortium table: a care type is at most its
  care-intensity group, a group at most the sum of its care types, a group (or the care type of a
  group of one) at most ``clienten`` and ``clienten`` at most their sum; a consortium at most
  ``clienten`` and ``clienten`` at most the sum of the consortia; a listed provider at most its
  consortium (without the consortium table: at most ``clienten``), and a consortium at most the sum
  of its members where every member is listed; and
  across measures, ``nieuwe_clienten`` at most ``clienten`` (new clients are clients) and ``clienten``,
  ``jeugdbescherming`` and ``jeugdreclassering`` each at most ``leerlingen`` (all count pupils of the unit);
- a published count lies in its rounding window and is ≥ threshold; a published cost lies in its
  rounding window and is ≥ 0; every count is ≥ 0; a hidden cost is ≥ 0 unless it is truly negative
  (the attacker is granted that knowledge when ``truth`` is given), or, with ``cost_floor``, at least
  the floor given per hidden cost (a test grants the strongest true floor that leaves the cell the
  protection docs/disclosure-control.md promises it: 0, or its value minus that protection when lower);
- whatever else a frame tells: a ``reason`` column saying ``threshold`` bounds that cell to
  ``[0, threshold-1]``, one naming a partner to ``[threshold, ∞)`` (the API carried it until it was
  removed; tests/e2e/test_attacker_api.py shows the leak).

With several releases, cells whose true value is unchanged share one variable (the attacker is given
which, through ``truth``; given ``truth``, it also drops an inequality the data do not satisfy, as a
node counting with another table would make it). Problems split into connected components of the
lines and inequalities, each solved with sparse HiGHS LPs (scipy), so a whole region fits in a test.
Written without the gate's code: nothing here comes from hub.disclosure.
"""

from __future__ import annotations

from typing import Mapping

import numpy as np
import pandas as pd
from scipy.optimize import linprog
from scipy.sparse import coo_matrix, vstack
from scipy.sparse.csgraph import connected_components

from shared.codes import GEEN_CONSORTIUM
from shared.groupings import DEFAULT_GROUPINGS, Groupings

KEY = ["level", "unit", "schooljaar", "measure", "category"]
PUBLIC_COLUMNS = KEY + ["status", "value"]
#: Reasons the API once gave for a hidden cell that was chosen as a partner (a publishable count).
PARTNER_REASONS = ("complementary", "audit_partner", "earlier_hidden")


def public(release: pd.DataFrame) -> pd.DataFrame:
    """A release frame as a reader sees it: published or suppressed, a value only when published."""
    out = release[KEY].copy()
    out["status"] = np.where(release["status"] == "published", "published", "suppressed")
    out["value"] = release["value"].where(release["status"] == "published")
    return out


def lines_of(release: pd.DataFrame, parent: dict[str, str]) -> list[list[tuple[tuple, int]]]:
    """Every additive line as [(cell key, coefficient), ...] with the total at -1."""
    keys = {tuple(r) for r in release[KEY].itertuples(index=False, name=None)}
    out = []
    by_col: dict[tuple, list[tuple]] = {}
    for k in keys:
        level, unit, jaar, measure, category = k
        if level == "vestiging":
            if unit not in parent:
                continue
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
        elif measure == "leerlingen_ondersteuning_soort":
            rows.setdefault((level, unit, jaar, measure, "leerlingen_ondersteuning", ""), []).append(k)
        if measure in ("ondersteuning_zonder_jeugdhulp", "ondersteuning_en_jeugdhulp"):
            rows.setdefault((level, unit, jaar, "split", "ondersteuning_vergeleken", ""), []).append(k)
        if measure == "ondersteuning_vergeleken" and level == "vestiging":
            rows.setdefault((level, unit, jaar, "same", "leerlingen_ondersteuning", ""), []).append(k)
        if measure in ("jeugdhulp_zonder_ondersteuning", "ondersteuning_en_jeugdhulp"):
            rows.setdefault((level, unit, jaar, "compared", "clienten_vergeleken", ""), []).append(k)
    for (level, unit, jaar, _kind, tm, tc), parts in rows.items():
        total = (level, unit, jaar, tm, tc)
        if total in keys:
            out.append([(p, 1) for p in parts] + [(total, -1)])
    return out


def inequalities_of(release: pd.DataFrame, groupings: Groupings = DEFAULT_GROUPINGS,
                    consortia: Mapping[str, str] | None = None) -> list[list[tuple[tuple, int]]]:
    """Every documented inequality ``sum(small) <= sum(big)`` between the listed distinct counts of a unit,
    as [(cell key, coefficient), ...] meaning ``sum(coef * x) <= 0`` (small +1, big -1). An inequality
    is only made when every cell it names is listed: an unlisted provider may be hidden with any value."""
    by_unit: dict[tuple, dict[tuple[str, str], tuple]] = {}
    for k in release[KEY].itertuples(index=False, name=None):
        by_unit.setdefault(tuple(k[:3]), {})[(k[3], k[4])] = tuple(k)
    members: dict[str, list[str]] = {}
    for agb, name in sorted((consortia or {}).items()):
        members.setdefault(name, []).append(agb)
    out: list[list[tuple[tuple, int]]] = []

    def at_most(small: list, big: list) -> None:
        if small and big and None not in small and None not in big:
            out.append([(k, 1) for k in small] + [(k, -1) for k in big])

    for cells in by_unit.values():
        clients = cells.get(("clienten", ""))
        pupils = cells.get(("leerlingen", ""))
        at_most([cells.get(("nieuwe_clienten", ""))], [clients])
        for measure in ("clienten", "jeugdbescherming", "jeugdreclassering"):
            at_most([cells.get((measure, ""))], [pupils])
        compared = cells.get(("clienten_vergeleken", ""))
        if compared is not None and compared[0] == "vestiging":
            at_most([compared], [clients])
        # Each care-intensity group's own cell: its group cell, or for a group of one care type that care
        # type's cell (a group of one has no cell: Grouping.counted_codes).
        group_cells = []
        for group in groupings.zorgintensiteit.groups:
            types = [cells.get(("clienten_zorgtype", z)) for z in group.members]
            if len(group.members) == 1:
                group_cells.append(types[0])
                continue
            g = cells.get(("clienten_zorgintensiteit", group.code))
            for z in types:
                at_most([z], [g])
            at_most([g], types)
            group_cells.append(g)
        for g in group_cells:
            at_most([g], [clients])
        at_most([clients], group_cells)
        by_consortium = {c: k for (m, c), k in cells.items() if m == "clienten_consortium"}
        for k in by_consortium.values():
            at_most([k], [clients])
        at_most([clients], list(by_consortium.values()))
        if consortia is None:
            # Without the consortium table a provider is still at most the unit's clients.
            for (m, agb), p in cells.items():
                if m == "clienten_aanbieder":
                    at_most([p], [clients])
            continue
        for (m, agb), p in cells.items():
            if m == "clienten_aanbieder":
                at_most([p], [by_consortium.get(consortia.get(agb, GEEN_CONSORTIUM))])
        for name, agbs in members.items():
            if name != GEEN_CONSORTIUM:  # the other providers are no closed list
                at_most([by_consortium.get(name)], [cells.get(("clienten_aanbieder", a)) for a in agbs])
    return out


class Attack:
    """Everything the releases say, as one sparse system; ``interval(key)`` bounds a cell of the last release."""

    def __init__(self, releases: list[pd.DataFrame], parent: dict[str, str], *, threshold: int = 10, base: int = 5,
                 cost_base: int = 10000, truth: list[dict[tuple, int]] | None = None,
                 groupings: Groupings | None = DEFAULT_GROUPINGS, consortia: Mapping[str, str] | None = None,
                 cost_floor: list[dict[tuple, float]] | None = None):
        """``groupings=None`` leaves the inequalities between distinct counts out (equalities only);
        ``cost_floor`` (per release, hidden cost key → known lower bound) replaces the sign rule for costs."""
        self.threshold = threshold
        self._var: dict[tuple, int] = {}
        self._truth = truth
        self._last = len(releases) - 1
        lo: dict[int, float] = {}
        hi: dict[int, float] = {}
        rows: list[dict[int, int]] = []  # sum(coef * x) == 0
        le_rows: list[dict[int, int]] = []  # sum(coef * x) <= 0
        self.hidden: list[tuple] = []  # keys of the last release's hidden cells
        for i, rel in enumerate(releases):
            told = "reason" in rel.columns
            floors = {(r.level, r.unit, r.schooljaar): ("clienten_vergeleken", "leerlingen_ondersteuning",
                                                         "ondersteuning_vergeleken")
                      for r in rel.itertuples(index=False)
                      if r.level == "vestiging" and r.measure == "clienten_vergeleken"}
            for r in rel.itertuples(index=False):
                key = (r.level, r.unit, r.schooljaar, r.measure, r.category)
                v = self._var_of(i, key)
                if r.status == "published":
                    half = (cost_base if r.measure == "kosten" else base) // 2
                    a, b = float(r.value) - half, float(r.value) + half
                    a = max(a, threshold) if r.measure != "kosten" else max(a, 0.0)
                elif r.measure == "kosten" and cost_floor is not None:
                    a, b = float(cost_floor[i].get(key, 0.0)), np.inf
                elif r.measure == "kosten":
                    negative = truth is not None and truth[i][key] < 0
                    a, b = (-np.inf if negative else 0.0), np.inf
                else:
                    a, b = 0.0, np.inf
                    if told and r.reason == "threshold":
                        b = threshold - 1
                    elif told and r.reason in PARTNER_REASONS:
                        a = threshold  # a partner was publishable, so it holds at least the threshold
                if r.measure in floors.get((r.level, r.unit, r.schooljaar), ()):
                    a = max(a, threshold)  # the figures exist only where each compared side had that many
                if r.status != "published" and i == self._last:
                    self.hidden.append(key)
                lo[v] = max(lo.get(v, -np.inf), a)
                hi[v] = min(hi.get(v, np.inf), b)
            for line in lines_of(rel, parent):
                rows.append({self._var_of(i, k): c for k, c in line})
            for ineq in inequalities_of(rel, groupings, consortia) if groupings is not None else ():
                if truth is not None and sum(c * truth[i][k] for k, c in ineq) > 0:
                    continue  # the data do not satisfy it: no fact
                le_rows.append({self._var_of(i, k): c for k, c in ineq})
        n = len(self._var)
        self.lo = np.array([lo.get(v, 0.0) for v in range(n)])
        self.hi = np.array([hi.get(v, np.inf) for v in range(n)])
        self.A = _matrix(rows, n)
        self.A_ub = _matrix(le_rows, n)
        # Components: variables joined by a line or an inequality.
        both = abs(vstack([self.A, self.A_ub]).tocsr())
        inc = both.T @ both
        _, self.component = connected_components(inc + coo_matrix((np.ones(n), (np.arange(n), np.arange(n))), shape=(n, n)),
                                                 directed=False)
        self._blocks: dict[int, tuple] = {}

    def _var_of(self, rel_i: int, key: tuple) -> int:
        # Same key and same true value in two releases → one variable (the attacker knows what changed).
        ident = (key, self._truth[rel_i][key]) if self._truth else (key, rel_i)
        if ident not in self._var:
            self._var[ident] = len(self._var)
        return self._var[ident]

    def _block(self, comp: int):
        if comp not in self._blocks:
            cols = np.flatnonzero(self.component == comp)
            subs = []
            for M in (self.A, self.A_ub):
                sub = M[:, cols].tocsr()
                subs.append(sub[np.flatnonzero(np.diff(sub.indptr) > 0)])
            self._blocks[comp] = (cols, *subs)
        return self._blocks[comp]

    def infer_classes(self) -> int:
        """What a reader can tell from the intervals themselves: a hidden count whose interval leaves out 0
        is no threshold cell (the gate keeps each of those at all of [0, threshold − 1]), so it holds at
        least the threshold (every other rule hides only counts that large). Raise its lower bound and
        look again until nothing changes; returns how many counts it found."""
        found = 0
        while True:
            more = 0
            for key in self.hidden:
                if key[3] == "kosten":
                    continue
                v = self._var_of(self._last, key)
                if self.lo[v] >= self.threshold:
                    continue
                lo, _ = self.interval(key)
                if lo > 0.5:
                    self.lo[v] = self.threshold
                    more += 1
            found += more
            if not more:
                return found

    def interval(self, key: tuple) -> tuple[float, float]:
        """(min, max) of the cell's true value in the last release, over everything the releases say."""
        v = self._var_of(self._last, key)
        cols, A, A_ub = self._block(int(self.component[v]))
        j = int(np.searchsorted(cols, v))
        bounds = np.column_stack([self.lo[cols], self.hi[cols]])
        out = []
        for sign in (1.0, -1.0):
            c = np.zeros(len(cols))
            c[j] = sign
            res = linprog(c, A_eq=A if A.shape[0] else None, b_eq=np.zeros(A.shape[0]) if A.shape[0] else None,
                          A_ub=A_ub if A_ub.shape[0] else None, b_ub=np.zeros(A_ub.shape[0]) if A_ub.shape[0] else None,
                          bounds=bounds, method="highs")
            if res.status == 3:
                out.append(-sign * np.inf)
            else:
                assert res.status == 0, res.message
                out.append(res.x[j])
        return out[0], out[1]


def _matrix(rows: list[dict[int, int]], n: int):
    r_idx = [j for j, row in enumerate(rows) for _ in row]
    c_idx = [v for row in rows for v in row]
    data = [c for row in rows for c in row.values()]
    return coo_matrix((data, (r_idx, c_idx)), shape=(len(rows), n)).tocsr()


def interval(releases: list[pd.DataFrame], parent: dict[str, str], target: tuple, *, threshold: int = 10,
             base: int = 5, cost_base: int = 10000, truth: list[dict[tuple, int]] | None = None,
             groupings: Groupings | None = DEFAULT_GROUPINGS, consortia: Mapping[str, str] | None = None) -> tuple[float, float]:
    """(min, max) of the target's true value in the LAST release, over everything the releases say."""
    return Attack(releases, parent, threshold=threshold, base=base, cost_base=cost_base, truth=truth,
                  groupings=groupings, consortia=consortia).interval(target)


def width(lo: float, hi: float) -> float:
    """How many integers [lo, hi] holds."""
    return np.floor(hi + 1e-6) - np.ceil(lo - 1e-6) + 1


def narrowed(attack: Attack, keys: list[tuple] | None = None) -> list[tuple[tuple, float, float]]:
    """Hidden cells of the last release whose derivable interval holds fewer than ``threshold`` integers."""
    found = []
    for key in (attack.hidden if keys is None else keys):
        if key[3] == "kosten":
            continue  # costs are protected by the p%-rule, not by a width in children
        lo, hi = attack.interval(key)
        if width(lo, hi) < attack.threshold:
            found.append((key, lo, hi))
    return found


def group_parents(cells: pd.DataFrame) -> dict[str, str]:
    """vestiging → schooltype → regio from an overview's rows (``vestigingscode``, ``schooltype``)."""
    out = dict(zip(cells["vestigingscode"], cells["schooltype"]))
    out.update({t: "regio" for t in set(cells["schooltype"])})
    return out
