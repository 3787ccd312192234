"""Issue 10: a second factor (TOTP) for local accounts: required for regio_admin by default,
enrolment with a QR code, one-time recovery codes, reset by the regio admin, the demo setting."""

from __future__ import annotations

import re
import time

import pyotp
import pytest

from hub.config import DEFAULTS
from hub.extensions import db
from hub.services import users
from shared.errors import ConfigError
from tests.hub.conftest import make_app
from tests.hub.web.helpers import csrf_token, login

PASSWORD = "een-lang-wachtwoord"
ADMIN = "beheer@example.nl"


@pytest.fixture
def mfa_app():
    app = make_app(PASSWORD_HASH_METHOD="pbkdf2:sha256:1000", MFA_REQUIRED_ROLES=DEFAULTS["MFA_REQUIRED_ROLES"])
    with app.app_context():
        db.create_all()
        users.add_user(ADMIN, PASSWORD, "regio_admin")
        users.add_user("gemeente@example.nl", PASSWORD, "gemeente", "0356")
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def _code(secret: str, offset: int = 0) -> str:
    return pyotp.TOTP(secret).at(time.time() + offset)


def _enrol(client) -> tuple[str, list[str]]:
    resp = login(client, ADMIN, PASSWORD)
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/tweede-factor/instellen")
    assert client.get("/overzicht").status_code == 302  # the password alone opens nothing
    page = client.get("/tweede-factor/instellen").get_data(as_text=True)
    assert 'src="data:image/svg+xml' in page
    secret = re.search(r"Sleutel: <code>([A-Z2-7]+)</code>", page).group(1)
    token = csrf_token(client, "/tweede-factor/instellen")
    assert client.post("/tweede-factor/instellen", data={"code": "000000", "csrf_token": token}).status_code == 400
    done = client.post("/tweede-factor/instellen", data={"code": _code(secret), "csrf_token": token})
    assert done.status_code == 200
    codes = re.findall(r"<code>([a-z2-9]{5}-[a-z2-9]{5})</code>", done.get_data(as_text=True))
    assert len(codes) == 10
    return secret, codes


def test_default_requires_totp_for_regio_admin_only(mfa_app):
    assert DEFAULTS["MFA_REQUIRED_ROLES"] == "regio_admin"
    assert login(mfa_app.test_client(), "gemeente@example.nl", PASSWORD).headers["Location"].endswith("/")
    client = mfa_app.test_client()
    secret, _ = _enrol(client)
    assert client.get("/overzicht").status_code == 200
    with mfa_app.app_context():
        stored = users._get(ADMIN)
        assert stored.totp_secret == secret and all(len(h) == 64 for h in stored.recovery_hashes)


def test_login_asks_the_code_and_each_code_and_recovery_code_works_once(mfa_app):
    secret, codes = _enrol(mfa_app.test_client())
    client = mfa_app.test_client()
    resp = login(client, ADMIN, PASSWORD)
    assert resp.headers["Location"].endswith("/login/tweede-factor")
    assert client.get("/overzicht").status_code == 302
    token = csrf_token(client, "/login/tweede-factor")
    # The code used at enrolment was spent: the same time step never works twice.
    assert client.post("/login/tweede-factor", data={"code": _code(secret), "csrf_token": token}).status_code == 401
    ok = client.post("/login/tweede-factor", data={"code": _code(secret, 30), "csrf_token": token})
    assert ok.status_code == 302 and client.get("/overzicht").status_code == 200
    for attempt, expect in ((codes[0], 302), (codes[0], 401)):
        other = mfa_app.test_client()
        login(other, ADMIN, PASSWORD)
        t = csrf_token(other, "/login/tweede-factor")
        assert other.post("/login/tweede-factor", data={"code": attempt, "csrf_token": t}).status_code == expect


def test_wrong_codes_lock_the_account(mfa_app):
    _enrol(mfa_app.test_client())
    client = mfa_app.test_client()
    login(client, ADMIN, PASSWORD)
    token = csrf_token(client, "/login/tweede-factor")
    for _ in range(5):
        assert client.post("/login/tweede-factor", data={"code": "123456", "csrf_token": token}).status_code == 401
    resp = client.post("/login/tweede-factor", data={"code": "123456", "csrf_token": token})
    assert resp.status_code == 429 and int(resp.headers["Retry-After"]) >= 1


def test_regio_admin_resets_a_lost_factor_on_the_users_page_and_with_the_cli(mfa_app):
    secret, _ = _enrol(mfa_app.test_client())
    with mfa_app.app_context():
        users.add_user("tweede@example.nl", PASSWORD, "regio_admin")
    admin = mfa_app.test_client()
    # The second admin enrols and opens the users page.
    resp = login(admin, "tweede@example.nl", PASSWORD)
    page = admin.get("/tweede-factor/instellen").get_data(as_text=True)
    other_secret = re.search(r"Sleutel: <code>([A-Z2-7]+)</code>", page).group(1)
    admin.post("/tweede-factor/instellen", data={"code": _code(other_secret), "csrf_token": csrf_token(admin, "/tweede-factor/instellen")})
    listing = admin.get("/beheer/gebruikers")
    assert listing.status_code == 200 and "Tweede factor wissen" in listing.get_data(as_text=True)
    with mfa_app.app_context():
        target = users._get(ADMIN).id
    resp = admin.post(f"/beheer/gebruikers/{target}/tweede-factor-wissen", data={"csrf_token": csrf_token(admin, "/beheer/gebruikers")})
    assert resp.status_code == 302
    with mfa_app.app_context():
        assert users._get(ADMIN).totp_secret is None
    assert login(mfa_app.test_client(), ADMIN, PASSWORD).headers["Location"].endswith("/tweede-factor/instellen")
    result = mfa_app.test_cli_runner().invoke(args=["user", "reset-2fa", "tweede@example.nl"])
    assert result.exit_code == 0 and "gewist" in result.output
    with mfa_app.app_context():
        assert users._get("tweede@example.nl").totp_secret is None


def test_demo_setting_skips_mfa_visibly_and_is_refused_in_production(mfa_app):
    from hub.config import check
    from hub.demo import demo_config

    assert demo_config(__import__("pathlib").Path("/tmp/x"))["DEMO_SKIP_MFA"] is True
    mfa_app.config["DEMO_SKIP_MFA"] = True
    client = mfa_app.test_client()
    assert "Demo-instelling" in client.get("/login").get_data(as_text=True)
    assert login(client, ADMIN, PASSWORD).headers["Location"].endswith("/")
    with pytest.raises(ConfigError) as exc:
        check({**DEFAULTS, "ENV": "production", "DEMO_SKIP_MFA": True})
    assert "HUB_DEMO_SKIP_MFA" in exc.value.details["settings"]
