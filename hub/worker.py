"""Entry point for Celery processes: ``celery -A hub.worker worker`` / ``celery -A hub.worker beat``."""

from hub import create_app

flask_app = create_app()
celery = flask_app.extensions["celery"]
