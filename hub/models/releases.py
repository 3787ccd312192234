"""Releases: immutable, versioned results of the disclosure gate for one round, cell by cell."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, DateTime, ForeignKey, Index, Integer, String, UniqueConstraint, func
from sqlalchemy.orm import Mapped, mapped_column, relationship

from hub.models.base import Base


class Release(Base):
    """One version of a round's published figures. Never updated after insert."""

    __tablename__ = "releases"
    __table_args__ = (
        # Two workers combining the same round cannot both write version n.
        UniqueConstraint("round_id", "version", name="uq_releases_round_id_version"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    schooljaar: Mapped[str] = mapped_column(String(9), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    digest: Mapped[str] = mapped_column(String(64))  # sha256 of release_bytes(...)
    submission_ids: Mapped[list[int]] = mapped_column(JSON)  # sorted
    audit: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # vestigingscode → schooltype as used for this release, so a rebuild does not depend on
    # reference data re-imported later.
    schooltypes: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    # Sorted vestigingscodes left out of this version (every level) because no earlier release of the
    # school year had them: a school that first appears in a correction would be pinned by the
    # change in the totals. Stored, so a rebuild and the auditor's history leave out the same schools.
    # None on releases made before the calendar (nothing held back).
    held_back: Mapped[list[str] | None] = mapped_column(JSON, default=list)
    cell_count: Mapped[int] = mapped_column(Integer, default=0)
    published_count: Mapped[int] = mapped_column(Integer, default=0)

    cells: Mapped[list["ReleaseCell"]] = relationship(
        back_populates="release", order_by="ReleaseCell.id", lazy="raise_on_sql"
    )

    def __repr__(self) -> str:
        return f"<Release {self.id} round={self.round_id} v{self.version}>"


class ReleaseCell(Base):
    """One cell of a release (hub/disclosure/frames.py's ``RELEASE_COLUMNS``). ``value`` is None whenever
    the cell is suppressed."""

    __tablename__ = "release_cells"
    __table_args__ = (
        Index("ix_release_cells_lookup", "release_id", "level", "unit", "measure"),
        Index("ix_release_cells_measure", "release_id", "measure"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    release_id: Mapped[int] = mapped_column(ForeignKey("releases.id"))
    level: Mapped[str] = mapped_column(String(16))  # vestiging | schooltype | regio
    unit: Mapped[str] = mapped_column(String(32))
    schooljaar: Mapped[str] = mapped_column(String(9))
    measure: Mapped[str] = mapped_column(String(40))
    category: Mapped[str] = mapped_column(String(80), default="")
    status: Mapped[str] = mapped_column(String(32))
    value: Mapped[int | None] = mapped_column(BigInteger)
    reason: Mapped[str | None] = mapped_column(String(32))
    flags: Mapped[str] = mapped_column(String(200), default="")  # comma-separated, sorted

    release: Mapped[Release] = relationship(back_populates="cells")
