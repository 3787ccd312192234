"""The audit log: who viewed or exported what, and when. Never figures, never personal data of children."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, String, func
from sqlalchemy.orm import Mapped, mapped_column

from hub.models.base import Base


class AuditEvent(Base):
    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now(), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    action: Mapped[str] = mapped_column(String(20))  # see hub.services.audit.ACTIONS
    target: Mapped[str] = mapped_column(String(200))  # e.g. "factsheet 04DA00 2024-2025"
    fmt: Mapped[str | None] = mapped_column(String(10))  # html | json | csv | xlsx | pdf | zip
    # BIO: each line says what happened (action, target), with what result, from where and by whom.
    result: Mapped[str] = mapped_column(String(10), default="ok", server_default="ok")  # ok | failed | denied
    origin: Mapped[str | None] = mapped_column(String(64))  # the client address (request.remote_addr)
    actor: Mapped[str | None] = mapped_column(String(254))  # e-mail of the user, or the e-mail tried at login
    # A hash chain, like the agent's log: each line's hash covers the previous line's hash and this
    # line's fields (hub.services.audit), so a changed, inserted or removed line shows (`jeugdhub audit verify`).
    prev_hash: Mapped[str | None] = mapped_column(String(64))
    line_hash: Mapped[str | None] = mapped_column(String(64))
