"""``jeugdhub user add|list|disable|enable|password|token``: accounts for the pages and the API."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from hub.cli._common import echo_json, user_errors

user = AppGroup("user", help="Gebruikers: toevoegen, tonen, uitschakelen, wachtwoord, API-tokens.")


@user.command("add")
@click.argument("email")
@click.option("--rol", "--role", "role", required=True,
              type=click.Choice(["regio_admin", "gemeente", "swv", "consortium", "school"]), help="De rol van de gebruiker.")
@click.option("--scope", default=None,
              help="gemeentecode (gemeente), SWV-code (swv), consortium-id (consortium) of vestigingscode (school).")
@click.option("--naam", default="", help="Naam van de persoon (voor het beheer).")
@click.option("--wachtwoord", "password", prompt=True, hide_input=True, confirmation_prompt=True,
              envvar="JEUGDHUB_NEW_PASSWORD", help="Wordt gevraagd als het niet is opgegeven (minstens 12 tekens).")
@user_errors
def add(email: str, role: str, scope: str | None, naam: str, password: str) -> None:
    """Voeg een gebruiker toe."""
    from hub.services.users import add_user, unknown_scope

    info = add_user(email, password, role, scope, naam)
    click.echo(f"Gebruiker {info.email} toegevoegd met rol {info.role}" + (f" (scope {info.scope})" if info.scope else "") + ".")
    note = unknown_scope(info.role, info.scope)
    if note:
        click.echo(note, err=True)


@user.command("list")
@click.option("--json", "as_json", is_flag=True, help="Uitvoer als JSON.")
@user_errors
def list_(as_json: bool) -> None:
    """Toon alle gebruikers."""
    from hub.services.users import list_users

    infos = list_users()
    if as_json:
        echo_json([i.to_dict() for i in infos])
        return
    if not infos:
        click.echo("Nog geen gebruikers.")
    for i in infos:
        click.echo(f"{i.email:40} {i.role:12} {i.scope or '-':10} {'actief' if i.active else 'uitgeschakeld'}")


@user.command("disable")
@click.argument("email")
@user_errors
def disable(email: str) -> None:
    """Schakel een gebruiker uit (inloggen en API-tokens werken niet meer)."""
    from hub.services.users import set_active

    set_active(email, False)
    click.echo(f"Gebruiker {email} is uitgeschakeld; zijn API-tokens zijn ingetrokken.")


@user.command("enable")
@click.argument("email")
@user_errors
def enable(email: str) -> None:
    """Schakel een gebruiker weer in."""
    from hub.services.users import set_active

    set_active(email, True)
    click.echo(f"Gebruiker {email} is weer actief.")


@user.command("password")
@click.argument("email")
@click.option("--wachtwoord", "password", prompt=True, hide_input=True, confirmation_prompt=True,
              envvar="JEUGDHUB_NEW_PASSWORD", help="Het nieuwe wachtwoord (wordt gevraagd als het niet is opgegeven).")
@user_errors
def password(email: str, password: str) -> None:
    """Geef een gebruiker een nieuw wachtwoord (alle sessies van de gebruiker eindigen)."""
    from hub.services.users import set_password

    set_password(email, password)
    click.echo(f"Het wachtwoord van {email} is gewijzigd; de gebruiker is overal uitgelogd.")


@user.command("reset-2fa")
@click.argument("email")
@user_errors
def reset_2fa(email: str) -> None:
    """Wis de tweede factor van een gebruiker (telefoon kwijt); bij de volgende login stelt hij een nieuwe in."""
    from hub.services.mfa import reset

    reset(email)
    click.echo(f"De tweede factor van {email} is gewist; de gebruiker is overal uitgelogd.")


@user.command("token")
@click.argument("email")
@click.option("--label", default="", help="Waarvoor het token is (bijv. 'rapportage-script').")
@user_errors
def token(email: str, label: str) -> None:
    """Maak een API-token voor een gebruiker (wordt één keer getoond)."""
    from hub.services.users import create_api_token

    value = create_api_token(email, label)
    click.echo("API-token (wordt niet nog eens getoond; gebruik als 'Authorization: Bearer <token>'):")
    click.echo(value)
