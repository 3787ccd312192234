"""Celery bound to the Flask app (the pattern from Flask's Celery guide).

Without a broker URL the tasks run eagerly, in-process: the embedded default. With
``HUB_CELERY_BROKER_URL=redis://…`` a real worker (``celery -A hub.worker worker``) runs them.
"""

from __future__ import annotations

from celery import Celery, Task
from flask import Flask


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
        beat_schedule={
            "sweep-pending-work": {
                "task": "hub.sweep_pending",
                "schedule": float(app.config.get("CELERY_SWEEP_SECONDS", 60)),
            }
        },
    )
    celery_app.set_default()
    app.extensions["celery"] = celery_app
    import hub.tasks  # noqa: F401  (registers the shared tasks)

    hub.tasks.init_embedded_sweep(app)

    return celery_app
