"""``jeugdhub round open|close|list|status|combine``: collection rounds."""

from __future__ import annotations

from datetime import date

import click
from flask.cli import AppGroup

from hub.cli._common import StepProgress, cli_actor, echo_json, user_errors
from shared.errors import InputError

round_group = AppGroup("round", help="Rondes: openen, sluiten, voortgang bekijken.")


def _parse_date(value: str | None, what: str = "Peildatum", code: str = "invalid_peildatum") -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InputError(f"{what} '{value}' is geen datum (JJJJ-MM-DD)", code=code) from None


def _local(value) -> str:
    from hub.dutch import local_time

    return local_time(value)


@round_group.command("open")
@click.argument("schooljaar")
@click.option("--peildatum", help="Peildatum JJJJ-MM-DD (standaard 1 oktober van het schooljaar).")
@click.option("--node", "nodes", multiple=True, help="Verwachte node: gemeentecode of SWV-code (herhaalbaar; standaard alle "
                   "nodes die nu zijn aangemeld: meld gemeenten en samenwerkingsverbanden dus eerst aan met `jeugdhub node add`).")
@click.option("--deadline", help="Laatste dag JJJJ-MM-DD voor de eerste publicatie: na die dag (Nederlandse tijd) wordt "
                   "gepubliceerd, ook als er nog gemeenten ontbreken.")
@click.option("--deadline-days", type=click.IntRange(min=0), help="De termijn in dagen na vandaag (standaard "
                   "HUB_ROUND_DEADLINE_DAYS, 14; 0 = geen termijn).")
@user_errors
def open_command(schooljaar: str, peildatum: str | None, nodes: tuple[str, ...], deadline: str | None,
                 deadline_days: int | None) -> None:
    """Open een ronde voor SCHOOLJAAR (bijv. 2024-2025).

    De eerste publicatie wacht tot alle verwachte gemeenten hebben ingezonden, of tot de termijn
    verstrijkt. Wat daarna binnenkomt is een correctie; een vestiging die pas in een correctie
    verschijnt, telt pas mee vanaf de ronde van het volgende schooljaar.
    """
    from hub.services.rounds import open_round

    rnd = open_round(schooljaar, _parse_date(peildatum), list(nodes) or None,
                     deadline=_parse_date(deadline, "Termijn", "invalid_deadline"), deadline_days=deadline_days)
    termijn = (f"eerste publicatie uiterlijk {_local(rnd.deadline)}" if rnd.deadline
               else "geen termijn: de eerste publicatie wacht op alle verwachte gemeenten")
    click.echo(
        f"Ronde {rnd.id} geopend: schooljaar {rnd.schooljaar}, peildatum {rnd.peildatum.isoformat()}, "
        f"verwacht: {', '.join(rnd.expected_nodes)}; {termijn}"
    )


@round_group.command("close")
@click.argument("round_id", type=int)
@user_errors
def close_command(round_id: int) -> None:
    """Sluit een ronde; daarna worden geen inzendingen meer aangenomen."""
    from hub.services.rounds import close_round

    rnd = close_round(round_id)
    click.echo(f"Ronde {rnd.id} ({rnd.schooljaar}) is gesloten.")


@round_group.command("list")
@click.option("--status", type=click.Choice(["open", "closed"]), default=None)
@click.option("--json", "as_json", is_flag=True)
@user_errors
def list_command(status: str | None, as_json: bool) -> None:
    """Toon de rondes."""
    from hub.services._util import aware
    from hub.services.rounds import all_rounds

    rows = [
        {"id": r.id, "schooljaar": r.schooljaar, "peildatum": r.peildatum.isoformat(), "status": r.status,
         "expected": list(r.expected_nodes or []), "current_release_id": r.current_release_id,
         "deadline": aware(r.deadline).isoformat(timespec="seconds") if r.deadline else None}
        for r in all_rounds(status)
    ]  # fmt: skip
    if as_json:
        echo_json(rows)
        return
    if not rows:
        click.echo("Nog geen rondes. Open er een met: jeugdhub round open 2024-2025")
        return
    for r in rows:
        status_nl = "open" if r["status"] == "open" else "gesloten"
        termijn = f"  termijn {_local(r['deadline'])}" if r["deadline"] else ""
        click.echo(f"{r['id']:>4}  {r['schooljaar']}  peildatum {r['peildatum']}  {status_nl:<9} {len(r['expected'])} verwacht{termijn}")


def waiting_line(st: dict) -> str:
    """What a round's next publication waits for, in words (``round_status(...).to_dict()``)."""
    parts = []
    if st["waiting_submissions"]:
        parts.append(f"de inzending van {', '.join(st['waiting_submissions'])}")
    if st["waiting_exchanges"]:
        parts.append(f"de overlap-uitwisseling van {', '.join(st['waiting_exchanges'])}")
    if st["current_release"] is None:
        until = f"uiterlijk tot de termijn ({_local(st['deadline'])})" if st["deadline"] else "(geen termijn)"
        return f"De eerste publicatie wacht op {' en '.join(parts)}, {until}"
    return f"De correctie wacht nog even op {' en '.join(parts)}"


@round_group.command("status")
@click.argument("round_id", type=int)
@click.option("--json", "as_json", is_flag=True)
@user_errors
def status_command(round_id: int, as_json: bool) -> None:
    """Wie heeft ingezonden, wie ontbreekt, en de huidige release."""
    from hub.services.rounds import round_status

    st = round_status(round_id).to_dict()
    if as_json:
        echo_json(st)
        return
    click.echo(f"Ronde {st['id']}: schooljaar {st['schooljaar']}, peildatum {st['peildatum']}, {'open' if st['status'] == 'open' else 'gesloten'}")
    for n in st["nodes"]:
        if n["submitted"]:
            quality = n["quality"] if isinstance(n["quality"], dict) else {}
            files = [f for f in quality.get("files", []) if isinstance(f, dict)] if isinstance(quality.get("files"), list) else []
            rows = ", ".join(f"{f.get('name')}: {f.get('rows_used')}/{f.get('rows_read')} gebruikt" for f in files)
            extra = f" (vervangt {n['superseded']} eerdere)" if n["superseded"] else ""
            q = n["quarantine"]
            unused = f"; NIET GEBRUIKT ({q['code']}): {q['reason']}" if q else ""
            click.echo(f"  {n['code']} {n['naam'] or ''}: ingezonden {n['received_at']}{extra}; {rows}{unused}")
        else:
            click.echo(f"  {n['code']} {n['naam'] or ''}: ONTBREEKT")
    rel = st["current_release"]
    click.echo(f"Huidige release: {'versie ' + str(rel['version']) + ' (id ' + str(rel['id']) + ')' if rel else 'nog geen'}")
    if st["waiting_for"]:
        click.echo(f"{waiting_line(st)}; jeugdhub round combine {st['id']} publiceert nu.")
    elif st["deadline"] and not rel:
        click.echo(f"Termijn: {_local(st['deadline'])}")
    for x in st["exchanges"]:
        click.echo(f"  overlap {x['swv']} × {x['gemeente']}: {x['label']}")
    if st["held_back"]:
        click.echo(f"Achtergehouden vestigingen: {', '.join(st['held_back'])}. {st['held_back_reason']}")
    if st["quarantined"]:
        click.echo(
            f"Let op: de inzending van {', '.join(st['quarantined'])} kon niet worden samengevoegd en zit in geen release; "
            "de gemeente stuurt een verbeterd deelresultaat in."
        )
    if st["pending"]:
        click.echo("Let op: er zijn inzendingen die nog niet in de release zitten (jeugdhub round combine " f"{st['id']}).")


@round_group.command("combine")
@click.argument("round_id", type=int)
@user_errors
def combine_command(round_id: int) -> None:
    """Voeg de ronde nu samen (in dit proces), bijv. als er geen worker draait.

    Publiceert ook als er nog gemeenten ontbreken en de termijn nog niet voorbij is; dat komt in het auditlog.
    """
    from hub.services.combine import publish_now
    from hub.services.rounds import get_round

    get_round(round_id)
    with StepProgress(f"Ronde {round_id} samenvoegen") as progress:
        release_id = publish_now(round_id, actor=cli_actor(), progress=progress)
    if release_id is None:
        click.echo(f"Ronde {round_id}: de release is al actueel (of er zijn nog geen inzendingen).")
    else:
        from hub.services.rounds import round_status

        held = round_status(round_id).held_back
        extra = f" Achtergehouden vestigingen (tellen mee vanaf het volgende schooljaar): {', '.join(held)}." if held else ""
        click.echo(f"Ronde {round_id}: nieuwe release {release_id}.{extra}")
