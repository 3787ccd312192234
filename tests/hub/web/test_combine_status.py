"""/beheer/rondes says which step a running combine is at, from the database (any process can
read it), and says nothing once the combine has ended."""

from __future__ import annotations

import os
import re
import threading
import time

import pytest

from hub import jobs
from hub.extensions import db
from hub.services import nodes, rounds, submissions, users
from hub.services.combine import STEPS, combine_round
from tests.hub.conftest import make_app
from tests.hub.factories import enrol_node
from tests.hub.web.conftest import FAST_HASH
from tests.hub.web.helpers import login

ADMIN = ("beheer@example.org", "een-lang-wachtwoord-voor-tests")


def _hub(monkeypatch, uri: str, **config):
    app = make_app(PASSWORD_HASH_METHOD=FAST_HASH, SQLALCHEMY_DATABASE_URI=uri, **config)
    with app.app_context():
        db.create_all()
        users.add_user(*ADMIN, "regio_admin", None, naam="Beheer")
        a, b = enrol_node("0356"), enrol_node("0321")
        rnd = rounds.open_round("2024-2025")
        # Stored, not combined: the test starts the combine itself.
        monkeypatch.setattr(jobs, "enqueue", lambda name, key: True)
        submissions.receive(rnd.id, a.envelope(), nodes.get_node("0356"))
        submissions.receive(rnd.id, b.envelope(), nodes.get_node("0321"))
        monkeypatch.undo()
        round_id = rnd.id
        db.session.remove()
    client = app.test_client()
    assert login(client, *ADMIN).status_code == 302
    return app, client, round_id


def _status_line(client) -> str | None:
    page = client.get("/beheer/rondes").get_data(as_text=True)
    found = re.search(r"Wordt nu samengevoegd \(stap (\d) van (\d): ([^)]*\)?)\)", page)
    return (found.group(0), 'http-equiv="refresh"' in page) if found else None


def _combine_in_thread(app, round_id, **kwargs):
    result = {}

    def run():
        with app.app_context():
            result["release"] = combine_round(round_id, **kwargs)
            db.session.remove()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, result


def test_status_line_while_a_combine_is_held_in_the_gate(monkeypatch, tmp_path):
    """SQLite (the embedded default): held by its progress callback at the start of the gate."""
    app, client, round_id = _hub(monkeypatch, f"sqlite:///{tmp_path / 'hub.sqlite'}")
    assert _status_line(client) is None
    at_gate, release = threading.Event(), threading.Event()
    heard = []

    def hold(step, total, label):
        heard.append((step, total, label))
        if step == 3:
            at_gate.set()
            release.wait(60)

    thread, result = _combine_in_thread(app, round_id, progress=hold)
    try:
        assert at_gate.wait(60)
        line, refresh = _status_line(client)
        assert line == f"Wordt nu samengevoegd (stap 3 van 4: {STEPS[2]})" and refresh
    finally:
        release.set()
        thread.join(120)
    assert result["release"] is not None
    assert heard == [(i + 1, len(STEPS), label) for i, label in enumerate(STEPS)]
    assert _status_line(client) is None  # cleared when the combine ends


def test_status_line_from_another_connection_while_held_before_commit(monkeypatch, tmp_path, postgres_db):
    """PostgreSQL, held by COMBINE_PAUSE_FILE with the release written but not committed and the
    round's row locked: the step was committed on its own, so the page (another connection) sees it."""
    pause = tmp_path / "pause"
    app, client, round_id = _hub(monkeypatch, postgres_db, COMBINE_PAUSE_FILE=str(pause))
    pause.write_text("hold")
    thread, result = _combine_in_thread(app, round_id)
    try:
        for _ in range(1200):
            if os.path.exists(f"{pause}.reached"):
                break
            time.sleep(0.05)
        else:
            pytest.fail("the combine never reached the pause")
        line, refresh = _status_line(client)
        assert line == f"Wordt nu samengevoegd (stap 4 van 4: {STEPS[3]})" and refresh
    finally:
        pause.unlink(missing_ok=True)
        thread.join(120)
    assert result["release"] is not None
    assert _status_line(client) is None
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
