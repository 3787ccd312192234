"""``jeugdhub node add|list|token|revoke|rotate``: register municipalities and samenwerkingsverbanden
(SWV) as nodes and manage their keys. The code says the kind: ``0356`` is a gemeente, ``PO2607`` an SWV."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from hub.cli._common import echo_json, user_errors

node = AppGroup("node", help="Nodes (gemeenten en samenwerkingsverbanden): registreren, tokens, sleutels intrekken.")


def _print_token(code: str, token: str) -> None:
    from hub.services.nodes import get_node, kind_label

    click.echo(f"Eenmalig inschrijftoken voor {kind_label(get_node(code))} (7 dagen geldig, wordt niet nog eens getoond):")
    click.echo(token)
    click.echo(f"Op de node: node-agent enrol --token {token}")


@node.command("add")
@click.argument("code")
@click.option("--naam", help="Naam van de gemeente of het samenwerkingsverband, bijv. Nieuwegein; standaard de "
                             "naam uit de referentiedata.")
@user_errors
def add(code: str, naam: str | None) -> None:
    """Registreer een gemeente (CODE = gemeentecode, bijv. 0356) of een samenwerkingsverband passend
    onderwijs (CODE = SWV-code, bijv. PO2607; het moet in de referentiedata staan) als node en toon
    het eenmalige inschrijftoken."""
    from hub.services.nodes import get_node, register_node

    token = register_node(code, naam)
    _print_token(get_node(code).code, token)


@node.command("token")
@click.argument("code")
@user_errors
def token(code: str) -> None:
    """Geef een nieuw inschrijftoken (het vorige vervalt)."""
    from hub.services.nodes import get_node, issue_token

    value = issue_token(code)
    _print_token(get_node(code).code, value)


@node.command("rotate")
@click.argument("code")
@user_errors
def rotate(code: str) -> None:
    """Start een sleutelwissel: de node schrijft met dit token een nieuwe sleutel in; de oude vervalt dan."""
    from hub.services.nodes import get_node, rotate_key

    value = rotate_key(code)
    _print_token(get_node(code).code, value)


@node.command("revoke")
@click.argument("code", required=False)
@click.option("--key", "key_id", help="Trek alleen deze sleutel in (sleutel-id), niet de hele node.")
@user_errors
def revoke(code: str | None, key_id: str | None) -> None:
    """Trek een node in (alle sleutels en tokens), of met --key één sleutel."""
    from hub.services.nodes import kind_label, revoke_key, revoke_node

    if key_id:
        key = revoke_key(key_id)
        click.echo(f"Sleutel {key.key_id} van {kind_label(key.node)} is ingetrokken.")
        return
    if not code:
        raise click.UsageError("Geef een gemeentecode of SWV-code, of --key SLEUTEL-ID")
    n = revoke_node(code)
    click.echo(f"Node {n.code} ({n.naam}) is ingetrokken; inzendingen worden geweigerd.")


@node.command("list")
@click.option("--json", "as_json", is_flag=True, help="Als JSON.")
@user_errors
def list_command(as_json: bool) -> None:
    """Toon alle nodes met hun actieve sleutel."""
    from hub.services.nodes import list_nodes

    rows = [
        {
            "code": n.code,
            "kind": n.kind,
            "naam": n.naam,
            "status": n.status,
            "key_id": n.active_key.key_id if n.active_key else None,
            "agent_version": n.active_key.agent_version if n.active_key else None,
        }
        for n in list_nodes()
    ]
    if as_json:
        echo_json(rows)
        return
    if not rows:
        click.echo("Nog geen nodes. Registreer er een met: jeugdhub node add 0356 --naam Nieuwegein "
                   "(of een samenwerkingsverband: jeugdhub node add PO2607)")
        return
    click.echo(f"{'code':<8}{'soort':<10}{'naam':<36}{'status':<12}sleutel")
    for r in rows:
        status = "actief" if r["status"] == "active" else "ingetrokken"
        click.echo(f"{r['code']:<8}{r['kind']:<10}{r['naam'][:35]:<36}{status:<12}{r['key_id'] or '(niet ingeschreven)'}")
