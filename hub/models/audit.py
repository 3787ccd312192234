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
    action: Mapped[str] = mapped_column(String(20))  # view | export | login | login_failed | logout | admin
    target: Mapped[str] = mapped_column(String(200))  # e.g. "factsheet 04DA00 2024-2025"
    fmt: Mapped[str | None] = mapped_column(String(10))  # html | json | csv | xlsx | pdf | zip
