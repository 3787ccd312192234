"""Celery tasks: thin, named, idempotent; they take ids and call services.

``enqueue_combine`` is what services call after their commit: a broker that is down must never
fail an upload (the submission is already in the database and ``hub.sweep_pending`` catches up).

Without a broker (the embedded default) combining still happens in this process, but on one
background thread (``COMBINE_IN_BACKGROUND``, default on) rather than inside the upload request:
the disclosure gate can take minutes, longer than an agent waits for its HTTP answer. Requests
for a round that is already waiting are coalesced, which is safe because combining is idempotent
and reads the newest submissions when it starts. ``wait_for_combines`` lets the demo and tests
wait until the queue is empty. The same runner builds requested ZIPs of factsheet PDFs
(``hub.build_factsheet_archive``) off the request, on a thread of its own. Celery beat's periodic
work has an embedded stand-in too (``init_embedded_sweep``): from the first request the hub serves,
a daemon thread looks for pending rounds every ``CELERY_SWEEP_SECONDS`` and queues their combines,
and cleans up factsheet archives every ``FACTSHEET_ARCHIVE_PURGE_SECONDS``.

With a broker, archives go to their own queue (``hub.celery_app.ARCHIVE_QUEUE``, see
``TASK_ROUTES``) and worker, so a combine never waits behind a region's ZIP.
"""

from __future__ import annotations

import concurrent.futures
import logging
import threading
from typing import Callable

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


class BackgroundRunner:
    """One thread per app and kind of work that runs jobs in order, each key queued at most once."""

    def __init__(self, app: Flask, kind: str, work: Callable[[int], object], retry_hint: str) -> None:
        self._app = app
        self._kind = kind
        self._work = work
        self._retry_hint = retry_hint
        self._lock = threading.Lock()
        self._queued: set[int] = set()
        self._futures: list[concurrent.futures.Future] = []
        self._executor = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"hub-{kind}")

    def submit(self, key: int) -> None:
        with self._lock:
            if key in self._queued:
                return
            self._queued.add(key)
            self._futures = [f for f in self._futures if not f.done()]
            self._futures.append(self._executor.submit(self._run, key))

    def _run(self, key: int) -> None:
        with self._lock:
            # From here on a new request needs a new run: this one may have read too early.
            self._queued.discard(key)
        try:
            with self._app.app_context():
                self._work(key)
        except Exception as exc:  # noqa: BLE001 — a background thread has no caller to raise to
            log.warning("background %s of %s failed (%s); %s", self._kind, key, type(exc).__name__,
                        self._retry_hint.format(key=key))

    def wait(self, timeout: float | None = None) -> bool:
        """Block until every queued job has finished; False when ``timeout`` ran out first."""
        while True:
            with self._lock:
                pending = [f for f in self._futures if not f.done()]
            if not pending:
                return True
            _, not_done = concurrent.futures.wait(pending, timeout)
            if not_done:
                return False


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
        runner = _background_runner(self._app, "combine")
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
        with _RUNNER_LOCK:
            if "hub_embedded_sweeper" not in app.extensions:
                app.extensions["hub_embedded_sweeper"] = EmbeddedSweeper(app, interval, purge_interval).start()


def _combine(round_id: int) -> object:
    from hub.services.combine import combine_round as combine

    return combine(round_id)


def _build_archive(archive_id: int) -> object:
    from hub.services.factsheet_archives import build_archive

    return build_archive(archive_id)


#: kind → (work, hint for the log when it fails)
_KINDS: dict[str, tuple[Callable[[int], object], str]] = {
    "combine": (_combine, "'jeugdhub round combine {key}' retries"),
    "factsheet-archive": (_build_archive, "the archive is marked failed; request a new one"),
}
_RUNNER_LOCK = threading.Lock()


def _background_runner(app: Flask, kind: str) -> BackgroundRunner:
    with _RUNNER_LOCK:
        runner = app.extensions.get(f"hub_background_{kind}")
        if runner is None:
            work, hint = _KINDS[kind]
            runner = app.extensions[f"hub_background_{kind}"] = BackgroundRunner(app, kind, work, hint)
        return runner


def _wait_for(app: Flask, kind: str, timeout: float | None) -> bool:
    runner = app.extensions.get(f"hub_background_{kind}")
    return True if runner is None else runner.wait(timeout)


def wait_for_combines(app: Flask, timeout: float | None = None) -> bool:
    """Wait for the in-process combines of ``app`` (embedded mode); True when none is left."""
    return _wait_for(app, "combine", timeout)


def wait_for_factsheet_archives(app: Flask, timeout: float | None = None) -> bool:
    """Wait for the in-process factsheet archives of ``app`` (embedded mode); True when none is left."""
    return _wait_for(app, "factsheet-archive", timeout)


def enqueue_combine(round_id: int) -> bool:
    """Ask for ``round_id`` to be combined; True when handed over (or run, in eager mode)."""
    app = current_app._get_current_object()
    celery_app = app.extensions["celery"]
    if celery_app.conf.task_always_eager and app.config.get("COMBINE_IN_BACKGROUND", True):
        _background_runner(app, "combine").submit(round_id)
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


@shared_task(name="hub.build_factsheet_archive", acks_late=True, autoretry_for=(OperationalError,), retry_backoff=True, max_retries=3)
def build_factsheet_archive(archive_id: int) -> str:
    """Build one requested ZIP of factsheet PDFs; a no-op when it is already done or failed."""
    from hub.services.factsheet_archives import build_archive

    return build_archive(int(archive_id))


def enqueue_factsheet_archive(archive_id: int) -> bool:
    """Hand ``archive_id`` to the worker, or to this process's background thread without a broker."""
    app = current_app._get_current_object()
    if app.extensions["celery"].conf.task_always_eager:
        # Never inside the request, even in tests: one PDF takes seconds, a region takes minutes.
        _background_runner(app, "factsheet-archive").submit(archive_id)
        return True
    try:
        build_factsheet_archive.delay(archive_id)
    except Exception as exc:  # noqa: BLE001 — the edge: the request is stored; the status page says it waits
        log.warning("could not enqueue factsheet archive %s (%s)", archive_id, type(exc).__name__)
        return False
    return True


@shared_task(name="hub.purge_factsheet_archives", acks_late=True)
def purge_factsheet_archives() -> dict:
    """Periodic (beat): delete the ZIPs of old archives and fail stuck ones."""
    from hub.services.factsheet_archives import purge_archives

    return purge_archives().to_dict()


@shared_task(name="hub.ping", ignore_result=False)
def ping() -> str:
    """Health check through the queue: a worker that consumes tasks answers ``"pong"``."""
    return "pong"
