"""The pages' blueprint, shared by the page modules (hub/web/views.py, hub/web/mfa_views.py), and
the one check of a ``next`` address after login."""

from __future__ import annotations

from urllib.parse import urlparse

from flask import Blueprint

bp = Blueprint("web", __name__, template_folder="templates", static_folder="static", static_url_path="/static/web")


def safe_next(target: str | None) -> str | None:
    """Only same-site relative paths: an open redirect after login would help phishing, and a CR/LF
    would split the Location header. No scheme or host, no ``//`` or backslash (browsers read ``/\\``
    as ``//``), no control characters; anything else means "the start page"."""
    if not target or not target.startswith("/") or "//" in target or "\\" in target:
        return None
    if any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in target):
        return None
    parsed = urlparse(target)
    if parsed.scheme or parsed.netloc:
        return None
    return target


