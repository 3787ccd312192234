"""The ZIP of factsheet PDFs: requested on a page, built by a background job, downloaded by its requester."""

from __future__ import annotations

import io
import zipfile
from datetime import datetime, timedelta, timezone

import pytest

from hub.extensions import db
from hub.jobs import FACTSHEET_ARCHIVE
from hub.jobs import wait as wait_for_jobs
from hub.models.audit import AuditEvent
from hub.models.exports import FactsheetArchive
from hub.services.factsheet_archives import build_archive
from hub.web.factsheet import render_archive
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
    monkeypatch.setattr("hub.web.factsheet.html_to_pdf", lambda html, base_url: b"%PDF-1.7 test")
    owner = client_as("gemeente")
    resp = _post(owner, gemeente="0353")
    assert resp.status_code == 302
    status_url = resp.headers["Location"]
    assert wait_for_jobs(web_app, FACTSHEET_ARCHIVE, 60)
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

    monkeypatch.setattr("hub.web.factsheet.html_to_pdf", broken)
    client = client_as("regio_admin")
    status_url = _post(client, gemeente="0353").headers["Location"]
    assert wait_for_jobs(web_app, FACTSHEET_ARCHIVE, 60)
    page = client.get(status_url).get_data(as_text=True)
    assert "mislukt" in page and "98765" not in page and 'http-equiv="refresh"' not in page
    assert client.get(f"{status_url}/download").status_code == 302
    with web_app.app_context():
        archive_id = db.session.scalars(db.select(FactsheetArchive.id)).one()
        # A redelivered task finds the archive finished and leaves it as it is.
        assert build_archive(archive_id, render_archive) == "failed"
        assert build_archive(archive_id + 99, render_archive) == "missing"


# --- limits, clean-up and 'Mijn archieven' ------------------------------------------------------


def _user_id(app, role: str) -> int:
    from hub.models.users import User

    with app.app_context():
        return db.session.scalars(db.select(User.id).where(User.role == role)).one()


def _add_archive(app, role: str, status: str, age: timedelta, finished_age: timedelta | None = None, **extra) -> int:
    now = datetime.now(timezone.utc)
    with app.app_context():
        archive = FactsheetArchive(requested_by=_user_id(app, role), scope_kind="regio", schooljaar="2024-2025",
                                   base_url="http://localhost/", status=status, created_at=now - age,
                                   finished_at=None if finished_age is None else now - finished_age, **extra)
        db.session.add(archive)
        db.session.commit()
        return archive.id


def _count(app) -> int:
    with app.app_context():
        return db.session.scalar(db.select(db.func.count()).select_from(FactsheetArchive))


def test_one_archive_at_a_time_per_user(client_as, web_app, seeded):
    _add_archive(web_app, "gemeente", "running", timedelta(minutes=3))
    before = _count(web_app)
    resp = _post(client_as("gemeente"))
    assert resp.status_code == 429
    assert resp.headers["Retry-After"] == "60"
    page = resp.get_data(as_text=True)
    assert "U heeft al een archief dat wordt gemaakt" in page and "Mijn archieven" in page
    assert _count(web_app) == before  # nothing stored, nothing queued
    # Another user is not held up by it.
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr("hub.web.factsheet.html_to_pdf", lambda html, base_url: b"%PDF-1.7 test")
        assert _post(client_as("regio_admin"), gemeente="0353").status_code == 302
        assert wait_for_jobs(web_app, FACTSHEET_ARCHIVE, 60)


def test_a_few_archives_a_day_per_user(client_as, web_app, seeded):
    web_app.config["FACTSHEET_ARCHIVE_MAX_PER_DAY"] = 3
    _add_archive(web_app, "swv", "done", timedelta(hours=30), timedelta(hours=30))  # outside the 24 hours
    _add_archive(web_app, "swv", "done", timedelta(hours=23), timedelta(hours=23))
    _add_archive(web_app, "swv", "failed", timedelta(hours=5), timedelta(hours=5))
    _add_archive(web_app, "swv", "done", timedelta(hours=2), timedelta(hours=2))
    before = _count(web_app)
    resp = _post(client_as("swv"))
    assert resp.status_code == 429
    # The request of 23 hours ago leaves the window first: in about an hour.
    assert 3590 <= int(resp.headers["Retry-After"]) <= 3610
    page = resp.get_data(as_text=True)
    assert "al 3 archieven aangevraagd" in page and "over 60 minuten" in page
    assert _count(web_app) == before


def test_a_stuck_archive_holds_the_limit_until_the_clean_up_fails_it(client_as, web_app, seeded, monkeypatch):
    from hub.services.factsheet_archives import purge_archives

    monkeypatch.setattr("hub.web.factsheet.html_to_pdf", lambda html, base_url: b"%PDF-1.7 test")
    stuck = _add_archive(web_app, "gemeente", "running", timedelta(hours=4))  # its process stopped
    with web_app.app_context():
        assert purge_archives().stale == [stuck]
        archive = db.session.get(FactsheetArchive, stuck)
        assert archive.status == "failed" and "niet op tijd" in archive.error and archive.finished_at
    client = client_as("gemeente")
    assert "niet op tijd" in client.get(f"/factsheets/archief/{stuck}").get_data(as_text=True)
    assert _post(client, gemeente="0353").status_code == 302
    assert wait_for_jobs(web_app, FACTSHEET_ARCHIVE, 60)


def test_clean_up_deletes_old_zips_and_marks_their_rows(client_as, web_app, seeded):
    from hub.services.factsheet_archives import purge_archives

    old = _add_archive(web_app, "gemeente", "done", timedelta(days=9), timedelta(days=8), content=b"PK old", school_count=2)
    fresh = _add_archive(web_app, "gemeente", "done", timedelta(days=2), timedelta(days=2), content=b"PK new",
                         school_count=2)
    failed = _add_archive(web_app, "gemeente", "failed", timedelta(days=9), timedelta(days=9), error="kapot")
    with web_app.app_context():
        result = purge_archives()
        assert (result.expired, result.stale) == ([old], [])
        rows = {a.id: (a.status, a.content) for a in db.session.scalars(db.select(FactsheetArchive))}
        assert rows[old] == ("expired", None)
        assert rows[fresh] == ("done", b"PK new") and rows[failed] == ("failed", None)
        assert purge_archives().expired == []  # idempotent
        assert build_archive(old, render_archive) == "expired"  # a late task does not rebuild it
    client = client_as("gemeente")
    page = client.get(f"/factsheets/archief/{old}").get_data(as_text=True)
    assert "verwijderd omdat het ouder is dan 7 dagen" in page
    resp = client.get(f"/factsheets/archief/{old}/download")
    assert resp.status_code == 302 and resp.headers["Location"].endswith(f"/factsheets/archief/{old}")


def test_my_archives_lists_the_users_own_requests(client_as, web_app, seeded):
    mine_done = _add_archive(web_app, "gemeente", "done", timedelta(hours=2), timedelta(hours=2), content=b"PK",
                             school_count=11)
    _add_archive(web_app, "gemeente", "expired", timedelta(days=10), timedelta(days=9), school_count=11)
    _add_archive(web_app, "gemeente", "queued", timedelta(minutes=1))
    others = _add_archive(web_app, "regio_admin", "done", timedelta(hours=1), timedelta(hours=1), content=b"PK",
                          school_count=3)
    client = client_as("gemeente")
    resp = client.get("/factsheets/archieven")
    assert resp.status_code == 200
    page = resp.get_data(as_text=True)
    assert "<h1>Mijn archieven</h1>" in page and "<caption>Aangevraagde archieven</caption>" in page
    assert page.count('<th scope="col"') == 6 and page.count('<th scope="row">') == 3
    assert "In de wachtrij" in page and "Klaar" in page and "Verwijderd (te oud)" in page
    assert f'href="/factsheets/archief/{mine_done}/download"' in page
    assert f"/factsheets/archief/{others}" not in page
    assert 'http-equiv="refresh"' in page  # one is still waiting
    assert "1 tegelijk" in page and "5 per 24 uur" in page and "7 dagen" in page
    # Linked from where archives are requested, and from each archive's status page.
    for path in ("/overzicht", "/swv/PO2701", f"/factsheets/archief/{mine_done}"):
        assert 'href="/factsheets/archieven"' in client.get(path).get_data(as_text=True), path
    empty = client_as("swv").get("/factsheets/archieven").get_data(as_text=True)
    assert "U hebt nog geen archieven aangevraagd." in empty and 'http-equiv="refresh"' not in empty
