"""The overlap figures' contributions: per school, from the overlap counts and the nodes' own cells.

An overlap count (hub/services/overlap.py) is the number of children both in one SWV's support set and
in one municipality's client set at a school; the sets are exactly the pupils of the SWV's
``leerlingen_ondersteuning`` cell and the children of the municipality's ``clienten`` cell there. A
school's figures use its *coverage*: the SWVs and municipalities of its counted pairs. They are made
only when the coverage is complete enough to say what the figures mean (``overlap_contributions``):

- every pair of a covered SWV and a covered municipality was counted (a product, so "both" is the
  overlap of the covered support with the covered care);
- every SWV with pupils with support at the school is covered, so the covered support is the school's
  whole ``leerlingen_ondersteuning`` ("support only" = support − both);
- each side of a pair has at least ``threshold`` children there (the exchange's minimum set size; a
  reader who sees a figure may assume it, docs/disclosure-control.md), and the counts fit their sets;
- in a later release of the school year, the same coverage (node codes) as every earlier release that
  published the school's figures: a pair appearing or disappearing between versions would make the
  difference of two published "both" cells that one pair's count.

Per covered school the rows are node cells like any other (frames.py's contributions), so they sum to
the school types and the regio: ``ondersteuning_en_jeugdhulp`` one row per pair (node: the
municipality), ``ondersteuning_zonder_jeugdhulp`` and ``ondersteuning_vergeleken`` one per covered SWV (its support
less its pairs, its support), ``jeugdhulp_zonder_ondersteuning`` and ``clienten_vergeleken`` one per
covered municipality. Pure
pandas; the gate binds the rows by lines (tables.py) and knows what their existence tells (world.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable, Mapping

import pandas as pd

from shared.codes import (
    CLIENTEN, CLIENTEN_VERGELEKEN, JEUGDHULP_ZONDER_ONDERSTEUNING, LEERLINGEN_ONDERSTEUNING, ONDERSTEUNING_EN_JEUGDHULP,
    ONDERSTEUNING_VERGELEKEN, ONDERSTEUNING_ZONDER_JEUGDHULP,
)

from .frames import CONTRIBUTION_COLUMNS, CONTRIBUTION_INTS, sort_contributions

#: The auditor's own cell per unit with figures: its clients less the compared ones (tables.py). Never
#: listed; hidden as a small group when below the threshold (C − V would tell it), else no target.
NOT_COMPARED = "_niet_vergeleken"
#: A count's identity: (vestigingscode, SWV submission id, municipality submission id).
CountKey = tuple[str, int, int]
#: A school's coverage: the (SWV code, municipality code) pairs its figures were made from.
Coverage = frozenset[tuple[str, str]]


@dataclass
class OverlapInputs:
    """What one release's overlap figures were made from: the counts it used and those it saw."""

    rows: pd.DataFrame  # contributions rows (CONTRIBUTION_COLUMNS)
    used: list[CountKey] = field(default_factory=list)
    coverage: dict[str, Coverage] = field(default_factory=dict)


def count_keys(counts: pd.DataFrame) -> list[CountKey]:
    """The keys of a counts frame (hub/services/overlap.py's ``counts_frame``), sorted."""
    return sorted((str(v), int(s), int(g)) for v, s, g in
                  zip(counts["vestigingscode"], counts["swv_submission_id"], counts["gemeente_submission_id"]))


def _node_cells(contrib: pd.DataFrame, measure: str) -> dict[tuple[str, str], int]:
    sel = contrib[(contrib["measure"] == measure) & (contrib["category"] == "")]
    return {(str(n), str(v)): int(x) for n, v, x in zip(sel["node"], sel["vestigingscode"], sel["value"])}


def overlap_contributions(contrib: pd.DataFrame, counts: pd.DataFrame, schooljaar: str, threshold: int,
                          earlier: Iterable[Mapping[str, Coverage]] = ()) -> OverlapInputs:
    """The overlap figures' rows for the schools whose coverage is complete (module docstring).

    ``contrib``: the release's contributions (the nodes' own cells, school year ``schooljaar``);
    ``counts``: the counts of its submissions; ``earlier``: per earlier release of the school year, the
    coverage of each school it published figures for."""
    empty = OverlapInputs(pd.DataFrame(columns=CONTRIBUTION_COLUMNS).astype(
        {c: "int64" for c in CONTRIBUTION_INTS}))
    if counts is None or not len(counts) or contrib.empty:
        return empty
    support = _node_cells(contrib, LEERLINGEN_ONDERSTEUNING)
    clients = _node_cells(contrib, CLIENTEN)
    fixed: dict[str, Coverage] = {}
    for cov in earlier:
        for v, c in cov.items():
            fixed.setdefault(v, c)
    rows: list[tuple] = []
    used: list[CountKey] = []
    coverage: dict[str, Coverage] = {}
    for vest, group in counts.groupby("vestigingscode", sort=True):
        vest = str(vest)
        pairs: dict[tuple[str, str], tuple[int, CountKey]] = {}
        broken = False
        for s, g, ss, gs, b in zip(group["swv"], group["gemeente"], group["swv_submission_id"],
                                   group["gemeente_submission_id"], group["beide"]):
            s, g, b = str(s), str(g), int(b)
            n_s, n_g = support.get((s, vest)), clients.get((g, vest))
            if n_s is None or n_g is None or n_s < threshold or n_g < threshold:
                continue  # below the exchange's minimum, or the node's cell is not in this release
            if (s, g) in pairs or not 0 <= b <= min(n_s, n_g):
                broken = True  # a count that does not fit its sets: no figure at all here
                break
            pairs[(s, g)] = (b, (vest, int(ss), int(gs)))
        if broken or not pairs:
            continue
        swvs = sorted({s for s, _ in pairs})
        gemeenten = sorted({g for _, g in pairs})
        if len(pairs) != len(swvs) * len(gemeenten):
            continue  # not every covered SWV met every covered municipality
        if any(n > 0 and s not in swvs for (s, v), n in support.items() if v == vest):
            continue  # support of an SWV the exchange did not compare here
        both_s = {s: sum(b for (s2, _), (b, _) in pairs.items() if s2 == s) for s in swvs}
        both_g = {g: sum(b for (_, g2), (b, _) in pairs.items() if g2 == g) for g in gemeenten}
        if any(both_s[s] > support[(s, vest)] for s in swvs) or any(both_g[g] > clients[(g, vest)] for g in gemeenten):
            continue  # a child counted twice (in two municipalities' sets, say): the differences would lie
        cov: Coverage = frozenset(pairs)
        if vest in fixed and fixed[vest] != cov:
            continue  # another coverage than the school year published: the difference would be one pair
        coverage[vest] = cov
        used += [k for _, k in pairs.values()]
        for (s, g), (b, _) in sorted(pairs.items()):
            rows.append((g, vest, ONDERSTEUNING_EN_JEUGDHULP, b))
        for s in swvs:
            rows.append((s, vest, ONDERSTEUNING_ZONDER_JEUGDHULP, support[(s, vest)] - both_s[s]))
            rows.append((s, vest, ONDERSTEUNING_VERGELEKEN, support[(s, vest)]))
        for g in gemeenten:
            rows.append((g, vest, JEUGDHULP_ZONDER_ONDERSTEUNING, clients[(g, vest)] - both_g[g]))
            rows.append((g, vest, CLIENTEN_VERGELEKEN, clients[(g, vest)]))
    if not rows:
        return empty
    frame = pd.DataFrame.from_records(
        [(n, v, schooljaar, m, "", x, x, 0, 0, 0, 0, 0) for n, v, m, x in rows], columns=CONTRIBUTION_COLUMNS)
    for col in CONTRIBUTION_COLUMNS:
        frame[col] = frame[col].astype("int64") if col in CONTRIBUTION_INTS else frame[col].astype(str)
    return OverlapInputs(sort_contributions(frame), sorted(used), coverage)


def coverage_of(counts: pd.DataFrame, used: Iterable[CountKey]) -> dict[str, Coverage]:
    """Per school, the (SWV, municipality) codes of the ``used`` counts (an earlier release's coverage)."""
    keep = set(tuple(k) for k in used)
    out: dict[str, set[tuple[str, str]]] = {}
    for v, s, g, ss, gs in zip(counts["vestigingscode"], counts["swv"], counts["gemeente"],
                               counts["swv_submission_id"], counts["gemeente_submission_id"]):
        if (str(v), int(ss), int(gs)) in keep:
            out.setdefault(str(v), set()).add((str(s), str(g)))
    return {v: frozenset(c) for v, c in out.items()}
