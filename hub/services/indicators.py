"""Indicators for the API and the pages: loads the current releases and the reference data, then calls
the pure functions of :mod:`hub.indicators`. Read-only; never touches a suppressed value.

Provider names (:func:`provider_names`): per AGB code, the name of the uploaded consortium table when
it has one, else the name most nodes give it in the submissions the current releases were built from
(ties to the alphabetically first), and a name only for a provider with a published provider cell:
the names are never a list of every provider that served a pupil of the region.

The module is long because it is the one place where every page and API answer gets its data: one
loader per view (overview, factsheet, SWV, consortia, providers), each sharing the cached release
frames; splitting it would spread those shared caches over several modules.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache, cached_property
from typing import Any

import pandas as pd
from flask import current_app
from sqlalchemy import select

from hub.disclosure.frames import PUBLIC_COLUMNS, PUBLISHED
from hub.extensions import db
from hub.indicators import figures as fig
from hub.indicators import overlap as ovl
from hub.indicators import support as sup
from hub.indicators.cells import ReleaseCells
from hub.models.releases import Release, ReleaseCell
from hub.models.submissions import Submission
from hub.services import reference
from hub.services import releases as release_service
from hub.dutch import place_name
from shared.codes import CLIENTEN_AANBIEDER, GEEN_CONSORTIUM, GEEN_SCHOOL, LEERLINGEN, is_swv_code, parse_schooljaar
from shared.errors import ForbiddenError, InputError, NotFoundError
from shared.partial import provider_name_problem

SCHOOL_COLUMNS = ("vestigingscode", "naam", "schooltype", "gemeentecode", "gemeentenaam", "plaatsnaam", "bestuur", "swv_code")


def check_schooljaar(schooljaar: str) -> str:
    try:
        parse_schooljaar(schooljaar)
    except ValueError as exc:
        raise InputError(str(exc), code="invalid_schooljaar") from None
    return schooljaar


@dataclass
class RegionData:
    """Everything the pages of one request need: the current release of every school year plus reference data."""

    cells: ReleaseCells
    releases: dict[str, int]  # schooljaar → release id
    schools: pd.DataFrame  # SCHOOL_COLUMNS, one row per location known to the reference data or a release
    swv_members: dict[str, set[str]]  # swv code → vestigingscodes (either sector)
    swv_names: dict[str, str]
    provider_names: dict[str, str]  # AGB code → name, only for providers with a published cell
    provider_consortium: dict[str, str]
    min_denominator: int
    #: schooljaar → {"id", "version", "created_at", "schooljaar", "gemeenten"}: what the "Bron" line names
    publications: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: What it was loaded from (``_releases_and_version``): caches of results computed from it key on this.
    version: tuple = ()
    _pupils: dict[int, pd.DataFrame] = field(default_factory=dict)
    _rows: dict[str, list] = field(default_factory=dict)

    @property
    def schooljaren(self) -> list[str]:
        return sorted(self.releases)

    def latest(self) -> str | None:
        return max(self.releases) if self.releases else None

    def require_schooljaar(self, schooljaar: str | None) -> str:
        if not schooljaar:
            latest = self.latest()
            if latest is None:
                raise NotFoundError("Er is nog geen publicatie", code="no_release")
            return latest
        check_schooljaar(schooljaar)
        if schooljaar not in self.releases:
            raise NotFoundError(f"Geen publicatie voor schooljaar {schooljaar}", code="release_not_found")
        return schooljaar

    def pupils(self, schooljaar: str) -> pd.DataFrame:
        jaar = int(schooljaar[:4])  # DUO's 1 October count of jaar ↔ schooljaar jaar-(jaar+1)
        if jaar not in self._pupils:
            self._pupils[jaar] = _pupil_counts(jaar)
        return self._pupils[jaar]

    @cached_property
    def school_info(self) -> dict[str, dict[str, Any]]:
        return {r["vestigingscode"]: r for r in self.schools.to_dict("records")}

    def schools_of_type(self, schooltype: str, schooljaar: str) -> list[str]:
        return [c for c in self.cells.units(fig.VESTIGING, schooljaar) if self.school_info.get(c, {}).get("schooltype") == schooltype]

    def rows(self, schooljaar: str) -> list[fig.SchoolRow]:
        if schooljaar not in self._rows:
            self._rows[schooljaar] = fig.school_rows(self.cells, self.schools, self.pupils(schooljaar), schooljaar,
                                                     self.min_denominator)
        return list(self._rows[schooljaar])

    def provider_label(self, agb: str) -> str:
        """The provider's name, or "naam onbekend": never its AGB code dressed up as a name (the code
        has a column of its own wherever a provider is shown)."""
        return self.provider_names.get(agb) or UNKNOWN_PROVIDER


#: What a provider without a known name is called (its AGB code stands in its own column).
UNKNOWN_PROVIDER = "naam onbekend"


# --- loading -------------------------------------------------------------------------------------


def _release_cells(release_ids: list[int]) -> ReleaseCells:
    if not release_ids:
        return ReleaseCells.empty()
    cols = [getattr(ReleaseCell, c) for c in PUBLIC_COLUMNS]
    rows = db.session.execute(select(*cols).where(ReleaseCell.release_id.in_(release_ids))).all()
    # ReleaseCells drops the value of every cell whose status is not published (the store keeps none either).
    return ReleaseCells.from_rows(rows)


def _reference_schools(release_types: dict[str, str]) -> tuple[pd.DataFrame, dict[str, set[str]], dict[str, str]]:
    from hub.models.reference import Samenwerkingsverband, Vestiging

    records = []
    columns = (Vestiging.vestigingscode, Vestiging.naam, Vestiging.soort, Vestiging.gemeentecode, Vestiging.gemeentenaam,
               Vestiging.plaatsnaam, Vestiging.bevoegd_gezag_naam, Vestiging.bevoegd_gezag_nummer, Vestiging.swv_code)
    for v in db.session.execute(select(*columns)):
        records.append(
            {
                "vestigingscode": v.vestigingscode,
                "naam": v.naam or f"Vestiging {v.vestigingscode}",
                # The school type the release was gated with wins, so the funnel matches the type totals.
                "schooltype": release_types.get(v.vestigingscode) or v.soort or "onbekend",
                "gemeentecode": v.gemeentecode,
                "gemeentenaam": place_name(v.gemeentenaam),
                "plaatsnaam": place_name(v.plaatsnaam),
                "bestuur": v.bevoegd_gezag_naam or v.bevoegd_gezag_nummer,
                "swv_code": v.swv_code,
            }
        )
    known = {r["vestigingscode"] for r in records}
    for code, soort in release_types.items():
        if code not in known and code != GEEN_SCHOOL:
            records.append({"vestigingscode": code, "naam": f"Onbekende vestiging {code}", "schooltype": soort or "onbekend",
                            "gemeentecode": None, "gemeentenaam": None, "plaatsnaam": None, "bestuur": None, "swv_code": None})
    members: dict[str, set[str]] = {}
    for code, swvs in reference.swv_codes_by_school(db.session).items():
        for swv in swvs:
            members.setdefault(swv, set()).add(code)
    names = dict(db.session.execute(select(Samenwerkingsverband.code, Samenwerkingsverband.naam)).all())
    return pd.DataFrame.from_records(records, columns=list(SCHOOL_COLUMNS)), members, names


def _pupil_counts(jaar: int) -> pd.DataFrame:
    from hub.models.reference import PupilCount

    rows = db.session.execute(
        select(PupilCount.vestigingscode, PupilCount.leerlingen, PupilCount.masked).where(PupilCount.jaar == jaar)
    ).all()
    return pd.DataFrame(rows, columns=["vestigingscode", "leerlingen", "masked"])


def _providers(release_ids: list[int]) -> tuple[dict[str, str], dict[str, str]]:
    """(AGB code → name, AGB code → consortium): the names of :func:`provider_names`, the consortia of
    the uploaded table."""
    from hub.models.consortia import Consortium, ConsortiumMember

    uploaded, consortium = {}, {}
    rows = db.session.execute(select(ConsortiumMember.aanbieder_agb, ConsortiumMember.aanbieder_naam, Consortium.naam)
                              .join(Consortium, Consortium.id == ConsortiumMember.consortium_id)).all()
    for agb, naam, cnaam in rows:
        if naam:
            uploaded[agb] = naam
        consortium[agb] = cnaam
    return provider_names(uploaded, node_provider_names(release_ids), published_providers(release_ids)), consortium


def provider_names(uploaded: dict[str, str], from_nodes: dict[str, str], published: set[str]) -> dict[str, str]:
    """Per provider in ``published``: the uploaded table's name, else the nodes' (module docstring)."""
    names = {agb: uploaded.get(agb) or from_nodes.get(agb) for agb in published}
    return {agb: naam for agb, naam in names.items() if naam}


def published_providers(release_ids: list[int]) -> set[str]:
    """The AGB codes with a published, non-zero provider cell (any level) in these releases: the only
    providers a page shows (hub.indicators.figures.providers)."""
    if not release_ids:
        return set()
    return set(db.session.scalars(
        select(ReleaseCell.category).distinct()
        .where(ReleaseCell.release_id.in_(release_ids), ReleaseCell.measure == CLIENTEN_AANBIEDER,
               ReleaseCell.status == PUBLISHED, ReleaseCell.value > 0)))


def node_provider_names(release_ids: list[int]) -> dict[str, str]:
    """AGB code → the name most nodes give it in the submissions of these releases (a node naming it in
    two school years counts once per name); a tie goes to the alphabetically first name."""
    ids = sorted({i for rid in release_ids for i in (db.session.get(Release, rid).submission_ids or ())})
    rows = db.session.execute(select(Submission.node_id, Submission.provider_names)
                              .where(Submission.id.in_(ids))).all() if ids else []
    votes: dict[str, dict[str, set[int]]] = {}
    for node_id, names in rows:
        for agb, naam in (names or {}).items():
            if provider_name_problem(naam) is None:  # checked at the door; a later, stricter rule applies too
                votes.setdefault(agb, {}).setdefault(naam, set()).add(node_id)
    return {agb: min(by_name, key=lambda n: (-len(by_name[n]), n)) for agb, by_name in votes.items()}


@cache
def _version_queries() -> tuple:
    """The query of :func:`_releases_and_version` and the one for a hub without a current release,
    built once. Besides the current releases, RegionData depends on the reference imports and the
    consortium table; on the consortium table's upload time too: it is replaced as a whole, and SQLite
    may hand the new rows the old ids."""
    from sqlalchemy import func

    from hub.models.consortia import ConsortiumMember
    from hub.models.reference import ReferenceImport, Vestiging

    columns = (select(func.max(ReferenceImport.id)).scalar_subquery(),
               select(func.count()).select_from(Vestiging).scalar_subquery(),
               select(func.max(ConsortiumMember.id)).scalar_subquery(),
               select(func.count()).select_from(ConsortiumMember).scalar_subquery(),
               select(func.max(ConsortiumMember.uploaded_at)).scalar_subquery())
    return release_service.current_release_rows(*columns), select(*columns)


def _releases_and_version() -> tuple[dict[str, int], tuple]:
    """The current release ids (as :func:`release_service.current_release_ids`) and the version of
    the region data, in ONE query: every request asks. Each row carries the reference and consortium
    columns; a hub without a current release asks for them alone."""
    with_releases, alone = _version_queries()
    rows = db.session.execute(with_releases).all()
    releases = {row[0]: row[1] for row in rows}  # a later round of the same year wins
    others = tuple(rows[0][2:]) if rows else tuple(db.session.execute(alone).one())
    return releases, (tuple(sorted(releases.items())), *others, current_app.config["DISCLOSURE_MIN_DENOMINATOR"])


def load() -> RegionData:
    """The region's data, reused across requests until a release, reference import or consortium table changes."""
    releases, key = _releases_and_version()
    cached = current_app.extensions.get("jeugdhub_region_data")
    if cached is not None and cached[0] == key:
        return cached[1]
    data = _load(releases)
    data.version = key
    # One assignment: a thread that reads the old pair or the new one finds data and key that match.
    current_app.extensions["jeugdhub_region_data"] = (key, data)
    return data


def _publications(releases: dict[str, int]) -> dict[str, dict[str, Any]]:
    """Per school year: the current publication's id, version, date and participating municipalities
    and samenwerkingsverbanden (by name)."""
    from hub.models.nodes import Node
    from hub.models.reference import Gemeente

    names = {code: place_name(naam) for code, naam in db.session.execute(select(Gemeente.code, Gemeente.naam))}
    names.update({code: naam for code, naam in db.session.execute(select(Node.code, Node.naam)) if naam})
    out = {}
    for jaar, rid in releases.items():
        summary = release_service.get_release(rid)
        swvs = [c for c in summary.nodes if is_swv_code(c)]
        out[jaar] = {"id": rid, "version": summary.version, "created_at": summary.created_at, "schooljaar": jaar,
                     "gemeenten": sorted(names.get(c, c) for c in summary.nodes if c not in swvs),
                     "samenwerkingsverbanden": sorted(names.get(c, c) for c in swvs),
                     "swv_codes": sorted(swvs)}
    return out


def publication(release_id: int) -> dict[str, Any]:
    """One publication (current or superseded) as the "Bron" line names it."""
    summary = release_service.get_release(release_id)
    return _publications({summary.schooljaar: release_id})[summary.schooljaar]


def _load(releases: dict[str, int]) -> RegionData:
    release_types: dict[str, str] = {}
    for rid in sorted(releases.values()):  # newer releases override older ones' types
        release_types.update(db.session.get(Release, rid).schooltypes or {})
    schools, members, swv_names = _reference_schools(release_types)
    names, consortium = _providers(sorted(releases.values()))
    return RegionData(
        cells=_release_cells(sorted(releases.values())),
        releases=releases,
        schools=schools,
        swv_members=members,
        swv_names=swv_names,
        provider_names=names,
        provider_consortium=consortium,
        min_denominator=int(current_app.config["DISCLOSURE_MIN_DENOMINATOR"]),
        publications=_publications(releases),
    )


# --- views ---------------------------------------------------------------------------------------


def schooljaren(data: RegionData) -> list[dict[str, Any]]:
    return [{"schooljaar": j, "release_id": data.releases[j]} for j in sorted(data.releases, reverse=True)]


def region_schools(data: RegionData) -> set[str]:
    """Locations with cells in any current publication: the schools the participating gemeenten cover."""
    return {c for j in data.schooljaren for c in data.cells.units(fig.VESTIGING, j)} - {GEEN_SCHOOL}


def swvs_in_region(data: RegionData) -> dict[str, int]:
    """SWV code → number of its schools in the region (only SWVs with at least one)."""
    schools = region_schools(data)
    counts = {code: len(members & schools) for code, members in data.swv_members.items()}
    return {code: n for code, n in counts.items() if n}


def best_covered_swv(data: RegionData) -> str | None:
    """The SWV with the most schools whose pupils the participating gemeenten cover (a published pupil
    count in the latest publication); ties go to the lowest code. For the demo's SWV user."""
    jaar = data.latest()
    if jaar is None:
        return None
    covered = {c for c in data.cells.units(fig.VESTIGING, jaar)
               if c != GEEN_SCHOOL and data.cells.get(fig.VESTIGING, c, jaar, LEERLINGEN).published}
    scores = {code: len(members & covered) for code, members in data.swv_members.items()}
    best = min(((-n, code) for code, n in scores.items() if n), default=None)
    return best[1] if best else None


def school_swvs(data: RegionData, code: str) -> set[str]:
    return {s for s, codes in data.swv_members.items() if code in codes}


def school_visible(data: RegionData, access, code: str) -> bool:
    return access.may_see_school(code, school_swvs(data, code))


def overview(data: RegionData, access, schooljaar: str | None = None, gemeente: str | None = None,
             schooltype: str | None = None, swv: str | None = None, sort: str = "naam", descending: bool = False,
             coverage: bool = False, zoek: str | None = None) -> dict[str, Any]:
    """Rows of the region overview, filtered by reference attributes and by what the user may see.

    ``zoek`` matches school name, vestigingscode or place (reference data only, never a figure).
    """
    schooljaar = data.require_schooljaar(schooljaar)
    if sort not in fig.SORT_KEYS:
        raise InputError(f"Onbekende sortering '{sort}'; kies uit: {', '.join(fig.SORT_KEYS)}", code="invalid_sort")
    rows = data.rows(schooljaar)
    codes = None
    if swv:
        codes = data.swv_members.get(swv.upper(), set())
    rows = fig.filter_rows(rows, gemeente=gemeente or None, schooltype=schooltype or None, codes=codes)
    if zoek and zoek.strip():
        needle = zoek.strip().lower()
        rows = [r for r in rows if needle in r.naam.lower() or needle in r.vestigingscode.lower()
                or needle in (r.plaatsnaam or "").lower()]
    if coverage:
        rows = [r for r in rows if access.may_see_coverage(
            r.vestigingscode, school_swvs(data, r.vestigingscode),
            (p.agb for p in fig.providers(data.cells, fig.VESTIGING, r.vestigingscode, schooljaar).rows),
            (x.category for x in fig.consortia(data.cells, fig.VESTIGING, r.vestigingscode, schooljaar).rows
             if x.count.published))]
    else:
        rows = [r for r in rows if school_visible(data, access, r.vestigingscode)]
    rows = fig.sort_rows(rows, sort, descending)
    return {
        "schooljaar": schooljaar,
        "release_id": data.releases[schooljaar],
        "filters": {"gemeente": gemeente or None, "schooltype": schooltype or None, "swv": swv or None},
        "zoek": (zoek or "").strip() or None,
        "sortering": sort,
        "aflopend": descending,
        "scholen": rows,
    }


def type_trends(data: RegionData) -> dict[str, list[fig.TrendPoint]]:
    types = sorted(set(data.cells.units(fig.SCHOOLTYPE)) - {GEEN_SCHOOL})
    return {t: fig.rate_trend(data.cells, fig.SCHOOLTYPE, t, data.min_denominator) for t in types}


def region(data: RegionData, schooljaar: str | None = None) -> dict[str, Any]:
    schooljaar = data.require_schooljaar(schooljaar)
    c, m = data.cells, data.min_denominator
    types = sorted(set(c.units(fig.SCHOOLTYPE, schooljaar)))
    duo = fig.duo_lookup(data.pupils(schooljaar))
    region_codes = [x for x in c.units(fig.VESTIGING, schooljaar) if x != GEEN_SCHOOL]
    duo_total = sum((duo.get(x, (None, False))[0] or 0) for x in region_codes)
    return {
        "schooljaar": schooljaar,
        "release_id": data.releases[schooljaar],
        "regio": fig.clients_per_100(c, fig.REGIO, fig.REGIO_UNIT, schooljaar, m),
        "dekking": fig.coverage(c.get(fig.REGIO, fig.REGIO_UNIT, schooljaar, LEERLINGEN), duo_total or None),
        "schooltypes": {t: fig.clients_per_100(c, fig.SCHOOLTYPE, t, schooljaar, m) for t in types},
        "trend_regio": fig.rate_trend(c, fig.REGIO, fig.REGIO_UNIT, m),
        "trend_schooltypes": type_trends(data),
        "distributies": {**{n: fig.distribution(c, fig.REGIO, fig.REGIO_UNIT, schooljaar, n) for n in fig.DISTRIBUTIONS},
                         "zorgintensiteit": fig.care_intensity(c, fig.REGIO, fig.REGIO_UNIT, schooljaar, care_groups()),
                         "consortia": fig.consortia(c, fig.REGIO, fig.REGIO_UNIT, schooljaar)},
        "kosten": fig.costs(c, fig.REGIO, fig.REGIO_UNIT, schooljaar),
        "apart": fig.separate_measures(c, fig.REGIO, fig.REGIO_UNIT, schooljaar),
    }


def care_groups() -> list[tuple[str, str]]:
    """The care-intensity groups with cells of their own, (code, label), from the hub's groupings table."""
    from hub.services import groupings

    grouping = groupings.current().zorgintensiteit
    labels = grouping.labels()
    return [(code, labels[code]) for code in grouping.counted_codes()]


def _funnel(data: RegionData, access, schooltype: str, schooljaar: str) -> fig.Funnel:
    """The type's funnel as ``access`` may see it: schools outside its scope are anonymous points."""
    schools = data.schools_of_type(schooltype, schooljaar)
    full = fig.funnel(data.cells, schooltype, schools, schooljaar, data.min_denominator)
    key = str(current_app.config["SECRET_KEY"]).encode()
    return fig.scoped_funnel(full, lambda code: school_visible(data, access, code), key, data.min_denominator)


def funnel(data: RegionData, access, schooltype: str, schooljaar: str | None = None) -> fig.Funnel:
    """A type's funnel, for whom a factsheet shows it: who may see a school of that type."""
    schooljaar = data.require_schooljaar(schooljaar)
    if schooltype not in data.cells.units(fig.SCHOOLTYPE, schooljaar):
        raise NotFoundError(f"Geen schooltype '{schooltype}' in schooljaar {schooljaar}", code="schooltype_not_found")
    if not any(school_visible(data, access, code) for code in data.schools_of_type(schooltype, schooljaar)):
        raise ForbiddenError("U ziet alleen de vergelijking voor het type van de scholen binnen uw bereik",
                             code="out_of_scope")
    return _funnel(data, access, schooltype, schooljaar)


def factsheet(data: RegionData, access, vestigingscode: str, schooljaar: str | None = None) -> dict[str, Any]:
    """Everything on one school's factsheet, as ``access`` may see it (the funnel's other schools)."""
    schooljaar = data.require_schooljaar(schooljaar)
    code = vestigingscode.upper()
    if code == GEEN_SCHOOL or code not in data.cells.units(fig.VESTIGING, schooljaar):
        raise NotFoundError(f"Geen cijfers voor vestiging {vestigingscode} in {schooljaar}", code="school_not_found")
    c, m = data.cells, data.min_denominator
    row = next(r for r in data.rows(schooljaar) if r.vestigingscode == code)
    providers = fig.providers(c, fig.VESTIGING, code, schooljaar)
    stype = row.schooltype
    groups = care_groups()
    swvs = school_swvs(data, code)

    def may_see(level: str, measure: str) -> bool:
        return access.may_see_cell(level, code if level == fig.VESTIGING else stype, measure, swvs)

    duo, type_schools = fig.duo_lookup(data.pupils(schooljaar)), data.schools_of_type(stype, schooljaar)
    return {
        "schooljaar": schooljaar,
        "release_id": data.releases[schooljaar],
        "school": row,
        "swv_naam": data.swv_names.get(row.swv_code or "", None),
        "trend": fig.rate_trend(c, fig.VESTIGING, code, m),
        "type_trend": fig.rate_trend(c, fig.SCHOOLTYPE, stype, m),
        "type_rate": fig.clients_per_100(c, fig.SCHOOLTYPE, stype, schooljaar, m),
        "regio_rate": fig.clients_per_100(c, fig.REGIO, fig.REGIO_UNIT, schooljaar, m),
        "distributies": {**{n: fig.distribution(c, fig.VESTIGING, code, schooljaar, n) for n in fig.DISTRIBUTIONS},
                         "zorgintensiteit": fig.care_intensity(c, fig.VESTIGING, code, schooljaar, groups),
                         "consortia": fig.consortia(c, fig.VESTIGING, code, schooljaar)},
        "secties": fig.school_sections(c, code, stype, schooljaar, groups, may_see),
        "ondersteuning": sup.school_support(c, code, stype, schooljaar, duo, type_schools, m, may_see),
        "ondersteuning_jeugdhulp": ovl.school_overlap(c, code, stype, schooljaar, duo, type_schools, m, may_see),
        "aanbieders": providers,
        "kosten": fig.costs(c, fig.VESTIGING, code, schooljaar),
        "apart": fig.separate_measures(c, fig.VESTIGING, code, schooljaar),
        "funnel": _funnel(data, access, stype, schooljaar),
    }


def _shown(table) -> dict | None:
    """A unit's own table as JSON, or None when none of its rows is published: the API, like the pages,
    never gives a table of nothing but suppressed cells (``secties`` has the finest level that has one)."""
    return table.to_dict() if fig.has_published_row(table) else None


def factsheet_to_dict(data: RegionData, sheet: dict[str, Any]) -> dict[str, Any]:
    providers = sheet["aanbieders"].to_dict()
    for p in providers["aanbieders"]:
        p["aanbieder_naam"] = data.provider_label(p["aanbieder_agb"])
    funnel_dict = sheet["funnel"].to_dict()
    sections = {}
    for name, section in sheet["secties"].items():
        sections[name] = section.to_dict()
        if sections[name]["aanbieders"] is not None:
            for p in sections[name]["aanbieders"]["aanbieders"]:
                p["aanbieder_naam"] = data.provider_label(p["aanbieder_agb"])
    sections[sup.SECTION] = sheet["ondersteuning"].to_dict()
    sections[ovl.SECTION] = sheet["ondersteuning_jeugdhulp"].to_dict()
    return {
        "schooljaar": sheet["schooljaar"],
        "release_id": sheet["release_id"],
        "school": sheet["school"].to_dict(),
        "swv_naam": sheet["swv_naam"],
        "trend": [t.to_dict() for t in sheet["trend"]],
        "schooltype_trend": [t.to_dict() for t in sheet["type_trend"]],
        "schooltype_clienten_per_100": sheet["type_rate"].to_dict(),
        "regio_clienten_per_100": sheet["regio_rate"].to_dict(),
        "distributies": {n: _shown(d) for n, d in sheet["distributies"].items()},
        "secties": sections,
        "aanbieders": providers,
        "kosten": _shown(sheet["kosten"]),
        "apart": {k: v.to_dict() for k, v in sheet["apart"].items()},
        "funnel": funnel_dict,
    }


@dataclass(frozen=True)
class SwvSupport:
    """The SWV page's support per school: does the SWV take part in the publication, and per school its
    pupils with support (per 100 of DUO's count)."""

    participates: bool
    rows: tuple[tuple[fig.SchoolRow, sup.SupportRate], ...]

    @property
    def published(self) -> bool:
        return any(rate.published or rate.count.published for _, rate in self.rows)


def swv_support(data: RegionData, code: str, rows: list[fig.SchoolRow], schooljaar: str) -> SwvSupport:
    """``rows``: the SWV page's schools (already filtered by what the viewer may see). The SWV takes part
    when its node's submission is in the school year's publication."""
    duo = fig.duo_lookup(data.pupils(schooljaar))
    participates = code in (data.publications.get(schooljaar) or {}).get("swv_codes", [])
    out = []
    for row in rows:
        count = sup.support_count(data.cells, fig.VESTIGING, row.vestigingscode, schooljaar)
        out.append((row, sup.support_rate(count, sup.duo_pupils(duo, [row.vestigingscode]), data.min_denominator)))
    return SwvSupport(participates, tuple(out))


def swv_overlap(data: RegionData, code: str, rows: list[fig.SchoolRow], schooljaar: str) -> ovl.SwvOverlap:
    """``rows``: the SWV page's schools (already filtered by what the viewer may see)."""
    return ovl.swv_overlap(data.cells, fig.duo_lookup(data.pupils(schooljaar)), rows, schooljaar, data.schooljaren,
                           data.min_denominator)


def region_to_dict(reg: dict[str, Any]) -> dict[str, Any]:
    return {
        "schooljaar": reg["schooljaar"],
        "release_id": reg["release_id"],
        "clienten_per_100": reg["regio"].to_dict(),
        "dekking": reg["dekking"].to_dict(),
        "schooltypes": {t: r.to_dict() for t, r in reg["schooltypes"].items()},
        "trend": [t.to_dict() for t in reg["trend_regio"]],
        "trend_per_schooltype": {t: [p.to_dict() for p in pts] for t, pts in reg["trend_schooltypes"].items()},
        "distributies": {n: _shown(d) for n, d in reg["distributies"].items()},
        "kosten": _shown(reg["kosten"]),
        "apart": {k: v.to_dict() for k, v in reg["apart"].items()},
    }


@dataclass(frozen=True)
class CoverageRow:
    """One school in the consortium/coverage view."""

    school: fig.SchoolRow
    providers: fig.Providers
    consortia: tuple[str, ...]  # consortia of the published providers (from the uploaded table)
    #: Providers with a published count that the viewer may not see by name (a consortium user's view
    #: names its own only; the others are "andere aanbieders", counted, never named).
    other_providers: int = 0
    #: The school's ``clienten_consortium`` cells the viewer may see (published or "afgeschermd").
    consortium_counts: fig.Distribution | None = None
    #: Consortia with a published count there that the viewer may not see by name (consortium users).
    other_consortia: int = 0

    def published_consortia(self) -> list[fig.ShareRow]:
        return [r for r in (self.consortium_counts.rows if self.consortium_counts else ()) if r.count.published]

    def to_dict(self, data: RegionData) -> dict[str, Any]:
        p = self.providers.to_dict()
        for r in p["aanbieders"]:
            r["aanbieder_naam"] = data.provider_label(r["aanbieder_agb"])
            r["consortium"] = data.provider_consortium.get(r["aanbieder_agb"])
        return {
            "vestigingscode": self.school.vestigingscode,
            "naam": self.school.naam,
            "schooltype": self.school.schooltype,
            "gemeentenaam": self.school.gemeentenaam,
            "swv_code": self.school.swv_code,
            **p,
            "consortia": list(self.consortia),
            "consortia_clienten": [{"consortium": r.category, "clienten": r.count.value,
                                    "aandeel_procent": fig._r(None if r.share is None else 100 * r.share, 1)}
                                   for r in self.published_consortia()],
            "andere_aanbieders": self.other_providers,
            "andere_consortia": self.other_consortia,
        }


def coverage_view(data: RegionData, access, schooljaar: str | None = None, gemeente: str | None = None,
                  schooltype: str | None = None, swv: str | None = None) -> dict[str, Any]:
    """Providers per school with concentration, from published provider counts only, and the consortia
    per school from their own published counts (``clienten_consortium``), as ``access`` may see them."""
    base = overview(data, access, schooljaar, gemeente, schooltype, swv, "naam", coverage=True)
    schooljaar = base["schooljaar"]
    rows = []
    for school in base["scholen"]:
        every = fig.providers(data.cells, fig.VESTIGING, school.vestigingscode, schooljaar)
        prov = access.visible_providers(every)
        all_cons = fig.consortia(data.cells, fig.VESTIGING, school.vestigingscode, schooljaar)
        cons = access.visible_consortia(all_cons)
        shown = {r.category for r in cons.rows}
        others = sum(1 for r in all_cons.rows if r.count.published and r.category not in shown)
        names = tuple(r.category for r in cons.rows if r.count.published and r.category != GEEN_CONSORTIUM)
        rows.append(CoverageRow(school, prov, names, len(every.rows) - len(prov.rows), cons, others))
    return {"schooljaar": schooljaar, "release_id": base["release_id"], "filters": base["filters"], "scholen": rows,
            "consortiumtabel": bool(data.provider_consortium), "alleen_eigen_consortium": access.role == "consortium",
            "gepubliceerd": any(r.providers.rows or r.published_consortia() for r in rows)}
