"""Fixtures for page tests: a seeded hub app and logged-in clients.

Requests are made WITHOUT an outer app context: Flask reuses a pushed app context for requests, so
``g`` (Flask-Login's current user, the CSRF token) would leak from one client's request into the next.
"""

from __future__ import annotations

import pytest

from hub.extensions import db
from tests.hub.conftest import make_app
from tests.hub.web.helpers import login
from tests.hub.web.seed import seed_region

#: Real scrypt costs ~0.5 s per hash; test_users.py checks the default method itself.
FAST_HASH = "pbkdf2:sha256:1000"


def seeded_app():
    app = make_app(PASSWORD_HASH_METHOD=FAST_HASH)
    with app.app_context():
        db.create_all()
        seeded = seed_region()
    return app, seeded


@pytest.fixture
def web(request):
    """(app, seeded) with a fresh in-memory database."""
    app, seeded = seeded_app()
    yield app, seeded
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def web_app(web):
    return web[0]


@pytest.fixture
def seeded(web):
    return web[1]


@pytest.fixture
def client_as(web):
    """``client_as(role)`` → a test client logged in with that role's seeded user."""
    app, seeded = web

    def make(role: str):
        client = app.test_client()
        resp = login(client, *seeded.users[role])
        assert resp.status_code == 302, resp.get_data(as_text=True)[:500]
        return client

    return make
