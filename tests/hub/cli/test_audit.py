"""``jeugdhub audit verify|export|purge`` on a real app."""

from __future__ import annotations

from sqlalchemy import update

from hub.extensions import db
from hub.models.audit import AuditEvent
from hub.services import audit


def run(app, *args):
    return app.test_cli_runner().invoke(args=list(args))


def test_verify_export_and_a_tampered_line(app, tmp_path):
    for i in range(3):
        audit.record(None, "view", f"factsheet 10AA0{i}", "html")
    ok = run(app, "audit", "verify")
    assert ok.exit_code == 0 and "3 regels" in ok.output
    out = tmp_path / "audit.csv"
    exported = run(app, "audit", "export", str(out))
    assert exported.exit_code == 0 and out.read_bytes().decode("utf-8-sig").count("factsheet 10AA0") == 3
    db.session.execute(update(AuditEvent).where(AuditEvent.id == 2).values(result="failed"))
    db.session.commit()
    broken = run(app, "audit", "verify")
    assert broken.exit_code == 1 and "regel 2" in broken.output


def test_purge_with_nothing_old(app):
    result = run(app, "audit", "purge")
    assert result.exit_code == 0 and "Niets" in result.output
