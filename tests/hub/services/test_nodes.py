"""Node registration, enrolment, rotation, revocation and signed-request authentication."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from sqlalchemy import select

from hub.extensions import db
from hub.models.nodes import EnrolmentToken, NodeKey
from hub.services import nodes
from hub.services._util import utcnow
from shared.errors import AuthError, ConflictError, ForbiddenError, InputError, JeugdhubError
from shared.messages import EnrolmentRequest
from shared.signing import generate_signing_key, key_id, public_key_pem
from tests.hub.conftest import row_counts
from tests.hub.factories import SWV_CODE, add_swv, enrol_node, signed_headers

MAX_SKEW = 300


def _request(token: str, code: str = "0356", key=None) -> EnrolmentRequest:
    key = key or generate_signing_key()
    return EnrolmentRequest(token, code, public_key_pem(key), "1.0")


def test_register_returns_token_stored_only_as_hash(app):
    token = nodes.register_node("356", "Nieuwegein")

    stored = db.session.scalars(select(EnrolmentToken)).one()
    assert len(token) >= 40
    assert stored.token_hash != token and token not in stored.token_hash
    assert nodes.get_node("0356").naam == "Nieuwegein"


def test_a_municipality_s_name_defaults_to_the_reference_data_in_its_written_case(app):
    from hub.models.reference import Vestiging

    with db.session.begin():
        db.session.add_all([Vestiging(vestigingscode=code, instellingscode=code[:4], gemeentecode=gem, gemeentenaam=naam)
                            for code, gem, naam in (("01AA00", "0353", "IJSSELSTEIN"), ("02BB00", "0353", "IJSSELSTEIN"),
                                                    ("03CC00", "0353", "IJsselstein (oud)"), ("04DD00", "0796", "'S-HERTOGENBOSCH"))])
    nodes.register_node("353", None)
    nodes.register_node("0796", "")
    assert nodes.get_node("0353").naam == "IJsselstein"  # the most frequent spelling
    assert nodes.get_node("0796").naam == "'s-Hertogenbosch"
    nodes.register_node("0356", "Gemeente Nieuwegein")  # a given name wins
    assert nodes.get_node("0356").naam == "Gemeente Nieuwegein"
    with pytest.raises(InputError) as err:
        nodes.register_node("0344", None)  # no school of 0344 in the reference data
    assert err.value.code == "invalid_input" and "--naam" in str(err.value) and "0344" in str(err.value)
    assert nodes.written_name("BERGEN (NH)") == "Bergen (NH)" and nodes.written_name("SÚDWEST-FRYSLÂN") == "Súdwest-Fryslân"


def test_register_twice_is_a_conflict(app):
    nodes.register_node("0356", "Nieuwegein")
    with pytest.raises(ConflictError) as err:
        nodes.register_node("0356", "Nieuwegein")
    assert err.value.code == "node_exists"


@pytest.mark.parametrize("code", ["abc", "12345", ""])
def test_register_rejects_bad_gemeentecode(app, code):
    with pytest.raises(InputError) as err:
        nodes.register_node(code, "X")
    assert err.value.code == "invalid_node_code"


def test_enrol_activates_key_and_uses_token_once(app):
    token = nodes.register_node("0356", "Nieuwegein")
    key = generate_signing_key()

    response = nodes.enrol(_request(token, key=key))

    assert response.key_id == key_id(key) and response.naam == "Nieuwegein"
    assert nodes.get_node("0356").active_key.key_id == key_id(key)
    with pytest.raises(AuthError) as err:
        nodes.enrol(_request(token))
    assert err.value.code == "token_used"


def test_expired_token_is_refused(app):
    token = nodes.register_node("0356", "Nieuwegein")
    before = row_counts()
    with pytest.raises(AuthError) as err:
        nodes.enrol(_request(token), now=utcnow() + timedelta(days=7, seconds=1))
    assert err.value.code == "token_expired"
    assert row_counts() == before
    assert nodes.get_node("0356").active_key is None


def test_token_for_another_municipality_is_refused(app):
    token = nodes.register_node("0356", "Nieuwegein")
    with pytest.raises(ForbiddenError) as err:
        nodes.enrol(_request(token, code="0321"))
    assert err.value.code == "wrong_node"
    # The token is not spent by a failed attempt.
    nodes.enrol(_request(token, code="0356"))


def test_unknown_token_is_refused(app):
    nodes.register_node("0356", "Nieuwegein")
    with pytest.raises(AuthError) as err:
        nodes.enrol(_request("not-a-token"))
    assert err.value.code == "invalid_token"


def test_reissued_token_invalidates_the_old_one(app):
    old = nodes.register_node("0356", "Nieuwegein")
    new = nodes.issue_token("0356")
    with pytest.raises(AuthError) as err:
        nodes.enrol(_request(old))
    assert err.value.code == "invalid_token"
    nodes.enrol(_request(new))


def test_bad_public_key_is_refused(app):
    token = nodes.register_node("0356", "Nieuwegein")
    with pytest.raises(JeugdhubError) as err:
        nodes.enrol(EnrolmentRequest(token, "0356", "-----BEGIN PUBLIC KEY-----\nnope\n-----END PUBLIC KEY-----", "1"))
    assert err.value.code == "bad_public_key"


def test_same_key_cannot_be_enrolled_twice(app):
    key = generate_signing_key()
    nodes.enrol(_request(nodes.register_node("0356", "Nieuwegein"), key=key))
    with pytest.raises(ConflictError) as err:
        nodes.enrol(_request(nodes.register_node("0321", "Houten"), code="0321", key=key))
    assert err.value.code == "key_exists"


def test_rotation_deactivates_the_old_key(app):
    node = enrol_node("0356")
    token = nodes.rotate_key("0356")
    new_key = generate_signing_key()

    nodes.enrol(_request(token, key=new_key))

    keys = db.session.scalars(select(NodeKey).order_by(NodeKey.id)).all()
    assert [(k.key_id, k.active) for k in keys] == [(node.key_id, False), (key_id(new_key), True)]
    headers = signed_headers("0356", node.key, "GET", "/api/v1/rounds")
    with pytest.raises(AuthError) as err:
        nodes.authenticate_request(headers, "GET", "/api/v1/rounds", b"", max_skew=MAX_SKEW)
    assert err.value.code == "unknown_key"


def test_rotate_needs_an_enrolled_node(app):
    nodes.register_node("0356", "Nieuwegein")
    with pytest.raises(ConflictError) as err:
        nodes.rotate_key("0356")
    assert err.value.code == "node_not_enrolled"


def test_authenticate_accepts_a_fresh_signed_request(app):
    node = enrol_node("0356")
    body = b'{"x": 1}'
    headers = node.headers("POST", "/api/v1/rounds/1/submissions", body)
    assert nodes.authenticate_request(headers, "POST", "/api/v1/rounds/1/submissions", body, max_skew=MAX_SKEW).code == "0356"


def _auth_code(headers, method="GET", path="/api/v1/rounds", body=b""):
    with pytest.raises(AuthError) as err:
        nodes.authenticate_request(headers, method, path, body, max_skew=MAX_SKEW)
    return err.value.code


def test_authenticate_refuses_stale_and_future_requests(app):
    node = enrol_node("0356")
    assert _auth_code(node.headers("GET", "/api/v1/rounds", timestamp=int(time.time()) - MAX_SKEW - 5)) == "stale_request"
    assert _auth_code(node.headers("GET", "/api/v1/rounds", timestamp=int(time.time()) + MAX_SKEW + 5)) == "stale_request"


def test_authenticate_refuses_a_signature_by_another_key(app):
    node = enrol_node("0356")
    intruder = generate_signing_key()
    headers = signed_headers("0356", intruder, "GET", "/api/v1/rounds")
    headers["X-Jeugdhub-Key-Id"] = node.key_id  # claims the real key id
    assert _auth_code(headers) == "bad_signature"


def test_authenticate_refuses_another_nodes_key(app):
    enrol_node("0356")
    other = enrol_node("0321")
    headers = signed_headers("0356", other.key, "GET", "/api/v1/rounds")  # 0321's key, claims 0356
    assert _auth_code(headers) == "unknown_key"


def test_authenticate_binds_method_path_and_body(app):
    node = enrol_node("0356")
    headers = node.headers("POST", "/api/v1/rounds/1/submissions", b"original")
    assert _auth_code(headers, "POST", "/api/v1/rounds/1/submissions", b"tampered") == "bad_signature"
    assert _auth_code(headers, "POST", "/api/v1/rounds/2/submissions", b"original") == "bad_signature"


def test_authenticate_refuses_missing_headers_and_unknown_node(app):
    node = enrol_node("0356")
    assert _auth_code({}) == "unauthorised"
    headers = node.headers("GET", "/api/v1/rounds")
    headers["X-Jeugdhub-Node"] = "0999"
    assert _auth_code(headers) == "node_not_enrolled"


def test_revoked_node_and_revoked_key_are_refused(app):
    a = enrol_node("0356")
    b = enrol_node("0321")
    nodes.revoke_node("0356")
    with pytest.raises(ForbiddenError) as err:
        nodes.authenticate_request(a.headers("GET", "/api/v1/rounds"), "GET", "/api/v1/rounds", b"", max_skew=MAX_SKEW)
    assert err.value.code == "node_revoked"
    nodes.revoke_key(b.key_id)
    assert _auth_code(b.headers("GET", "/api/v1/rounds")) == "unknown_key"


def test_revoked_node_can_be_reinstated_with_a_new_key(app):
    old = enrol_node("0356")
    nodes.revoke_node("0356")
    with pytest.raises(ForbiddenError):
        nodes.issue_token("0356")
    token = nodes.register_node("0356", "Nieuwegein")
    new_key = generate_signing_key()
    nodes.enrol(_request(token, key=new_key))
    assert nodes.get_node("0356").active_key.key_id == key_id(new_key) != old.key_id


# --- a samenwerkingsverband as a node ---------------------------------------------------------------


def test_an_swv_known_to_the_reference_data_registers_enrols_and_signs_as_an_swv_node(app):
    add_swv()
    token = nodes.register_node("po-26-07", None)  # its name comes from the reference data
    node = nodes.get_node(SWV_CODE)
    assert (node.code, node.kind, node.naam) == ("PO2607", "swv", "SWV PO Lekstroom (test)")
    key = generate_signing_key()
    response = nodes.enrol(_request(token, "PO2607", key))
    assert response.node == "PO2607" and response.to_dict()["swv_code"] == "PO2607"
    body = b"{}"
    headers = signed_headers("PO2607", key, "POST", "/api/v1/rounds/1/submissions", body)
    assert nodes.authenticate_request(headers, "POST", "/api/v1/rounds/1/submissions", body, max_skew=MAX_SKEW).kind == "swv"
    assert nodes.kind_label(node) == "samenwerkingsverband PO2607"


def test_an_swv_the_hub_does_not_know_is_refused_and_nothing_is_stored(app):
    before = row_counts()
    with pytest.raises(InputError) as err:
        nodes.register_node("PO2699", "Onbekend SWV")
    assert err.value.code == "unknown_swv" and row_counts() == before


def test_an_swv_token_does_not_enrol_a_municipality_nor_the_reverse(app):
    add_swv()
    swv_token = nodes.register_node(SWV_CODE, None)
    with pytest.raises(ForbiddenError) as err:
        nodes.enrol(_request(swv_token, "0356"))
    assert err.value.code == "wrong_node"
    gemeente_token = nodes.register_node("0356", "Nieuwegein")
    with pytest.raises(ForbiddenError):
        nodes.enrol(_request(gemeente_token, SWV_CODE))


def test_swv_schools_are_its_memberships(app):
    add_swv(schools=("01AB00", "02CD00"))
    add_swv("VO2607", schools=("02CD00", "09ZZ00"), naam="SWV VO")
    assert nodes.swv_schools("PO2607") == ["01AB00", "02CD00"] and nodes.swv_schools("VO2607") == ["02CD00", "09ZZ00"]
