"""Cells of a small hand-made region (2 municipalities, 3 schools, 14 children), expected values worked out by hand."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from node_agent.aggregate import age_bands, aggregate, ages
from node_agent.read import ReadOptions, read_declaraties, read_jeugdhulp, read_leerlingen
from shared.codes import zorgtype_table
from shared.errors import InputError
from shared.pseudonym import Pseudonymiser
from tests.node_agent.helpers import (
    DECLARATIES_HEADER,
    JEUGDHULP_HEADER,
    LEERLINGEN_HEADER,
    jeugdhulp_row,
    leerling_row,
    valid_bsns,
    write_csv,
)

PS = Pseudonymiser(b"k" * 32)
JAAR = "2024-2025"
C = dict(zip(["c1", "c2", "c3", "c4", "c5", "c6", "c7", "c8", "c9"], valid_bsns(9)))
D = dict(zip(["d1", "d2", "d3", "d4", "d5"], valid_bsns(5, start=200_000_000)))


GROUP_MEASURES = {"clienten_zorgintensiteit", "clienten_consortium"}


def run_node(tmp_path: Path, gemeente: str, leerlingen, jeugdhulp, declaraties, years=(JAAR,), **kwargs):
    """Counts of the fine measures (the groups: ``test_groups_and_consortia_by_hand``), costs, the aggregation."""
    l = read_leerlingen(ReadOptions(write_csv(tmp_path / f"{gemeente}-l.csv", LEERLINGEN_HEADER, leerlingen), "leerlingen"),
                        PS, gemeente)
    j = read_jeugdhulp(ReadOptions(write_csv(tmp_path / f"{gemeente}-j.csv", JEUGDHULP_HEADER, jeugdhulp), "jeugdhulp"),
                       PS, zorgtype_table())
    d = read_declaraties(ReadOptions(write_csv(tmp_path / f"{gemeente}-d.csv", DECLARATIES_HEADER, declaraties),
                                     "declaraties"), j)
    agg = aggregate(l.data, j.data, d.data, list(years), **kwargs)
    counts = {(c.vestigingscode, c.measure, c.category): c.value for c in agg.cells if c.measure not in GROUP_MEASURES}
    costs = {(c.vestigingscode, c.category): (c.value, c.contributors, c.top1, c.top2, c.negatives, c.abs_sum)
             for c in agg.cost_cells}
    return counts, costs, agg, (l, j, d)


def nieuwegein(tmp_path, names: dict[str, str] | None = None, **kwargs):
    """``names``: toewijzingnummer → aanbieder_naam of that row (the others keep the helper's)."""
    leerlingen = [
        leerling_row(C["c1"], "04DA00", geboortedatum="2015-05-05"),
        leerling_row(C["c2"], "04DA00", geboortedatum="2012-03-10"),
        leerling_row(C["c3"], "04DA00", geboortedatum="2010-01-20"),
        leerling_row(C["c4"], "05XB01", geboortedatum="2016-07-01"),
        leerling_row(C["c5"], "05XB01", geboortedatum="2014-11-11"),
        leerling_row(C["c6"], "", geboortedatum="2009-04-04", soort=""),
        leerling_row(C["c7"], "06YC02", geboortedatum="2017-02-02"),
        leerling_row(C["c8"], "04DA00", geboortedatum="2015-08-08"),
        leerling_row(C["c9"], "04DA00", geboortedatum="2013-01-01", woongemeente="0321"),  # rejected
    ]
    j = jeugdhulp_row
    jeugdhulp = [
        j(C["c1"], "A01", "45", "2024-09-01", geboortedatum="2015-05-05", verwijzer="02", agb="98000001"),
        j(C["c2"], "A02", "51", "2023-01-01", "2023-12-31", geboortedatum="2012-03-10", verwijzer="02", agb="98000002"),
        j(C["c2"], "A03", "54", "2024-12-15", geboortedatum="2012-03-10", verwijzer="03", agb="98000002"),
        j(C["c3"], "A04", "48", "2024-06-01", geboortedatum="2010-01-20", verwijzer="04", agb="98000009"),
        j(C["c3"], "A05", "36", "2025-02-01", geboortedatum="2010-01-20", verwijzer="04", agb="98000003"),
        j(C["c4"], "A06", "42", "2024-09-01", "2025-06-30", geboortedatum="2016-07-01", agb="98000008"),
        j(C["c5"], "A07", "31", "2023-09-01", "2024-02-28", geboortedatum="2014-11-11", verwijzer="01", agb="98000001"),
        j(C["c5"], "A09", "45", "2025-03-01", geboortedatum="2014-11-11", verwijzer="01", agb="98000004"),
        j(C["c5"], "A08", "32", "2025-03-01", geboortedatum="2014-11-11", verwijzer="", agb="98000001"),
        j(C["c6"], "A10", "47", "2024-10-01", geboortedatum="2009-04-04", verwijzer="08", agb="98000010"),
        j(C["c6"], "A11", "46", "2024-11-01", "2024-11-15", geboortedatum="2009-04-04", verwijzer="08", agb="98000005"),
        j(C["c9"], "A12", "45", "2024-09-01", geboortedatum="2013-01-01", agb="98000001"),
        j(C["c7"], "A13", "50", "2023-01-01", "2023-06-30", geboortedatum="2017-02-02", agb="98000011"),
    ]
    for row in jeugdhulp:
        row[6] = (names or {}).get(row[2], row[6])
    declaraties = [
        ["A01", "2024-09-01", "2024-09-30", "100000", "D"],
        ["A01", "2024-10-01", "2024-10-31", "20000", "C"],
        ["A02", "2023-03-01", "2023-03-31", "5000", "D"],  # school year 2022-2023: not requested
        ["A03", "2025-01-01", "2025-01-31", "300000", "D"],
        ["A04", "2024-09-01", "2024-09-30", "50000", "D"],
        ["A05", "2025-02-01", "2025-02-28", "400000", ""],
        ["A06", "2024-09-01", "2024-09-30", "10000", "D"],
        ["A08", "2025-03-01", "2025-03-31", "30000", "D"],
        ["A09", "2025-03-01", "2025-03-31", "5000", "C"],
        ["A11", "2024-11-01", "2024-11-15", "250000", "D"],
        ["A13", "2024-09-01", "2024-09-30", "7000", "C"],  # a late credit: this child nets negative
        ["A99", "2024-09-01", "2024-09-30", "1234", "D"],  # no such allocation
    ]
    return run_node(tmp_path, "0356", leerlingen, jeugdhulp, declaraties, **kwargs)


def houten(tmp_path):
    leerlingen = [
        leerling_row(D["d1"], "05XB01", geboortedatum="2013-06-06", woongemeente="0321"),
        leerling_row(D["d2"], "06YC02", geboortedatum="2011-09-09", woongemeente="0321"),
        leerling_row(D["d3"], "06YC02", geboortedatum="2012-12-12", woongemeente="0321"),
        leerling_row(D["d4"], "04DA00", geboortedatum="2008-01-01", woongemeente="0321", soort="VO"),
        leerling_row(D["d5"], "04DA00", geboortedatum="2016-01-01", woongemeente="0321"),
    ]
    j = jeugdhulp_row
    jeugdhulp = [
        j(D["d1"], "H01", "45", "2024-08-01", geboortedatum="2013-06-06", verwijzer="01", agb="98000001"),
        j(D["d2"], "H02", "52", "2024-07-31", "2024-12-31", geboortedatum="2011-09-09", verwijzer="02", agb="98000002"),
        j(D["d3"], "H03", "33", "2025-07-31", geboortedatum="2012-12-12", verwijzer="05", agb="98000007"),
        j(D["d4"], "H04", "40", "2022-01-01", "2023-08-01", geboortedatum="2008-01-01", verwijzer="01", agb="98000006"),
        j(D["d4"], "H05", "40", "2024-08-01", geboortedatum="2008-01-01", verwijzer="06", agb="98000006"),
        j(D["d5"], "H06", "45", "2024-09-01", geboortedatum="2016-01-01", agb="98000001", reden="13"),
    ]
    declaraties = [
        ["H01", "2024-08-01", "2024-08-31", "60000", "D"],
        ["H02", "2024-07-01", "2024-07-31", "20000", "D"],  # 2023-2024
        ["H02", "2024-08-01", "2024-08-31", "15000", "D"],
        ["H06", "2024-09-01", "2024-09-30", "99999", "D"],  # on a removed allocation: excluded
    ]
    return run_node(tmp_path, "0321", leerlingen, jeugdhulp, declaraties)


def test_nieuwegein_cells_by_hand(tmp_path):
    counts, costs, agg, (l, j, d) = nieuwegein(tmp_path)
    assert counts == {
        # 04DA00: c1 (ambulant, new, referred by 02 at 9), c2 (ggz; A02 ended 2023-12-31, within 365 days of
        # A03's start, so not new), c3 (verblijf, new at 15 via 04; jeugdbescherming is not client care), c8
        ("04DA00", "leerlingen", ""): 4,
        ("04DA00", "clienten", ""): 3,
        ("04DA00", "clienten_zorgtype", "ambulant"): 1,
        ("04DA00", "clienten_zorgtype", "jeugd-ggz"): 1,
        ("04DA00", "clienten_zorgtype", "verblijf"): 1,
        ("04DA00", "clienten_aanbieder", "98000001"): 1,
        ("04DA00", "clienten_aanbieder", "98000002"): 1,
        ("04DA00", "clienten_aanbieder", "98000003"): 1,
        ("04DA00", "nieuwe_clienten", ""): 2,
        ("04DA00", "nieuwe_clienten_verwijzer", "02"): 1,
        ("04DA00", "nieuwe_clienten_verwijzer", "04"): 1,
        ("04DA00", "nieuwe_clienten_leeftijd", "9-11"): 1,
        ("04DA00", "nieuwe_clienten_leeftijd", "15-17"): 1,
        ("04DA00", "jeugdbescherming", ""): 1,
        ("04DA00", "jeugdreclassering", ""): 0,
        # 05XB01: c4 (vervoer only: not a client), c5 (A07 ended 2024-02-28, 366 days before 2025-03-01: new;
        # A08 and A09 start the same day, A08 has the lower number, so verwijzer onbekend)
        ("05XB01", "leerlingen", ""): 2,
        ("05XB01", "clienten", ""): 1,
        ("05XB01", "clienten_zorgtype", "ambulant"): 1,
        ("05XB01", "clienten_aanbieder", "98000001"): 1,
        ("05XB01", "clienten_aanbieder", "98000004"): 1,
        ("05XB01", "nieuwe_clienten", ""): 1,
        ("05XB01", "nieuwe_clienten_verwijzer", "onbekend"): 1,
        ("05XB01", "nieuwe_clienten_leeftijd", "9-11"): 1,
        ("05XB01", "jeugdbescherming", ""): 0,
        ("05XB01", "jeugdreclassering", ""): 0,
        # 06YC02: c7, no care in the year
        ("06YC02", "leerlingen", ""): 1,
        ("06YC02", "clienten", ""): 0,
        ("06YC02", "nieuwe_clienten", ""): 0,
        ("06YC02", "jeugdbescherming", ""): 0,
        ("06YC02", "jeugdreclassering", ""): 0,
        # no school: c6 (crisis, new at 15 via 08; jeugdreclassering)
        ("GEEN", "leerlingen", ""): 1,
        ("GEEN", "clienten", ""): 1,
        ("GEEN", "clienten_zorgtype", "crisis"): 1,
        ("GEEN", "clienten_aanbieder", "98000005"): 1,
        ("GEEN", "nieuwe_clienten", ""): 1,
        ("GEEN", "nieuwe_clienten_verwijzer", "08"): 1,
        ("GEEN", "nieuwe_clienten_leeftijd", "15-17"): 1,
        ("GEEN", "jeugdbescherming", ""): 0,
        ("GEEN", "jeugdreclassering", ""): 1,
    }
    # (value, contributors, top1, top2 of |amount|, negatives, abs_sum), eurocent
    assert costs == {
        ("04DA00", "ambulant"): (80000, 1, 80000, 0, 0, 80000),  # 100000 D - 20000 C
        ("04DA00", "jeugd-ggz"): (300000, 1, 300000, 0, 0, 300000),
        ("04DA00", "verblijf"): (400000, 1, 400000, 0, 0, 400000),
        ("04DA00", "jeugdbescherming"): (50000, 1, 50000, 0, 0, 50000),
        ("04DA00", "totaal"): (830000, 3, 450000, 300000, 0, 830000),  # c1 80000, c2 300000, c3 450000
        ("05XB01", "vervoer"): (10000, 1, 10000, 0, 0, 10000),
        ("05XB01", "ambulant"): (25000, 1, 25000, 0, 0, 25000),  # c5: 30000 on A08 - 5000 credit on A09
        ("05XB01", "totaal"): (35000, 2, 25000, 10000, 0, 35000),
        ("06YC02", "maatwerk"): (-7000, 1, 7000, 0, 1, 7000),  # c7's late credit: its size is the largest amount
        ("06YC02", "totaal"): (-7000, 1, 7000, 0, 1, 7000),
        ("GEEN", "crisis"): (250000, 1, 250000, 0, 0, 250000),
        ("GEEN", "totaal"): (250000, 1, 250000, 0, 0, 250000),
    }
    assert agg.peildata == {JAAR: "2024-10-01"}
    assert agg.allocations_without_enrolment == 1  # c9's A12 (c9 lives elsewhere: rejected from enrolment)
    assert d.report.rejected["toewijzing_onbekend"].count == 1


def test_provider_names_are_the_most_frequent_per_code_with_a_cell(tmp_path):
    names = {
        "A01": "Lek Jeugd", "A07": "Lek Jeugd", "A12": "Lek Jeugd", "A08": "Lek Jeugd & Gezin",  # 98000001: 3 to 1
        "A02": "Zorg Twee", "A03": "Anders Twee",  # 98000002: a tie goes to the alphabetically first
        "A05": "",  # 98000003: no name
        "A09": "  Praktijk\u00a0 Vier ",  # 98000004: white space made plain
        "A11": "=HYPERLINK(1)",  # 98000005: unusable, so no name
        # codes without a clienten_aanbieder cell get no name, whatever their rows say
        "A04": "Gecertificeerde Instelling", "A10": "Jeugdreclassering", "A06": "Zorgtaxi", "A13": "Oud Zeer",
    }
    counts, _, agg, _ = nieuwegein(tmp_path, names=names)
    assert agg.providers == {"98000001": "Lek Jeugd", "98000002": "Anders Twee", "98000004": "Praktijk Vier"}
    assert set(agg.providers) <= {k[2] for k in counts if k[1] == "clienten_aanbieder"}


def test_a_code_as_name_is_no_name(tmp_path):
    _, _, agg, _ = nieuwegein(tmp_path, names={"A01": "98000001", "A07": "AGB 98000001", "A08": "AGB 98000001",
                                                "A12": "Lek Jeugd"})
    assert agg.providers["98000001"] == "Lek Jeugd"


def test_without_the_name_column_no_names(tmp_path):
    from node_agent.aggregate import provider_names

    _, _, agg, (_, j, _) = nieuwegein(tmp_path)
    assert agg.providers == dict.fromkeys(["98000001", "98000002", "98000003", "98000004", "98000005"], "Aanbieder BV")
    assert provider_names(j.data.drop(columns=["aanbieder_naam"]), {"98000001"}) == {}
    assert provider_names(j.data, set()) == {}


def test_groups_and_consortia_by_hand(tmp_path):
    consortia = {"98000001": "Consortium Lek", "98000004": "Consortium Lek", "98000005": "Consortium Noord"}
    _, _, agg, _ = nieuwegein(tmp_path, consortia=consortia)
    groups = {(c.vestigingscode, c.measure, c.category): c.value for c in agg.cells if c.measure in GROUP_MEASURES}
    assert groups == {
        # 04DA00: c1 ambulant (basis), c2 jeugd-ggz (specialistisch), c3 verblijf
        ("04DA00", "clienten_zorgintensiteit", "basis"): 1,
        ("04DA00", "clienten_zorgintensiteit", "specialistisch"): 1,
        ("04DA00", "clienten_zorgintensiteit", "verblijf-crisis"): 1,
        ("04DA00", "clienten_consortium", "Consortium Lek"): 1,  # c1 at 98000001
        ("04DA00", "clienten_consortium", "andere aanbieders"): 2,  # c2 at 98000002, c3 at 98000003
        # 05XB01: c5 at two providers of one consortium counts once
        ("05XB01", "clienten_zorgintensiteit", "basis"): 1,
        ("05XB01", "clienten_consortium", "Consortium Lek"): 1,
        ("GEEN", "clienten_zorgintensiteit", "verblijf-crisis"): 1,
        ("GEEN", "clienten_consortium", "Consortium Noord"): 1,
    }


def test_a_child_in_two_care_types_of_one_group_counts_once(tmp_path):
    leerlingen = [leerling_row(C["c1"], "04DA00", geboortedatum="2014-05-05")]
    jeugdhulp = [
        jeugdhulp_row(C["c1"], "A01", "45", "2024-09-01", geboortedatum="2014-05-05", verwijzer="01", agb="98000001"),
        jeugdhulp_row(C["c1"], "A02", "31", "2024-10-01", geboortedatum="2014-05-05", verwijzer="01", agb="98000002"),
    ]
    counts, _, agg, _ = run_node(tmp_path, "0356", leerlingen, jeugdhulp, [])
    assert counts[("04DA00", "clienten_zorgtype", "ambulant")] == 1
    assert counts[("04DA00", "clienten_zorgtype", "wijkteam")] == 1
    groups = {(c.measure, c.category): c.value for c in agg.cells if c.measure in GROUP_MEASURES}
    assert groups[("clienten_zorgintensiteit", "basis")] == 1
    assert ("clienten_consortium", "andere aanbieders") not in groups  # no table given: no consortium cells


def test_houten_cells_by_hand(tmp_path):
    counts, costs, agg, (l, j, d) = houten(tmp_path)
    assert counts == {
        # 04DA00: d4 (H04 ended 2023-08-01, exactly 366 days before H05 starts on 2024-08-01: new, 16 years, 06),
        # d5 (only a removed allocation)
        ("04DA00", "leerlingen", ""): 2,
        ("04DA00", "clienten", ""): 1,
        ("04DA00", "clienten_zorgtype", "persoonlijke-verzorging"): 1,
        ("04DA00", "clienten_aanbieder", "98000006"): 1,
        ("04DA00", "nieuwe_clienten", ""): 1,
        ("04DA00", "nieuwe_clienten_verwijzer", "06"): 1,
        ("04DA00", "nieuwe_clienten_leeftijd", "15-17"): 1,
        ("04DA00", "jeugdbescherming", ""): 0,
        ("04DA00", "jeugdreclassering", ""): 0,
        # 05XB01: d1 starts on the first day of the year
        ("05XB01", "leerlingen", ""): 1,
        ("05XB01", "clienten", ""): 1,
        ("05XB01", "clienten_zorgtype", "ambulant"): 1,
        ("05XB01", "clienten_aanbieder", "98000001"): 1,
        ("05XB01", "nieuwe_clienten", ""): 1,
        ("05XB01", "nieuwe_clienten_verwijzer", "01"): 1,
        ("05XB01", "nieuwe_clienten_leeftijd", "9-11"): 1,
        ("05XB01", "jeugdbescherming", ""): 0,
        ("05XB01", "jeugdreclassering", ""): 0,
        # 06YC02: d2 started the day before the year (a client, not new), d3 starts on its last day (new, 12)
        ("06YC02", "leerlingen", ""): 2,
        ("06YC02", "clienten", ""): 2,
        ("06YC02", "clienten_zorgtype", "jeugd-ggz"): 1,
        ("06YC02", "clienten_zorgtype", "daghulp"): 1,
        ("06YC02", "clienten_aanbieder", "98000002"): 1,
        ("06YC02", "clienten_aanbieder", "98000007"): 1,
        ("06YC02", "nieuwe_clienten", ""): 1,
        ("06YC02", "nieuwe_clienten_verwijzer", "05"): 1,
        ("06YC02", "nieuwe_clienten_leeftijd", "12-14"): 1,
        ("06YC02", "jeugdbescherming", ""): 0,
        ("06YC02", "jeugdreclassering", ""): 0,
    }
    assert costs == {
        ("05XB01", "ambulant"): (60000, 1, 60000, 0, 0, 60000),
        ("05XB01", "totaal"): (60000, 1, 60000, 0, 0, 60000),
        ("06YC02", "jeugd-ggz"): (15000, 1, 15000, 0, 0, 15000),  # the July line belongs to 2023-2024
        ("06YC02", "totaal"): (15000, 1, 15000, 0, 0, 15000),
    }
    assert j.report.excluded["reden_wijziging_13"].count == 1
    assert d.report.excluded["toewijzing_verwijderd"].count == 1
    assert agg.allocations_without_enrolment == 0


def test_partials_of_the_two_nodes_add_up_per_school(tmp_path):
    a, _, _, _ = nieuwegein(tmp_path / "a")
    b, _, _, _ = houten(tmp_path / "b")
    total = lambda cells, v: sum(n for (vest, m, c), n in cells.items() if vest == v and m == "leerlingen")
    assert total(a, "04DA00") + total(b, "04DA00") == 6
    assert a[("04DA00", "clienten", "")] + b[("04DA00", "clienten", "")] == 4


def test_several_school_years_in_one_partial(tmp_path):
    (tmp_path / "x").mkdir()
    b = valid_bsns(2)
    leerlingen = [leerling_row(b[0], "04DA00", peildatum="2023-10-01"), leerling_row(b[0], "05XB01"),
                  leerling_row(b[1], "05XB01", peildatum="2023-10-01")]
    jeugdhulp = [jeugdhulp_row(b[0], "T1", "45", "2023-09-01", "2024-09-30")]
    counts, costs, agg, _ = run_node(tmp_path / "x", "0356", leerlingen, jeugdhulp,
                                     [["T1", "2023-09-01", "", "100", "D"], ["T1", "2024-09-01", "", "300", "D"]],
                                     years=("2023-2024", "2024-2025"))
    assert agg.peildata == {"2023-2024": "2023-10-01", "2024-2025": "2024-10-01"}
    # the child moved school: new at 04DA00 in 2023-2024, a continuing client at 05XB01 in 2024-2025
    assert {k: v for k, v in counts.items() if k[1] in ("clienten", "nieuwe_clienten")} == {
        ("04DA00", "clienten", ""): 1, ("04DA00", "nieuwe_clienten", ""): 1,
        ("05XB01", "clienten", ""): 1, ("05XB01", "nieuwe_clienten", ""): 0,
    }
    cells = {(c.vestigingscode, c.schooljaar, c.category): c.value for c in agg.cost_cells}
    assert cells[("04DA00", "2023-2024", "totaal")] == 100 and cells[("05XB01", "2024-2025", "totaal")] == 300


def test_a_year_without_enrolment_is_refused(tmp_path):
    b = valid_bsns(1)
    with pytest.raises(InputError) as err:
        run_node(tmp_path, "0356", [leerling_row(b[0], "04DA00")], [jeugdhulp_row(b[0], "T1")], [],
                 years=("2022-2023",))
    assert err.value.code == "no_enrolment_for_year"


def test_ages_and_bands():
    birth = np.array(["2010-03-01", "2010-03-01", "2020-01-01", "2000-01-01"], dtype="datetime64[D]")
    on = np.array(["2024-02-29", "2024-03-01", "2024-01-01", "2024-01-01"], dtype="datetime64[D]")
    assert list(ages(birth, on)) == [13, 14, 4, 24]
    assert list(age_bands(np.array([0, 3, 4, 5, 6, 11, 12, 17, 18, 40]))) == [
        "0-3", "0-3", "4-5", "4-5", "6-8", "9-11", "12-14", "15-17", "18+", "18+"]


def test_cost_cells_rank_refunds_by_their_size():
    from node_agent.aggregate import _cost_cells

    # one vestiging, one care type: children 0..3 net +500, -900 (two lines), +200 and 0 (credited in full)
    child = np.array([0, 1, 1, 2, 3, 3])
    amount = np.array([500, -400, -500, 200, 300, -300])
    cells = _cost_cells(JAAR, np.array(["04DA00"], dtype=object), np.zeros(6, np.int64), child,
                        np.zeros(6, np.int64), np.array(["ambulant"], dtype=object), amount)
    by_category = {c.category: c for c in cells}
    assert set(by_category) == {"ambulant", "totaal"}
    for c in cells:  # a child netting to zero counts nowhere
        assert (c.value, c.contributors, c.top1, c.top2, c.negatives, c.abs_sum) == (-200, 3, 900, 500, 1, 1600)
