"""Which enrolled node signed this API request (shared/messages.py says what is signed).

People and the operator are known by hub/access.py (sessions, bearer tokens, ``require_admin``).
"""

from __future__ import annotations

from flask import current_app, g, request

from hub.models.nodes import Node
from hub.access import bearer_token
from hub.services.nodes import authenticate_request
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


def has_bearer() -> bool:
    return bearer_token() is not None
