"""The overlap exchanges of a round (PSI-CA, docs/overlap.md): which pairs exchange, each node's
next step, receiving and checking the blinded sets, forwarding them, counting, and deleting them.

Per round, every expected SWV exchanges with every expected municipality, once both have a usable
submission; the exchange names both submissions, so its sets are the populations of those two
partials. A newer submission of either node supersedes the exchange and starts a new one. Order:
the municipality blinds its clients at the SWV's schools; the SWV blinds its pupils at the schools
the municipality sent; each re-blinds the other's set; the hub counts per school, writes only the
counts (``overlap_counts``) and deletes the four payloads. An exchange not finished when its
round's first publication goes out (at the deadline) is abandoned and its payloads deleted too.

The functions that receive a payload own their transaction; :func:`sync_round`,
:func:`abandon_unfinished` and :func:`abandon_round` write in their caller's.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Iterable

from flask import current_app
from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError

from hub import jobs
from hub.extensions import db
from hub.models.exchange import (
    EXCHANGE_ABANDONED,
    EXCHANGE_COUNTED,
    EXCHANGE_OPEN,
    EXCHANGE_SUPERSEDED,
    GEMEENTE_BLINDED,
    GEMEENTE_REBLINDED,
    SWV_BLINDED,
    SWV_REBLINDED,
    ExchangePayload,
    OverlapExchange,
)
from hub.models.nodes import Node
from hub.models.overlap import OverlapCount
from hub.models.rounds import ROUND_OPEN, Round
from hub.models.submissions import Submission
from hub.services._util import aware, transaction, utcnow
from hub.services.nodes import swv_schools
from shared import psi
from shared.codes import NODE_GEMEENTE, NODE_SWV
from shared.errors import ConflictError, NotFoundError, PsiError
from shared.messages import (
    STEP_BLIND,
    STEP_CLOSED,
    STEP_DONE,
    STEP_REBLIND,
    STEP_WAIT,
    ExchangePoll,
    ExchangeTask,
)

log = logging.getLogger(__name__)

#: Why an exchange ended without a count (shown on the round status).
REASON_DEADLINE = "niet op tijd klaar: de ronde is bij de termijn gepubliceerd zonder deze overlap"
REASON_PUBLISHED = "niet klaar toen de ronde werd gepubliceerd: gepubliceerd zonder deze overlap"
REASON_CLOSED = "niet klaar toen de ronde werd gesloten"
REASON_SUPERSEDED = "vervangen: een van beide nodes stuurde een nieuwere inzending"


def get_round(round_id: int) -> Round:
    # Not hub.services.rounds.get_round: rounds asks this module whom a release waits for.
    rnd = db.session.get(Round, round_id)
    if rnd is None:
        raise NotFoundError(f"Ronde {round_id} bestaat niet", code="round_not_found")
    return rnd


def deadline_passed(rnd: Round, now: datetime | None = None) -> bool:
    """As ``hub.services.rounds.deadline_passed`` (the same rule; see get_round)."""
    return rnd.deadline is not None and aware(rnd.deadline) <= (aware(now) or utcnow())


def settings() -> tuple[int, int]:
    """(minimum set size, padding block) of this hub's exchanges."""
    cfg = current_app.config
    return int(cfg.get("PSI_MIN_SET_SIZE") or psi.DEFAULT_MIN_SET_SIZE), int(cfg.get("PSI_PAD_BLOCK") or psi.DEFAULT_PAD_BLOCK)


def exchange_id_for(swv: str, gemeente: str, swv_submission_id: int, gemeente_submission_id: int) -> str:
    """The protocol's exchange id: both parties and both submissions, so the hash context binds the
    points to exactly these two populations."""
    return f"{swv}-{gemeente}-{swv_submission_id}-{gemeente_submission_id}"


def _region() -> str:
    return str(current_app.config.get("REGION_NAME") or "Regio")[:64]


@dataclass(frozen=True)
class _Pair:
    row: OverlapExchange
    swv: Node
    gemeente: Node

    @property
    def protocol(self) -> psi.Exchange:
        return psi.Exchange(_region(), self.row.round_id, self.row.exchange_id, self.swv.code, self.gemeente.code)


# --- which exchanges a round has ---------------------------------------------------------------------


def _usable(round_id: int) -> list[Submission]:
    return list(db.session.scalars(
        select(Submission).where(Submission.round_id == round_id, Submission.usable()).order_by(Submission.id)))


def _close(rows: Iterable[OverlapExchange], status: str, reason: str, now: datetime) -> int:
    """Close open exchanges without a count and delete their payloads (the caller commits)."""
    ids = [x.id for x in rows if x.status == EXCHANGE_OPEN]
    if not ids:
        return 0
    closed = db.session.execute(
        update(OverlapExchange).where(OverlapExchange.id.in_(ids), OverlapExchange.status == EXCHANGE_OPEN)
        .values(status=status, reason=reason[:200], closed_at=now).execution_options(synchronize_session="fetch")
    ).rowcount
    db.session.execute(delete(ExchangePayload).where(ExchangePayload.exchange_pk.in_(ids)))
    return closed


def sync_round(rnd: Round, *, now: datetime | None = None) -> None:
    """Make the round's exchanges those of its usable submissions: one per expected SWV × expected
    municipality that both submitted; an open exchange of a submission no longer usable (superseded,
    quarantined) is closed. Writes in the caller's transaction."""
    if rnd.status != ROUND_OPEN:
        return
    now = now or utcnow()
    expected = set(rnd.expected_nodes or [])
    subs = [s for s in _usable(rnd.id) if s.node.code in expected]
    swvs = [s for s in subs if s.node.kind == NODE_SWV]
    gemeenten = [s for s in subs if s.node.kind == NODE_GEMEENTE]
    wanted = {(s.id, g.id): (s, g) for s in swvs for g in gemeenten}
    existing = list(db.session.scalars(select(OverlapExchange).where(OverlapExchange.round_id == rnd.id)))
    have = {(x.swv_submission_id, x.gemeente_submission_id) for x in existing}
    _close([x for x in existing if (x.swv_submission_id, x.gemeente_submission_id) not in wanted],
           EXCHANGE_SUPERSEDED, REASON_SUPERSEDED, now)
    for key, (s, g) in sorted(wanted.items()):
        if key in have:
            continue
        db.session.add(OverlapExchange(
            round_id=rnd.id, exchange_id=exchange_id_for(s.node.code, g.node.code, s.id, g.id),
            swv_node_id=s.node_id, gemeente_node_id=g.node_id, swv_submission_id=s.id, gemeente_submission_id=g.id,
            status=EXCHANGE_OPEN, created_at=now))
    db.session.flush()


def _pairs(round_id: int, *, node: Node | None = None, status: str | None = None) -> list[_Pair]:
    swv, gemeente = db.aliased(Node), db.aliased(Node)
    query = (select(OverlapExchange, swv, gemeente)
             .join(swv, swv.id == OverlapExchange.swv_node_id)
             .join(gemeente, gemeente.id == OverlapExchange.gemeente_node_id)
             .where(OverlapExchange.round_id == round_id).order_by(OverlapExchange.id))
    if node is not None:
        query = query.where((OverlapExchange.swv_node_id == node.id) | (OverlapExchange.gemeente_node_id == node.id))
    if status is not None:
        query = query.where(OverlapExchange.status == status)
    return [_Pair(x, s, g) for x, s, g in db.session.execute(query.execution_options(populate_existing=True)).all()]


def _kinds(row: OverlapExchange) -> set[str]:
    """Which payloads an exchange has, from its own row: the row's step times are written in the
    same transaction as the payloads, so one read of the row is one consistent view. (Reading the
    payloads apart from the row is not: a step committed between the two reads showed the SWV a
    blind step with the municipality's schools still empty, and it sent an empty set.)"""
    times = {GEMEENTE_BLINDED: row.gemeente_blinded_at, SWV_BLINDED: row.swv_blinded_at,
             GEMEENTE_REBLINDED: row.gemeente_reblinded_at, SWV_REBLINDED: row.swv_reblinded_at}
    return {kind for kind, at in times.items() if at is not None}


def _payloads(exchange_pk: int) -> dict[str, ExchangePayload]:
    return {p.kind: p for p in db.session.scalars(
        select(ExchangePayload).where(ExchangePayload.exchange_pk == exchange_pk)
        .execution_options(populate_existing=True))}


# --- steps and status --------------------------------------------------------------------------------


def _label(node: Node) -> str:
    return f"{'samenwerkingsverband' if node.kind == NODE_SWV else 'gemeente'} {node.code}"


def _steps(pair: _Pair, present: set[str]) -> dict[str, str]:
    """The next step of each party of an open exchange (by node code)."""
    x = pair.row
    if x.status == EXCHANGE_COUNTED:
        return {pair.swv.code: STEP_DONE, pair.gemeente.code: STEP_DONE}
    if x.status != EXCHANGE_OPEN:
        return {pair.swv.code: STEP_CLOSED, pair.gemeente.code: STEP_CLOSED}
    if GEMEENTE_BLINDED not in present:
        gem, swv = STEP_BLIND, STEP_WAIT
    else:
        gem = STEP_REBLIND if SWV_BLINDED in present and GEMEENTE_REBLINDED not in present else STEP_WAIT
        swv = (STEP_BLIND if SWV_BLINDED not in present
               else STEP_REBLIND if SWV_REBLINDED not in present else STEP_WAIT)
    return {pair.swv.code: swv, pair.gemeente.code: gem}


_WHAT = {STEP_BLIND: "versleutelde set", STEP_REBLIND: "herversleutelde set"}


def _status_line(pair: _Pair, steps: dict[str, str]) -> str:
    x = pair.row
    if x.status == EXCHANGE_COUNTED:
        n = x.schools_counted or 0
        return f"geteld ({n} {'school' if n == 1 else 'scholen'})"
    if x.status != EXCHANGE_OPEN:
        return ("afgebroken: " if x.status == EXCHANGE_ABANDONED else "") + (x.reason or "gesloten")
    owing = [f"wacht op {_label(n)}: {_WHAT[steps[n.code]]}" for n in (pair.gemeente, pair.swv)
             if steps[n.code] in _WHAT]
    return "; ".join(owing) or "wordt geteld"


def _task(pair: _Pair, node: Node, present: set[str]) -> ExchangeTask:
    steps = _steps(pair, present)
    step = steps[node.code]
    schools: tuple[str, ...] = ()
    if step == STEP_BLIND:
        schools = tuple(swv_schools(pair.swv.code)) if node.id == pair.gemeente.id else tuple(pair.row.gemeente_schools or ())
    minimum, block = settings()
    own = pair.row.swv_submission_id if node.id == pair.swv.id else pair.row.gemeente_submission_id
    return ExchangeTask(pair.protocol.to_dict(), own, step, schools, minimum, block, _status_line(pair, steps))


def node_tasks(round_id: int, node: Node) -> ExchangePoll:
    """A node's exchanges in the round with its next step in each, and the peers the round still
    waits for (their exchange with this node starts when their submission arrives)."""
    rnd = get_round(round_id)
    try:
        with transaction():
            sync_round(rnd)
    except IntegrityError:
        # A poll or submission at the same moment made the same exchanges first (rolled back).
        log.info("round %s: exchanges made by a concurrent request; using theirs", round_id)
    pairs = _pairs(round_id, node=node)
    # Only the exchanges of the node's current submission are work; older ones are reported as
    # closed or done, so the agent can delete what it kept for them.
    tasks = tuple(_task(p, node, _kinds(p.row)) for p in pairs)
    waiting: tuple[str, ...] = ()
    if rnd.status == ROUND_OPEN and node.code in (rnd.expected_nodes or []):
        other = NODE_GEMEENTE if node.kind == NODE_SWV else NODE_SWV
        submitted = {s.node.code for s in _usable(round_id)}
        peers = db.session.scalars(select(Node.code).where(Node.code.in_(rnd.expected_nodes or []), Node.kind == other))
        waiting = tuple(sorted(c for c in peers if c not in submitted))
    db.session.rollback()
    return ExchangePoll(round_id, rnd.status == ROUND_OPEN, tasks, waiting)


def round_exchanges(round_id: int) -> list[dict[str, Any]]:
    """The round's exchanges for the round status: parties, submissions, each node's step (Dutch),
    the step times, and for a counted one how many schools it counted."""
    out = []
    for pair in _pairs(round_id):
        x = pair.row
        steps = _steps(pair, _kinds(x))
        out.append({
            "exchange_id": x.exchange_id,
            "swv": pair.swv.code,
            "gemeente": pair.gemeente.code,
            "swv_submission_id": x.swv_submission_id,
            "gemeente_submission_id": x.gemeente_submission_id,
            "status": x.status,
            "label": _status_line(pair, steps),
            "steps": {code: step for code, step in steps.items()},
            "schools_counted": x.schools_counted,
            "reason": x.reason,
            "created_at": _iso(x.created_at),
            "gemeente_blinded_at": _iso(x.gemeente_blinded_at),
            "swv_blinded_at": _iso(x.swv_blinded_at),
            "gemeente_reblinded_at": _iso(x.gemeente_reblinded_at),
            "swv_reblinded_at": _iso(x.swv_reblinded_at),
            "closed_at": _iso(x.closed_at),
        })
    return out


def _iso(dt: datetime | None) -> str | None:
    return aware(dt).isoformat(timespec="seconds") if dt is not None else None


# --- the calendar --------------------------------------------------------------------------------------


def waiting_nodes(rnd: Round, usable_ids: Iterable[int], *, now: datetime | None = None) -> list[str]:
    """The nodes owing a step in an open exchange between the usable submissions ``usable_ids``,
    for as long as a release waits for them: a first publication until the round's deadline, a
    correction until ``EXCHANGE_CORRECTION_WAIT_SECONDS`` after its exchange started."""
    if rnd.status != ROUND_OPEN:
        return []
    ids = set(usable_ids)
    now = aware(now) or utcnow()
    first = rnd.current_release_id is None
    if first and deadline_passed(rnd, now):
        return []
    wait = timedelta(seconds=int(current_app.config.get("EXCHANGE_CORRECTION_WAIT_SECONDS") or 0))
    owing: set[str] = set()
    for pair in _pairs(rnd.id, status=EXCHANGE_OPEN):
        x = pair.row
        if x.swv_submission_id not in ids or x.gemeente_submission_id not in ids:
            continue
        if not first and aware(x.created_at) + wait <= now:
            continue
        steps = _steps(pair, _kinds(x))
        owing.update(code for code, step in steps.items() if step in (STEP_BLIND, STEP_REBLIND))
    return sorted(owing)


REASON_CORRECTION = "niet op tijd klaar voor de correctie: die is gepubliceerd zonder deze overlap"


def abandon_unfinished(rnd: Round, submission_ids: Iterable[int], *, first: bool, now: datetime | None = None) -> int:
    """Abandon the open exchanges between ``submission_ids`` as a release built from them goes out
    without their overlap (their payloads are deleted); ``first``: the round's first publication.
    Writes in the caller's transaction."""
    ids = set(submission_ids)
    now = aware(now) or utcnow()
    rows = [p.row for p in _pairs(rnd.id, status=EXCHANGE_OPEN)
            if p.row.swv_submission_id in ids and p.row.gemeente_submission_id in ids]
    reason = (REASON_CORRECTION if not first else REASON_DEADLINE if deadline_passed(rnd, now) else REASON_PUBLISHED)
    n = _close(rows, EXCHANGE_ABANDONED, reason, now)
    if n:
        log.info("round %s: %s overlap exchange(s) abandoned (%s)", rnd.id, n, reason)
    return n


def abandon_round(round_id: int, *, now: datetime | None = None) -> int:
    """Abandon every open exchange of a round being closed. Writes in the caller's transaction."""
    rows = list(db.session.scalars(select(OverlapExchange).where(
        OverlapExchange.round_id == round_id, OverlapExchange.status == EXCHANGE_OPEN)))
    return _close(rows, EXCHANGE_ABANDONED, REASON_CLOSED, aware(now) or utcnow())


# --- receiving sets --------------------------------------------------------------------------------------


def _claim(round_id: int, exchange_id: str) -> None:
    """Take the exchange's row for the rest of the transaction (a no-op update: a row lock in
    PostgreSQL, the write lock in SQLite), so two steps of one exchange arriving at once are taken
    one after the other and each reads what the other wrote."""
    db.session.execute(
        update(OverlapExchange)
        .where(OverlapExchange.round_id == round_id, OverlapExchange.exchange_id == exchange_id)
        .values(status=OverlapExchange.status).execution_options(synchronize_session=False))


def _open_pair(round_id: int, exchange_id: str, node: Node) -> _Pair:
    rnd = get_round(round_id)
    if rnd.status != ROUND_OPEN:
        raise ConflictError(f"Ronde {round_id} is gesloten", code="round_closed")
    pair = next((p for p in _pairs(round_id) if p.row.exchange_id == exchange_id), None)
    if pair is None:
        raise NotFoundError(f"Uitwisseling {exchange_id} bestaat niet in ronde {round_id}", code="exchange_not_found")
    if node.id not in (pair.swv.id, pair.gemeente.id):
        raise PsiError("Deze node neemt niet deel aan de uitwisseling", code="psi_foreign_set",
                       details={"node": node.code})
    if pair.row.status != EXCHANGE_OPEN:
        raise ConflictError(f"Uitwisseling {exchange_id} is al afgesloten ({_status_line(pair, _steps(pair, set()))})",
                            code="exchange_closed")
    return pair


def _decode(data: bytes) -> psi.PsiSets:
    if not data:
        raise PsiError("Lege aanvraag: verwacht een PSI-set", code="psi_bad_payload", details={"field": "payload"})
    return psi.decode_sets(data)


def _store(pair: _Pair, kind: str, payload: psi.PsiSets, present: dict[str, ExchangePayload], now: datetime) -> bool:
    """Store a payload; False when the very same one is already there (a node repeating itself after
    a restart); another payload in its place is refused."""
    data = psi.encode_sets(payload)
    if kind in present:
        if present[kind].data == data:
            return False
        raise PsiError("Deze node stuurde in deze uitwisseling al een andere set", code="psi_already_sent",
                       details={"step": payload.step})
    db.session.add(ExchangePayload(exchange_pk=pair.row.id, kind=kind, data=data, digest=payload.digest,
                                   received_at=now))
    return True


def receive_blinded(round_id: int, exchange_id: str, node: Node, data: bytes, *,
                    now: datetime | None = None) -> ExchangeTask:
    """Check and keep a node's blinded sets: its round and exchange (``psi_replay``), its sender
    (``psi_foreign_set``), step and order (``psi_wrong_step``), digest, every point, the minimum
    size, and its schools (the municipality's among the SWV's, the SWV's among the municipality's)."""
    now = now or utcnow()
    minimum, _ = settings()
    # The checks of every point come first, before the exchange row is taken: on SQLite taking it
    # holds every writer. The protocol's fields never change, so an early read of them is good.
    try:
        protocol = _open_pair(round_id, exchange_id, node).protocol
        payload = _decode(data)
        psi.verify_sets(protocol, payload, sender=node.code, step=psi.BLINDED, min_set_size=minimum,
                        check_points=True)
    finally:
        db.session.rollback()
    with transaction():
        _claim(round_id, exchange_id)
        pair = _open_pair(round_id, exchange_id, node)
        present = _payloads(pair.row.id)
        if node.id == pair.gemeente.id:
            kind, allowed = GEMEENTE_BLINDED, set(swv_schools(pair.swv.code))
        else:
            if GEMEENTE_BLINDED not in present:
                raise PsiError("Eerst stuurt de gemeente haar versleutelde set; probeer het later opnieuw",
                               code="psi_wrong_step", details={"step": payload.step})
            kind, allowed = SWV_BLINDED, set(pair.row.gemeente_schools or ())
        outside = sorted(set(payload.sets) - allowed)
        if outside:
            raise PsiError(f"Sets voor vestigingen buiten deze uitwisseling: {', '.join(outside[:5])}",
                           code="psi_bad_payload", details={"field": "sets", "schools": outside[:20]})
        if _store(pair, kind, payload, present, now):
            if kind == GEMEENTE_BLINDED:
                pair.row.gemeente_blinded_at, pair.row.gemeente_schools = now, sorted(payload.sets)
            else:
                pair.row.swv_blinded_at = now
    if not payload.sets:
        # Nothing to compare (every school below the minimum): the exchange ends with no count.
        _count(pair.row.id, now)
    return _current_task(round_id, exchange_id, node)


def peer_payload(round_id: int, exchange_id: str, node: Node) -> bytes:
    """The peer's blinded sets as the hub received them (the node re-blinds them)."""
    pair = _open_pair(round_id, exchange_id, node)
    kind = SWV_BLINDED if node.id == pair.gemeente.id else GEMEENTE_BLINDED
    payload = _payloads(pair.row.id).get(kind)
    db.session.rollback()
    if payload is None:
        raise PsiError("De andere partij heeft haar versleutelde set nog niet gestuurd", code="psi_wrong_step")
    return payload.data


def receive_reblinded(round_id: int, exchange_id: str, node: Node, data: bytes, *,
                      now: datetime | None = None) -> ExchangeTask:
    """Check and keep a node's re-blinding of the peer's set: it must answer the very set the hub
    forwarded (``psi_replay`` otherwise), with as many points per school; then count if all four are in."""
    now = now or utcnow()
    minimum, _ = settings()
    with transaction():
        _claim(round_id, exchange_id)
        pair = _open_pair(round_id, exchange_id, node)
        payload = _decode(data)
        present = _payloads(pair.row.id)
        source_kind, kind = ((SWV_BLINDED, GEMEENTE_REBLINDED) if node.id == pair.gemeente.id
                             else (GEMEENTE_BLINDED, SWV_REBLINDED))
        if source_kind not in present:
            raise PsiError("Er is nog geen set van de andere partij om te herversleutelen", code="psi_wrong_step",
                           details={"step": payload.step})
        source = psi.decode_sets(present[source_kind].data)
        # No point check here: these points are only compared, never multiplied again (an invalid one
        # matches nothing); the blinded sets were checked on arrival, and each node's multiplication
        # checks every point it receives.
        psi.verify_sets(pair.protocol, payload, sender=node.code, step=psi.REBLINDED, min_set_size=minimum,
                        source=source)
        if _store(pair, kind, payload, present, now):
            if kind == GEMEENTE_REBLINDED:
                pair.row.gemeente_reblinded_at = now
            else:
                pair.row.swv_reblinded_at = now
    _count(pair.row.id, now)
    return _current_task(round_id, exchange_id, node)


def _current_task(round_id: int, exchange_id: str, node: Node) -> ExchangeTask:
    pair = next(p for p in _pairs(round_id, node=node) if p.row.exchange_id == exchange_id)
    task = _task(pair, node, _kinds(pair.row))
    db.session.rollback()
    return task


def _count(exchange_pk: int, now: datetime) -> bool:
    """Count an exchange whose four payloads are in (or one side sent no school), keep only the
    counts, delete the payloads; True when this call counted it. Its own transaction: the status
    switch is conditional, so of two uploads finishing at once exactly one counts."""
    try:
        x = db.session.get(OverlapExchange, exchange_pk, populate_existing=True)
        # Serialise with a combine of the round (PostgreSQL), as a submission does: a release either
        # sees these counts or abandons this exchange, never half of both.
        db.session.scalars(select(Round).where(Round.id == x.round_id).with_for_update(key_share=True)).one()
        present = _payloads(exchange_pk)
        decoded = {k: psi.decode_sets(p.data) for k, p in present.items()}
        empty = any(k in decoded and not decoded[k].sets for k in (GEMEENTE_BLINDED, SWV_BLINDED))
        if x.status != EXCHANGE_OPEN or not (empty or len(decoded) == 4):
            db.session.rollback()
            return False
        counts: dict[str, int] = {}
        if not empty:
            swv, gemeente = db.session.get(Node, x.swv_node_id), db.session.get(Node, x.gemeente_node_id)
            exchange = psi.Exchange(_region(), x.round_id, x.exchange_id, swv.code, gemeente.code)
            counts = psi.count_exchange(
                exchange, swv_set=decoded[SWV_BLINDED], gemeente_set=decoded[GEMEENTE_BLINDED],
                swv_set_double=decoded[GEMEENTE_REBLINDED], gemeente_set_double=decoded[SWV_REBLINDED],
                min_set_size=settings()[0])
        switched = db.session.execute(
            update(OverlapExchange).where(OverlapExchange.id == exchange_pk, OverlapExchange.status == EXCHANGE_OPEN)
            .values(status=EXCHANGE_COUNTED, closed_at=now, schools_counted=len(counts))
            .execution_options(synchronize_session=False)
        ).rowcount
        if switched != 1:
            db.session.rollback()
            return False
        db.session.add_all(
            OverlapCount(round_id=x.round_id, vestigingscode=code, swv_node_id=x.swv_node_id,
                         gemeente_node_id=x.gemeente_node_id, swv_submission_id=x.swv_submission_id,
                         gemeente_submission_id=x.gemeente_submission_id, beide=n, counted_at=now)
            for code, n in sorted(counts.items()))
        db.session.execute(delete(ExchangePayload).where(ExchangePayload.exchange_pk == exchange_pk))
        round_id = x.round_id
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    log.info("round %s: overlap exchange %s counted (%s schools)", round_id, exchange_pk, len(counts))
    # A first publication may have been waiting for this exchange.
    jobs.enqueue(jobs.COMBINE, round_id)
    return True

