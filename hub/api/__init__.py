"""The JSON API under ``/api/v1``, described by ``hub/api/openapi.yaml``.

``v1`` holds the core routes (nodes, rounds, submissions, releases, health); the indicator
routes live in their own blueprint ``hub/api/indicators.py`` (module attribute ``bp``), registered
here when that module exists.
"""

from __future__ import annotations

import importlib

from flask import Flask


def init_app(app: Flask) -> None:
    from hub.api import errors, v1

    errors.init_app(app)
    app.register_blueprint(v1.bp)
    try:
        indicators = importlib.import_module("hub.api.indicators")
    except ModuleNotFoundError as exc:
        if exc.name != "hub.api.indicators":
            raise
    else:
        app.register_blueprint(indicators.bp)
