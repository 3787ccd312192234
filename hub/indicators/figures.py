"""The hub's indicators per unit (school location, school type, region) and school year.

Each function reads :class:`~hub.indicators.cells.ReleaseCells` (published values only) and applies the
propagation rules: a rate needs a published numerator and a published denominator of at least
``min_denominator``; a mean needs a published count and a published sum; a share needs the category's
count and the total published. Anything else comes out with ``value None`` and a status saying why.

The module is long (over 750 lines) on purpose: every indicator sits next to its propagation rule and
its serialisation, so what may be shown is decided in one place that can be read top to bottom.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from typing import Callable, Sequence

from shared.codes import (
    CLIENT_ZORGTYPES,
    CLIENTEN,
    CLIENTEN_AANBIEDER,
    CLIENTEN_CONSORTIUM,
    CLIENTEN_ZORGINTENSITEIT,
    CLIENTEN_ZORGTYPE,
    GEEN_CONSORTIUM,
    JEUGDBESCHERMING,
    JEUGDRECLASSERING,
    KOSTEN,
    KOSTEN_TOTAAL,
    LEERLINGEN,
    NIEUWE_CLIENTEN,
    NIEUWE_CLIENTEN_LEEFTIJD,
    NIEUWE_CLIENTEN_VERWIJZER,
    OVERLAP_MEASURES,
    SUPPORT_MEASURES,
    VERWIJZERS,
    ZORGTYPE_BY_SLUG,
    AGE_BANDS,
)
from hub.disclosure.frames import PUBLISHED, REGIO, REGIO_UNIT, SCHOOLTYPE, SUPPRESSED, VESTIGING  # noqa: F401 (fig.REGIO)
from hub.indicators.cells import ABSENT, Count, ReleaseCells
from hub.indicators.stats import funnel_limits, wilson_interval

#: Why a derived figure is not shown.
SMALL_DENOMINATOR = "small_denominator"


def previous_schooljaar(schooljaar: str) -> str:
    first = int(schooljaar[:4])
    return f"{first - 1}-{first}"


def _r(x: float | None, digits: int = 2) -> float | None:
    return None if x is None else round(x, digits)


# --- rates ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Rate:
    """Clients per 100 pupils with a 95 % Wilson interval."""

    clienten: Count
    leerlingen: Count
    status: str  # published | suppressed | small_denominator | absent
    per_100: float | None = None
    low: float | None = None
    high: float | None = None

    @property
    def published(self) -> bool:
        return self.status == PUBLISHED

    def to_dict(self) -> dict:
        return {
            "clienten": self.clienten.to_dict(),
            "leerlingen": self.leerlingen.to_dict(),
            "status": self.status,
            "per_100": _r(self.per_100),
            "ondergrens_95": _r(self.low),
            "bovengrens_95": _r(self.high),
        }


def rate_from_counts(clienten: Count, leerlingen: Count, min_denominator: int) -> Rate:
    """Apply the propagation rule, then compute the rate and its Wilson interval from rounded values."""
    if clienten.status == ABSENT and leerlingen.status == ABSENT:
        return Rate(clienten, leerlingen, ABSENT)
    if not (clienten.published and leerlingen.published):
        return Rate(clienten, leerlingen, SUPPRESSED)
    if leerlingen.value < min_denominator or leerlingen.value <= 0:
        return Rate(clienten, leerlingen, SMALL_DENOMINATOR)
    # Independent rounding keeps clienten ≤ leerlingen in practice; clamp so a quirk cannot crash a page.
    k = min(clienten.value, leerlingen.value)
    low, high = wilson_interval(k, leerlingen.value)
    return Rate(clienten, leerlingen, PUBLISHED, 100 * k / leerlingen.value, 100 * low, 100 * high)


def clients_per_100(cells: ReleaseCells, level: str, unit: str, schooljaar: str, min_denominator: int) -> Rate:
    return rate_from_counts(
        cells.get(level, unit, schooljaar, CLIENTEN),
        cells.get(level, unit, schooljaar, LEERLINGEN),
        min_denominator,
    )


@dataclass(frozen=True)
class TrendPoint:
    schooljaar: str
    rate: Rate

    def to_dict(self) -> dict:
        return {"schooljaar": self.schooljaar, **self.rate.to_dict()}


def rate_trend(cells: ReleaseCells, level: str, unit: str, min_denominator: int) -> list[TrendPoint]:
    """The rate in every school year the releases cover (oldest first); unpublished years stay in the list."""
    return [TrendPoint(j, clients_per_100(cells, level, unit, j, min_denominator)) for j in cells.schooljaren]


def change_z(current: Rate, previous: Rate) -> float | None:
    """How clearly the rate changed against last year: the difference divided by its standard error
    (two independent proportions), from the published, rounded counts of both years only. ``None``
    when either year is not published. |z| ≥ 1,96 means the change is larger than chance explains."""
    if not (current.published and previous.published):
        return None
    import math

    def var(rate: Rate) -> float:
        n = rate.leerlingen.value
        p = min(rate.clienten.value, n) / n
        return p * (1 - p) / n

    se = math.sqrt(var(current) + var(previous))
    diff = (current.per_100 - previous.per_100) / 100
    if se == 0:
        return 0.0 if diff == 0 else math.copysign(99.0, diff)
    return diff / se


def rate_change(current: Rate, previous: Rate) -> float | None:
    """Change in clients per 100 against last year, only when both years are published."""
    if current.published and previous.published:
        return current.per_100 - previous.per_100
    return None


# --- coverage ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Coverage:
    """Covered pupils (published ``leerlingen``) as a share of DUO's pupil count on 1 October."""

    covered: Count
    duo_leerlingen: int | None
    duo_masked: bool
    share: float | None  # fraction; may exceed 1 through rounding and different counting dates
    upper_bound: bool = False  # DUO's count is a lower bound (parts masked "<5"), so the share is at most this

    def to_dict(self) -> dict:
        return {
            "gedekte_leerlingen": self.covered.to_dict(),
            "duo_leerlingen": self.duo_leerlingen,
            "duo_gemaskeerd": self.duo_masked,
            "dekking_procent": _r(None if self.share is None else 100 * self.share, 1),
            "dekking_is_bovengrens": self.upper_bound,
        }


def coverage(covered: Count, duo_leerlingen: int | None, duo_masked: bool = False) -> Coverage:
    """``duo_masked`` with a count: DUO masked some parts (VO programmes "<5"), so the count is a lower
    bound and the coverage an upper bound; masked without a count: no coverage."""
    share = None
    if covered.published and duo_leerlingen and duo_leerlingen > 0:
        share = covered.value / duo_leerlingen
    return Coverage(covered, duo_leerlingen, duo_masked, share, upper_bound=duo_masked and share is not None)


# --- distributions -------------------------------------------------------------------------------


@dataclass(frozen=True)
class ShareRow:
    category: str
    label: str
    count: Count
    share: float | None  # fraction of the total; None unless both are published

    def to_dict(self) -> dict:
        return {
            "categorie": self.category,
            "label": self.label,
            "aantal": self.count.to_dict(),
            "aandeel_procent": _r(None if self.share is None else 100 * self.share, 1),
        }


@dataclass(frozen=True)
class Distribution:
    measure: str
    total: Count
    rows: tuple[ShareRow, ...]

    def to_dict(self) -> dict:
        return {
            "maat": self.measure,
            "totaal": self.total.to_dict(),
            "rijen": [r.to_dict() for r in self.rows],
        }


ZORGTYPE_CATEGORIES: tuple[tuple[str, str], ...] = tuple((z, ZORGTYPE_BY_SLUG[z].label) for z in CLIENT_ZORGTYPES)
VERWIJZER_CATEGORIES: tuple[tuple[str, str], ...] = tuple(VERWIJZERS.items())
LEEFTIJD_CATEGORIES: tuple[tuple[str, str], ...] = tuple((b, f"{b} jaar") for b, _, _ in AGE_BANDS)

DISTRIBUTIONS: dict[str, tuple[str, str, tuple[tuple[str, str], ...]]] = {
    # name: (measure, total measure, categories in display order)
    "zorgtype": (CLIENTEN_ZORGTYPE, CLIENTEN, ZORGTYPE_CATEGORIES),
    "verwijzer": (NIEUWE_CLIENTEN_VERWIJZER, NIEUWE_CLIENTEN, VERWIJZER_CATEGORIES),
    "leeftijd": (NIEUWE_CLIENTEN_LEEFTIJD, NIEUWE_CLIENTEN, LEEFTIJD_CATEGORIES),
}


#: The measures the factsheet reads at school-type level: the rates (the type trend, the funnel's mean)
#: and, where a school's own table has no published figure, the type's table in its place
#: (:func:`finest`; the support section of hub/indicators/support.py too).
SECTION_MEASURES: frozenset[str] = frozenset(
    {m for measure, total, _ in DISTRIBUTIONS.values() for m in (measure, total)}
    | {CLIENTEN_ZORGINTENSITEIT, CLIENTEN_CONSORTIUM, CLIENTEN_AANBIEDER} | SUPPORT_MEASURES | set(OVERLAP_MEASURES))

#: The measures the pages read at school-type level and at region level (rate, coverage, the
#: distributions, costs, separate measures). The v1 API's release endpoints give a region role exactly
#: these aggregate cells (``hub.access.Access.may_see_cell``).
AGGREGATE_MEASURES_SHOWN: dict[str, frozenset[str]] = {
    SCHOOLTYPE: frozenset({CLIENTEN, LEERLINGEN, KOSTEN}) | SECTION_MEASURES,  # KOSTEN: the costs section's fallback
    REGIO: frozenset({CLIENTEN, LEERLINGEN, CLIENTEN_ZORGTYPE, KOSTEN, JEUGDBESCHERMING, JEUGDRECLASSERING,
                      CLIENTEN_ZORGINTENSITEIT, CLIENTEN_CONSORTIUM})
           | {m for measure, total, _ in DISTRIBUTIONS.values() for m in (measure, total)},
}


def distribution_of(cells: ReleaseCells, level: str, unit: str, schooljaar: str, measure: str, total_measure: str,
                    categories: Sequence[tuple[str, str]], extra: bool = True) -> Distribution:
    """Shares of ``total_measure`` by category of ``measure``, in the order of ``categories`` (then any
    other category the release has, when ``extra``). A category without a published cell (suppressed or
    not sent) is shown the same way, so the page never tells a zero from a small count."""
    total = cells.get(level, unit, schooljaar, total_measure)
    known = dict(categories)
    more = [c for c in cells.categories(level, unit, schooljaar, measure) if c not in known] if extra else []
    rows = []
    for category, label in list(categories) + [(c, c) for c in more]:
        count = cells.get(level, unit, schooljaar, measure, category)
        if count.status == ABSENT:
            count = Count(None, SUPPRESSED)
        share = None
        if count.published and total.published and total.value > 0:
            share = count.value / total.value
        rows.append(ShareRow(category, label, count, share))
    # A category that holds (nearly) all of the row was hidden by the gate (group disclosure).
    return Distribution(measure, total, tuple(rows))


def distribution(cells: ReleaseCells, level: str, unit: str, schooljaar: str, name: str) -> Distribution:
    """Shares by category of one of :data:`DISTRIBUTIONS`; every category of the code list is listed."""
    measure, total_measure, categories = DISTRIBUTIONS[name]
    return distribution_of(cells, level, unit, schooljaar, measure, total_measure, categories)


def care_intensity(cells: ReleaseCells, level: str, unit: str, schooljaar: str,
                   groups: Sequence[tuple[str, str]]) -> Distribution:
    """Clients per care-intensity group (``groups``: (code, label) of the groups with a cell of their
    own, ``Grouping.counted_codes``). A child can be in two groups, so the groups do not add up."""
    return distribution_of(cells, level, unit, schooljaar, CLIENTEN_ZORGINTENSITEIT, CLIENTEN, groups, extra=False)


def consortia(cells: ReleaseCells, level: str, unit: str, schooljaar: str) -> Distribution:
    """Clients per consortium, names as the uploaded table gives them: published counts largest first
    (ties by name), then the hidden ones by name, "andere aanbieders" last. The order uses nothing but
    published values. A child served by two consortia counts in both."""
    names = [c for c in cells.categories(level, unit, schooljaar, CLIENTEN_CONSORTIUM) if c != GEEN_CONSORTIUM]
    shown = {n: cells.get(level, unit, schooljaar, CLIENTEN_CONSORTIUM, n) for n in names}
    published = sorted((n for n in names if shown[n].published), key=lambda n: (-shown[n].value, n.lower(), n))
    hidden = sorted((n for n in names if not shown[n].published), key=lambda n: (n.lower(), n))
    order = published + hidden
    if GEEN_CONSORTIUM in cells.categories(level, unit, schooljaar, CLIENTEN_CONSORTIUM):
        order.append(GEEN_CONSORTIUM)
    return distribution_of(cells, level, unit, schooljaar, CLIENTEN_CONSORTIUM, CLIENTEN,
                           [(n, n) for n in order], extra=False)


# --- the finest published level ------------------------------------------------------------------

#: The levels a factsheet section can show, finest first.
LEVEL_SCHOOL = "school"  # the school's own table, this school year, by category
LEVEL_SCHOOL_GROUPS = "school_groepen"  # the school's own figures in coarser groups (care intensity)
LEVEL_SCHOOLTYPE = "schooltype"  # all schools of the school's type in the region
LEVEL_NONE = "geen"  # no level has a published figure
SECTION_LEVELS = (LEVEL_SCHOOL, LEVEL_SCHOOL_GROUPS, LEVEL_SCHOOLTYPE, LEVEL_NONE)

#: The one sentence a section without any published figure shows.
NOTHING_PUBLISHED = ("Hierover is geen cijfer te tonen: de aantallen zijn te klein om te laten zien zonder "
                     "dat kinderen herkenbaar worden.")


def level_label(level: str, schooltype: str | None = None) -> str:
    """What a section tells its reader about the level it shows (plain Dutch)."""
    if level == LEVEL_SCHOOL:
        return "Cijfers van deze school."
    if level == LEVEL_SCHOOL_GROUPS:
        return ("Cijfers van deze school, in grotere groepen (soort hulp): per zorgtype is van deze school "
                "te weinig bekend.")
    if level == LEVEL_SCHOOLTYPE:
        return (f"Cijfers van alle scholen van dit type ({schooltype}) in de regio; van deze school zelf is "
                "te weinig bekend.")
    if level == LEVEL_NONE:
        return NOTHING_PUBLISHED
    raise ValueError(f"unknown level {level!r}")


def has_published_row(table) -> bool:
    """A table worth showing: at least one of its rows has a published count (a table of nothing but
    "afgeschermd" is never shown; its total alone is not a row). Costs: the total's or one care type's
    cost is published (the total is the figure people ask for first)."""
    if table is None:
        return False
    if isinstance(table, Providers):
        return bool(table.rows)
    if isinstance(table, Costs):
        return any(r.kosten.published for r in (table.total, *table.by_zorgtype))
    return any(r.count.published for r in table.rows)


@dataclass(frozen=True)
class Section:
    """One factsheet section at the finest level that has a published figure."""

    name: str
    level: str  # one of SECTION_LEVELS
    label: str  # level_label(level)
    unit: str | None  # the unit whose figures are shown (vestigingscode or school type); None at LEVEL_NONE
    table: "Distribution | Providers | Costs | None"

    @property
    def shown(self) -> bool:
        return self.level != LEVEL_NONE

    def to_dict(self) -> dict:
        out = {"niveau": self.level, "uitleg": self.label, "eenheid": self.unit, "verdeling": None, "aanbieders": None,
               "kosten": None}
        if isinstance(self.table, Providers):
            out["aanbieders"] = self.table.to_dict()
        elif isinstance(self.table, Costs):
            out["kosten"] = self.table.to_dict()
        elif self.table is not None:
            out["verdeling"] = self.table.to_dict()
        return out


#: One step of a section's fallback chain: (section level, release level, unit, measure, build the table).
Step = tuple[str, str, str, str, Callable[[], "Distribution | Providers | Costs"]]


def finest(name: str, chain: Sequence[Step], schooltype: str | None,
           may_see: Callable[[str, str], bool] = lambda level, measure: True) -> Section:
    """The first step (finest first) whose cells the viewer may see (``may_see(release level, measure)``,
    i.e. ``Access.may_see_cell``) and whose table has a published row; else a section that says in one
    sentence that nothing can be shown. Which level is shown depends on publication status only, which
    every reader sees anyway; never on a hidden value."""
    for level, release_level, unit, measure, build in chain:
        if not may_see(release_level, measure):
            continue
        table = build()
        if has_published_row(table):
            return Section(name, level, level_label(level, schooltype), unit, table)
    return Section(name, LEVEL_NONE, level_label(LEVEL_NONE), None, None)


def school_sections(cells: ReleaseCells, code: str, schooltype: str, schooljaar: str,
                    groups: Sequence[tuple[str, str]],
                    may_see: Callable[[str, str], bool] = lambda level, measure: True) -> dict[str, Section]:
    """Every distribution section of a school's factsheet, each at its finest published level:

    - care types: the school by care type, then the school by care-intensity group, then the school type;
    - care intensity, consortia, referrers, ages, providers, costs: the school, then the school type (costs
      count as published when the total or one care type's cost is).
    """
    def at(level: str, unit: str):
        return {
            "zorgtype": lambda: distribution(cells, level, unit, schooljaar, "zorgtype"),
            "zorgintensiteit": lambda: care_intensity(cells, level, unit, schooljaar, groups),
            "consortia": lambda: consortia(cells, level, unit, schooljaar),
            "verwijzer": lambda: distribution(cells, level, unit, schooljaar, "verwijzer"),
            "leeftijd": lambda: distribution(cells, level, unit, schooljaar, "leeftijd"),
            "aanbieders": lambda: providers(cells, level, unit, schooljaar),
            "kosten": lambda: costs(cells, level, unit, schooljaar),
        }

    mine, kind = at(VESTIGING, code), at(SCHOOLTYPE, schooltype)
    measure = {"zorgtype": CLIENTEN_ZORGTYPE, "zorgintensiteit": CLIENTEN_ZORGINTENSITEIT,
               "consortia": CLIENTEN_CONSORTIUM, "verwijzer": NIEUWE_CLIENTEN_VERWIJZER,
               "leeftijd": NIEUWE_CLIENTEN_LEEFTIJD, "aanbieders": CLIENTEN_AANBIEDER, "kosten": KOSTEN}
    out = {}
    for name, build in mine.items():
        chain: list[Step] = [(LEVEL_SCHOOL, VESTIGING, code, measure[name], build)]
        if name == "zorgtype" and groups:
            chain.append((LEVEL_SCHOOL_GROUPS, VESTIGING, code, CLIENTEN_ZORGINTENSITEIT, mine["zorgintensiteit"]))
        chain.append((LEVEL_SCHOOLTYPE, SCHOOLTYPE, schooltype, measure[name], kind[name]))
        out[name] = finest(name, chain, schooltype, may_see)
    return out


# --- providers -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ProviderRow:
    agb: str
    count: int
    share: float | None  # of the unit's clients (a child may see several providers)

    def to_dict(self) -> dict:
        return {"aanbieder_agb": self.agb, "clienten": self.count, "aandeel_procent": _r(None if self.share is None else 100 * self.share, 1)}


@dataclass(frozen=True)
class Providers:
    """Providers with a published client count, largest first; suppressed providers are not named at all."""

    clienten: Count
    rows: tuple[ProviderRow, ...]
    largest_share: float | None
    hhi_lower_bound: float | None  # Herfindahl index over published providers only: a lower bound

    @property
    def published_providers(self) -> int:
        return len(self.rows)

    def to_dict(self) -> dict:
        return {
            "clienten": self.clienten.to_dict(),
            "aanbieders": [r.to_dict() for r in self.rows],
            "aantal_gepubliceerde_aanbieders": self.published_providers,
            "aandeel_grootste_procent": _r(None if self.largest_share is None else 100 * self.largest_share, 1),
            "hhi_ondergrens": _r(self.hhi_lower_bound, 4),
        }


def providers(cells: ReleaseCells, level: str, unit: str, schooljaar: str) -> Providers:
    clienten = cells.get(level, unit, schooljaar, CLIENTEN)
    published = []
    for agb in cells.categories(level, unit, schooljaar, CLIENTEN_AANBIEDER):
        count = cells.get(level, unit, schooljaar, CLIENTEN_AANBIEDER, agb)
        if count.published and count.value > 0:
            published.append((agb, count.value))
    # Order by published count, ties by code: the order uses nothing but published values.
    published.sort(key=lambda item: (-item[1], item[0]))
    base = clienten.value if clienten.published and clienten.value > 0 else None
    rows = tuple(ProviderRow(agb, v, None if base is None else v / base) for agb, v in published)
    largest = rows[0].share if rows and base else None
    hhi = sum(min(r.share, 1.0) ** 2 for r in rows) if rows and base else None
    return Providers(clienten, rows, largest, hhi)


# --- costs ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CostRow:
    category: str
    label: str
    kosten: Count  # eurocent, rounded by the gate
    clienten: Count
    per_client_euro: float | None

    def to_dict(self) -> dict:
        return {
            "categorie": self.category,
            "label": self.label,
            "kosten_euro": None if not self.kosten.published else self.kosten.value / 100,
            "kosten_status": self.kosten.status,
            "clienten": self.clienten.to_dict(),
            "per_client_euro": _r(self.per_client_euro, 0),
        }


def _cost_row(cells: ReleaseCells, level: str, unit: str, schooljaar: str, category: str, label: str, count: Count) -> CostRow:
    kosten = cells.get(level, unit, schooljaar, KOSTEN, category)
    per_client = None
    # Mean rule: the count and the sum must both be published.
    if kosten.published and count.published and count.value > 0:
        per_client = kosten.value / 100 / count.value
    return CostRow(category, label, kosten, count, per_client)


@dataclass(frozen=True)
class Costs:
    total: CostRow
    by_zorgtype: tuple[CostRow, ...]

    def to_dict(self) -> dict:
        return {"totaal": self.total.to_dict(), "per_zorgtype": [r.to_dict() for r in self.by_zorgtype]}


def costs(cells: ReleaseCells, level: str, unit: str, schooljaar: str) -> Costs:
    total = _cost_row(cells, level, unit, schooljaar, KOSTEN_TOTAAL, "Totaal", cells.get(level, unit, schooljaar, CLIENTEN))
    rows = []
    if cells.get(level, unit, schooljaar, CLIENTEN).status == ABSENT:
        return Costs(total, ())
    for slug, label in ZORGTYPE_CATEGORIES:
        # Every care type is listed: leaving out one without a cell would say its cost is zero.
        rows.append(_cost_row(cells, level, unit, schooljaar, slug, label, cells.get(level, unit, schooljaar, CLIENTEN_ZORGTYPE, slug)))
    return Costs(total, tuple(rows))


def separate_measures(cells: ReleaseCells, level: str, unit: str, schooljaar: str) -> dict[str, Count]:
    """Jeugdbescherming and jeugdreclassering, shown apart from care (they are not 'clients')."""
    return {m: cells.get(level, unit, schooljaar, m) for m in (JEUGDBESCHERMING, JEUGDRECLASSERING)}


# --- funnel --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FunnelPoint:
    """One school in the funnel. A school outside the viewer's scope is anonymous (see
    :func:`scoped_funnel`): no code, no pupil count, no zone, its rate to one decimal."""

    vestigingscode: str | None
    leerlingen: int | None
    per_100: float
    zone: str | None  # binnen | boven_95 | boven_998 | onder_95 | onder_998

    @property
    def anonymous(self) -> bool:
        return self.vestigingscode is None

    def to_dict(self) -> dict:
        return {"vestigingscode": self.vestigingscode, "leerlingen": self.leerlingen, "per_100": _r(self.per_100), "zone": self.zone}


@dataclass(frozen=True)
class Funnel:
    schooltype: str
    schooljaar: str
    pooled: Rate
    points: tuple[FunnelPoint, ...]
    limits: tuple  # FunnelLimits over a grid of denominators

    def to_dict(self) -> dict:
        return {
            "schooltype": self.schooltype,
            "schooljaar": self.schooljaar,
            "gemiddelde": self.pooled.to_dict(),
            "punten": [p.to_dict() for p in self.points],
            "grenzen": [lim.to_dict() for lim in self.limits],
            "methode": "binomiaal, normale benadering: p0 ± z·√(p0(1−p0)/n), z = 1,96 (95 %) en 3,09 (99,8 %)",
        }


def _zone(rate: float, lim) -> str:
    if rate > lim.upper_998:
        return "boven_998"
    if rate > lim.upper_95:
        return "boven_95"
    if rate < lim.lower_998:
        return "onder_998"
    if rate < lim.lower_95:
        return "onder_95"
    return "binnen"


def funnel(
    cells: ReleaseCells, schooltype: str, schools: Sequence[str], schooljaar: str, min_denominator: int, grid_points: int = 60
) -> Funnel:
    """Schools of one type against the type's pooled rate.

    The pooled rate is the school-type level release cell (it includes schools whose own figures are
    suppressed, and it is itself gated); points are schools whose rate is published.
    """
    pooled = clients_per_100(cells, SCHOOLTYPE, schooltype, schooljaar, min_denominator)
    points = []
    if pooled.published:
        p0 = pooled.per_100 / 100
        for code in sorted(schools):
            rate = clients_per_100(cells, VESTIGING, code, schooljaar, min_denominator)
            if rate.published:
                n = rate.leerlingen.value
                points.append(FunnelPoint(code, n, rate.per_100, _zone(rate.per_100 / 100, funnel_limits(p0, n))))
        limits = _funnel_grid(p0, [p.leerlingen for p in points], min_denominator, grid_points)
    else:
        limits = ()
    return Funnel(schooltype, schooljaar, pooled, tuple(points), limits)


def _funnel_grid(p0: float, sizes: Sequence[int], min_denominator: int, grid_points: int,
                 headroom_pct: int = 110) -> tuple:
    top = max(list(sizes) + [min_denominator * 5]) * headroom_pct // 100
    step = max(1, (top - min_denominator) // grid_points)
    grid = range(min_denominator, top + step, step)
    return tuple(funnel_limits(p0, n) for n in grid)


def scoped_funnel(full: Funnel, visible: Callable[[str], bool], key: bytes, min_denominator: int,
                  grid_points: int = 60) -> Funnel:
    """The funnel as a viewer who may see only some schools of the type sees it.

    A school outside the scope keeps only its rate, rounded to one decimal (an exact rate of rounded
    counts would give its pupil count away): no code, no pupil count (the x-axis is close to DUO's
    public count), no zone. Every point is then ordered by that rounded rate, ties by a keyed hash of
    the code, so the order identifies nothing; the limits span only the schools the viewer may see.
    A viewer who sees every school gets ``full`` unchanged.
    """
    if all(visible(p.vestigingscode) for p in full.points):
        return full

    def order(p: FunnelPoint) -> tuple[float, str]:
        return round(p.per_100, 1), hmac.new(key, p.vestigingscode.encode(), hashlib.sha256).hexdigest()

    points = tuple(p if visible(p.vestigingscode) else FunnelPoint(None, None, round(p.per_100, 1), None)
                   for p in sorted(full.points, key=order))
    limits = ()
    if full.limits:
        sizes = [p.leerlingen for p in points if not p.anonymous]
        # More room on the right: the viewer's own school is often the largest point left.
        limits = _funnel_grid(full.pooled.per_100 / 100, sizes, min_denominator, grid_points, headroom_pct=140)
    return Funnel(full.schooltype, full.schooljaar, full.pooled, points, limits)


# --- region overview rows ------------------------------------------------------------------------


@dataclass(frozen=True)
class SchoolRow:
    vestigingscode: str
    naam: str
    schooltype: str
    gemeentecode: str | None
    gemeentenaam: str | None
    plaatsnaam: str | None
    bestuur: str | None
    swv_code: str | None
    rate: Rate
    change: float | None
    coverage: Coverage
    change_z: float | None = None  # change_z(): how clearly the change stands out from chance

    def to_dict(self) -> dict:
        return {
            "vestigingscode": self.vestigingscode,
            "naam": self.naam,
            "schooltype": self.schooltype,
            "gemeentecode": self.gemeentecode,
            "gemeentenaam": self.gemeentenaam,
            "plaatsnaam": self.plaatsnaam,
            "bestuur": self.bestuur,
            "swv_code": self.swv_code,
            "clienten_per_100": self.rate.to_dict(),
            "verschil_vorig_jaar": _r(self.change),
            "verschil_z": _r(self.change_z),
            "dekking": self.coverage.to_dict(),
        }


SORT_KEYS = ("naam", "clienten_per_100", "dekking", "verschil", "stijging", "leerlingen", "schooltype", "gemeente")
#: A change counts as a clear rise or fall from |z| ≥ 1,96 (the 95 % level).
Z_CLEAR = 1.96


def sort_rows(rows: Sequence[SchoolRow], key: str = "naam", descending: bool = False) -> list[SchoolRow]:
    """Sort without leaking: rows whose sort value is not published go last, in a fixed order by name
    (then code), whatever the direction — so their position says nothing about their hidden value.
    """
    if key not in SORT_KEYS:
        raise ValueError(f"unknown sort key {key!r}")

    def value(row: SchoolRow):
        if key == "naam":
            return row.naam.lower()
        if key == "schooltype":
            return row.schooltype
        if key == "gemeente":
            return (row.gemeentenaam or "").lower()
        if key == "clienten_per_100":
            return row.rate.per_100 if row.rate.published else None
        if key == "dekking":
            return row.coverage.share
        if key == "verschil":
            return row.change
        if key == "stijging":  # ranked by how clearly it changed, not by its size (tiny schools swing most)
            return row.change_z
        if key == "leerlingen":
            return row.rate.leerlingen.value if row.rate.leerlingen.published else None
        raise AssertionError(key)

    name_order = lambda r: (r.naam.lower(), r.vestigingscode)  # noqa: E731
    known = [r for r in rows if value(r) is not None]
    unknown = sorted((r for r in rows if value(r) is None), key=name_order)
    known.sort(key=name_order)  # stable secondary order
    known.sort(key=value, reverse=descending)
    return known + unknown


def _text(value) -> str | None:
    if value is None:
        return None
    try:
        import pandas as pd

        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        pass
    return str(value)


def duo_lookup(pupils) -> dict[str, tuple[int | None, bool]]:
    """``pupils`` frame (vestigingscode, leerlingen, masked) → {code: (leerlingen, masked)}."""
    out: dict[str, tuple[int | None, bool]] = {}
    if pupils is None or len(pupils) == 0:
        return out
    for code, n, masked in zip(pupils["vestigingscode"], pupils["leerlingen"], pupils["masked"]):
        n = _text(n)
        out[str(code)] = (None if n is None else int(float(n)), bool(masked))
    return out


def school_rows(cells: ReleaseCells, schools, pupils, schooljaar: str, min_denominator: int) -> list[SchoolRow]:
    """One row per school location that has cells in ``schooljaar`` (not the no-school bucket).

    ``schools``: reference frame (vestigingscode, naam, schooltype, gemeentecode, gemeentenaam, plaatsnaam,
    bestuur, swv_code); a location missing from it is shown by its code with school type ``onbekend``.
    ``pupils``: DUO counts for the school year's 1 October.
    """
    from shared.codes import GEEN_SCHOOL

    info = {}
    if schools is not None and len(schools):
        for rec in schools.to_dict("records"):
            info[str(rec["vestigingscode"])] = rec
    duo = duo_lookup(pupils)
    previous = previous_schooljaar(schooljaar)
    rows = []
    for code in cells.units(VESTIGING, schooljaar):
        if code == GEEN_SCHOOL:
            continue
        rec = info.get(code, {})
        rate = clients_per_100(cells, VESTIGING, code, schooljaar, min_denominator)
        before = clients_per_100(cells, VESTIGING, code, previous, min_denominator)
        n_duo, masked = duo.get(code, (None, False))
        rows.append(
            SchoolRow(
                vestigingscode=code,
                naam=_text(rec.get("naam")) or f"Onbekende vestiging {code}",
                schooltype=_text(rec.get("schooltype")) or "onbekend",
                gemeentecode=_text(rec.get("gemeentecode")),
                gemeentenaam=_text(rec.get("gemeentenaam")),
                plaatsnaam=_text(rec.get("plaatsnaam")),
                bestuur=_text(rec.get("bestuur")),
                swv_code=_text(rec.get("swv_code")),
                rate=rate,
                change=rate_change(rate, before),
                change_z=change_z(rate, before),
                coverage=coverage(cells.get(VESTIGING, code, schooljaar, LEERLINGEN), n_duo, masked),
            )
        )
    return rows


def filter_rows(rows: Sequence[SchoolRow], gemeente: str | None = None, schooltype: str | None = None,
                swv: str | None = None, codes: set[str] | None = None) -> list[SchoolRow]:
    """Filters act on reference attributes only (never on figures), so a filter cannot be a tracker."""
    out = []
    for r in rows:
        if gemeente and r.gemeentecode != gemeente:
            continue
        if schooltype and r.schooltype != schooltype:
            continue
        if swv and r.swv_code != swv:
            continue
        if codes is not None and r.vestigingscode not in codes:
            continue
        out.append(r)
    return out
