"""People who log in to the hub: a role with a scope, a hashed password, and optional API tokens."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, DateTime, ForeignKey, Integer, String, func
from sqlalchemy.orm import Mapped, mapped_column

from hub.models.base import Base

ROLE_REGIO_ADMIN = "regio_admin"
ROLE_GEMEENTE = "gemeente"
ROLE_SWV = "swv"
ROLE_CONSORTIUM = "consortium"
ROLE_SCHOOL = "school"

#: role → (Dutch label, what its scope holds; None = no scope)
ROLES: dict[str, tuple[str, str | None]] = {
    ROLE_REGIO_ADMIN: ("Regiobeheerder", None),
    ROLE_GEMEENTE: ("Gemeente", "gemeentecode"),
    ROLE_SWV: ("Samenwerkingsverband", "swv-code"),
    ROLE_CONSORTIUM: ("Consortium", "consortium-id"),
    ROLE_SCHOOL: ("School", "vestigingscode"),
}


class User(Base):
    """An account. ``scope`` is the gemeentecode, SWV code, consortium id or vestigingscode of the role."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)  # the login name, stored lower-case
    naam: Mapped[str] = mapped_column(String(200), default="")
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(20))
    scope: Mapped[str | None] = mapped_column(String(40))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    last_login_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    #: Part of every session's user id: raising it (logout, password change, disable, enable) ends
    #: every session and remember-cookie issued before (server-side revocation).
    session_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    #: Second factor (hub/services/mfa.py): the TOTP secret once enrolled, the last time step used
    #: (a code works once), and the SHA-256 hashes of the unused one-time recovery codes.
    totp_secret: Mapped[str | None] = mapped_column(String(64))
    totp_last_step: Mapped[int | None] = mapped_column(Integer)
    recovery_hashes: Mapped[list | None] = mapped_column(JSON)

    # Flask-Login protocol ----------------------------------------------------------------------
    @property
    def is_active(self) -> bool:
        return bool(self.active)

    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str:
        # "<id>:<session version>": a cookie from before the last revocation no longer matches.
        return f"{self.id}:{self.session_version or 0}"

    def __repr__(self) -> str:
        return f"<User {self.id} {self.role}>"


class ApiToken(Base):
    """A bearer token for the JSON API, acting as its user with the user's role and scope (hash only)."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)  # sha256 hex of the token
    label: Mapped[str] = mapped_column(String(100), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
