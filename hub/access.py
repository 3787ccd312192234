"""Who may see what, for pages, the API and background jobs alike: roles, scope, and how a caller is known.

Pages use :func:`page_roles`; JSON endpoints use :func:`api_roles`, which accepts a logged-in session
or ``Authorization: Bearer <token>`` of a user (or the operator's ``HUB_ADMIN_TOKEN``). Both put an
:class:`Access` on ``flask.g.access``; every scope check (which schools, which release cells) goes
through it. :func:`require_admin` guards the operator endpoints (rounds, uploads). The bearer token is
parsed in one place, :func:`bearer_token`.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from functools import wraps
from typing import Callable, Iterable

from flask import abort, g, redirect, request, url_for
from flask_login import current_user

from hub.indicators.figures import AGGREGATE_MEASURES_SHOWN, VESTIGING
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

@dataclass(frozen=True)
class Access:
    """The caller's role and scope, with the scope rules in one place."""

    user_id: int
    email: str
    role: str
    scope: str | None
    #: A consortium user's providers (AGB codes of its consortium's members); empty for every other role.
    consortium_agbs: frozenset[str] = field(default=frozenset())
    #: A consortium user's consortium name (the category of its ``clienten_consortium`` cells); None otherwise.
    consortium_name: str | None = None

    @property
    def cache_key(self) -> tuple:
        """Everything this access decides by — role, scope, a consortium's members and name — and not
        who the caller is: callers with equal keys see exactly the same figures, so hub/cache.py may
        share an answer between them and never with another key. A field added above belongs here
        (tests/hub/test_access.py checks that every field but ``user_id`` and ``email`` is in)."""
        return (self.role, self.scope, tuple(sorted(self.consortium_agbs)), self.consortium_name)

    def may_see_school(self, vestigingscode: str, swv_codes: Iterable[str]) -> bool:
        if self.role in (ROLE_REGIO_ADMIN, ROLE_GEMEENTE):
            return True  # a gemeente sees its region's published figures
        if self.role == ROLE_SWV:
            return self.scope in set(swv_codes)
        if self.role == ROLE_SCHOOL:
            return vestigingscode == self.scope
        return False

    def may_see_coverage(self, vestigingscode: str, swv_codes: Iterable[str], provider_agbs: Iterable[str],
                         consortium_names: Iterable[str] = ()) -> bool:
        """A school in the coverage view (``provider_agbs``: the providers with a published count there;
        ``consortium_names``: the consortia with a published ``clienten_consortium`` count there).

        A consortium sees only the schools that its own consortium serves (one of its providers, or the
        consortium's own count, published); an unknown consortium, or one without members, sees none.
        The other roles see the schools they may see.
        """
        if self.role == ROLE_CONSORTIUM:
            own = any(self.may_see_consortium(name) for name in consortium_names)
            return own or not self.consortium_agbs.isdisjoint(provider_agbs)
        return self.may_see_school(vestigingscode, swv_codes)

    def may_see_provider(self, agb: str) -> bool:
        """A provider named in the coverage view: a consortium only its own members, other roles every one."""
        if self.role == ROLE_CONSORTIUM:
            return agb in self.consortium_agbs
        return True

    def visible_providers(self, providers):
        """``figures.Providers`` with only the providers this caller may see.

        For a consortium the other providers are left out entirely, and so are the largest share and the
        concentration (HHI): both describe the other providers too.
        """
        if self.role != ROLE_CONSORTIUM:
            return providers
        rows = tuple(r for r in providers.rows if self.may_see_provider(r.agb))
        return replace(providers, rows=rows, largest_share=None, hhi_lower_bound=None)

    def may_see_consortium(self, name: str) -> bool:
        """A consortium named in the coverage view (a ``clienten_consortium`` category): a consortium
        user only its own, by name; every other role every one. As with providers, the others are not
        named to a consortium user: they are counted ("andere aanbieders"), never shown."""
        if self.role == ROLE_CONSORTIUM:
            # Without members the consortium is gone from the table: its old name is nobody's scope.
            return bool(self.consortium_agbs) and self.consortium_name is not None and name == self.consortium_name
        return True

    def visible_consortia(self, dist):
        """``figures.Distribution`` of ``clienten_consortium`` with only the consortia this caller may
        see; the rows left out are the others (their count is ``len(dist.rows) - len(result.rows)``)."""
        if self.role != ROLE_CONSORTIUM:
            return dist
        return replace(dist, rows=tuple(r for r in dist.rows if self.may_see_consortium(r.category)))

    def may_see_swv(self, swv_code: str) -> bool:
        if self.role in (ROLE_REGIO_ADMIN, ROLE_GEMEENTE):
            return True
        return self.role == ROLE_SWV and self.scope == swv_code

    def may_see_cell(self, level: str, unit: str, measure: str, swv_codes: Iterable[str]) -> bool:
        """One raw release cell (the v1 API's release endpoints): what this role's pages show, no more.

        A school's cells only when :meth:`may_see_school`; school-type and region cells only for the
        region roles and only the measures their pages read (``figures.AGGREGATE_MEASURES_SHOWN``).
        A regio_admin sees every cell.
        """
        if self.role == ROLE_REGIO_ADMIN:
            return True
        if level == VESTIGING:
            return self.may_see_school(unit, swv_codes)
        return self.role in REGION_ROLES and measure in AGGREGATE_MEASURES_SHOWN.get(level, ())

    @classmethod
    def of(cls, user) -> "Access":
        agbs: frozenset[str] = frozenset()
        name = None
        if user.role == ROLE_CONSORTIUM:
            agbs = consortium_agbs(user.scope)
            name = consortium_name(user.scope)
        return cls(user.id, user.email, user.role, user.scope, agbs, name)

    @classmethod
    def operator(cls) -> "Access":
        """The command line on the hub's own machine: whoever runs it administers the region."""
        return cls(0, "cli", ROLE_REGIO_ADMIN, None)


def consortium_agbs(scope: str | None) -> frozenset[str]:
    """The AGB codes of consortium ``scope``'s members (empty for an unknown or malformed id)."""
    from sqlalchemy import select

    from hub.extensions import db
    from hub.models.consortia import ConsortiumMember

    if not scope or not str(scope).isdigit():
        return frozenset()
    return frozenset(db.session.scalars(select(ConsortiumMember.aanbieder_agb)
                                        .where(ConsortiumMember.consortium_id == int(scope))))


def consortium_name(scope: str | None) -> str | None:
    """The name of consortium ``scope`` (None for an unknown or malformed id)."""
    from hub.extensions import db
    from hub.models.consortia import Consortium

    if not scope or not str(scope).isdigit():
        return None
    found = db.session.get(Consortium, int(scope))
    return found.naam if found is not None else None


@dataclass(frozen=True)
class _AdminTokenUser:
    """HUB_ADMIN_TOKEN (the operator's token) acts as a region admin."""

    id: None = None
    email: str = "admin-token"
    role: str = ROLE_REGIO_ADMIN
    scope: None = None


def bearer_token() -> str | None:
    """The token of ``Authorization: Bearer <token>``, or None (the one parser of that header)."""
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None


def bearer_user():
    """Who the bearer token belongs to: the operator (``HUB_ADMIN_TOKEN``), a user, or None without one."""
    from flask import current_app

    from hub.services import users
    from hub.services.nodes import token_matches

    from hub import throttle

    token = bearer_token()
    if token is None:
        return None
    throttle.check_token_attempts()  # 429 with Retry-After after too many wrong tokens from this address
    admin_token = current_app.config.get("ADMIN_TOKEN")
    if admin_token and token_matches(token, str(admin_token)):
        return _AdminTokenUser()
    user = users.user_for_token(token)
    if user is None:
        throttle.token_failed()
        raise AuthError("Ongeldig of ingetrokken API-token", code="invalid_token")
    return user


def require_admin() -> None:
    """The operator endpoints (rounds, uploads): ``HUB_ADMIN_TOKEN``, or a regio admin's own API token."""
    if bearer_token() is None:
        raise AuthError("Beheerderstoken vereist (Authorization: Bearer …)", code="unauthorised")
    try:
        user = bearer_user()
    except AuthError:
        raise AuthError("Het token klopt niet (HUB_ADMIN_TOKEN of het API-token van een regiobeheerder)",
                        code="unauthorised") from None
    if user.role != ROLE_REGIO_ADMIN:
        raise ForbiddenError("Alleen een regiobeheerder mag dit", code="forbidden")
    g.access = Access.of(user)


def api_roles(*roles: str) -> Callable:
    """JSON endpoints: a session or a bearer token of a user whose role is in ``roles``.

    Unsafe methods on a session (cookie) need the CSRF token too; bearer tokens are not sent
    automatically by browsers, so they need none.
    """
    allowed = roles or ALL_ROLES

    def decorate(view: Callable) -> Callable:
        @wraps(view)
        def wrapper(*args, **kwargs):
            user = bearer_user()
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
