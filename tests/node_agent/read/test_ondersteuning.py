"""The ondersteuning reader (an SWV's extract): every rule, soort spellings, the SWV's own schools, accounting."""

from __future__ import annotations

import pytest

from node_agent.read import REASONS
from tests.node_agent.helpers import B, ONDERSTEUNING_HEADER, invalid_bsn, issues, ond, ondersteuning_row

RULES = [
    ("bsn_elfproef", dict(bsn=invalid_bsn(B[7])), "rejected"),
    ("bsn_missing", dict(bsn=""), "rejected"),
    ("vestigingscode_ongeldig", dict(vestiging="4DA00"), "rejected"),
    ("zonder_vestiging", dict(vestiging=""), "excluded"),
    ("soort_ontbreekt", dict(soort=""), "rejected"),
    ("soort_onbekend", dict(soort="rugzak"), "rejected"),
    ("ingangsdatum_ontbreekt", dict(start=""), "rejected"),
    ("ingangsdatum_ongeldig", dict(start="1-aug-2024"), "rejected"),
    ("einddatum_ongeldig", dict(end="31-13-2025"), "rejected"),
    ("einddatum_voor_ingangsdatum", dict(end="2024-07-31"), "rejected"),
]


@pytest.mark.parametrize("reason,change,kind", RULES, ids=[r for r, _, _ in RULES])
def test_ondersteuning_rule(tmp_path, reason, change, kind):
    bsn = change.pop("bsn", B[1])
    rows = [ondersteuning_row(B[0]), ondersteuning_row(bsn, **change), ondersteuning_row(B[2], "04DA01", "tlv-sbo")]
    e = ond(tmp_path / "o.csv", rows)
    assert issues(e.report, kind) == {reason: [3]}
    assert e.report.rows_read == 3 and e.report.rows_used == 2
    assert REASONS[reason][0] in ONDERSTEUNING_HEADER


def test_soort_spellings_become_slugs_and_their_groups(tmp_path):
    rows = [ondersteuning_row(B[0], soort="TLV SO categorie hoog"), ondersteuning_row(B[1], soort="LWOO"),
            ondersteuning_row(B[2], soort="praktijkonderwijs"), ondersteuning_row(B[3], soort="OPP"),
            ondersteuning_row(B[4], soort="Thuiszitter")]
    e = ond(tmp_path / "o.csv", rows)
    assert list(e.data["soort"]) == ["tlv-so-hoog", "lwoo", "pro", "opp", "thuiszitter"]
    assert list(e.data["groep"]) == ["tlv-so", "lwoo", "pro", "opp", "thuiszitter"]
    assert "pseudonym" in e.data and "bsn" not in e.data


def test_rows_at_another_swvs_school_are_excluded_by_rule_when_the_schools_are_known(tmp_path):
    rows = [ondersteuning_row(B[0], "04DA00"), ondersteuning_row(B[1], "09ZZ00"), ondersteuning_row(B[2], "04da01"),
            ondersteuning_row(invalid_bsn(B[3]), "09ZZ00")]
    e = ond(tmp_path / "o.csv", rows, schools=("04DA00", "04DA01"))
    # The school is checked first: a row at another SWV's school is none of this one's business, bad BSN or not.
    assert issues(e.report, "excluded") == {"vestiging_buiten_swv": [3, 5]} and issues(e.report) == {}
    assert list(e.data["vestigingscode"]) == ["04DA00", "04DA01"]
    everything = ond(tmp_path / "o2.csv", rows)
    assert everything.report.rows_used == 3 and issues(everything.report) == {"bsn_elfproef": [5]}


def test_brin_plus_vestigingsnummer_and_the_accounting(tmp_path):
    header = ["BSN_leerling", "brin", "vestigingsnummer", "Voorziening", "ingangsdatum"]
    rows = [[B[0], "04DA", "0", "arrangement", "01-08-2024"], [B[1], "04DA", "x", "opp", "2024-08-01"],
            ["", "", "", "", ""], [B[2], "04DA", "1", "PrO", "2024-08-01"]]
    from node_agent.read import ReadOptions, read_ondersteuning
    from tests.node_agent.helpers import PS, write_csv

    path = write_csv(tmp_path / "o.csv", header, rows, delimiter=";")
    e = read_ondersteuning(ReadOptions(path, "ondersteuning", columns={"BSN_leerling": "bsn", "Voorziening": "soort"}), PS)
    assert issues(e.report) == {"vestigingsnummer_ongeldig": [3]} and issues(e.report, "excluded") == {"lege_regel": [4]}
    assert list(e.data["vestigingscode"]) == ["04DA00", "04DA01"]
    assert e.report.rows_read == e.report.rows_used + e.report.rows_rejected + e.report.rows_excluded == 4


def test_a_missing_column_is_named(tmp_path):
    from shared.errors import ExtractError

    with pytest.raises(ExtractError) as err:
        ond(tmp_path / "o.csv", [[B[0], "04DA00", "2024-08-01"]], header=["bsn", "vestigingscode", "ingangsdatum"])
    assert err.value.code == "missing_column" and err.value.details["column"] == "soort"
