"""Record who viewed or exported what. Targets name pages and codes, never figures or children's data.

Every line carries what the BIO asks of a log line: the action and its object (``target``), the
result, the origin (the client address), the actor (an e-mail address, also the one tried at a failed
login) and the time. Inside a request the origin and actor are filled in from the request.
"""

from __future__ import annotations

from sqlalchemy import select

from hub.extensions import db
from hub.models.audit import AuditEvent

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
    db.session.add(AuditEvent(user_id=user_id, action=action, target=target[:200], fmt=fmt, result=result,
                              origin=(origin or request_origin or "")[:64] or None,
                              actor=(actor or request_actor or "")[:254] or None))
    db.session.commit()


def recent(limit: int = 200) -> list[AuditEvent]:
    return list(db.session.scalars(select(AuditEvent).order_by(AuditEvent.id.desc()).limit(limit)))
