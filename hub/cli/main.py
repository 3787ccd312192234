"""The ``jeugdhub`` command: Flask's CLI group around ``create_app`` (also ``flask --app hub``)."""

from __future__ import annotations

import click
from flask.cli import FlaskGroup


def _create_app():
    from hub import create_app

    return create_app()


@click.group(cls=FlaskGroup, create_app=_create_app, add_default_commands=True, set_debug_flag=False)
def main() -> None:
    """Jeugdhub: the regional hub."""
