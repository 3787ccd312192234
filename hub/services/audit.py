"""Record who viewed or exported what. Targets name pages and codes, never figures or children's data."""

from __future__ import annotations

from sqlalchemy import select

from hub.extensions import db
from hub.models.audit import AuditEvent

ACTIONS = frozenset({"view", "export", "login", "login_failed", "logout", "admin"})


def record(user_id: int | None, action: str, target: str, fmt: str | None = None) -> None:
    if action not in ACTIONS:
        raise ValueError(f"unknown audit action {action!r}")
    db.session.add(AuditEvent(user_id=user_id, action=action, target=target[:200], fmt=fmt))
    db.session.commit()


def recent(limit: int = 200) -> list[AuditEvent]:
    return list(db.session.scalars(select(AuditEvent).order_by(AuditEvent.id.desc()).limit(limit)))
