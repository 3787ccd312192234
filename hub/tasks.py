"""Celery tasks: thin, named, idempotent; they take ids and call services.

``enqueue_combine`` is what services call after their commit: a broker that is down must never
fail an upload (the submission is already in the database and ``hub.sweep_pending`` catches up).

Without a broker (the embedded default) combining still happens in this process, but on one
background thread (``COMBINE_IN_BACKGROUND``, default on) rather than inside the upload request:
the disclosure gate can take minutes, longer than an agent waits for its HTTP answer. Requests
for a round that is already waiting are coalesced, which is safe because combining is idempotent
and reads the newest submissions when it starts. ``wait_for_combines`` lets the demo and tests
wait until the queue is empty.
"""

from __future__ import annotations

import concurrent.futures
import logging
import threading

from celery import shared_task
from flask import Flask, current_app
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


class BackgroundCombiner:
    """One thread per app that combines rounds in order, each round queued at most once."""

    def __init__(self, app: Flask) -> None:
        self._app = app
        self._lock = threading.Lock()
        self._queued: set[int] = set()
        self._futures: list[concurrent.futures.Future] = []
        self._executor = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="hub-combine")

    def submit(self, round_id: int) -> None:
        with self._lock:
            if round_id in self._queued:
                return
            self._queued.add(round_id)
            self._futures = [f for f in self._futures if not f.done()]
            self._futures.append(self._executor.submit(self._run, round_id))

    def _run(self, round_id: int) -> None:
        with self._lock:
            # From here on a new submission needs a new run: this one may have read too early.
            self._queued.discard(round_id)
        from hub.services.combine import combine_round as combine

        try:
            with self._app.app_context():
                combine(round_id)
        except Exception as exc:  # noqa: BLE001 — a background thread has no caller to raise to
            log.warning("background combine of round %s failed (%s); 'jeugdhub round combine %s' retries",
                        round_id, type(exc).__name__, round_id)  # fmt: skip

    def wait(self, timeout: float | None = None) -> bool:
        """Block until every queued combine has finished; False when ``timeout`` ran out first."""
        while True:
            with self._lock:
                pending = [f for f in self._futures if not f.done()]
            if not pending:
                return True
            _, not_done = concurrent.futures.wait(pending, timeout)
            if not_done:
                return False


_COMBINER_LOCK = threading.Lock()


def _background_combiner(app: Flask) -> BackgroundCombiner:
    with _COMBINER_LOCK:
        combiner = app.extensions.get("hub_background_combiner")
        if combiner is None:
            combiner = app.extensions["hub_background_combiner"] = BackgroundCombiner(app)
        return combiner


def wait_for_combines(app: Flask, timeout: float | None = None) -> bool:
    """Wait for the in-process combines of ``app`` (embedded mode); True when none is left."""
    combiner = app.extensions.get("hub_background_combiner")
    return True if combiner is None else combiner.wait(timeout)


def enqueue_combine(round_id: int) -> bool:
    """Ask for ``round_id`` to be combined; True when handed over (or run, in eager mode)."""
    app = current_app._get_current_object()
    celery_app = app.extensions["celery"]
    if celery_app.conf.task_always_eager and app.config.get("COMBINE_IN_BACKGROUND", True):
        _background_combiner(app).submit(round_id)
        return True
    try:
        # COMBINE_DELAY_SECONDS > 0 lets a burst of uploads share one combine: the later tasks find
        # the release already up to date and return at once.
        delay = int(app.config.get("COMBINE_DELAY_SECONDS") or 0)
        combine_round.apply_async((round_id,), countdown=delay or None)
    except Exception as exc:  # noqa: BLE001 — the edge: any broker/eager failure must not fail the caller
        # Only the exception type and round id: a broker URL may hold a password.
        log.warning("could not run or enqueue combine for round %s (%s); the sweep will retry", round_id, type(exc).__name__)
        return False
    return True


@shared_task(name="hub.ping", ignore_result=False)
def ping() -> str:
    """Health check through the queue: a worker that consumes tasks answers ``"pong"``."""
    return "pong"
