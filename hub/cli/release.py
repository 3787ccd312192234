"""``jeugdhub release list|show|rebuild``: the published releases and their reproducibility."""

from __future__ import annotations

import sys

import click
from flask.cli import AppGroup

from hub.cli._common import echo_json, user_errors
from hub.disclosure.frames import LEVELS, REGIO

release = AppGroup("release", help="Releases: overzicht, details, herberekenen.")


@release.command("list")
@click.option("--schooljaar", default=None)
@click.option("--json", "as_json", is_flag=True)
@user_errors
def list_command(schooljaar: str | None, as_json: bool) -> None:
    """Alle releases, nieuwste eerst."""
    from hub.services.releases import list_releases

    rows = [r.to_dict() for r in list_releases(schooljaar)]
    if as_json:
        echo_json(rows)
        return
    if not rows:
        click.echo("Nog geen releases.")
        return
    for r in rows:
        mark = "*" if r["current"] else " "
        click.echo(
            f"{mark}{r['id']:>4}  ronde {r['round_id']} v{r['version']}  {r['schooljaar']}  {r['created_at']}  "
            f"{r['published_count']}/{r['cell_count']} cellen gepubliceerd  nodes {','.join(r['nodes'])}"
        )
    click.echo("* = huidige release van de ronde")


@release.command("show")
@click.argument("release_id", type=int)
@click.option("--level", type=click.Choice(LEVELS), default=REGIO)
@click.option("--json", "as_json", is_flag=True)
@user_errors
def show_command(release_id: int, level: str, as_json: bool) -> None:
    """Details van een release en de cellen op één niveau (standaard regio)."""
    from hub.dutch import suppression_reason
    from hub.services.releases import audit_cells, get_release

    summary = get_release(release_id).to_dict()
    cells = audit_cells(release_id, level=level)  # with the gate's reasons: this is the admin's audit view
    if as_json:
        echo_json({"release": summary, "cells": cells})
        return
    click.echo(f"Release {summary['id']}: ronde {summary['round_id']} versie {summary['version']}, {summary['schooljaar']}")
    click.echo(f"  digest {summary['digest']}")
    click.echo(f"  {summary['published_count']} van {summary['cell_count']} cellen gepubliceerd; nodes {', '.join(summary['nodes'])}")
    for c in cells:
        value = c["value"] if c["value"] is not None else f"afgeschermd: {suppression_reason(c['reason'])}"
        click.echo(f"  {c['unit']:<12} {c['measure']:<28} {c['category']:<24} {value}")


@release.command("rebuild")
@click.argument("release_id", type=int)
@user_errors
def rebuild_command(release_id: int) -> None:
    """Bereken een release opnieuw uit de opgeslagen inzendingen en vergelijk de digest."""
    from hub.services.combine import rebuild

    stored, rebuilt = rebuild(release_id)
    click.echo(f"opgeslagen digest:  {stored}")
    click.echo(f"herberekende digest: {rebuilt}")
    if stored != rebuilt:
        click.echo("VERSCHIL: de release is niet reproduceerbaar uit de opgeslagen inzendingen.", err=True)
        sys.exit(1)
    click.echo("Gelijk: de release is reproduceerbaar.")
