"""Route × role → allowed/denied, for EVERY route of the app, and what each role's answers contain.

The table below is the authorisation policy. The test walks ``app.url_map``: a route missing from the
table fails, so a new route cannot ship without a decision about who may use it. The data-scope test
then reads every answer a role gets (HTML, JSON, CSV, XLSX, ZIP, the HTML each PDF is made of) and
fails on any vestigingscode outside that role's scope.
"""

from __future__ import annotations

import io
import zipfile

import pytest

from hub.jobs import FACTSHEET_ARCHIVE, wait as wait_for_jobs
from tests.hub.web.helpers import csrf_token, login
from tests.hub.web.seed import AGBS, CONSORTIA, SCHOOLS, YEARS

ROLES = ("regio_admin", "gemeente", "swv", "consortium", "school")
ANON = "anoniem"
EVERYONE = ROLES
REGION = ("regio_admin", "gemeente", "swv")
FACTSHEET = ("regio_admin", "gemeente", "swv", "school")
COVERAGE = ("regio_admin", "gemeente", "swv", "consortium")
ADMIN = ("regio_admin",)
PUBLIC = "public"  # anyone, logged in or not
NO_USER = ()  # node signatures / the operator token only; no user session gets in

#: endpoint → (method, sample URL within every allowed role's scope, allowed roles or PUBLIC)
TABLE: dict[str, tuple[str, str, object]] = {
    # pages
    "web.login": ("GET", "/login", PUBLIC),
    "web.logout": ("POST", "/logout", PUBLIC),
    "web.help_page": ("GET", "/help", PUBLIC),
    "web.accessibility": ("GET", "/toegankelijkheid", PUBLIC),
    "web.static": ("GET", "/static/web/hub.css", PUBLIC),
    "static": ("GET", "/static/nonexistent.css", PUBLIC),
    "web.home": ("GET", "/", EVERYONE),
    "web.overview": ("GET", "/overzicht", REGION),
    "web.overview_export": ("GET", "/overzicht.csv", REGION),
    "web.compare": ("GET", "/vergelijk?school=10AA00&school=10AB00", REGION),
    "web.compare_export": ("GET", "/vergelijk.csv?school=10AA00", REGION),
    "web.factsheet": ("GET", "/scholen/10AA00", FACTSHEET),
    "web.factsheet_pdf": ("GET", "/scholen/10AA00/factsheet.pdf", FACTSHEET),
    "web.factsheet_export": ("GET", "/scholen/10AA00/factsheet.xlsx", FACTSHEET),
    "web.factsheet_archive_request": ("POST", "/factsheets/archief", REGION),
    "web.factsheet_archives": ("GET", "/factsheets/archieven", REGION),  # the user's own archives only
    "web.factsheet_archive": ("GET", "/factsheets/archief/1", REGION),  # someone else's archive: 404, not 403
    "web.factsheet_archive_download": ("GET", "/factsheets/archief/1/download", REGION),
    "web.swv_list": ("GET", "/swv", REGION),
    "web.swv": ("GET", "/swv/PO2701", REGION),
    "web.swv_export": ("GET", "/swv/PO2701/export.csv", REGION),
    "web.publication_figures": ("GET", "/publicaties/1/cijfers.csv", REGION),  # scoped like the API's release cells
    "web.coverage": ("GET", "/aanbieders", COVERAGE),
    "web.coverage_export": ("GET", "/aanbieders.xlsx", COVERAGE),
    "web.consortia": ("GET", "/beheer/consortia", ADMIN),
    "web.login_oidc": ("GET", "/login/oidc", PUBLIC),  # 404 here: no identity provider configured
    "web.login_oidc_callback": ("GET", "/login/oidc/callback", PUBLIC),
    "web.rounds": ("GET", "/beheer/rondes", ADMIN),
    "web.upload": ("GET", "/beheer/upload", ADMIN),
    "web.audit_log": ("GET", "/beheer/audit", ADMIN),
    "web.audit_log_export": ("GET", "/beheer/audit.csv", ADMIN),
    "web.users_admin": ("GET", "/beheer/gebruikers", ADMIN),
    "web.mfa_reset": ("POST", "/beheer/gebruikers/999/tweede-factor-wissen", ADMIN),  # no such user: 404
    # The second factor: the code after the password (without a pending login: back to /login), and
    # enrolment (for a pending login or the logged-in user itself).
    "web.login_mfa": ("GET", "/login/tweede-factor", PUBLIC),
    "web.mfa_setup": ("GET", "/tweede-factor/instellen", PUBLIC),
    # indicator API
    "indicators_api.schooljaren": ("GET", "/api/v1/schooljaren", EVERYONE),
    "indicators_api.scholen": ("GET", "/api/v1/scholen", REGION),
    "indicators_api.school": ("GET", "/api/v1/scholen/10AA00", FACTSHEET),
    "indicators_api.funnel": ("GET", "/api/v1/schooltypes/BO/funnel", FACTSHEET),
    "indicators_api.regio": ("GET", "/api/v1/regio", REGION),
    "indicators_api.aanbieders": ("GET", "/api/v1/aanbieders", COVERAGE),
    # The v1 API: agents (signed), the operator token, and public health/spec
    "api_v1.enrol": ("POST", "/api/v1/nodes/enrol", PUBLIC),  # the one-time token in the body is the credential
    "api_v1.list_rounds": ("GET", "/api/v1/rounds", NO_USER),
    "api_v1.round_status": ("GET", "/api/v1/rounds/1", NO_USER),
    "api_v1.submit": ("POST", "/api/v1/rounds/1/submissions", NO_USER),
    "api_v1.exchanges": ("GET", "/api/v1/rounds/1/exchanges", NO_USER),
    "api_v1.exchange_blinded": ("POST", "/api/v1/rounds/1/exchanges/PO2701-0356-1-2/blinded", NO_USER),
    "api_v1.exchange_peer": ("GET", "/api/v1/rounds/1/exchanges/PO2701-0356-1-2/peer", NO_USER),
    "api_v1.exchange_reblinded": ("POST", "/api/v1/rounds/1/exchanges/PO2701-0356-1-2/reblinded", NO_USER),
    "api_v1.upload": ("POST", "/api/v1/uploads", NO_USER),
    "api_v1.health": ("GET", "/api/v1/health", PUBLIC),
    "api_v1.openapi": ("GET", "/api/v1/openapi.yaml", PUBLIC),
    "api_v1.list_releases": ("GET", "/api/v1/releases", REGION),
    "api_v1.get_release": ("GET", "/api/v1/releases/1", REGION),
    "api_v1.release_cells": ("GET", "/api/v1/releases/1/cells", REGION),
}


#: Out-of-scope requests a role may make to a route it can otherwise use: always denied.
SCOPE_DENIED = [
    ("school", "/scholen/10AB00"),
    ("school", "/api/v1/scholen/10AB00"),
    ("school", "/scholen/10AB00/factsheet.pdf"),
    ("school", "/scholen/10AB00/factsheet.csv"),
    ("school", "/api/v1/schooltypes/VO/funnel"),
    ("swv", "/scholen/40DA00"),
    ("swv", "/api/v1/scholen/40DA00"),
    ("swv", "/swv/VO2702"),
    ("swv", "/swv/VO2702/export.csv"),
]


ALL_SCHOOLS = frozenset(s[0] for s in SCHOOLS)
#: The seeded consortium user's providers (scope 1: the first consortium of the seed).
OWN_AGBS = frozenset(next(iter(CONSORTIA.values())))
#: The seeded consortium user's consortium name (the category of its ``clienten_consortium`` cells).
OWN_CONSORTIUM = next(iter(CONSORTIA))
#: The schools where one of those providers, or the consortium itself (``clienten_consortium``), has a
#: published client count in some school year: found by the seed's own figures (``_consortium_schools``),
#: not by the code under test.
CONSORTIUM_SCHOOLS: frozenset = frozenset()
#: The schools each role may see anything of, from the seed (not from the code under test): a gemeente
#: sees the region's published figures, a consortium the schools its own providers serve, an SWV its
#: members, a school itself.
SCOPE_SCHOOLS = {
    "regio_admin": ALL_SCHOOLS,
    "gemeente": ALL_SCHOOLS,
    "consortium": CONSORTIUM_SCHOOLS,  # filled in by auth_app from the seed
    "swv": frozenset(s[0] for s in SCHOOLS if s[4] == "PO2701"),
    "school": frozenset({"10AA00"}),
}

#: Beyond the table's sample URLs: requests that name or filter on other schools, every release (the
#: first one of each school year is superseded in the data-scope test), and every export format.
SCOPE_PROBES = [
    *(f"/api/v1/releases/{i}/cells" for i in (1, 2, 3)),
    "/api/v1/releases/1/cells?level=vestiging",
    "/api/v1/releases/1/cells?level=vestiging&unit=40DA00",
    "/api/v1/releases/3/cells?unit=10AB00",
    "/api/v1/schooltypes/BO/funnel",
    "/api/v1/schooltypes/VO/funnel",
    "/api/v1/schooltypes/SBO/funnel",
    f"/api/v1/schooltypes/BO/funnel?schooljaar={YEARS[0]}",
    "/api/v1/scholen?swv=VO2702",
    "/vergelijk?school=10AA00&school=40DA00",
    "/vergelijk.xlsx?school=40DA00",
    "/api/v1/scholen?zoek=40DA",
    "/api/v1/aanbieders?swv=VO2702",
    "/overzicht?swv=VO2702",
    "/overzicht.csv?swv=VO2702",
    "/overzicht.xlsx",
    "/aanbieders.csv",
    "/aanbieders?swv=VO2702",
    "/swv/PO2701/export.xlsx",
    "/scholen/10AA00/factsheet.csv",
    *(f"/publicaties/{i}/cijfers.{fmt}" for i in (1, 2, 3) for fmt in ("csv", "xlsx")),
    *(f"/scholen/{code}" for code in sorted(ALL_SCHOOLS)),
    *(f"/api/v1/scholen/{code}" for code in sorted(ALL_SCHOOLS)),
]


def _pdf_stand_in(html: str, base_url: str) -> bytes:
    """No WeasyPrint here: the 'PDF' carries the HTML it would be made of, so its text is checked too."""
    return b"%PDF-1.7 " + html.encode("utf-8")


@pytest.fixture(scope="module")
def auth_app():
    """One seeded app for the whole table (≈250 requests); requests here only add audit rows."""
    from tests.hub.web.conftest import seeded_app

    # Rendering PDFs is tested in test_pages/test_no_leaks; here only who gets in and what is in it matter.
    mp = pytest.MonkeyPatch()
    mp.setattr("hub.web.factsheet.html_to_pdf", _pdf_stand_in)
    app, seeded = seeded_app()
    SCOPE_SCHOOLS["consortium"] = _consortium_schools(seeded)
    clients = {}
    for role in ROLES:
        client = app.test_client()
        assert login(client, *seeded.users[role]).status_code == 302
        clients[role] = client
    yield app, seeded, clients
    mp.undo()


def _consortium_schools(seeded) -> frozenset:
    served = frozenset(key[1] for key in seeded.published
                       if key[0] == "vestiging" and ((key[3] == "clienten_aanbieder" and key[4] in OWN_AGBS)
                                                     or (key[3] == "clienten_consortium" and key[4] == OWN_CONSORTIUM)))
    assert served and served != ALL_SCHOOLS  # the seed must leave some schools outside the consortium
    return served


def _rules(app):
    return sorted({rule.endpoint for rule in app.url_map.iter_rules()})


def test_every_route_is_in_the_table(auth_app):
    app = auth_app[0]
    missing = [e for e in _rules(app) if e not in TABLE]
    assert not missing, f"routes without an authorisation decision: {missing}"
    stale = [e for e in TABLE if e not in _rules(app)]
    assert not stale, f"table rows for routes that no longer exist: {stale}"


def _client(auth_app, role):
    app, _, clients = auth_app
    return app.test_client() if role == ANON else clients[role]


def _request(client, method: str, url: str):
    if method == "GET":
        return client.get(url)
    data = {}
    if not url.startswith("/api/"):
        data["csrf_token"] = csrf_token(client, "/login")
    return client.post(url, data=data)


def _denied(resp) -> bool:
    if resp.status_code in (401, 403):
        return True
    return resp.status_code == 302 and "/login" in resp.headers.get("Location", "") and "next=" in resp.headers.get("Location", "")


def _cases():
    for endpoint, (method, url, allowed) in sorted(TABLE.items()):
        for role in (ANON,) + ROLES:
            if allowed == PUBLIC:
                expect = True
            else:
                expect = role in allowed
            yield pytest.param(endpoint, method, url, role, expect, id=f"{endpoint}-{role}")


@pytest.mark.parametrize("endpoint,method,url,role,expect", list(_cases()))
def test_route_role(auth_app, endpoint, method, url, role, expect):
    if endpoint == "web.logout" and role != ANON:
        client = auth_app[0].test_client()
        assert login(client, *auth_app[1].users[role]).status_code == 302
        resp = _request(client, method, url)
        assert not _denied(resp) and resp.status_code < 500
        # Logging out ends every session of the user (server-side): the shared client logs in again.
        assert login(auth_app[2][role], *auth_app[1].users[role]).status_code == 302
        return
    else:
        client = _client(auth_app, role)
    resp = _request(client, method, url)
    # A requested archive is built on a background thread; let it finish before the next request.
    assert wait_for_jobs(auth_app[0], FACTSHEET_ARCHIVE, 60)
    if expect:
        assert not _denied(resp), f"{role} should reach {method} {url}, got {resp.status_code} {resp.headers.get('Location')}"
        assert resp.status_code < 500
    else:
        assert _denied(resp), f"{role} must not reach {method} {url}, got {resp.status_code}"


@pytest.mark.parametrize("role,url", SCOPE_DENIED)
def test_out_of_scope_is_denied(auth_app, role, url):
    resp = _client(auth_app, role).get(url)
    assert resp.status_code == 403


def test_admin_pages_post_need_csrf(auth_app):
    client = _client(auth_app, "regio_admin")
    resp = client.post("/beheer/consortia", data={})
    assert resp.status_code == 400  # CSRF token missing


def _body_text(resp) -> str:
    """Everything a response says: ZIP containers (XLSX, archives) are opened, member names included."""
    body = resp.get_data()
    if body[:2] == b"PK":
        with zipfile.ZipFile(io.BytesIO(body)) as zf:
            return "\n".join([*zf.namelist(), *(zf.read(n).decode("utf-8", "replace") for n in zf.namelist())])
    return body.decode("utf-8", "replace")


def _supersede_first_releases(app) -> None:
    """A second version of the first school year's release: release 1 is then a superseded one."""
    from hub.extensions import db
    from hub.models.releases import Release, ReleaseCell
    from hub.models.rounds import Round

    with app.app_context():
        old = db.session.get(Release, 1)
        if db.session.get(Release, 3) is not None:
            return
        new = Release(round_id=old.round_id, version=2, schooljaar=old.schooljaar, digest="0" * 64, submission_ids=[],
                      audit={}, schooltypes=dict(old.schooltypes))
        db.session.add(new)
        db.session.flush()
        assert new.id == 3
        cols = ("level", "unit", "schooljaar", "measure", "category", "status", "value", "reason", "flags")
        rows = [{**{c: getattr(cell, c) for c in cols}, "release_id": new.id}
                for cell in db.session.scalars(db.select(ReleaseCell).where(ReleaseCell.release_id == old.id))]
        db.session.execute(ReleaseCell.__table__.insert(), rows)
        db.session.get(Round, old.round_id).current_release_id = new.id
        db.session.commit()


@pytest.mark.parametrize("role", ROLES)
def test_no_answer_names_a_school_outside_the_role_scope(auth_app, role):
    app = auth_app[0]
    _supersede_first_releases(app)
    client = _client(auth_app, role)
    forbidden = sorted(ALL_SCHOOLS - SCOPE_SCHOOLS[role])
    urls = [url for _, (method, url, allowed) in sorted(TABLE.items())
            if method == "GET" and (allowed == PUBLIC or role in allowed)] + SCOPE_PROBES
    answered = 0
    for url in urls:
        resp = client.get(url)
        if resp.status_code != 200:
            continue
        answered += 1
        text = _body_text(resp)
        leaked = [code for code in forbidden if code in text]
        assert not leaked, f"{role}: GET {url} names schools outside its scope: {leaked}"
        if role == "consortium":
            others = [agb for agb in sorted(set(AGBS) - OWN_AGBS) if agb in text]
            assert not others, f"consortium: GET {url} names providers outside its consortium: {others}"
            other_names = [n for n in CONSORTIA if n != OWN_CONSORTIUM and n in text]
            assert not other_names, f"consortium: GET {url} names other consortia: {other_names}"
    if role in REGION:
        # The region-wide ZIP of factsheets, built with the requester's scope.
        resp = _request(client, "POST", "/factsheets/archief")
        assert resp.status_code == 302
        assert wait_for_jobs(app, FACTSHEET_ARCHIVE, 60)
        download = client.get(resp.headers["Location"] + "/download")
        assert download.status_code == 200 and download.mimetype == "application/zip"
        text = _body_text(download)
        assert text.count("%PDF-1.7") == len(SCOPE_SCHOOLS[role])
        leaked = [code for code in forbidden if code in text]
        assert not leaked, f"{role}: the factsheet ZIP names schools outside its scope: {leaked}"
    assert answered >= 10, f"{role}: only {answered} answers checked"
