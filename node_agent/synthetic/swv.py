"""Synthetic SWV extracts (``ondersteuning``) for a demo region: the samenwerkingsverbanden passend onderwijs
of its municipalities, with support for about 17 % of their schools' pupils.

An SWV knows every pupil of its schools, wherever they live: the region's simulated children (the same BSNs
as in the municipal extracts, so a pupil has the same pseudonym under the region's shared key) and, for the
pupils living outside the region (not simulated, the coverage gap), children of its own with fresh BSNs. Per
school year and pupil on 1 October: at an SBO school nearly every pupil has a TLV SBO, at an SO/VSO school a
TLV SO (laag, midden, hoog); at a BO school a pupil has an arrangement (with or without an OPP), an OPP alone,
now and then a TLV on the way to special education, or is a thuiszitter; at a VO school LWOO, PrO, arrangements
and OPPs. A support row runs from a day in August or September (earlier for a support carried over) to the end
of the school year. A few faults per file, counted in the manifest: invalid BSNs, unknown soorten, rows
without a school, rows at a school of another SWV, an end before the start.

The SWV codes and their municipalities match the demo reference data's synthetic memberships
(hub/reference/demo/make_demo.py, ``SWV``); the hub's round gives the agent the definitive list of schools.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import tomli_w

from node_agent.synthetic.draws import break_elfproef, draw_bsns, interleave
from node_agent.synthetic.styles import CONFIG_NAME

#: Per region, its SWVs: code → (name, sector, municipalities), as the demo reference data has them.
REGION_SWVS: dict[str, dict[str, tuple[str, str, tuple[str, ...]]]] = {
    "lekstroom": {
        "PO2607": ("SWV PO Lekstroom (synthetisch)", "PO", ("0356", "0321", "0353", "0331")),
        "VO2607": ("SWV VO Lekstroom (synthetisch)", "VO", ("0356", "0321", "0353", "0331")),
    },
    "zuid-kennemerland": {
        "PO2705": ("SWV PO Zuid-Kennemerland (synthetisch)", "PO", ("0392", "0473", "0377", "0397")),
        "VO2705": ("SWV VO Zuid-Kennemerland (synthetisch)", "VO", ("0392", "0473", "0377", "0397")),
    },
    "ijmond": {
        "PO2704": ("SWV PO IJmond (synthetisch)", "PO", ("0453", "0375", "0396")),
        "VO2704": ("SWV VO IJmond (synthetisch)", "VO", ("0453", "0375", "0396")),
    },
}
#: DUO soorten per sector; an SO/VSO location is in both (its SO pupils in the PO SWV, VSO in the VO SWV).
SECTOR_SOORTEN = {"PO": frozenset({"BO", "SBO", "SO", "SO/VSO"}), "VO": frozenset({"VO", "VSO", "SO/VSO"})}

#: Per school kind: (soort as the SWV's system writes it, probability per pupil-year). Several can apply.
#: "TLV SO" is one TLV of a category: laag, midden or hoog (by these weights).
SUPPORT_MIX: dict[str, tuple[tuple[str, float], ...]] = {
    "BO": (("Arrangement", 0.085), ("OPP", 0.075), ("TLV SBO", 0.006), ("TLV SO", 0.002), ("Thuiszitter", 0.003)),
    "SBO": (("TLV SBO", 0.93), ("OPP", 0.10), ("Thuiszitter", 0.004)),
    "SO": (("TLV SO", 0.94), ("Thuiszitter", 0.01)),
    "VO": (("LWOO", 0.075), ("PrO", 0.015), ("Arrangement", 0.045), ("OPP", 0.035), ("Thuiszitter", 0.004),
           ("TLV SO", 0.002)),
}
TLV_SO_CATEGORIES = (("laag", 0.5), ("midden", 0.33), ("hoog", 0.17))
#: At a BO or VO school a pupil with youth care gets support this many times as often as one without
#: (the two groups "overlap to a large extent"); the mean rate per school kind stays SUPPORT_MIX's. At
#: SBO and SO schools nearly every pupil has a TLV anyway, so the overlap there follows the care rate,
#: which is higher at special schools (generate.py, EPISODE_START).
CARE_SUPPORT_FACTOR = 2.5
#: An arrangement comes with an OPP this often (the two rows, one pupil).
OPP_WITH_ARRANGEMENT = 0.4
#: A support of last year carries over (same row, an earlier start) this often when the pupil stays.
CARRY_OVER = 0.6

COLUMNS = {"bsn": "BSN", "vestigingscode": "Vestiging", "soort": "Voorziening", "ingangsdatum": "Startdatum",
           "einddatum": "Einddatum"}
FILE_NAME = "Ondersteuning_per_leerling.csv"


@dataclass
class SupportRow:
    bsn: str
    vestigingscode: str
    soort: str
    ingangsdatum: date
    einddatum: date | None


def _kind(soort: str) -> str:
    if soort == "SO/VSO":
        return "SO"
    return {"VSO": "SO", "SO": "SO", "SBO": "SBO", "VO": "VO"}.get(soort, "BO")


def swv_schools(sim, sector: str, gemeenten: tuple[str, ...]):
    """The region simulation's schools of an SWV: its municipalities' locations of its sector."""
    return [s for s in sim.schools if s.rol == "regio" and s.gemeentecode in gemeenten and s.soort in SECTOR_SOORTEN[sector]]


def _in_sector(school, sector: str, age: int) -> bool:
    """An SO/VSO location's pupils: the SO ones (under 12) are the PO SWV's, the VSO ones the VO SWV's."""
    if school.soort != "SO/VSO":
        return True
    return (age < 12) == (sector == "PO")


def simulate_support(sim, rng: np.random.Generator, sector: str, gemeenten: tuple[str, ...],
                     years: list[int]) -> list[SupportRow]:
    """Support rows for every pupil of the SWV's schools: the simulated children and the outside ones."""
    schools = swv_schools(sim, sector, gemeenten)
    codes = {s.vestigingscode for s in schools}
    by_school: dict[tuple[int, str], list[tuple[str, int]]] = {}  # (year, school) → (bsn, age)
    for child in sim.children:
        for year, code in child.schools.items():
            if code in codes and year in years:
                by_school.setdefault((year, code), []).append((child.bsn, sim._age(child, year)))
    # Support leans towards the children with youth care at regular schools, keeping each kind's mean rate.
    simulated = [bsn for pupils in by_school.values() for bsn, _ in pupils]
    known = set(simulated)  # the pupils living outside the region have no simulated care: no lean
    care_share = sum(bsn in sim.in_care for bsn in simulated) / max(len(simulated), 1)
    norm = 1.0 / (care_share * CARE_SUPPORT_FACTOR + (1.0 - care_share))
    outside: dict[str, list[tuple[str, int]]] = {}  # school → pupils living outside the region (kept across years)
    rows: list[SupportRow] = []
    running: dict[tuple[str, str], SupportRow] = {}  # (bsn, soort) → last year's row, to carry over
    for year in years:
        start_of_year = date(year, 8, 1)
        current: dict[tuple[str, str], SupportRow] = {}
        for school in sorted(schools, key=lambda s: s.vestigingscode):
            pupils = list(by_school.get((year, school.vestigingscode), []))
            count = school.leerlingen.get(year, school.leerlingen[max(school.leerlingen)])
            gap = int(round(count * sim.scale)) - len(pupils)
            own = outside.setdefault(school.vestigingscode, [])
            low, high = {"BO": (4, 11), "SBO": (4, 12), "SO": (4, 11), "VSO": (12, 17), "SO/VSO": (4, 17)}.get(
                school.soort, (12, 17))
            while len(own) < gap:
                own.append((draw_bsns(rng, 1, sim.taken)[0], int(rng.integers(low, high + 1))))
            del own[max(gap, 0):]
            pupils += own
            for bsn, age in pupils:
                if not _in_sector(school, sector, age):
                    continue
                kind = _kind(school.soort)
                lean = 1.0
                if kind in ("BO", "VO") and bsn in known:
                    lean = norm * (CARE_SUPPORT_FACTOR if bsn in sim.in_care else 1.0)
                for soort, p in SUPPORT_MIX[kind]:
                    if rng.random() >= p * lean:
                        continue
                    if soort == "TLV SO":
                        names, weights = zip(*TLV_SO_CATEGORIES)
                        soort = f"TLV SO categorie {names[int(rng.choice(len(names), p=weights))]}"
                    previous = running.get((bsn, soort))
                    if previous is not None and previous.vestigingscode == school.vestigingscode and rng.random() < CARRY_OVER:
                        previous.einddatum = date(year + 1, 7, 31)  # the same support runs on
                        current[(bsn, soort)] = previous
                        continue
                    begin = start_of_year + timedelta(days=int(rng.integers(0, 60)))
                    row = SupportRow(bsn, school.vestigingscode, soort, begin, date(year + 1, 7, 31))
                    rows.append(row)
                    current[(bsn, soort)] = row
                    if soort == "Arrangement" and rng.random() < OPP_WITH_ARRANGEMENT:
                        rows.append(SupportRow(bsn, school.vestigingscode, "OPP", begin, date(year + 1, 7, 31)))
        running = current
    # The latest school year's supports are still running when the SWV exports: no end date.
    last_end = date(years[-1] + 1, 7, 31)
    for row in rows:
        if row.einddatum == last_end and rng.random() < 0.7:
            row.einddatum = None
    return rows


def write_swv(sim, code: str, naam: str, sector: str, gemeenten: tuple[str, ...], out_dir: Path,
              rng: np.random.Generator, years: list[int], hub_url: str, other_school: str | None) -> dict:
    """One SWV's extract, config and manifest entry (``other_school``: a school of another SWV, for a fault)."""
    rows = simulate_support(sim, rng, sector, gemeenten, years)
    n = lambda lo, hi: int(rng.integers(lo, hi + 1))  # noqa: E731
    faults = {"bsn_elfproef": 0, "soort_onbekend": 0, "einddatum_voor_ingangsdatum": 0, "zonder_vestiging": 0,
              "vestiging_buiten_swv": 0}
    extra = []
    for _ in range(n(1, 3)):
        src = rows[int(rng.integers(0, len(rows)))]
        extra.append(SupportRow(break_elfproef(draw_bsns(rng, 1, sim.taken)[0]), src.vestigingscode, src.soort,
                                src.ingangsdatum, src.einddatum))
        faults["bsn_elfproef"] += 1
    for _ in range(n(1, 2)):
        src = rows[int(rng.integers(0, len(rows)))]
        extra.append(SupportRow(src.bsn, src.vestigingscode, "Rugzak", src.ingangsdatum, src.einddatum))
        faults["soort_onbekend"] += 1
    src = rows[int(rng.integers(0, len(rows)))]
    extra.append(SupportRow(src.bsn, src.vestigingscode, src.soort, src.ingangsdatum,
                            src.ingangsdatum - timedelta(days=int(rng.integers(1, 90)))))
    faults["einddatum_voor_ingangsdatum"] += 1
    for _ in range(n(1, 3)):  # thuiszitters the SWV follows without a school
        src = rows[int(rng.integers(0, len(rows)))]
        extra.append(SupportRow(draw_bsns(rng, 1, sim.taken)[0], "", "Thuiszitter", src.ingangsdatum, src.einddatum))
        faults["zonder_vestiging"] += 1
    if other_school:
        for _ in range(n(1, 2)):  # a pupil of a neighbouring SWV's school slipped into the export
            src = rows[int(rng.integers(0, len(rows)))]
            extra.append(SupportRow(draw_bsns(rng, 1, sim.taken)[0], other_school, src.soort, src.ingangsdatum,
                                    src.einddatum))
            faults["vestiging_buiten_swv"] += 1
    rows = interleave(rng, rows, extra)

    s_dir = out_dir / f"{code}-swv"
    s_dir.mkdir(parents=True, exist_ok=True)
    path = s_dir / FILE_NAME
    fmt = lambda d: d.strftime("%d-%m-%Y") if d else ""  # noqa: E731
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, delimiter=";", lineterminator="\r\n")
        writer.writerow(list(COLUMNS.values()))
        for r in rows:
            writer.writerow([r.bsn, r.vestigingscode, r.soort, fmt(r.ingangsdatum), fmt(r.einddatum)])
    doc = {
        "swv_code": code,
        "hub": {"url": hub_url},
        "keys": {"signing_key": "keys/signing.pem", "pseudonym_key": "keys/pseudonym.key"},
        "paths": {"spool_dir": "spool", "log": "node-agent-log.jsonl"},
        "extracts": {"ondersteuning": {"path": FILE_NAME, "format": "csv", "delimiter": ";", "encoding": "utf-8",
                                       "columns": {src: canonical for canonical, src in COLUMNS.items()}}},
    }
    config = s_dir / CONFIG_NAME
    config.write_text(f"# node-agent configuratie voor {naam} ({code}); synthetische demodata.\n" + tomli_w.dumps(doc),
                      encoding="utf-8")
    rejected = {k: v for k, v in faults.items() if v and k in ("bsn_elfproef", "soort_onbekend", "einddatum_voor_ingangsdatum")}
    excluded = {k: v for k, v in faults.items() if v and k in ("zonder_vestiging", "vestiging_buiten_swv")}
    return {"naam": naam, "sector": sector, "gemeenten": list(gemeenten), "config": str(config.relative_to(out_dir)),
            "schools": sorted(s.vestigingscode for s in swv_schools(sim, sector, gemeenten)),
            "files": {"ondersteuning": {"path": str(path.relative_to(out_dir)), "rows": len(rows), "faults": faults,
                                        "rejected": sum(rejected.values()), "rejected_by_reason": rejected,
                                        "excluded": sum(excluded.values()), "excluded_by_reason": excluded}}}
