"""Nodes (one per municipality or samenwerkingsverband), their Ed25519 public keys and one-time
enrolment tokens."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, DateTime, ForeignKey, String, Text, func
from sqlalchemy.orm import Mapped, mapped_column, relationship

from hub.models.base import Base
from shared.codes import NODE_GEMEENTE

NODE_ACTIVE = "active"
NODE_REVOKED = "revoked"


class Node(Base):
    """A party that may submit partials: a municipality (kind ``gemeente``, identified by its
    gemeentecode, ``0356``) or a samenwerkingsverband (kind ``swv``, by its SWV code, ``PO2607``).
    The two kinds of code never look alike, so one column holds both."""

    __tablename__ = "nodes"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(6), unique=True)
    kind: Mapped[str] = mapped_column(String(16), default=NODE_GEMEENTE, server_default=NODE_GEMEENTE)
    naam: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(16), default=NODE_ACTIVE)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    keys: Mapped[list["NodeKey"]] = relationship(back_populates="node", order_by="NodeKey.id")

    @property
    def active_key(self) -> "NodeKey | None":
        return next((k for k in self.keys if k.active), None)

    def __repr__(self) -> str:
        return f"<Node {self.kind} {self.code} {self.status}>"


class NodeKey(Base):
    """A node's public signing key. At most one is active; older ones stay for audit."""

    __tablename__ = "node_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    node_id: Mapped[int] = mapped_column(ForeignKey("nodes.id"), index=True)
    # Globally unique: a key id names exactly one key, so a submission's key id names its node.
    key_id: Mapped[str] = mapped_column(String(16), unique=True)
    public_key_pem: Mapped[str] = mapped_column(Text)
    agent_version: Mapped[str] = mapped_column(String(64), default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    node: Mapped[Node] = relationship(back_populates="keys")


class EnrolmentToken(Base):
    """A one-time enrolment token; only its SHA-256 is stored, the token itself is shown once."""

    __tablename__ = "enrolment_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    node_id: Mapped[int] = mapped_column(ForeignKey("nodes.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Set when a newer token is issued for the same node: the old one stops working.
    invalidated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    node: Mapped[Node] = relationship()
