"""Record who viewed or exported what. Targets name pages and codes, never figures or children's data.

Every line carries what the BIO asks of a log line: the action and its object (``target``), the
result, the origin (the client address), the actor (an e-mail address, also the one tried at a failed
login) and the time. Inside a request the origin and actor are filled in from the request.

The lines form a hash chain, like the agent's log: ``line_hash`` = SHA-256 of the previous line's hash
and this line's fields, so :func:`verify` finds a line that was changed, inserted or removed. Appends
are serialised so the chain never forks: on PostgreSQL by an advisory lock across processes, and in
every process by a lock across its threads (gunicorn's gthread workers); a line is one plain INSERT,
not an ORM object (every view writes one). Lines
older than ``AUDIT_RETENTION_DAYS`` are removed by :func:`purge` (oldest first); the first line left
then anchors the chain with its stored ``prev_hash``, and the purge itself is a line of the log.
"""

from __future__ import annotations

import functools
import hashlib
import json
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import delete, func, insert, select, text

from hub.extensions import db
from hub.models.audit import AuditEvent
from hub.services._util import aware, utcnow

GENESIS = "0" * 64
#: Any constant: PostgreSQL's advisory lock that serialises appends, so the chain never forks.
_CHAIN_LOCK = 7_342_019
#: The same for the threads of one process, on any database (the last line read, the new one written
#: and committed, before another thread reads the last line).
_THREAD_LOCK = threading.Lock()

#: action → how the audit page names it.
ACTIONS = {
    "view": "bekeken",
    "export": "gedownload",
    "login": "ingelogd",
    "login_failed": "inloggen mislukt",
    "lockout": "account tijdelijk geblokkeerd",
    "throttled": "te veel pogingen vanaf dit adres",
    "logout": "uitgelogd",
    "admin": "beheer",
    "mfa": "tweede factor",
}
RESULTS = {"ok": "gelukt", "failed": "mislukt", "denied": "geweigerd"}


def _request_origin() -> tuple[str | None, str | None]:
    from flask import g, has_request_context, request

    if not has_request_context():
        return None, None
    access = g.get("access")
    return request.remote_addr, (access.email if access is not None else None)


def record(user_id: int | None, action: str, target: str, fmt: str | None = None, *, result: str = "ok",
           actor: str | None = None, origin: str | None = None) -> None:
    if action not in ACTIONS:
        raise ValueError(f"unknown audit action {action!r}")
    if result not in RESULTS:
        raise ValueError(f"unknown audit result {result!r}")
    request_origin, request_actor = _request_origin()
    event = AuditEvent(user_id=user_id, action=action, target=target[:200], fmt=fmt, result=result,
                       origin=(origin or request_origin or "")[:64] or None,
                       actor=(actor or request_actor or "")[:254] or None, at=utcnow())
    with _THREAD_LOCK:
        _append(event)
        db.session.commit()


def _line(event: AuditEvent) -> bytes:
    """The fields a line's hash covers, canonically (times as UTC to the microsecond)."""
    at = aware(event.at).isoformat(timespec="microseconds")
    fields = [at, event.user_id, event.action, event.target, event.fmt, event.result, event.origin, event.actor]
    return json.dumps(fields, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def line_hash(prev_hash: str, event: AuditEvent) -> str:
    return hashlib.sha256(prev_hash.encode("ascii") + b"\n" + _line(event)).hexdigest()


def _append(event: AuditEvent) -> None:
    """Chain ``event`` to the last line and insert it (the caller holds :data:`_THREAD_LOCK` and commits).

    ``event`` is not added to the session: one INSERT of its fields, without the ORM's unit of work."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _CHAIN_LOCK})
    last_hash, insert_line = _statements()
    event.prev_hash = db.session.scalar(last_hash) or GENESIS
    event.line_hash = line_hash(event.prev_hash, event)
    db.session.execute(insert_line, {c: getattr(event, c) for c in _COLUMNS})


#: Every column a line is written with (the id is the database's).
_COLUMNS = ("at", "user_id", "action", "target", "fmt", "result", "origin", "actor", "prev_hash", "line_hash")


@functools.cache
def _statements():
    """The last line's hash and the insert of a line, built once (every view writes a line)."""
    return (select(AuditEvent.line_hash).order_by(AuditEvent.id.desc()).limit(1),
            insert(AuditEvent.__table__))


@dataclass(frozen=True)
class ChainCheck:
    lines: int
    broken_at: int | None  # id of the first line that does not follow from the one before
    reason: str = ""

    @property
    def ok(self) -> bool:
        return self.broken_at is None


def verify() -> ChainCheck:
    """Walk the chain from the oldest line kept; the first line that does not follow is reported."""
    prev: str | None = None
    count = 0
    for event in db.session.scalars(select(AuditEvent).order_by(AuditEvent.id).execution_options(yield_per=1000)):
        count += 1
        if event.line_hash is None:
            return ChainCheck(count, event.id, "regel zonder hash")
        if prev is not None and event.prev_hash != prev:
            return ChainCheck(count, event.id, "sluit niet aan op de regel ervoor (weggehaald of tussengevoegd)")
        if line_hash(event.prev_hash or GENESIS, event) != event.line_hash:
            return ChainCheck(count, event.id, "inhoud gewijzigd")
        prev = event.line_hash
    return ChainCheck(count, None)


def purge(now: datetime | None = None) -> int:
    """Remove lines older than ``AUDIT_RETENTION_DAYS`` (0 keeps everything); logs the purge itself."""
    days = int(current_app.config.get("AUDIT_RETENTION_DAYS") or 0)
    if days <= 0:
        return 0
    cutoff = (now or utcnow()) - timedelta(days=days)
    removed = db.session.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.at < cutoff)) or 0
    if removed:
        db.session.execute(delete(AuditEvent).where(AuditEvent.at < cutoff),
                           execution_options={"synchronize_session": False})
        db.session.commit()
        db.session.expire_all()
        record(None, "admin", f"auditlog opgeschoond: {removed} regels ouder dan {days} dagen", actor="hub")
    return removed


def all_lines() -> list[AuditEvent]:
    return list(db.session.scalars(select(AuditEvent).order_by(AuditEvent.id)))


def recent(limit: int = 200) -> list[AuditEvent]:
    return list(db.session.scalars(select(AuditEvent).order_by(AuditEvent.id.desc()).limit(limit)))
