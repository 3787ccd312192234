"""Accounts: create, list, disable, authenticate (password or API token). Owns its transactions."""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass

from sqlalchemy import select
from werkzeug.security import check_password_hash, generate_password_hash

from hub.extensions import db
from hub.models.users import ROLES, ApiToken, User
from hub.services._util import utcnow
from shared.codes import is_vestigingscode, normalise_gemeentecode
from shared.errors import ConflictError, InputError, NotFoundError

from hub.services.passwords import MIN_PASSWORD_LENGTH  # noqa: E402,F401  (re-exported)
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+$")
_SWV = re.compile(r"^(PO|VO)\d{4}$")
_dummy_hashes: dict[str, str] = {}


def _hash_method() -> str:
    """scrypt by default; tests may set ``PASSWORD_HASH_METHOD`` to a cheap pbkdf2 to stay fast."""
    from flask import current_app

    return current_app.config.get("PASSWORD_HASH_METHOD", "scrypt")


def _dummy_hash() -> str:
    """A hash to check against when the e-mail is unknown, so a failed login takes as long either way."""
    method = _hash_method()
    if method not in _dummy_hashes:
        _dummy_hashes[method] = generate_password_hash("timing-equaliser-not-a-password", method=method)
    return _dummy_hashes[method]


@dataclass(frozen=True)
class UserInfo:
    """What the CLI and the admin pages show of a user (never the hash)."""

    id: int
    email: str
    naam: str
    role: str
    scope: str | None
    active: bool

    @classmethod
    def of(cls, user: User) -> "UserInfo":
        return cls(user.id, user.email, user.naam, user.role, user.scope, bool(user.active))

    def to_dict(self) -> dict:
        return {"id": self.id, "email": self.email, "naam": self.naam, "rol": self.role, "scope": self.scope, "actief": self.active}


def normalise_scope(role: str, scope: str | None) -> str | None:
    """Check a role's scope and bring it to canonical form (``356`` → ``0356``, ``PO-27-01`` → ``PO2701``)."""
    if role not in ROLES:
        raise InputError(f"Onbekende rol '{role}'; kies uit: {', '.join(ROLES)}", code="unknown_role")
    _, kind = ROLES[role]
    if kind is None:
        if scope:
            raise InputError("Een regiobeheerder heeft geen scope", code="bad_scope")
        return None
    if not scope:
        raise InputError(f"Rol '{role}' heeft een scope nodig ({kind})", code="bad_scope")
    scope = scope.strip()
    if kind == "gemeentecode":
        try:
            return normalise_gemeentecode(scope)
        except ValueError as exc:
            raise InputError(str(exc), code="bad_scope") from None
    if kind == "swv-code":
        code = scope.upper().replace("-", "").replace(" ", "")
        if not _SWV.match(code):
            raise InputError(f"'{scope}' is geen samenwerkingsverband-code (bijv. PO2701)", code="bad_scope")
        return code
    if kind == "vestigingscode":
        code = scope.upper()
        if not is_vestigingscode(code):
            raise InputError(f"'{scope}' is geen vestigingscode (bijv. 04DA00)", code="bad_scope")
        return code
    if not scope.isdigit():
        raise InputError(f"'{scope}' is geen consortium-id (een getal)", code="bad_scope")
    from hub.models.consortia import Consortium

    scope = str(int(scope))
    if db.session.get(Consortium, int(scope)) is None:
        raise InputError(f"Er is geen consortium met id {scope}; lees eerst de consortiumtabel in "
                         "(Beheer → Consortia) en kies een id uit die tabel", code="unknown_consortium")
    return scope


def unknown_scope(role: str, scope: str | None) -> str | None:
    """A Dutch sentence when a (normalised) scope is not in the reference data yet, else None.

    Not an error: an account may be made before the DUO files are read in (``jeugdhub reference
    import``), and it sees its figures once they are. But a typo (``04DA01`` for ``04DA00``) would
    otherwise give an account that sees nothing, without a word.
    """
    from hub.models.reference import Gemeente, Samenwerkingsverband, Vestiging

    if role not in ROLES or not scope:
        return None
    kind = ROLES[role][1]
    model, what = {"gemeentecode": (Gemeente, "gemeente"), "swv-code": (Samenwerkingsverband, "samenwerkingsverband"),
                   "vestigingscode": (Vestiging, "vestiging")}.get(kind, (None, ""))
    if model is None or db.session.get(model, scope) is not None:
        return None
    if what == "gemeente":
        # A gemeente sees the whole region; its scope picks the schools its overview opens with.
        return (f"Let op: gemeente {scope} staat (nog) niet in de referentiegegevens. Controleer de code; het "
                "overzicht van de gebruiker toont pas scholen van deze gemeente als de DUO-bestanden met deze code "
                "zijn ingelezen (jeugdhub reference import).")
    return (f"Let op: {what} {scope} staat (nog) niet in de referentiegegevens. Controleer de code; de gebruiker "
            "ziet pas cijfers als de DUO-bestanden met deze code zijn ingelezen (jeugdhub reference import).")


def check_password(password: str, email: str = "") -> None:
    """The password policy (:mod:`hub.services.passwords`): 12 characters and not trivially weak."""
    from hub.services import passwords

    passwords.check(password, email)


def add_user(email: str, password: str, role: str, scope: str | None = None, naam: str = "") -> UserInfo:
    email = email.strip().lower()
    if not _EMAIL.match(email):
        raise InputError(f"'{email}' is geen e-mailadres", code="bad_email")
    check_password(password, email)
    scope = normalise_scope(role, scope)
    if db.session.scalar(select(User).where(User.email == email)) is not None:
        raise ConflictError(f"Er bestaat al een gebruiker {email}", code="user_exists")
    user = User(email=email, naam=naam, password_hash=generate_password_hash(password, method=_hash_method()), role=role, scope=scope)
    db.session.add(user)
    db.session.commit()
    return UserInfo.of(user)


def list_users() -> list[UserInfo]:
    return [UserInfo.of(u) for u in db.session.scalars(select(User).order_by(User.email))]


def _get(email: str) -> User:
    user = db.session.scalar(select(User).where(User.email == email.strip().lower()))
    if user is None:
        raise NotFoundError(f"Geen gebruiker {email}", code="user_not_found")
    return user


def _revoke_sessions(user: User) -> None:
    """End every session (and remember-cookie) of the user: the version in their cookies no longer matches."""
    user.session_version = (user.session_version or 0) + 1


def revoke_sessions(user_id: int) -> None:
    """Log the user out everywhere (the logout button does this for its own user)."""
    user = db.session.get(User, user_id)
    if user is not None:
        _revoke_sessions(user)
        db.session.commit()


def set_active(email: str, active: bool) -> UserInfo:
    """Disable (or re-enable) an account; disabling also revokes its API tokens. Either way every
    session of the account ends, so re-enabling does not revive a cookie from before."""
    user = _get(email)
    user.active = active
    _revoke_sessions(user)
    if not active:
        for token in db.session.scalars(select(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))):
            token.revoked_at = utcnow()
    db.session.commit()
    return UserInfo.of(user)


def set_password(email: str, password: str) -> UserInfo:
    """A new password (checked like a new account's); every session of the account ends."""
    user = _get(email)
    check_password(password, user.email)
    user.password_hash = generate_password_hash(password, method=_hash_method())
    _revoke_sessions(user)
    db.session.commit()
    return UserInfo.of(user)


def authenticate(email: str, password: str) -> User | None:
    """The active user with this e-mail and password, or None (same answer for every failure)."""
    user = db.session.scalar(select(User).where(User.email == (email or "").strip().lower()))
    if user is None:
        check_password_hash(_dummy_hash(), password or "")
        return None
    if not check_password_hash(user.password_hash, password or "") or not user.active:
        return None
    user.last_login_at = utcnow()
    db.session.commit()
    return user


def _token_hash(token: str) -> str:
    # Tokens are 256-bit random values, so a plain SHA-256 is a sound lookup hash (no dictionary to try).
    return hashlib.sha256(token.encode()).hexdigest()


def create_api_token(email: str, label: str = "") -> str:
    """A new bearer token for the user; returned once, stored only as a hash."""
    user = _get(email)
    if not user.active:
        raise ConflictError(f"Gebruiker {email} is uitgeschakeld", code="user_disabled")
    token = "jh_" + secrets.token_urlsafe(32)
    db.session.add(ApiToken(user_id=user.id, token_hash=_token_hash(token), label=label))
    db.session.commit()
    return token


def user_for_token(token: str) -> User | None:
    row = db.session.scalar(select(ApiToken).where(ApiToken.token_hash == _token_hash(token), ApiToken.revoked_at.is_(None)))
    if row is None:
        return None
    user = db.session.get(User, row.user_id)
    return user if user is not None and user.active else None


def load_user(session_id: str) -> User | None:
    """The active user of a session's ``"<id>:<session version>"``; None once that version is revoked."""
    user_id, sep, version = str(session_id or "").partition(":")
    if not sep or not user_id.isdigit() or not version.isdigit():
        return None  # also a cookie from before session versions existed: it opens nothing
    user = db.session.get(User, int(user_id))
    if user is None or not user.active or (user.session_version or 0) != int(version):
        return None
    return user
