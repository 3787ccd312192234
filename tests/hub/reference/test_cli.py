"""``jeugdhub reference import/status`` through Flask's CLI runner."""

from __future__ import annotations

import json

from sqlalchemy import func, select

from hub.extensions import db
from hub.models.reference import ReferenceImport
from hub.reference import demo_files


def test_import_prints_a_dutch_report_per_file(app):
    runner = app.test_cli_runner()
    files = [str(p) for p in demo_files() if p.name.startswith(("06.", "swv-po"))]
    result = runner.invoke(args=["reference", "import", *files])
    assert result.exit_code == 0, result.output
    out = result.output
    assert "soort bestand: DUO historisch overzicht leerlingen per schoolvestiging (06)" in out
    assert "tekencodering: UTF-8 met BOM; scheidingsteken: puntkomma (;)" in out
    assert "regels gelezen: 345; gebruikt: 345; afgewezen: 0; uitgesloten: 0" in out
    assert "samenwerkingsverbanden passend onderwijs" in out
    again = runner.invoke(args=["reference", "import", *files])
    assert again.exit_code == 0 and again.output.count("al geïmporteerd op") == 2


def test_rejected_rows_are_listed_with_line_column_and_rule(app, write_csv):
    header = ["ADMINISTRATIENUMMER", "SAMENWERKINGSVERBAND PASSEND ONDERWIJS PO", "INSTELLINGSCODE", "VESTIGINGSCODE"]
    path = write_csv("swv.csv", header, [["PO-26-07", "SWV", "04DA", "04DA00"], ["PO-26-07", "SWV", "04DA", "04DA0"]])
    result = app.test_cli_runner().invoke(args=["reference", "import", str(path)])
    assert result.exit_code == 0, result.output
    assert "afgewezen: 1" in result.output
    assert "regel 3, kolom VESTIGINGSCODE: vestigingscode '04DA0' is geen BRIN + 2 cijfers" in result.output


def test_bad_file_gives_a_clear_message_and_nonzero_exit_without_traceback(app, tmp_path):
    bad = tmp_path / "export.xlsx"
    bad.write_bytes(b"PK\x03\x04\x00\x00\x00binary")
    result = app.test_cli_runner().invoke(args=["reference", "import", str(bad)])
    assert result.exit_code == 65
    assert "export.xlsx: dit is geen tekstbestand (CSV)" in result.output
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert db.session.scalar(select(func.count()).select_from(ReferenceImport)) == 0


def test_missing_file_is_a_clear_message(app, tmp_path):
    result = app.test_cli_runner().invoke(args=["reference", "import", str(tmp_path / "weg.csv")])
    assert result.exit_code != 0
    assert "weg.csv" in result.output and "niet gevonden" in result.output
    assert "Traceback" not in result.output


def test_status_and_json(app):
    runner = app.test_cli_runner()
    empty = runner.invoke(args=["reference", "status"])
    assert "Nog geen referentiegegevens geïmporteerd" in empty.output
    runner.invoke(args=["reference", "import", *[str(p) for p in demo_files()]])
    result = runner.invoke(args=["reference", "status"])
    assert result.exit_code == 0
    assert "Vestigingen:" in result.output and "SO/VSO" in result.output
    assert "Leerlingaantallen:" in result.output and "telling 1 oktober 1996–2025" in result.output
    data = json.loads(runner.invoke(args=["reference", "status", "--json"]).output)
    assert len(data["imports"]) == len(demo_files()) and data["samenwerkingsverbanden"] > 0


def test_import_json_output(app):
    path = next(p for p in demo_files() if p.name.startswith("swv-vo"))
    result = app.test_cli_runner().invoke(args=["reference", "import", "--json", str(path)])
    (report,) = json.loads(result.output)
    assert report["layout"] == "swv_vestigingen" and report["encoding"] == "UTF-8 met BOM"
    assert report["rows_read"] == report["rows_used"] + report["rows_rejected"] + report["rows_excluded"]


def test_reachable_from_the_jeugdhub_entry_point():
    from click.testing import CliRunner

    from hub.cli.main import main

    result = CliRunner().invoke(main, ["reference", "--help"])
    assert result.exit_code == 0
    assert "import" in result.output and "status" in result.output


def test_database_without_tables_is_a_clear_message():
    from tests.hub.conftest import make_app

    app = make_app()  # no create_all: as before `jeugdhub db upgrade`
    path = next(p for p in demo_files() if p.name.startswith("swv-vo"))
    for args in (["reference", "import", str(path)], ["reference", "status"]):
        result = app.test_cli_runner().invoke(args=args)
        assert result.exit_code == 69, result.output
        assert "jeugdhub db upgrade" in result.output and "Traceback" not in result.output


def test_a_directory_imports_its_csv_files(app, tmp_path):
    from hub.reference import DEMO_DIR

    runner = app.test_cli_runner()
    result = runner.invoke(args=["reference", "import", str(DEMO_DIR)])
    assert result.exit_code == 0, result.output
    assert result.output.count("Bestand: ") == len(demo_files())
    empty = runner.invoke(args=["reference", "import", str(tmp_path)])
    assert empty.exit_code == 65 and "bevat geen .csv-bestanden" in empty.output
