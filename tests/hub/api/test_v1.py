"""The /api/v1 routes end to end through the Flask test client; every response is validated
against hub/api/openapi.yaml."""

from __future__ import annotations

import io

import pytest
from sqlalchemy import select

from hub.extensions import db
from hub.models.submissions import Submission
from hub.services import nodes, rounds
from shared.messages import EnrolmentRequest, EnrolmentResponse, RoundInfo, SubmissionReceipt
from shared.signing import generate_signing_key, key_id, public_key_pem
from tests.hub.conftest import row_counts
from tests.hub.factories import enrol_node
from tests.hub.openapi_helpers import assert_matches_openapi


def call(client, method, path, **kwargs):
    response = client.open(path, method=method, **kwargs)
    body = assert_matches_openapi(response, method, path)
    return response, body


def post_envelope(client, node, round_id, data):
    path = f"/api/v1/rounds/{round_id}/submissions"
    return call(client, "POST", path, data=data, headers=node.headers("POST", path, data), content_type="application/json")


@pytest.fixture
def region(app):
    a, b = enrol_node("0356"), enrol_node("0321")
    rnd = rounds.open_round("2024-2025")
    return a, b, rnd.id


# --- enrolment ---------------------------------------------------------------------------------


def test_enrol(client, app):
    token = nodes.register_node("0356", "Nieuwegein")
    key = generate_signing_key()
    body = EnrolmentRequest(token, "0356", public_key_pem(key), "1.0").to_dict()

    response, data = call(client, "POST", "/api/v1/nodes/enrol", json=body)

    assert response.status_code == 201
    assert EnrolmentResponse.from_dict(data) == EnrolmentResponse("0356", "Nieuwegein", key_id(key))
    response, data = call(client, "POST", "/api/v1/nodes/enrol", json=body)
    assert (response.status_code, data["error"]["code"]) == (401, "token_used")


@pytest.mark.parametrize("body", [None, [], {"token": "x"}])
def test_enrol_rejects_malformed_bodies(client, body):
    response, data = call(client, "POST", "/api/v1/nodes/enrol", json=body) if body is not None else call(
        client, "POST", "/api/v1/nodes/enrol", data=b"not json", content_type="application/json"
    )
    assert response.status_code == 400 and data["error"]["code"] == "bad_request"


def test_enrol_wrong_municipality(client, app):
    token = nodes.register_node("0356", "Nieuwegein")
    body = EnrolmentRequest(token, "0321", public_key_pem(generate_signing_key()), "1.0").to_dict()
    response, data = call(client, "POST", "/api/v1/nodes/enrol", json=body)
    assert (response.status_code, data["error"]["code"]) == (403, "wrong_node")


# --- rounds ------------------------------------------------------------------------------------


def test_signed_round_list(client, region):
    a, _, round_id = region
    path = "/api/v1/rounds"
    response, data = call(client, "GET", path + "?status=open", headers=a.headers("GET", path))
    assert response.status_code == 200
    assert [RoundInfo.from_dict(r).id for r in data["rounds"]] == [round_id]


def test_round_list_requires_authentication(client, region):
    response, data = call(client, "GET", "/api/v1/rounds")
    assert (response.status_code, data["error"]["code"]) == (401, "unauthorised")
    a, _, _ = region
    stale = a.headers("GET", "/api/v1/rounds", timestamp=1_000_000)
    response, data = call(client, "GET", "/api/v1/rounds", headers=stale)
    assert (response.status_code, data["error"]["code"]) == (401, "stale_request")


def test_admin_round_list_and_status(client, region, admin_headers):
    a, b, round_id = region
    post_envelope(client, a, round_id, a.envelope())
    response, data = call(client, "GET", "/api/v1/rounds", headers=admin_headers)
    assert [r["id"] for r in data["rounds"]] == [round_id]
    response, data = call(client, "GET", f"/api/v1/rounds/{round_id}", headers=admin_headers)
    assert response.status_code == 200
    assert data["submitted"] == ["0356"] and data["missing"] == ["0321"]
    # The first publication waits for every expected municipality (no release of 0356 alone to subtract).
    assert data["current_release"] is None and data["pending"] is False and data["waiting_for"] == ["0321"]
    assert data["deadline"] is not None and data["held_back"] == [] and data["held_back_reason"] is None
    post_envelope(client, b, round_id, b.envelope())
    _, data = call(client, "GET", f"/api/v1/rounds/{round_id}", headers=admin_headers)
    assert data["missing"] == [] and data["current_release"]["version"] == 1


def test_admin_round_status_lists_the_schools_a_correction_holds_back(client, region, admin_headers):
    from tests.hub.factories import make_partial, with_own_school

    a, b, round_id = region
    late = enrol_node("0307")
    post_envelope(client, a, round_id, a.envelope())
    post_envelope(client, b, round_id, b.envelope())  # the first publication
    post_envelope(client, late, round_id, late.envelope(with_own_school(make_partial("0307"))))  # a correction
    _, data = call(client, "GET", f"/api/v1/rounds/{round_id}", headers=admin_headers)
    assert data["current_release"]["version"] == 2
    assert data["held_back"] == ["09XY00"] and "eerste publicatie van dit schooljaar" in data["held_back_reason"]


def test_round_status_needs_the_admin_token(client, region):
    _, _, round_id = region
    response, data = call(client, "GET", f"/api/v1/rounds/{round_id}", headers={"Authorization": "Bearer wrong"})
    assert (response.status_code, data["error"]["code"]) == (401, "unauthorised")
    response, data = call(client, "GET", "/api/v1/rounds/999", headers={"Authorization": "Bearer wrong"})
    assert response.status_code == 401  # no information about which rounds exist


def test_round_status_takes_a_regio_admins_own_token_and_no_unknown_one(app):
    from hub.services import users
    from tests.hub.conftest import make_app

    other = make_app(ADMIN_TOKEN=None)
    with other.app_context():
        db.create_all()
        response, data = call(other.test_client(), "GET", "/api/v1/rounds", headers={"Authorization": "Bearer x"})
        assert (response.status_code, data["error"]["code"]) == (401, "unauthorised")
        users.add_user("regio@example.nl", "correct-horse-battery-staple", "regio_admin")
        users.add_user("gemeente@example.nl", "correct-horse-battery-staple", "gemeente", "0356")
        regio = users.create_api_token("regio@example.nl")
        gemeente = users.create_api_token("gemeente@example.nl")
        response, data = call(other.test_client(), "GET", "/api/v1/rounds", headers={"Authorization": f"Bearer {regio}"})
        assert response.status_code == 200 and data == {"rounds": []}
        response, data = call(other.test_client(), "GET", "/api/v1/rounds", headers={"Authorization": f"Bearer {gemeente}"})
        assert (response.status_code, data["error"]["code"]) == (403, "forbidden")


# --- submissions -------------------------------------------------------------------------------


def test_submit_accept_duplicate_supersede(client, region):
    a, _, round_id = region
    env = a.envelope()
    response, data = post_envelope(client, a, round_id, env)
    assert response.status_code == 201 and SubmissionReceipt.from_dict(data).status == "accepted"
    response, data = post_envelope(client, a, round_id, env)
    assert response.status_code == 200 and data["status"] == "duplicate"
    response, data = post_envelope(client, a, round_id, a.envelope(scale=2))
    assert response.status_code == 201 and data["supersedes"] is not None
    assert db.session.scalar(select(db.func.count()).select_from(Submission)) == 2


@pytest.mark.parametrize(
    "case, status, code",
    [
        ("garbage", 400, "bad_envelope"),
        ("tampered", 400, "bad_signature"),
        ("foreign_partial", 403, "wrong_node"),
        ("foreign_envelope", 403, "wrong_node"),
        ("closed_round", 409, "round_closed"),
        ("missing_round", 404, "round_not_found"),
        ("wrong_schooljaar", 400, "wrong_schooljaar"),
        ("oversized", 413, "payload_too_large"),
        ("signed_by_other_node", 401, "unknown_key"),
    ],
)
def test_submit_rejections_store_nothing(client, app, region, no_combine, case, status, code):
    a, b, round_id = region
    env = a.envelope()
    sender, target, headers = a, round_id, None
    if case == "garbage":
        env = b"{not json"
    elif case == "tampered":
        import base64
        import json

        obj = json.loads(env)
        obj["payload"] = base64.b64encode(base64.b64decode(obj["payload"]).replace(b"2024-11-01", b"2024-11-02")).decode()
        env = json.dumps(obj).encode()
    elif case == "foreign_partial":
        from shared.signing import sign_partial
        from tests.hub.factories import make_partial

        env = sign_partial(make_partial("0321"), a.key).to_bytes()
    elif case == "foreign_envelope":
        env = b.envelope()
    elif case == "closed_round":
        rounds.close_round(round_id)
    elif case == "missing_round":
        target = 9999
    elif case == "wrong_schooljaar":
        env = a.envelope(schooljaren=("2023-2024",))
    elif case == "oversized":
        app.config["MAX_CONTENT_LENGTH"] = len(env) - 1
    elif case == "signed_by_other_node":
        path = f"/api/v1/rounds/{round_id}/submissions"
        headers = b.headers("POST", path, env)
        headers["X-Jeugdhub-Node"] = "0356"
    before = row_counts()
    path = f"/api/v1/rounds/{target}/submissions"
    response, data = call(
        client, "POST", path, data=env, headers=headers or sender.headers("POST", path, env), content_type="application/json"
    )
    assert (response.status_code, data["error"]["code"]) == (status, code), data
    assert row_counts() == before


def _signed(node, mutate) -> bytes:
    """A partial changed after the shared encoder built it, correctly signed by ``node``."""
    from tests.hub.factories import make_partial, signed_payload

    obj = make_partial(node.code).to_dict()
    mutate(obj)
    return signed_payload(node, obj)[0]


@pytest.mark.parametrize(
    "mutate, code, field",
    [
        (lambda o: o["cells"].append(["03EF00", "2024-2025", "clienten", "", 10**20]), "cell_out_of_range", "cells[12].value"),
        (lambda o: o["quality"]["files"][0].__setitem__("rows_read", "abc"), "bad_quality", "quality.files[0].rows_read"),
        (
            lambda o: o["quality"]["files"][0].__setitem__("rejected", {"<script>alert(1)</script>": "zz"}),
            "bad_quality",
            "quality.files[0].rejected",
        ),
    ],
)
def test_a_signed_but_impossible_partial_is_refused_at_the_door(client, region, no_combine, mutate, code, field):
    a, _, round_id = region
    env = _signed(a, mutate)
    before = row_counts()
    response, data = post_envelope(client, a, round_id, env)
    assert (response.status_code, data["error"]["code"], data["error"]["details"]["field"]) == (400, code, field)
    assert "<script>" not in response.get_data(as_text=True)
    assert row_counts() == before and no_combine == []


def test_round_status_names_a_quarantined_submission(client, region, admin_headers):
    from tests.hub.factories import store_unchecked

    a, b, round_id = region
    store_unchecked(b, round_id, lambda o: o["cells"].append(["03EF00", "2024-2025", "clienten", "", 10**20]))
    post_envelope(client, a, round_id, a.envelope())  # combined in the request: b's submission is set aside
    _, body = call(client, "GET", f"/api/v1/rounds/{round_id}", headers=admin_headers)
    assert body["quarantined"] == ["0321"] and body["pending"] is False and body["current_release"] is not None
    node = next(n for n in body["nodes"] if n["code"] == "0321")
    assert node["submitted"] is True and node["quarantine"]["code"] == "cell_out_of_range"


def test_manual_upload(client, region, admin_headers, no_combine):
    a, _, round_id = region
    form = {"round_id": str(round_id), "file": (io.BytesIO(a.envelope()), "0356-2024-2025.json")}
    response, data = call(client, "POST", "/api/v1/uploads", data=form, headers=admin_headers, content_type="multipart/form-data")
    assert response.status_code == 201 and data["status"] == "accepted"
    assert db.session.scalars(select(Submission)).one().source == "upload"


@pytest.mark.parametrize("form, code", [({"round_id": "x"}, "invalid_input"), ({"round_id": "1"}, "invalid_input")])
def test_manual_upload_needs_round_and_file(client, region, admin_headers, form, code):
    response, data = call(client, "POST", "/api/v1/uploads", data=form, headers=admin_headers, content_type="multipart/form-data")
    assert (response.status_code, data["error"]["code"]) == (400, code)


def test_manual_upload_needs_admin(client, region):
    a, _, round_id = region
    form = {"round_id": str(round_id), "file": (io.BytesIO(a.envelope()), "x.json")}
    before = row_counts()
    response, data = call(client, "POST", "/api/v1/uploads", data=form, content_type="multipart/form-data")
    assert response.status_code == 401 and row_counts() == before


# --- releases ----------------------------------------------------------------------------------


def test_releases_and_cells_never_show_suppressed_values(client, region, admin_headers):
    a, b, round_id = region
    post_envelope(client, a, round_id, a.envelope())
    post_envelope(client, b, round_id, b.envelope())  # the first publication: both municipalities
    post_envelope(client, a, round_id, a.envelope(scale=2))  # a correction: version 2

    _, data = call(client, "GET", "/api/v1/releases?schooljaar=2024-2025", headers=admin_headers)
    assert [r["version"] for r in data["releases"]] == [2, 1]
    assert [r["current"] for r in data["releases"]] == [True, False]
    _, current = call(client, "GET", "/api/v1/releases?current=true", headers=admin_headers)
    assert [r["version"] for r in current["releases"]] == [2]
    first_id = data["releases"][1]["id"]
    _, one = call(client, "GET", f"/api/v1/releases/{first_id}", headers=admin_headers)
    assert one["nodes"] == ["0321", "0356"]
    _, cells = call(client, "GET", f"/api/v1/releases/{first_id}/cells", headers=admin_headers)
    assert len(cells["cells"]) == one["cell_count"]
    suppressed = [c for c in cells["cells"] if c["status"] != "published"]
    assert suppressed and all(c["value"] is None for c in suppressed)
    _, regio = call(client, "GET", f"/api/v1/releases/{first_id}/cells?level=regio&measure=clienten", headers=admin_headers)
    assert {(c["level"], c["unit"], c["measure"]) for c in regio["cells"]} == {("regio", "regio", "clienten")}


def test_release_errors(client, region, admin_headers):
    response, data = call(client, "GET", "/api/v1/releases/42", headers=admin_headers)
    assert (response.status_code, data["error"]["code"]) == (404, "release_not_found")
    response, data = call(client, "GET", "/api/v1/releases?schooljaar=2024", headers=admin_headers)
    assert (response.status_code, data["error"]["code"]) == (400, "invalid_schooljaar")


def test_releases_need_a_region_role(client, region):
    for path in ("/api/v1/releases", "/api/v1/releases/1", "/api/v1/releases/1/cells"):
        response, data = call(client, "GET", path)
        assert (response.status_code, data["error"]["code"]) == (401, "unauthorised")
    response, data = call(client, "GET", "/api/v1/releases", headers={"Authorization": "Bearer not-a-token"})
    assert response.status_code == 401


# --- system ------------------------------------------------------------------------------------


def test_health_and_openapi(client):
    response, data = call(client, "GET", "/api/v1/health")
    assert data == {"status": "ok", "database": "ok", "broker": "eager"}
    response = client.get("/api/v1/openapi.yaml")
    assert response.status_code == 200 and b"openapi: 3.1.0" in response.data


def test_unknown_path_and_wrong_method_use_the_error_shape(client):
    response = client.get("/api/v1/does-not-exist")
    assert response.status_code == 404
    assert set(response.get_json()["error"]) == {"code", "message"} and response.get_json()["error"]["code"] == "not_found"
    response = client.get("/api/v1/nodes/enrol")
    assert (response.status_code, response.get_json()["error"]["code"]) == (405, "method_not_allowed")
    assert "POST" in response.headers["Allow"]


def test_unexpected_error_is_a_500_without_details(client, app, monkeypatch, admin_headers):
    from hub.services import releases

    def boom(*args, **kwargs):
        raise RuntimeError("secret-token-value in /srv/hub/instance")

    monkeypatch.setattr(releases, "list_releases", boom)
    app.config["PROPAGATE_EXCEPTIONS"] = False
    response, data = call(client, "GET", "/api/v1/releases", headers=admin_headers)
    assert response.status_code == 500 and data["error"]["code"] == "internal_error"
    assert b"secret" not in response.data and b"Traceback" not in response.data
