"""Factsheet ZIPs on the pages: the request, "Mijn archieven", an archive's status page and its download.

The ZIP itself is built by a background job (hub/services/factsheet_archives.py, hub/tasks.py).
"""

from __future__ import annotations

from flask import abort, g, redirect, render_template, request, url_for

from hub.access import REGION_ROLES, page_roles
from hub.services import audit
from hub.services import indicators as svc
from hub.web.blueprint import bp, download
from shared.errors import JeugdhubError


@bp.post("/factsheets/archief")
@page_roles(*REGION_ROLES)
def factsheet_archive_request():
    """All factsheets of the region, or of one SWV (an SWV user always gets its own), as a background job."""
    from hub.services import factsheet_archives

    data = svc.load()
    if not data.releases:
        abort(404)
    schooljaar = data.require_schooljaar(request.form.get("schooljaar") or None)
    archive = factsheet_archives.request_archive(g.access, schooljaar, request.form.get("swv") or None,
                                                 request.form.get("gemeente") or None, request.host_url)
    return redirect(url_for("web.factsheet_archive", archive_id=archive.id))


def _archive_names() -> dict:
    """SWV and gemeente names for the archive pages (which store codes)."""
    data = svc.load()
    gemeenten = {r["gemeentecode"]: r["gemeentenaam"] for r in data.school_info.values() if r.get("gemeentecode")}
    return {"swv_names": data.swv_names, "gemeente_names": gemeenten}


@bp.get("/factsheets/archieven")
@page_roles(*REGION_ROLES)
def factsheet_archives():
    """'Mijn archieven': the ZIPs the user asked for, with their status and download links."""
    from hub.services import factsheet_archives as archive_service

    return render_template("factsheet_archives.html", archives=archive_service.archives_of(g.access), **_archive_names(),
                           filename=archive_service.archive_filename, limits=archive_service.limits())


@bp.get("/factsheets/archief/<int:archive_id>")
@page_roles(*REGION_ROLES)
def factsheet_archive(archive_id: int):
    from hub.services import factsheet_archives

    try:
        archive = factsheet_archives.visible_archive(g.access, archive_id)
    except JeugdhubError:
        abort(404)
    return render_template("factsheet_archive.html", archive=archive, **_archive_names(),
                           filename=factsheet_archives.archive_filename(archive))


@bp.get("/factsheets/archief/<int:archive_id>/download")
@page_roles(*REGION_ROLES)
def factsheet_archive_download(archive_id: int):
    from hub.services import factsheet_archives

    try:
        archive = factsheet_archives.visible_archive(g.access, archive_id)
    except JeugdhubError:
        abort(404)
    if archive.status != "done":
        return redirect(url_for("web.factsheet_archive", archive_id=archive_id))
    audit.record(g.access.user_id, "export", f"factsheets {archive.scope_code or 'regio'} {archive.schooljaar}", "zip")
    return download(archive.content, factsheet_archives.archive_filename(archive), "application/zip")
