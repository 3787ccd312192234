"""Who is calling the API: an enrolled node (signed request) or an administrator (bearer token).

The admin check is one function, :func:`require_admin`; once the web part has user sessions and
roles it may accept those too.
"""

from __future__ import annotations

from flask import current_app, g, request

from hub.models.nodes import Node
from hub.services.nodes import authenticate_request, token_matches
from shared.errors import AuthError, ForbiddenError
from shared.messages import HEADER_SIGNATURE


def has_signature() -> bool:
    return bool(request.headers.get(HEADER_SIGNATURE))


def require_node() -> Node:
    """The node that signed this request (see shared/messages.py for what is signed)."""
    node = authenticate_request(
        request.headers,
        request.method,
        request.script_root + request.path,
        request.get_data(cache=True),
        max_skew=int(current_app.config["REQUEST_MAX_SKEW_SECONDS"]),
    )
    g.node = node
    return node


def _bearer() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None


def has_bearer() -> bool:
    return _bearer() is not None


def require_admin() -> None:
    """An administrator: ``Authorization: Bearer <HUB_ADMIN_TOKEN>``."""
    expected = current_app.config.get("ADMIN_TOKEN")
    if not expected:
        raise ForbiddenError("De beheer-API staat uit (HUB_ADMIN_TOKEN is niet ingesteld)", code="admin_api_disabled")
    supplied = _bearer()
    if supplied is None:
        raise AuthError("Beheerderstoken vereist (Authorization: Bearer …)", code="unauthorised")
    if not token_matches(supplied, str(expected)):
        raise AuthError("Het beheerderstoken klopt niet", code="unauthorised")
