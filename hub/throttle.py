"""Throttled logins (Flask-Limiter): per client address and per account, answered with 429 and
``Retry-After``; failed API-token attempts are throttled per address the same way.

Only failures count (a 401 answer), so an office whose users share one address is not locked out by
its own successful logins. ``LOGIN_LOCKOUT_ATTEMPTS`` failures for one e-mail address within
``LOGIN_LOCKOUT_MINUTES`` lock that account for the rest of the window, even with the right password;
every refused attempt while locked is an audit line ``lockout`` with the e-mail and the address.

The counters live in ``RATELIMIT_STORAGE_URI``: memory (one process) in the embedded default, the
configured Redis (``CELERY_BROKER_URL``) otherwise, so every web worker shares them.
"""

from __future__ import annotations

import time

from flask import Flask, current_app, request
from flask_limiter import Limiter, RequestLimit
from flask_limiter.errors import RateLimitExceeded
from limits import parse

from shared.errors import ConfigError, TooManyRequests

EXTENSION = "hub_limiter"
_MESSAGE = "Te veel mislukte pogingen. Wacht even en probeer het dan opnieuw."


def client_address() -> str:
    return request.remote_addr or "onbekend"


def login_email() -> str:
    """The e-mail address a login form names, normalised the way accounts are stored."""
    return (request.form.get("email") or "").strip().lower()[:254]


def storage_uri(config) -> str:
    explicit = config.get("RATELIMIT_STORAGE_URI")
    if explicit:
        return str(explicit)
    broker = str(config.get("CELERY_BROKER_URL") or "")
    return broker if broker.startswith(("redis://", "rediss://")) else "memory://"


def _failed(response) -> bool:
    return response.status_code == 401


def _limit_string(config, name: str) -> str:
    value = str(config.get(name) or "")
    try:
        parse(value)
    except ValueError:
        raise ConfigError(f"HUB_{name}={value!r} is geen limiet (bijv. '20 per 10 minutes')",
                          code="invalid_config", details={"setting": f"HUB_{name}"}) from None
    return value


def lockout_limit(config) -> str:
    attempts, minutes = int(config["LOGIN_LOCKOUT_ATTEMPTS"]), int(config["LOGIN_LOCKOUT_MINUTES"])
    if attempts < 1 or minutes < 1:
        raise ConfigError("HUB_LOGIN_LOCKOUT_ATTEMPTS en HUB_LOGIN_LOCKOUT_MINUTES moeten minstens 1 zijn",
                          code="invalid_config", details={"setting": "HUB_LOGIN_LOCKOUT_ATTEMPTS"})
    return f"{attempts} per {minutes} minutes"


def _on_lockout(limit: RequestLimit) -> None:
    from hub.services import audit

    audit.record(None, "lockout", "login", result="denied", actor=login_email() or "(leeg)")


def _on_address_throttled(limit: RequestLimit) -> None:
    from hub.services import audit

    audit.record(None, "throttled", "login", result="denied", actor=login_email() or "(leeg)")


def init_app(app: Flask) -> None:
    """A limiter of this app's own (its counters are not shared with another app in the same process)."""
    config = app.config
    limiter = Limiter(key_func=client_address, app=app, storage_uri=storage_uri(config), key_prefix="jeugdhub",
                      headers_enabled=False, strategy="fixed-window")
    app.extensions[EXTENSION] = limiter
    per_address = _limit_string(config, "LOGIN_LIMIT_PER_ADDRESS")
    _limit_string(config, "TOKEN_LIMIT_PER_ADDRESS")
    view = app.view_functions["web.login"]
    view = limiter.limit(per_address, methods=["POST"], key_func=client_address, deduct_when=_failed,
                         on_breach=_on_address_throttled, scope="login-address")(view)
    view = limiter.limit(lockout_limit(config), methods=["POST"], key_func=login_email, deduct_when=_failed,
                         on_breach=_on_lockout, scope="login-account")(view)
    app.view_functions["web.login"] = view
    from hub.web.auth import pending_key

    # Wrong second-factor codes count towards the same lockout, per account.
    app.view_functions["web.login_mfa"] = limiter.limit(lockout_limit(config), methods=["POST"], key_func=pending_key,
                                                        deduct_when=_failed, on_breach=_on_lockout,
                                                        scope="login-mfa")(app.view_functions["web.login_mfa"])

    # Failed sign-ins through the organisation's identity provider count per address, like passwords.
    if "web.login_oidc_callback" in app.view_functions:
        app.view_functions["web.login_oidc_callback"] = limiter.limit(
            per_address, methods=["GET"], key_func=client_address, deduct_when=_failed, on_breach=_on_address_throttled,
            scope="login-oidc")(app.view_functions["web.login_oidc_callback"])

    @app.errorhandler(RateLimitExceeded)
    def _limited(exc: RateLimitExceeded):
        from hub.api.errors import jeugdhub_response

        current = limiter.current_limit
        retry_after = (current.reset_at - time.time()) if current is not None else 60
        return jeugdhub_response(TooManyRequests(_MESSAGE, retry_after=int(retry_after) + 1))


def _token_limit():
    return parse(current_app.config["TOKEN_LIMIT_PER_ADDRESS"])


def check_token_attempts() -> None:
    """Before a bearer token is looked up: 429 once this address has too many wrong tokens."""
    limiter = current_app.extensions.get(EXTENSION)
    if limiter is None:
        return
    limit = _token_limit()
    if not limiter.limiter.test(limit, "jeugdhub", "token", client_address()):
        stats = limiter.limiter.get_window_stats(limit, "jeugdhub", "token", client_address())
        raise TooManyRequests(_MESSAGE, retry_after=int(stats.reset_time - time.time()) + 1)


def token_failed() -> None:
    from hub.services import audit

    limiter = current_app.extensions.get(EXTENSION)
    if limiter is not None:
        limiter.limiter.hit(_token_limit(), "jeugdhub", "token", client_address())
    audit.record(None, "login_failed", "api-token", result="failed", actor="(token)")
