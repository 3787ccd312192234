"""Nodes: registration with a one-time token, enrolment of public keys, rotation, revocation,
and authentication of an agent's signed requests.

A node is a municipality (kind ``gemeente``, its gemeentecode) or a samenwerkingsverband (kind
``swv``, its SWV code); the code says which (``shared.codes.node_kind``). An SWV is registered only
when the hub's reference data knows it, since its schools are what it may count.

The hub stores only SHA-256 hashes of enrolment tokens and only public keys; it never sees a
pseudonymisation key. Each function owns its transaction.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
from datetime import datetime, timedelta
from typing import Mapping

from cryptography.exceptions import InvalidSignature
from sqlalchemy import func, select

from hub.extensions import db
from hub.models.nodes import NODE_ACTIVE, NODE_REVOKED, EnrolmentToken, Node, NodeKey
from hub.models.reference import Samenwerkingsverband, SwvMembership, Vestiging
from hub.services._util import aware, transaction, utcnow
from shared.codes import NODE_SWV, node_kind, normalise_node_code
from shared.errors import AuthError, ConflictError, ForbiddenError, InputError, NotFoundError
from shared.messages import (
    HEADER_KEY_ID,
    HEADER_NODE,
    HEADER_SIGNATURE,
    HEADER_TIMESTAMP,
    EnrolmentRequest,
    EnrolmentResponse,
    request_signing_bytes,
)
from shared.signing import key_id as compute_key_id
from shared.signing import load_public_key

TOKEN_TTL = timedelta(days=7)


class RequestAuthError(AuthError):
    """A signed request that does not check out (401): the agent must re-sign or re-enrol."""


def _hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _code(code: str) -> str:
    try:
        return normalise_node_code(code)
    except ValueError as exc:
        raise InputError(str(exc), code="invalid_node_code") from None


def kind_label(node: Node) -> str:
    """How a message names the node: "gemeente 0356" or "samenwerkingsverband PO2607"."""
    return f"{'samenwerkingsverband' if node.kind == NODE_SWV else 'gemeente'} {node.code}"


def get_node(code: str) -> Node:
    node = db.session.scalar(select(Node).where(Node.code == _code(code)))
    if node is None:
        raise NotFoundError(f"{code} is geen geregistreerde node (gemeente of samenwerkingsverband)",
                            code="node_not_found")
    return node


def list_nodes() -> list[Node]:
    return list(db.session.scalars(select(Node).order_by(Node.kind, Node.code)))


def swv_schools(swv_code: str) -> list[str]:
    """The vestigingscodes the reference data gives an SWV (its memberships): what its node may count."""
    return sorted(db.session.scalars(select(SwvMembership.vestigingscode).where(SwvMembership.swv_code == swv_code)))


def _issue_token(node: Node, now: datetime) -> str:
    """A fresh token for ``node``; earlier unused tokens of the node stop working."""
    for old in db.session.scalars(
        select(EnrolmentToken).where(
            EnrolmentToken.node_id == node.id, EnrolmentToken.used_at.is_(None), EnrolmentToken.invalidated_at.is_(None)
        )
    ):
        old.invalidated_at = now
    token = secrets.token_urlsafe(32)
    db.session.add(EnrolmentToken(node_id=node.id, token_hash=_hash_token(token), created_at=now, expires_at=now + TOKEN_TTL))
    return token


def gemeente_naam(code: str) -> str | None:
    """The municipality's name as the reference data's school locations give it (the most frequent), in
    the case a name is written in: DUO writes them in capitals (``NIEUWEGEIN``)."""
    row = db.session.execute(
        select(Vestiging.gemeentenaam, func.count().label("n"))
        .where(Vestiging.gemeentecode == code, Vestiging.gemeentenaam.is_not(None), Vestiging.gemeentenaam != "")
        .group_by(Vestiging.gemeentenaam).order_by(func.count().desc(), Vestiging.gemeentenaam).limit(1)
    ).first()
    return written_name(row.gemeentenaam) if row else None


def written_name(name: str) -> str:
    """``NIEUWEGEIN`` → ``Nieuwegein``, ``IJSSELSTEIN`` → ``IJsselstein``, ``'S-HERTOGENBOSCH`` →
    ``'s-Hertogenbosch``, ``BERGEN (NH)`` → ``Bergen (NH)``; a name not all in capitals stays as it is."""
    name = " ".join(name.split())
    if name != name.upper():
        return name
    words = []
    for word in name.split(" "):
        if word.startswith("(") and word.endswith(")"):
            words.append(word)  # (NH), (L.): a province's abbreviation stays
            continue
        # IJ is one letter in Dutch: IJSSELSTEIN → IJsselstein.
        parts = [("IJ" + p[2:].lower()) if p.startswith("IJ") else p[:1].upper() + p[1:].lower()
                 for p in word.split("-")]
        words.append("-".join(parts))
    out = " ".join(words)
    for prefix in ("'S-", "'T "):  # 's-Hertogenbosch, 's-Gravenhage, 't Hoogeland
        if out.upper().startswith(prefix):
            out = prefix.lower() + out[len(prefix):]
    return out


def register_node(code: str, naam: str | None, *, now: datetime | None = None) -> str:
    """Register a municipality or an SWV (or reinstate a revoked one) and return its one-time
    enrolment token. An SWV must be in the reference data; its name defaults to the one there, and a
    municipality's to the name DUO's school files give its code (``gemeente_naam``)."""
    now = now or utcnow()
    code = _code(code)
    kind = node_kind(code)
    naam = (naam or "").strip()
    if kind == NODE_SWV:
        known = db.session.get(Samenwerkingsverband, code)
        if known is None or not swv_schools(code):
            raise InputError(
                f"Samenwerkingsverband {code} staat niet (met scholen) in de referentiedata van de hub; importeer "
                "eerst DUO's bestand met de samenwerkingsverbanden per vestiging (jeugdhub reference import)",
                code="unknown_swv",
            )
        naam = naam or known.naam or ""
    else:
        naam = naam or gemeente_naam(code) or ""
    if not naam:
        raise InputError("Geef de naam van de gemeente op (--naam): de referentiedata van de hub noemt geen school "
                         f"in gemeente {code}", code="invalid_input")
    with transaction():
        node = db.session.scalar(select(Node).where(Node.code == code))
        if node is not None and node.status == NODE_ACTIVE:
            raise ConflictError(
                f"Node {code} is al geregistreerd; gebruik 'jeugdhub node token {code}' voor een nieuw token",
                code="node_exists",
            )
        if node is None:
            node = Node(code=code, kind=kind, naam=naam, status=NODE_ACTIVE, created_at=now)
            db.session.add(node)
            db.session.flush()
        else:  # reinstating: old keys stay inactive, the node enrols a new one
            node.status, node.naam, node.revoked_at = NODE_ACTIVE, naam, None
        token = _issue_token(node, now)
    return token


def issue_token(code: str, *, now: datetime | None = None) -> str:
    """A new one-time token for an existing node (lost or expired token); invalidates the old one."""
    now = now or utcnow()
    with transaction():
        node = get_node(code)
        if node.status != NODE_ACTIVE:
            raise ForbiddenError(f"Node {node.code} is ingetrokken", code="node_revoked")
        token = _issue_token(node, now)
    return token


def rotate_key(code: str, *, now: datetime | None = None) -> str:
    """Start a key rotation: a token with which the enrolled node enrols a new key (the old one is
    deactivated at that moment, so the node keeps working until it has switched)."""
    node = get_node(code)
    if node.active_key is None:
        raise ConflictError(
            f"Node {node.code} heeft nog geen actieve sleutel; gebruik 'jeugdhub node token'",
            code="node_not_enrolled",
        )
    return issue_token(code, now=now)


def enrol(request: EnrolmentRequest, *, now: datetime | None = None) -> EnrolmentResponse:
    """Accept a node's public key in exchange for its one-time token."""
    now = now or utcnow()
    with transaction():
        token = db.session.scalar(select(EnrolmentToken).where(EnrolmentToken.token_hash == _hash_token(request.token)))
        if token is None or token.invalidated_at is not None:
            raise AuthError("Het inschrijftoken is onbekend of vervangen door een nieuwer token", code="invalid_token")
        if token.used_at is not None:
            raise AuthError("Het inschrijftoken is al gebruikt; vraag de beheerder om een nieuw token", code="token_used")
        if aware(token.expires_at) <= now:
            raise AuthError("Het inschrijftoken is verlopen; vraag de beheerder om een nieuw token", code="token_expired")
        node = token.node
        try:
            claimed = normalise_node_code(request.node)
        except ValueError:
            claimed = None
        if claimed != node.code:
            raise ForbiddenError("Dit token hoort bij een andere node (gemeente of samenwerkingsverband)",
                                 code="wrong_node")
        if node.status != NODE_ACTIVE:
            raise ForbiddenError(f"Node {node.code} is ingetrokken", code="node_revoked")
        public_key = load_public_key(request.public_key_pem)
        kid = compute_key_id(public_key)
        if db.session.scalar(select(NodeKey.id).where(NodeKey.key_id == kid)) is not None:
            raise ConflictError("Deze sleutel is al eens ingeschreven; maak een nieuwe sleutel", code="key_exists")
        for old in node.keys:
            if old.active:
                old.active, old.revoked_at = False, now
        db.session.add(
            NodeKey(
                node_id=node.id,
                key_id=kid,
                public_key_pem=request.public_key_pem.strip() + "\n",
                agent_version=request.agent_version[:64],
                active=True,
                created_at=now,
            )
        )
        token.used_at = now
    return EnrolmentResponse(node=node.code, naam=node.naam, key_id=kid)


def revoke_node(code: str, *, now: datetime | None = None) -> Node:
    """Stop accepting anything from a node: its keys and open tokens are deactivated."""
    now = now or utcnow()
    with transaction():
        node = get_node(code)
        node.status, node.revoked_at = NODE_REVOKED, now
        for key in node.keys:
            if key.active:
                key.active, key.revoked_at = False, now
        for token in db.session.scalars(
            select(EnrolmentToken).where(EnrolmentToken.node_id == node.id, EnrolmentToken.used_at.is_(None))
        ):
            token.invalidated_at = token.invalidated_at or now
    return node


def revoke_key(key_id: str, *, now: datetime | None = None) -> NodeKey:
    """Deactivate one key (e.g. a lost laptop); the node stays registered and enrols a new key."""
    now = now or utcnow()
    with transaction():
        key = db.session.scalar(select(NodeKey).where(NodeKey.key_id == key_id.strip().lower()))
        if key is None:
            raise NotFoundError(f"Sleutel {key_id} is onbekend", code="unknown_key")
        if key.active:
            key.active, key.revoked_at = False, now
    return key


def authenticate_request(
    headers: Mapping[str, str], method: str, path: str, body: bytes, *, max_skew: int, now: datetime | None = None
) -> Node:
    """Check an agent's signed request (shared/messages.py) and return its node. Read-only."""
    now = now or utcnow()
    names = (HEADER_NODE, HEADER_KEY_ID, HEADER_TIMESTAMP, HEADER_SIGNATURE)
    values = {name: headers.get(name) for name in names}
    missing = [name for name, value in values.items() if not value]
    if missing:
        raise RequestAuthError(f"Ondertekende aanvraag verwacht; ontbrekende headers: {', '.join(missing)}", code="unauthorised")
    try:
        timestamp = int(values[HEADER_TIMESTAMP])
    except ValueError:
        raise RequestAuthError("De tijdstempel van de aanvraag is geen getal", code="stale_request") from None
    if abs(now.timestamp() - timestamp) > max_skew:
        raise RequestAuthError(
            f"De aanvraag is te oud of de klok loopt meer dan {max_skew} seconden af", code="stale_request"
        )
    try:
        code = normalise_node_code(values[HEADER_NODE])
    except ValueError:
        raise RequestAuthError("De node-header is geen gemeentecode en geen SWV-code", code="node_not_enrolled") from None
    node = db.session.scalar(select(Node).where(Node.code == code))
    if node is None:
        raise RequestAuthError(f"{code} is niet als node ingeschreven", code="node_not_enrolled")
    if node.status != NODE_ACTIVE:
        raise ForbiddenError(f"Node {code} is ingetrokken", code="node_revoked")
    key = next((k for k in node.keys if k.key_id == values[HEADER_KEY_ID]), None)
    if key is None:
        raise RequestAuthError("De sleutel van de aanvraag is onbekend bij deze node", code="unknown_key")
    if not key.active:
        raise RequestAuthError("De sleutel van de aanvraag is ingetrokken of vervangen; schrijf opnieuw in", code="unknown_key")
    try:
        signature = base64.b64decode(values[HEADER_SIGNATURE], validate=True)
    except (binascii.Error, ValueError):
        raise RequestAuthError("De handtekening van de aanvraag is geen base64", code="bad_signature") from None
    message = request_signing_bytes(method, path, timestamp, body)
    try:
        load_public_key(key.public_key_pem).verify(signature, message)
    except InvalidSignature:
        raise RequestAuthError("De handtekening van de aanvraag klopt niet", code="bad_signature") from None
    return node


def token_matches(token: str, expected: str) -> bool:
    """Constant-time comparison for bearer tokens."""
    return hmac.compare_digest(token.encode("utf-8"), expected.encode("utf-8"))
