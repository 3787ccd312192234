"""The leerlingen reader: every rule, BRIN + vestigingsnummer, pupils without a school."""

from __future__ import annotations

import pytest

from node_agent.read import REASONS
from tests.node_agent.helpers import B, LEERLINGEN_HEADER, invalid_bsn, issues, leerling_row, ll


LEERLINGEN_RULES = [
    ("bsn_elfproef", dict(bsn=invalid_bsn(B[7]))),
    ("geboortedatum_ontbreekt", dict(geboortedatum="")),
    ("peildatum_ontbreekt", dict(peildatum="")),
    ("peildatum_ongeldig", dict(peildatum="1-okt-2024")),
    ("peildatum_afwijkend", dict(peildatum="2024-10-02")),
    ("vestigingscode_ongeldig", dict(vestiging="4DA00")),
    ("onderwijssoort_onbekend", dict(soort="HAVO")),
    ("woongemeente_ontbreekt", dict(woongemeente="")),
    ("woongemeente_ongeldig", dict(woongemeente="Nieuwegein")),
    ("andere_woongemeente", dict(woongemeente="0344")),
    ("buurtcode_ongeldig", dict(buurt="BU123")),
    ("leerling_dubbel", dict(bsn=B[0])),
]


@pytest.mark.parametrize("reason,change", LEERLINGEN_RULES, ids=[r for r, _ in LEERLINGEN_RULES])
def test_leerlingen_rule(tmp_path, reason, change):
    bsn = change.pop("bsn", B[1])
    vest = change.pop("vestiging", "04DA00")
    rows = [leerling_row(B[0], "04DA00"), leerling_row(bsn, vest, **change), leerling_row(B[2], "04DA01"),
            leerling_row(B[3], "")]
    e = ll(tmp_path / "l.csv", rows)
    assert issues(e.report) == {reason: [3]}
    assert e.report.rows_read == 4 and e.report.rows_used == 3
    assert REASONS[reason][0] in LEERLINGEN_HEADER


def test_brin_plus_vestigingsnummer(tmp_path):
    header = ["bsn", "geboortedatum", "peildatum", "brin", "vestigingsnummer", "woongemeente"]
    rows = [[B[0], "2015-01-01", "2024-10-01", "04da", "0", "356"], [B[1], "2015-01-01", "2024-10-01", "4DA", "1", "0356"],
            [B[2], "2015-01-01", "2024-10-01", "04DA", "x", "0356"], [B[3], "2015-01-01", "2024-10-01", "", "", "0356"],
            [B[4], "2015-01-01", "2024-10-01", "04DA", "", "0356"], [B[5], "2015-01-01", "2024-10-01", "04DA", "12", "GM0356"]]
    e = ll(tmp_path / "l.csv", rows, header=header)
    assert issues(e.report) == {"brin_ongeldig": [3], "vestigingsnummer_ongeldig": [4, 6]}
    assert list(e.data["vestigingscode"]) == ["04DA00", "GEEN", "04DA12"]


def test_no_school_is_a_bucket_not_a_rejection(tmp_path):
    e = ll(tmp_path / "l.csv", [leerling_row(B[0], ""), leerling_row(B[1], "geen"), leerling_row(B[2], "04da00")])
    assert e.report.rows_used == 3
    assert list(e.data["vestigingscode"]) == ["GEEN", "GEEN", "04DA00"]
