"""Pupils with support at school, from the SWVs' cells: per 100 pupils of DUO's count of 1 October, by
soort group, at the finest published level (pure; published values only).

The denominator is DUO's pupil count, not the published ``leerlingen``: an SWV counts every pupil of its
schools, wherever they live, while the municipalities' ``leerlingen`` cover only the pupils living in a
municipality that takes part. A school type's count is the sum over its schools that an SWV counted (a
school of an SWV that does not take part is in neither numerator nor denominator). Where DUO masked part
of a count ("<5") or a counted school has no DUO count, the denominator is a lower bound and the rate an
upper bound. The propagation rule is the rates': a published count over at least ``min_denominator``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Mapping, Sequence

from hub.disclosure.frames import PUBLISHED, SCHOOLTYPE, SUPPRESSED, VESTIGING
from hub.indicators.cells import ABSENT, ABSENT_COUNT, Count, ReleaseCells
from hub.indicators.figures import (
    LEVEL_NONE, LEVEL_SCHOOL, LEVEL_SCHOOLTYPE, SMALL_DENOMINATOR, Distribution, Section, Step, _r, distribution_of,
    finest,
)
from shared.codes import GEEN_SCHOOL, LEERLINGEN_ONDERSTEUNING, LEERLINGEN_ONDERSTEUNING_SOORT, ONDERSTEUNING_GROUPS

#: A unit no participating SWV counts: no support figure at all (a status, like ``absent``).
NOT_COUNTED = "geen_swv"
#: A unit whose DUO pupil count is unknown: the count can be shown, not per 100.
NO_PUPIL_COUNT = "geen_duo_telling"
#: The section's name on the factsheet and in the API's ``secties``.
SECTION = "ondersteuning"
#: What the section says when no participating SWV counts the school (plain Dutch).
NOT_COUNTED_TEXT = ("Over ondersteuning op deze school zijn geen cijfers: het samenwerkingsverband passend onderwijs "
                    "van deze school levert (nog) geen gegevens aan de hub.")


@dataclass(frozen=True)
class Pupils:
    """DUO's pupil count of one or more schools (1 October of the school year)."""

    count: int | None
    lower_bound: bool = False  # DUO masked parts ("<5") or a school has no count: at least this many

    def to_dict(self) -> dict:
        return {"duo_leerlingen": self.count, "duo_is_ondergrens": self.lower_bound}


def duo_pupils(duo: Mapping[str, tuple[int | None, bool]], codes: Sequence[str]) -> Pupils:
    """The DUO count of ``codes`` together (``figures.duo_lookup``'s code → (count, masked))."""
    known = [duo[c] for c in codes if c in duo and duo[c][0] is not None]
    if not known:
        return Pupils(None, False)
    return Pupils(sum(n for n, _ in known), any(m for _, m in known) or len(known) < len(codes))


@dataclass(frozen=True)
class SupportRate:
    """Pupils with support per 100 pupils."""

    count: Count
    pupils: Pupils
    status: str  # published | suppressed | small_denominator | geen_swv | geen_duo_telling
    per_100: float | None = None

    @property
    def published(self) -> bool:
        return self.status == PUBLISHED

    @property
    def upper_bound(self) -> bool:
        return self.published and self.pupils.lower_bound

    def to_dict(self) -> dict:
        return {"leerlingen_ondersteuning": self.count.to_dict(), **self.pupils.to_dict(), "status": self.status,
                "per_100": _r(self.per_100), "per_100_is_bovengrens": self.upper_bound}


def support_rate(count: Count, pupils: Pupils, min_denominator: int) -> SupportRate:
    """``count``: the unit's ``leerlingen_ondersteuning`` (:func:`support_count`: absent where no SWV counts)."""
    if count.status == ABSENT:
        return SupportRate(count, pupils, NOT_COUNTED)
    if not count.published:
        return SupportRate(count, pupils, SUPPRESSED)
    if pupils.count is None:
        return SupportRate(count, pupils, NO_PUPIL_COUNT)
    if pupils.count < max(min_denominator, 1):
        return SupportRate(count, pupils, SMALL_DENOMINATOR)
    return SupportRate(count, pupils, PUBLISHED, 100 * count.value / pupils.count)


def support_count(cells: ReleaseCells, level: str, unit: str, schooljaar: str) -> Count:
    """The unit's ``leerlingen_ondersteuning``; absent where the release lists none (no SWV counts it),
    where every other missing cell would read as suppressed."""
    if not cells.listed(level, unit, schooljaar, LEERLINGEN_ONDERSTEUNING):
        return ABSENT_COUNT
    return cells.get(level, unit, schooljaar, LEERLINGEN_ONDERSTEUNING)


def counted_schools(cells: ReleaseCells, schooljaar: str, codes: Sequence[str] | None = None) -> list[str]:
    """The schools (of ``codes``, or all) that an SWV counted in ``schooljaar``: they have a total cell."""
    units = cells.units(VESTIGING, schooljaar) if codes is None else codes
    return sorted(c for c in units if c != GEEN_SCHOOL and cells.listed(VESTIGING, c, schooljaar, LEERLINGEN_ONDERSTEUNING))


def soort_groups(cells: ReleaseCells, level: str, unit: str, schooljaar: str) -> Distribution:
    """The unit's pupils with support by soort group, in priority order; they add up to the total."""
    return distribution_of(cells, level, unit, schooljaar, LEERLINGEN_ONDERSTEUNING_SOORT, LEERLINGEN_ONDERSTEUNING,
                           ONDERSTEUNING_GROUPS, extra=False)


@dataclass(frozen=True)
class SchoolSupport:
    """A factsheet's support section: the school's rate, its type's, and the soort groups at the finest level."""

    rate: SupportRate  # the school
    type_rate: SupportRate  # the schools of its type that an SWV counted
    section: Section  # the soort groups: the school's, else its type's, else a sentence
    section_pupils: Pupils  # the denominator of the level the section shows

    @property
    def counted(self) -> bool:
        return self.rate.status != NOT_COUNTED

    def per_100(self, count: Count) -> float | None:
        """A soort group's count of the section per 100 pupils of its level (published counts only)."""
        pupils = self.section_pupils.count
        return 100 * count.value / pupils if count.published and pupils else None

    def to_dict(self) -> dict:
        out = self.section.to_dict()
        if out["verdeling"] is not None:
            for row, dist_row in zip(out["verdeling"]["rijen"], self.section.table.rows):
                row["per_100"] = _r(self.per_100(dist_row.count))
        out.update({"deelnemend_swv": self.counted, "school": self.rate.to_dict(), "schooltype": self.type_rate.to_dict(),
                    "noemer": self.section_pupils.to_dict()})
        return out


def school_support(cells: ReleaseCells, code: str, schooltype: str, schooljaar: str,
                   duo: Mapping[str, tuple[int | None, bool]], type_schools: Sequence[str], min_denominator: int,
                   may_see: Callable[[str, str], bool] = lambda level, measure: True) -> SchoolSupport:
    """``type_schools``: the release's schools of the school's type (the type's denominator is those an SWV
    counted); ``may_see``: ``Access.may_see_cell`` as in :func:`figures.school_sections`."""
    school_pupils = duo_pupils(duo, [code])
    type_pupils = duo_pupils(duo, counted_schools(cells, schooljaar, type_schools))
    rate = support_rate(support_count(cells, VESTIGING, code, schooljaar), school_pupils, min_denominator)
    type_count = support_count(cells, SCHOOLTYPE, schooltype, schooljaar)
    if not may_see(SCHOOLTYPE, LEERLINGEN_ONDERSTEUNING) and type_count.status != ABSENT:
        type_count = Count(None, SUPPRESSED)
    type_rate = support_rate(type_count, type_pupils, min_denominator)
    if rate.status == NOT_COUNTED:
        return SchoolSupport(rate, type_rate, Section(SECTION, LEVEL_NONE, NOT_COUNTED_TEXT, None, None), Pupils(None))
    chain: list[Step] = [
        (LEVEL_SCHOOL, VESTIGING, code, LEERLINGEN_ONDERSTEUNING_SOORT,
         lambda: soort_groups(cells, VESTIGING, code, schooljaar)),
        (LEVEL_SCHOOLTYPE, SCHOOLTYPE, schooltype, LEERLINGEN_ONDERSTEUNING_SOORT,
         lambda: soort_groups(cells, SCHOOLTYPE, schooltype, schooljaar)),
    ]
    section = finest(SECTION, chain, schooltype, may_see)
    pupils = {LEVEL_SCHOOL: school_pupils, LEVEL_SCHOOLTYPE: type_pupils}.get(section.level, Pupils(None))
    return SchoolSupport(rate, type_rate, section, pupils)
