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
- Costs: a claim line belongs to the school year its ``periode_begin`` falls in and to the
  child's vestiging in that year; credits are already negative. Per cell the node sends the sum,
  the children with a non-zero net amount, the two largest positive per-child amounts and the
  number of children with a negative net amount; ``totaal`` is computed from per-child totals
  over all zorgtypes, so its value is the sum of the category cells.

Which cells are emitted: a cell is sent only when its value is > 0 (cost cells: when at least
one child has a non-zero amount), EXCEPT that every vestiging with pupils gets ``leerlingen``,
``clienten``, ``nieuwe_clienten``, ``jeugdbescherming`` and ``jeugdreclassering`` even when 0, so
the hub can tell "0 clients" from "this node has no pupils there".
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from shared.codes import (
    AGE_BANDS,
    CLIENT_ZORGTYPES,
    CLIENTEN,
    CLIENTEN_AANBIEDER,
    CLIENTEN_ZORGTYPE,
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
) -> Aggregation:
    """Compute every cell for the requested school years from validated, pseudonymised frames."""
    out = Aggregation()
    # Pseudonyms → small ints right away; from here on nothing refers to a pseudonym.
    n_l = len(leerlingen)
    ids, uniques = pd.factorize(
        np.concatenate([leerlingen["pseudonym"].to_numpy(object), jeugdhulp["pseudonym"].to_numpy(object)])
    )
    n_ids = len(uniques)
    del uniques
    pupil = ids[:n_l]
    child = ids[n_l:]

    zorgtype = jeugdhulp["zorgtype"].to_numpy(object)
    is_client = np.isin(zorgtype, list(CLIENT_ZORGTYPES))
    start = _days(jeugdhulp["ingangsdatum"])
    end = _days(jeugdhulp["einddatum"])
    new_start = _new_starts(child, start, end, jeugdhulp["toewijzingnummer"].to_numpy(object), is_client)

    schooljaar_col = leerlingen["schooljaar"].to_numpy(object)
    vest_col = leerlingen["vestigingscode"].to_numpy(object)
    all_vest: set[str] = set()
    for jaar in sorted(schooljaren):
        y_start, y_end = (np.datetime64(d, "D") for d in parse_schooljaar(jaar))
        in_year = schooljaar_col == jaar
        if not in_year.any():
            raise InputError(
                f"Het leerlingenbestand bevat geen leerlingen met een peildatum in schooljaar {jaar}; "
                "zonder inschrijving kan voor dat jaar niets worden geteld. Kies een ander schooljaar of lever "
                "het leerlingenbestand van dat jaar aan.",
                code="no_enrolment_for_year",
                details={"schooljaar": jaar},
            )
        out.peildata[jaar] = str(_days(leerlingen["peildatum"].to_numpy()[in_year][:1])[0])
        vest_codes, vest_names = pd.factorize(vest_col[in_year], sort=True)
        vest_names = np.asarray(vest_names, dtype=object)
        all_vest.update(vest_names.tolist())
        n_v = len(vest_names)
        vest_of = np.full(n_ids, -1, dtype=np.int64)
        vest_of[pupil[in_year]] = vest_codes

        cells: dict[tuple[str, str], np.ndarray] = {}

        def per_vest(pids: np.ndarray) -> np.ndarray:
            return np.bincount(vest_of[np.unique(pids)], minlength=n_v)

        cells[(LEERLINGEN, "")] = np.bincount(vest_codes, minlength=n_v)
        overlap = (start <= y_end) & (end >= y_start)
        a_vest = vest_of[child]
        enrolled = a_vest >= 0
        out.allocations_without_enrolment += int((overlap & ~enrolled).sum())
        sel = overlap & enrolled
        client_rows = sel & is_client
        cells[(CLIENTEN, "")] = per_vest(child[client_rows])
        cells[(JEUGDBESCHERMING, "")] = per_vest(child[sel & (zorgtype == "jeugdbescherming")])
        cells[(JEUGDRECLASSERING, "")] = per_vest(child[sel & (zorgtype == "jeugdreclassering")])
        emitted = [
            _always(jaar, vest_names, measure, counts)
            for (measure, _), counts in cells.items()
        ]
        for group in emitted:
            out.cells.extend(group)
        out.cells.extend(_by_category(jaar, vest_names, CLIENTEN_ZORGTYPE, a_vest[client_rows], child[client_rows],
                                      zorgtype[client_rows]))
        out.cells.extend(_by_category(jaar, vest_names, CLIENTEN_AANBIEDER, a_vest[client_rows], child[client_rows],
                                      jeugdhulp["aanbieder_agb"].to_numpy(object)[client_rows]))

        # New clients: each pupil's earliest client allocation starting in the year.
        starts_here = client_rows & (start >= y_start) & (start <= y_end)
        cand = pd.DataFrame(
            {
                "child": child[starts_here],
                "start": start[starts_here],
                "nr": jeugdhulp["toewijzingnummer"].to_numpy(object)[starts_here],
                "row": np.flatnonzero(starts_here),
            }
        ).sort_values(["child", "start", "nr"], kind="mergesort")
        first = cand.drop_duplicates("child", keep="first")
        first = first[new_start[first["row"].to_numpy()]]
        rows = first["row"].to_numpy()
        new_children = child[rows]
        nieuwe_counts = np.bincount(vest_of[new_children], minlength=n_v)
        out.cells.extend(_always(jaar, vest_names, NIEUWE_CLIENTEN, nieuwe_counts))
        out.cells.extend(_by_category(jaar, vest_names, NIEUWE_CLIENTEN_VERWIJZER, vest_of[new_children], new_children,
                                      jeugdhulp["verwijzer"].to_numpy(object)[rows]))
        bands = age_bands(ages(_days(jeugdhulp["geboortedatum"].to_numpy()[rows]), start[rows]))
        out.cells.extend(_by_category(jaar, vest_names, NIEUWE_CLIENTEN_LEEFTIJD, vest_of[new_children], new_children,
                                      bands))

        if declaraties is not None and len(declaraties):
            begin = _days(declaraties["periode_begin"])
            in_y = (begin >= y_start) & (begin <= y_end)
            alloc = declaraties["allocation"].to_numpy()[in_y]
            c_child = child[alloc]
            c_vest = vest_of[c_child]
            known = c_vest >= 0
            if (~known).any():
                out.notes.append(
                    f"{jaar}: {int((~known).sum())} declaratieregels horen bij kinderen zonder inschrijving op de "
                    "peildatum en tellen niet mee in de kosten"
                )
            amounts = declaraties["bedrag_eurocent"].to_numpy()[in_y][known]
            out.cost_cells.extend(
                _cost_cells(jaar, vest_names, c_vest[known], c_child[known], zorgtype[alloc][known], amounts)
            )
    if registry is not None:
        out.unknown_locations = tuple(sorted(v for v in all_vest if v != GEEN_SCHOOL and v not in registry))
    return out


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


def _by_category(
    jaar: str, vest_names: np.ndarray, measure: str, vest: np.ndarray, pids: np.ndarray, category: np.ndarray
) -> list[Cell]:
    """Distinct children per (vestiging, category); only categories with at least one child."""
    if len(pids) == 0:
        return []
    df = pd.DataFrame({"v": vest, "p": pids, "c": category}).drop_duplicates(["p", "c"])
    counts = df.groupby(["v", "c"], sort=True).size()
    return [Cell(str(vest_names[v]), jaar, measure, str(c), int(n)) for (v, c), n in counts.items()]


def _cost_cells(
    jaar: str, vest_names: np.ndarray, vest: np.ndarray, pids: np.ndarray, category: np.ndarray, amount: np.ndarray
) -> list[CostCell]:
    if len(amount) == 0:
        return []
    df = pd.DataFrame({"v": vest, "p": pids, "c": category, "a": amount.astype(np.int64)})
    per_child = df.groupby(["v", "c", "p"], sort=False)["a"].sum().reset_index()
    totals = per_child.groupby(["v", "p"], sort=False)["a"].sum().reset_index()
    totals["c"] = KOSTEN_TOTAAL
    per_child = pd.concat([per_child, totals[["v", "c", "p", "a"]]], ignore_index=True)
    nonzero = per_child[per_child["a"] != 0]
    if nonzero.empty:
        return []
    keys = ["v", "c"]
    stats = pd.DataFrame({
        "value": per_child.groupby(keys)["a"].sum(),
    }).join(nonzero.groupby(keys).size().rename("contributors"), how="inner")
    stats = stats.join((nonzero["a"] < 0).groupby([nonzero["v"], nonzero["c"]]).sum().rename("negatives"))
    positive = nonzero[nonzero["a"] > 0].sort_values(["v", "c", "a"], ascending=[True, True, False])
    rank = positive.groupby(keys).cumcount()
    stats = stats.join(positive[rank == 0].set_index(keys)["a"].rename("top1"))
    stats = stats.join(positive[rank == 1].set_index(keys)["a"].rename("top2"))
    stats = stats.fillna(0).astype(np.int64).reset_index()
    cells = [
        CostCell(
            vestigingscode=str(vest_names[v]),
            schooljaar=jaar,
            category=str(c),
            value=int(value),
            contributors=int(n),
            top1=int(t1),
            top2=int(t2),
            negatives=int(neg),
        )
        for v, c, value, n, neg, t1, t2 in zip(
            stats["v"], stats["c"], stats["value"], stats["contributors"], stats["negatives"], stats["top1"], stats["top2"]
        )
    ]
    return cells
