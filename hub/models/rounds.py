"""Collection rounds: one school year, one peildatum, the nodes expected to submit."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Date, DateTime, ForeignKey, Integer, String, func
from sqlalchemy.orm import Mapped, mapped_column

from hub.models.base import Base

ROUND_OPEN = "open"
ROUND_CLOSED = "closed"


class Round(Base):
    """A round collects one partial per node for one schooljaar and publishes versioned releases."""

    __tablename__ = "rounds"

    id: Mapped[int] = mapped_column(primary_key=True)
    schooljaar: Mapped[str] = mapped_column(String(9), index=True)
    peildatum: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16), default=ROUND_OPEN)
    # Sorted list of gemeentecodes; a JSON list keeps the round self-describing even after a node is revoked.
    expected_nodes: Mapped[list[str]] = mapped_column(JSON, default=list)
    opened_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # The first publication goes out at the latest at this moment, whoever is still missing (the
    # calendar, docs/architecture.md). None: rounds opened before the calendar, or opened without one.
    deadline: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Switched in the same transaction that inserts a release (rounds ↔ releases is a cycle, hence use_alter).
    current_release_id: Mapped[int | None] = mapped_column(
        ForeignKey("releases.id", use_alter=True, name="fk_rounds_current_release_id_releases")
    )

    def __repr__(self) -> str:
        return f"<Round {self.id} {self.schooljaar} {self.status}>"


class CombineStatus(Base):
    """The step a combine of a round is at, while it runs; the rounds page reads it.

    A table of its own rather than columns on ``rounds``: the combine holds a row lock on its round
    until it commits (PostgreSQL), so writing the step to that row from a second, short transaction
    would wait for the combine itself. One row per round; written at the start of each step in its
    own transaction (visible to every process at once) and deleted when the combine ends.
    """

    __tablename__ = "combine_status"

    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id", ondelete="CASCADE"), primary_key=True)
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    step: Mapped[int] = mapped_column(Integer)
    steps: Mapped[int] = mapped_column(Integer)
    label: Mapped[str] = mapped_column(String(80))
