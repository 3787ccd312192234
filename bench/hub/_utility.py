"""What bench_utility.py counts (its docstring gives the definitions): the published share of cells, the
schools and the indicators they answer from their own cells, and the visible numbers of a factsheet."""

from __future__ import annotations

import re
import statistics
from collections import Counter
from contextlib import contextmanager

import pandas as pd

from hub.disclosure.frames import LEVELS, PUBLIC_COLUMNS, PUBLISHED, SUPPRESSED, VESTIGING
from hub.indicators.cells import ABSENT
from hub.indicators.figures import previous_schooljaar
from shared.codes import CLIENTEN, GEEN_SCHOOL, KOSTEN, KOSTEN_TOTAAL, LEERLINGEN, MEASURES

MIN_PUPILS = 200
TARGET_ANSWERS = 6
TARGET_VISIBLE = 0.70

#: (key, label, measure prefixes any published own cell of which answers it); None: a paired rule below.
INDICATORS = (
    ("per_100", "clients per 100 pupils", None),
    ("care_mix", "care mix", ("clienten_zorgtype", "clienten_zorgintensiteit")),
    ("referrer_mix", "referrer mix", ("nieuwe_clienten_verwijzer",)),
    ("age", "age at referral", ("nieuwe_clienten_leeftijd",)),
    ("providers", "providers or consortium", ("clienten_aanbieder", "clienten_consortium")),
    ("costs", "costs", None),
    ("cost_per_client", "cost per client", None),
)

# --- cells ---------------------------------------------------------------------------------------


def public_cells(frame: pd.DataFrame) -> pd.DataFrame:
    """A release frame as a reader gets it: the key, ``published`` (bool) and the value when published."""
    out = frame[PUBLIC_COLUMNS].copy()
    out["category"] = out["category"].fillna("").astype(str)
    out["published"] = out["status"] == PUBLISHED
    out["status"] = out["published"].map({True: PUBLISHED, False: SUPPRESSED})
    out["value"] = out["value"].where(out["published"], None)
    return out


def level_order(levels) -> list[str]:
    return [lv for lv in LEVELS if lv in set(levels)] + sorted(set(levels) - set(LEVELS))


def measure_order(measures) -> list[str]:
    return [m for m in MEASURES if m in set(measures)] + sorted(set(measures) - set(MEASURES))


def period_end(schooljaar: str) -> str:
    return schooljaar.rsplit("-", 1)[-1]


def latest_schooljaar(schooljaren) -> str:
    """The latest school year: the latest end, and of the periods ending then the shortest (one year)."""
    return max(schooljaren, key=lambda j: (period_end(j), j.split("-", 1)[0]))


def published_shares(cells: pd.DataFrame) -> dict[str, dict[str, dict[str, list[int]]]]:
    """{school year | "all": {level: {measure: [published, cells]}}}."""
    out: dict[str, dict[str, dict[str, list[int]]]] = {}
    parts = [(j, part) for j, part in cells.groupby("schooljaar")] + [("all", cells)]
    for jaar, part in parts:
        counts = part.groupby(["level", "measure"])["published"].agg(["sum", "count"])
        table: dict[str, dict[str, list[int]]] = {}
        for (level, measure), row in counts.iterrows():
            table.setdefault(level, {})[measure] = [int(row["sum"]), int(row["count"])]
        out[jaar] = table
    return out


# --- schools and indicators ----------------------------------------------------------------------


def select_schools(cells: pd.DataFrame, latest: str, fallback: dict[str, int]) -> dict[str, dict]:
    """code → {"pupils", "source"} for the schools of ≥ MIN_PUPILS (see bench_utility.py's docstring)."""
    units = cells[(cells["level"] == VESTIGING) & (cells["schooljaar"] == latest)]
    codes = set(units["unit"]) - {GEEN_SCHOOL}
    lines = units[(units["measure"] == LEERLINGEN) & (units["category"] == "")].set_index("unit")
    chosen = {}
    for code in sorted(codes):
        if code in lines.index and bool(lines.at[code, "published"]):
            pupils, source = int(lines.at[code, "value"]), "published"
        elif code in fallback:
            pupils, source = int(fallback[code]), "fallback"
        else:
            continue
        if pupils >= MIN_PUPILS:
            chosen[code] = {"pupils": pupils, "source": source}
    return chosen


def _variant(measure: str, base: str) -> str | None:
    """"" for ``base`` itself, "_x" for ``base_x``, None for any other measure."""
    if measure == base:
        return ""
    return measure[len(base):] if measure.startswith(base + "_") else None


def _total_group(category: str) -> str | None:
    """The group of a cost total: "" for ``totaal``, "x" for ``totaal|x`` (any separator); else None."""
    if category == KOSTEN_TOTAAL:
        return ""
    rest = category[len(KOSTEN_TOTAAL):]
    return rest[1:] if category.startswith(KOSTEN_TOTAAL) and rest and not rest[0].isalnum() else None


def own_cells(cells: pd.DataFrame, latest: str, codes) -> pd.DataFrame:
    """The published cells of ``codes`` at a vestiging level in every period ending in ``latest``."""
    end = period_end(latest)
    mask = (cells["level"].str.startswith(VESTIGING) & cells["unit"].isin(set(codes)) & cells["published"]
            & (cells["schooljaar"].map(period_end) == end))
    return cells.loc[mask, ["unit", "schooljaar", "measure", "category"]]


def indicator_answers(own: pd.DataFrame) -> dict[str, set[str]]:
    """Indicator key → the schools that answer it from their own published cells."""
    measures = own["measure"]
    answered = {key: set(own.loc[measures.str.startswith(prefixes), "unit"])
                for key, _, prefixes in INDICATORS if prefixes}
    keys: dict[str, set[tuple]] = {CLIENTEN: set(), LEERLINGEN: set(), KOSTEN: set()}
    for unit, jaar, measure, category in own.itertuples(index=False):
        for base in (CLIENTEN, LEERLINGEN):
            s = _variant(measure, base)
            if s is not None:
                keys[base].add((unit, jaar, s, category))
        s = _variant(measure, KOSTEN)
        group = None if s is None else _total_group(category)
        if group is not None:
            keys[KOSTEN].add((unit, jaar, s, group))
    answered["per_100"] = {k[0] for k in keys[CLIENTEN] & keys[LEERLINGEN]}
    answered["costs"] = {k[0] for k in keys[KOSTEN]}
    answered["cost_per_client"] = {k[0] for k in keys[KOSTEN] & keys[CLIENTEN]}
    return answered


# --- factsheet numbers ---------------------------------------------------------------------------

#: Leaves that are figures (module docstring, "Factsheet numbers" (b)).
FIGURE_KEY = re.compile(r"^(per_100|ondergrens_95|bovengrens_95|clienten|aantal|value)$"
                        r"|_procent$|_euro$|^hhi|^verschil")
#: Subtrees and leaves that are not numbers of the factsheet (module docstring).
NOT_COUNTED = frozenset({"funnel", "release_id", "duo_leerlingen", "aantal_gepubliceerde_aanbieders"})
#: Top-level sections about the school type or the region, not the school.
CONTEXT = frozenset({"schooltype_trend", "schooltype_clienten_per_100", "regio_clienten_per_100"})
#: Tables the JSON gives as null: a section's unused slots (``verdeling``, ``aanbieders``, ``kosten``) and,
#: since 2026-12-04, a school's own table in which nothing is published (``distributies``, ``kosten``; the
#: page never showed those). A null table holds no number, so it adds no slot, visible or hidden.
NULL_TABLES = frozenset({"verdeling", "aanbieders", "kosten", "zorgtype", "verwijzer", "leeftijd", "zorgintensiteit",
                         "consortia"})
#: Leaves that are texts (null when unknown): neither a visible nor a hidden figure.
TEXT_KEYS = frozenset({
    "naam", "vestigingscode", "schooltype", "gemeentecode", "gemeentenaam", "plaatsnaam", "bestuur", "swv_code",
    "swv_naam", "label", "categorie", "maat", "schooljaar", "aanbieder_agb", "aanbieder_naam", "consortium", "zone",
})


def factsheet_numbers(sheet: dict, unclassified: set[str]) -> Counter:
    """Counter of (``own`` | ``context``, ``visible`` | ``hidden``) over one factsheet's JSON."""
    tally: Counter = Counter()
    before = previous_schooljaar(sheet["schooljaar"])
    point = next((p for p in sheet.get("trend", []) if p.get("schooljaar") == before), None)
    no_year_before = point is None or point.get("status") == ABSENT

    def leaf(key: str, value, scope: str) -> None:
        if isinstance(value, (bool, str)) or (key.startswith("verschil") and no_year_before):
            return
        if value is None or isinstance(value, (int, float)):
            if FIGURE_KEY.search(key):
                tally[scope, "hidden" if value is None else "visible"] += 1
            elif not (value is None and key in TEXT_KEYS | NULL_TABLES):
                unclassified.add(key)

    def walk(node, key: str, scope: str) -> None:
        if isinstance(node, list):
            for item in node:
                walk(item, key, scope)
        elif not isinstance(node, dict):
            leaf(key, node, scope)
        elif "value" in node and "status" in node:  # a count
            if node["status"] != ABSENT:
                tally[scope, "visible" if node["status"] == PUBLISHED and node["value"] is not None else "hidden"] += 1
        elif not any(k.endswith("status") and v == ABSENT for k, v in node.items()):
            for k, v in node.items():
                if k in NOT_COUNTED or (k == "dekking_procent" and node.get("duo_leerlingen") is None):
                    continue
                walk(v, k, "context" if k in CONTEXT else scope)

    walk(sheet, "", "own")
    return tally


@contextmanager
def funnel_once_per_type():
    """The factsheet service computes its type's funnel for every school; here once per type (the funnel
    is not counted, and at national scale it would cost minutes)."""
    from hub.services import indicators as svc

    original, cache = svc._funnel, {}

    def cached(data, access, schooltype, schooljaar):
        key = (id(data), access, schooltype, schooljaar)
        if key not in cache:
            cache[key] = original(data, access, schooltype, schooljaar)
        return cache[key]

    svc._funnel = cached
    try:
        yield
    finally:
        svc._funnel = original


def factsheet_shares(data, codes, schooljaar: str) -> tuple[dict[str, dict[str, int]], list[str]]:
    """code → {"visible", "numbers", "own_visible", "own_numbers"}; and the keys left unclassified."""
    from hub.access import Access
    from hub.services import indicators as svc

    access, unclassified, out = Access.operator(), set(), {}
    with funnel_once_per_type():
        for code in codes:
            sheet = svc.factsheet_to_dict(data, svc.factsheet(data, access, code, schooljaar))
            tally = factsheet_numbers(sheet, unclassified)
            own_v, own_h = tally["own", "visible"], tally["own", "hidden"]
            out[code] = {"visible": own_v + tally["context", "visible"],
                         "numbers": own_v + own_h + tally["context", "visible"] + tally["context", "hidden"],
                         "own_visible": own_v, "own_numbers": own_v + own_h}
    return out, sorted(unclassified)


# --- summaries -----------------------------------------------------------------------------------


def quartiles(values: list[float]) -> dict[str, float | None]:
    if not values:
        return {"q1": None, "median": None, "q3": None, "min": None, "max": None}
    q1, med, q3 = statistics.quantiles(values, n=4, method="inclusive") if len(values) > 1 else (values[0],) * 3
    return {"q1": q1, "median": med, "q3": q3, "min": min(values), "max": max(values)}


def summarise(cells: pd.DataFrame, latest: str, fallback: dict[str, int], fallback_label: str, data) -> dict:
    """Everything the tables show for one source (``data``: the factsheet service's RegionData)."""
    schools = select_schools(cells, latest, fallback)
    answered = indicator_answers(own_cells(cells, latest, schools))
    per_school = {code: {**info, "answers": [key for key, _, _ in INDICATORS if code in answered[key]]}
                  for code, info in schools.items()}
    counts = [len(s["answers"]) for s in per_school.values()]
    sheets, unclassified = factsheet_shares(data, list(schools), latest)
    for code, numbers in sheets.items():
        per_school[code].update(numbers)
    share = [n["visible"] / n["numbers"] for n in sheets.values() if n["numbers"]]
    own_share = [n["own_visible"] / n["own_numbers"] for n in sheets.values() if n["own_numbers"]]
    numbers = sum(n["numbers"] for n in sheets.values())
    return {
        "latest": latest,
        "schooljaren": sorted(cells["schooljaar"].unique()),
        "levels": level_order(cells["level"].unique()),
        "cells": int(len(cells)),
        "published": published_shares(cells),
        "schools": {
            "min_pupils": MIN_PUPILS,
            "selected": len(schools),
            "by_fallback": sum(s["source"] == "fallback" for s in schools.values()),
            "fallback": fallback_label,
            "answered": {key: len(answered[key] & set(schools)) for key, _, _ in INDICATORS},
            "distribution": [counts.count(k) for k in range(len(INDICATORS) + 1)],
            "median": statistics.median(counts) if counts else None,
            "share_ge_6": (sum(c >= TARGET_ANSWERS for c in counts) / len(counts)) if counts else None,
        },
        "factsheet": {
            "schools": len(sheets),
            "visible_share": quartiles(share),
            "own_visible_share": quartiles(own_share),
            "pooled_share": sum(n["visible"] for n in sheets.values()) / numbers if numbers else None,
            "numbers_per_sheet": quartiles([float(n["numbers"]) for n in sheets.values()]),
            "unclassified_keys": unclassified,
        },
        "per_school": per_school,
    }
