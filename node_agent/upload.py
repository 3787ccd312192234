"""The agent's only network client: enrol with the hub, list open rounds, submit signed partials, and
take part in the overlap exchange (poll for steps, send and fetch blinded sets; docs/overlap.md).

Outbound HTTPS only, and only when a command asks for it (the agent never phones home otherwise).
Every call after enrolment is signed with the node's Ed25519 key (``shared.messages``). Errors::

    JeugdhubError
    ├── ServiceUnavailable   hub not reachable, timeout, 5xx
    ├── AuthError/SignatureError/ForbiddenError   the hub refused the node or its signature
    ├── ConflictError        round closed
    ├── NotFoundError        round or endpoint not found
    └── PayloadError         the hub refused the partial (code says why)

The ``transport`` is injectable: tests use ``httpx.MockTransport`` or ``httpx.WSGITransport``
around the hub app, so the real client code talks to the real hub in-process.
"""

from __future__ import annotations

import base64
import json
import time
from typing import Any

import httpx
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

import shared
from shared.errors import (
    AuthError,
    ConflictError,
    ForbiddenError,
    JeugdhubError,
    NotFoundError,
    PayloadError,
    ServiceUnavailable,
    SignatureError,
)
from shared.messages import (
    HEADER_KEY_ID,
    HEADER_NODE,
    HEADER_SIGNATURE,
    HEADER_TIMESTAMP,
    EnrolmentRequest,
    EnrolmentResponse,
    ExchangePoll,
    ExchangeTask,
    RoundInfo,
    SubmissionReceipt,
    request_signing_bytes,
)
from shared.signing import key_id, public_key_pem

API = "/api/v1"

_BY_STATUS: dict[int, type[JeugdhubError]] = {
    400: PayloadError,
    401: AuthError,
    403: ForbiddenError,
    404: NotFoundError,
    409: ConflictError,
    413: PayloadError,
}


class HubClient:
    def __init__(
        self,
        base_url: str,
        node: str,
        signing_key: Ed25519PrivateKey,
        *,
        transport: httpx.BaseTransport | None = None,
        timeout: float = 60.0,
        clock=time.time,
    ):
        self.base_url = base_url.rstrip("/")
        self.node = node  # the node's code: a gemeentecode, or an SWV code
        self._key = signing_key
        self._key_id = key_id(signing_key)
        self._clock = clock
        self._client = httpx.Client(
            base_url=self.base_url,
            transport=transport,
            timeout=timeout,
            headers={"User-Agent": f"jeugdhub-node-agent/{shared.__version__}"},
        )

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> "HubClient":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    # --- calls --------------------------------------------------------------------------------

    def enrol(self, token: str) -> EnrolmentResponse:
        body = EnrolmentRequest(
            token=token,
            node=self.node,
            public_key_pem=public_key_pem(self._key),
            agent_version=shared.__version__,
        ).to_dict()
        data = json.dumps(body).encode("utf-8")
        request = self._client.build_request(
            "POST", f"{API}/nodes/enrol", content=data, headers={"Content-Type": "application/json"}
        )
        return EnrolmentResponse.from_dict(self._send(request, expect=(200, 201)))

    def open_rounds(self) -> list[RoundInfo]:
        request = self._signed("GET", f"{API}/rounds", params={"status": "open"})
        body = self._send(request, expect=(200,))
        rounds = body.get("rounds") if isinstance(body, dict) else None
        if not isinstance(rounds, list):
            raise PayloadError("De hub gaf een onverwacht antwoord op de vraag naar open rondes", code="bad_response")
        return [RoundInfo.from_dict(r) for r in rounds]

    def submit(self, round_id: int, envelope_bytes: bytes) -> SubmissionReceipt:
        request = self._signed(
            "POST",
            f"{API}/rounds/{int(round_id)}/submissions",
            content=envelope_bytes,
            headers={"Content-Type": "application/json"},
        )
        return SubmissionReceipt.from_dict(self._send(request, expect=(200, 201)))

    def exchanges(self, round_id: int) -> ExchangePoll:
        """This node's overlap exchanges in a round and its next step in each."""
        request = self._signed("GET", f"{API}/rounds/{int(round_id)}/exchanges")
        return ExchangePoll.from_dict(self._send(request, expect=(200,)))

    def send_sets(self, round_id: int, exchange_id: str, step: str, payload: bytes) -> ExchangeTask:
        """Upload blinded (``step`` = ``blinded``) or re-blinded (``reblinded``) sets."""
        if step not in ("blinded", "reblinded"):
            raise ValueError(step)
        request = self._signed("POST", f"{API}/rounds/{int(round_id)}/exchanges/{exchange_id}/{step}",
                               content=payload, headers={"Content-Type": "application/json"})
        return ExchangeTask.from_dict(self._send(request, expect=(200,)))

    def peer_sets(self, round_id: int, exchange_id: str) -> dict[str, Any]:
        """The other party's blinded sets, as JSON (``shared.psi.PsiSets.from_dict`` checks them)."""
        request = self._signed("GET", f"{API}/rounds/{int(round_id)}/exchanges/{exchange_id}/peer")
        return self._send(request, expect=(200,))

    # --- plumbing -----------------------------------------------------------------------------

    def _signed(self, method: str, url: str, *, content: bytes = b"", params=None, headers=None) -> httpx.Request:
        request = self._client.build_request(method, url, content=content, params=params, headers=headers)
        timestamp = int(self._clock())
        signature = self._key.sign(request_signing_bytes(method, request.url.path, timestamp, content))
        request.headers[HEADER_NODE] = self.node
        request.headers[HEADER_KEY_ID] = self._key_id
        request.headers[HEADER_TIMESTAMP] = str(timestamp)
        request.headers[HEADER_SIGNATURE] = base64.b64encode(signature).decode("ascii")
        return request

    def _send(self, request: httpx.Request, expect: tuple[int, ...]) -> Any:
        try:
            response = self._client.send(request)
        except httpx.TimeoutException:
            raise ServiceUnavailable(f"De hub ({self.base_url}) antwoordt niet binnen de tijd", code="hub_timeout") from None
        except httpx.HTTPError as exc:
            raise ServiceUnavailable(
                f"De hub ({self.base_url}) is niet bereikbaar ({type(exc).__name__}). Controleer de url en de "
                "netwerkverbinding, of gebruik 'node-agent run --offline' en lever het bestand handmatig aan.",
                code="hub_unreachable",
            ) from None
        try:
            body = response.json() if response.content else {}
        except (json.JSONDecodeError, UnicodeDecodeError):
            body = None
        if response.status_code in expect and body is not None:
            return body
        error = body.get("error") if isinstance(body, dict) else None
        code = error.get("code") if isinstance(error, dict) else None
        message = error.get("message") if isinstance(error, dict) else None
        status = response.status_code
        text = f"De hub weigerde het verzoek ({status}{', ' + code if code else ''}): {message or 'geen toelichting'}"
        if status >= 500:
            raise ServiceUnavailable(text, code=code or "hub_error")
        if code == "bad_signature":
            raise SignatureError(text, code=code)
        cls = _BY_STATUS.get(status, PayloadError)
        raise cls(text, code=code or "hub_refused", details={"http_status": status})


def client_for(cfg, transport: httpx.BaseTransport | None = None) -> HubClient:
    """The client for the hub of a node's config (``node_agent.config.AgentConfig``)."""
    from node_agent.keys import load_signing_key
    from shared.errors import ConfigError

    if not cfg.hub_url:
        raise ConfigError(f"{cfg.source}: [hub] url is leeg; stel het adres van de hub in.", code="no_hub")
    return HubClient(cfg.hub_url, cfg.node, load_signing_key(cfg.signing_key), transport=transport)
