"""Submissions: the raw signed envelopes nodes sent, kept byte for byte so releases can be rebuilt."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, DateTime, ForeignKey, Index, Integer, LargeBinary, String, UniqueConstraint, func, text
from sqlalchemy.orm import Mapped, deferred, mapped_column, relationship

from hub.models.base import Base
from hub.models.nodes import Node

SUBMISSION_CURRENT = "current"
SUBMISSION_SUPERSEDED = "superseded"


class Submission(Base):
    """One verified signed partial for one round; a newer one from the same node supersedes it.

    Combined are the *usable* submissions: current and not quarantined (``usable()``)."""

    __tablename__ = "submissions"
    __table_args__ = (
        # The same envelope bytes are stored once per round (replays answer "duplicate").
        UniqueConstraint("round_id", "digest", name="uq_submissions_round_id_digest"),
        # At most one current submission per node and round, enforced by the database itself.
        Index(
            "uq_submissions_current_per_node",
            "round_id",
            "node_id",
            unique=True,
            sqlite_where=text("status = 'current'"),
            postgresql_where=text("status = 'current'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id"), index=True)
    node_id: Mapped[int] = mapped_column(ForeignKey("nodes.id"), index=True)
    key_id: Mapped[str] = mapped_column(String(16))
    digest: Mapped[str] = mapped_column(String(64))  # sha256 of the envelope bytes
    payload_digest: Mapped[str] = mapped_column(String(64))  # sha256 of the signed partial payload
    envelope: Mapped[bytes] = deferred(mapped_column(LargeBinary))
    size_bytes: Mapped[int] = mapped_column(Integer)
    source: Mapped[str] = mapped_column(String(16), default="api")  # api | upload
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    status: Mapped[str] = mapped_column(String(16), default=SUBMISSION_CURRENT)
    superseded_by_id: Mapped[int | None] = mapped_column(ForeignKey("submissions.id"))
    # The first release this submission went into (None while it waits for combining).
    combined_in_release_id: Mapped[int | None] = mapped_column(
        ForeignKey("releases.id", use_alter=True, name="fk_submissions_combined_in_release_id_releases")
    )
    # Set when combining could not use this submission (hub.services.combine): it stays current
    # for audit, but no release includes it until the node sends a corrected partial.
    quarantine_code: Mapped[str | None] = mapped_column(String(40))  # the error's stable code
    quarantine_reason: Mapped[str | None] = mapped_column(String(500))  # Dutch, shown to admins
    quarantined_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    quality: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # DataQuality.to_dict()
    # AGB code → provider name from the partial (shared.partial.ProviderNames), only for the codes with
    # a provider cell in the round's school year; None on submissions stored before names were kept.
    provider_names: Mapped[dict[str, str] | None] = mapped_column(JSON, default=dict)
    cell_count: Mapped[int] = mapped_column(Integer, default=0)  # cells for the round's schooljaar

    node: Mapped[Node] = relationship()

    @classmethod
    def usable(cls):
        """SQL condition: what a release is built from."""
        return (cls.status == SUBMISSION_CURRENT) & cls.quarantined_at.is_(None)

    @property
    def quarantined(self) -> bool:
        return self.quarantined_at is not None

    def __repr__(self) -> str:
        return f"<Submission {self.id} round={self.round_id} node={self.node_id} {self.status}>"
