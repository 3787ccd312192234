"""The API's one error shape ``{"error": {"code", "message"}}`` for every failure under /api/.

JeugdhubError carries its own code and HTTP status. Werkzeug's HTTP errors (404, 405, 413 …)
get a stable code too. Anything unexpected becomes a 500 with a fixed message: the traceback goes
to the log, never into the response.
"""

from __future__ import annotations

import logging

from flask import Flask, Response, current_app, jsonify, request
from werkzeug.exceptions import HTTPException

from shared.errors import JeugdhubError

log = logging.getLogger(__name__)

API_PREFIX = "/api/"

HTTP_CODES = {
    400: ("bad_request", "De aanvraag is ongeldig"),
    401: ("unauthorised", "Aanmelden is nodig"),
    403: ("forbidden", "Geen toegang"),
    404: ("not_found", "Niet gevonden"),
    405: ("method_not_allowed", "Deze methode is hier niet toegestaan"),
    413: ("payload_too_large", "Het bestand of de aanvraag is te groot"),
    415: ("unsupported_media_type", "Dit inhoudstype wordt niet ondersteund"),
    429: ("too_many_requests", "Te veel aanvragen; probeer het later opnieuw"),
}


def error_response(code: str, message: str, status: int, details: dict | None = None) -> Response:
    """The API's error body, ``{"error": {"code", "message"[, "details"]}}`` (``JeugdhubError.to_dict``)."""
    response = jsonify(JeugdhubError(message, code=code, details=details).to_dict())
    response.status_code = status
    return response


def is_api_request() -> bool:
    return request.path.startswith(API_PREFIX)


def with_retry_after(response, exc: JeugdhubError):
    """``Retry-After`` for errors that say when to try again (a reached limit); pages use it too."""
    retry_after = getattr(exc, "retry_after", None)
    if retry_after:
        response.headers["Retry-After"] = str(int(retry_after))
    return response


def jeugdhub_response(exc: JeugdhubError):
    """The answer to a JeugdhubError: JSON under /api/, the page renderer elsewhere (with Retry-After)."""
    if is_api_request():
        return with_retry_after(error_response(exc.code, exc.message, exc.http_status, exc.details or None), exc)
    return _page(exc.http_status, exc)


def _page(status: int, exc: Exception):
    """A non-API error: the web pages' renderer (hub/web registers it), else plain text."""
    render = current_app.extensions.get("hub_error_page")
    if render is not None:
        return render(status, exc)
    if isinstance(exc, HTTPException):
        return exc
    return (exc.message if isinstance(exc, JeugdhubError) else "Er ging iets mis op de hub."), status


def init_app(app: Flask) -> None:
    """The app's one set of error handlers (404/405 happen before any blueprint is chosen): JSON
    under /api/, and the pages' own rendering elsewhere."""

    @app.errorhandler(JeugdhubError)
    def _jeugdhub(exc: JeugdhubError):
        return jeugdhub_response(exc)

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException):
        if not is_api_request():
            return _page(exc.code or 500, exc)
        code, message = HTTP_CODES.get(exc.code or 500, ("http_error", exc.name))
        response = error_response(code, message, exc.code or 500)
        if exc.code == 405 and exc.valid_methods:
            response.headers["Allow"] = ", ".join(exc.valid_methods)
        return response

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):
        if isinstance(exc, HTTPException):  # pragma: no cover — routed to _http above
            return _http(exc)
        log.exception("unexpected error on %s %s", request.method, request.path)
        if not is_api_request():
            return _page(500, exc)
        return error_response("internal_error", "Er ging iets mis op de hub; de beheerder kan het logboek bekijken", 500)
