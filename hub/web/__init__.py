"""The Dutch web pages for region, gemeente, SWV, consortium and school users."""

from __future__ import annotations

from flask import Flask, render_template
from flask_wtf.csrf import CSRFProtect

csrf = CSRFProtect()

#: Same-origin only; matplotlib's inline SVG carries style attributes, hence 'unsafe-inline' for styles.
CSP = ("default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; script-src 'self'; "
       "frame-ancestors 'none'; form-action 'self'; base-uri 'none'")


def init_app(app: Flask) -> None:
    from hub.web.auth import init_login
    from hub.web.views import bp

    # The remember-me cookie (unused by the login form, but Flask-Login may set it) gets the session's flags.
    app.config["REMEMBER_COOKIE_HTTPONLY"] = True
    app.config["REMEMBER_COOKIE_SAMESITE"] = "Lax"
    app.config["REMEMBER_COOKIE_SECURE"] = bool(app.config.get("REMEMBER_COOKIE_SECURE") or app.config.get("SESSION_COOKIE_SECURE"))
    csrf.init_app(app)
    # The JSON API is called by agents (signed requests) and with bearer tokens; session-authenticated
    # unsafe API calls check the CSRF token themselves (hub.web.auth.api_roles).
    for name, blueprint in list(app.blueprints.items()):
        if (blueprint.url_prefix or "").startswith("/api"):
            csrf.exempt(blueprint)
    init_login(app)
    app.register_blueprint(bp)

    @app.after_request
    def security_headers(resp):
        resp.headers.setdefault("X-Content-Type-Options", "nosniff")
        resp.headers.setdefault("X-Frame-Options", "DENY")
        resp.headers.setdefault("Referrer-Policy", "same-origin")
        if resp.mimetype == "text/html":
            resp.headers.setdefault("Content-Security-Policy", CSP)
        return resp

    from werkzeug.exceptions import HTTPException

    api_http_handler = app.error_handler_spec.get(None, {}).get(None, {}).get(HTTPException)
    for status, title, text in (
        (403, "Geen toegang", "Uw account heeft geen toegang tot deze pagina."),
        (404, "Niet gevonden", "Deze pagina of school bestaat niet (of er zijn geen cijfers voor)."),
    ):
        def handler(exc, status=status, title=title, text=text):
            from flask import request

            if request.path.startswith("/api/"):
                if api_http_handler is not None:
                    return api_http_handler(exc)  # the API's one JSON error shape
                return exc
            return render_template("error.html", title=title, text=text), status

        app.register_error_handler(status, handler)

    _page_errors(app)


def _page_errors(app: Flask) -> None:
    """Dutch HTML for errors on pages; API paths keep the API's JSON error shape (hub/api/errors.py)."""
    from flask import request
    from flask_wtf.csrf import CSRFError

    from shared.errors import JeugdhubError

    api_handler = app.error_handler_spec.get(None, {}).get(None, {}).get(JeugdhubError)

    @app.errorhandler(JeugdhubError)
    def jeugdhub_error(exc: JeugdhubError):
        if request.path.startswith("/api/") and api_handler is not None:
            return api_handler(exc)
        return render_template("error.html", title="Dat lukte niet", text=exc.message), exc.http_status

    @app.errorhandler(CSRFError)
    def csrf_error(exc):
        text = "Het formulier is verlopen of kwam niet van deze site. Laad de pagina opnieuw en probeer het nog eens."
        return render_template("error.html", title="Formulier verlopen", text=text), 400
