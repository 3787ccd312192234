"""ZIPs of the factsheet PDFs of a region or SWV, requested on a page and built by a background job.

One PDF takes seconds, so a region takes minutes: the request only stores a ``FactsheetArchive`` and
enqueues ``hub.build_factsheet_archive``; the job renders with the requester's scope as it is then.
"""

from __future__ import annotations

import re
from datetime import datetime, timezone

from flask import current_app, g

from hub.extensions import db
from hub.models.exports import FactsheetArchive
from hub.models.users import ROLE_GEMEENTE, ROLE_REGIO_ADMIN, ROLE_SWV, User
from shared.errors import InputError, JeugdhubError, NotFoundError

#: Roles that may ask for an archive: exactly those of the region overview it is built from.
ARCHIVE_ROLES = (ROLE_REGIO_ADMIN, ROLE_GEMEENTE, ROLE_SWV)
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
    """Store the request and hand it to the worker; an SWV user always gets its own SWV."""
    from hub.tasks import enqueue_factsheet_archive

    swv = _form_code(swv, _SWV_CODE, "samenwerkingsverband")
    gemeente = _form_code(gemeente, _GEMEENTECODE, "gemeentecode")
    if access.role == ROLE_SWV:
        swv = access.scope
    archive = FactsheetArchive(requested_by=access.user_id, scope_kind="swv" if swv else "regio",
                               scope_code=swv.upper() if swv else None, gemeente=gemeente,
                               schooljaar=schooljaar, base_url=base_url[:200], status="queued")
    db.session.add(archive)
    db.session.commit()
    enqueue_factsheet_archive(archive.id)
    return archive


def visible_archive(access, archive_id: int) -> FactsheetArchive:
    """The archive when ``access`` asked for it or is a regio_admin; otherwise not found (no hint it exists)."""
    archive = db.session.get(FactsheetArchive, archive_id)
    if archive is None or (archive.requested_by != access.user_id and access.role != ROLE_REGIO_ADMIN):
        raise NotFoundError("Dit archief bestaat niet of is niet van u", code="archive_not_found")
    return archive


def archive_filename(archive: FactsheetArchive) -> str:
    scope = archive.scope_code or "regio"
    return f"factsheets-{scope}{'-' + archive.gemeente if archive.gemeente else ''}-{archive.schooljaar}.zip"


def build_archive(archive_id: int) -> str:
    """Build the ZIP of ``archive_id``; idempotent: a done or failed archive is left as it is."""
    archive = db.session.get(FactsheetArchive, archive_id)
    if archive is None or archive.status in ("done", "failed"):
        return archive.status if archive else "missing"
    archive.status = "running"
    db.session.commit()
    try:
        content, count = _render(archive)
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


def _render(archive: FactsheetArchive) -> tuple[bytes, int]:
    # The factsheet is the page's own HTML (templates, url_for), which needs a request context; the
    # requester's CURRENT role and scope decide what goes in, so a revoked user gets nothing.
    from hub.services import factsheets
    from hub.services import indicators as svc
    from hub.web.auth import Access
    from hub.web.views import _factsheet_html, _slug

    user = db.session.get(User, archive.requested_by)
    if user is None or user.role not in ARCHIVE_ROLES:
        raise NotFoundError("De aanvrager heeft geen toegang meer tot deze factsheets", code="archive_forbidden")
    access = Access.of(user)
    if archive.scope_kind == "swv" and not access.may_see_swv(archive.scope_code or ""):
        raise NotFoundError("De aanvrager heeft geen toegang meer tot dit samenwerkingsverband", code="archive_forbidden")
    data = svc.load()
    if not data.releases:
        raise NotFoundError("Er is nog geen release gepubliceerd", code="no_release")
    with current_app.test_request_context("/", base_url=archive.base_url):
        g.access = access
        view = svc.overview(data, access, archive.schooljaar, archive.gemeente, None, archive.scope_code)
        items = [(r.vestigingscode, f"{r.vestigingscode}-{_slug(r.naam)}") for r in view["scholen"]]
        body = factsheets.zip_of_pdfs(items, lambda code: _factsheet_html(data, code, archive.schooljaar, for_pdf=True),
                                      archive.base_url)
    return body, len(items)
