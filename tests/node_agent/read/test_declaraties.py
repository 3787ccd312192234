"""The declaraties reader: every rule, links to allocations, amounts, credits and euro notations."""

from __future__ import annotations

import pytest

from node_agent.read import ReadOptions, read_declaraties
from tests.node_agent.helpers import B, DECLARATIES_HEADER, invalid_bsn, issues, jeugdhulp_row, jh, write_csv


DECLARATIE_RULES = [
    ("toewijzingnummer_ontbreekt", ["", "2024-09-01", "", "100", "D"]),
    ("toewijzing_onbekend", ["TX", "2024-09-01", "", "100", "D"]),
    ("toewijzing_afgekeurd", ["TBAD", "2024-09-01", "", "100", "D"]),
    ("toewijzing_verwijderd", ["TDEL", "2024-09-01", "", "100", "D"]),
    ("periode_begin_ontbreekt", ["T1", "", "", "100", "D"]),
    ("periode_begin_ongeldig", ["T1", "2024-09-31", "", "100", "D"]),
    ("periode_einde_ongeldig", ["T1", "2024-09-01", "x", "100", "D"]),
    ("periode_einde_voor_begin", ["T1", "2024-09-10", "2024-09-01", "100", "D"]),
    ("bedrag_ontbreekt", ["T1", "2024-09-01", "", "", "D"]),
    ("bedrag_ongeldig", ["T1", "2024-09-01", "", "12.50", "D"]),
    ("debet_credit_ongeldig", ["T1", "2024-09-01", "", "100", "X"]),
]


@pytest.fixture
def allocations(tmp_path):
    rows = [jeugdhulp_row(B[0], "T1"), jeugdhulp_row(invalid_bsn(B[1]), "TBAD"), jeugdhulp_row(B[2], "TDEL", reden="13")]
    return jh(tmp_path / "jh.csv", rows)


@pytest.mark.parametrize("reason,row", DECLARATIE_RULES, ids=[r for r, _ in DECLARATIE_RULES])
def test_declaraties_rule(tmp_path, allocations, reason, row):
    path = write_csv(tmp_path / "d.csv", DECLARATIES_HEADER, [["T1", "2024-09-01", "", "100", "D"], row])
    e = read_declaraties(ReadOptions(path, "declaraties"), allocations)
    kind = "excluded" if reason == "toewijzing_verwijderd" else "rejected"
    assert issues(e.report, kind) == {reason: [3]}
    assert e.report.rows_read == 2 and e.report.rows_used == 1


def test_declaraties_amounts_credits_and_euro_decimal_comma(tmp_path, allocations):
    header = ["toewijzingnummer", "periode_begin", "bedrag", "debet_credit"]
    rows = [["T1", "01-09-2024", "1.234,5", "D"], ["T1", "2024-09-01", "12,50", "C"], ["T1", "2024-09-01", "7.05", ""],
            ["T1", "2024-09-01", "€ 3", "D"], ["T1", "2024-09-01", "1,234", "D"]]
    e = read_declaraties(ReadOptions(write_csv(tmp_path / "d.csv", header, rows, delimiter=";"), "declaraties"), allocations)
    # thousands separators are ambiguous between layouts, so they are rejected rather than guessed
    assert issues(e.report) == {"bedrag_ongeldig": [2, 6]}
    assert list(e.data["bedrag_eurocent"]) == [-1250, 705, 300]
    assert list(e.data["allocation"]) == [0, 0, 0]
