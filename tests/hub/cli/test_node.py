"""``jeugdhub node …``: Dutch output, tokens shown once, errors without tracebacks."""

from __future__ import annotations

import re

from hub.services import nodes
from shared.messages import EnrolmentRequest
from shared.signing import generate_signing_key, key_id, public_key_pem


def run(app, *args):
    return app.test_cli_runner().invoke(args=list(args))


def _token(output: str) -> str:
    return re.search(r"^([A-Za-z0-9_-]{40,})$", output, re.M).group(1)


def test_add_prints_a_token_that_enrols(app):
    result = run(app, "node", "add", "356", "--naam", "Nieuwegein")
    assert result.exit_code == 0, result.output
    assert "Eenmalig inschrijftoken voor gemeente 0356" in result.output
    key = generate_signing_key()
    nodes.enrol(EnrolmentRequest(_token(result.output), "0356", public_key_pem(key), "t"))
    listing = run(app, "node", "list")
    assert "0356" in listing.output and key_id(key) in listing.output and "actief" in listing.output


def test_add_twice_is_a_user_error(app):
    run(app, "node", "add", "0356", "--naam", "Nieuwegein")
    result = run(app, "node", "add", "0356", "--naam", "Nieuwegein")
    assert result.exit_code == 75 and "al geregistreerd" in result.output and "Traceback" not in result.output


def test_token_rotate_and_revoke(app):
    first = _token(run(app, "node", "add", "0356", "--naam", "Nieuwegein").output)
    second = _token(run(app, "node", "token", "0356").output)
    assert first != second
    key = generate_signing_key()
    nodes.enrol(EnrolmentRequest(second, "0356", public_key_pem(key), "t"))
    rotated = run(app, "node", "rotate", "0356")
    assert rotated.exit_code == 0 and _token(rotated.output)
    result = run(app, "node", "revoke", "--key", key_id(key))
    assert result.exit_code == 0 and "ingetrokken" in result.output
    result = run(app, "node", "revoke", "0356")
    assert result.exit_code == 0
    assert "ingetrokken" in run(app, "node", "list").output
    assert run(app, "node", "revoke").exit_code != 0


def test_unknown_node(app):
    result = run(app, "node", "token", "0999")
    assert result.exit_code == 66 and "0999" in result.output


def test_list_json(app):
    import json

    run(app, "node", "add", "0356", "--naam", "Nieuwegein")
    rows = json.loads(run(app, "node", "list", "--json").output)
    assert rows == [{"code": "0356", "kind": "gemeente", "naam": "Nieuwegein", "status": "active", "key_id": None,
                     "agent_version": None}]


def test_an_swv_is_added_by_its_code_and_listed_as_one(app):
    from tests.hub.factories import add_swv

    unknown = run(app, "node", "add", "PO2607")
    assert unknown.exit_code == 65 and "referentiedata" in unknown.output and "Traceback" not in unknown.output
    add_swv()
    result = run(app, "node", "add", "PO-26-07")
    assert result.exit_code == 0, result.output
    assert "Eenmalig inschrijftoken voor samenwerkingsverband PO2607" in result.output
    listing = run(app, "node", "list").output
    assert "PO2607" in listing and "swv" in listing and "SWV PO Lekstroom (test)" in listing
    without_name = run(app, "node", "add", "0356")
    assert without_name.exit_code != 0 and "--naam" in without_name.output
