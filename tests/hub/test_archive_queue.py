"""Factsheet ZIPs run on their own Celery queue: real Redis, PostgreSQL and worker processes.

The combine worker (``-Q celery``, as in deploy/compose.yaml) never takes an archive, so a combine
does not wait behind one; the archive worker (``-Q archives``) builds it and runs the clean-up.
"""

from __future__ import annotations

import io
import re
import zipfile

import flask_migrate
import pytest
from sqlalchemy import text

from hub import tasks
from hub.extensions import db
from tests.hub.conftest import make_app
from tests.hub.test_services_real import scalar, wait_for
from tests.hub.web.conftest import FAST_HASH
from tests.hub.web.seed import YEARS, seed_region

WAIT = 180  # seconds: a fresh worker imports WeasyPrint and renders the PDFs


@pytest.fixture
def hub(postgres_db, redis_url):
    app = make_app(SQLALCHEMY_DATABASE_URI=postgres_db, CELERY_BROKER_URL=redis_url,
                   CELERY_RESULT_BACKEND=redis_url, PASSWORD_HASH_METHOD=FAST_HASH)
    with app.app_context():
        flask_migrate.upgrade()
        seed_region()
        yield app
        db.session.remove()
        db.engine.dispose()


def _archive(archive_id: int):
    db.session.rollback()  # a fresh snapshot: the worker writes
    return db.session.execute(text("SELECT status, school_count, content FROM factsheet_archives WHERE id = :id"),
                              {"id": archive_id}).first()


def test_archives_wait_on_their_own_queue_and_the_archive_worker_builds_them(
    hub, postgres_db, redis_url, redis_server, celery_worker_factory
):
    from hub.models.users import User
    from hub.services.factsheet_archives import request_archive
    from hub.access import Access

    combine_worker = celery_worker_factory(postgres_db, redis_url, result_backend=redis_url)
    gemeente = db.session.scalars(db.select(User).where(User.role == "gemeente")).one()
    archive_id = request_archive(Access.of(gemeente), YEARS[-1], None, "0353", "http://localhost/").id

    # The combine worker answers at once, and leaves the archive alone: it waits on "archives".
    assert tasks.ping.apply_async().get(timeout=60) == "pong"
    assert redis_server.command("LLEN", "archives") == ":1"
    assert redis_server.command("LLEN", "celery") == ":0"
    assert _archive(archive_id).status == "queued"
    assert not re.search(r"Task hub\.build_factsheet_archive\[", combine_worker.log_text())

    archive_worker = celery_worker_factory(postgres_db, redis_url, queues="archives")
    done = wait_for(lambda: (row := _archive(archive_id)) is not None and row.status in ("done", "failed") and row,
                    WAIT, "the archive worker built the archive", archive_worker)
    assert done.status == "done" and done.school_count == 2
    with zipfile.ZipFile(io.BytesIO(done.content)) as zf:
        assert sorted(n[:6] for n in zf.namelist()) == ["10AE00", "10AF00"]
    assert re.search(r"Task hub\.build_factsheet_archive\[[^\]]+\] received", archive_worker.log_text())
    assert not re.search(r"Task hub\.build_factsheet_archive\[", combine_worker.log_text())

    # Beat's clean-up goes to the archive worker too: an old ZIP is deleted, its row marked.
    db.session.execute(text("UPDATE factsheet_archives SET finished_at = now() - interval '30 days' WHERE id = :id"),
                       {"id": archive_id})
    db.session.commit()
    tasks.purge_factsheet_archives.delay()
    wait_for(lambda: _archive(archive_id).status == "expired", 60, "the clean-up on the archive worker", archive_worker)
    assert _archive(archive_id).content is None
    assert scalar("SELECT count(*) FROM factsheet_archives") == 1
    assert re.search(r"Task hub\.purge_factsheet_archives\[[^\]]+\] received", archive_worker.log_text())
