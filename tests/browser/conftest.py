"""Fixtures for browser tests: a seeded hub on a live loopback server and a headless Chromium page."""

from __future__ import annotations

import pytest

from tests.conftest import serve_app


@pytest.fixture(scope="module")
def seeded_server(tmp_path_factory):
    """(LiveServer, seeded) — a file SQLite database, because the live server answers from several threads."""
    from hub.extensions import db
    from tests.hub.conftest import make_app
    from tests.hub.web.conftest import FAST_HASH
    from tests.hub.web.seed import seed_region

    path = tmp_path_factory.mktemp("browser") / "hub.sqlite"
    app = make_app(SQLALCHEMY_DATABASE_URI=f"sqlite:///{path}", PASSWORD_HASH_METHOD=FAST_HASH)
    with app.app_context():
        db.create_all()
        seeded = seed_region()
    with serve_app(app) as live:
        yield live, seeded


@pytest.fixture(scope="module")
def browser(chromium_path, chromium_args):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium_path, args=chromium_args + ["--no-sandbox"])
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(accept_downloads=True, viewport={"width": 1280, "height": 900}, locale="nl-NL")
    page = context.new_page()
    page.set_default_timeout(30_000)
    yield page
    context.close()


def log_in(page, base: str, email: str, password: str) -> None:
    page.goto(f"{base}/login")
    page.fill("#email", email)
    page.fill("#wachtwoord", password)
    page.click("button[type=submit]")
    page.wait_for_load_state("networkidle")
