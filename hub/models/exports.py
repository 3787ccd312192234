"""Requested exports built in the background: a ZIP of the factsheet PDFs of a region or SWV."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, LargeBinary, String, Text, func
from sqlalchemy.orm import Mapped, mapped_column

from hub.models.base import Base

#: expired: done, but the ZIP was deleted after the retention period (the row stays for 'Mijn archieven').
ARCHIVE_STATUSES = ("queued", "running", "done", "failed", "expired")
SCOPE_KINDS = ("regio", "swv")


class FactsheetArchive(Base):
    __tablename__ = "factsheet_archives"

    id: Mapped[int] = mapped_column(primary_key=True)
    requested_by: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    scope_kind: Mapped[str] = mapped_column(String(10))  # regio | swv
    scope_code: Mapped[str | None] = mapped_column(String(20))  # the SWV code; None for the region
    gemeente: Mapped[str | None] = mapped_column(String(6))  # optional filter of the overview it came from
    schooljaar: Mapped[str] = mapped_column(String(9))
    base_url: Mapped[str] = mapped_column(String(200))  # the hub's address, for links inside the PDFs
    status: Mapped[str] = mapped_column(String(10), default="queued")  # queued | running | done | failed | expired
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    school_count: Mapped[int | None] = mapped_column()
    content: Mapped[bytes | None] = mapped_column(LargeBinary, deferred=True)  # the ZIP; not loaded for status pages
    error: Mapped[str | None] = mapped_column(Text)  # a Dutch message for the status page, never data
