"""Counting an SWV's pupils with support: active on the peildatum, each pupil once under the soort group of
the highest priority (so the groups add up to the total), a total for every school of the SWV."""

from __future__ import annotations

from datetime import date

from node_agent.ondersteuning import count_support
from tests.node_agent.helpers import B, ond, ondersteuning_row

PEIL = {"2024-2025": date(2024, 10, 1)}


def _cells(tmp_path, rows, schools=None, peildata=PEIL):
    e = ond(tmp_path / "o.csv", rows)
    return {(c.vestigingscode, c.schooljaar, c.measure, c.category): c.value for c in count_support(e.data, peildata, schools)}


def test_a_pupil_counts_once_under_the_highest_priority_active_on_the_peildatum(tmp_path):
    rows = [
        # B0: arrangement, OPP and a TLV SBO all active: TLV SBO wins (and its school)
        ondersteuning_row(B[0], "04DA00", "arrangement"), ondersteuning_row(B[0], "04DA00", "opp"),
        ondersteuning_row(B[0], "04DA01", "tlv-sbo"),
        # B1: a TLV SO that ended before the peildatum does not count; the thuiszitter record does
        ondersteuning_row(B[1], "04DA00", "tlv-so-hoog", "2023-08-01", "2024-09-30"),
        ondersteuning_row(B[1], "04DA00", "thuiszitter", "2024-09-15"),
        # B2: starts after the peildatum: not counted this year
        ondersteuning_row(B[2], "04DA00", "lwoo", "2024-10-02"),
        # B3: ends on the peildatum: counted
        ondersteuning_row(B[3], "04DA00", "LWOO", "2024-08-01", "2024-10-01"),
    ]
    cells = _cells(tmp_path, rows)
    assert cells == {
        ("04DA00", "2024-2025", "leerlingen_ondersteuning", ""): 2,
        ("04DA00", "2024-2025", "leerlingen_ondersteuning_soort", "thuiszitter"): 1,
        ("04DA00", "2024-2025", "leerlingen_ondersteuning_soort", "lwoo"): 1,
        ("04DA01", "2024-2025", "leerlingen_ondersteuning", ""): 1,
        ("04DA01", "2024-2025", "leerlingen_ondersteuning_soort", "tlv-sbo"): 1,
    }


def test_a_tie_goes_to_the_latest_start_then_the_first_line(tmp_path):
    rows = [ondersteuning_row(B[0], "04DA00", "arrangement", "2024-08-01"),
            ondersteuning_row(B[0], "04DA01", "arrangement", "2024-09-01"),
            ondersteuning_row(B[1], "04DA00", "opp", "2024-08-01"), ondersteuning_row(B[1], "04DA01", "opp", "2024-08-01")]
    cells = _cells(tmp_path, rows)
    assert cells[("04DA01", "2024-2025", "leerlingen_ondersteuning_soort", "arrangement")] == 1  # the later start
    assert cells[("04DA00", "2024-2025", "leerlingen_ondersteuning_soort", "opp")] == 1  # the first line
    assert sum(v for k, v in cells.items() if k[2] == "leerlingen_ondersteuning") == 2


def test_every_school_of_the_swv_has_a_total_and_the_groups_add_up_to_it(tmp_path):
    rows = [ondersteuning_row(b, "04DA00", soort) for b, soort in zip(B, ["arrangement", "opp", "tlv-so-laag", "pro"])]
    cells = _cells(tmp_path, rows, schools=("04DA00", "05XB01"),
                   peildata={"2023-2024": date(2023, 10, 1), "2024-2025": date(2024, 10, 1)})
    assert cells[("05XB01", "2024-2025", "leerlingen_ondersteuning", "")] == 0
    assert cells[("04DA00", "2023-2024", "leerlingen_ondersteuning", "")] == 0  # nothing active in 2023
    parts = sum(v for k, v in cells.items() if k[:2] == ("04DA00", "2024-2025") and k[2].endswith("_soort"))
    assert parts == cells[("04DA00", "2024-2025", "leerlingen_ondersteuning", "")] == 4
    assert not any(v == 0 for k, v in cells.items() if k[2].endswith("_soort"))  # soort cells only when > 0
