"""Background jobs as services see them: hand a job over after the commit, by task name.

Services call :func:`enqueue` once their transaction has committed; it imports no service and no task
module (the Celery app's registry resolves the name), so layers point one way: routes → services →
models, with ``hub.tasks`` on top. With a broker the job goes to Celery. Without one (the embedded
default) it runs in this process, but on a background thread per kind of job rather than inside the
request: a combine can take minutes, longer than an agent waits for its HTTP answer. Requests for a
key that is already waiting are coalesced (the jobs are idempotent and read the newest data when they
start). :func:`wait` lets the demo and tests wait until a kind's queue is empty.
"""

from __future__ import annotations

import concurrent.futures
import logging
import threading
import time

from flask import Flask, current_app

log = logging.getLogger(__name__)

#: Task names (hub/tasks.py registers them).
COMBINE = "hub.combine_round"
FACTSHEET_ARCHIVE = "hub.build_factsheet_archive"

#: What the log says when an in-process job fails (the thread has no caller to raise to).
_RETRY_HINTS = {
    COMBINE: "'jeugdhub round combine {key}' retries",
    FACTSHEET_ARCHIVE: "the archive is marked failed; request a new one",
}
#: A setting that delays a task by that many seconds: COMBINE_DELAY_SECONDS > 0 lets a burst of
#: uploads share one combine (the later tasks find the release already up to date and return at once).
_COUNTDOWN_SETTINGS = {COMBINE: "COMBINE_DELAY_SECONDS"}
_LOCK = threading.Lock()


def _short(name: str) -> str:
    return name.removeprefix("hub.")


class BackgroundRunner:
    """Background threads per app and kind of job: each key queued at most once, and one key never
    run twice at a time (a request while its job runs queues one more run after it); different keys
    run side by side on up to ``BACKGROUND_WORKERS`` threads (default 2), as Celery's workers run a
    broker's jobs. Two rounds of one school year share their history: their combines take turns
    (hub/services/combine.py, ``combine_round``); those of different school years are independent."""

    def __init__(self, app: Flask, name: str) -> None:
        self._app = app
        self._name = name
        self._lock = threading.Lock()
        self._queued: set[int] = set()
        self._running: set[int] = set()
        self._futures: list[concurrent.futures.Future] = []
        workers = app.config.get("BACKGROUND_WORKERS", 2)  # checked at start (hub/config.py)
        self._executor = concurrent.futures.ThreadPoolExecutor(max_workers=workers,
                                                               thread_name_prefix=f"hub-{_short(name)}")

    def submit(self, key: int) -> None:
        with self._lock:
            if key in self._queued:
                return
            self._queued.add(key)
            if key not in self._running:  # else the running job starts this one when it ends
                self._start(key)

    def _start(self, key: int) -> None:
        self._futures = [f for f in self._futures if not f.done()]
        self._futures.append(self._executor.submit(self._run, key))

    def _run(self, key: int) -> None:
        with self._lock:
            # From here on a new request needs a new run: this one may have read too early.
            self._queued.discard(key)
            self._running.add(key)
        try:
            with self._app.app_context():
                self._app.extensions["celery"].tasks[self._name].run(key)
        except Exception as exc:  # noqa: BLE001 — a background thread has no caller to raise to
            log.warning("background %s of %s failed (%s); %s", self._name, key, type(exc).__name__,
                        _RETRY_HINTS.get(self._name, "").format(key=key))
        finally:
            with self._lock:
                self._running.discard(key)
                if key in self._queued:  # asked for again while it ran (before this future is done)
                    self._start(key)

    def wait(self, timeout: float | None = None) -> bool:
        """Block until every queued job has finished; False when ``timeout`` ran out first (one deadline
        for all of it: a re-run started meanwhile gets only what is left)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            with self._lock:
                pending = [f for f in self._futures if not f.done()]
            if not pending:
                return True
            left = None if deadline is None else max(0.0, deadline - time.monotonic())
            _, not_done = concurrent.futures.wait(pending, left)
            if not_done:
                return False


def runner(app: Flask, name: str) -> BackgroundRunner:
    """The app's in-process runner for task ``name`` (made on first use)."""
    with _LOCK:
        found = app.extensions.get(f"hub_background_{_short(name)}")
        if found is None:
            found = app.extensions[f"hub_background_{_short(name)}"] = BackgroundRunner(app, name)
        return found


def in_process(app: Flask, name: str) -> bool:
    """Whether task ``name`` runs on this process's background thread (no broker)."""
    if not app.extensions["celery"].conf.task_always_eager:
        return False
    # COMBINE_IN_BACKGROUND=False runs eager combines inline (some tests want the release at once).
    return name != COMBINE or bool(app.config.get("COMBINE_IN_BACKGROUND", True))


def enqueue(name: str, key: int) -> bool:
    """Hand job ``name`` for ``key`` over; True when handed over (or run, in eager mode).

    Call it after the commit. A broker that is down never fails the caller: the data is stored, and
    the periodic sweep (hub/tasks.py) catches up.
    """
    app = current_app._get_current_object()
    if in_process(app, name):
        runner(app, name).submit(key)
        return True
    countdown = int(app.config.get(_COUNTDOWN_SETTINGS.get(name, ""), 0) or 0)
    try:
        app.extensions["celery"].tasks[name].apply_async((key,), countdown=countdown or None)
    except Exception as exc:  # noqa: BLE001 — the edge: any broker/eager failure must not fail the caller
        # Only the exception type and the id: a broker URL may hold a password.
        log.warning("could not run or enqueue %s for %s (%s); the sweep will retry", name, key, type(exc).__name__)
        return False
    return True


def wait(app: Flask, name: str, timeout: float | None = None) -> bool:
    """Wait for the in-process jobs ``name`` of ``app`` (embedded mode); True when none is left."""
    found = app.extensions.get(f"hub_background_{_short(name)}")
    return True if found is None else found.wait(timeout)
