"""The ZIP of factsheet PDFs: requested on a page, built by a background job, downloaded by its requester."""

from __future__ import annotations

import io
import zipfile

from hub.extensions import db
from hub.models.audit import AuditEvent
from hub.models.exports import FactsheetArchive
from hub.services.factsheet_archives import build_archive
from hub.tasks import wait_for_factsheet_archives
from tests.hub.web.helpers import csrf_token, request_archive
from tests.hub.web.test_no_leaks import _pdf_text, assert_clean


def _post(client, **form):
    return client.post("/factsheets/archief", data={"csrf_token": csrf_token(client, "/overzicht"), **form})


def test_swv_archive_is_built_in_the_background_and_leaks_nothing(client_as, web_app, seeded, tmp_path):
    client = client_as("swv")
    # An SWV user asking for the whole region still gets only its own SWV.
    resp = request_archive(client)
    assert resp.status_code == 200 and resp.mimetype == "application/zip"
    assert 'filename="factsheets-PO2701-' in resp.headers["Content-Disposition"]
    with zipfile.ZipFile(io.BytesIO(resp.get_data())) as zf:
        names = zf.namelist()
        assert names and all(n.endswith(".pdf") for n in names)
        for name in names:
            pdf = zf.read(name)
            assert pdf.startswith(b"%PDF")
            assert_clean(_pdf_text(pdf, tmp_path, name[:6]), f"archive/{name}")
    with web_app.app_context():
        archive = db.session.scalars(db.select(FactsheetArchive)).one()
        assert (archive.status, archive.scope_kind, archive.scope_code) == ("done", "swv", "PO2701")
        assert archive.school_count == len(names) and archive.finished_at is not None
        events = db.session.scalars(db.select(AuditEvent).where(AuditEvent.fmt == "zip")).all()
        assert [e.target for e in events] == [f"factsheets PO2701 {archive.schooljaar}"]


def test_status_page_refreshes_while_waiting(client_as, web_app, seeded):
    client = client_as("gemeente")
    with web_app.app_context():
        user_id = db.session.scalars(db.select(AuditEvent.user_id).where(AuditEvent.action == "login")).all()[-1]
        archive = FactsheetArchive(requested_by=user_id, scope_kind="regio", schooljaar="2023-2024",
                                   base_url="http://localhost/", status="running")
        db.session.add(archive)
        db.session.commit()
        archive_id = archive.id
    page = client.get(f"/factsheets/archief/{archive_id}").get_data(as_text=True)
    assert "wordt gemaakt…" in page and 'http-equiv="refresh"' in page
    # Not done yet: the download leads back to the status page instead of an empty file.
    resp = client.get(f"/factsheets/archief/{archive_id}/download")
    assert resp.status_code == 302 and resp.headers["Location"].endswith(f"/factsheets/archief/{archive_id}")


def test_only_the_requester_or_a_regio_admin_gets_the_archive(client_as, web_app, seeded, monkeypatch):
    monkeypatch.setattr("hub.services.factsheets.html_to_pdf", lambda html, base_url: b"%PDF-1.7 test")
    owner = client_as("gemeente")
    resp = _post(owner, gemeente="0353")
    assert resp.status_code == 302
    status_url = resp.headers["Location"]
    assert wait_for_factsheet_archives(web_app, 60)
    assert owner.get(f"{status_url}/download").status_code == 200
    assert client_as("regio_admin").get(f"{status_url}/download").status_code == 200
    for role in ("swv",):
        other = client_as(role)
        assert other.get(status_url).status_code == 404
        assert other.get(f"{status_url}/download").status_code == 404
    for role in ("school", "consortium"):
        assert client_as(role).get(status_url).status_code == 403
        assert _post(client_as(role)).status_code in (400, 403)  # no overview page → no CSRF token, or 403


def test_request_needs_csrf(client_as):
    assert client_as("regio_admin").post("/factsheets/archief", data={}).status_code == 400


def test_building_is_idempotent_and_failure_is_shown(client_as, web_app, seeded, monkeypatch):
    def broken(html, base_url):
        raise RuntimeError("weasyprint crashed with a value 98765")

    monkeypatch.setattr("hub.services.factsheets.html_to_pdf", broken)
    client = client_as("regio_admin")
    status_url = _post(client, gemeente="0353").headers["Location"]
    assert wait_for_factsheet_archives(web_app, 60)
    page = client.get(status_url).get_data(as_text=True)
    assert "mislukt" in page and "98765" not in page and 'http-equiv="refresh"' not in page
    assert client.get(f"{status_url}/download").status_code == 302
    with web_app.app_context():
        archive_id = db.session.scalars(db.select(FactsheetArchive.id)).one()
        # A redelivered task finds the archive finished and leaves it as it is.
        assert build_archive(archive_id) == "failed"
        assert build_archive(archive_id + 99) == "missing"
