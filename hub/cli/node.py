"""``jeugdhub node add|list|token|revoke|rotate``: register municipalities and manage their keys."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from hub.cli._common import echo_json, user_errors

node = AppGroup("node", help="Nodes (gemeenten): registreren, tokens, sleutels intrekken.")


def _print_token(code: str, token: str) -> None:
    click.echo(f"Eenmalig inschrijftoken voor gemeente {code} (7 dagen geldig, wordt niet nog eens getoond):")
    click.echo(token)
    click.echo(f"Op de node: node-agent enrol --token {token}")


@node.command("add")
@click.argument("gemeentecode")
@click.option("--naam", required=True, help="Naam van de gemeente, bijv. Nieuwegein.")
@user_errors
def add(gemeentecode: str, naam: str) -> None:
    """Registreer een gemeente als node en toon haar eenmalige inschrijftoken."""
    from hub.services.nodes import get_node, register_node

    token = register_node(gemeentecode, naam)
    _print_token(get_node(gemeentecode).gemeentecode, token)


@node.command("token")
@click.argument("gemeentecode")
@user_errors
def token(gemeentecode: str) -> None:
    """Geef een nieuw inschrijftoken (het vorige vervalt)."""
    from hub.services.nodes import get_node, issue_token

    value = issue_token(gemeentecode)
    _print_token(get_node(gemeentecode).gemeentecode, value)


@node.command("rotate")
@click.argument("gemeentecode")
@user_errors
def rotate(gemeentecode: str) -> None:
    """Start een sleutelwissel: de node schrijft met dit token een nieuwe sleutel in; de oude vervalt dan."""
    from hub.services.nodes import get_node, rotate_key

    value = rotate_key(gemeentecode)
    _print_token(get_node(gemeentecode).gemeentecode, value)


@node.command("revoke")
@click.argument("gemeentecode", required=False)
@click.option("--key", "key_id", help="Trek alleen deze sleutel in (sleutel-id), niet de hele node.")
@user_errors
def revoke(gemeentecode: str | None, key_id: str | None) -> None:
    """Trek een node in (alle sleutels en tokens), of met --key één sleutel."""
    from hub.services.nodes import revoke_key, revoke_node

    if key_id:
        key = revoke_key(key_id)
        click.echo(f"Sleutel {key.key_id} van gemeente {key.node.gemeentecode} is ingetrokken.")
        return
    if not gemeentecode:
        raise click.UsageError("Geef een gemeentecode of --key SLEUTEL-ID")
    n = revoke_node(gemeentecode)
    click.echo(f"Node {n.gemeentecode} ({n.naam}) is ingetrokken; inzendingen worden geweigerd.")


@node.command("list")
@click.option("--json", "as_json", is_flag=True, help="Als JSON.")
@user_errors
def list_command(as_json: bool) -> None:
    """Toon alle nodes met hun actieve sleutel."""
    from hub.services.nodes import list_nodes

    rows = [
        {
            "gemeentecode": n.gemeentecode,
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
        click.echo("Nog geen nodes. Registreer er een met: jeugdhub node add 0356 --naam Nieuwegein")
        return
    click.echo(f"{'code':<6}{'naam':<28}{'status':<10}sleutel")
    for r in rows:
        status = "actief" if r["status"] == "active" else "ingetrokken"
        click.echo(f"{r['gemeentecode']:<6}{r['naam'][:27]:<28}{status:<10}{r['key_id'] or '(niet ingeschreven)'}")
