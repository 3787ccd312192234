"""The Alembic migrations build exactly the schema the models describe (SQLite and PostgreSQL), so
a model change without a migration fails here."""

from __future__ import annotations

import flask_migrate
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from hub.extensions import db
from tests.hub.conftest import make_app


def _describe(item) -> str:
    """A readable line per difference (alembic returns tuples of schema objects)."""
    if isinstance(item, list):
        return "; ".join(_describe(i) for i in item)
    kind, *rest = item
    names = [getattr(r, "name", None) or str(r) for r in rest]
    parent = getattr(rest[0], "table", None) if rest else None
    return f"{kind} {getattr(parent, 'name', '')} {names}"


def _upgrade_and_compare(url: str) -> list:
    app = make_app(SQLALCHEMY_DATABASE_URI=url)
    with app.app_context():
        flask_migrate.upgrade()
        with db.engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            diff = [_describe(d) for d in compare_metadata(context, db.metadata)]
            tables = set(inspect(conn).get_table_names())
        assert set(db.metadata.tables) <= tables
        flask_migrate.downgrade(revision="base")
        with db.engine.connect() as conn:
            assert set(inspect(conn).get_table_names()) <= {"alembic_version"}
        db.engine.dispose()
    return diff


def test_migrations_match_models_on_sqlite(tmp_path):
    diff = _upgrade_and_compare(f"sqlite:///{tmp_path / 'hub.sqlite'}")
    assert diff == [], "\n".join(diff)


def test_migrations_match_models_on_postgresql(postgres_db):
    diff = _upgrade_and_compare(postgres_db)
    assert diff == [], "\n".join(diff)
