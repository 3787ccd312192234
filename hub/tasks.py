"""Celery tasks: thin, named, idempotent; they take ids and call services.

``enqueue_combine`` is what services call after their commit: a broker that is down must never
fail an upload (the submission is already in the database and ``hub.sweep_pending`` catches up).
"""

from __future__ import annotations

import logging

from celery import shared_task
from sqlalchemy.exc import OperationalError

log = logging.getLogger(__name__)


@shared_task(name="hub.combine_round", bind=True, acks_late=True, autoretry_for=(OperationalError,), retry_backoff=True, max_retries=5)
def combine_round(self, round_id: int) -> int | None:
    """Recombine one round; a no-op when its release is already up to date."""
    from hub.services.combine import combine_round as combine

    return combine(int(round_id))


@shared_task(name="hub.sweep_pending", acks_late=True)
def sweep_pending() -> list[int]:
    """Enqueue a combine for every round whose current submissions are not yet in its release."""
    from hub.services.combine import pending_rounds

    rounds = pending_rounds()
    for round_id in rounds:
        enqueue_combine(round_id)
    return rounds


def enqueue_combine(round_id: int) -> bool:
    """Ask for ``round_id`` to be combined; True when handed over (or run, in eager mode)."""
    try:
        combine_round.delay(round_id)
    except Exception as exc:  # noqa: BLE001 — the edge: any broker/eager failure must not fail the caller
        # Only the exception type and round id: a broker URL may hold a password.
        log.warning("could not run or enqueue combine for round %s (%s); the sweep will retry", round_id, type(exc).__name__)
        return False
    return True


@shared_task(name="hub.ping", ignore_result=False)
def ping() -> str:
    """Health check through the queue: a worker that consumes tasks answers ``"pong"``."""
    return "pong"
