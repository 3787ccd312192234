"""Synthetic municipal extracts (leerlingen, jeugdhulp, declaraties) on real DUO school locations, for demo and tests.

:func:`generate_region` simulates the children of a region's municipalities over several school years on the
shipped ``schools.csv`` and writes, per municipality, the three extracts in that municipality's own export shape
plus an agent config and a ``manifest.json`` that counts every injected fault. :func:`generate_large_municipality`
(in :mod:`node_agent.synthetic.large`) makes the benchmark's one big, clean municipality.

Over 600 lines because the simulation (children, care, claims) and the faults it injects must stay
in step: the manifest counts every fault the agent's report must find, so they live side by side.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

from node_agent.synthetic import DEFAULT_SCHOOLJAREN, DEFAULT_SEED, styles  # noqa: F401  (defaults re-exported)
from node_agent.synthetic.extract_duo import NEIGHBOURS, REGIONS
from node_agent.synthetic.draws import break_elfproef, draw_bsns, interleave  # noqa: F401  (re-exported)
from node_agent.synthetic.providers import PROVIDERS, Provider

SCHOOLS_CSV = Path(__file__).with_name("schools.csv")

#: Age range (on the peildatum) per DUO soort; SO/VSO covers both.
AGE_RANGE = {"BO": (4, 11), "SBO": (4, 12), "SO": (4, 11), "VSO": (12, 17), "SO/VSO": (4, 17), "VO": (12, 17)}
SPECIAL = frozenset({"SBO", "SO", "VSO", "SO/VSO"})

#: Where a region school's pupils live: own municipality, other region municipalities, outside (not generated).
HOME_SHARE = {"BO": (0.82, 0.13), "VO": (0.62, 0.28), "special": (0.45, 0.40)}
#: Share of a neighbouring municipality's school that are the region's children.
NEIGHBOUR_SHARE = {"BO": 0.03, "VO": 0.10, "special": 0.12}

#: Probability that a child starts a care episode in a school year, by soort (calibrated so that ~10 % of
#: pupils are clients in a year, 30–45 % in special education).
EPISODE_START = {"BO": 0.052, "VO": 0.060, "special": 0.25, "GEEN": 0.30}
JB_RATE = 0.005  # jeugdbescherming per child-year
JR_RATE = 0.004  # jeugdreclassering per child-year, age ≥ 12
THUISZITTER_RATE = 0.003

#: First allocation of an episode: (productcategorie, productcode, weight, months (low, high)).
EPISODE_MIX_REGULAR = [
    ("45", "45A01", 0.20, (3, 12)),
    ("45", "45A03", 0.08, (4, 14)),
    ("32", "32A01", 0.07, (3, 10)),
    ("54", "54001", 0.17, (4, 14)),  # jeugd-ggz basis
    ("54", "54002", 0.06, (6, 20)),  # jeugd-ggz specialistisch
    ("54", "54D01", 0.09, (8, 16)),  # dyslexiezorg (diagnostiek + behandeling)
    ("31", "31001", 0.16, (2, 8)),
    ("41", "41A01", 0.05, (6, 18)),
    ("40", "40A01", 0.02, (6, 24)),
    ("43", "43A01", 0.015, (6, 24)),
    ("46", "46A01", 0.01, (1, 3)),
    ("53", "53A01", 0.01, (3, 12)),
    ("55", "55A01", 0.02, (6, 18)),
    ("", "", 0.015, (3, 12)),
]
EPISODE_MIX_SPECIAL = [
    ("45", "45A01", 0.14, (3, 12)),
    ("45", "45A03", 0.14, (6, 18)),
    ("32", "32A01", 0.05, (3, 10)),
    ("54", "54001", 0.12, (4, 14)),
    ("54", "54002", 0.12, (6, 20)),
    ("31", "31001", 0.08, (2, 8)),
    ("41", "41A01", 0.20, (8, 24)),
    ("40", "40A01", 0.05, (6, 24)),
    ("43", "43A01", 0.04, (6, 24)),
    ("46", "46A01", 0.02, (1, 3)),
    ("55", "55A01", 0.04, (6, 18)),
]
#: Monthly tariff in euros per productcode family (claims vary ±30 % around it). Wijkteam is subsidised: no claims.
MONTHLY_TARIFF = {"45": 780, "32": 650, "54": 1150, "41": 2600, "40": 620, "43": 8900, "46": 5400, "53": 480,
                  "55": 1500, "": 700, "42": 340, "48": 1650, "47": 1150}
DYSLEXIE_TARIFF = 420
#: Referrers (COD327) per productcategorie family.
VERWIJZER_MIX = {
    "31": (("01", 0.92), ("06", 0.08)),
    "45": (("02", 0.44), ("01", 0.34), ("03", 0.11), ("05", 0.06), ("", 0.05)),
    "32": (("02", 0.40), ("01", 0.40), ("03", 0.12), ("", 0.08)),
    "54": (("02", 0.62), ("05", 0.16), ("01", 0.10), ("03", 0.07), ("", 0.05)),
    "dyslexie": (("01", 0.55), ("02", 0.45)),
    "41": (("01", 0.66), ("05", 0.12), ("02", 0.10), ("04", 0.07), ("", 0.05)),
    "40": (("01", 0.70), ("05", 0.20), ("02", 0.10)),
    "43": (("01", 0.55), ("04", 0.30), ("05", 0.15)),
    "46": (("01", 0.45), ("04", 0.35), ("05", 0.20)),
    "53": (("05", 0.80), ("02", 0.20)),
    "55": (("01", 0.90), ("", 0.10)),
    "": (("01", 0.60), ("", 0.40)),
    "42": (("01", 1.0),),
    "48": (("04", 0.95), ("08", 0.05)),
    "47": (("08", 0.55), ("04", 0.45)),
}
EXTRACT_DATE = date(2025, 9, 15)  # the day the municipalities "ran" their exports


@dataclass
class School:
    vestigingscode: str
    naam: str
    gemeentecode: str
    soort: str
    region: str
    rol: str
    leerlingen: dict[int, int]

    @property
    def kind(self) -> str:
        return "BO" if self.soort == "BO" else "VO" if self.soort == "VO" else "special"

    def onderwijssoort(self, age: int) -> str:
        if self.soort == "SO/VSO":
            return "SO" if age < 12 else "VSO"
        return self.soort


@dataclass
class Child:
    bsn: str
    geboortedatum: date
    home: str
    buurtcode: str
    #: school year's first calendar year → vestigingscode ("" = no school)
    schools: dict[int, str] = field(default_factory=dict)


def load_schools(path: Path = SCHOOLS_CSV) -> list[School]:
    """The shipped extract of real DUO locations (see ``extract_duo``)."""
    out = []
    with path.open(encoding="utf-8", newline="") as fh:
        for rec in csv.DictReader(fh):
            counts = {int(k.split("_")[1]): int(v) for k, v in rec.items() if k.startswith("leerlingen_")}
            out.append(School(rec["vestigingscode"], rec["naam"], rec["gemeentecode"], rec["soort"],
                              rec["region"], rec["rol"], counts))
    return out


# --- the simulation -------------------------------------------------------------------------------


def _schooljaar_years(schooljaren) -> list[int]:
    years = []
    for sj in schooljaren:
        a, b = sj.split("-")
        if int(b) != int(a) + 1:
            raise ValueError(f"schooljaar '{sj}' is niet van de vorm JJJJ-JJJJ")
        years.append(int(a))
    return sorted(years)


class _Region:
    """Simulates one region's children: enrolment per year, then care and claims."""

    def __init__(self, region: str, years: list[int], rng: np.random.Generator, scale: float):
        if region not in REGIONS:
            raise ValueError(f"onbekende regio '{region}'; kies uit: {', '.join(REGIONS)}")
        self.region = region
        self.members = REGIONS[region]
        self.years = years
        self.rng = rng
        self.scale = scale
        #: BSNs of the children with any youth care in the simulated years (filled as the municipalities'
        #: care is drawn): the SWVs' support leans towards them (node_agent/synthetic/swv.py).
        self.in_care: set[str] = set()
        self.schools = [s for s in load_schools() if s.region == region]
        self.by_code = {s.vestigingscode: s for s in self.schools}
        self.taken: set[str] = set()
        self.children: list[Child] = []
        weight = {m: 0 for m in self.members}
        for s in self.schools:
            if s.rol == "regio" and s.soort == "BO":
                weight[s.gemeentecode] += s.leerlingen[max(s.leerlingen)]
        total = sum(weight.values())
        self.weight = {m: w / total for m, w in weight.items()}
        self.share = {s.vestigingscode: self._home_share(s) for s in self.schools}

    def _home_share(self, s: School) -> dict[str, float]:
        if s.rol == "regio":
            own, others = HOME_SHARE[s.kind]
            rest = {m: w for m, w in self.weight.items() if m != s.gemeentecode}
            tot = sum(rest.values())
            share = {m: others * w / tot for m, w in rest.items()}
            share[s.gemeentecode] = own
            return share
        q = NEIGHBOUR_SHARE[s.kind]
        return {m: q * w for m, w in self.weight.items()}

    def _target(self, s: School, home: str, year: int) -> int:
        count = s.leerlingen.get(year, s.leerlingen[max(s.leerlingen)])
        return int(round(count * self.scale * self.share[s.vestigingscode].get(home, 0.0)))

    def _new_child(self, home: str, age: int, year: int) -> Child:
        bsn = draw_bsns(self.rng, 1, self.taken)[0]
        birth = date(year - age, 10, 1) - timedelta(days=int(self.rng.integers(0, 365)))
        wijk = int(self.rng.integers(1, 8))
        buurt = int(self.rng.integers(0, 6))
        child = Child(bsn, birth, home, f"BU{home}{wijk:02d}{buurt:02d}")
        self.children.append(child)
        return child

    @staticmethod
    def _age(child: Child, year: int) -> int:
        peil = date(year, 10, 1)
        b = child.geboortedatum
        return peil.year - b.year - ((peil.month, peil.day) < (b.month, b.day))

    def _pick_school(self, home: str, soorten: set[str], year: int) -> str | None:
        options = [(s.vestigingscode, self._target(s, home, year) + 0.01)
                   for s in self.schools if s.soort in soorten and self.share[s.vestigingscode].get(home, 0) > 0]
        if not options:
            return None
        codes, w = zip(*options)
        w = np.array(w) / sum(w)
        return codes[int(self.rng.choice(len(codes), p=w))]

    def simulate_enrolment(self) -> None:
        slots: dict[tuple[str, str], list[Child]] = {}
        for i, year in enumerate(self.years):
            if i > 0:
                moved: dict[tuple[str, str], list[Child]] = {}
                for (code, home), kids in slots.items():
                    s = self.by_code[code]
                    for child in kids:
                        age = self._age(child, year)
                        if self.rng.random() < 0.025:
                            continue  # moved away
                        low, high = AGE_RANGE[s.soort]
                        target = code
                        if age > high:
                            if s.soort in ("BO", "SBO"):
                                target = self._pick_school(home, {"VO"} if self.rng.random() > 0.04 else {"VSO", "SO/VSO"}, year)
                            elif s.soort == "SO":
                                target = self._pick_school(home, {"VSO", "SO/VSO"}, year)
                            else:
                                target = None  # left secondary school
                        elif s.soort == "BO" and 7 <= age <= 10 and self.rng.random() < 0.012:
                            target = self._pick_school(home, {"SBO", "SO", "SO/VSO"}, year) or code
                        if target is not None:
                            moved.setdefault((target, home), []).append(child)
                slots = moved
            # trim or fill every (school, home) slot to its target for this year
            for s in self.schools:
                for home in self.share[s.vestigingscode]:
                    key = (s.vestigingscode, home)
                    kids = slots.get(key, [])
                    n = self._target(s, home, year)
                    if len(kids) > n:
                        keep = self.rng.choice(len(kids), size=n, replace=False)
                        kids = [kids[j] for j in sorted(keep)]
                    low, high = AGE_RANGE[s.soort]
                    while len(kids) < n:
                        age = low if (s.soort == "BO" and self.rng.random() < 0.6) else int(self.rng.integers(low, high + 1))
                        kids.append(self._new_child(home, age, year))
                    slots[key] = kids
            for (code, home), kids in slots.items():
                for child in kids:
                    child.schools[year] = code
        # thuiszitters / vrijstelling: children of school age with no school
        for home in self.members:
            pupils = sum(1 for c in self.children if c.home == home)
            for _ in range(max(1, int(round(pupils * THUISZITTER_RATE)))):
                first = self.years[int(self.rng.integers(0, len(self.years)))]
                child = self._new_child(home, int(self.rng.integers(6, 17)), first)
                for year in self.years:
                    if year >= first and self._age(child, year) <= 17:
                        child.schools[year] = ""

    def soort_of(self, child: Child, year: int) -> str:
        code = child.schools[year]
        if not code:
            return "GEEN"
        return self.by_code[code].onderwijssoort(self._age(child, year))


# --- care -----------------------------------------------------------------------------------------


def _weighted(rng: np.random.Generator, options):
    """One of the (productcategorie, productcode, weight, months) options, by weight."""
    w = np.array([o[2] for o in options], dtype=float)
    return options[int(rng.choice(len(options), p=w / w.sum()))]


def _pick(rng: np.random.Generator, pairs) -> str:
    values, w = zip(*pairs)
    w = np.array(w, dtype=float)
    return values[int(rng.choice(len(values), p=w / w.sum()))]


def _add_months(d: date, months: int) -> date:
    y, m = divmod(d.month - 1 + months, 12)
    year, month = d.year + y, m + 1
    day = min(d.day, [31, 29 if year % 4 == 0 and (year % 100 or year % 400 == 0) else 28, 31, 30, 31, 30, 31, 31,
                      30, 31, 30, 31][month - 1])
    return date(year, month, day)


_PROVIDERS_BY_CAT: dict[str, list[Provider]] = {}


def _provider(rng: np.random.Generator, categorie: str) -> Provider:
    if not _PROVIDERS_BY_CAT:
        for p in PROVIDERS:
            for c in p.categorieen:
                _PROVIDERS_BY_CAT.setdefault(c, []).append(p)
    options = _PROVIDERS_BY_CAT.get(categorie) or _PROVIDERS_BY_CAT[""]
    w = np.array([p.size for p in options], dtype=float)
    return options[int(rng.choice(len(options), p=w / w.sum()))]


@dataclass
class Allocation:
    bsn: str
    geboortedatum: date
    toewijzingnummer: str
    productcategorie: str
    productcode: str
    aanbieder: Provider
    verwijzer: str
    ingangsdatum: date
    einddatum: date | None
    reden_wijziging: str = ""
    planned_end: date | None = None  # for claims when einddatum is open


def _episode_allocations(rng, child: Child, start: date, special: bool, age: int, next_nr) -> list[Allocation]:
    mix = EPISODE_MIX_SPECIAL if special else EPISODE_MIX_REGULAR
    if not 7 <= age <= 12:
        mix = [m for m in mix if m[1] != "54D01"]
    cat, code, _, (lo, hi) = _weighted(rng, mix)
    months = int(rng.integers(lo, hi + 1))
    allocs = [_make_alloc(rng, child, cat, code, start, months, next_nr)]
    if cat == "31" and rng.random() < 0.35:  # wijkteam refers on to specialised care
        cat2, code2, _, (lo2, hi2) = _weighted(rng, [m for m in mix if m[0] in ("45", "54", "41")])
        start2 = start + timedelta(days=int(rng.integers(30, 120)))
        allocs.append(_make_alloc(rng, child, cat2, code2, start2, int(rng.integers(lo2, hi2 + 1)), next_nr))
    elif cat == "41" and rng.random() < 0.5:  # daghulp often comes with transport
        allocs.append(_make_alloc(rng, child, "42", "42A01", start, months, next_nr, verwijzer="01"))
    elif cat in ("45", "54") and code != "54D01" and rng.random() < 0.15:  # extension with a new allocation
        first_end = allocs[0].planned_end
        allocs.append(_make_alloc(rng, child, cat, code, first_end + timedelta(days=1), int(rng.integers(3, 9)),
                                  next_nr, verwijzer=allocs[0].verwijzer))
    return allocs


def _make_alloc(rng, child, cat, code, start, months, next_nr, verwijzer=None) -> Allocation:
    family = "dyslexie" if code == "54D01" else cat
    if verwijzer is None:
        verwijzer = _pick(rng, VERWIJZER_MIX[family])
    end = _add_months(start, months) - timedelta(days=1)
    einddatum: date | None = end
    if end > EXTRACT_DATE and rng.random() < 0.6:
        einddatum = None  # open-ended: still running when the export was made
    return Allocation(child.bsn, child.geboortedatum, next_nr(), cat, code, _provider(rng, cat if code != "54D01" else "dyslexie"),
                      verwijzer, start, einddatum, planned_end=end)


#: Share of allocations (with at least three monthly claims) that get a recovery credit (``_recoveries``).
RECOVERY_RATE = 0.03


def _claims(rng, alloc: Allocation, last_day: date) -> list[tuple[str, date, date, int, str]]:
    """Monthly claim lines (toewijzingnummer, periode_begin, periode_einde, eurocent, D/C)."""
    if alloc.productcategorie == "31":
        return []  # the wijkteam is subsidised, not claimed per child
    tariff = DYSLEXIE_TARIFF if alloc.productcode == "54D01" else MONTHLY_TARIFF[alloc.productcategorie]
    end = min(alloc.einddatum or alloc.planned_end, last_day)
    lines = []
    month = date(alloc.ingangsdatum.year, alloc.ingangsdatum.month, 1)
    while month <= end:
        nxt = _add_months(month, 1)
        begin = max(month, alloc.ingangsdatum)
        stop = min(nxt - timedelta(days=1), end)
        fraction = ((stop - begin).days + 1) / ((nxt - month).days)
        amount = int(round(tariff * 100 * fraction * float(rng.lognormal(0.0, 0.25))))
        if amount > 0:
            lines.append((alloc.toewijzingnummer, begin, stop, amount, "D"))
            if rng.random() < 0.012:  # a correction: credit the line, claim the right amount
                lines.append((alloc.toewijzingnummer, begin, stop, amount, "C"))
                lines.append((alloc.toewijzingnummer, begin, stop, int(amount * float(rng.uniform(0.6, 0.95))), "D"))
        month = nxt
    return lines


def _recoveries(rng: np.random.Generator, lines: list[tuple[str, date, date, int, str]]) -> list[tuple]:
    """Credit lines recovering care that was claimed but not delivered (a terugvordering).

    A few allocations with at least three monthly claims get one credit of two to four earlier months'
    amounts, booked on their last claimed period. When that period opens a school year in which the
    child has little other care, the child's net amount for the year is negative: a refund the
    disclosure rules must handle (docs/disclosure-control.md, "Costs with refunds").
    """
    by_nr: dict[str, list[tuple]] = {}
    for line in lines:
        if line[4] == "D":
            by_nr.setdefault(line[0], []).append(line)
    out = []
    for nr in sorted(by_nr):
        debits = by_nr[nr]
        if len(debits) < 3 or rng.random() >= RECOVERY_RATE:
            continue
        last = max(debits, key=lambda d: d[1])
        months = rng.choice(len(debits), size=min(len(debits), int(rng.integers(2, 5))), replace=False)
        out.append((nr, last[1], last[2], sum(debits[int(i)][3] for i in months), "C"))
    return out


def _simulate_care(sim: _Region, home: str, rng: np.random.Generator, toew_prefix: str):
    counter = iter(range(1, 10**7))

    def next_nr() -> str:
        return f"{toew_prefix}{next(counter):07d}"

    allocations: list[Allocation] = []
    first_year = sim.years[0]
    for child in (c for c in sim.children if c.home == home):
        busy_until = date(1900, 1, 1)
        # one burn-in year before the first, so the first year has running care and a history for "new"
        for year in [first_year - 1] + sim.years:
            # the burn-in year uses the first year's school: the child was (mostly) there already
            enrolled = first_year if year == first_year - 1 else year
            if enrolled not in child.schools:
                continue
            soort = sim.soort_of(child, enrolled)
            age = sim._age(child, year)
            if age < 3:
                continue
            y_start = date(year, 8, 1)
            p_start = EPISODE_START["special"] if soort in SPECIAL else EPISODE_START.get(soort, EPISODE_START["BO"])
            if rng.random() < p_start:
                start = y_start + timedelta(days=int(rng.integers(0, 365)))
                if start > busy_until:
                    eps = _episode_allocations(rng, child, start, soort in SPECIAL or soort == "GEEN", age, next_nr)
                    allocations.extend(eps)
                    busy_until = max(a.planned_end for a in eps)
            if rng.random() < JB_RATE * (3 if soort in SPECIAL else 1):
                start = y_start + timedelta(days=int(rng.integers(0, 365)))
                allocations.append(_make_alloc(rng, child, "48", "48A01", start, int(rng.integers(6, 25)), next_nr))
            if age >= 12 and rng.random() < JR_RATE:
                start = y_start + timedelta(days=int(rng.integers(0, 365)))
                allocations.append(_make_alloc(rng, child, "47", "47A01", start, int(rng.integers(6, 13)), next_nr))
    return allocations, next_nr



# --- faults ---------------------------------------------------------------------------------------

MALFORMED_CODES = ("04DA0", "4-DA-00", "O4DA00", "04DA000", "BRIN?", "12 KO 00")


def generate_region(region: str, out_dir, schooljaren=DEFAULT_SCHOOLJAREN, seed: int = DEFAULT_SEED,
                    scale: float = 1.0, hub_url: str = "http://localhost:5000", swvs: bool = True) -> dict:
    """Write every member municipality's extracts, agent config and a ``manifest.json``; return the manifest.

    ``scale`` multiplies DUO's pupil counts (the tests use a small fraction to stay fast). The configs point at
    ``keys/`` next to them, which ``node-agent init`` (or the demo) creates: no key is ever generated here.
    ``swvs``: also the region's samenwerkingsverbanden, each with its support extract (node_agent/synthetic/swv.py),
    from random streams of their own, so the municipalities' files are the same with or without them.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    years = _schooljaar_years(schooljaren)
    rng = np.random.default_rng([seed, sorted(REGIONS).index(region)])
    sim = _Region(region, years, rng, scale)
    sim.simulate_enrolment()
    manifest: dict = {"region": region, "seed": seed, "scale": scale, "schooljaren": list(schooljaren),
                      "extract_date": EXTRACT_DATE.isoformat(), "municipalities": {}}
    for index, (code, naam) in enumerate(sim.members.items()):
        mrng = np.random.default_rng([seed, sorted(REGIONS).index(region), index + 1])
        style = styles.STYLE_OF[code]
        m_dir = out_dir / f"{code}-{naam.lower()}"
        m_dir.mkdir(parents=True, exist_ok=True)
        entry = _write_municipality(sim, code, naam, style, m_dir, mrng, years, out_dir, hub_url)
        manifest["municipalities"][code] = entry
    if swvs:
        from node_agent.synthetic.swv import REGION_SWVS, swv_schools, write_swv

        manifest["swvs"] = {}
        for index, (code, (naam, sector, gemeenten)) in enumerate(sorted(REGION_SWVS.get(region, {}).items())):
            srng = np.random.default_rng([seed, sorted(REGIONS).index(region), 100 + index])
            own = {s.vestigingscode for s in swv_schools(sim, sector, gemeenten)}
            other = next((s.vestigingscode for s in sim.schools if s.vestigingscode not in own), None)
            manifest["swvs"][code] = write_swv(sim, code, naam, sector, gemeenten, out_dir, srng, years, hub_url, other)
    (out_dir / "manifest.json").write_text(json.dumps(manifest, indent=2, sort_keys=True, ensure_ascii=False) + "\n",
                                           encoding="utf-8")
    return manifest


def _write_municipality(sim: _Region, code: str, naam: str, style: "styles.Style", m_dir: Path,
                        rng: np.random.Generator, years: list[int], root: Path, hub_url: str) -> dict:
    others = [m for m in REGIONS[sim.region] if m != code] + list(NEIGHBOURS[sim.region])
    # leerlingen: one row per child per school year
    rows = []
    for child in (c for c in sim.children if c.home == code):
        for year in years:
            if year in child.schools:
                rows.append({"bsn": child.bsn, "geboortedatum": child.geboortedatum, "peildatum": date(year, 10, 1),
                             "vestigingscode": child.schools[year], "onderwijssoort": sim.soort_of(child, year),
                             "woongemeente": code, "buurtcode": child.buurtcode})
    faults_l = {"bsn_elfproef": 0, "andere_woongemeente": 0, "vestigingscode_ongeldig": 0,
                "bsn_voorloopnul_weg": 0, "geen_vestiging": sum(1 for r in rows if not r["vestigingscode"])}
    n_faults = lambda lo, hi: int(rng.integers(lo, hi + 1))  # noqa: E731
    extra = []
    for _ in range(n_faults(2, 5)):  # typo in the BSN
        src = rows[int(rng.integers(0, len(rows)))]
        extra.append({**src, "bsn": break_elfproef(draw_bsns(rng, 1, sim.taken)[0])})
        faults_l["bsn_elfproef"] += 1
    for _ in range(n_faults(1, 4)):  # a child who lives elsewhere slipped into the export
        src = rows[int(rng.integers(0, len(rows)))]
        extra.append({**src, "bsn": draw_bsns(rng, 1, sim.taken)[0], "woongemeente": others[int(rng.integers(0, len(others)))]})
        faults_l["andere_woongemeente"] += 1
    for _ in range(n_faults(2, 4)):  # a mangled location code
        src = rows[int(rng.integers(0, len(rows)))]
        extra.append({**src, "bsn": draw_bsns(rng, 1, sim.taken)[0],
                      "vestigingscode": MALFORMED_CODES[int(rng.integers(0, len(MALFORMED_CODES)))]})
        faults_l["vestigingscode_ongeldig"] += 1
    rows = interleave(rng, rows, extra)

    allocs, next_nr = _simulate_care(sim, code, rng, style.toewijzing_prefix)
    sim.in_care.update(a.bsn for a in allocs)
    faults_j = {"bsn_elfproef": 0, "einddatum_voor_ingangsdatum": 0, "reden_wijziging_13": 0, "bsn_voorloopnul_weg": 0}
    extra_a: list[Allocation] = []
    pool = [a for a in allocs if a.productcategorie not in ("42",)]
    for _ in range(n_faults(1, 3)):
        src = pool[int(rng.integers(0, len(pool)))]
        extra_a.append(Allocation(break_elfproef(draw_bsns(rng, 1, sim.taken)[0]), src.geboortedatum, next_nr(),
                                  src.productcategorie, src.productcode, src.aanbieder, src.verwijzer,
                                  src.ingangsdatum, src.einddatum, planned_end=src.planned_end))
        faults_j["bsn_elfproef"] += 1
    for _ in range(n_faults(2, 4)):
        src = pool[int(rng.integers(0, len(pool)))]
        start = src.ingangsdatum
        extra_a.append(Allocation(src.bsn, src.geboortedatum, next_nr(), src.productcategorie, src.productcode,
                                  src.aanbieder, src.verwijzer, start, start - timedelta(days=int(rng.integers(1, 200))),
                                  planned_end=start))
        faults_j["einddatum_voor_ingangsdatum"] += 1
    for _ in range(n_faults(3, 7)):
        src = pool[int(rng.integers(0, len(pool)))]
        extra_a.append(Allocation(src.bsn, src.geboortedatum, next_nr(), src.productcategorie, src.productcode,
                                  src.aanbieder, src.verwijzer, src.ingangsdatum, src.einddatum, reden_wijziging="13",
                                  planned_end=src.planned_end))
        faults_j["reden_wijziging_13"] += 1
    last_day = date(years[-1] + 1, 7, 31)
    claim_lines = []
    for a in allocs:
        claim_lines.extend(_claims(rng, a, last_day))
    # Recoveries from a stream of their own, so every other line of the files stays what it was.
    claim_lines.extend(_recoveries(rng.spawn(1)[0], claim_lines))
    faults_d = {"toewijzing_onbekend": 0, "credit_regels": sum(1 for c in claim_lines if c[4] == "C")}
    extra_c = []
    for _ in range(n_faults(3, 8)):
        src = claim_lines[int(rng.integers(0, len(claim_lines)))]
        extra_c.append((f"{style.toewijzing_prefix}9{int(rng.integers(0, 10**6)):06d}", src[1], src[2], src[3], "D"))
        faults_d["toewijzing_onbekend"] += 1
    allocs = interleave(rng, allocs, extra_a)
    claim_lines = sorted(interleave(rng, claim_lines, extra_c), key=lambda c: (c[1], c[0]))

    files = styles.write_extracts(style, m_dir, rows, allocs, claim_lines, rng)
    faults_l["bsn_voorloopnul_weg"] = files["leerlingen"]["stripped"]
    faults_j["bsn_voorloopnul_weg"] = files["jeugdhulp"]["stripped"]
    config_path = styles.write_config(style, m_dir, code, naam, files, hub_url)
    rel = lambda p: str(Path(p).relative_to(root))  # noqa: E731

    # the truth a test can compare the agent with: pupils and clients per school year (clean rows only)
    truth = _truth(rows, allocs, years, code)
    reasons_l = ("bsn_elfproef", "andere_woongemeente", "vestigingscode_ongeldig")
    if style.split_vestiging:  # a mangled code lands in the BRIN column of a split export
        faults_l["brin_ongeldig"] = faults_l.pop("vestigingscode_ongeldig")
        reasons_l = ("bsn_elfproef", "andere_woongemeente", "brin_ongeldig")
    reasons_j = ("bsn_elfproef", "einddatum_voor_ingangsdatum")
    return {
        "naam": naam,
        "style": style.name,
        "config": rel(config_path),
        # per file: every injected fault ("faults"), and what a correct agent reports: rows rejected and excluded by
        # reason (the agent's reason codes). Stripped leading zeros, empty vestigingscode (no school) and credit
        # lines are realistic quirks that must NOT be rejected.
        "files": {
            "leerlingen": _file_entry(rel(files["leerlingen"]["path"]), len(rows), faults_l, reasons_l, ()),
            "jeugdhulp": _file_entry(rel(files["jeugdhulp"]["path"]), len(allocs), faults_j, reasons_j,
                                     ("reden_wijziging_13",)),
            "declaraties": _file_entry(rel(files["declaraties"]["path"]), len(claim_lines), faults_d,
                                       ("toewijzing_onbekend",), ()),
        },
        "truth": truth,
    }


def _file_entry(path: str, rows: int, faults: dict, rejected: tuple[str, ...], excluded: tuple[str, ...]) -> dict:
    rejected_by = {r: faults[r] for r in rejected if faults[r]}
    excluded_by = {r: faults[r] for r in excluded if faults[r]}
    return {"path": path, "rows": rows, "faults": faults,
            "rejected": sum(rejected_by.values()), "rejected_by_reason": rejected_by,
            "excluded": sum(excluded_by.values()), "excluded_by_reason": excluded_by}


def _truth(rows, allocs: list[Allocation], years: list[int], code: str) -> dict:
    """Pupils and clients per school year, computed from the clean rows (what a correct agent finds)."""
    from shared.pseudonym import elfproef

    out = {}
    clean_allocs = [a for a in allocs if a.reden_wijziging != "13" and elfproef(a.bsn)
                    and (a.einddatum is None or a.einddatum >= a.ingangsdatum)
                    and a.productcategorie not in ("42", "47", "48", "49")]
    for year in years:
        start, end = date(year, 8, 1), date(year + 1, 7, 31)
        pupils = {r["bsn"] for r in rows if r["peildatum"].year == year and r["woongemeente"] == code
                  and elfproef(r["bsn"]) and (r["vestigingscode"] == "" or _is_code(r["vestigingscode"]))}
        clients = {a.bsn for a in clean_allocs if a.ingangsdatum <= end and (a.einddatum is None or a.einddatum >= start)}
        out[f"{year}-{year + 1}"] = {"leerlingen": len(pupils), "clienten": len(pupils & clients)}
    return out


def _is_code(code: str) -> bool:
    from shared.codes import is_vestigingscode

    return is_vestigingscode(code)

