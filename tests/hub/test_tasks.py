"""Celery tasks in the embedded (eager) mode: combine after upload, the sweep, broker failures."""

from __future__ import annotations

import logging

from sqlalchemy import select

from hub import jobs, tasks
from hub.extensions import db
from hub.models.releases import Release
from hub.models.rounds import Round
from hub.services import nodes, rounds, submissions
from hub.services.combine import pending_rounds
from tests.hub.factories import enrol_node


def test_tasks_are_registered_with_their_names(app):
    celery = app.extensions["celery"]
    assert {"hub.combine_round", "hub.sweep_pending"} <= set(celery.tasks)
    assert celery.conf.task_always_eager is True
    assert tasks.combine_round.acks_late is True


def test_upload_combines_in_process(app):
    a = enrol_node("0356")
    rnd = rounds.open_round("2024-2025")
    submissions.receive(rnd.id, a.envelope(), nodes.get_node("0356"))
    db.session.expire_all()
    assert db.session.get(Round, rnd.id).current_release_id is not None


def test_sweep_combines_rounds_left_behind(app, monkeypatch, caplog):
    a = enrol_node("0356")
    rnd = rounds.open_round("2024-2025")
    original = tasks.combine_round.apply_async

    def broker_down(*args, **kwargs):
        raise OSError("connection refused")

    monkeypatch.setattr(tasks.combine_round, "apply_async", broker_down)
    with caplog.at_level(logging.WARNING):
        submissions.receive(rnd.id, a.envelope(), nodes.get_node("0356"))
    assert "sweep will retry" in caplog.text
    assert pending_rounds() == [rnd.id]

    monkeypatch.setattr(tasks.combine_round, "apply_async", original)
    assert tasks.sweep_pending.delay().get() == [rnd.id]
    assert pending_rounds() == []
    assert db.session.scalar(select(db.func.count()).select_from(Release)) == 1


def test_enqueue_survives_a_failing_eager_combine(app, monkeypatch):
    import hub.services.combine as combine

    def boom(round_id, **kwargs):
        raise RuntimeError("gate failed")

    monkeypatch.setattr(combine, "combine_round", boom)
    assert jobs.enqueue(jobs.COMBINE, 1) is False


def test_embedded_default_combines_on_a_background_thread():
    import threading
    import time

    import hub.services.combine as combine
    from tests.hub.conftest import make_app

    app = make_app(COMBINE_IN_BACKGROUND=True)
    with app.app_context():
        db.create_all()
        a, b = enrol_node("0356"), enrol_node("0321")
        rnd = rounds.open_round("2024-2025")
        gate_open = threading.Event()
        threads = []
        real = combine.combine_round

        def slow(round_id, **kwargs):
            threads.append(threading.current_thread().name)
            gate_open.wait(30)  # the gate is slow: the upload must not wait for it
            return real(round_id, **kwargs)

        combine.combine_round = slow
        try:
            first = submissions.receive(rnd.id, a.envelope(), nodes.get_node("0356"))
            for _ in range(600):  # until the first run has started (and is held by the slow gate)
                if threads:
                    break
                time.sleep(0.05)
            second = submissions.receive(rnd.id, b.envelope(), nodes.get_node("0321"))
            third = submissions.receive(rnd.id, b.envelope(scale=2), nodes.get_node("0321"))
            assert first.status == second.status == third.status == "accepted"
            assert db.session.scalar(select(db.func.count()).select_from(Release)) == 0
            gate_open.set()
            assert jobs.wait(app, jobs.COMBINE, timeout=120)
        finally:
            combine.combine_round = real
        # The first run started before the others arrived; the two later requests were coalesced.
        assert len(threads) == 2 and all(t.startswith("hub-combine") for t in threads)
        assert pending_rounds() == []
        releases = db.session.scalars(select(Release).order_by(Release.id)).all()
        assert releases[-1].submission_ids == [first.submission_id, third.submission_id]
        db.session.remove()


def test_with_a_broker_the_combine_is_queued_with_the_configured_delay(monkeypatch):
    from tests.hub.conftest import make_app

    app = make_app(CELERY_BROKER_URL="memory://", COMBINE_DELAY_SECONDS=30)
    sent = []
    monkeypatch.setattr(tasks.combine_round, "apply_async", lambda args, countdown=None: sent.append((args, countdown)))
    with app.app_context():
        assert jobs.enqueue(jobs.COMBINE, 7) is True
    assert sent == [((7,), 30)]


def test_embedded_sweeper_combines_what_a_lost_enqueue_left_pending(monkeypatch, tmp_path):
    """Without a broker there is no beat: the embedded sweeper, started by the first request, catches up."""
    import time

    from tests.hub.conftest import make_app

    # A database file, as in the demo: the sweeper, the combine and the test each get their own
    # connection (the in-memory default shares one connection between threads).
    app = make_app(COMBINE_IN_BACKGROUND=True, CELERY_SWEEP_SECONDS=0.2,
                   SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'hub.db'}")
    with app.app_context():
        db.create_all()
        a = enrol_node("0356")
        rnd = rounds.open_round("2024-2025")
        monkeypatch.setattr(jobs, "enqueue", lambda name, key: False)  # the hand-over is lost
        submissions.receive(rnd.id, a.envelope(), nodes.get_node("0356"))
        monkeypatch.undo()
        assert pending_rounds() == [rnd.id]
        db.session.remove()
        assert "hub_embedded_sweeper" not in app.extensions  # nothing runs before the hub serves
        app.test_client().get("/")
        sweeper = app.extensions["hub_embedded_sweeper"]
        try:
            for _ in range(600):  # until the sweeper has queued the round (no database use here)
                if "hub_background_combine_round" in app.extensions:
                    break
                time.sleep(0.05)
            assert jobs.wait(app, jobs.COMBINE, timeout=120)
        finally:
            sweeper.stop()
        assert jobs.wait(app, jobs.COMBINE, timeout=120)
        assert pending_rounds() == []
        assert db.session.get(Round, rnd.id).current_release_id is not None
        db.session.remove()


def test_no_embedded_sweeper_with_a_broker_or_when_switched_off():
    from tests.hub.conftest import make_app

    for app in (make_app(CELERY_BROKER_URL="memory://", COMBINE_IN_BACKGROUND=True),
                make_app(COMBINE_IN_BACKGROUND=True, CELERY_SWEEP_SECONDS=0, FACTSHEET_ARCHIVE_PURGE_SECONDS=0)):
        app.test_client().get("/")
        assert "hub_embedded_sweeper" not in app.extensions


def test_the_sweep_publishes_the_others_and_never_retries_a_submission_that_cannot_be_combined(app, caplog):
    from hub.models.submissions import Submission
    from tests.hub.factories import store_unchecked

    a, b = enrol_node("0356"), enrol_node("0321")
    rnd = rounds.open_round("2024-2025")
    bad = store_unchecked(b, rnd.id, lambda o: o["cells"].append(["03EF00", "2024-2025", "clienten", "", 10**20]))
    with caplog.at_level(logging.WARNING):
        good = submissions.receive(rnd.id, a.envelope(), nodes.get_node("0356")).submission_id  # combines in process
    assert "quarantined" in caplog.text
    db.session.expire_all()
    release = db.session.get(Release, db.session.get(Round, rnd.id).current_release_id)
    assert release.submission_ids == [good]
    assert db.session.get(Submission, bad).quarantine_code == "cell_out_of_range"
    assert pending_rounds() == [] and tasks.sweep_pending.delay().get() == []


def test_archives_are_routed_to_their_own_queue():
    from hub.celery_app import ARCHIVE_QUEUE, DEFAULT_QUEUE
    from tests.hub.conftest import make_app

    celery = make_app(CELERY_BROKER_URL="memory://").extensions["celery"]
    queue = {name: celery.amqp.router.route({}, name)["queue"].name for name in celery.tasks if name.startswith("hub.")}
    assert queue["hub.build_factsheet_archive"] == queue["hub.purge_factsheet_archives"] == ARCHIVE_QUEUE != DEFAULT_QUEUE
    assert {name for name, q in queue.items() if q == DEFAULT_QUEUE} == {"hub.combine_round", "hub.sweep_pending",
                                                                        "hub.ping", "hub.purge_audit_log"}
    beat = {e["task"]: e["schedule"] for e in celery.conf.beat_schedule.values()}
    assert beat["hub.purge_factsheet_archives"] == 3600
    off = make_app(CELERY_BROKER_URL="memory://", FACTSHEET_ARCHIVE_PURGE_SECONDS=0).extensions["celery"]
    assert "hub.purge_factsheet_archives" not in {e["task"] for e in off.conf.beat_schedule.values()}


def test_embedded_sweeper_cleans_up_old_archives(tmp_path):
    """Without a broker there is no beat: the embedded sweeper runs the archive clean-up too."""
    import time
    from datetime import datetime, timedelta, timezone

    from hub.models.exports import FactsheetArchive
    from hub.services import users
    from tests.hub.conftest import make_app

    app = make_app(COMBINE_IN_BACKGROUND=True, CELERY_SWEEP_SECONDS=0, FACTSHEET_ARCHIVE_PURGE_SECONDS=0.2,
                   PASSWORD_HASH_METHOD="pbkdf2:sha256:1000", SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'hub.db'}")
    with app.app_context():
        db.create_all()
        user = users.add_user("gemeente@example.nl", "correct-horse-battery-staple", "gemeente", "0356")
        old = datetime.now(timezone.utc) - timedelta(days=30)
        archive = FactsheetArchive(requested_by=user.id, scope_kind="regio", schooljaar="2024-2025",
                                   base_url="http://localhost/", status="done", created_at=old, finished_at=old,
                                   content=b"PK zip", school_count=1)
        db.session.add(archive)
        db.session.commit()
        archive_id = archive.id
        db.session.remove()
    app.test_client().get("/login")
    sweeper = app.extensions["hub_embedded_sweeper"]
    try:
        assert sweeper.interval == 0 and sweeper.purge_interval == 0.2
        with app.app_context():
            for _ in range(200):
                db.session.rollback()
                if db.session.get(FactsheetArchive, archive_id).status == "expired":
                    break
                time.sleep(0.05)
            archive = db.session.get(FactsheetArchive, archive_id)
            assert (archive.status, archive.content) == ("expired", None)
            db.session.remove()
    finally:
        sweeper.stop()


def test_the_sweep_publishes_a_round_whose_deadline_has_passed(app):
    from datetime import timedelta

    from hub.services._util import utcnow

    a = enrol_node("0356")
    enrol_node("0321")
    rnd = rounds.open_round("2024-2025")
    submissions.receive(rnd.id, a.envelope(), nodes.get_node("0356"))  # combines in process: waits for 0321
    assert tasks.sweep_pending.delay().get() == []
    assert db.session.scalar(select(db.func.count()).select_from(Release)) == 0

    db.session.get(Round, rnd.id).deadline = utcnow() - timedelta(minutes=1)
    db.session.commit()
    assert tasks.sweep_pending.delay().get() == [rnd.id]
    db.session.expire_all()
    release = db.session.get(Release, db.session.get(Round, rnd.id).current_release_id)
    assert release.version == 1 and len(release.submission_ids) == 1
    assert pending_rounds() == []


def test_the_background_runner_runs_two_keys_side_by_side_and_one_key_never_twice_at_once():
    # Two rounds' combines are independent and run together (as Celery's workers would); a request
    # for a key whose job runs waits and gives exactly one more run after it.
    import threading

    from tests.hub.conftest import make_app

    app = make_app(BACKGROUND_WORKERS=2)
    release = {1: threading.Event(), 2: threading.Event()}
    started = {1: threading.Event(), 2: threading.Event()}
    lock, running, overlapping, runs = threading.Lock(), set(), [], []

    class Fake:
        def run(self, key):
            with lock:
                if key in running:
                    overlapping.append(key)
                running.add(key)
                runs.append(key)
            started[key].set()
            release[key].wait(30)
            with lock:
                running.discard(key)

    app.extensions["celery"].tasks["test.fake"] = Fake()
    runner = jobs.BackgroundRunner(app, "test.fake")
    runner.submit(1)
    runner.submit(2)
    assert started[1].wait(10) and started[2].wait(10)  # both at once: neither was released yet
    runner.submit(1)  # while 1 runs: one more run afterwards,
    runner.submit(1)  # and a second request is coalesced with it
    release[2].set()
    release[1].set()
    assert runner.wait(30)
    assert sorted(runs) == [1, 1, 2] and overlapping == []


def test_background_workers_must_be_at_least_one():
    import pytest

    from shared.errors import ConfigError
    from tests.hub.conftest import make_app

    with pytest.raises(ConfigError):
        make_app(BACKGROUND_WORKERS=0)


def test_two_rounds_of_one_school_year_are_combined_one_after_the_other(monkeypatch):
    # A release's history and held-back schools are its school year's: two rounds of one school year
    # must not be combined side by side (the background runner runs two keys at once), other years may.
    import threading
    import time
    from datetime import date

    import hub.services.combine as combine
    from tests.hub.conftest import make_app

    app = make_app()
    with app.app_context():
        db.create_all()
        ids = {}
        for name, jaar in (("a", "2024-2025"), ("b", "2024-2025"), ("c", "2023-2024")):
            rnd = Round(schooljaar=jaar, peildatum=date(int(jaar[:4]), 10, 1))
            db.session.add(rnd)
            db.session.flush()
            ids[name] = rnd.id
        db.session.commit()
        db.session.remove()
    lock, inside, worst = threading.Lock(), {}, {}

    def once(round_id, *args, **kwargs):
        jaar = db.session.get(Round, round_id).schooljaar
        with lock:
            inside[jaar] = inside.get(jaar, 0) + 1
            worst[jaar] = max(worst.get(jaar, 0), inside[jaar])
            worst["all"] = max(worst.get("all", 0), sum(inside.values()))
        time.sleep(0.5)
        with lock:
            inside[jaar] -= 1
        return None

    monkeypatch.setattr(combine, "_combine_once", once)

    def run(round_id):
        with app.app_context():
            combine.combine_round(round_id)
            db.session.remove()

    threads = [threading.Thread(target=run, args=(i,)) for i in ids.values()]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert worst["2024-2025"] == 1 and worst["all"] == 2
