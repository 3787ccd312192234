"""Flask-Login for the pages: the login manager, and how a session's user is loaded.

A session ends (opens nothing any more) when
- its user's ``session_version`` was raised: logout, a password change, disabling or re-enabling
  (server-side revocation, :func:`hub.services.users.load_user`);
- it was idle longer than ``SESSION_IDLE_MINUTES`` (default 30; the last-seen time is kept to the
  minute, :data:`SEEN_RESOLUTION`, so it may end up to a minute sooner);
- it is older than ``SESSION_MAX_HOURS`` (default 8), however busy.

Roles, scope and the route guards live in hub/access.py (the API uses them too).
"""

from __future__ import annotations

import time
from datetime import timedelta

from flask import current_app, flash, session
from flask_login import LoginManager, login_user

login_manager = LoginManager()
#: Session key of a login whose password was right and whose second factor is to come:
#: {"id", "v", "at", "next"} (hub/web/mfa_views.py).
PENDING = "_hub_mfa_pending"


def pending_key() -> str:
    """The throttle's key for second-factor attempts: the account the pending login is for."""
    pending = session.get(PENDING)
    return f"mfa-{pending.get('id')}" if isinstance(pending, dict) else ""

#: Session keys of the hub's own: when the session began and when it was last used (epoch seconds).
LOGIN_AT = "_hub_login_at"
SEEN_AT = "_hub_seen_at"
#: The last-seen time is rewritten at most this often (seconds): a changed session is a cookie signed
#: and sent again, so not on every request. The idle limit is then reached up to this much sooner,
#: never later.
SEEN_RESOLUTION = 60
_LOGIN_KEYS = ("_user_id", "_fresh", "_id", "_remember", LOGIN_AT, SEEN_AT)


def _now() -> float:
    return time.time()  # tests move the clock here


def init_login(app) -> None:
    login_manager.init_app(app)
    login_manager.login_view = "web.login"
    login_manager.login_message = "Log in om deze pagina te zien."
    login_manager.session_protection = "strong"
    login_manager.user_loader(load_session_user)
    absolute = timedelta(hours=int(app.config["SESSION_MAX_HOURS"]))
    # Never Flask's 31 days: neither the session cookie nor a remember-me cookie outlives a session.
    app.config["PERMANENT_SESSION_LIFETIME"] = absolute
    app.config["REMEMBER_COOKIE_DURATION"] = absolute


def start_session(user) -> None:
    """Log ``user`` in on a fresh session (no state from before the login survives: no fixation)."""
    session.clear()
    login_user(user)
    now = _now()
    session[LOGIN_AT] = now
    session[SEEN_AT] = now


def end_session() -> None:
    for key in _LOGIN_KEYS:
        session.pop(key, None)


def load_session_user(session_id: str):
    from hub.services import users

    now = _now()
    started, seen = session.get(LOGIN_AT), session.get(SEEN_AT)
    idle = int(current_app.config["SESSION_IDLE_MINUTES"]) * 60
    absolute = int(current_app.config["SESSION_MAX_HOURS"]) * 3600
    if not isinstance(started, (int, float)) or not isinstance(seen, (int, float)):
        end_session()  # a session without our timestamps (a remember-me cookie, an old cookie): nothing
        return None
    if now - seen > idle or now - started > absolute:
        end_session()
        flash("Uw sessie is verlopen; log opnieuw in.")
        return None
    user = users.load_user(session_id)
    if user is None:
        end_session()
        return None
    if now - seen >= SEEN_RESOLUTION:
        session[SEEN_AT] = now
    return user
