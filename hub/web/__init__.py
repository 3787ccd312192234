"""The Dutch web pages for region, gemeente, SWV, consortium and school users."""

from __future__ import annotations

from flask import Flask, g, render_template, request, session
from flask_wtf.csrf import CSRFProtect

csrf = CSRFProtect()

#: Same-origin only; matplotlib's inline SVG carries style attributes, hence 'unsafe-inline' for styles.
CSP = ("default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; script-src 'self'; "
       "frame-ancestors 'none'; form-action 'self'; base-uri 'none'")


def init_app(app: Flask) -> None:
    from hub.web.auth import init_login
    from hub.web import archive_views, mfa_views, oidc_views, views  # noqa: F401  (their routes are on the blueprint)
    from hub.web.blueprint import bp

    # The remember-me cookie (unused by the login form, but Flask-Login may set it) gets the session's flags.
    app.config["REMEMBER_COOKIE_HTTPONLY"] = True
    app.config["REMEMBER_COOKIE_SAMESITE"] = "Lax"
    app.config["REMEMBER_COOKIE_SECURE"] = bool(app.config.get("REMEMBER_COOKIE_SECURE") or app.config.get("SESSION_COOKIE_SECURE"))
    csrf.init_app(app)
    # The JSON API is called by agents (signed requests) and with bearer tokens; session-authenticated
    # unsafe API calls check the CSRF token themselves (hub.access.api_roles).
    for name, blueprint in list(app.blueprints.items()):
        if (blueprint.url_prefix or "").startswith("/api"):
            csrf.exempt(blueprint)
    init_login(app)
    oidc_views.init_oidc(app)
    app.register_blueprint(bp)
    from hub import throttle

    throttle.init_app(app)  # wraps the login view, so after the blueprint

    @app.after_request
    def security_headers(resp):
        resp.headers.setdefault("X-Content-Type-Options", "nosniff")
        resp.headers.setdefault("X-Frame-Options", "DENY")
        resp.headers.setdefault("Referrer-Policy", "same-origin")
        if resp.mimetype == "text/html":
            resp.headers.setdefault("Content-Security-Policy", CSP)
        static = (request.endpoint or "").endswith("static")
        if not static and ("access" in g or "_user_id" in session):
            # An answer for a logged-in user or a token (HTML, JSON, exports) stays out of every cache.
            resp.headers["Cache-Control"] = "no-store"
        return resp

    app.extensions["hub_error_page"] = _error_page


#: Dutch pages for the HTTP errors a user can meet on a page.
_HTTP_PAGES = {
    403: ("Geen toegang", "Uw account heeft geen toegang tot deze pagina."),
    404: ("Niet gevonden", "Deze pagina of school bestaat niet (of er zijn geen cijfers voor)."),
}


def _error_page(status: int, exc: Exception):
    """Dutch HTML for an error on a page (hub/api/errors.py's handlers call it for non-API paths)."""
    from flask import make_response
    from flask_wtf.csrf import CSRFError
    from werkzeug.exceptions import HTTPException

    from hub.api.errors import with_retry_after
    from shared.errors import JeugdhubError

    if isinstance(exc, JeugdhubError):
        title = "Even geduld" if exc.http_status == 429 else "Dat lukte niet"
        page = make_response(render_template("error.html", title=title, text=exc.message), exc.http_status)
        return with_retry_after(page, exc)
    if isinstance(exc, CSRFError):
        text = "Het formulier is verlopen of kwam niet van deze site. Laad de pagina opnieuw en probeer het nog eens."
        return render_template("error.html", title="Formulier verlopen", text=text), 400
    if status in _HTTP_PAGES:
        title, text = _HTTP_PAGES[status]
        return render_template("error.html", title=title, text=text), status
    if isinstance(exc, HTTPException):
        return exc
    return render_template("error.html", title="Er ging iets mis", text="Er ging iets mis op de hub. Probeer het later opnieuw."), 500
