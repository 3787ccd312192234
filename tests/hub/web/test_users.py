"""Accounts: hashing, scopes, disabling, API tokens, and the ``jeugdhub user`` CLI."""

import pytest

from hub.models.users import User
from hub.services import users
from shared.errors import ConflictError, InputError, NotFoundError


def test_password_is_hashed_with_scrypt_by_default(app):
    info = users.add_user("Anna@Example.nl", "een-lang-wachtwoord", "gemeente", "356")
    stored = app.extensions["sqlalchemy"].session.get(User, info.id)
    assert stored.password_hash.startswith("scrypt:") and "een-lang-wachtwoord" not in stored.password_hash
    assert info.email == "anna@example.nl" and info.scope == "0356"
    assert users.authenticate("ANNA@example.nl", "een-lang-wachtwoord").id == info.id
    assert users.authenticate("anna@example.nl", "fout-wachtwoord!") is None
    assert users.authenticate("niemand@example.nl", "een-lang-wachtwoord") is None


@pytest.mark.parametrize("role,scope,code", [
    ("gemeente", None, "bad_scope"),
    ("gemeente", "12345", "bad_scope"),
    ("swv", "XX1234", "bad_scope"),
    ("school", "04DA0", "bad_scope"),
    ("consortium", "abc", "bad_scope"),
    ("regio_admin", "0356", "bad_scope"),
    ("koning", None, "unknown_role"),
])
def test_scope_is_checked_per_role(app, role, scope, code):
    with pytest.raises(InputError) as exc:
        users.add_user("x@example.nl", "een-lang-wachtwoord", role, scope)
    assert exc.value.code == code


def test_scope_normalisation_and_duplicates(app):
    assert users.add_user("s@example.nl", "een-lang-wachtwoord", "swv", "po-27-01").scope == "PO2701"
    assert users.add_user("v@example.nl", "een-lang-wachtwoord", "school", "04da00").scope == "04DA00"
    with pytest.raises(ConflictError):
        users.add_user("S@example.nl", "een-lang-wachtwoord", "swv", "PO2701")
    with pytest.raises(InputError) as exc:
        users.add_user("w@example.nl", "kort", "regio_admin")
    assert exc.value.code == "weak_password"


def test_disabled_user_cannot_log_in_and_loses_tokens(app):
    users.add_user("d@example.nl", "een-lang-wachtwoord", "regio_admin")
    token = users.create_api_token("d@example.nl")
    assert users.user_for_token(token) is not None
    users.set_active("d@example.nl", False)
    assert users.authenticate("d@example.nl", "een-lang-wachtwoord") is None
    assert users.user_for_token(token) is None
    with pytest.raises(NotFoundError):
        users.set_active("onbekend@example.nl", False)


def test_cli_add_list_disable(app):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["user", "add", "cli@example.nl", "--rol", "school", "--scope", "04DA00",
                                 "--wachtwoord", "een-lang-wachtwoord"])
    assert result.exit_code == 0, result.output
    assert "toegevoegd" in result.output
    listed = runner.invoke(args=["user", "list"])
    assert "cli@example.nl" in listed.output and "04DA00" in listed.output and "scrypt" not in listed.output
    bad = runner.invoke(args=["user", "add", "x@example.nl", "--rol", "school", "--wachtwoord", "een-lang-wachtwoord"])
    assert bad.exit_code == InputError.exit_code and "scope" in bad.output and "Traceback" not in bad.output
    assert runner.invoke(args=["user", "disable", "cli@example.nl"]).exit_code == 0
    token = runner.invoke(args=["user", "token", "cli@example.nl"])
    assert token.exit_code == ConflictError.exit_code


def test_cli_add_warns_of_a_scope_the_reference_data_does_not_know(app):
    """A typo in a scope gives an account that sees nothing: ``user add`` says so (on stderr), and
    still adds it, since an account may be made before the DUO files are read in."""
    from hub.extensions import db
    from hub.models.reference import Gemeente

    db.session.add(Gemeente(code="0356", naam="Nieuwegein"))
    db.session.commit()
    runner = app.test_cli_runner()
    known = runner.invoke(args=["user", "add", "g@example.nl", "--rol", "gemeente", "--scope", "356",
                                "--wachtwoord", "een-lang-wachtwoord"])
    assert known.exit_code == 0 and "Let op" not in known.output
    typo = runner.invoke(args=["user", "add", "t@example.nl", "--rol", "gemeente", "--scope", "0365",
                               "--wachtwoord", "een-lang-wachtwoord"])
    assert typo.exit_code == 0 and "toegevoegd" in typo.output
    assert "gemeente 0365 staat (nog) niet in de referentiegegevens" in typo.output and "overzicht" in typo.output
    assert users.unknown_scope("school", "04DA00") and users.unknown_scope("swv", "PO2701")
    assert users.unknown_scope("regio_admin", None) is None and users.unknown_scope("gemeente", "0356") is None


# --- sessions that end (issue 10) ---------------------------------------------------------------

from tests.hub.web.helpers import csrf_token, login  # noqa: E402


def _admin_client(web_app, seeded):
    client = web_app.test_client()
    assert login(client, *seeded.users["regio_admin"]).status_code == 302
    return client


def _copy_cookie(web_app, client):
    """A second client holding the same session cookie (what an attacker who copied it would have)."""
    copy = web_app.test_client()
    cookie = client.get_cookie("session")
    copy.set_cookie(cookie.key, cookie.value)
    return copy


def test_logout_ends_the_session_server_side(web_app, seeded):
    client = _admin_client(web_app, seeded)
    stolen = _copy_cookie(web_app, client)
    assert stolen.get("/overzicht").status_code == 200
    assert stolen.get("/api/v1/regio").status_code == 200
    assert client.post("/logout", data={"csrf_token": csrf_token(client, "/overzicht")}).status_code == 302
    page = stolen.get("/overzicht")
    assert page.status_code == 302 and "/login" in page.headers["Location"]
    assert stolen.get("/api/v1/regio").status_code == 401


@pytest.mark.parametrize("change", ["password", "disable_enable"])
def test_password_change_and_reenable_end_old_sessions(web_app, seeded, change):
    client = _admin_client(web_app, seeded)
    assert client.get("/overzicht").status_code == 200
    email = seeded.users["regio_admin"][0]
    with web_app.app_context():
        if change == "password":
            users.set_password(email, "een-heel-ander-wachtwoord")
        else:
            users.set_active(email, False)
            users.set_active(email, True)
    assert client.get("/overzicht").status_code == 302
    assert client.get("/api/v1/regio").status_code == 401


def test_idle_and_absolute_session_lifetimes(web_app, seeded, monkeypatch):
    from hub.web import auth

    assert web_app.config["SESSION_IDLE_MINUTES"] == 30 and web_app.config["SESSION_MAX_HOURS"] == 8
    assert web_app.permanent_session_lifetime.total_seconds() == 8 * 3600
    clock = [1_000_000.0]
    monkeypatch.setattr(auth, "_now", lambda: clock[0])
    client = _admin_client(web_app, seeded)
    clock[0] += 29 * 60
    assert client.get("/overzicht").status_code == 200  # active: the idle clock restarts
    clock[0] += 31 * 60
    assert client.get("/overzicht").status_code == 302  # 31 minutes idle
    client = _admin_client(web_app, seeded)
    for _ in range(17):  # busy all day, a request every 29 minutes
        clock[0] += 29 * 60
        client.get("/overzicht")
    assert client.get("/overzicht").status_code == 302  # more than 8 hours after login


def test_a_session_cookie_is_resent_only_when_its_last_seen_time_is_a_minute_old(web_app, seeded, monkeypatch):
    """Each request need not re-sign the cookie: the last-seen time moves once a minute (auth.SEEN_RESOLUTION)."""
    from hub.web import auth

    clock = [1_000_000.0]
    monkeypatch.setattr(auth, "_now", lambda: clock[0])
    client = _admin_client(web_app, seeded)
    clock[0] += 10
    assert "Set-Cookie" not in client.get("/api/v1/regio").headers
    clock[0] += auth.SEEN_RESOLUTION
    resp = client.get("/api/v1/regio")
    assert resp.status_code == 200 and "session=" in resp.headers.get("Set-Cookie", "")


def test_authenticated_answers_are_not_cached(web_app, seeded):
    client = _admin_client(web_app, seeded)
    for url in ("/overzicht", "/api/v1/regio", "/beheer/audit"):
        assert client.get(url).headers.get("Cache-Control") == "no-store", url
    token_client = web_app.test_client()
    with web_app.app_context():
        token = users.create_api_token(seeded.users["gemeente"][0])
    resp = token_client.get("/api/v1/regio", headers={"Authorization": f"Bearer {token}"})
    assert resp.status_code == 200 and resp.headers.get("Cache-Control") == "no-store"


def test_cli_password_change(app):
    users.add_user("p@example.nl", "een-lang-wachtwoord", "regio_admin")
    result = app.test_cli_runner().invoke(args=["user", "password", "p@example.nl", "--wachtwoord", "nieuw-lang-wachtwoord"])
    assert result.exit_code == 0, result.output
    assert users.authenticate("p@example.nl", "nieuw-lang-wachtwoord") is not None
    assert users.authenticate("p@example.nl", "een-lang-wachtwoord") is None


@pytest.mark.parametrize("password,why", [
    ("aaaaaaaaaaaa", "herhaling"),
    ("abababababab", "herhaling"),
    ("abcdefghijkl", "reeks"),
    ("123456789012", "reeks"),
    ("lkjihgfedcba", "reeks"),
    ("qwertyuiopas", "reeks"),
    ("annadevries-2024", "e-mailadres"),
    ("Wachtwoord2024!", "veelgebruikte"),
    ("welkomwelkom", "herhaling"),
    ("Geheimpje!!!", "veelgebruikte"),
    ("Welkom123456", "veelgebruikte"),
    ("kort", "minstens 12"),
])
def test_weak_passwords_are_refused_in_dutch(app, password, why):
    with pytest.raises(InputError) as exc:
        users.add_user("annadevries@example.nl", password, "regio_admin")
    assert exc.value.code == "weak_password" and why in exc.value.message
    users.add_user("ok@example.nl", "lek-brug-dijk-42", "regio_admin")  # the demo's kind of password passes
    users.add_user("annadevries@example.nl", "een-lang-wachtwoord", "regio_admin")
    with pytest.raises(InputError):
        users.set_password("ok@example.nl" if why != "e-mailadres" else "annadevries@example.nl", password)
