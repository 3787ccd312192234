"""Sign-in through a REAL OpenID Connect provider (npm `oidc-provider`, tests/oidc/provider.mjs), started
here on a free loopback port; the login form of the provider is filled in with plain HTTP requests."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests

from tests.conftest import require_binary

ROOT = Path(__file__).resolve().parents[2]
PREFIX = ROOT / "build" / "oidc"
MODULE = PREFIX / "node_modules" / "oidc-provider" / "lib" / "index.js"
CLIENT_ID, CLIENT_SECRET = "jeugdhub", "test-only-client-secret"
CALLBACK = "http://localhost/login/oidc/callback"
PASSWORD = "correct-horse-battery-staple"
IDP_USERS = {
    "gem": {"email": "gem@example.nl", "email_verified": True, "name": "Gemeente Gebruiker"},
    "admin": {"email": "admin@example.nl", "email_verified": True},
    "vreemd": {"email": "vreemd@example.nl", "email_verified": True},
    "nieuw": {"email": "nieuw@example.nl", "email_verified": True, "hub_rol": "swv", "hub_scope": "PO-27-01"},
    "onbevestigd": {"email": "gem@example.nl", "email_verified": False},
}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def issuer(tmp_path_factory):
    node = require_binary("node", "nodejs")
    if not MODULE.exists():
        npm = require_binary("npm", "npm")
        subprocess.run([npm, "install", "--prefix", str(PREFIX), "--no-audit", "--no-fund", "oidc-provider@8"],
                       check=True, timeout=600)
    port = _free_port()
    log = tmp_path_factory.mktemp("oidc") / "provider.log"
    env = {**os.environ, "OIDC_PROVIDER_MODULE": str(MODULE), "PORT": str(port), "CLIENT_ID": CLIENT_ID,
           "CLIENT_SECRET": CLIENT_SECRET, "REDIRECT_URI": CALLBACK, "OIDC_USERS": json.dumps(IDP_USERS)}
    with open(log, "wb") as out:
        proc = subprocess.Popen([node, str(Path(__file__).with_name("provider.mjs"))], env=env, stdout=out,
                                stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            if requests.get(f"{url}/.well-known/openid-configuration", timeout=2).ok:
                break
        except requests.ConnectionError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            pytest.fail(f"oidc-provider did not start: {log.read_text()[-2000:]}", pytrace=False)
        time.sleep(0.2)
    yield url
    proc.terminate()
    proc.wait(10)


@pytest.fixture
def make_hub(issuer, monkeypatch):
    monkeypatch.setenv("AUTHLIB_INSECURE_TRANSPORT", "1")  # the test provider speaks plain HTTP on loopback
    from hub.extensions import db
    from hub.services import users
    from tests.hub.conftest import make_app
    from tests.hub.web.conftest import FAST_HASH
    from tests.hub.web.seed import seed_region

    def build(**settings):
        settings.setdefault("MFA_REQUIRED_ROLES", "regio_admin")
        app = make_app(PASSWORD_HASH_METHOD=FAST_HASH, OIDC_ISSUER=issuer, OIDC_CLIENT_ID=CLIENT_ID,
                       OIDC_CLIENT_SECRET=CLIENT_SECRET, **settings)
        with app.app_context():
            db.create_all()
            seed_region(with_users=False)
            users.add_user("gem@example.nl", PASSWORD, "gemeente", "0356")
            users.add_user("admin@example.nl", PASSWORD, "regio_admin")
        return app

    return build


def sign_in(hub_client, issuer: str, login: str, amr: str = "pwd", acr: str = ""):
    """The browser's part: hub → provider (login form) → hub callback; returns the callback's response."""
    start = hub_client.get("/login/oidc")
    assert start.status_code == 302
    location = start.headers["Location"]
    assert location.startswith(issuer) and "code_challenge=" in location and "nonce=" in location
    browser = requests.Session()
    resp = browser.get(location, allow_redirects=False)
    for _ in range(10):
        if resp.status_code not in (302, 303):
            break
        nxt = resp.headers["Location"]
        nxt = nxt if nxt.startswith("http") else issuer + nxt
        if nxt.startswith(CALLBACK):
            parts = urlsplit(nxt)
            return hub_client.get(f"{parts.path}?{parts.query}")
        resp = browser.get(nxt, allow_redirects=False)
        if resp.status_code == 200 and "<form" in resp.text:
            action = resp.text.split('action="')[1].split('"')[0]
            resp = browser.post(issuer + action, data={"login": login, "amr": amr, "acr": acr}, allow_redirects=False)
    raise AssertionError(f"no redirect back to the hub: {resp.status_code} {resp.text[:300]}")


def _audit(app, action):
    from hub.extensions import db
    from hub.models.audit import AuditEvent

    with app.app_context():
        return [(e.target, e.actor) for e in db.session.scalars(db.select(AuditEvent).where(AuditEvent.action == action))]


def test_login_page_offers_the_organisation_button(make_hub):
    assert "Inloggen met uw eigen organisatie" in make_hub().test_client().get("/login").get_data(as_text=True)


def test_without_settings_no_button_and_no_route():
    from tests.hub.conftest import make_app

    client = make_app().test_client()
    assert "Inloggen met uw eigen organisatie" not in client.get("/login").get_data(as_text=True)
    assert client.get("/login/oidc").status_code == 404


def test_preprovisioned_account_signs_in(make_hub, issuer):
    app = make_hub()
    client = app.test_client()
    resp = sign_in(client, issuer, "gem")
    assert resp.status_code == 302, resp.get_data(as_text=True)
    assert client.get("/overzicht").status_code == 200
    assert ("login oidc", "gem@example.nl") in _audit(app, "login")


def test_idp_mfa_satisfies_the_hub_rule(make_hub, issuer):
    app = make_hub()
    client = app.test_client()
    assert sign_in(client, issuer, "admin", amr="pwd,otp").status_code == 302
    assert client.get("/beheer/rondes").status_code == 200
    assert ("login oidc (tweede factor bij de organisatie)", "admin@example.nl") in _audit(app, "login")


def test_configured_acr_counts_as_mfa(make_hub, issuer):
    client = make_hub(OIDC_MFA_ACR="urn:example:loa:substantial").test_client()
    assert sign_in(client, issuer, "admin", amr="pwd", acr="urn:example:loa:substantial").status_code == 302
    assert client.get("/beheer/rondes").status_code == 200


def test_without_idp_mfa_the_hub_asks_its_own_code(make_hub, issuer):
    client = make_hub().test_client()
    resp = sign_in(client, issuer, "admin", amr="pwd")
    assert resp.status_code == 302 and "tweede-factor" in resp.headers["Location"]
    assert client.get("/beheer/rondes").status_code == 302  # not logged in yet: to the login page


def test_unknown_account_is_refused_and_audited(make_hub, issuer):
    app = make_hub()
    client = app.test_client()
    resp = sign_in(client, issuer, "vreemd")
    assert resp.status_code == 401 and "geen actief account" in resp.get_data(as_text=True)
    assert client.get("/overzicht").status_code == 302
    assert any(actor == "vreemd@example.nl" for _, actor in _audit(app, "login_failed"))


def test_unverified_email_is_refused(make_hub, issuer):
    resp = sign_in(make_hub().test_client(), issuer, "onbevestigd")
    assert resp.status_code == 401 and "bevestigd e-mailadres" in resp.get_data(as_text=True)


def test_claims_provisioning_creates_the_account(make_hub, issuer):
    from hub.extensions import db
    from hub.models.users import User

    app = make_hub(OIDC_PROVISIONING="claims")
    client = app.test_client()
    assert sign_in(client, issuer, "nieuw").status_code == 302
    with app.app_context():
        user = db.session.scalar(db.select(User).where(User.email == "nieuw@example.nl"))
        assert (user.role, user.scope) == ("swv", "PO2701")
    assert client.get("/swv/PO2701").status_code == 200


def test_forged_state_is_refused(make_hub, issuer):
    client = make_hub().test_client()
    client.get("/login/oidc")
    resp = client.get("/login/oidc/callback?code=abc&state=vervalst")
    assert resp.status_code == 401 and "niet gelukt" in resp.get_data(as_text=True)


def test_failed_sign_ins_are_throttled_per_address(make_hub, issuer):
    """Failures on the callback count towards the per-address login limit, as wrong passwords do."""
    app = make_hub(LOGIN_LIMIT_PER_ADDRESS="3 per 10 minutes")
    client = app.test_client()
    client.get("/login/oidc")
    answers = [client.get("/login/oidc/callback?code=abc&state=vervalst").status_code for _ in range(4)]
    assert answers[:3] == [401, 401, 401] and answers[3] == 429
