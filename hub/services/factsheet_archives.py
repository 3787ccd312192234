"""ZIPs of the factsheet PDFs of a region or SWV, requested on a page and built by a background job.

One PDF takes seconds, so a region takes minutes: the request only stores a ``FactsheetArchive`` and
enqueues ``hub.build_factsheet_archive`` (on its own queue); the job renders with the requester's
scope as it is then. Each user may have ``FACTSHEET_ARCHIVE_MAX_RUNNING`` archives waiting or being
made and request ``FACTSHEET_ARCHIVE_MAX_PER_DAY`` per 24 hours; :func:`purge_archives` deletes
finished ZIPs after ``FACTSHEET_ARCHIVE_RETENTION_DAYS`` and fails stuck ones.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable
from datetime import datetime, timedelta, timezone

from flask import current_app
from sqlalchemy import func, select

from hub import jobs
from hub.extensions import db
from hub.models.exports import FactsheetArchive
from hub.models.users import ROLE_GEMEENTE, ROLE_REGIO_ADMIN, ROLE_SWV, User
from hub.services._util import aware, transaction, utcnow
from shared.errors import InputError, JeugdhubError, NotFoundError, TooManyRequests

#: (access, data, schooljaar, gemeente, swv, base_url) → (ZIP bytes, school count)
Renderer = Callable[..., tuple[bytes, int]]
#: Roles that may ask for an archive: exactly those of the region overview it is built from.
ARCHIVE_ROLES = (ROLE_REGIO_ADMIN, ROLE_GEMEENTE, ROLE_SWV)
ACTIVE = ("queued", "running")
#: What a refused request tells the browser to wait while an archive of the user's is being made.
RETRY_WHILE_RUNNING_SECONDS = 60
DAY = timedelta(hours=24)
STALE_MESSAGE = "Het archief is niet op tijd klaargekomen. Vraag het opnieuw aan."
#: What the form's filters may hold (hub.reference.layouts normalises SWV numbers to PO2701/VO2701).
_SWV_CODE = re.compile(r"^(PO|VO)\d{4}$")
_GEMEENTECODE = re.compile(r"^\d{4}$")


def _form_code(value: str | None, pattern: re.Pattern, what: str) -> str | None:
    """A filter from the request form: empty → None; otherwise it must be a code (no CR/LF, no text)."""
    if not value or not value.strip():
        return None
    code = value.strip().upper()
    if not pattern.match(code):
        raise InputError(f"Onbekende {what} in de aanvraag; kies er een uit de lijst", code="invalid_input")
    return code


def request_archive(access, schooljaar: str, swv: str | None, gemeente: str | None, base_url: str) -> FactsheetArchive:
    """Store the request and hand it to the worker; an SWV user always gets its own SWV.

    Refused with :class:`TooManyRequests` (HTTP 429) when the user already has the allowed number of
    archives waiting or being made, or has asked for the allowed number in the last 24 hours.
    """
    swv = _form_code(swv, _SWV_CODE, "samenwerkingsverband")
    gemeente = _form_code(gemeente, _GEMEENTECODE, "gemeentecode")
    if access.role == ROLE_SWV:
        swv = access.scope
    with transaction():
        # One request of a user at a time (PostgreSQL): two clicks cannot both pass the limits.
        db.session.execute(select(User.id).where(User.id == access.user_id).with_for_update())
        now = utcnow()
        _check_limits(access.user_id, now)
        archive = FactsheetArchive(requested_by=access.user_id, scope_kind="swv" if swv else "regio",
                                   scope_code=swv.upper() if swv else None, gemeente=gemeente,
                                   schooljaar=schooljaar, base_url=base_url[:200], status="queued", created_at=now)
        db.session.add(archive)
    jobs.enqueue(jobs.FACTSHEET_ARCHIVE, archive.id)
    return archive


def _check_limits(user_id: int, now: datetime) -> None:
    allowed = limits()
    stale_before = now - timedelta(minutes=int(current_app.config["FACTSHEET_ARCHIVE_STALE_MINUTES"]))
    mine = select(func.count()).select_from(FactsheetArchive).where(FactsheetArchive.requested_by == user_id)
    running = db.session.scalar(mine.where(FactsheetArchive.status.in_(ACTIVE),
                                           FactsheetArchive.created_at >= stale_before))
    if running >= allowed["max_running"]:
        what = "een archief dat wordt" if running == 1 else f"{running} archieven die worden"
        raise TooManyRequests(
            f"U heeft al {what} gemaakt. Wacht tot {'het' if running == 1 else 'er één'} klaar is voordat u een "
            "nieuw archief aanvraagt; "
            "onder 'Mijn archieven' ziet u hoe ver het is.",
            code="archive_running", retry_after=RETRY_WHILE_RUNNING_SECONDS)
    recent = [aware(t) for t in db.session.scalars(
        select(FactsheetArchive.created_at).where(FactsheetArchive.requested_by == user_id,
                                                  FactsheetArchive.created_at > now - DAY)
        .order_by(FactsheetArchive.created_at))]
    if len(recent) >= allowed["max_per_day"]:
        # The request that leaves the 24-hour window first frees a place.
        wait = int((recent[len(recent) - allowed["max_per_day"]] + DAY - now).total_seconds()) + 1
        raise TooManyRequests(
            f"U heeft in de afgelopen 24 uur al {len(recent)} archieven aangevraagd; meer kan niet. "
            f"Probeer het over {_dutch_duration(wait)} opnieuw, of download een archief dat al klaar is "
            "onder 'Mijn archieven'.",
            code="archive_daily_limit", retry_after=wait)


def _dutch_duration(seconds: int) -> str:
    minutes = -(-seconds // 60)
    if minutes < 90:
        return "1 minuut" if minutes <= 1 else f"{minutes} minuten"
    return f"ongeveer {round(minutes / 60)} uur"


def limits() -> dict[str, int]:
    """The limits as configured, for the page that explains them."""
    cfg = current_app.config
    return {"max_running": int(cfg["FACTSHEET_ARCHIVE_MAX_RUNNING"]),
            "max_per_day": int(cfg["FACTSHEET_ARCHIVE_MAX_PER_DAY"]),
            "retention_days": int(cfg["FACTSHEET_ARCHIVE_RETENTION_DAYS"])}


def archives_of(access, limit: int = 50) -> list[FactsheetArchive]:
    """The archives ``access`` asked for itself, newest first ('Mijn archieven')."""
    return list(db.session.scalars(
        select(FactsheetArchive).where(FactsheetArchive.requested_by == access.user_id)
        .order_by(FactsheetArchive.created_at.desc(), FactsheetArchive.id.desc()).limit(limit)))


@dataclass(frozen=True)
class PurgeResult:
    expired: list[int]  # finished archives whose ZIP was deleted
    stale: list[int]  # archives that waited or ran too long, now failed

    def to_dict(self) -> dict:
        return {"expired": self.expired, "stale": self.stale}


def purge_archives(now: datetime | None = None) -> PurgeResult:
    """Delete the ZIPs of archives finished more than ``FACTSHEET_ARCHIVE_RETENTION_DAYS`` ago (the row
    stays, marked ``expired``) and fail archives still waiting or running after
    ``FACTSHEET_ARCHIVE_STALE_MINUTES``. Idempotent; the beat task and the embedded sweeper call it."""
    now = now or utcnow()
    cfg = current_app.config
    keep_after = now - timedelta(days=int(cfg["FACTSHEET_ARCHIVE_RETENTION_DAYS"]))
    stale_before = now - timedelta(minutes=int(cfg["FACTSHEET_ARCHIVE_STALE_MINUTES"]))
    with transaction():
        expired = list(db.session.scalars(select(FactsheetArchive.id).where(
            FactsheetArchive.status == "done", FactsheetArchive.finished_at < keep_after)))
        if expired:
            db.session.execute(db.update(FactsheetArchive).where(FactsheetArchive.id.in_(expired))
                               .values(status="expired", content=None))
        stale = list(db.session.scalars(select(FactsheetArchive.id).where(
            FactsheetArchive.status.in_(ACTIVE), FactsheetArchive.created_at < stale_before)))
        if stale:
            db.session.execute(db.update(FactsheetArchive).where(FactsheetArchive.id.in_(stale))
                               .values(status="failed", error=STALE_MESSAGE, finished_at=now))
    if expired or stale:
        current_app.logger.info("factsheet archives: %d expired, %d stale", len(expired), len(stale))
    return PurgeResult(sorted(expired), sorted(stale))


def visible_archive(access, archive_id: int) -> FactsheetArchive:
    """The archive when ``access`` asked for it or is a regio_admin; otherwise not found (no hint it exists)."""
    archive = db.session.get(FactsheetArchive, archive_id)
    if archive is None or (archive.requested_by != access.user_id and access.role != ROLE_REGIO_ADMIN):
        raise NotFoundError("Dit archief bestaat niet of is niet van u", code="archive_not_found")
    return archive


def archive_filename(archive: FactsheetArchive) -> str:
    scope = archive.scope_code or "regio"
    return f"factsheets-{scope}{'-' + archive.gemeente if archive.gemeente else ''}-{archive.schooljaar}.zip"


def build_archive(archive_id: int, render: Renderer) -> str:
    """Build the ZIP of ``archive_id`` with ``render`` (hub/web/factsheet.py's ``render_archive``);
    idempotent: a done or failed archive is left as it is."""
    archive = db.session.get(FactsheetArchive, archive_id)
    if archive is None or archive.status in ("done", "failed", "expired"):
        return archive.status if archive else "missing"
    archive.status = "running"
    db.session.commit()
    try:
        content, count = _render(archive, render)
    except Exception as exc:  # noqa: BLE001 — the status page must say it failed, whatever the cause
        db.session.rollback()
        archive = db.session.get(FactsheetArchive, archive_id)
        archive.status = "failed"
        # Only our own (Dutch, data-free) messages reach the page; anything else is named by type in the log.
        archive.error = exc.message if isinstance(exc, JeugdhubError) else "Er ging iets mis bij het maken van de PDF's."
        archive.finished_at = datetime.now(timezone.utc)
        db.session.commit()
        current_app.logger.warning("factsheet archive %s failed (%s)", archive_id, type(exc).__name__)
        return "failed"
    archive.content = content
    archive.school_count = count
    archive.status = "done"
    archive.finished_at = datetime.now(timezone.utc)
    db.session.commit()
    return "done"


def _render(archive: FactsheetArchive, render: Renderer) -> tuple[bytes, int]:
    """The requester's CURRENT role and scope decide what goes in, so a revoked user gets nothing."""
    from hub.services import indicators as svc
    from hub.access import Access

    user = db.session.get(User, archive.requested_by)
    if user is None or user.role not in ARCHIVE_ROLES:
        raise NotFoundError("De aanvrager heeft geen toegang meer tot deze factsheets", code="archive_forbidden")
    access = Access.of(user)
    if archive.scope_kind == "swv" and not access.may_see_swv(archive.scope_code or ""):
        raise NotFoundError("De aanvrager heeft geen toegang meer tot dit samenwerkingsverband", code="archive_forbidden")
    data = svc.load()
    if not data.releases:
        raise NotFoundError("Er is nog geen publicatie", code="no_release")
    return render(access, data, archive.schooljaar, archive.gemeente, archive.scope_code, archive.base_url)

