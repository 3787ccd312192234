"""A client's mistake on /api/ is a 4xx in the one error shape, never a 500: ids beyond int64, JSON
nested too deep (body, envelope, signed partial), empty query values."""

from __future__ import annotations

import io
import re

import pytest

from hub.services import rounds
from shared.signing import SIGNING_CONTEXT, SignedEnvelope, key_id
from tests.hub.conftest import row_counts
from tests.hub.factories import enrol_node
from tests.hub.openapi_helpers import assert_matches_openapi

HUGE = "99999999999999999999999"
DEEP = b"[" * 50_000 + b"]" * 50_000


def call(client, method, path, **kwargs):
    response = client.open(path, method=method, **kwargs)
    body = assert_matches_openapi(response, method, path.split("?")[0])
    return response, body


@pytest.fixture
def region(app):
    node = enrol_node("0356")
    return node, rounds.open_round("2024-2025").id


def test_ids_beyond_int64_are_not_found(client, app, admin_headers):
    response, body = call(client, "GET", f"/api/v1/releases/{HUGE}", headers=admin_headers)
    assert (response.status_code, body["error"]["code"]) == (404, "not_found")
    response, body = call(client, "GET", f"/api/v1/releases/{2**63 - 1}", headers=admin_headers)
    assert (response.status_code, body["error"]["code"]) == (404, "release_not_found")  # looked up: no overflow
    checked = 0
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/"):
            continue
        path = re.sub(r"<int:[^>]+>", HUGE, rule.rule)
        if path == rule.rule:
            continue
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            response, body = call(client, method, path, headers=admin_headers)
            assert (response.status_code, body["error"]["code"]) == (404, "not_found"), (method, path)
            checked += 1
    assert checked >= 4


def test_a_deeply_nested_enrolment_is_refused(client):
    response, body = call(client, "POST", "/api/v1/nodes/enrol", data=DEEP, content_type="application/json")
    assert (response.status_code, body["error"]["code"]) == (400, "json_too_deep")
    assert "te diep genest" in body["error"]["message"]


def test_a_deeply_nested_envelope_is_refused(client, region):
    node, round_id = region
    path = f"/api/v1/rounds/{round_id}/submissions"
    before = row_counts()
    response, body = call(client, "POST", path, data=DEEP, headers=node.headers("POST", path, DEEP),
                          content_type="application/json")
    assert (response.status_code, body["error"]["code"]) == (400, "json_too_deep")
    assert row_counts() == before


def test_a_deeply_nested_partial_in_a_signed_envelope_is_refused(client, region):
    node, round_id = region
    envelope = SignedEnvelope(key_id(node.key), DEEP, node.key.sign(SIGNING_CONTEXT + DEEP)).to_bytes()
    path = f"/api/v1/rounds/{round_id}/submissions"
    before = row_counts()
    response, body = call(client, "POST", path, data=envelope, headers=node.headers("POST", path, envelope),
                          content_type="application/json")
    assert (response.status_code, body["error"]["code"]) == (400, "json_too_deep")
    assert row_counts() == before


def test_a_deeply_nested_upload_file_is_refused(client, region, admin_headers):
    _, round_id = region
    form = {"round_id": str(round_id), "file": (io.BytesIO(DEEP), "diep.json")}
    response, body = call(client, "POST", "/api/v1/uploads", data=form, headers=admin_headers,
                          content_type="multipart/form-data")
    assert (response.status_code, body["error"]["code"]) == (400, "json_too_deep")


def test_a_round_id_beyond_int64_in_the_upload_form_is_refused(client, region, admin_headers):
    form = {"round_id": HUGE, "file": (io.BytesIO(b"{}"), "x.json")}
    response, body = call(client, "POST", "/api/v1/uploads", data=form, headers=admin_headers,
                          content_type="multipart/form-data")
    assert (response.status_code, body["error"]["code"]) == (400, "invalid_input")


@pytest.mark.parametrize("path", [
    "/api/v1/releases?schooljaar=",
    "/api/v1/releases?schooljaar=%20&current=true",
    "/api/v1/releases/1/cells?level=",
    "/api/v1/rounds?status=",
    "/api/v1/scholen?schooljaar=",
    "/api/v1/scholen?gemeente=",
    "/api/v1/scholen/10AA00?schooljaar=",
    "/api/v1/schooltypes/BO/funnel?schooljaar=",
    "/api/v1/regio?schooljaar=",
    "/api/v1/aanbieders?schooljaar=",
    "/api/v1/aanbieders?gemeente=",
])
def test_an_empty_query_value_is_refused(client, app, admin_headers, path):
    response, body = call(client, "GET", path, headers=admin_headers)
    assert (response.status_code, body["error"]["code"]) == (400, "invalid_input"), body
    assert "leeg" in body["error"]["message"]


@pytest.mark.parametrize("path", [
    "/api/v1/releases/1/cells?category=%00",
    "/api/v1/releases/1/cells?unit=a%00b",
    "/api/v1/releases?current=true&x%00=1",
    "/api/v1/scholen?zoek=%00",
])
def test_a_nul_character_in_a_query_value_is_refused(client, app, admin_headers, path):
    """PostgreSQL cannot compare a string with a NUL in it: it must not reach the database."""
    response, body = call(client, "GET", path, headers=admin_headers)
    assert (response.status_code, body["error"]["code"]) == (400, "invalid_input"), body
