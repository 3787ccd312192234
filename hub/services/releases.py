"""Reading releases for the API and the pages. A hidden cell comes back as ``suppressed`` and nothing
else: no value (none is stored either), no reason, no flag. Why a cell is hidden stays in the hub
(``jeugdhub release show`` prints it for the regio admin's audit)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from hub.disclosure.frames import LEVELS, PUBLIC_COLUMNS, PUBLISHED, SUPPRESSED
from hub.extensions import db
from hub.models.nodes import Node
from hub.models.releases import Release, ReleaseCell
from hub.models.rounds import Round
from hub.models.submissions import Submission
from hub.services import reference
from hub.services._util import aware
from shared.codes import parse_schooljaar
from shared.errors import InputError, NotFoundError


@dataclass(frozen=True)
class ReleaseSummary:
    id: int
    round_id: int
    version: int
    schooljaar: str
    created_at: str
    digest: str
    current: bool
    nodes: list[str]
    cell_count: int
    published_count: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "round_id": self.round_id,
            "version": self.version,
            "schooljaar": self.schooljaar,
            "created_at": self.created_at,
            "digest": self.digest,
            "current": self.current,
            "nodes": self.nodes,
            "cell_count": self.cell_count,
            "published_count": self.published_count,
            "suppressed_count": self.cell_count - self.published_count,
        }


@dataclass(frozen=True)
class PublishedCell:
    level: str
    unit: str
    schooljaar: str
    measure: str
    category: str
    published: bool
    value: int | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "level": self.level,
            "unit": self.unit,
            "schooljaar": self.schooljaar,
            "measure": self.measure,
            "category": self.category,
            "status": PUBLISHED if self.published else SUPPRESSED,
            "value": self.value if self.published else None,
        }


def _check_schooljaar(schooljaar: str | None) -> None:
    if schooljaar is None:
        return
    try:
        parse_schooljaar(schooljaar)
    except ValueError as exc:
        raise InputError(str(exc), code="invalid_schooljaar") from None


def _current_ids() -> set[int]:
    return {i for i in db.session.scalars(select(Round.current_release_id)) if i is not None}


def _summaries(releases: list[Release]) -> list[ReleaseSummary]:
    current = _current_ids()
    all_ids = sorted({i for r in releases for i in r.submission_ids})
    codes: dict[int, str] = {}
    if all_ids:
        codes = dict(
            db.session.execute(
                select(Submission.id, Node.code).join(Node, Node.id == Submission.node_id).where(Submission.id.in_(all_ids))
            ).all()
        )
    return [
        ReleaseSummary(
            id=r.id,
            round_id=r.round_id,
            version=r.version,
            schooljaar=r.schooljaar,
            created_at=aware(r.created_at).isoformat(timespec="seconds"),
            digest=r.digest,
            current=r.id in current,
            nodes=sorted(codes[i] for i in r.submission_ids if i in codes),
            cell_count=r.cell_count,
            published_count=r.published_count,
        )
        for r in releases
    ]


def list_releases(schooljaar: str | None = None) -> list[ReleaseSummary]:
    """Every release (the history), newest first."""
    _check_schooljaar(schooljaar)
    query = select(Release).order_by(Release.id.desc())
    if schooljaar:
        query = query.where(Release.schooljaar == schooljaar)
    return _summaries(list(db.session.scalars(query)))


def current_release(schooljaar: str) -> ReleaseSummary | None:
    """The release users see for a school year: the current one of its latest round that has one."""
    _check_schooljaar(schooljaar)
    release = db.session.scalar(
        select(Release)
        .join(Round, Round.current_release_id == Release.id)
        .where(Round.schooljaar == schooljaar)
        .order_by(Round.id.desc())
        .limit(1)
    )
    return _summaries([release])[0] if release is not None else None


def current_release_ids() -> dict[str, int]:
    """School year → id of its current release, as :func:`current_release` picks it (the current release
    of the year's latest round that has one), in one query: what every page and API call checks."""
    rows = db.session.execute(current_release_rows()).all()
    return {jaar: rid for jaar, rid in rows}  # a later round of the same year wins


def current_release_rows(*columns):
    """The query of :func:`current_release_ids`: (schooljaar, release id, ``*columns``) per round with a
    current release, oldest round first; ``columns`` lets a caller ask for more in the same query."""
    return (select(Round.schooljaar, Round.current_release_id, *columns)
            .join(Release, Release.id == Round.current_release_id)
            .order_by(Round.id))


def current_releases() -> list[ReleaseSummary]:
    """The current release of every school year, newest school year first."""
    years = sorted(set(db.session.scalars(select(Release.schooljaar))), reverse=True)
    return [r for r in (current_release(y) for y in years) if r is not None]


def get_release(release_id: int) -> ReleaseSummary:
    release = db.session.get(Release, release_id)
    if release is None:
        raise NotFoundError(f"Release {release_id} bestaat niet", code="release_not_found")
    return _summaries([release])[0]


def release_cells(
    release_id: int,
    *,
    access,
    level: str | None = None,
    unit: str | None = None,
    measure: str | None = None,
    category: str | None = None,
) -> list[PublishedCell]:
    """The cells of a release that ``access`` may see (``Access.may_see_cell``: a school's cells only
    within the caller's scope), filtered; suppressed cells carry no value. The same for every release,
    current or superseded."""
    get_release(release_id)
    if level is not None and level not in LEVELS:
        raise InputError(f"Onbekend niveau '{level}' (vestiging, schooltype of regio)", code="invalid_input")
    # Only the columns a reader may see are read: status is narrowed to published/suppressed below.
    query = select(*(getattr(ReleaseCell, c) for c in PUBLIC_COLUMNS)).where(ReleaseCell.release_id == release_id)
    if level is not None:
        query = query.where(ReleaseCell.level == level)
    if unit is not None:
        query = query.where(ReleaseCell.unit == unit)
    if measure is not None:
        query = query.where(ReleaseCell.measure == measure)
    if category is not None:
        query = query.where(ReleaseCell.category == category)
    query = query.order_by(ReleaseCell.level, ReleaseCell.unit, ReleaseCell.measure, ReleaseCell.category)
    swvs = reference.swv_codes_by_school(db.session)
    visible = (row for row in db.session.execute(query)
               if access.may_see_cell(row.level, row.unit, row.measure, swvs.get(row.unit, ())))
    return [
        PublishedCell(
            level=level,
            unit=unit,
            schooljaar=schooljaar,
            measure=measure,
            category=category,
            published=published,
            value=value if published else None,
        )
        for level, unit, schooljaar, measure, category, status, value in visible
        for published in (status == PUBLISHED,)
    ]


def audit_cells(release_id: int, level: str | None = None) -> list[dict[str, Any]]:
    """The cells with the gate's internal status and reason: for the regio admin's CLI audit only.

    No web or API response may use this: a reader who could tell a partner cell from a small one
    could narrow both (see hub/disclosure/world.py, ``attacker_bounds``).
    """
    get_release(release_id)
    if level is not None and level not in LEVELS:
        raise InputError(f"Onbekend niveau '{level}' (vestiging, schooltype of regio)", code="invalid_input")
    query = select(ReleaseCell).where(ReleaseCell.release_id == release_id)
    if level is not None:
        query = query.where(ReleaseCell.level == level)
    query = query.order_by(ReleaseCell.level, ReleaseCell.unit, ReleaseCell.measure, ReleaseCell.category)
    return [
        {"level": c.level, "unit": c.unit, "schooljaar": c.schooljaar, "measure": c.measure, "category": c.category,
         "status": c.status, "value": c.value if c.status == PUBLISHED else None, "reason": c.reason}
        for c in db.session.scalars(query)
    ]
