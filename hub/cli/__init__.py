"""The hub's command line: ``jeugdhub <noun> <verb>`` (also reachable as ``flask --app hub``).

One click group per noun, each in its own module here; :func:`init_app` adds them to the app. The
``jeugdhub`` entry point itself is hub/cli/main.py (it builds the app; this package only adds to it).
"""

from __future__ import annotations

from flask import Flask

#: (module, attribute) of each command group; modules are imported lazily in init_app.
GROUPS: list[tuple[str, str]] = [
    ("hub.cli.reference", "reference"),
    ("hub.cli.node", "node"),
    ("hub.cli.round", "round_group"),
    ("hub.cli.release", "release"),
    ("hub.cli.user", "user"),
    ("hub.cli.demo", "demo"),
    ("hub.cli.audit", "audit_group"),
]


def init_app(app: Flask) -> None:
    import importlib

    for module, attr in GROUPS:
        app.cli.add_command(getattr(importlib.import_module(module), attr))
