"""Messages between agent and hub besides the partial itself, with paired converters.

The agent only ever calls the hub (outbound HTTPS); these are the bodies of those calls:

    POST /api/v1/nodes/enrol                 EnrolmentRequest  → EnrolmentResponse
    GET  /api/v1/rounds?status=open          → [RoundInfo]
    POST /api/v1/rounds/<id>/submissions     signed envelope bytes → SubmissionReceipt

An agent authenticates every call after enrolment by signing it (see ``request_signature``): the
hub checks it against the node's enrolled public key, so no bearer secret sits on disk twice.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

from shared.errors import PayloadError

#: HTTP headers an enrolled agent sends.
HEADER_NODE = "X-Jeugdhub-Node"  # gemeentecode
HEADER_KEY_ID = "X-Jeugdhub-Key-Id"
HEADER_TIMESTAMP = "X-Jeugdhub-Timestamp"  # unix seconds
HEADER_SIGNATURE = "X-Jeugdhub-Signature"  # base64 Ed25519 over request_signing_bytes(...)

REQUEST_CONTEXT = b"jeugdhub.request.v1\n"


def request_signing_bytes(method: str, path: str, timestamp: int, body: bytes) -> bytes:
    """What an agent signs for one request: method, path, time and the body's hash."""
    return REQUEST_CONTEXT + "\n".join(
        [method.upper(), path, str(int(timestamp)), hashlib.sha256(body).hexdigest()]
    ).encode("ascii")


def _require(d: dict[str, Any], *names: str) -> None:
    if not isinstance(d, dict):
        raise PayloadError("Verwacht een JSON-object", code="bad_request")
    missing = [n for n in names if n not in d]
    if missing:
        raise PayloadError(f"Ontbrekende velden: {', '.join(missing)}", code="bad_request")


@dataclass(frozen=True)
class EnrolmentRequest:
    token: str  # the one-time enrolment token the region admin handed out
    gemeentecode: str
    public_key_pem: str
    agent_version: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "token": self.token,
            "gemeentecode": self.gemeentecode,
            "public_key_pem": self.public_key_pem,
            "agent_version": self.agent_version,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "EnrolmentRequest":
        _require(d, "token", "gemeentecode", "public_key_pem", "agent_version")
        return cls(str(d["token"]), str(d["gemeentecode"]), str(d["public_key_pem"]), str(d["agent_version"]))


@dataclass(frozen=True)
class EnrolmentResponse:
    gemeentecode: str
    gemeentenaam: str
    key_id: str

    def to_dict(self) -> dict[str, Any]:
        return {"gemeentecode": self.gemeentecode, "gemeentenaam": self.gemeentenaam, "key_id": self.key_id}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "EnrolmentResponse":
        _require(d, "gemeentecode", "gemeentenaam", "key_id")
        return cls(d["gemeentecode"], d["gemeentenaam"], d["key_id"])


@dataclass(frozen=True)
class RoundInfo:
    """A round as a node sees it, with the tables every node of the round counts by.

    ``groupings`` is the hub's groupings table (``shared.groupings.Groupings.to_dict``; None from an
    older hub: the node uses the default), ``consortia`` the region's provider (AGB) → consortium
    table (empty: no consortium cells). Both are code lists, never data about a child.
    """

    id: int
    schooljaar: str
    peildatum: str  # ISO date
    status: str  # open | closed
    submitted: bool = False  # whether the asking node has a current submission
    groupings: dict[str, Any] | None = None
    consortia: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "schooljaar": self.schooljaar,
            "peildatum": self.peildatum,
            "status": self.status,
            "submitted": self.submitted,
            "groupings": self.groupings,
            "consortia": dict(sorted(self.consortia.items())),
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "RoundInfo":
        _require(d, "id", "schooljaar", "peildatum", "status")
        consortia = d.get("consortia") or {}
        if not isinstance(consortia, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in consortia.items()):
            raise PayloadError("consortia moet een object van AGB-code naar consortiumnaam zijn", code="bad_response")
        groupings = d.get("groupings")
        if groupings is not None and not isinstance(groupings, dict):
            raise PayloadError("groupings moet een object zijn", code="bad_response")
        return cls(int(d["id"]), d["schooljaar"], d["peildatum"], d["status"], bool(d.get("submitted", False)),
                   groupings, dict(consortia))


@dataclass(frozen=True)
class SubmissionReceipt:
    submission_id: int
    round_id: int
    digest: str  # sha256 of the partial's payload
    status: str  # accepted | duplicate
    supersedes: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "submission_id": self.submission_id,
            "round_id": self.round_id,
            "digest": self.digest,
            "status": self.status,
            "supersedes": self.supersedes,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "SubmissionReceipt":
        _require(d, "submission_id", "round_id", "digest", "status")
        return cls(int(d["submission_id"]), int(d["round_id"]), d["digest"], d["status"], d.get("supersedes"))
