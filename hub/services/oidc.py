"""Sign-in with the organisation's own identity provider (OpenID Connect): settings, and claims → account.

Settings (``HUB_`` environment variables): ``OIDC_ISSUER`` or ``OIDC_DISCOVERY_URL``, ``OIDC_CLIENT_ID``,
``OIDC_CLIENT_SECRET``; ``OIDC_MFA_AMR`` (``amr`` values that count as a second factor, default
``mfa,otp,hwk,swk``) and ``OIDC_MFA_ACR`` (``acr`` values that do, default none); ``OIDC_PROVISIONING``:
``preprovisioned`` (the verified e-mail must belong to an existing active account) or ``claims`` (the
account is created or updated from the role and scope claims ``OIDC_ROLE_CLAIM`` / ``OIDC_SCOPE_CLAIM``,
default ``hub_rol`` / ``hub_scope``).
"""

from __future__ import annotations

import secrets

from sqlalchemy import select
from werkzeug.security import generate_password_hash

from hub.extensions import db
from hub.models.users import User
from shared.errors import ConfigError, InputError

PROVISIONING = ("preprovisioned", "claims")
DEFAULT_MFA_AMR = "mfa,otp,hwk,swk"


def _values(setting) -> set[str]:
    if isinstance(setting, (list, tuple, set)):
        return {str(v).strip() for v in setting if str(v).strip()}
    return {v.strip() for v in str(setting or "").split(",") if v.strip()}


def configured(config) -> bool:
    return bool((config.get("OIDC_ISSUER") or config.get("OIDC_DISCOVERY_URL")) and config.get("OIDC_CLIENT_ID"))


def discovery_url(config) -> str:
    url = config.get("OIDC_DISCOVERY_URL")
    if url:
        return str(url)
    return str(config["OIDC_ISSUER"]).rstrip("/") + "/.well-known/openid-configuration"


def provisioning(config) -> str:
    mode = str(config.get("OIDC_PROVISIONING") or "preprovisioned")
    if mode not in PROVISIONING:
        raise ConfigError(f"HUB_OIDC_PROVISIONING={mode!r}: kies preprovisioned of claims", code="invalid_config",
                          details={"setting": "HUB_OIDC_PROVISIONING"})
    return mode


def idp_did_mfa(claims: dict, config) -> bool:
    """Whether the identity provider reports a second factor: an ``amr`` or ``acr`` value from the settings."""
    amr = claims.get("amr") or []
    amr = {amr} if isinstance(amr, str) else {str(v) for v in amr}
    mfa_amr = _values(config.get("OIDC_MFA_AMR", DEFAULT_MFA_AMR))
    mfa_acr = _values(config.get("OIDC_MFA_ACR"))
    return bool(amr & mfa_amr) or (claims.get("acr") is not None and str(claims.get("acr")) in mfa_acr)


def user_for_claims(claims: dict, config) -> User:
    """The account these (verified ID-token) claims sign in to; InputError in Dutch when there is none."""
    from hub.services.users import normalise_scope

    email = str(claims.get("email") or "").strip().lower()
    if not email or claims.get("email_verified") is not True:
        raise InputError("Uw organisatie gaf geen bevestigd e-mailadres door; vraag uw beheerder dit aan te zetten.",
                         code="oidc_no_email")
    user = db.session.scalar(select(User).where(User.email == email))
    if provisioning(config) == "preprovisioned":
        if user is None or not user.active:
            raise InputError(f"Er is geen actief account voor {email}; vraag de regiobeheerder om een account.",
                             code="oidc_no_account")
        return user
    role = claims.get(str(config.get("OIDC_ROLE_CLAIM") or "hub_rol"))
    scope = claims.get(str(config.get("OIDC_SCOPE_CLAIM") or "hub_scope"))
    if not role:
        raise InputError("Uw organisatie gaf geen rol door voor de hub; vraag uw beheerder dit aan te zetten.",
                         code="oidc_no_role")
    scope = normalise_scope(str(role), None if scope in (None, "") else str(scope))
    if user is None:
        user = User(email=email, naam=str(claims.get("name") or ""), role=str(role), scope=scope,
                    # No password: this account signs in through the identity provider only.
                    password_hash=generate_password_hash(secrets.token_urlsafe(32)))
        db.session.add(user)
    elif not user.active:
        raise InputError(f"Het account {email} is uitgeschakeld.", code="oidc_no_account")
    elif (user.role, user.scope) != (role, scope):
        user.role, user.scope = str(role), scope
        user.session_version = (user.session_version or 0) + 1  # old sessions had the old rights
    db.session.commit()
    return user
