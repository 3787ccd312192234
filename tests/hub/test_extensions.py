"""hub/extensions.py: a SQLite file database runs in write-ahead-log mode (readers do not wait for the
audit line a view commits); an in-memory one keeps its own mode."""

from __future__ import annotations

from sqlalchemy import text

from hub.extensions import db
from tests.hub.conftest import make_app


def test_a_sqlite_file_is_in_wal_mode(tmp_path):
    app = make_app(SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'hub.sqlite'}")
    with app.app_context():
        assert db.session.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert db.session.execute(text("PRAGMA synchronous")).scalar() == 1  # NORMAL
        db.session.remove()
        db.engine.dispose()


def test_an_in_memory_database_keeps_its_mode():
    app = make_app()
    with app.app_context():
        assert db.session.execute(text("PRAGMA journal_mode")).scalar() == "memory"
