"""The hub's Flask extensions, created unbound and attached in :func:`init_extensions`."""

from __future__ import annotations

from flask import Flask
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy

from hub.models.base import Base

db = SQLAlchemy(model_class=Base)
migrate = Migrate()


def init_extensions(app: Flask) -> None:
    import hub.models  # noqa: F401  (registers every model on the metadata)

    db.init_app(app)
    migrate.init_app(app, db, directory=str(__import__("pathlib").Path(__file__).parent / "migrations"))
