"""The second factor of local accounts: TOTP (RFC 6238, pyotp) and one-time recovery codes.

Required at login for the roles in ``MFA_REQUIRED_ROLES`` (default ``regio_admin``, comma-separated;
empty = nobody); any user may enrol. ``DEMO_SKIP_MFA`` switches the requirement off for the demo and
is refused in production. The regio admin resets a lost factor (``jeugdhub user reset-2fa EMAIL``
or the users page); the user then enrols again at the next login.
"""

from __future__ import annotations

import hashlib
import secrets
import time

import pyotp
from flask import current_app

from hub.extensions import db
from hub.models.users import ROLES, User
from shared.errors import ConfigError

RECOVERY_CODES = 10
_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i


def required_roles(config) -> set[str]:
    roles = {r.strip() for r in str(config.get("MFA_REQUIRED_ROLES") or "").split(",") if r.strip()}
    unknown = sorted(roles - set(ROLES))
    if unknown:
        raise ConfigError(f"HUB_MFA_REQUIRED_ROLES noemt onbekende rollen: {', '.join(unknown)}",
                          code="invalid_config", details={"setting": "HUB_MFA_REQUIRED_ROLES"})
    return roles


def required(user: User) -> bool:
    if current_app.config.get("DEMO_SKIP_MFA"):
        return False
    return user.role in required_roles(current_app.config)


def enrolled(user: User) -> bool:
    return bool(user.totp_secret)


def new_secret() -> str:
    return pyotp.random_base32()


def provisioning_uri(secret: str, email: str) -> str:
    issuer = f"Jeugdhub {current_app.config.get('REGION_NAME') or ''}".strip()
    return pyotp.TOTP(secret).provisioning_uri(name=email, issuer_name=issuer)


def qr_data_uri(uri: str) -> str:
    """The QR code as an inline SVG (``data:`` URI; the pages' CSP allows images from data:)."""
    import segno

    return segno.make(uri, error="m").svg_data_uri(scale=5)


def _step_matching(secret: str, code: str, after: int | None) -> int | None:
    code = "".join(ch for ch in (code or "") if ch.isdigit())
    if len(code) != 6:
        return None
    totp, now = pyotp.TOTP(secret), time.time()
    for offset in (0, -1, 1):  # one step of clock drift either way
        step = int(now // 30) + offset
        if (after is None or step > after) and secrets.compare_digest(totp.at(step * 30), code):
            return step
    return None


def _hash(code: str) -> str:
    # 50 random bits per code and one use each: a plain SHA-256 is enough (nothing to look up in a dictionary).
    return hashlib.sha256(code.strip().lower().replace("-", "").replace(" ", "").encode()).hexdigest()


def _new_recovery_codes() -> list[str]:
    codes = []
    for _ in range(RECOVERY_CODES):
        raw = "".join(secrets.choice(_ALPHABET) for _ in range(10))
        codes.append(f"{raw[:5]}-{raw[5:]}")
    return codes


def enrol(user: User, secret: str, code: str) -> list[str] | None:
    """Store the secret once the user shows a valid code from it; returns the recovery codes (shown once)."""
    step = _step_matching(secret, code, None)
    if step is None:
        return None
    codes = _new_recovery_codes()
    user.totp_secret, user.totp_last_step = secret, step
    user.recovery_hashes = [_hash(c) for c in codes]
    db.session.commit()
    return codes


def verify(user: User, code: str) -> str | None:
    """``"totp"`` or ``"herstelcode"`` when the code is right (each works once), else None."""
    if not user.totp_secret:
        return None
    step = _step_matching(user.totp_secret, code, user.totp_last_step)
    if step is not None:
        user.totp_last_step = step
        db.session.commit()
        return "totp"
    hashed = _hash(code or "")
    remaining = list(user.recovery_hashes or [])
    for stored in remaining:
        if secrets.compare_digest(stored, hashed):
            remaining.remove(stored)
            user.recovery_hashes = remaining
            db.session.commit()
            return "herstelcode"
    return None


def reset(email: str) -> None:
    """Forget the user's second factor (lost phone); every session of the user ends."""
    from hub.services import users

    user = users._get(email)
    user.totp_secret = user.totp_last_step = user.recovery_hashes = None
    users._revoke_sessions(user)
    db.session.commit()
