"""The second factor on the pages: the code after the password, enrolment (QR code, recovery codes),
and the regio admin's users page with its reset button."""

from __future__ import annotations

import time

from flask import abort, flash, g, redirect, render_template, request, session, url_for
from flask_login import current_user

from hub.access import ADMIN, page_roles
from hub.services import audit, mfa
from hub.web.auth import PENDING, start_session
from hub.web.blueprint import bp, safe_next

SECRET = "_hub_mfa_secret"  # the secret shown during enrolment, until a code from it is entered
PENDING_SECONDS = 300


def begin_second_factor(user, next_url: str | None):
    session.clear()
    session[PENDING] = {"id": user.id, "v": user.session_version or 0, "at": time.time(), "next": next_url}
    return redirect(url_for("web.login_mfa" if mfa.enrolled(user) else "web.mfa_setup"))


def pending_user():
    from hub.extensions import db
    from hub.models.users import User

    pending = session.get(PENDING)
    if not isinstance(pending, dict) or time.time() - float(pending.get("at", 0)) > PENDING_SECONDS:
        return None
    user = db.session.get(User, int(pending.get("id", 0)))
    if user is None or not user.active or (user.session_version or 0) != pending.get("v"):
        return None
    return user


def _finish(user, how: str):
    next_url = (session.get(PENDING) or {}).get("next")
    start_session(user)
    audit.record(user.id, "login", f"login met {how}", actor=user.email)
    return redirect(safe_next(next_url) or url_for("web.home"))


@bp.route("/login/tweede-factor", methods=["GET", "POST"])
def login_mfa():
    user = pending_user()
    if user is None or not mfa.enrolled(user):
        return redirect(url_for("web.login"))
    error = None
    if request.method == "POST":
        how = mfa.verify(user, request.form.get("code", ""))
        if how is not None:
            return _finish(user, how)
        audit.record(user.id, "login_failed", "tweede factor", result="failed", actor=user.email)
        error = "Deze code klopt niet (of is al gebruikt). Probeer de nieuwe code uit uw app."
    return render_template("mfa_login.html", error=error), (401 if error else 200)


@bp.route("/tweede-factor/instellen", methods=["GET", "POST"])
def mfa_setup():
    """Enrolment: for a login that needs a second factor, or a logged-in user who wants one."""
    user = current_user if current_user.is_authenticated else pending_user()
    if user is None:
        return redirect(url_for("web.login"))
    secret = session.setdefault(SECRET, mfa.new_secret())  # the same secret until a code from it is entered
    error = None
    if request.method == "POST":
        codes = mfa.enrol(user, secret, request.form.get("code", ""))
        if codes is not None:
            audit.record(user.id, "mfa", "tweede factor ingesteld", actor=user.email)
            if not current_user.is_authenticated:
                _finish(user, "nieuwe tweede factor")
            session.pop(SECRET, None)
            return render_template("mfa_codes.html", codes=codes)
        error = "Deze code klopt niet. Controleer de tijd op uw telefoon en probeer de nieuwe code."
    uri = mfa.provisioning_uri(secret, user.email)
    return render_template("mfa_setup.html", qr=mfa.qr_data_uri(uri), secret=secret, error=error,
                           required=mfa.required(user)), (400 if error else 200)


@bp.get("/beheer/gebruikers")
@page_roles(*ADMIN)
def users_admin():
    from hub.extensions import db
    from hub.models.users import ROLES, User

    accounts = db.session.query(User).order_by(User.email).all()
    return render_template("users_admin.html", accounts=accounts, roles=ROLES)


@bp.post("/beheer/gebruikers/<int:user_id>/tweede-factor-wissen")
@page_roles(*ADMIN)
def mfa_reset(user_id: int):
    from hub.extensions import db
    from hub.models.users import User

    user = db.session.get(User, user_id)
    if user is None:
        abort(404)
    mfa.reset(user.email)
    audit.record(g.access.user_id, "admin", f"tweede factor gewist voor {user.email}")
    flash(f"De tweede factor van {user.email} is gewist; bij de volgende login stelt de gebruiker een nieuwe in.")
    return redirect(url_for("web.users_admin"))
