"""Helpers for the command groups: one place that turns a JeugdhubError into a Dutch message
and its exit code (never a traceback on a user's mistake)."""

from __future__ import annotations

import functools
import json
import sys
from typing import Any, Callable

import click

from shared.errors import JeugdhubError


def user_errors(fn: Callable) -> Callable:
    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except JeugdhubError as err:
            click.echo(f"Fout: {err.message} ({err.code})", err=True)
            sys.exit(err.exit_code)

    return wrapper


def echo_json(obj: Any) -> None:
    click.echo(json.dumps(obj, ensure_ascii=False, indent=2, sort_keys=True))
