"""CSV and XLSX exports carry the page's figures and markers; Dutch number formats."""

import csv
import io

from openpyxl import load_workbook

from hub.indicators.cells import Count
from hub.services import exports
from hub.services.exports import AFGESCHERMD, Column, Table


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
