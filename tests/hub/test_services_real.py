"""The hub with its real services: PostgreSQL, Redis and a real Celery worker process.

- the whole flow: signed uploads → the worker combines on PostgreSQL → a release;
- a worker killed (SIGKILL) after computing, before committing: the previous release stays, and
  the retry by a new worker yields the very release the killed one had computed (same digest);
- Redis stopped while submissions arrive: the uploads succeed, nothing is lost, and after Redis
  returns the sweep brings the release up to date.
"""

from __future__ import annotations

import time
from pathlib import Path

import flask_migrate
import pytest
from sqlalchemy import text

from hub import tasks
from hub.extensions import db
from tests.hub.conftest import make_app
from tests.hub.factories import enrol_node
from tests.hub.openapi_helpers import assert_matches_openapi

WAIT = 120  # seconds; the first import of the gate in a fresh worker is the slow part


@pytest.fixture
def hub(postgres_db, redis_url):
    app = make_app(SQLALCHEMY_DATABASE_URI=postgres_db, CELERY_BROKER_URL=redis_url)
    with app.app_context():
        flask_migrate.upgrade()
        yield app
        db.session.remove()
        db.engine.dispose()


def scalar(sql: str, **params):
    db.session.rollback()  # a fresh snapshot: another process writes
    return db.session.execute(text(sql), params).scalar()


def wait_for(check, timeout: float, what: str, worker=None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.2)
    log = worker.log_text()[-3000:] if worker is not None else ""
    pytest.fail(f"{what}: not within {timeout:.0f} s\n{log}", pytrace=False)


def submit(client, node, round_id: int, **kwargs):
    data = node.envelope(**kwargs)
    path = f"/api/v1/rounds/{round_id}/submissions"
    response = client.post(path, data=data, headers=node.headers("POST", path, data), content_type="application/json")
    assert_matches_openapi(response, "POST", path)
    return response


def current_release(round_id: int) -> tuple[int, int, str, str] | None:
    db.session.rollback()
    row = db.session.execute(
        text(
            "SELECT r.id, r.version, r.digest, r.submission_ids FROM rounds o JOIN releases r "
            "ON r.id = o.current_release_id WHERE o.id = :id"
        ),
        {"id": round_id},
    ).first()
    return tuple(row) if row else None


def submission_ids(round_id: int) -> list[int]:
    db.session.rollback()
    return sorted(
        db.session.execute(
            text("SELECT id FROM submissions WHERE round_id = :id AND status = 'current'"), {"id": round_id}
        ).scalars()
    )


def release_has(round_id: int, ids: list[int]):
    rel = current_release(round_id)
    import json

    return rel if rel and sorted(json.loads(rel[3]) if isinstance(rel[3], str) else rel[3]) == ids else None


def test_flow_on_postgresql_with_a_real_worker(hub, postgres_db, redis_url, celery_worker_factory):
    from hub.services import rounds

    worker = celery_worker_factory(postgres_db, redis_url)
    a, b = enrol_node("0356"), enrol_node("0321")
    round_id = rounds.open_round("2024-2025").id
    client = hub.test_client()

    assert submit(client, a, round_id).status_code == 201
    assert submit(client, b, round_id).status_code == 201
    assert submit(client, b, round_id).status_code == 200  # replay: duplicate, stored once

    ids = submission_ids(round_id)
    rel = wait_for(lambda: release_has(round_id, ids), WAIT, "release with both submissions", worker)
    assert scalar("SELECT count(*) FROM submissions") == 2
    assert scalar("SELECT count(*) FROM release_cells WHERE release_id = :id", id=rel[0]) == scalar(
        "SELECT cell_count FROM releases WHERE id = :id", id=rel[0]
    )
    assert scalar("SELECT count(*) FROM release_cells WHERE status <> 'published' AND value IS NOT NULL") == 0
    from hub.services.combine import rebuild

    stored, rebuilt = rebuild(rel[0])
    assert stored == rebuilt == rel[2]
    health = client.get("/api/v1/health")
    assert assert_matches_openapi(health, "GET", "/api/v1/health") == {"status": "ok", "database": "ok", "broker": "ok"}


def test_worker_killed_mid_combine_then_retry_gives_the_same_release(
    hub, postgres_db, redis_url, celery_worker_factory, tmp_path: Path
):
    from hub.services import rounds

    pause = tmp_path / "pause"
    reached = Path(f"{pause}.reached")
    worker = celery_worker_factory(postgres_db, redis_url, COMBINE_PAUSE_FILE=str(pause))
    a, b = enrol_node("0356"), enrol_node("0321")
    round_id = rounds.open_round("2024-2025").id
    client = hub.test_client()

    submit(client, a, round_id)
    submit(client, b, round_id)  # the first publication waits for both municipalities
    first = wait_for(lambda: release_has(round_id, submission_ids(round_id)), WAIT, "first release", worker)

    pause.touch()
    submit(client, b, round_id, scale=2)  # a correction
    wait_for(reached.exists, WAIT, "worker computed the second release and paused before commit", worker)
    pid, digest = reached.read_text().split()
    assert int(pid) == worker.pid
    worker.kill()  # SIGKILL: no ack, no commit

    assert current_release(round_id) == first
    assert scalar("SELECT count(*) FROM releases WHERE round_id = :id", id=round_id) == 1
    assert scalar("SELECT count(*) FROM submissions WHERE round_id = :id", id=round_id) == 3  # two first, then the correction

    pause.unlink()
    retry = celery_worker_factory(postgres_db, redis_url)
    tasks.sweep_pending.delay()  # what beat does every CELERY_SWEEP_SECONDS
    ids = submission_ids(round_id)
    second = wait_for(lambda: release_has(round_id, ids), WAIT, "release after the retry", retry)
    assert second[1] == 2 and second[2] == digest
    # Nothing duplicated: one release per version, cells written once.
    assert scalar("SELECT count(*) FROM releases WHERE round_id = :id", id=round_id) == 2
    assert scalar("SELECT count(*) FROM release_cells WHERE release_id = :id", id=second[0]) == scalar(
        "SELECT cell_count FROM releases WHERE id = :id", id=second[0]
    )


def test_redis_outage_loses_no_submission(hub, postgres_db, redis_server, redis_url, celery_worker_factory):
    from hub.services import rounds

    a, b = enrol_node("0356"), enrol_node("0321")
    round_id = rounds.open_round("2024-2025").id
    client = hub.test_client()

    redis_server.stop()
    started = time.monotonic()
    assert submit(client, a, round_id).status_code == 201
    assert submit(client, b, round_id).status_code == 201
    assert time.monotonic() - started < 20, "an upload must not hang on a broker that is down"
    assert scalar("SELECT count(*) FROM submissions WHERE round_id = :id", id=round_id) == 2
    assert current_release(round_id) is None
    health = client.get("/api/v1/health")
    assert assert_matches_openapi(health, "GET", "/api/v1/health")["broker"] == "error"

    redis_server.start()
    worker = celery_worker_factory(postgres_db, redis_url)
    tasks.sweep_pending.delay()
    ids = submission_ids(round_id)
    assert len(ids) == 2
    wait_for(lambda: release_has(round_id, ids), WAIT, "release after Redis came back", worker)
