"""Support at school and youth care together: the overlap figures per unit, per 100 pupils, with their coverage
(pure; published values only).

The figures exist only at schools whose overlap was counted (hub/disclosure/coverage.py) and at the school
types and the regio above them. Per unit: pupils with support who also get youth care ("both"), with
support only, and with youth care only, each per 100 pupils of DUO's count of the schools counted; the
coverage is the compared clients (of the municipalities whose overlap was counted) next to all clients of
the school, and at a school type the number of its schools counted. A figure per 100 needs a published
count over at least ``min_denominator`` pupils (the support rates' rule).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Mapping, Sequence

from hub.disclosure.frames import PUBLISHED, SCHOOLTYPE, SUPPRESSED, VESTIGING
from hub.indicators.cells import ABSENT, Count, ReleaseCells
from hub.indicators.figures import SchoolRow, _r
from hub.indicators.support import Pupils, duo_pupils
from shared.codes import (
    CLIENTEN, CLIENTEN_VERGELEKEN, GEEN_SCHOOL, JEUGDHULP_ZONDER_ONDERSTEUNING, LEERLINGEN_ONDERSTEUNING,
    ONDERSTEUNING_EN_JEUGDHULP, ONDERSTEUNING_VERGELEKEN, ONDERSTEUNING_ZONDER_JEUGDHULP,
)

#: The section's name on the factsheet and in the API's ``secties``.
SECTION = "ondersteuning_jeugdhulp"
#: A unit whose overlap was not counted: no figure at all (a status, like ``geen_swv``).
NOT_COUNTED = "niet_geteld"
#: The three groups, in the order the pages show them, with their plain-Dutch labels.
PARTS: tuple[tuple[str, str], ...] = (
    (ONDERSTEUNING_EN_JEUGDHULP, "Ondersteuning én jeugdhulp"),
    (ONDERSTEUNING_ZONDER_JEUGDHULP, "Alleen ondersteuning"),
    (JEUGDHULP_ZONDER_ONDERSTEUNING, "Alleen jeugdhulp"),
)
#: Why a school has no overlap figure (plain Dutch; one sentence for every reason, so it tells nothing).
NOT_COUNTED_TEXT = (
    "Voor deze school is niet geteld hoeveel leerlingen zowel ondersteuning als jeugdhulp hebben. Dat gebeurt "
    "alleen als het samenwerkingsverband en de gemeenten elk ten minste 10 kinderen op de school hebben om te "
    "vergelijken, en als hun gegevens allemaal in deze publicatie zitten.")
#: How the overlap is counted without sharing names or numbers (the help page and the factsheet link to it).
HOW_TEXT = (
    "Niemand geeft namen of burgerservicenummers aan een ander. Het samenwerkingsverband en elke gemeente maken "
    "van hun eigen lijst per school een versleutelde lijst met een geheim dat alleen zij kennen. De hub stuurt "
    "die lijsten door, zodat de andere kant ze nog een keer versleutelt met zijn eigen geheim. Alleen die dubbel "
    "versleutelde waarden vergelijkt de hub: twee gelijke waarden horen bij hetzelfde kind. De hub telt ze en "
    "bewaart alleen dat aantal. Wie op de lijsten staat, weet de hub niet, en de andere kant ook niet.")


@dataclass(frozen=True)
class OverlapRow:
    measure: str
    label: str
    count: Count
    per_100: float | None = None

    def to_dict(self) -> dict:
        return {"maat": self.measure, "label": self.label, **self.count.to_dict(), "per_100": _r(self.per_100)}


@dataclass(frozen=True)
class UnitOverlap:
    """The overlap figures of one unit (a school, a school type) in one school year."""

    level: str
    unit: str
    status: str  # published (some group shown) | suppressed (all hidden) | niet_geteld
    rows: tuple[OverlapRow, ...]
    compared_support: Count  # pupils with support at the schools counted ("both" + "support only")
    compared_clients: Count  # clients of the municipalities whose overlap was counted
    clients: Count  # all clients at the unit (every participating municipality, every school)
    pupils: Pupils  # DUO's count of the schools counted
    schools: int  # schools counted (1 or 0 for a school)

    @property
    def counted(self) -> bool:
        return self.status != NOT_COUNTED

    @property
    def coverage_per_100(self) -> float | None:
        """Of 100 clients at the school, how many were compared (school level; both counts published)."""
        if self.level != VESTIGING or not (self.compared_clients.published and self.clients.published):
            return None
        return 100 * min(self.compared_clients.value, self.clients.value) / self.clients.value if self.clients.value else None

    def to_dict(self) -> dict:
        return {
            "niveau": self.level, "eenheid": self.unit, "status": self.status,
            "groepen": [r.to_dict() for r in self.rows],
            "ondersteuning_vergeleken": self.compared_support.to_dict(),
            "clienten_vergeleken": self.compared_clients.to_dict(),
            "clienten": self.clients.to_dict(),
            "vergeleken_per_100_clienten": _r(self.coverage_per_100),
            "scholen_geteld": self.schools,
            "noemer": self.pupils.to_dict(),
        }


def counted_schools(cells: ReleaseCells, schooljaar: str, codes: Sequence[str] | None = None) -> list[str]:
    """The schools (of ``codes``, or all) whose overlap was counted in ``schooljaar``: they have its cells."""
    units = cells.units(VESTIGING, schooljaar) if codes is None else codes
    return sorted(c for c in units if c != GEEN_SCHOOL and cells.listed(VESTIGING, c, schooljaar, ONDERSTEUNING_EN_JEUGDHULP))


def unit_overlap(cells: ReleaseCells, level: str, unit: str, schooljaar: str, duo: Mapping[str, tuple[int | None, bool]],
                 schools: Sequence[str], min_denominator: int,
                 may_see: Callable[[str, str], bool] = lambda level, measure: True) -> UnitOverlap:
    """``schools``: the unit's schools whose overlap was counted (:func:`counted_schools`), for the denominator."""
    def get(measure: str) -> Count:
        count = cells.get(level, unit, schooljaar, measure)
        if count.status != ABSENT and not may_see(level, measure):
            return Count(None, SUPPRESSED)
        return count

    pupils = duo_pupils(duo, list(schools))
    if not cells.listed(level, unit, schooljaar, ONDERSTEUNING_EN_JEUGDHULP):
        return UnitOverlap(level, unit, NOT_COUNTED, (), Count(None, ABSENT), Count(None, ABSENT), get(CLIENTEN), pupils, 0)
    rows = []
    for measure, label in PARTS:
        count = get(measure)
        per_100 = None
        if count.published and pupils.count is not None and pupils.count >= max(min_denominator, 1):
            per_100 = 100 * count.value / pupils.count
        rows.append(OverlapRow(measure, label, count, per_100))
    status = PUBLISHED if any(r.count.published for r in rows) else SUPPRESSED
    compared_support = get(ONDERSTEUNING_VERGELEKEN) if level != VESTIGING else get(LEERLINGEN_ONDERSTEUNING)
    return UnitOverlap(level, unit, status, tuple(rows), compared_support, get(CLIENTEN_VERGELEKEN), get(CLIENTEN),
                       pupils, len(schools))


@dataclass(frozen=True)
class SchoolOverlap:
    """A factsheet's section "Onderwijsondersteuning en jeugdhulp": the school's figures, its type's alongside,
    and which of the two the section shows (the school's, else its type's when none of the school's is
    published; never a table of only hidden values)."""

    school: UnitOverlap
    schooltype: UnitOverlap
    shown: str | None  # vestiging | schooltype | None (a sentence only)

    @property
    def text(self) -> str:
        if not self.school.counted:
            return NOT_COUNTED_TEXT
        if self.shown == SCHOOLTYPE:
            return ("De aantallen van deze school zijn te klein om te tonen zonder dat leerlingen herkenbaar worden. "
                    "Daarom staan hier de cijfers van alle scholen van dit type waarvoor de overlap is geteld.")
        if self.shown is None:
            return ("De aantallen zijn te klein om te tonen zonder dat leerlingen herkenbaar worden, ook voor alle "
                    "scholen van dit type samen.")
        return ""

    def to_dict(self) -> dict:
        niveau = {VESTIGING: "school", SCHOOLTYPE: "schooltype"}.get(self.shown or "", "geen")
        return {"niveau": niveau, "geteld": self.school.counted, "getoond_niveau": self.shown, "tekst": self.text or None,
                "school": self.school.to_dict(), "schooltype": self.schooltype.to_dict(), "uitleg": HOW_TEXT}


def school_overlap(cells: ReleaseCells, code: str, schooltype: str, schooljaar: str,
                   duo: Mapping[str, tuple[int | None, bool]], type_schools: Sequence[str], min_denominator: int,
                   may_see: Callable[[str, str], bool] = lambda level, measure: True) -> SchoolOverlap:
    """``type_schools``: the release's schools of the school's type; ``may_see``: ``Access.may_see_cell``."""
    school = unit_overlap(cells, VESTIGING, code, schooljaar, duo, counted_schools(cells, schooljaar, [code]),
                          min_denominator, may_see)
    typ = unit_overlap(cells, SCHOOLTYPE, schooltype, schooljaar, duo, counted_schools(cells, schooljaar, type_schools),
                       min_denominator, may_see)
    if not school.counted:
        shown = None
    elif school.status == PUBLISHED:
        shown = VESTIGING
    elif typ.status == PUBLISHED:
        shown = SCHOOLTYPE
    else:
        shown = None
    return SchoolOverlap(school, typ, shown)


@dataclass(frozen=True)
class GroupTotal:
    """A sum over a group of schools (an SWV's) of their published values only: the schools with a hidden
    value are left out and counted, so the total says "at least" what it covers (no new information)."""

    measure: str
    value: int
    included: int  # schools whose value is published
    hidden: int  # schools counted whose value is hidden

    def to_dict(self) -> dict:
        return {"maat": self.measure, "opgeteld": self.value, "scholen_opgeteld": self.included,
                "scholen_afgeschermd": self.hidden}


def group_total(cells: ReleaseCells, schooljaar: str, codes: Sequence[str], measure: str) -> GroupTotal:
    """The published values of ``measure`` over ``codes`` (schools without the cell are not in it)."""
    value = included = hidden = 0
    for code in codes:
        if not cells.listed(VESTIGING, code, schooljaar, measure):
            continue
        count = cells.get(VESTIGING, code, schooljaar, measure)
        if count.published:
            value += count.value
            included += 1
        else:
            hidden += 1
    return GroupTotal(measure, value, included, hidden)


@dataclass(frozen=True)
class SwvYear:
    """One school year of an SWV's totals: its schools' published support and overlap, summed."""

    schooljaar: str
    support: GroupTotal
    both: GroupTotal
    support_only: GroupTotal
    care_only: GroupTotal

    def to_dict(self) -> dict:
        return {"schooljaar": self.schooljaar, "ondersteuning": self.support.to_dict(), "beide": self.both.to_dict(),
                "alleen_ondersteuning": self.support_only.to_dict(), "alleen_jeugdhulp": self.care_only.to_dict()}


@dataclass(frozen=True)
class SwvOverlap:
    """The SWV page's overlap: per school its figures, and per school year the SWV's totals (sums of its
    schools' published values: the gate has no SWV level, so a total covers the schools it names)."""

    rows: tuple[tuple[SchoolRow, UnitOverlap], ...]
    trend: tuple[SwvYear, ...]

    @property
    def counted(self) -> bool:
        return any(o.counted for _, o in self.rows)

    @property
    def published(self) -> bool:
        return any(o.status == PUBLISHED for _, o in self.rows)


def swv_year(cells: ReleaseCells, schooljaar: str, codes: Sequence[str]) -> SwvYear:
    """One school year of an SWV's totals over its schools ``codes``."""
    return SwvYear(schooljaar, *(group_total(cells, schooljaar, codes, measure) for measure in (
        LEERLINGEN_ONDERSTEUNING, ONDERSTEUNING_EN_JEUGDHULP, ONDERSTEUNING_ZONDER_JEUGDHULP,
        JEUGDHULP_ZONDER_ONDERSTEUNING)))


def swv_overlap(cells: ReleaseCells, duo: Mapping[str, tuple[int | None, bool]], rows: Sequence[SchoolRow],
                schooljaar: str, schooljaren: Sequence[str], min_denominator: int) -> SwvOverlap:
    """The SWV page's overlap: its schools' figures in ``schooljaar`` and its totals in every school year
    (the same schools' published values, :func:`swv_year`)."""
    out = tuple((row, unit_overlap(cells, VESTIGING, row.vestigingscode, schooljaar, duo,
                                   counted_schools(cells, schooljaar, [row.vestigingscode]), min_denominator))
                for row in rows)
    codes = [r.vestigingscode for r in rows]
    return SwvOverlap(out, tuple(swv_year(cells, jaar, codes) for jaar in schooljaren))
