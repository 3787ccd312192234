"""The audit log's hash chain (hub/services/audit.py): every line follows from the one before, a
changed, inserted or removed line is found, and the retention purge keeps the chain verifiable."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import update

from hub.extensions import db
from hub.models.audit import AuditEvent
from hub.services import audit
from hub.services._util import utcnow


def _lines(n: int) -> None:
    for i in range(n):
        audit.record(None, "view", f"factsheet 10AA0{i} 2024-2025", "html", actor=f"gebruiker{i}@example.nl",
                     origin="192.0.2.1")


def test_a_fresh_log_verifies_and_every_line_follows_the_one_before(app):
    _lines(5)
    check = audit.verify()
    assert check.ok and check.lines == 5
    lines = audit.all_lines()
    assert lines[0].prev_hash == audit.GENESIS
    assert all(b.prev_hash == a.line_hash for a, b in zip(lines, lines[1:]))


def test_a_changed_line_is_found(app):
    _lines(4)
    third = audit.all_lines()[2]
    db.session.execute(update(AuditEvent).where(AuditEvent.id == third.id).values(target="factsheet 99ZZ00 2024-2025"))
    db.session.commit()
    check = audit.verify()
    assert not check.ok and check.broken_at == third.id and "gewijzigd" in check.reason


def test_a_removed_line_is_found(app):
    _lines(4)
    second = audit.all_lines()[1]
    db.session.delete(db.session.get(AuditEvent, second.id))
    db.session.commit()
    check = audit.verify()
    assert not check.ok and check.broken_at == audit.all_lines()[1].id and "aan" in check.reason


def test_the_retention_purge_removes_old_lines_logs_itself_and_keeps_the_chain(app, monkeypatch):
    app.config["AUDIT_RETENTION_DAYS"] = 30
    now = utcnow()
    monkeypatch.setattr(audit, "utcnow", lambda: now - timedelta(days=40))  # two lines written 40 days ago
    _lines(2)
    monkeypatch.setattr(audit, "utcnow", lambda: now)
    _lines(1)
    assert audit.verify().ok
    assert audit.purge() == 2
    lines = audit.all_lines()
    assert [e.action for e in lines] == ["view", "admin"] and "opgeschoond" in lines[-1].target
    assert audit.verify().ok  # the first line kept anchors the chain


def test_lines_written_on_many_threads_at_once_form_one_chain(tmp_path):
    """gunicorn's gthread workers write audit lines from several threads of one process: none forks the chain."""
    from concurrent.futures import ThreadPoolExecutor

    from tests.hub.conftest import make_app

    # Arrange: a database file (each thread has a connection of its own, as in the server)
    app = make_app(SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'hub.sqlite'}")
    with app.app_context():
        db.create_all()

    def write(i: int) -> None:
        with app.app_context():
            for j in range(5):
                audit.record(None, "view", f"factsheet 10AA{i:02d} {j}", "html", actor="a@example.nl")

    # Act
    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(write, range(16)))

    # Assert
    with app.app_context():
        check = audit.verify()
        lines = audit.all_lines()
        db.session.remove()
    assert check.ok and check.lines == 80, check
    assert len({line.prev_hash for line in lines}) == 80  # no two lines follow the same one
