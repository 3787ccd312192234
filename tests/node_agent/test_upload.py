"""The hub client: what goes over the wire (checked with httpx.MockTransport)."""

from __future__ import annotations

import base64
import json

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from node_agent.upload import HubClient
from shared.errors import ConflictError, PayloadError, ServiceUnavailable, SignatureError
from shared.messages import (
    HEADER_KEY_ID,
    HEADER_NODE,
    HEADER_SIGNATURE,
    HEADER_TIMESTAMP,
    EnrolmentRequest,
    request_signing_bytes,
)
from shared.signing import key_id, load_public_key

KEY = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
NOW = 1_750_000_000


def verify_signed(request: httpx.Request) -> None:
    assert request.headers[HEADER_NODE] == "0356"
    assert request.headers[HEADER_KEY_ID] == key_id(KEY)
    assert request.headers[HEADER_TIMESTAMP] == str(NOW)
    message = request_signing_bytes(request.method, request.url.path, NOW, request.content)
    KEY.public_key().verify(base64.b64decode(request.headers[HEADER_SIGNATURE]), message)


def client(handler, base="https://hub.example.nl/jeugdhub") -> HubClient:
    return HubClient(base, "0356", KEY, transport=httpx.MockTransport(handler), clock=lambda: NOW)


def test_submit_sends_the_envelope_bytes_signed():
    seen = {}

    def handler(request: httpx.Request) -> httpx.Response:
        seen["request"] = request
        return httpx.Response(201, json={"submission_id": 7, "round_id": 3, "digest": "d" * 64, "status": "accepted"})

    body = b'{"format":"jeugdhub.signed-partial"}'
    receipt = client(handler).submit(3, body)
    request = seen["request"]
    assert request.method == "POST"
    assert request.url.path == "/jeugdhub/api/v1/rounds/3/submissions"
    assert request.content == body
    assert request.headers["content-type"] == "application/json"
    verify_signed(request)
    assert receipt.submission_id == 7 and receipt.status == "accepted"


def test_open_rounds_signs_the_path_without_query():
    def handler(request: httpx.Request) -> httpx.Response:
        assert request.url.params["status"] == "open"
        verify_signed(request)
        return httpx.Response(200, json={"rounds": [{"id": 3, "schooljaar": "2024-2025", "peildatum": "2024-10-01",
                                                     "status": "open"}]})

    rounds = client(handler).open_rounds()
    assert [(r.id, r.schooljaar) for r in rounds] == [(3, "2024-2025")]


def test_enrol_sends_the_public_key_and_never_the_pseudonym_key():
    def handler(request: httpx.Request) -> httpx.Response:
        req = EnrolmentRequest.from_dict(json.loads(request.content))
        assert req.token == "tok" and req.node == "0356"
        assert key_id(load_public_key(req.public_key_pem)) == key_id(KEY)
        assert set(json.loads(request.content)) == {"token", "gemeentecode", "public_key_pem", "agent_version"}
        return httpx.Response(201, json={"gemeentecode": "0356", "gemeentenaam": "Nieuwegein", "key_id": key_id(KEY)})

    assert client(handler).enrol("tok").naam == "Nieuwegein"


@pytest.mark.parametrize(
    "status,code,exc",
    [(409, "round_closed", ConflictError), (400, "bad_signature", SignatureError), (400, "wrong_node", PayloadError),
     (503, "unavailable", ServiceUnavailable)],
)
def test_hub_errors_keep_their_code(status, code, exc):
    def handler(request):
        return httpx.Response(status, json={"error": {"code": code, "message": "nee"}})

    with pytest.raises(exc) as err:
        client(handler).submit(1, b"{}")
    assert err.value.code == code


def test_unreachable_hub():
    def handler(request):
        raise httpx.ConnectError("refused")

    with pytest.raises(ServiceUnavailable, match="niet bereikbaar"):
        client(handler).open_rounds()
