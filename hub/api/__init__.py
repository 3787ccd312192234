"""The JSON API under ``/api/v1``, described by ``hub/api/openapi.yaml``."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    pass
