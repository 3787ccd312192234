"""Helpers for the command groups: one place that turns a JeugdhubError into a Dutch message
and its exit code (never a traceback on a user's mistake)."""

from __future__ import annotations

import functools
import json
import sys
from typing import Any, Callable, NoReturn

import click

from shared.errors import JeugdhubError, ServiceUnavailable


#: Words of a database's "no such table" / "relation does not exist" (SQLite, PostgreSQL).
_NO_SCHEMA = ("no such table", "does not exist", "undefinedtable")


def database_error(exc: Exception) -> ServiceUnavailable:
    """A database that cannot be reached or has no schema yet, as a Dutch error with what to do."""
    text = str(getattr(exc, "orig", exc)).strip().splitlines()[0][:200]
    if any(word in text.lower() for word in _NO_SCHEMA):
        return ServiceUnavailable(f"de database is nog niet ingericht ({text}). Voer eerst uit: jeugdhub db upgrade",
                                  code="database_not_upgraded")
    return ServiceUnavailable(f"de database is niet te gebruiken ({text}). Controleer HUB_SQLALCHEMY_DATABASE_URI "
                              "(bestaat de map van het SQLite-bestand, draait PostgreSQL?)", code="database_unavailable")


def exit_with(err: JeugdhubError, prefix: str = "") -> NoReturn:
    """Print ``err`` as one Dutch line on stderr and exit with its code."""
    click.echo(f"Fout: {prefix}{err.message} ({err.code})", err=True)
    sys.exit(err.exit_code)


def user_errors(fn: Callable) -> Callable:
    """A command's JeugdhubError (and a database that is not there or not upgraded) as one Dutch line and the
    error's exit code."""
    from sqlalchemy.exc import OperationalError, ProgrammingError

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except (OperationalError, ProgrammingError) as exc:
            exit_with(database_error(exc))
        except JeugdhubError as err:
            exit_with(err)

    return wrapper


def cli_actor() -> str:
    """Who runs a command, for the audit log: ``cli`` and the operating-system user when known."""
    import getpass

    try:
        return f"cli:{getpass.getuser()}"
    except Exception:  # noqa: BLE001 — no login name (e.g. a container user without a passwd entry)
        return "cli"


def echo_json(obj: Any) -> None:
    click.echo(json.dumps(obj, ensure_ascii=False, indent=2, sort_keys=True))


class StepProgress:
    """A ``progress(step, total, label)`` callback (hub/services/progress.py) for the terminal.

    On a terminal: a click progress bar on stderr with the current step's label. Otherwise (a pipe,
    a log file, a test): one line per step on stderr, ``[3/4] controle …``, and when the work ends
    the time each step took. stdout stays for the command's result. Use it as a context manager.
    """

    def __init__(self, title: str, *, tty: bool | None = None) -> None:
        import time

        self._clock = time.monotonic
        self.title = title
        self.tty = sys.stderr.isatty() if tty is None else tty
        self.times: list[tuple[str, float]] = []  # (label, seconds) per finished step
        self._bar = None
        self._current: tuple[str, float] | None = None
        self._shown = 0

    def __call__(self, step: int, total: int, label: str) -> None:
        now = self._clock()
        self._finish_step(now)
        self._current = (label, now)
        if not self.tty:
            click.echo(f"[{step}/{total}] {label} …", err=True)
            return
        if self._bar is None or self._bar.length != total:
            self._close_bar()
            self._bar = click.progressbar(length=total, label=self.title, file=sys.stderr, show_pos=True,
                                          item_show_func=lambda item: item)
            self._bar.__enter__()
            self._shown = 0
        self._bar.update(max(0, step - 1 - self._shown), current_item=label)
        self._shown = max(self._shown, step - 1)

    def _finish_step(self, now: float) -> None:
        if self._current is not None:
            label, began = self._current
            self.times.append((label, now - began))
            self._current = None

    def _close_bar(self) -> None:
        if self._bar is not None:
            self._bar.update(self._bar.length - self._shown, current_item="klaar")
            self._bar.__exit__(None, None, None)
            self._bar = None

    def __enter__(self) -> "StepProgress":
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        self._finish_step(self._clock())
        if self.tty:
            if exc_type is None:
                self._close_bar()
            elif self._bar is not None:
                self._bar.__exit__(exc_type, exc, tb)
                self._bar = None
        elif exc_type is None and self.times:
            total = sum(t for _, t in self.times)
            click.echo(f"{self.title}: klaar in {total:.1f} s", err=True)
