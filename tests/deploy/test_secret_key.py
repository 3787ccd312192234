"""No session is ever signed with a key from the source: a forged cookie must not open an admin page.

With ``HUB_ENV`` unset the hub runs in development mode; it used to sign sessions with the published
default key, so anyone could forge a regio_admin session. Now a hub without ``HUB_SECRET_KEY`` makes a
random key once and keeps it in its instance folder (0600), and the published key is refused everywhere.
"""

from __future__ import annotations

import os
import stat
from types import SimpleNamespace

import pytest
from flask.sessions import SecureCookieSessionInterface

from hub import create_app
from hub.config import DEFAULT_SECRET, PUBLISHED_SECRETS, SECRET_KEY_FILE
from shared.errors import ConfigError
from tests.hub.web.conftest import FAST_HASH

USER_AGENT = "jeugdhub-test"


def _clear_hub_env(monkeypatch):
    for name in list(os.environ):
        if name.startswith("HUB_"):
            monkeypatch.delenv(name)


@pytest.fixture
def dev_app(monkeypatch, tmp_path):
    """A hub configured as an operator would leave it: only a database, HUB_ENV and HUB_SECRET_KEY unset."""
    from hub.extensions import db
    from hub.services import users

    _clear_hub_env(monkeypatch)
    monkeypatch.setenv("HUB_SQLALCHEMY_DATABASE_URI", f"sqlite:///{tmp_path / 'hub.sqlite'}")
    monkeypatch.setenv("HUB_PASSWORD_HASH_METHOD", FAST_HASH)
    app = create_app(instance_path=tmp_path / "instance")
    assert app.config["ENV"] == "development"
    with app.app_context():
        db.create_all()
        admin = users.add_user("regio@example.nl", "correct-horse-battery-staple", "regio_admin", None)
        app.config["TEST_ADMIN_ID"] = admin.id
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def _forged_cookie(app, secret: str) -> str:
    """A Flask-Login session of the regio_admin, signed with ``secret`` as an attacker would sign it."""
    from flask_login.utils import _create_identifier

    with app.test_request_context("/", headers={"User-Agent": USER_AGENT}, environ_base={"REMOTE_ADDR": "127.0.0.1"}):
        identifier = _create_identifier()  # what session_protection="strong" compares with
    import time

    from hub.web.auth import LOGIN_AT, SEEN_AT

    # A session as the hub writes one: "<user id>:<session version>" and its login and last-seen times.
    now = time.time()
    session = {"_user_id": f"{app.config['TEST_ADMIN_ID']}:0", "_fresh": True, "_id": identifier,
               LOGIN_AT: now, SEEN_AT: now}
    signer = SecureCookieSessionInterface().get_signing_serializer(
        SimpleNamespace(secret_key=secret, config={"SECRET_KEY_FALLBACKS": None}))
    return signer.dumps(session)


def _audit_page(app, cookie: str):
    client = app.test_client()
    client.set_cookie(app.config.get("SESSION_COOKIE_NAME", "session"), cookie)
    return client.get("/beheer/audit", headers={"User-Agent": USER_AGENT})


def test_a_cookie_forged_with_the_old_default_key_is_rejected_in_development(dev_app):
    response = _audit_page(dev_app, _forged_cookie(dev_app, DEFAULT_SECRET))
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_the_forgery_itself_works_with_the_real_key(dev_app):
    """Proves the test above forges correctly: only the key makes the difference."""
    response = _audit_page(dev_app, _forged_cookie(dev_app, dev_app.config["SECRET_KEY"]))
    assert response.status_code == 200 and "Audit" in response.get_data(as_text=True)


def test_the_generated_key_is_random_private_and_kept(tmp_path):
    instance = tmp_path / "instance"
    config = {"SQLALCHEMY_DATABASE_URI": "sqlite://"}
    first = create_app(dict(config), instance_path=instance).config["SECRET_KEY"]
    second = create_app(dict(config), instance_path=instance).config["SECRET_KEY"]
    assert first == second, "a restart must not log everybody out"
    assert first not in PUBLISHED_SECRETS and len(first) >= 32
    path = instance / SECRET_KEY_FILE
    assert path.read_text().strip() == first
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    other = create_app(dict(config), instance_path=tmp_path / "other").config["SECRET_KEY"]
    assert other != first


@pytest.mark.parametrize("env", ["development", "testing", "production"])
def test_the_published_default_is_refused_in_every_environment(env, tmp_path):
    config = {"ENV": env, "SQLALCHEMY_DATABASE_URI": "sqlite://"}
    for override in ({"SECRET_KEY": DEFAULT_SECRET}, {"SECRET_KEY": "a-key-of-our-own-" + "x" * 32,
                                                      "SECRET_KEY_FALLBACKS": [DEFAULT_SECRET]}):
        with pytest.raises(ConfigError) as info:
            create_app({**config, **override}, instance_path=tmp_path)
        assert info.value.code == "unsafe_config" and "HUB_SECRET_KEY" in info.value.message


def test_the_published_default_is_refused_from_the_environment(monkeypatch, tmp_path):
    _clear_hub_env(monkeypatch)
    monkeypatch.setenv("HUB_SQLALCHEMY_DATABASE_URI", f"sqlite:///{tmp_path / 'hub.sqlite'}")
    monkeypatch.setenv("HUB_SECRET_KEY", DEFAULT_SECRET)
    with pytest.raises(ConfigError):
        create_app(instance_path=tmp_path)


def test_production_never_makes_a_key_of_its_own(tmp_path):
    with pytest.raises(ConfigError) as info:
        create_app({"ENV": "production"}, instance_path=tmp_path)
    assert "HUB_SECRET_KEY" in info.value.details["settings"]
    assert not (tmp_path / SECRET_KEY_FILE).exists()


def test_a_key_file_others_can_read_is_refused(tmp_path):
    path = tmp_path / SECRET_KEY_FILE
    path.write_text("k" * 64)
    path.chmod(0o644)
    with pytest.raises(ConfigError) as info:
        create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://"}, instance_path=tmp_path)
    assert info.value.code == "key_permissions" and "chmod 600" in info.value.message
