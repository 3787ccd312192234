"""Receiving signed partials: every check runs before anything is stored; then one commit, then
the combine task is enqueued.

Order of checks: round exists and is open → size → envelope → key belongs to the (active) node →
signature → schema and cells (types and plausibility, and the measures the sender's kind may send,
shared/partial.py) → the partial's sender (gemeentecode, or swv_code) is the node → an SWV's cells
only at its own schools (the reference data's memberships: ``school_outside_swv``) → round's
schooljaar (and its peildatum) in the partial. The same envelope bytes again
answer ``duplicate``; a different partial from the same node supersedes the earlier one, which
stays stored for audit. A current submission the combine cannot use is quarantined there
(hub.services.combine) and left out of :func:`usable_submissions`. The partial's provider names are
stored with it for the codes that have a provider cell in the round's school year
(:func:`round_provider_names`); the pages pick a name per provider from them (hub.services.indicators).
"""

from __future__ import annotations

import hashlib
import logging
from datetime import datetime

from flask import current_app
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from hub import jobs
from hub.extensions import db
from hub.models.nodes import NODE_ACTIVE, Node, NodeKey
from hub.models.rounds import ROUND_OPEN
from hub.models.submissions import SUBMISSION_CURRENT, SUBMISSION_SUPERSEDED, Submission
from hub.services._util import utcnow
from hub.services import exchange
from hub.services.nodes import swv_schools
from hub.services.rounds import get_round
from shared.codes import NODE_SWV
from shared.errors import ConflictError, ForbiddenError, PayloadError, PayloadFieldError, PayloadTooLarge, SignatureError
from shared.messages import SubmissionReceipt
from shared.codes import CLIENTEN_AANBIEDER
from shared.partial import Partial
from shared.signing import SignedEnvelope, load_public_key

log = logging.getLogger(__name__)

ACCEPTED = "accepted"
DUPLICATE = "duplicate"


def max_envelope_bytes() -> int:
    return int(current_app.config.get("SUBMISSION_MAX_BYTES") or current_app.config["MAX_CONTENT_LENGTH"])


def _resolve_key(envelope: SignedEnvelope, node: Node | None) -> tuple[Node, NodeKey]:
    key = db.session.scalar(select(NodeKey).where(NodeKey.key_id == envelope.key_id))
    if key is None:
        raise SignatureError("Het bestand is ondertekend met een onbekende sleutel", code="unknown_key")
    if node is not None and key.node_id != node.id:
        raise ForbiddenError("Het bestand is ondertekend met de sleutel van een andere gemeente", code="wrong_node")
    owner = key.node
    if owner.status != NODE_ACTIVE:
        raise ForbiddenError(f"Node {owner.code} is ingetrokken", code="node_revoked")
    if not key.active:
        raise SignatureError(
            "Het bestand is ondertekend met een ingetrokken of vervangen sleutel; onderteken opnieuw", code="unknown_key"
        )
    return owner, key


def verify_envelope(
    round_id: int, envelope_bytes: bytes, node: Node | None = None
) -> tuple[Node, NodeKey, SignedEnvelope, Partial]:
    """Every check, no writes. ``node`` is the authenticated sender (None for an admin's manual upload)."""
    rnd = get_round(round_id)
    if rnd.status != ROUND_OPEN:
        raise ConflictError(f"Ronde {round_id} is gesloten", code="round_closed")
    limit = max_envelope_bytes()
    if len(envelope_bytes) > limit:
        raise PayloadTooLarge(f"Het bestand is groter dan {limit} bytes")
    envelope = SignedEnvelope.from_bytes(envelope_bytes, max_bytes=limit)
    owner, key = _resolve_key(envelope, node)
    partial = envelope.verify(load_public_key(key.public_key_pem))
    if partial.header.node != owner.code or partial.header.kind != owner.kind:
        raise ForbiddenError(
            f"Het deelresultaat is van {partial.header.node}, niet van node {owner.code}",
            code="wrong_node",
        )
    if owner.kind == NODE_SWV:
        _check_swv_schools(partial, owner)
    if rnd.schooljaar not in partial.header.schooljaren:
        raise PayloadError(
            f"Het deelresultaat bevat schooljaar {rnd.schooljaar} van ronde {rnd.id} niet", code="wrong_schooljaar"
        )
    used = partial.header.peildata.get(rnd.schooljaar)
    if used is not None and used != rnd.peildatum.isoformat():
        raise PayloadError(
            f"Het deelresultaat telt op peildatum {used}, ronde {rnd.id} op {rnd.peildatum.isoformat()}",
            code="wrong_peildatum",
        )
    return owner, key, envelope, partial


def _check_swv_schools(partial: Partial, owner: Node) -> None:
    """An SWV counts its own schools only: a school's support cells come from the SWV(s) it belongs to."""
    schools = set(swv_schools(owner.code))
    for i, c in enumerate(partial.cells):
        if c.vestigingscode not in schools:
            raise PayloadFieldError(
                f"Cel {c.vestigingscode} {c.schooljaar}: deze vestiging hoort volgens de referentiedata van de hub niet "
                f"bij samenwerkingsverband {owner.code}; tel alleen de eigen scholen (de ronde geeft de lijst)",
                field=f"cells[{i}].vestigingscode", code="school_outside_swv",
                details={"cell": list(c.key)})


def _receipt(sub: Submission, status: str, supersedes: int | None = None) -> SubmissionReceipt:
    return SubmissionReceipt(
        submission_id=sub.id, round_id=sub.round_id, digest=sub.payload_digest, status=status, supersedes=supersedes
    )


def _find_duplicate(round_id: int, node_id: int, digest: str, payload_digest: str) -> Submission | None:
    same_bytes = db.session.scalar(select(Submission).where(Submission.round_id == round_id, Submission.digest == digest))
    if same_bytes is not None:
        return same_bytes
    # The same partial re-signed after a key rotation is the same content: no new version.
    return db.session.scalar(
        select(Submission).where(
            Submission.round_id == round_id,
            Submission.node_id == node_id,
            Submission.status == SUBMISSION_CURRENT,
            Submission.payload_digest == payload_digest,
        )
    )


def receive(
    round_id: int,
    envelope_bytes: bytes,
    node: Node | None = None,
    *,
    source: str = "api",
    now: datetime | None = None,
) -> SubmissionReceipt:
    """Verify and store one envelope; after the commit, ask for the round to be combined."""
    try:
        owner, key, envelope, partial = verify_envelope(round_id, envelope_bytes, node)
        rnd = get_round(round_id)
        digest = hashlib.sha256(envelope_bytes).hexdigest()
        payload_digest = envelope.digest
        duplicate = _find_duplicate(round_id, owner.id, digest, payload_digest)
        if duplicate is not None:
            receipt = _receipt(duplicate, DUPLICATE)
            db.session.rollback()
            return receipt
        previous = supersede_current(round_id, owner.id)
        sub = Submission(
            round_id=round_id,
            node_id=owner.id,
            key_id=key.key_id,
            digest=digest,
            payload_digest=payload_digest,
            envelope=envelope_bytes,
            size_bytes=len(envelope_bytes),
            source=source,
            received_at=now or utcnow(),
            status=SUBMISSION_CURRENT,
            quality=partial.quality.to_dict(),
            provider_names=round_provider_names(partial, rnd.schooljaar),
            cell_count=sum(1 for c in partial.cells if c.schooljaar == rnd.schooljaar)
            + sum(1 for c in partial.cost_cells if c.schooljaar == rnd.schooljaar),
        )
        db.session.add(sub)
        db.session.flush()
        if previous is not None:
            previous.superseded_by_id = sub.id
        receipt = _receipt(sub, ACCEPTED, previous.id if previous is not None else None)
        # In the same commit: the overlap exchanges of this submission (and the end of its
        # predecessor's), so a combine that sees the submission also sees that they are open.
        exchange.sync_round(rnd, now=now)
        db.session.commit()
    except IntegrityError:
        # A concurrent request stored the same bytes (or another version) first.
        db.session.rollback()
        again = db.session.scalar(select(Submission).where(Submission.round_id == round_id, Submission.digest == digest))
        if again is not None:
            return _receipt(again, DUPLICATE)
        raise ConflictError("Er kwam tegelijk een andere inzending van deze node binnen; probeer opnieuw", code="conflict")
    except BaseException:
        db.session.rollback()
        raise
    log.info("submission %s stored for round %s from node %s", receipt.submission_id, round_id, owner.code)
    jobs.enqueue(jobs.COMBINE, round_id)
    return receipt


def round_provider_names(partial: Partial, schooljaar: str) -> dict[str, str]:
    """The partial's provider names for the codes with a provider cell in ``schooljaar``: a release of
    that year is built from no other year's cells, so it has no use for other years' names."""
    if not partial.providers:
        return {}
    codes = {c.category for c in partial.cells if c.measure == CLIENTEN_AANBIEDER and c.schooljaar == schooljaar}
    return {agb: naam for agb, naam in partial.providers.to_dict().items() if agb in codes}


def current_submissions(round_id: int) -> list[Submission]:
    return list(
        db.session.scalars(
            select(Submission)
            .where(Submission.round_id == round_id, Submission.status == SUBMISSION_CURRENT)
            .order_by(Submission.id)
            .execution_options(populate_existing=True)
        )
    )


def usable_submissions(round_id: int) -> list[Submission]:
    """The current submissions a release of the round is built from: not quarantined."""
    return list(
        db.session.scalars(
            select(Submission)
            .where(Submission.round_id == round_id, Submission.usable())
            .order_by(Submission.id)
            .execution_options(populate_existing=True)
        )
    )


def load_partial(sub: Submission, *, strict: bool | None = None) -> Partial:
    """Decode a stored envelope again (it was verified on receipt; the signature is re-checked anyway).

    ``strict`` defaults to "not yet in any release": a submission a release was built from is read
    with the checks it was combined under (shared.partial's lenient decode), so tightening the door
    later never makes a stored release unreadable or unrebuildable. One that never made it into a
    release meets today's door, and is quarantined by the combine if it does not.
    """
    if strict is None:
        strict = sub.combined_in_release_id is None
    envelope = SignedEnvelope.from_bytes(sub.envelope, max_bytes=max(len(sub.envelope), 1))
    key = db.session.scalar(select(NodeKey).where(NodeKey.key_id == sub.key_id))
    if key is None:
        raise SignatureError(f"De sleutel {sub.key_id} van inzending {sub.id} bestaat niet meer", code="unknown_key")
    return envelope.verify(load_public_key(key.public_key_pem), strict=strict)


def supersede_current(round_id: int, node_id: int) -> Submission | None:
    """Mark the node's current submission to the round superseded and return it (the caller adds the
    new one and commits).

    Flushed at once: the partial unique index allows one current submission per node.
    """
    previous = db.session.scalar(
        select(Submission).where(
            Submission.round_id == round_id, Submission.node_id == node_id, Submission.status == SUBMISSION_CURRENT
        )
    )
    if previous is not None:
        previous.status = SUBMISSION_SUPERSEDED
        db.session.flush()
    return previous
