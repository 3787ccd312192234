"""Celery tasks: thin, named, idempotent; they take ids and call services. This module sits on top:
services never import it, they hand work over through :mod:`hub.jobs` (by task name, after their commit).

Celery beat's periodic work has an embedded stand-in (``init_embedded_sweep``): without a broker,
from the first request the hub serves, a daemon thread looks for pending rounds every
``CELERY_SWEEP_SECONDS`` and queues their combines (on hub.jobs' in-process runner), and cleans up
factsheet archives every ``FACTSHEET_ARCHIVE_PURGE_SECONDS``. With a broker, archives go to their own
queue (``hub.celery_app.ARCHIVE_QUEUE``, see ``TASK_ROUTES``) and worker, so a combine never waits
behind a region's ZIP.
"""

from __future__ import annotations

import logging
import threading

from celery import shared_task
from flask import Flask
from sqlalchemy.exc import OperationalError

from hub import jobs

log = logging.getLogger(__name__)


@shared_task(name="hub.combine_round", bind=True, acks_late=True, autoretry_for=(OperationalError,), retry_backoff=True, max_retries=5)
def combine_round(self, round_id: int) -> int | None:
    """Recombine one round; a no-op when its release is already up to date, or when its first
    publication still waits for expected nodes before the deadline."""
    from hub.services.combine import combine_round as combine

    return combine(int(round_id), wait_for_all=True)


@shared_task(name="hub.sweep_pending", acks_late=True)
def sweep_pending() -> list[int]:
    """Enqueue a combine for every round whose current submissions are not yet in its release; a
    round's first publication only once all expected nodes have submitted or its deadline has
    passed, so the sweep is what publishes a round at its deadline."""
    from hub.services.combine import pending_rounds

    rounds = pending_rounds()
    for round_id in rounds:
        jobs.enqueue(jobs.COMBINE, round_id)
    return rounds


class EmbeddedSweeper:
    """Embedded mode's Celery beat: every ``interval`` seconds, queue a combine of every pending round;
    every ``purge_interval`` seconds, clean up old and stuck factsheet archives (0 switches either off)."""

    def __init__(self, app: Flask, interval: float, purge_interval: float = 0) -> None:
        self._app = app
        self.interval = interval
        self.purge_interval = purge_interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="hub-sweep", daemon=True)

    def start(self) -> "EmbeddedSweeper":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def sweep_once(self) -> list[int]:
        """One sweep; the round ids it queued (a failure is logged, never raised: the next sweep retries)."""
        from hub.services.combine import pending_rounds

        try:
            with self._app.app_context():
                rounds = pending_rounds()
        except Exception as exc:  # noqa: BLE001 — e.g. the database is not migrated yet
            log.warning("embedded sweep could not read pending rounds (%s); next try in %ss", type(exc).__name__, self.interval)
            return []
        runner = jobs.runner(self._app, jobs.COMBINE)
        for round_id in rounds:
            runner.submit(round_id)
        return rounds

    def purge_once(self) -> dict | None:
        """One clean-up of factsheet archives; what it did, or None when it failed (logged; the next one retries)."""
        from hub.services.factsheet_archives import purge_archives

        try:
            with self._app.app_context():
                return purge_archives().to_dict()
        except Exception as exc:  # noqa: BLE001 — e.g. the database is not migrated yet
            log.warning("embedded clean-up of factsheet archives failed (%s); next try in %ss", type(exc).__name__,
                        self.purge_interval)
            return None

    def _loop(self) -> None:
        jobs = [[self.interval, self.sweep_once, 0.0], [self.purge_interval, self.purge_once, 0.0]]
        jobs = [job for job in jobs if job[0] > 0]
        tick = min(job[0] for job in jobs)
        while not self._stop.wait(tick):
            for job in jobs:
                job[2] += tick
                if job[2] >= job[0] - 1e-9:
                    job[2] = 0.0
                    job[1]()


_SWEEPER_LOCK = threading.Lock()


def init_embedded_sweep(app: Flask) -> None:
    """In embedded background mode, start the sweeper with the first request the app serves."""
    interval = float(app.config.get("CELERY_SWEEP_SECONDS") or 0)
    purge_interval = float(app.config.get("FACTSHEET_ARCHIVE_PURGE_SECONDS") or 0)
    embedded = app.extensions["celery"].conf.task_always_eager and app.config.get("COMBINE_IN_BACKGROUND", True)
    if not embedded or (interval <= 0 and purge_interval <= 0):
        return

    @app.before_request
    def _start_sweeper() -> None:
        if "hub_embedded_sweeper" in app.extensions:
            return
        with _SWEEPER_LOCK:
            if "hub_embedded_sweeper" not in app.extensions:
                app.extensions["hub_embedded_sweeper"] = EmbeddedSweeper(app, interval, purge_interval).start()


@shared_task(name="hub.build_factsheet_archive", acks_late=True, autoretry_for=(OperationalError,), retry_backoff=True, max_retries=3)
def build_factsheet_archive(archive_id: int) -> str:
    """Build one requested ZIP of factsheet PDFs; a no-op when it is already done or failed."""
    from hub.services.factsheet_archives import build_archive
    from hub.web.factsheet import render_archive

    return build_archive(int(archive_id), render_archive)


@shared_task(name="hub.purge_factsheet_archives", acks_late=True)
def purge_factsheet_archives() -> dict:
    """Periodic (beat): delete the ZIPs of old archives and fail stuck ones."""
    from hub.services.factsheet_archives import purge_archives

    return purge_archives().to_dict()


@shared_task(name="hub.purge_audit_log", acks_late=True)
def purge_audit_log() -> int:
    """Periodic (beat, daily): remove audit lines older than AUDIT_RETENTION_DAYS."""
    from hub.services import audit

    return audit.purge()


@shared_task(name="hub.ping", ignore_result=False)
def ping() -> str:
    """Health check through the queue: a worker that consumes tasks answers ``"pong"``."""
    return "pong"
