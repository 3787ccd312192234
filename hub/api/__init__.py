"""The JSON API under ``/api/v1``, described by ``hub/api/openapi.yaml``.

``v1`` holds the routes for nodes, rounds, submissions, releases and health; the indicator routes
live in their own blueprint, ``hub/api/indicators.py``.
"""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    from hub.api import errors, indicators, v1

    errors.init_app(app)
    app.register_blueprint(v1.bp)
    app.register_blueprint(indicators.bp)
