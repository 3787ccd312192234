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
    if str(app.config["SQLALCHEMY_DATABASE_URI"]).startswith("sqlite"):
        from sqlalchemy import event

        with app.app_context():
            event.listen(db.engine, "connect", _sqlite_pragmas)
    migrate.init_app(app, db, directory=str(__import__("pathlib").Path(__file__).parent / "migrations"))


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    """SQLite (development, the demo, tests; production runs PostgreSQL) in write-ahead-log mode: readers
    do not wait for a writer, and a commit — every page view writes an audit line — is no longer three
    fsyncs. ``synchronous=NORMAL`` is SQLite's own advice with WAL: the database stays consistent after
    a crash; a power cut may lose the last commits. (An in-memory database keeps its own mode.)
    A writer waits up to 30 s for another (two rounds' combines may write their releases at once)."""
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()
