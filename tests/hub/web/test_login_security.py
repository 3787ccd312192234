"""Issue 10: throttled logins and token attempts (429 + Retry-After), account lockout, BIO audit lines."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from hub.extensions import db
from hub.models.audit import AuditEvent
from hub.services import users
from tests.hub.conftest import make_app
from tests.hub.web.helpers import csrf_token, login

PASSWORD = "een-lang-wachtwoord"


@pytest.fixture
def make(request):
    apps = []

    def build(**config):
        app = make_app(PASSWORD_HASH_METHOD="pbkdf2:sha256:1000", **config)
        with app.app_context():
            db.create_all()
            for i in range(3):
                users.add_user(f"u{i}@example.nl", PASSWORD, "regio_admin")
        apps.append(app)
        return app

    yield build
    for app in apps:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


def _events(app, action):
    with app.app_context():
        return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)))


def test_account_is_locked_after_five_failures_even_for_the_right_password(make):
    app = make()
    client = app.test_client()
    for _ in range(5):
        assert login(client, "u0@example.nl", "fout-wachtwoord-123").status_code == 401
    locked = login(client, "u0@example.nl", PASSWORD)
    assert locked.status_code == 429
    assert 1 <= int(locked.headers["Retry-After"]) <= 15 * 60 + 1
    assert "Te veel mislukte pogingen" in locked.get_data(as_text=True)
    # Another account from the same address is not locked (the address limit is higher).
    assert login(app.test_client(), "u1@example.nl", PASSWORD).status_code == 302
    failed = _events(app, "login_failed")
    assert len(failed) == 5
    assert all(e.actor == "u0@example.nl" and e.origin == "127.0.0.1" and e.result == "failed" and e.at for e in failed)
    (lockout,) = _events(app, "lockout")
    assert lockout.actor == "u0@example.nl" and lockout.origin == "127.0.0.1" and lockout.result == "denied"


def test_failed_logins_are_throttled_per_address(make):
    app = make(LOGIN_LIMIT_PER_ADDRESS="3 per 1 minute")
    client = app.test_client()
    for i in range(3):
        assert login(client, f"u{i}@example.nl", "fout-wachtwoord-123").status_code == 401
    resp = login(client, "u2@example.nl", PASSWORD)
    assert resp.status_code == 429 and 1 <= int(resp.headers["Retry-After"]) <= 61
    other = app.test_client()  # another address
    token = csrf_token(other)
    resp = other.post("/login", data={"email": "u2@example.nl", "wachtwoord": PASSWORD, "csrf_token": token},
                      environ_base={"REMOTE_ADDR": "10.0.0.9"})
    assert resp.status_code == 302
    assert _events(app, "throttled")[0].origin == "127.0.0.1"


def test_wrong_api_tokens_are_throttled_per_address(make):
    app = make(TOKEN_LIMIT_PER_ADDRESS="3 per 1 minute")
    with app.app_context():
        good = users.create_api_token("u0@example.nl")
    client = app.test_client()
    for _ in range(3):
        assert client.get("/api/v1/regio", headers={"Authorization": "Bearer jh_fout"}).status_code == 401
    resp = client.get("/api/v1/regio", headers={"Authorization": f"Bearer {good}"})
    assert resp.status_code == 429 and int(resp.headers["Retry-After"]) >= 1
    assert resp.get_json()["error"]["code"] == "too_many_requests"
    failed = _events(app, "login_failed")
    assert len(failed) == 3 and failed[0].target == "api-token" and failed[0].origin == "127.0.0.1"


def test_login_and_logout_lines_carry_actor_origin_result(make):
    app = make()
    client = app.test_client()
    assert login(client, "u1@example.nl", PASSWORD).status_code == 302
    assert client.post("/logout", data={"csrf_token": csrf_token(client, "/beheer/audit")}).status_code == 302
    for action in ("login", "logout"):
        (event,) = _events(app, action)
        assert (event.actor, event.origin, event.result) == ("u1@example.nl", "127.0.0.1", "ok") and event.at
    assert login(client, "u1@example.nl", PASSWORD).status_code == 302
    page = client.get("/beheer/audit").get_data(as_text=True)
    assert "ingelogd" in page and "uitgelogd" in page and "127.0.0.1" in page


def test_rate_limit_storage_is_redis_with_a_broker():
    from hub.throttle import storage_uri

    assert storage_uri({"CELERY_BROKER_URL": None}) == "memory://"
    assert storage_uri({"CELERY_BROKER_URL": "redis://r:6379/0"}) == "redis://r:6379/0"
    assert storage_uri({"CELERY_BROKER_URL": "redis://r/0", "RATELIMIT_STORAGE_URI": "redis://l/1"}) == "redis://l/1"


def test_lockout_counters_are_shared_through_redis(make, redis_url):
    """Two web workers (two apps) on one real Redis: failures at one lock the account at the other."""
    first, second = make(RATELIMIT_STORAGE_URI=redis_url), make(RATELIMIT_STORAGE_URI=redis_url)
    with first.app_context():
        first.extensions["hub_limiter"].reset()
    for _ in range(5):
        assert login(first.test_client(), "u2@example.nl", "fout-wachtwoord-123").status_code == 401
    resp = login(second.test_client(), "u2@example.nl", PASSWORD)
    assert resp.status_code == 429 and int(resp.headers["Retry-After"]) >= 1
