"""The inequalities between distinct counts, as lines with an overlap variable the auditor adds.

A distinct count over a group of categories lies between its largest part and the sum of its parts:
a child with two care types counts once in their group and once in each type. Every such relation
``Σ small ≤ Σ big`` becomes the line ``Σ big − Σ small − s = 0`` with an *overlap* variable ``s ≥ 0``
(its true value is the slack: the children counted twice). A reader knows the relation but not ``s``:
the overlap cells are never published, never listed, never a target, and the attacker's box for
them is ``[0, ∞)`` (world.py), so the LP sees exactly the inequality.

Per unit (vestiging, schooltype, regio) and school year, with C = ``clienten``, Z = ``clienten_zorgtype``,
G = ``clienten_zorgintensiteit``, K = ``clienten_consortium``, P = ``clienten_aanbieder``:

- Z_z ≤ G_g(z) and G_g ≤ Σ_{z in g} Z_z; G_g ≤ C and C ≤ Σ_g G_g, where a group of one care type
  (no cell of its own, ``Grouping.counted_codes``) is that care type's cell;
- K_k ≤ C and C ≤ Σ_k K_k (the consortium list is fixed: every consortium cell exists, 0 included);
- P_p ≤ K_k(p) for every provider cell that exists (in a school year without consortium cells, P_p ≤ C
  is no line but a floor under C's box: world.py's ``provider_floors``); K_k ≤ Σ_{p in k} P_p only
  where every member of consortium k has a cell at the unit (a reader cannot tell a member without pupils there from a
  hidden one, so with any member missing the sum has an unbounded part and says nothing). Providers
  outside the table belong to :data:`~shared.codes.GEEN_CONSORTIUM`, whose member list is open;
- across measures, with N = ``nieuwe_clienten``, L = ``leerlingen``, JB = ``jeugdbescherming`` and
  JR = ``jeugdreclassering``: N ≤ C (a new client is a client of the unit that year), and C ≤ L,
  JB ≤ L, JR ≤ L (each counts pupils of the unit). These bind the new clients' rows and the pupils to
  the distinct counts, so all of them are one family (tables.family_of): audited apart, a published
  ``nieuwe_clienten`` would bound a hidden ``clienten`` from below unseen by the auditor.

A relation the data do not satisfy (a negative slack: a node counted with another groupings or
consortium table) is dropped, like an additive line that does not add up (tables.py).
"""

from __future__ import annotations

from typing import Mapping

import numpy as np
import pandas as pd

from shared.codes import (
    CLIENTEN, CLIENTEN_AANBIEDER, CLIENTEN_CONSORTIUM, CLIENTEN_ZORGINTENSITEIT, CLIENTEN_ZORGTYPE, GEEN_CONSORTIUM,
    JEUGDBESCHERMING, JEUGDRECLASSERING, LEERLINGEN, NIEUWE_CLIENTEN,
)
from shared.groupings import Groupings

#: The measure of the overlap variables (internal: never in a release frame).
OVERLAP = "_overlap"
#: Measures bound by these relations: one family per school year (tables.family_of).
DISTINCT_FAMILY = frozenset({CLIENTEN, CLIENTEN_ZORGTYPE, CLIENTEN_ZORGINTENSITEIT, CLIENTEN_CONSORTIUM,
                             CLIENTEN_AANBIEDER, OVERLAP, NIEUWE_CLIENTEN, LEERLINGEN, JEUGDBESCHERMING,
                             JEUGDRECLASSERING})

_UNIT = ["level", "unit", "schooljaar"]


def relations(cells: pd.DataFrame, groupings: Groupings, consortia: Mapping[str, str]) -> pd.DataFrame:
    """One row per (relation, member): ``rel`` (a label unique within the unit), ``measure``, ``category``,
    ``side`` (+1 big, −1 small) and the unit columns. Only members that exist as cells are listed."""
    present = cells[_UNIT + ["measure", "category"]]
    specs: list[pd.DataFrame] = []

    def add(small: pd.DataFrame, big: pd.DataFrame) -> None:
        specs.append(small.assign(side=-1))
        specs.append(big.assign(side=1))

    def pick(measure: str) -> pd.DataFrame:
        return present[present["measure"] == measure]

    counted = set(groupings.zorgintensiteit.counted_codes())
    group_of = {z: code for z, code in groupings.zorgintensiteit.group_of().items() if code in counted}
    z = pick(CLIENTEN_ZORGTYPE)
    g = pick(CLIENTEN_ZORGINTENSITEIT)
    c = pick(CLIENTEN)
    # A group of one care type has no cell: that care type's cell stands in for it in G ≤ C and C ≤ ΣG
    # (without it, C ≤ ΣG would be false for every child whose only care is in such a group).
    singles = {m for grp in groupings.zorgintensiteit.groups if len(grp.members) == 1 for m in grp.members}
    z1 = z[z["category"].isin(singles)]
    k = pick(CLIENTEN_CONSORTIUM)
    p = pick(CLIENTEN_AANBIEDER)
    # Z_z ≤ G_g(z)
    zg = z[z["category"].isin(group_of)]
    rel = "zg:" + zg["category"]
    add(zg.assign(rel=rel), zg.assign(measure=CLIENTEN_ZORGINTENSITEIT, category=zg["category"].map(group_of), rel=rel))
    # G_g ≤ Σ Z
    members = zg.assign(rel="gz:" + zg["category"].map(group_of))
    add(g.assign(rel="gz:" + g["category"]), members)
    # G_g ≤ C; C ≤ Σ G
    add(g.assign(rel="gc:" + g["category"]), _broadcast(c, g, "gc:"))
    add(z1.assign(rel="zc:" + z1["category"]), _broadcast(c, z1, "zc:"))
    add(c.assign(rel="cg"), pd.concat([g, z1]).assign(rel="cg"))
    # N ≤ C; C ≤ L, JB ≤ L, JR ≤ L
    pupils = pick(LEERLINGEN)
    add(pick(NIEUWE_CLIENTEN).assign(rel="nc"), c.assign(rel="nc"))
    for label, small in (("cl", c), ("bl", pick(JEUGDBESCHERMING)), ("rl", pick(JEUGDRECLASSERING))):
        add(small.assign(rel=label), pupils.assign(rel=label))
    if len(k):
        # K_k ≤ C; C ≤ Σ K
        add(k.assign(rel="kc:" + k["category"]), _broadcast(c, k, "kc:"))
        add(c.assign(rel="ck"), k.assign(rel="ck"))
        # P_p ≤ K_k(p)
        cons = p["category"].map(lambda agb: consortia.get(agb, GEEN_CONSORTIUM))
        rel = "pk:" + p["category"]
        add(p.assign(rel=rel), p.assign(measure=CLIENTEN_CONSORTIUM, category=cons, rel=rel))
        # K_k ≤ Σ P where every member of k has a cell at the unit
        size = pd.Series(list(consortia.values())).value_counts()
        if len(size):
            pk = p.assign(cons=cons)
            pk = pk[pk["cons"] != GEEN_CONSORTIUM]
            have = pk.groupby(_UNIT + ["cons"]).size().rename("have").reset_index()
            have = have[have["have"].to_numpy() == size.reindex(have["cons"]).to_numpy()]
            if len(have):
                full = pk.merge(have[_UNIT + ["cons"]], on=_UNIT + ["cons"])
                kk = k.merge(have.rename(columns={"cons": "category"})[_UNIT + ["category"]], on=_UNIT + ["category"])
                add(kk.assign(rel="kp:" + kk["category"]), full.drop(columns="cons").assign(rel="kp:" + full["cons"]))
    if not specs:
        return pd.DataFrame(columns=_UNIT + ["measure", "category", "rel", "side"])
    out = pd.concat(specs, ignore_index=True)
    return out[_UNIT + ["measure", "category", "rel", "side"]]


def _broadcast(total: pd.DataFrame, parts: pd.DataFrame, prefix: str) -> pd.DataFrame:
    """The unit's total cell once per part's relation (``prefix`` + the part's category)."""
    rels = parts[_UNIT + ["category"]].rename(columns={"category": "_part"})
    out = total.merge(rels, on=_UNIT)
    out["rel"] = prefix + out["_part"]
    return out.drop(columns="_part")


def overlap_lines(cells: pd.DataFrame, cid: pd.Series, groupings: Groupings, consortia: Mapping[str, str]):
    """The overlap cells (a frame in ``cells``' columns) and the lines binding them, as (line key, cell
    id, coefficient) arrays where the overlap cells' ids follow ``len(cells)`` in the frame's order."""
    spec = relations(cells, groupings, consortia)
    if spec.empty:
        return cells.iloc[0:0].copy(), np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.int8)
    keys = pd.MultiIndex.from_frame(spec[["level", "unit", "schooljaar", "measure", "category"]])
    ids = cid.reindex(keys).to_numpy()
    spec = spec.assign(cell=ids)
    spec = spec[~np.isnan(ids)]
    spec["cell"] = spec["cell"].astype(np.int64)
    value = cells["value"].to_numpy(np.int64)
    spec["contrib"] = spec["side"].to_numpy(np.int64) * value[spec["cell"].to_numpy()]
    # One key per relation (vectorised: a row-wise join is slow at national scale).
    spec["rel_key"] = (spec["level"].astype(str) + "|" + spec["unit"].astype(str) + "|"
                       + spec["schooljaar"].astype(str) + "|" + spec["rel"].astype(str))
    slack = spec.groupby("rel_key", sort=True)["contrib"].sum()
    sides = spec.groupby("rel_key", sort=True)["side"].agg(["min", "max"])
    # A relation holds (slack >= 0) and has both sides; anything else is dropped.
    keep = slack.index[(slack.to_numpy() >= 0) & (sides["min"].to_numpy() < 0) & (sides["max"].to_numpy() > 0)]
    spec = spec[spec["rel_key"].isin(keep)]
    first = spec.drop_duplicates("rel_key").set_index("rel_key").loc[keep]
    parent = cells.drop_duplicates(_UNIT).set_index(_UNIT)["parent"]
    new = pd.DataFrame({
        "level": first["level"].to_numpy(), "unit": first["unit"].to_numpy(),
        "schooljaar": first["schooljaar"].to_numpy(), "measure": OVERLAP,
        "category": first["rel"].to_numpy(),
    })
    new["parent"] = parent.reindex(pd.MultiIndex.from_frame(new[_UNIT])).to_numpy()
    for col in cells.columns:
        if col not in new.columns:
            new[col] = 0
    new["value"] = slack.loc[keep].to_numpy(np.int64)
    new = new[cells.columns]
    slack_id = pd.Series(len(cells) + np.arange(len(new)), index=keep)
    line = spec["rel_key"].to_numpy()
    members = np.concatenate([spec["cell"].to_numpy(np.int64), slack_id.to_numpy(np.int64)])
    coefs = np.concatenate([spec["side"].to_numpy(np.int8), -np.ones(len(new), dtype=np.int8)])
    lines = np.concatenate([line, np.asarray(keep, dtype=object)])
    return new, lines, members, coefs
