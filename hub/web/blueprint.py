"""The pages' blueprint and what its page modules share (hub/web/views.py, archive_views.py,
mfa_views.py): downloads with a safe file name, and the one check of a ``next`` address after login."""

from __future__ import annotations

import re
from urllib.parse import urlparse

from flask import Blueprint, Response

#: The table downloads a page offers, by format.
EXPORT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}

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


def download(body: bytes, filename: str, mimetype: str) -> Response:
    resp = Response(body, content_type=mimetype)  # as given: mimetype= would add a second charset to text/csv
    # Parts of the name come from the request or the database: only plain characters reach the header.
    filename = re.sub(r"[^A-Za-z0-9._-]+", "_", filename)
    resp.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    resp.headers["Cache-Control"] = "no-store"
    return resp
