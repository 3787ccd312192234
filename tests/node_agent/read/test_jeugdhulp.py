"""The jeugdhulp reader: every rule with its line and column, exclusions by rule, the test-range switch."""

from __future__ import annotations

import pytest

from node_agent.read import REASONS, ReadOptions, read_jeugdhulp
from shared.codes import zorgtype_table
from tests.node_agent.helpers import B, JEUGDHULP_HEADER, PS, invalid_bsn, issues, jeugdhulp_row, jh, write_csv


# --- every rule: the reason, its line (header = line 1) and its column ----------------------------

JEUGDHULP_RULES = [
    ("bsn_missing", dict(bsn="")),
    ("bsn_format", dict(bsn="12345678A")),
    ("bsn_format", dict(bsn="1234567890")),
    ("bsn_placeholder", dict(bsn="000000000")),
    ("bsn_placeholder", dict(bsn="999999999")),
    ("bsn_elfproef", dict(bsn=invalid_bsn(B[5]))),
    ("bsn_test_range", dict(bsn="999900006")),
    ("geboortedatum_ontbreekt", dict(geboortedatum="")),
    ("geboortedatum_ongeldig", dict(geboortedatum="2015-02-30")),
    ("toewijzingnummer_ontbreekt", dict(nr="")),
    ("toewijzingnummer_dubbel", dict(nr="T1")),
    ("productcategorie_onbekend", dict(cat="99")),
    ("productcode_te_lang", dict(productcode="123456")),
    ("aanbieder_agb_ontbreekt", dict(agb="")),
    ("aanbieder_agb_ongeldig", dict(agb="9800001")),
    ("verwijzer_onbekend", dict(verwijzer="07")),
    ("ingangsdatum_ontbreekt", dict(start="")),
    ("ingangsdatum_ongeldig", dict(start="01/09/2024")),
    ("einddatum_ongeldig", dict(end="2024-13-01")),
    ("einddatum_voor_ingangsdatum", dict(start="2024-09-01", end="2024-08-31")),
    ("ingangsdatum_voor_geboorte", dict(start="2014-01-01")),
]


def _jh_row(nr="T2", bsn=None, start="2024-09-01", end="", **kw):
    return jeugdhulp_row(bsn if bsn is not None else B[1], nr, kw.pop("cat", "45"), start, end, **kw)


@pytest.mark.parametrize("reason,change", JEUGDHULP_RULES, ids=[f"{r}-{i}" for i, (r, _) in enumerate(JEUGDHULP_RULES)])
def test_jeugdhulp_rule(tmp_path, reason, change):
    rows = [jeugdhulp_row(B[0], "T1"), _jh_row(**change), jeugdhulp_row(B[2], "T3")]
    e = jh(tmp_path / "jh.csv", rows)
    assert issues(e.report) == {reason: [3]}
    assert e.report.rows_read == 3 and e.report.rows_used == 2
    column, message = REASONS[reason]
    assert e.report.rejected[reason].column == column and e.report.rejected[reason].message == message
    assert column in JEUGDHULP_HEADER


def test_jeugdhulp_exclusions_are_counted_by_rule(tmp_path):
    path = tmp_path / "jh.csv"
    rows = [jeugdhulp_row(B[0], "T1"), jeugdhulp_row(B[1], "T2", reden="13"), [""] * 11, jeugdhulp_row(B[2], "T3")]
    e = read_jeugdhulp(ReadOptions(write_csv(path, JEUGDHULP_HEADER, rows), "jeugdhulp"), PS, zorgtype_table())
    assert issues(e.report, "excluded") == {"reden_wijziging_13": [3], "lege_regel": [4]}
    assert e.report.rows_read == 4 and e.report.rows_used == 2 and e.report.rows_rejected == 0
    assert list(e.excluded_numbers) == ["T2"]


def test_test_range_allowed_with_the_switch(tmp_path):
    path = write_csv(tmp_path / "jh.csv", JEUGDHULP_HEADER, [jeugdhulp_row("999900006", "T1")])
    e = read_jeugdhulp(ReadOptions(path, "jeugdhulp"), PS, zorgtype_table(), allow_test_bsn=True)
    assert e.report.rows_used == 1
