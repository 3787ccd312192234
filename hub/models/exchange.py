"""The overlap exchanges of a round (PSI-CA, docs/overlap.md): one per pair of an SWV's and a
municipality's submission, with its step timestamps, and the blinded payloads while it runs.

A payload row exists only while its exchange is open: counting, abandoning or superseding an
exchange deletes its payloads, so what stays is the exchange's steps, its counts
(``overlap_counts``) and no point, digest or pseudonym."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, DateTime, ForeignKey, Integer, LargeBinary, String, UniqueConstraint, func
from sqlalchemy.orm import Mapped, mapped_column

from hub.models.base import Base

EXCHANGE_OPEN = "open"
EXCHANGE_COUNTED = "counted"
EXCHANGE_ABANDONED = "abandoned"  # not finished when the round was published or closed
EXCHANGE_SUPERSEDED = "superseded"  # a newer submission of either node started a new exchange

#: The four payloads of an exchange: each node's blinded set, and each node's re-blinding of the other's.
GEMEENTE_BLINDED = "gemeente_blinded"
SWV_BLINDED = "swv_blinded"
GEMEENTE_REBLINDED = "gemeente_reblinded"  # the SWV's set re-blinded by the municipality
SWV_REBLINDED = "swv_reblinded"  # the municipality's set re-blinded by the SWV
PAYLOAD_KINDS = (GEMEENTE_BLINDED, SWV_BLINDED, GEMEENTE_REBLINDED, SWV_REBLINDED)


class OverlapExchange(Base):
    """One comparison of an SWV's support set with a municipality's client set in one round."""

    __tablename__ = "overlap_exchanges"
    __table_args__ = (
        UniqueConstraint("round_id", "swv_submission_id", "gemeente_submission_id", name="uq_overlap_exchanges_pair"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id"), index=True)
    # The protocol's exchange id (shared.psi.Exchange): SWV, municipality and both submission ids.
    exchange_id: Mapped[str] = mapped_column(String(64), unique=True)
    swv_node_id: Mapped[int] = mapped_column(ForeignKey("nodes.id"))
    gemeente_node_id: Mapped[int] = mapped_column(ForeignKey("nodes.id"))
    swv_submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id"))
    gemeente_submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id"))
    status: Mapped[str] = mapped_column(String(16), default=EXCHANGE_OPEN)
    reason: Mapped[str | None] = mapped_column(String(200))  # Dutch: why it was abandoned or superseded
    # The schools the municipality sent (public vestigingscodes; the SWV blinds at these only).
    gemeente_schools: Mapped[list[str] | None] = mapped_column(JSON)
    schools_counted: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    gemeente_blinded_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    swv_blinded_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    gemeente_reblinded_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    swv_reblinded_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))  # counted, abandoned or superseded

    def __repr__(self) -> str:
        return f"<OverlapExchange {self.exchange_id} {self.status}>"


class ExchangePayload(Base):
    """A blinded or re-blinded set (``shared.psi.encode_sets`` bytes) while its exchange runs."""

    __tablename__ = "overlap_payloads"

    exchange_pk: Mapped[int] = mapped_column(ForeignKey("overlap_exchanges.id", ondelete="CASCADE"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(24), primary_key=True)
    data: Mapped[bytes] = mapped_column(LargeBinary)
    digest: Mapped[str] = mapped_column(String(64))  # the payload's own digest field
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
