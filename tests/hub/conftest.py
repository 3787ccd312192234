"""Fixtures for hub tests: an in-memory SQLite app with its tables, and helpers to count rows."""

from __future__ import annotations

from typing import Iterator

import pytest
from sqlalchemy import func, select

from hub import create_app
from hub.extensions import db

ADMIN_TOKEN = "test-admin-token-0123456789abcdef"
#: Tests pass their own session key: a hub without one would make and keep one in its instance folder.
SECRET_KEY = "test-secret-key-not-for-production-0123456789"


def make_app(**overrides):
    config = {
        "SQLALCHEMY_DATABASE_URI": "sqlite://",
        "SECRET_KEY": SECRET_KEY,
        "TESTING": True,
        "ADMIN_TOKEN": ADMIN_TOKEN,
        # Combine inside the upload call, so a test sees the release right after it; the
        # background thread of the embedded default has its own tests in test_tasks.py.
        "COMBINE_IN_BACKGROUND": False,
        # The seeded regio admins log in with a password only; tests/hub/web/test_mfa.py tests the
        # default (a second factor required for regio_admin) with this override removed.
        "MFA_REQUIRED_ROLES": "",
        **overrides,
    }
    return create_app(config)


@pytest.fixture
def app() -> Iterator:
    app = make_app()
    with app.app_context():
        db.create_all()
        yield app
        db.session.remove()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def admin_headers() -> dict[str, str]:
    return {"Authorization": f"Bearer {ADMIN_TOKEN}"}


def row_counts() -> dict[str, int]:
    """Rows in every table: 'nothing stored' means this does not change."""
    db.session.rollback()
    return {t.name: db.session.scalar(select(func.count()).select_from(t)) for t in db.metadata.sorted_tables}


@pytest.fixture
def no_combine(monkeypatch) -> list[int]:
    """Record instead of run the combine a stored submission asks for (tests about receiving)."""
    from hub import jobs

    calls: list[int] = []
    real = jobs.enqueue
    monkeypatch.setattr(jobs, "enqueue", lambda name, key: calls.append(key) if name == jobs.COMBINE else real(name, key))
    return calls
