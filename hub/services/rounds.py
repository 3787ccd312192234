"""Rounds: an admin opens one per school year with a peildatum, the expected nodes and a deadline,
and closes it. The calendar (docs/architecture.md): the first publication waits for every expected
node or the deadline; later versions are corrections, which hold back schools new to the school year."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from typing import Any, Iterable

from flask import current_app
from sqlalchemy import select

from hub.extensions import db
from hub.models.nodes import NODE_ACTIVE, Node
from hub.models.releases import Release
from hub.models.rounds import ROUND_CLOSED, ROUND_OPEN, CombineStatus, Round
from hub.models.submissions import SUBMISSION_CURRENT, Submission
from hub.services._util import aware, transaction, utcnow
from hub.services.exchange import abandon_round, round_exchanges, waiting_nodes
from hub.services.nodes import swv_schools
from shared.codes import NODE_SWV, default_peildatum, node_kind, normalise_node_code, parse_schooljaar
from shared.errors import ConflictError, InputError, NotFoundError
from shared.messages import RoundInfo

ROUND_STATUSES = (ROUND_OPEN, ROUND_CLOSED)

#: What the admin views say about schools a correction holds back (``Release.held_back``).
HELD_BACK_REASON = (
    "Deze vestigingen zaten niet in de eerste publicatie van dit schooljaar: hun leerlingen kwamen pas met een "
    "latere inzending binnen. Ze worden voor dit schooljaar niet gepubliceerd en tellen ook niet mee in de "
    "totalen per schooltype en voor de regio, want het verschil met de eerdere publicatie zou hun cijfers "
    "verraden. Vanaf de ronde van het volgende schooljaar tellen ze gewoon mee."
)


def get_round(round_id: int) -> Round:
    rnd = db.session.get(Round, round_id)
    if rnd is None:
        raise NotFoundError(f"Ronde {round_id} bestaat niet", code="round_not_found")
    return rnd


def end_of_day(day: date) -> datetime:
    """The deadline of a round whose last day is ``day``: the midnight after it, Dutch time (in UTC)."""
    from hub.dutch import AMSTERDAM

    return datetime.combine(day + timedelta(days=1), time(0), tzinfo=AMSTERDAM).astimezone(timezone.utc)


def round_deadline(opened: datetime, deadline: date | datetime | None = None, days: int | None = None) -> datetime | None:
    """When the first publication of a round opened at ``opened`` goes out at the latest: ``deadline``
    (a date means the end of that day), else ``days`` after opening, else ``ROUND_DEADLINE_DAYS``
    after opening; None when the number of days is 0 (no deadline)."""
    if deadline is not None and days is not None:
        raise InputError("Geef de termijn als datum of als aantal dagen, niet allebei", code="invalid_deadline")
    if deadline is None:
        if days is None:
            days = int(current_app.config.get("ROUND_DEADLINE_DAYS") or 0)
        if days < 0:
            raise InputError(f"Een termijn van {days} dagen kan niet; kies 0 (geen termijn) of meer", code="invalid_deadline")
        return opened + timedelta(days=days) if days else None
    due = aware(deadline) if isinstance(deadline, datetime) else end_of_day(deadline)
    if due <= opened:
        from hub.dutch import local_time

        raise InputError(f"De termijn ({local_time(due)}) ligt niet na het openen van de ronde", code="invalid_deadline")
    return due


def open_round(
    schooljaar: str,
    peildatum: date | None = None,
    expected: Iterable[str] | None = None,
    *,
    deadline: date | datetime | None = None,
    deadline_days: int | None = None,
    now: datetime | None = None,
) -> Round:
    """Open a round; ``expected`` defaults to every active node. Only one open round per schooljaar.
    The deadline of its first publication: see :func:`round_deadline`."""
    try:
        start, end = parse_schooljaar(schooljaar)
    except ValueError as exc:
        raise InputError(str(exc), code="invalid_schooljaar") from None
    schooljaar = f"{start.year}-{end.year}"
    peildatum = peildatum or default_peildatum(schooljaar)
    if not (start <= peildatum <= end):
        raise InputError(
            f"Peildatum {peildatum.isoformat()} valt niet in schooljaar {schooljaar}", code="invalid_peildatum"
        )
    opened = aware(now) or utcnow()
    due = round_deadline(opened, deadline, deadline_days)
    with transaction():
        active = {n.code: n for n in db.session.scalars(select(Node).where(Node.status == NODE_ACTIVE))}
        if expected is None:
            codes = sorted(active)
        else:
            try:
                codes = sorted({normalise_node_code(c) for c in expected})
            except ValueError as exc:
                raise InputError(str(exc), code="invalid_node_code") from None
            unknown = [c for c in codes if c not in active]
            if unknown:
                raise NotFoundError(
                    f"Geen actieve node {', '.join(unknown)}; registreer die eerst met 'jeugdhub node add'",
                    code="node_not_found",
                )
        if not codes:
            raise InputError("Een ronde heeft minstens één verwachte node nodig", code="no_expected_nodes")
        existing = db.session.scalar(
            select(Round).where(Round.schooljaar == schooljaar, Round.status == ROUND_OPEN)
        )
        if existing is not None:
            raise ConflictError(
                f"Er is al een open ronde ({existing.id}) voor schooljaar {schooljaar}", code="round_exists"
            )
        rnd = Round(
            schooljaar=schooljaar,
            peildatum=peildatum,
            status=ROUND_OPEN,
            expected_nodes=codes,
            opened_at=opened,
            deadline=due,
        )
        db.session.add(rnd)
    return rnd


def close_round(round_id: int, *, now: datetime | None = None) -> Round:
    """Stop accepting submissions. The current release stays; nothing is recombined."""
    with transaction():
        rnd = get_round(round_id)
        if rnd.status == ROUND_CLOSED:
            raise ConflictError(f"Ronde {round_id} is al gesloten", code="round_closed")
        rnd.status, rnd.closed_at = ROUND_CLOSED, now or utcnow()
        # Exchanges still running end here: their blinded sets are deleted (docs/overlap.md).
        abandon_round(round_id, now=now)
    return rnd


def list_rounds(status: str | None = None, node: Node | None = None) -> list[RoundInfo]:
    """Rounds as the agent sees them; ``submitted`` says whether ``node`` has a current submission."""
    if status is not None and status not in ROUND_STATUSES:
        raise InputError(f"Onbekende status '{status}' (open of closed)", code="invalid_input")
    query = select(Round).order_by(Round.id)
    if status is not None:
        query = query.where(Round.status == status)
    rounds = list(db.session.scalars(query))
    submitted: set[int] = set()
    if node is not None:
        # A node only sees rounds it is expected in: the list tells it what to compute.
        rounds = [r for r in rounds if node.code in (r.expected_nodes or [])]
        submitted = set(
            db.session.scalars(
                select(Submission.round_id).where(
                    Submission.node_id == node.id, Submission.status == SUBMISSION_CURRENT
                )
            )
        )
    tables = round_tables()
    if node is not None and node.kind == NODE_SWV:
        # An SWV counts exactly its own schools (the reference data's), a total for each.
        tables["schools"] = tuple(swv_schools(node.code))
    return [
        RoundInfo(id=r.id, schooljaar=r.schooljaar, peildatum=r.peildatum.isoformat(), status=r.status,
                  submitted=r.id in submitted, **tables)
        for r in rounds
    ]


def round_tables() -> dict[str, Any]:
    """The code tables every node of a round counts by: the groupings and provider → consortium."""
    from hub.services import consortia, groupings

    return {
        "groupings": groupings.current().to_dict(),
        "consortia": consortia.membership(),
    }


def all_rounds(status: str | None = None) -> list[Round]:
    query = select(Round).order_by(Round.id)
    if status is not None:
        query = query.where(Round.status == status)
    return list(db.session.scalars(query))


@dataclass(frozen=True)
class NodeStatus:
    code: str  # the node's gemeentecode, or its SWV code
    naam: str | None
    expected: bool
    submission_id: int | None
    received_at: str | None
    digest: str | None
    superseded: int  # how many earlier submissions this node's current one replaced
    quality: dict[str, Any] | None
    # Why the current submission is in no release ({code, reason, at}), None when it is usable.
    quarantine: dict[str, Any] | None = None

    @property
    def kind(self) -> str:
        return node_kind(self.code)

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "kind": self.kind,
            "naam": self.naam,
            "expected": self.expected,
            "submitted": self.submission_id is not None,
            "submission_id": self.submission_id,
            "received_at": self.received_at,
            "digest": self.digest,
            "superseded": self.superseded,
            "quality": self.quality,
            "quarantine": self.quarantine,
        }


@dataclass(frozen=True)
class RoundStatus:
    id: int
    schooljaar: str
    peildatum: str
    status: str
    opened_at: str
    closed_at: str | None
    nodes: list[NodeStatus] = field(default_factory=list)
    current_release: dict[str, Any] | None = None
    pending: bool = False  # usable (current, not quarantined) submissions differ from the current release's
    waiting_for: list[str] = field(default_factory=list)  # a publication waits for these nodes (see waiting_for)
    deadline: str | None = None  # the first publication goes out at the latest then
    held_back: list[str] = field(default_factory=list)  # vestigingscodes the current release leaves out
    exchanges: list[dict[str, Any]] = field(default_factory=list)  # the overlap exchanges (hub/services/exchange.py)

    @property
    def held_back_reason(self) -> str | None:
        return HELD_BACK_REASON if self.held_back else None

    @property
    def waiting_submissions(self) -> list[str]:
        """Of ``waiting_for``: the expected nodes that have not submitted (only before a first publication)."""
        missing = {n.code for n in self.nodes if n.expected and n.submission_id is None}
        return [c for c in self.waiting_for if c in missing]

    @property
    def waiting_exchanges(self) -> list[str]:
        """Of ``waiting_for``: the nodes that owe a step in an overlap exchange."""
        return [c for c in self.waiting_for if c not in set(self.waiting_submissions)]

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "schooljaar": self.schooljaar,
            "peildatum": self.peildatum,
            "status": self.status,
            "opened_at": self.opened_at,
            "closed_at": self.closed_at,
            "expected": sorted(n.code for n in self.nodes if n.expected),
            "submitted": sorted(n.code for n in self.nodes if n.submission_id is not None),
            "missing": sorted(n.code for n in self.nodes if n.expected and n.submission_id is None),
            "quarantined": sorted(n.code for n in self.nodes if n.quarantine is not None),
            "nodes": [n.to_dict() for n in self.nodes],
            "current_release": self.current_release,
            "pending": self.pending,
            "waiting_for": self.waiting_for,
            "waiting_submissions": self.waiting_submissions,
            "waiting_exchanges": self.waiting_exchanges,
            "deadline": self.deadline,
            "held_back": self.held_back,
            "held_back_reason": self.held_back_reason,
            "exchanges": self.exchanges,
        }


def _iso(dt: datetime | None) -> str | None:
    return aware(dt).isoformat(timespec="seconds") if dt is not None else None


def round_status(round_id: int, *, now: datetime | None = None) -> RoundStatus:
    """Who was expected, who submitted (with quality summaries), whose submission is quarantined,
    the deadline, the current release and the schools it holds back."""
    rnd = get_round(round_id)
    subs = list(
        db.session.scalars(select(Submission).where(Submission.round_id == rnd.id).order_by(Submission.id))
    )
    nodes = {n.id: n for n in db.session.scalars(select(Node))}
    by_code = {n.code: n for n in nodes.values()}
    current = {s.node_id: s for s in subs if s.status == SUBMISSION_CURRENT}
    replaced: dict[int, int] = {}
    for s in subs:
        if s.status != SUBMISSION_CURRENT:
            replaced[s.node_id] = replaced.get(s.node_id, 0) + 1
    codes = set(rnd.expected_nodes or []) | {nodes[s.node_id].code for s in current.values()}
    rows = []
    for code in sorted(codes):
        node = by_code.get(code)
        sub = current.get(node.id) if node is not None else None
        rows.append(
            NodeStatus(
                code=code,
                naam=node.naam if node is not None else None,
                expected=code in (rnd.expected_nodes or []),
                submission_id=sub.id if sub else None,
                received_at=_iso(sub.received_at) if sub else None,
                digest=sub.digest if sub else None,
                superseded=replaced.get(node.id, 0) if node is not None else 0,
                quality=sub.quality if sub else None,
                quarantine=(
                    {"code": sub.quarantine_code, "reason": sub.quarantine_reason, "at": _iso(sub.quarantined_at)}
                    if sub is not None and sub.quarantined
                    else None
                ),
            )
        )
    release = db.session.get(Release, rnd.current_release_id) if rnd.current_release_id else None
    current_ids = sorted(s.id for s in current.values() if not s.quarantined)
    waiting = waiting_for(rnd, now=now)
    return RoundStatus(
        id=rnd.id,
        schooljaar=rnd.schooljaar,
        peildatum=rnd.peildatum.isoformat(),
        status=rnd.status,
        opened_at=_iso(rnd.opened_at),
        closed_at=_iso(rnd.closed_at),
        nodes=rows,
        current_release=(
            {"id": release.id, "version": release.version, "digest": release.digest, "created_at": _iso(release.created_at)}
            if release
            else None
        ),
        pending=bool(current_ids) and (release is None or list(release.submission_ids) != current_ids)
        and not waiting,
        waiting_for=waiting,
        deadline=_iso(rnd.deadline),
        held_back=list(release.held_back or []) if release else [],
        exchanges=round_exchanges(rnd.id),
    )


def deadline_passed(rnd: Round, now: datetime | None = None) -> bool:
    """Whether the round's deadline has come (never, for a round without one)."""
    return rnd.deadline is not None and aware(rnd.deadline) <= (aware(now) or utcnow())


def waiting_for(rnd: Round, *, now: datetime | None = None, submitted: Iterable[Submission] | None = None) -> list[str]:
    """The expected nodes (municipalities and SWVs) a round's FIRST publication still waits for (none
    once it has one, once its deadline has passed, or when the round is closed), and the nodes that
    owe a step in an overlap exchange between its usable submissions
    (:func:`hub.services.exchange.waiting_nodes`: until the deadline for a first publication, a
    short while for a correction); [] for a closed round. A release of a few
    nodes followed by one of all would let a reader subtract the two and narrow the later ones' cells.
    A node whose submission was quarantined has submitted: the round is published without it.

    ``submitted``: the round's current submissions as the caller already read them. A combine must
    judge "all there" on the very rows it builds from: read again, a submission committed in between
    would count as present while the release is built without it (each statement sees the latest
    commit, in PostgreSQL's READ COMMITTED as in SQLite).
    """
    if rnd.status != ROUND_OPEN:
        return []
    if submitted is None:
        submitted = list(db.session.scalars(
            select(Submission).where(Submission.round_id == rnd.id, Submission.status == SUBMISSION_CURRENT)))
    current = [s for s in submitted if s.status == SUBMISSION_CURRENT]
    missing: set[str] = set()
    if rnd.current_release_id is None and not deadline_passed(rnd, now):
        missing = set(rnd.expected_nodes or []) - {s.node.code for s in current}
    # The overlap exchanges between the usable submissions (hub/services/exchange.py): a first
    # publication waits for them until the deadline, a correction for a short while.
    usable = [s.id for s in current if not s.quarantined]
    return sorted(missing | set(waiting_nodes(rnd, usable, now=now)))


#: A combine whose step has not changed for this long is shown as possibly broken off (a killed
#: worker leaves its row behind until the round's next combine).
COMBINE_STALE_AFTER = timedelta(hours=1)


def combine_progress(round_id: int) -> dict | None:
    """The step a running combine of the round is at (hub/services/combine.py writes it), or None
    when none runs: ``step``, ``steps``, ``label``, ``started_at``, ``updated_at``, ``stale``."""
    row = db.session.get(CombineStatus, round_id, populate_existing=True)
    if row is None:
        return None
    return {"step": row.step, "steps": row.steps, "label": row.label, "started_at": aware(row.started_at),
            "updated_at": aware(row.updated_at), "stale": utcnow() - aware(row.updated_at) > COMBINE_STALE_AFTER}
