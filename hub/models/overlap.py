"""Overlap counts: per school, how many children an SWV's and a municipality's sets share (PSI-CA).

Only the counts are kept, never a blinded point (docs/overlap.md). A count is tied to the two
submissions whose populations it compares: a correction by either node makes it stale, and a
release uses only counts whose two submissions it is built from."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, DateTime, ForeignKey, Integer, String, UniqueConstraint, func
from sqlalchemy.orm import Mapped, mapped_column

from hub.models.base import Base


class OverlapCount(Base):
    """The number of children both in an SWV's support set and in a municipality's client set at one
    school (vestiging) in one round, as the hub's matcher counted it."""

    __tablename__ = "overlap_counts"
    __table_args__ = (
        UniqueConstraint("round_id", "swv_submission_id", "gemeente_submission_id", "vestigingscode",
                         name="uq_overlap_counts_pair_school"),
        CheckConstraint("beide >= 0", name="beide_nonnegative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id"), index=True)
    vestigingscode: Mapped[str] = mapped_column(String(6))
    swv_node_id: Mapped[int] = mapped_column(ForeignKey("nodes.id"))
    gemeente_node_id: Mapped[int] = mapped_column(ForeignKey("nodes.id"))
    # The submissions whose populations the two sets are (the SWV's support at the school, the
    # municipality's clients at the school, both at the round's peildatum).
    swv_submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id"))
    gemeente_submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id"))
    beide: Mapped[int] = mapped_column(Integer)  # children in both sets
    counted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    def __repr__(self) -> str:
        return f"<OverlapCount round={self.round_id} {self.vestigingscode} beide={self.beide}>"
