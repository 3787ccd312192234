"""Route × role → allowed/denied, for EVERY route of the app.

The table below is the authorisation policy. The test walks ``app.url_map``: a route missing from the
table fails, so a new route cannot ship without a decision about who may use it.
"""

from __future__ import annotations

import pytest

from hub.tasks import wait_for_factsheet_archives
from tests.hub.web.helpers import csrf_token, login

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
    "web.static": ("GET", "/static/web/hub.css", PUBLIC),
    "static": ("GET", "/static/nonexistent.css", PUBLIC),
    "web.home": ("GET", "/", EVERYONE),
    "web.overview": ("GET", "/overzicht", REGION),
    "web.overview_export": ("GET", "/overzicht.csv", REGION),
    "web.factsheet": ("GET", "/scholen/10AA00", FACTSHEET),
    "web.factsheet_pdf": ("GET", "/scholen/10AA00/factsheet.pdf", FACTSHEET),
    "web.factsheet_export": ("GET", "/scholen/10AA00/factsheet.xlsx", FACTSHEET),
    "web.factsheet_archive_request": ("POST", "/factsheets/archief", REGION),
    "web.factsheet_archive": ("GET", "/factsheets/archief/1", REGION),  # someone else's archive: 404, not 403
    "web.factsheet_archive_download": ("GET", "/factsheets/archief/1/download", REGION),
    "web.swv_list": ("GET", "/swv", REGION),
    "web.swv": ("GET", "/swv/PO2701", REGION),
    "web.swv_export": ("GET", "/swv/PO2701/export.csv", REGION),
    "web.coverage": ("GET", "/aanbieders", COVERAGE),
    "web.coverage_export": ("GET", "/aanbieders.xlsx", COVERAGE),
    "web.consortia": ("GET", "/beheer/consortia", ADMIN),
    "web.rounds": ("GET", "/beheer/rondes", ADMIN),
    "web.upload": ("GET", "/beheer/upload", ADMIN),
    "web.audit_log": ("GET", "/beheer/audit", ADMIN),
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


@pytest.fixture(scope="module")
def auth_app():
    """One seeded app for the whole table (≈250 requests); requests here only add audit rows."""
    from tests.hub.web.conftest import seeded_app

    # Rendering PDFs is tested in test_pages/test_no_leaks; here only who gets in matters.
    mp = pytest.MonkeyPatch()
    mp.setattr("hub.services.factsheets.html_to_pdf", lambda html, base_url: b"%PDF-1.7 authorisation test")
    app, seeded = seeded_app()
    clients = {}
    for role in ROLES:
        client = app.test_client()
        assert login(client, *seeded.users[role]).status_code == 302
        clients[role] = client
    yield app, seeded, clients
    mp.undo()


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
        client = auth_app[0].test_client()  # logging out would end the shared session
        assert login(client, *auth_app[1].users[role]).status_code == 302
    else:
        client = _client(auth_app, role)
    resp = _request(client, method, url)
    # A requested archive is built on a background thread; let it finish before the next request.
    assert wait_for_factsheet_archives(auth_app[0], 60)
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
