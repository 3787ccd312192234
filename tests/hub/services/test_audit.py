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
