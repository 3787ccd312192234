"""Who may see what: Flask-Login sessions, API bearer tokens, role sets and scope checks.

Pages use :func:`page_roles`; JSON endpoints (the indicator API and the release endpoints of v1) use
:func:`api_roles`, which accepts a logged-in session or ``Authorization: Bearer <token>`` of a user.
Both put an :class:`Access` on ``flask.g.access``; scope checks (which schools) go through it.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import wraps
from typing import Callable, Iterable

from flask import abort, g, redirect, request, url_for
from flask_login import LoginManager, current_user

from hub.models.users import ROLE_CONSORTIUM, ROLE_GEMEENTE, ROLE_REGIO_ADMIN, ROLE_SCHOOL, ROLE_SWV
from shared.errors import AuthError, ForbiddenError

ALL_ROLES = (ROLE_REGIO_ADMIN, ROLE_GEMEENTE, ROLE_SWV, ROLE_CONSORTIUM, ROLE_SCHOOL)
ADMIN = (ROLE_REGIO_ADMIN,)
#: Region-wide figures (overview, region, release cells): not for a single school or a consortium.
REGION_ROLES = (ROLE_REGIO_ADMIN, ROLE_GEMEENTE, ROLE_SWV)
#: A school's factsheet: the region roles (SWV only for its schools) and the school itself.
FACTSHEET_ROLES = (ROLE_REGIO_ADMIN, ROLE_GEMEENTE, ROLE_SWV, ROLE_SCHOOL)
#: The providers/consortia coverage view.
COVERAGE_ROLES = (ROLE_REGIO_ADMIN, ROLE_GEMEENTE, ROLE_SWV, ROLE_CONSORTIUM)
#: The release endpoints of the v1 API (raw published cells of every school).
RELEASE_ROLES = REGION_ROLES

login_manager = LoginManager()


@dataclass(frozen=True)
class Access:
    """The caller's role and scope, with the scope rules in one place."""

    user_id: int
    email: str
    role: str
    scope: str | None

    def may_see_school(self, vestigingscode: str, swv_codes: Iterable[str]) -> bool:
        if self.role in (ROLE_REGIO_ADMIN, ROLE_GEMEENTE):
            return True  # a gemeente sees its region's published figures
        if self.role == ROLE_SWV:
            return self.scope in set(swv_codes)
        if self.role == ROLE_SCHOOL:
            return vestigingscode == self.scope
        return False

    def may_see_coverage(self, vestigingscode: str, swv_codes: Iterable[str]) -> bool:
        """The coverage view: a consortium plans care for the whole region, so it sees every school."""
        return self.role == ROLE_CONSORTIUM or self.may_see_school(vestigingscode, swv_codes)

    def may_see_swv(self, swv_code: str) -> bool:
        if self.role in (ROLE_REGIO_ADMIN, ROLE_GEMEENTE):
            return True
        return self.role == ROLE_SWV and self.scope == swv_code

    @classmethod
    def of(cls, user) -> "Access":
        return cls(user.id, user.email, user.role, user.scope)


def init_login(app) -> None:
    from hub.services import users

    login_manager.init_app(app)
    login_manager.login_view = "web.login"
    login_manager.login_message = "Log in om deze pagina te zien."
    login_manager.session_protection = "strong"
    login_manager.user_loader(users.load_user)


@dataclass(frozen=True)
class _AdminTokenUser:
    """HUB_ADMIN_TOKEN (the operator token of the v1 API) acts as a region admin on these endpoints too."""

    id: None = None
    email: str = "admin-token"
    role: str = ROLE_REGIO_ADMIN
    scope: None = None


def _bearer_user():
    from flask import current_app

    from hub.services import users
    from hub.services.nodes import token_matches

    header = request.headers.get("Authorization", "")
    if not header.lower().startswith("bearer "):
        return None
    token = header[7:].strip()
    admin_token = current_app.config.get("ADMIN_TOKEN")
    if token and admin_token and token_matches(token, str(admin_token)):
        return _AdminTokenUser()
    user = users.user_for_token(token) if token else None
    if user is None:
        raise AuthError("Ongeldig of ingetrokken API-token", code="invalid_token")
    return user


def api_roles(*roles: str) -> Callable:
    """JSON endpoints: a session or a bearer token of a user whose role is in ``roles``.

    Unsafe methods on a session (cookie) need the CSRF token too; bearer tokens are not sent
    automatically by browsers, so they need none.
    """
    allowed = roles or ALL_ROLES

    def decorate(view: Callable) -> Callable:
        @wraps(view)
        def wrapper(*args, **kwargs):
            user = _bearer_user()
            if user is None:
                if not current_user.is_authenticated:
                    raise AuthError("Log in of gebruik een API-token", code="unauthorised")
                user = current_user
                if request.method not in ("GET", "HEAD", "OPTIONS"):
                    from flask_wtf.csrf import CSRFError, validate_csrf

                    try:
                        validate_csrf(request.headers.get("X-CSRFToken") or request.form.get("csrf_token"))
                    except (CSRFError, Exception):  # wtforms raises ValidationError
                        raise ForbiddenError("CSRF-token ontbreekt of klopt niet", code="csrf_failed") from None
            if user.role not in allowed:
                raise ForbiddenError("Uw rol geeft geen toegang tot deze gegevens", code="forbidden")
            g.access = Access.of(user)
            return view(*args, **kwargs)

        wrapper.allowed_roles = tuple(allowed)  # read by the authorisation test
        return wrapper

    return decorate


def page_roles(*roles: str) -> Callable:
    """Pages: redirect to the login page when nobody is logged in; 403 when the role is not allowed."""
    allowed = roles or ALL_ROLES

    def decorate(view: Callable) -> Callable:
        @wraps(view)
        def wrapper(*args, **kwargs):
            if not current_user.is_authenticated:
                return redirect(url_for("web.login", next=request.full_path.rstrip("?")))
            if current_user.role not in allowed:
                abort(403)
            g.access = Access.of(current_user)
            return view(*args, **kwargs)

        wrapper.allowed_roles = tuple(allowed)
        return wrapper

    return decorate
