"""The ``jeugdhub`` command: Flask's CLI group around ``create_app`` (also ``flask --app hub``).

A hub that cannot start (a setting production refuses, a threshold below the minimum) says why in one
Dutch line and exits with the error's code, as every command does with its own errors
(hub/cli/_common.py ``user_errors``); Flask's group would print the traceback instead.
"""

from __future__ import annotations

import click
from flask.cli import FlaskGroup, NoAppException, ScriptInfo

from hub.cli._common import exit_with
from shared.errors import JeugdhubError


class _AppNotStarted(NoAppException):
    """``create_app`` raised a JeugdhubError (kept in ``error``)."""

    def __init__(self, error: JeugdhubError):
        super().__init__(f"{error.message} ({error.code})")
        self.error = error


def _create_app():
    from hub import create_app

    try:
        return create_app()
    except JeugdhubError as err:
        raise _AppNotStarted(err) from None


class HubGroup(FlaskGroup):
    """Flask's group, with a hub that cannot start reported as a Dutch message and exit code."""

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if click.Group.get_command(self, ctx, name) is None:  # one of the app's commands: it needs the app
            try:
                ctx.ensure_object(ScriptInfo).load_app()
            except _AppNotStarted as exc:
                exit_with(exc.error, prefix="de hub kan niet starten: ")
        return super().get_command(ctx, name)


@click.group(cls=HubGroup, create_app=_create_app, add_default_commands=True, set_debug_flag=False)
def main() -> None:
    """Jeugdhub: the regional hub."""
