"""Celery bound to the Flask app (the pattern from Flask's Celery guide).

Without a broker URL the tasks run eagerly, in-process: the embedded default. With
``HUB_CELERY_BROKER_URL=redis://…`` real workers run them: ``celery -A hub.worker worker -Q celery``
combines rounds, ``… -Q archives`` builds factsheet ZIPs (minutes each), so a combine never waits
behind an archive.
"""

from __future__ import annotations

from celery import Celery, Task
from flask import Flask

#: The queue of combines, the sweep and the health ping.
DEFAULT_QUEUE = "celery"
#: Factsheet ZIPs and their clean-up: their own queue and worker.
ARCHIVE_QUEUE = "archives"
TASK_ROUTES = {
    "hub.build_factsheet_archive": {"queue": ARCHIVE_QUEUE},
    "hub.purge_factsheet_archives": {"queue": ARCHIVE_QUEUE},
}


def celery_init_app(app: Flask) -> Celery:
    class FlaskTask(Task):
        def __call__(self, *args, **kwargs):
            with app.app_context():
                return self.run(*args, **kwargs)

    broker = app.config.get("CELERY_BROKER_URL")
    celery_app = Celery(app.name, task_cls=FlaskTask)
    celery_app.conf.update(
        broker_url=broker or "memory://",
        result_backend=app.config.get("CELERY_RESULT_BACKEND") or None,
        task_always_eager=not broker,
        task_eager_propagates=True,
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        task_ignore_result=True,
        broker_connection_retry_on_startup=True,
        # An upload must not hang on a broker that is down: fail the enqueue fast, the sweep catches up.
        broker_connection_timeout=3,
        task_publish_retry_policy={"max_retries": 2, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.5},
        task_default_queue=DEFAULT_QUEUE,
        task_routes=TASK_ROUTES,
        beat_schedule=_beat_schedule(app),
    )
    celery_app.set_default()
    app.extensions["celery"] = celery_app
    import hub.tasks  # noqa: F401  (registers the shared tasks)

    hub.tasks.init_embedded_sweep(app)

    return celery_app


def _beat_schedule(app: Flask) -> dict:
    schedule = {
        "sweep-pending-work": {
            "task": "hub.sweep_pending",
            "schedule": float(app.config.get("CELERY_SWEEP_SECONDS", 60)),
        }
    }
    if int(app.config.get("AUDIT_RETENTION_DAYS") or 0) > 0:
        schedule["purge-audit-log"] = {"task": "hub.purge_audit_log", "schedule": 24 * 3600.0}
    purge = float(app.config.get("FACTSHEET_ARCHIVE_PURGE_SECONDS") or 0)
    if purge > 0:
        schedule["purge-factsheet-archives"] = {"task": "hub.purge_factsheet_archives", "schedule": purge}
    return schedule
