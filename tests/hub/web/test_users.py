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
