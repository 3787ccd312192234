"""``jeugdhub reference import FILE…`` and ``jeugdhub reference status``: DUO reference data.

Thin over :mod:`hub.services.reference`; prints a Dutch report per file and exits non-zero when a
file could not be used.
"""

from __future__ import annotations

import json
import sys

import click
from flask.cli import AppGroup

from shared.errors import ExtractError, JeugdhubError, ServiceUnavailable

reference = AppGroup("reference", help="DUO-referentiegegevens: schoolvestigingen, leerlingaantallen, SWV's.")

def _database_problem(exc: Exception) -> None:
    """A missing table or unreachable database is a setup problem, not a bug: say what to do."""
    first = str(getattr(exc, "orig", exc)).strip().splitlines()[0][:200]
    click.echo(
        "Fout: de database is niet bereikbaar of niet bijgewerkt (voer eerst `jeugdhub db upgrade` uit). "
        f"Melding van de database: {first}",
        err=True,
    )
    sys.exit(ServiceUnavailable.exit_code)


_DELIMITERS = {";": "puntkomma (;)", ",": "komma (,)", "\t": "tab", "|": "verticale streep (|)"}
_CHANGE_LABELS = {
    "vestigingen_nieuw": "vestigingen nieuw",
    "vestigingen_gewijzigd": "vestigingen bijgewerkt",
    "leerlingaantallen_nieuw": "leerlingaantallen nieuw",
    "leerlingaantallen_gewijzigd": "leerlingaantallen bijgewerkt",
    "gemeenten_nieuw": "gemeenten nieuw",
    "gemeenten_gewijzigd": "gemeentenamen bijgewerkt",
    "swv_nieuw": "samenwerkingsverbanden nieuw",
    "lidmaatschappen_nieuw": "SWV-lidmaatschappen nieuw",
    "lidmaatschappen_gewijzigd": "SWV-lidmaatschappen gewijzigd",
    "swv_toegekend": "vestigingen met (nieuw) SWV",
}


def _print_report(report) -> None:
    from hub.services.reference import STATUS_UNCHANGED, STATUS_UNUSABLE

    click.echo(f"Bestand: {report.bestand}")
    if report.status == STATUS_UNUSABLE:
        click.echo(f"  NIET GEÏMPORTEERD: {report.error['message']}", err=True)
        return
    click.echo(f"  soort bestand: {report.layout_label}")
    click.echo(f"  tekencodering: {report.encoding}; scheidingsteken: {_DELIMITERS.get(report.delimiter, report.delimiter)}")
    click.echo(
        f"  regels gelezen: {report.rows_read}; gebruikt: {report.rows_used}; "
        f"afgewezen: {report.rows_rejected}; uitgesloten: {report.rows_excluded}"
    )
    for reason, n in sorted(report.excluded.items()):
        click.echo(f"    uitgesloten ({n}x): {reason}")
    if report.rejects:
        click.echo(f"  eerste afgewezen regels ({len(report.rejects)} van {report.rows_rejected}):")
        for issue in report.rejects:
            click.echo(f"    - {issue.describe()}")
    for note in report.notes:
        click.echo(f"  let op: {note}")
    if report.status == STATUS_UNCHANGED:
        return
    if report.changes:
        click.echo("  wijzigingen: " + "; ".join(f"{_CHANGE_LABELS.get(k, k)} {v}" for k, v in report.changes.items()))
    else:
        click.echo("  wijzigingen: geen (alle gegevens waren al bekend)")


@reference.command("import")
@click.argument("files", nargs=-1, required=True, type=click.Path())
@click.option("--jaar", type=int, default=None,
              help="Teljaar (1 oktober) voor een vo-leerlingenbestand zonder jaarkolom of jaartal in de naam.")
@click.option("--json", "as_json", is_flag=True, help="Rapport als JSON.")
def import_command(files: tuple[str, ...], jaar: int | None, as_json: bool) -> None:
    """Importeer DUO-bestanden (of alle .csv-bestanden in een map); het soort bestand wordt uit de kopregel herkend."""
    from pathlib import Path

    from sqlalchemy.exc import OperationalError, ProgrammingError

    from hub.extensions import db
    from hub.reference import import_order
    from hub.services.reference import import_files

    paths: list[Path] = []
    for name in files:
        p = Path(name)
        if p.is_dir():
            found = import_order([f for f in p.iterdir() if f.suffix.lower() == ".csv"])
            if not found:
                click.echo(f"Fout: map {p} bevat geen .csv-bestanden.", err=True)
                sys.exit(ExtractError.exit_code)
            paths.extend(found)
        else:
            paths.append(p)
    try:
        reports = import_files(db.session, paths, jaar=jaar)
    except JeugdhubError as err:  # a user's mistake: message, no traceback
        click.echo(f"Fout: {err.message}", err=True)
        sys.exit(err.exit_code)
    except (OperationalError, ProgrammingError) as exc:
        _database_problem(exc)
    if as_json:
        click.echo(json.dumps([r.to_dict() for r in reports], ensure_ascii=False, indent=2))
    else:
        for report in reports:
            _print_report(report)
    failed = [r for r in reports if not r.ok]
    if failed:
        click.echo(f"{len(failed)} van {len(reports)} bestand(en) niet geïmporteerd.", err=True)
        sys.exit(failed[0].error.get("exit_code", ExtractError.exit_code))


@reference.command("status")
@click.option("--json", "as_json", is_flag=True, help="Overzicht als JSON.")
def status_command(as_json: bool) -> None:
    """Laat zien welke referentiegegevens geïmporteerd zijn."""
    from sqlalchemy.exc import OperationalError, ProgrammingError

    from hub.extensions import db
    from hub.services.reference import status

    try:
        st = status(db.session)
    except (OperationalError, ProgrammingError) as exc:
        _database_problem(exc)
    if as_json:
        click.echo(json.dumps(st.to_dict(), ensure_ascii=False, indent=2))
        return
    if not st.imports:
        click.echo("Nog geen referentiegegevens geïmporteerd. Gebruik: jeugdhub reference import BESTAND…")
        return
    soorten = ", ".join(f"{s} {n}" for s, n in st.per_soort.items())
    click.echo(f"Vestigingen: {st.vestigingen} ({soorten})")
    jaren = f" (telling 1 oktober {st.jaren[0]}–{st.jaren[-1]})" if st.jaren else ""
    click.echo(f"Leerlingaantallen: {st.leerlingaantallen}{jaren}")
    click.echo(f"Samenwerkingsverbanden: {st.samenwerkingsverbanden}; lidmaatschappen: {st.lidmaatschappen}")
    click.echo("Geïmporteerde bestanden:")
    for imp in st.imports:
        click.echo(
            f"  {imp['imported_at'][:16] if imp['imported_at'] else '?'}  {imp['bestandsnaam']} ({imp['kind']}, "
            f"{imp['encoding']}): gelezen {imp['rows_read']}, gebruikt {imp['rows_used']}, "
            f"afgewezen {imp['rows_rejected']}, uitgesloten {imp['rows_excluded']}"
        )
