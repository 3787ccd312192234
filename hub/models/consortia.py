"""Provider → consortium table uploaded by an admin, so the coverage view can group providers."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, String, func
from sqlalchemy.orm import Mapped, mapped_column

from hub.models.base import Base


class Consortium(Base):
    __tablename__ = "consortia"

    id: Mapped[int] = mapped_column(primary_key=True)
    naam: Mapped[str] = mapped_column(String(200), unique=True)


class ConsortiumMember(Base):
    """One provider (AGB code) in one consortium; a provider belongs to at most one consortium."""

    __tablename__ = "consortium_members"

    id: Mapped[int] = mapped_column(primary_key=True)
    consortium_id: Mapped[int] = mapped_column(ForeignKey("consortia.id"), index=True)
    aanbieder_agb: Mapped[str] = mapped_column(String(8), unique=True)
    aanbieder_naam: Mapped[str] = mapped_column(String(200), default="")
    uploaded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
