"""The regional hub: a Flask app that enrols nodes, receives signed partials, combines them per
school, applies disclosure control, and serves releases through a JSON API and Dutch pages.

Nothing happens at import time: :func:`create_app` builds everything.
"""

from __future__ import annotations

import os
from typing import Any, Mapping

from flask import Flask

__all__ = ["create_app"]


def create_app(test_config: Mapping[str, Any] | None = None, instance_path: str | os.PathLike | None = None) -> Flask:
    """Build the hub. ``test_config`` replaces environment configuration (tests pass a mapping);
    ``instance_path`` replaces Flask's instance folder (the SQLite default, a generated session key and the
    chart cache); without it the ``HUB_INSTANCE_PATH`` environment variable does, else Flask's default
    (``instance/`` beside the package)."""
    from hub import config as hub_config
    from hub.extensions import init_extensions

    if instance_path is None and os.environ.get("HUB_INSTANCE_PATH", "").strip():
        instance_path = os.environ["HUB_INSTANCE_PATH"].strip()
    app = Flask(__name__, instance_relative_config=True,
                instance_path=os.path.abspath(instance_path) if instance_path is not None else None)
    hub_config.load(app, test_config)

    from hub import guards

    guards.init_app(app)  # before any route is added: bounded <int:…> converters

    init_extensions(app)

    from hub import cache

    cache.init_app(app)

    from hub.services import groupings

    groupings.init_app(app)  # a bad GROUPINGS_FILE stops the start here

    from hub.celery_app import celery_init_app

    celery_init_app(app)

    from hub.api import init_app as init_api

    init_api(app)

    from hub.web import init_app as init_web

    init_web(app)

    from hub.cli import init_app as init_cli

    init_cli(app)
    return app
