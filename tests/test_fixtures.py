"""Proof that the service fixtures in tests/conftest.py start real services and behave as documented."""

from __future__ import annotations

import signal
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.hub.conftest import SECRET_KEY

CONFTEST = Path(__file__).with_name("conftest.py")


# --- Redis ----------------------------------------------------------------------------------


def test_redis_answers_and_survives_a_restart(redis_server, redis_url):
    import redis

    client = redis.Redis.from_url(redis_url, socket_timeout=2)
    assert client.ping() is True
    client.set("k", "v")
    assert client.get("k") == b"v"

    redis_server.stop()
    assert not redis_server.running
    with pytest.raises(redis.exceptions.ConnectionError):
        redis.Redis.from_url(redis_url, socket_timeout=1).ping()

    redis_server.start()
    fresh = redis.Redis.from_url(redis_url, socket_timeout=2)
    assert fresh.ping() is True
    assert fresh.get("k") is None, "the test server persists nothing across a restart"


def test_redis_url_gives_an_empty_running_server(redis_server, redis_url):
    assert redis_server.command("DBSIZE") == ":0"
    redis_server.stop()  # a test that leaves it stopped must not break the next one


def test_redis_url_restarts_a_stopped_server(redis_server, redis_url):
    assert redis_server.running and redis_server.ping()
    assert redis_url == f"redis://127.0.0.1:{redis_server.port}/0"


def test_redis_listens_on_loopback_only_and_persists_nothing(redis_url):
    import redis

    client = redis.Redis.from_url(redis_url, socket_timeout=2, decode_responses=True)
    assert client.config_get("bind")["bind"] == "127.0.0.1"
    assert client.config_get("save")["save"] == ""
    assert client.config_get("appendonly")["appendonly"] == "no"


# --- PostgreSQL -----------------------------------------------------------------------------


def test_postgres_select_1_and_version(postgres_db):
    engine = sa.create_engine(postgres_db)
    try:
        with engine.connect() as conn:
            assert conn.execute(sa.text("SELECT 1")).scalar() == 1
            version = conn.execute(sa.text("SHOW server_version_num")).scalar()
            assert int(version) // 10000 == 15
            assert conn.execute(sa.text("SHOW fsync")).scalar() == "off"
    finally:
        engine.dispose()


def test_postgres_db_is_fresh_and_dropped_afterwards(postgres_server):
    name = postgres_server.create_database()
    url = postgres_server.url_for(name)
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        tables = conn.execute(sa.text("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")).scalar()
        assert tables == 0
    engine.dispose()
    postgres_server.drop_database(name)
    with postgres_server.connect() as conn, conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM pg_database WHERE datname = %s", (name,))
        assert cur.fetchone()[0] == 0


def test_hub_creates_its_tables_on_postgres(postgres_db, tmp_path):
    from hub import create_app
    from hub.extensions import db
    from hub.models.base import Base

    app = create_app({"SQLALCHEMY_DATABASE_URI": postgres_db, "SECRET_KEY": SECRET_KEY, "TESTING": True})
    with app.app_context():
        db.create_all()
        assert db.session.execute(sa.text("SELECT 1")).scalar() == 1
        present = set(sa.inspect(db.engine).get_table_names())
        db.session.remove()
        db.engine.dispose()
    assert set(Base.metadata.tables) <= present


# --- Celery ---------------------------------------------------------------------------------


def test_celery_worker_runs_a_task_end_to_end(celery_worker_factory, postgres_db, redis_url):
    from hub import create_app

    worker = celery_worker_factory(postgres_db, redis_url, result_backend=redis_url)
    assert worker.alive and worker.pid > 0
    app = create_app({"SQLALCHEMY_DATABASE_URI": postgres_db, "CELERY_BROKER_URL": redis_url,
                      "CELERY_RESULT_BACKEND": redis_url, "SECRET_KEY": SECRET_KEY, "TESTING": True})
    celery = app.extensions["celery"]
    assert celery.conf.task_always_eager is False
    result = celery.send_task("hub.ping")
    assert result.get(timeout=60) == "pong"
    worker.wait_for_log(r"Task hub\.ping\[" + result.id + r"\] succeeded")

    worker.kill(signal.SIGKILL)
    assert not worker.alive
    assert worker.proc.returncode == -signal.SIGKILL


# --- live server and Chromium ---------------------------------------------------------------


def test_live_server_serves_the_hub_to_chromium(live_server_factory, chromium_path, chromium_args, tmp_path):
    from playwright.sync_api import sync_playwright

    from hub import create_app

    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'hub.sqlite'}", "SECRET_KEY": SECRET_KEY,
                      "TESTING": True})
    app.add_url_rule("/fixture-check", "fixture_check", lambda: "<h1>Jeugdhub fixture</h1>")
    server = live_server_factory(app)

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path, args=chromium_args)
        try:
            page = browser.new_page()
            response = page.goto(server.url + "/fixture-check")
            assert response is not None and response.status == 200
            assert page.inner_text("h1") == "Jeugdhub fixture"
            shot = tmp_path / "page.png"
            page.screenshot(path=str(shot))
            assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        finally:
            browser.close()


# --- CI: skips are failures -----------------------------------------------------------------


#: The hypothesis plugin costs seconds per session start and the inner sessions have no property tests.
INNER_ARGS = ("-p", "no:cacheprovider", "-p", "no:hypothesispytest")

INNER_TESTS = """
import pytest

def test_runs():
    assert True

def test_skipped():
    pytest.skip("no service here")

@pytest.mark.xfail(reason="known", strict=True)
def test_expected_failure():
    assert False
"""


@pytest.mark.parametrize("ci, expect", [("true", {"passed": 1, "failed": 1, "xfailed": 1}),
                                         ("", {"passed": 1, "skipped": 1, "xfailed": 1})])
def test_skip_is_a_failure_under_ci(pytester, monkeypatch, ci, expect):
    monkeypatch.setenv("CI", ci)
    pytester.makeconftest(CONFTEST.read_text())
    pytester.makepyfile(test_inner=INNER_TESTS)
    result = pytester.runpytest_inprocess(*INNER_ARGS)
    result.assert_outcomes(**expect)
    if ci:
        result.stdout.fnmatch_lines(["*skipped under CI=true, which counts as a failure: no service here*"])


def test_module_level_skip_is_a_failure_under_ci(pytester, monkeypatch):
    monkeypatch.setenv("CI", "true")
    pytester.makeconftest(CONFTEST.read_text())
    pytester.makepyfile(test_mod="import pytest\npytest.importorskip('no_such_module_xyz')\n\ndef test_x():\n    pass\n")
    result = pytester.runpytest_inprocess(*INNER_ARGS)
    assert result.ret != 0
    result.stdout.fnmatch_lines(["*module skipped under CI=true*no_such_module_xyz*"])


def test_missing_binary_fails_with_an_install_hint(pytester, monkeypatch):
    monkeypatch.setenv("JEUGDHUB_CHROMIUM", "/nonexistent/chromium")
    pytester.makeconftest(CONFTEST.read_text())
    pytester.makepyfile(test_b="def test_b(chromium_path):\n    pass\n")
    result = pytester.runpytest_inprocess(*INNER_ARGS)
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*/nonexistent/chromium not found*`chromium` is missing*make test*"])
