"""``jeugdhub audit verify|export|purge``: the audit log's hash chain, a CSV copy, and its retention."""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import AppGroup

from hub.cli._common import user_errors

audit_group = AppGroup("audit", help="Het auditlog: keten controleren, exporteren, opschonen.")


@audit_group.command("verify")
@user_errors
def verify_command() -> None:
    """Controleer de hashketen van het auditlog (exit 1 bij een gewijzigde, ingevoegde of weggehaalde regel)."""
    from hub.services import audit

    check = audit.verify()
    if check.ok:
        click.echo(f"Auditlog in orde: {check.lines} regels, de keten sluit.")
        return
    click.echo(f"Auditlog NIET in orde bij regel {check.broken_at}: {check.reason}.", err=True)
    raise SystemExit(1)


@audit_group.command("export")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@user_errors
def export_command(path: Path) -> None:
    """Schrijf het hele auditlog als CSV (met de hashes van de keten)."""
    from hub.services import audit
    from hub.web.exports import audit_table, to_csv

    lines = audit.all_lines()
    path.write_bytes(to_csv([audit_table(lines)]))
    click.echo(f"{len(lines)} regels geschreven naar {path}.")


@audit_group.command("purge")
@user_errors
def purge_command() -> None:
    """Verwijder regels ouder dan HUB_AUDIT_RETENTION_DAYS (de opschoning komt zelf in het log)."""
    from hub.services import audit

    removed = audit.purge()
    click.echo(f"{removed} regels verwijderd." if removed else "Niets te verwijderen.")
