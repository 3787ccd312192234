"""Messages between agent and hub besides the partial itself, with paired converters.

The agent only ever calls the hub (outbound HTTPS); these are the bodies of those calls:

    POST /api/v1/nodes/enrol                 EnrolmentRequest  → EnrolmentResponse
    GET  /api/v1/rounds?status=open          → [RoundInfo]
    POST /api/v1/rounds/<id>/submissions     signed envelope bytes → SubmissionReceipt
    GET  /api/v1/rounds/<id>/exchanges       → ExchangePoll (the node's overlap steps, docs/overlap.md)
    POST …/exchanges/<exchange_id>/blinded   shared.psi payload bytes → ExchangeTask
    GET  …/exchanges/<exchange_id>/peer      → the peer's blinded payload bytes
    POST …/exchanges/<exchange_id>/reblinded shared.psi payload bytes → ExchangeTask

An agent authenticates every call after enrolment by signing it (see ``request_signature``): the
hub checks it against the node's enrolled public key, so no bearer secret sits on disk twice.

A node is a municipality, named by its ``gemeentecode`` (``0356``), or an SWV, named by its
``swv_code`` (``PO2607``); the enrolment messages carry the field of the node's kind, so a
municipality's messages are what they always were.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

from shared.codes import NODE_GEMEENTE, NODE_SWV, is_vestigingscode, node_kind
from shared.errors import PayloadError

#: HTTP headers an enrolled agent sends.
HEADER_NODE = "X-Jeugdhub-Node"  # the node's code: a gemeentecode, or an SWV code
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


#: The field that names a node, per kind (the partial's header uses the same two names).
NODE_FIELDS = {NODE_GEMEENTE: "gemeentecode", NODE_SWV: "swv_code"}


def _kind_of(code: str) -> str:
    try:
        return node_kind(code)
    except ValueError:
        return NODE_GEMEENTE  # the receiver refuses the code itself, with its own message


def _named_node(d: dict[str, Any]) -> str:
    named = [name for name in NODE_FIELDS.values() if name in d]
    if len(named) != 1:
        raise PayloadError("Noem de node met precies één van gemeentecode en swv_code", code="bad_request")
    return str(d[named[0]])


@dataclass(frozen=True)
class EnrolmentRequest:
    token: str  # the one-time enrolment token the region admin handed out
    node: str  # the node's code: a gemeentecode, or an SWV code
    public_key_pem: str
    agent_version: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "token": self.token,
            NODE_FIELDS[_kind_of(self.node)]: self.node,
            "public_key_pem": self.public_key_pem,
            "agent_version": self.agent_version,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "EnrolmentRequest":
        _require(d, "token", "public_key_pem", "agent_version")
        return cls(str(d["token"]), _named_node(d), str(d["public_key_pem"]), str(d["agent_version"]))


@dataclass(frozen=True)
class EnrolmentResponse:
    node: str  # the node's code as the hub registered it
    naam: str  # the municipality's or SWV's name
    key_id: str

    def to_dict(self) -> dict[str, Any]:
        kind = _kind_of(self.node)
        name_field = "gemeentenaam" if kind == NODE_GEMEENTE else "naam"
        return {NODE_FIELDS[kind]: self.node, name_field: self.naam, "key_id": self.key_id}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "EnrolmentResponse":
        _require(d, "key_id")
        node = _named_node(d)
        name_field = "gemeentenaam" if "gemeentecode" in d else "naam"
        _require(d, name_field)
        return cls(node, d[name_field], d["key_id"])


@dataclass(frozen=True)
class RoundInfo:
    """A round as a node sees it, with the tables every node of the round counts by.

    ``groupings`` is the hub's groupings table (``shared.groupings.Groupings.to_dict``; None from an
    older hub: the node uses the default), ``consortia`` the region's provider (AGB) → consortium
    table (empty: no consortium cells). Both are code lists, never data about a child. ``schools``,
    only for an SWV node, are the vestigingscodes the hub's DUO reference data gives that SWV: the
    agent counts exactly those (a total for each, 0 included) and excludes rows at other schools.
    """

    id: int
    schooljaar: str
    peildatum: str  # ISO date
    status: str  # open | closed
    submitted: bool = False  # whether the asking node has a current submission
    groupings: dict[str, Any] | None = None
    consortia: dict[str, str] = field(default_factory=dict)
    schools: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        d = {
            "id": self.id,
            "schooljaar": self.schooljaar,
            "peildatum": self.peildatum,
            "status": self.status,
            "submitted": self.submitted,
            "groupings": self.groupings,
            "consortia": dict(sorted(self.consortia.items())),
        }
        if self.schools:  # absent for a municipality: its rounds read as before
            d["schools"] = sorted(self.schools)
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "RoundInfo":
        _require(d, "id", "schooljaar", "peildatum", "status")
        consortia = d.get("consortia") or {}
        if not isinstance(consortia, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in consortia.items()):
            raise PayloadError("consortia moet een object van AGB-code naar consortiumnaam zijn", code="bad_response")
        groupings = d.get("groupings")
        if groupings is not None and not isinstance(groupings, dict):
            raise PayloadError("groupings moet een object zijn", code="bad_response")
        schools = d.get("schools") or []
        if not isinstance(schools, list) or not all(isinstance(c, str) and is_vestigingscode(c) for c in schools):
            raise PayloadError("schools moet een lijst van vestigingscodes zijn", code="bad_response")
        return cls(int(d["id"]), d["schooljaar"], d["peildatum"], d["status"], bool(d.get("submitted", False)),
                   groupings, dict(consortia), tuple(sorted(set(schools))))


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


#: A node's next step in an overlap exchange (docs/overlap.md): blind its own set, re-blind the
#: peer's, wait for the peer, or nothing more (counted, or closed without a count).
STEP_BLIND, STEP_REBLIND, STEP_WAIT, STEP_DONE, STEP_CLOSED = "blind", "reblind", "wait", "done", "closed"
EXCHANGE_STEPS = (STEP_BLIND, STEP_REBLIND, STEP_WAIT, STEP_DONE, STEP_CLOSED)


@dataclass(frozen=True)
class ExchangeTask:
    """One exchange as one of its nodes sees it: the protocol's exchange (region, round, id, both
    parties), the node's own submission whose population its sets must be, its step, and for
    ``blind`` the schools to send sets for (the municipality: the SWV's schools; the SWV: the
    schools the municipality sent). ``status`` is the Dutch line the round status shows."""

    exchange: dict[str, Any]  # shared.psi.Exchange.to_dict()
    submission_id: int
    step: str
    schools: tuple[str, ...] = ()
    min_set_size: int = 10
    pad_block: int = 16
    status: str = ""

    @property
    def exchange_id(self) -> str:
        return str(self.exchange["exchange_id"])

    def to_dict(self) -> dict[str, Any]:
        return {
            "exchange": dict(self.exchange),
            "submission_id": self.submission_id,
            "step": self.step,
            "schools": list(self.schools),
            "min_set_size": self.min_set_size,
            "pad_block": self.pad_block,
            "status": self.status,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "ExchangeTask":
        _require(d, "exchange", "submission_id", "step", "schools", "min_set_size", "pad_block")
        if d["step"] not in EXCHANGE_STEPS:
            raise PayloadError(f"Onbekende stap '{d['step']}' van een uitwisseling", code="bad_response")
        schools = d["schools"]
        if not isinstance(schools, list) or not all(isinstance(s, str) and is_vestigingscode(s) for s in schools):
            raise PayloadError("De scholen van een uitwisseling zijn vestigingscodes", code="bad_response")
        if not isinstance(d["exchange"], dict):
            raise PayloadError("De uitwisseling is een object", code="bad_response")
        return cls(dict(d["exchange"]), int(d["submission_id"]), d["step"], tuple(schools), int(d["min_set_size"]),
                   int(d["pad_block"]), str(d.get("status") or ""))


@dataclass(frozen=True)
class ExchangePoll:
    """The answer to a node's poll: its exchanges in the round, and the peers whose submission the
    round still waits for (their exchanges start when it arrives)."""

    round_id: int
    round_open: bool
    tasks: tuple[ExchangeTask, ...] = ()
    waiting_for: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"round_id": self.round_id, "round_open": self.round_open,
                "exchanges": [t.to_dict() for t in self.tasks], "waiting_for": list(self.waiting_for)}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "ExchangePoll":
        _require(d, "round_id", "round_open", "exchanges", "waiting_for")
        if not isinstance(d["exchanges"], list) or not isinstance(d["waiting_for"], list):
            raise PayloadError("Onverwacht antwoord op de vraag naar uitwisselingen", code="bad_response")
        return cls(int(d["round_id"]), bool(d["round_open"]), tuple(ExchangeTask.from_dict(t) for t in d["exchanges"]),
                   tuple(str(c) for c in d["waiting_for"]))
