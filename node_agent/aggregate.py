"""Link care and costs to enrolment on the pseudonym and count the partial's cells per school year.

Definitions (data dictionary, "Periods" and "What a node sends"):

- A pupil belongs to the vestiging the enrolment extract gives for the school year's peildatum
  (``GEEN`` when no school). Only pupils in that extract appear in any cell.
- Client in year Y: an allocation of a client-counting zorgtype overlaps 1 Aug – 31 Jul.
  ``clienten_zorgtype`` and ``clienten_aanbieder`` count distinct clients per category over those
  same allocations; ``jeugdbescherming``/``jeugdreclassering`` count distinct pupils with such an
  allocation overlapping Y.
- New client in Y: the pupil's earliest client-counting allocation starting in Y (ties: lowest
  toewijzingnummer) had no client-counting allocation active in the 365 days before its start.
  Only the earliest start in Y can qualify: any later start in Y has that earlier one active
  within 365 days. Verwijzer and age band (age on the start date, from the allocation's
  geboortedatum) come from that starting allocation.
- Provider names: per AGB code with a ``clienten_aanbieder`` cell, the ``aanbieder_naam`` most
  rows of the (used) allocations give it; a tie goes to the alphabetically first name. Only those
  codes get a name, so the names say nothing the cells do not (shared/partial.py checks the same).
- Costs: a claim line belongs to the school year its ``periode_begin`` falls in and to the
  child's vestiging in that year; credits are already negative. Per cell the node sends the sum,
  the children with a non-zero net amount, the two largest per-child amounts by absolute value,
  the number of children with a negative net amount and the sum of the absolute per-child amounts
  (the hub's p% and dominance rules work on absolute values); ``totaal`` is computed from
  per-child totals over all zorgtypes, so its value is the sum of the category cells.

Which cells are emitted: a cell is sent only when its value is > 0 (cost cells: when at least
one child has a non-zero amount), EXCEPT that every vestiging with pupils gets ``leerlingen``,
``clienten``, ``nieuwe_clienten``, ``jeugdbescherming`` and ``jeugdreclassering`` even when 0, so
the hub can tell "0 clients" from "this node has no pupils there".
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping

import numpy as np
import pandas as pd

from shared.codes import (
    AGE_BANDS,
    CLIENT_ZORGTYPES,
    CLIENTEN,
    CLIENTEN_AANBIEDER,
    CLIENTEN_CONSORTIUM,
    CLIENTEN_ZORGINTENSITEIT,
    CLIENTEN_ZORGTYPE,
    GEEN_CONSORTIUM,
    GEEN_SCHOOL,
    JEUGDBESCHERMING,
    JEUGDRECLASSERING,
    KOSTEN_TOTAAL,
    LEERLINGEN,
    NIEUWE_CLIENTEN,
    NIEUWE_CLIENTEN_LEEFTIJD,
    NIEUWE_CLIENTEN_VERWIJZER,
    parse_schooljaar,
)
from shared.errors import InputError
from shared.groupings import DEFAULT_GROUPINGS, Grouping, Groupings
from shared.partial import Cell, CostCell

_DAY = np.timedelta64(1, "D")
_LOOKBACK = np.timedelta64(365, "D")


@dataclass
class Aggregation:
    """The partial's cells plus what the quality block needs from linking."""

    cells: list[Cell] = field(default_factory=list)
    cost_cells: list[CostCell] = field(default_factory=list)
    peildata: dict[str, str] = field(default_factory=dict)
    allocations_without_enrolment: int = 0
    unknown_locations: tuple[str, ...] = ()
    notes: list[str] = field(default_factory=list)
    providers: dict[str, str] = field(default_factory=dict)  # AGB code → name (provider_names)
    # With ``sets``: per school year and vestiging the pseudonyms of the children its ``clienten`` cell
    # counts, for the overlap exchange (docs/overlap.md); never part of the partial.
    client_sets: dict[str, dict[str, list[bytes]]] = field(default_factory=dict)


def _days(values: pd.Series | np.ndarray) -> np.ndarray:
    return np.asarray(values).astype("datetime64[D]")


def ages(birth: np.ndarray, on: np.ndarray) -> np.ndarray:
    """Whole years of age on a date, vectorised (``shared.codes.age_on`` for arrays)."""
    b = pd.DatetimeIndex(birth)
    o = pd.DatetimeIndex(on)
    before_birthday = (o.month < b.month) | ((o.month == b.month) & (o.day < b.day))
    return (o.year - b.year - before_birthday.astype(int)).to_numpy()


def age_bands(age: np.ndarray) -> np.ndarray:
    labels = np.array([label for label, _, _ in AGE_BANDS], dtype=object)
    lows = np.array([low for _, low, _ in AGE_BANDS])
    return labels[np.searchsorted(lows, age, side="right") - 1]


def aggregate(
    leerlingen: pd.DataFrame,
    jeugdhulp: pd.DataFrame,
    declaraties: pd.DataFrame | None,
    schooljaren: list[str],
    registry: frozenset[str] | None = None,
    groupings: Groupings = DEFAULT_GROUPINGS,
    consortia: Mapping[str, str] | None = None,
    sets: bool = False,
) -> Aggregation:
    """Compute every cell for the requested school years from validated, pseudonymised frames.

    ``groupings`` are the round's coarse groups; ``consortia`` its provider (AGB) → consortium table
    (None or empty: no consortium cells). ``sets``: also keep, per year and vestiging, the pseudonyms
    of the children the ``clienten`` cell counts (``Aggregation.client_sets``)."""
    out = Aggregation()
    # Pseudonyms → small ints right away; from here on nothing refers to a pseudonym (but the sets).
    pupil, child, n_ids, uniques = _pseudonym_ids(leerlingen["pseudonym"], jeugdhulp["pseudonym"])

    # Categories as small ints once, so every count below is integer sorting, not string hashing.
    zt = _Codes(jeugdhulp["zorgtype"].to_numpy(object))
    is_client = np.isin(zt.codes, [i for i, name in enumerate(zt.names) if name in CLIENT_ZORGTYPES])
    agb = _Codes(jeugdhulp["aanbieder_agb"].to_numpy(object))
    verwijzer = _Codes(jeugdhulp["verwijzer"].to_numpy(object))
    intensity = _Grouped(zt, groupings.zorgintensiteit)
    consortium = None
    if consortia:
        names = np.array([consortia.get(str(a), GEEN_CONSORTIUM) for a in agb.names], dtype=object)
        codes, uniq = pd.factorize(names, sort=True)
        consortium = (codes.astype(np.int64)[agb.codes] if len(agb.names) else agb.codes, np.asarray(uniq, dtype=object))
    start = _days(jeugdhulp["ingangsdatum"])
    end = _days(jeugdhulp["einddatum"])
    nr = jeugdhulp["toewijzingnummer"].to_numpy(object)
    nr_rank = _tie_ranks(child, start, nr, np.flatnonzero(is_client))
    new_start = _new_starts(child, start, end, nr, is_client)

    jaar_codes, jaar_names = pd.factorize(leerlingen["schooljaar"].to_numpy(object))
    jaar_names = list(jaar_names)
    vest_all = _Codes(leerlingen["vestigingscode"].to_numpy(object), sort=True)
    peil = leerlingen["peildatum"].to_numpy()
    claims = _Claims(declaraties, schooljaren) if declaraties is not None and len(declaraties) else None
    all_vest: set[str] = set()
    for jaar in sorted(schooljaren):
        y_start, y_end = (np.datetime64(d, "D") for d in parse_schooljaar(jaar))
        in_year = jaar_codes == jaar_names.index(jaar) if jaar in jaar_names else np.zeros(len(jaar_codes), bool)
        if not in_year.any():
            raise InputError(
                f"Het leerlingenbestand bevat geen leerlingen met een peildatum in schooljaar {jaar}; "
                "zonder inschrijving kan voor dat jaar niets worden geteld. Kies een ander schooljaar of lever "
                "het leerlingenbestand van dat jaar aan.",
                code="no_enrolment_for_year",
                details={"schooljaar": jaar},
            )
        out.peildata[jaar] = str(_days(peil[in_year][:1])[0])
        # the year's vestigingen, sorted: the global sorted codes restricted to those present
        year_vest = vest_all.codes[in_year]
        present = np.flatnonzero(np.bincount(year_vest, minlength=len(vest_all.names)))
        remap = np.full(len(vest_all.names), -1, dtype=np.int64)
        remap[present] = np.arange(len(present))
        vest_codes = remap[year_vest]
        vest_names = vest_all.names[present]
        all_vest.update(vest_names.tolist())
        n_v = len(vest_names)
        vest_of = np.full(n_ids, -1, dtype=np.int64)
        vest_of[pupil[in_year]] = vest_codes

        cells: dict[tuple[str, str], np.ndarray] = {}

        def per_vest(pids: np.ndarray) -> np.ndarray:
            return np.bincount(vest_of[pd.unique(pids)], minlength=n_v)

        cells[(LEERLINGEN, "")] = np.bincount(vest_codes, minlength=n_v)
        overlap = (start <= y_end) & (end >= y_start)
        a_vest = vest_of[child]
        enrolled = a_vest >= 0
        out.allocations_without_enrolment += int((overlap & ~enrolled).sum())
        sel = overlap & enrolled
        client_rows = sel & is_client
        cells[(CLIENTEN, "")] = per_vest(child[client_rows])
        if sets:
            out.client_sets[jaar] = _sets_per_vest(vest_names, vest_of, child[client_rows], uniques)
        cells[(JEUGDBESCHERMING, "")] = per_vest(child[sel & zt.equals("jeugdbescherming")])
        cells[(JEUGDRECLASSERING, "")] = per_vest(child[sel & zt.equals("jeugdreclassering")])
        emitted = [
            _always(jaar, vest_names, measure, counts)
            for (measure, _), counts in cells.items()
        ]
        for group in emitted:
            out.cells.extend(group)
        client_children = child[client_rows]
        out.cells.extend(_by_category(jaar, vest_names, CLIENTEN_ZORGTYPE, vest_of, client_children,
                                      zt.codes[client_rows], zt.names))
        out.cells.extend(_by_category(jaar, vest_names, CLIENTEN_AANBIEDER, vest_of, client_children,
                                      agb.codes[client_rows], agb.names))
        out.cells.extend(_by_category(jaar, vest_names, CLIENTEN_ZORGINTENSITEIT, vest_of, child[client_rows],
                                      intensity.codes[client_rows], intensity.names))
        if consortium is not None:
            out.cells.extend(_by_category(jaar, vest_names, CLIENTEN_CONSORTIUM, vest_of, child[client_rows],
                                          consortium[0][client_rows], consortium[1]))

        # New clients: each pupil's earliest client allocation starting in the year.
        starts_here = client_rows & (start >= y_start) & (start <= y_end)
        cand = np.flatnonzero(starts_here)
        cand = cand[np.lexsort((nr_rank[cand], start[cand], child[cand]))]
        first_of_child = np.ones(len(cand), dtype=bool)
        first_of_child[1:] = child[cand][1:] != child[cand][:-1]
        rows = cand[first_of_child]
        rows = rows[new_start[rows]]
        new_children = child[rows]
        nieuwe_counts = np.bincount(vest_of[new_children], minlength=n_v)
        out.cells.extend(_always(jaar, vest_names, NIEUWE_CLIENTEN, nieuwe_counts))
        out.cells.extend(_by_category(jaar, vest_names, NIEUWE_CLIENTEN_VERWIJZER, vest_of, new_children,
                                      verwijzer.codes[rows], verwijzer.names))
        bands = _Codes(age_bands(ages(_days(jeugdhulp["geboortedatum"].to_numpy()[rows]), start[rows])))
        out.cells.extend(_by_category(jaar, vest_names, NIEUWE_CLIENTEN_LEEFTIJD, vest_of, new_children,
                                      bands.codes, bands.names))

        if claims is not None:
            alloc, amounts = claims.of_year(jaar)
            c_child = child[alloc]
            c_vest = vest_of[c_child]
            known = c_vest >= 0
            if (~known).any():
                out.notes.append(
                    f"{jaar}: {int((~known).sum())} declaratieregels horen bij kinderen zonder inschrijving op de "
                    "peildatum en tellen niet mee in de kosten"
                )
            out.cost_cells.extend(
                _cost_cells(jaar, vest_names, c_vest[known], c_child[known], zt.codes[alloc][known], zt.names,
                            amounts[known])
            )
    if registry is not None:
        out.unknown_locations = tuple(sorted(v for v in all_vest if v != GEEN_SCHOOL and v not in registry))
    out.providers = provider_names(jeugdhulp, {c.category for c in out.cells if c.measure == CLIENTEN_AANBIEDER})
    return out


def provider_names(jeugdhulp: pd.DataFrame, agbs: set[str]) -> dict[str, str]:
    """Per AGB code in ``agbs``: the non-empty ``aanbieder_naam`` of most of its rows, ties to the
    alphabetically first; codes without a name are left out (as is everything without the column)."""
    if "aanbieder_naam" not in jeugdhulp.columns or not agbs or not len(jeugdhulp):
        return {}
    rows = pd.DataFrame({"agb": jeugdhulp["aanbieder_agb"].to_numpy(object),
                         "naam": jeugdhulp["aanbieder_naam"].to_numpy(object)})
    rows = rows[(rows["naam"] != "") & rows["agb"].isin(list(agbs))]
    if not len(rows):
        return {}
    counts = rows.groupby(["agb", "naam"], sort=False).size().reset_index(name="n")
    counts = counts.sort_values(["agb", "n", "naam"], ascending=[True, False, True], kind="stable")
    first = counts.drop_duplicates("agb")
    return {str(a): str(n) for a, n in zip(first["agb"], first["naam"])}


def _pseudonym_ids(a: pd.Series, b: pd.Series) -> tuple[np.ndarray, np.ndarray, int, np.ndarray]:
    """Small ints for the pseudonyms of two columns, equal for equal pseudonyms; (ints of a, of b,
    count, the pseudonym of each int).

    The readers' columns are categorical, so only their distinct pseudonyms are hashed."""
    if isinstance(a.dtype, pd.CategoricalDtype) and isinstance(b.dtype, pd.CategoricalDtype):
        cat_a = a.cat.categories.to_numpy(object)
        cat_b = b.cat.categories.to_numpy(object)
        ids, uniques = pd.factorize(np.concatenate([cat_a, cat_b]))
        return (ids[: len(cat_a)][a.cat.codes.to_numpy()], ids[len(cat_a) :][b.cat.codes.to_numpy()],
                len(uniques), np.asarray(uniques, dtype=object))
    ids, uniques = pd.factorize(np.concatenate([a.to_numpy(object), b.to_numpy(object)]))
    return ids[: len(a)], ids[len(a) :], len(uniques), np.asarray(uniques, dtype=object)


def _sets_per_vest(vest_names: np.ndarray, vest_of: np.ndarray, pids: np.ndarray,
                   uniques: np.ndarray) -> dict[str, list[bytes]]:
    """Per vestiging (not ``GEEN``) the distinct pseudonyms of ``pids``: exactly whom ``per_vest``
    counts there."""
    ids = pd.unique(pids)
    vest = vest_of[ids]
    out: dict[str, list[bytes]] = {}
    for v, pid in zip(vest.tolist(), ids.tolist()):
        code = str(vest_names[v])
        if code != GEEN_SCHOOL:
            out.setdefault(code, []).append(bytes(uniques[pid]))
    return out


def _tie_ranks(child: np.ndarray, start: np.ndarray, nr: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """Per allocation: the rank of its toewijzingnummer among the ``rows`` of the same child starting on
    the same day (0 when it is the only one), the tie-break for "earliest start"."""
    rank = np.zeros(len(child), dtype=np.int64)
    if len(rows) == 0:
        return rank
    same = pd.DataFrame({"c": child[rows], "s": start[rows]}).duplicated(keep=False).to_numpy(bool)
    tied = rows[same]
    if len(tied):
        rank[tied] = pd.factorize(nr[tied], sort=True)[0]
    return rank


class _Claims:
    """Claim lines grouped by requested school year once (the year ``periode_begin`` falls in)."""

    def __init__(self, declaraties: pd.DataFrame, schooljaren: list[str]):
        self.jaren = sorted(set(schooljaren))
        begin = _days(declaraties["periode_begin"])
        # the years' first days and the days after their last, in order (school years do not overlap):
        # a claim falls in year i exactly when it lies after 2i of them and not after 2i + 1
        edges = np.array([day for j in self.jaren for day in parse_schooljaar(j)], dtype="datetime64[D]")
        edges[1::2] += 1
        position = np.searchsorted(edges, begin, side="right")
        self.year = np.where(position % 2 == 1, (position - 1) // 2, -1)
        self.alloc = declaraties["allocation"].to_numpy()
        self.amount = declaraties["bedrag_eurocent"].to_numpy()

    def of_year(self, jaar: str) -> tuple[np.ndarray, np.ndarray]:
        rows = np.flatnonzero(self.year == self.jaren.index(jaar))
        return self.alloc[rows], self.amount[rows]


def _new_starts(
    child: np.ndarray, start: np.ndarray, end: np.ndarray, nr: np.ndarray, is_client: np.ndarray
) -> np.ndarray:
    """Per allocation: does it start with no client allocation active in the 365 days before?"""
    result = np.zeros(len(child), dtype=bool)
    if not is_client.any():
        return result
    rows = np.flatnonzero(is_client)
    df = pd.DataFrame({"child": child[rows], "start": start[rows], "end": end[rows]})
    # Allocations starting on the same day are not "before" each other: group them first.
    g = df.groupby(["child", "start"], sort=True)["end"].max().reset_index()
    g["prev_end"] = g.groupby("child")["end"].cummax().groupby(g["child"]).shift(1)
    g["new"] = g["prev_end"].isna() | (_days(g["prev_end"].to_numpy()) < _days(g["start"].to_numpy()) - _LOOKBACK)
    merged = df.merge(g[["child", "start", "new"]], on=["child", "start"], how="left")
    result[rows] = merged["new"].to_numpy(bool)
    return result


def _always(jaar: str, vest_names: np.ndarray, measure: str, counts: np.ndarray) -> list[Cell]:
    return [Cell(str(v), jaar, measure, "", int(c)) for v, c in zip(vest_names, counts)]


class _Codes:
    """A text column as small int codes plus the distinct names."""

    def __init__(self, values: np.ndarray, sort: bool = False):
        codes, names = pd.factorize(values, sort=sort)
        self.codes = codes.astype(np.int64)
        self.names = np.asarray(names, dtype=object)

    def equals(self, name: str) -> np.ndarray:
        """Per row: is the value ``name``."""
        hits = np.flatnonzero(self.names == name)
        return self.codes == hits[0] if len(hits) else np.zeros(len(self.codes), dtype=bool)


class _Grouped:
    """A coded column mapped to its groups: small int codes per row plus the group codes."""

    def __init__(self, fine: _Codes, grouping: Grouping):
        # Only groups of two or more categories get cells (``Grouping.counted_codes``).
        counted = set(grouping.counted_codes())
        group_of = {name: code for name, code in grouping.group_of().items() if code in counted}
        # Categories in no counted group (a non-client care type, a group of one) map to a marker no
        # cell is made for.
        mapped = np.array([group_of.get(str(n), "") for n in fine.names], dtype=object)
        codes, names = pd.factorize(mapped, sort=True)
        self.names = np.asarray(names, dtype=object)
        self.codes = codes.astype(np.int64)[fine.codes] if len(fine.names) else fine.codes


def _by_category(
    jaar: str, vest_names: np.ndarray, measure: str, vest_of: np.ndarray, pids: np.ndarray, cat: np.ndarray,
    cat_names: np.ndarray,
) -> list[Cell]:
    """Distinct children per (vestiging, category); only categories with at least one child."""
    if len(pids) == 0:
        return []
    n_cat = max(len(cat_names), 1)
    pairs = pd.unique(pids.astype(np.int64) * n_cat + cat)  # each child once per category
    vest = vest_of[pairs // n_cat]
    keys, counts = np.unique(vest * n_cat + pairs % n_cat, return_counts=True)
    vn = [str(v) for v in vest_names]
    cn = [str(c) for c in cat_names]
    # A row outside every group (_Grouped) makes no cell.
    return [Cell(vn[k // n_cat], jaar, measure, cn[k % n_cat], n) for k, n in zip(keys.tolist(), counts.tolist())
            if cn[k % n_cat] != ""]


def _cost_cells(
    jaar: str, vest_names: np.ndarray, vest: np.ndarray, pids: np.ndarray, cat: np.ndarray, cat_names: np.ndarray,
    amount: np.ndarray,
) -> list[CostCell]:
    """Per (vestiging, category): sum, children with a non-zero net amount, the two largest absolute
    per-child amounts, the children with a negative net amount and the sum of the absolute per-child
    amounts; ``totaal`` over per-child totals.

    A child belongs to one vestiging in the year, so its net amount per category is summed over its
    claim lines first (exact int64), and its total over those; then per cell over the children with a
    non-zero amount (children netting to zero count nowhere and never raise the largest amounts)."""
    if len(amount) == 0:
        return []
    n_cat = len(cat_names) + 1  # the last code is "totaal"
    totaal = len(cat_names)
    pair = pids.astype(np.int64) * n_cat + cat.astype(np.int64)
    order = np.argsort(pair)
    sorted_pair = pair[order]
    starts = np.flatnonzero(np.r_[True, sorted_pair[1:] != sorted_pair[:-1]])
    per_pair = np.add.reduceat(amount.astype(np.int64)[order], starts)
    pair_child = sorted_pair[starts] // n_cat
    pair_vest = vest.astype(np.int64)[order][starts]
    child_starts = np.flatnonzero(np.r_[True, pair_child[1:] != pair_child[:-1]])  # pairs are sorted by child
    per_child = np.add.reduceat(per_pair, child_starts)
    names = [str(c) for c in cat_names] + [KOSTEN_TOTAAL]
    vn = [str(v) for v in vest_names]
    n_cells = len(vest_names) * n_cat
    cells: list[CostCell] = []
    for cell, net in (
        (pair_vest * n_cat + sorted_pair[starts] % n_cat, per_pair),
        (pair_vest[child_starts] * n_cat + totaal, per_child),
    ):
        nonzero = net != 0
        cell, net = cell[nonzero], net[nonzero]
        value = np.zeros(n_cells, dtype=np.int64)
        np.add.at(value, cell, net)
        contributors = np.bincount(cell, minlength=n_cells)
        negatives = np.bincount(cell[net < 0], minlength=n_cells)
        size = np.abs(net)
        abs_sum = np.zeros(n_cells, dtype=np.int64)
        np.add.at(abs_sum, cell, size)
        top1, top2 = _two_largest(cell, size, n_cells)
        used = np.flatnonzero(contributors)
        for k, v, n, neg, t1, t2, a in zip(used.tolist(), value[used].tolist(), contributors[used].tolist(),
                                           negatives[used].tolist(), top1[used].tolist(), top2[used].tolist(),
                                           abs_sum[used].tolist()):
            cells.append(CostCell(vn[k // n_cat], jaar, names[k % n_cat], v, n, t1, t2, neg, a))
    return cells


def _two_largest(group: np.ndarray, values: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Per group code: the largest and second largest of ``values`` ≥ 0 (a tie counts twice; 0 when none)."""
    top1 = np.zeros(n, dtype=np.int64)
    np.maximum.at(top1, group, values)
    # take one occurrence of each group's largest out, and the largest of the rest is the second
    at_max = np.flatnonzero(values == top1[group])
    _, first = np.unique(group[at_max], return_index=True)
    rest = values.copy()
    rest[at_max[first]] = 0
    top2 = np.zeros(n, dtype=np.int64)
    np.maximum.at(top2, group, rest)
    return top1, top2
