"""Progress of long work as the services report it: a plain callback, no terminal, no click.

A service that takes a ``progress`` parameter calls it at the START of each of its steps with
``(step, total, label)``: ``step`` counts from 1, ``total`` is the number of steps it will report,
``label`` says in Dutch what it is doing now. ``None`` (the default) reports nothing. The CLI turns
the calls into a progress bar (hub/cli/_common.py); the combine also writes its step to the
database so the rounds page can show it (hub/services/combine.py).
"""

from __future__ import annotations

import logging
from typing import Callable, Optional

log = logging.getLogger(__name__)

#: ``progress(step, total, label)``.
Progress = Callable[[int, int, str], None]


def report(progress: Optional[Progress], step: int, total: int, label: str) -> None:
    """Call ``progress`` if there is one; a failing callback never stops the work it watches."""
    if progress is None:
        return
    try:
        progress(step, total, label)
    except Exception as exc:  # noqa: BLE001 — a display must not fail a combine or the demo
        log.warning("progress callback failed at step %s/%s (%s)", step, total, type(exc).__name__)
