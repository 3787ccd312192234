"""The SWVs' support cells through the gate: their family (soort groups add up to the total per unit,
schools → type → regio like every count), where they exist, and the independent attacker against them."""

from __future__ import annotations

import numpy as np
import pytest

from hub.disclosure.flows import NOT_IN_NETWORK, ROW_PART, ROW_TOTAL_TO_COLUMN
from hub.disclosure.frames import PUBLISHED
from hub.disclosure.tables import build_table
from hub.disclosure.world import TWO_DIM_MEASURES
from shared.codes import LEERLINGEN_ONDERSTEUNING, LEERLINGEN_ONDERSTEUNING_SOORT, ONDERSTEUNING_GROUP_CODES

from .attacker import Attack, lines_of, narrowed, public
from .helpers import JAAR, T, assert_protected, combine_cells, contributions, gate, key, parents, row, schools, truth

TOTAL, SOORT = LEERLINGEN_ONDERSTEUNING, LEERLINGEN_ONDERSTEUNING_SOORT


def support(node: str, vest: str, groups: dict[str, int]) -> list[tuple]:
    """An SWV node's cells of one school: the total and the soort groups it has (> 0), as the agent sends."""
    return [(node, vest, TOTAL, "", sum(groups.values()))] + [(node, vest, SOORT, g, n) for g, n in groups.items() if n]


def municipal(vest: str, pupils: int = 300, clients: int = 40) -> list[tuple]:
    return [("0356", vest, "leerlingen", "", pupils), ("0356", vest, "clienten", "", clients)]


TYPES = {"01AA00": "BO", "02BB00": "BO", "03CC00": "BO", "04DD00": "SO", "05EE00": "BO"}


def _region() -> list[tuple]:
    cells = [c for v in TYPES for c in municipal(v)]
    cells += support("PO2607", "01AA00", {"arrangement": 30, "opp": 3, "tlv-sbo": 12})
    cells += support("PO2607", "02BB00", {"arrangement": 25, "opp": 14, "thuiszitter": 2})
    cells += support("PO2607", "03CC00", {"arrangement": 40, "opp": 11, "tlv-sbo": 15})
    cells += support("PO2607", "04DD00", {"tlv-so": 60, "arrangement": 4})
    return cells  # 05EE00: no SWV counts it


def test_support_cells_exist_where_an_swv_counted_with_every_soort_group():
    table = build_table(combine_cells(contributions(_region()), schools(TYPES)))
    cells = table.cells
    support_cells = cells[cells["measure"].isin([TOTAL, SOORT])]
    units = set(zip(support_cells["level"], support_cells["unit"]))
    assert ("vestiging", "05EE00") not in units  # no SWV counted it: no figure at all, not a zero
    assert {("vestiging", v) for v in ("01AA00", "02BB00", "03CC00", "04DD00")} | {("schooltype", "BO"), ("schooltype", "SO"),
                                                                                  ("regio", "regio")} == units
    for unit in units:
        here = support_cells[(support_cells["level"] == unit[0]) & (support_cells["unit"] == unit[1])]
        assert sorted(here.loc[here["measure"] == SOORT, "category"]) == sorted(ONDERSTEUNING_GROUP_CODES)
        assert (here["measure"] == TOTAL).sum() == 1
    # One family per school year, two-dimensional: the soort cells are a row's parts, the total its arc out.
    assert set(support_cells["family"]) == {f"{JAAR}|{TOTAL}"}
    assert TOTAL in TWO_DIM_MEASURES and SOORT in TWO_DIM_MEASURES
    assert set(support_cells.loc[support_cells["measure"] == SOORT, "role"]) == {ROW_PART}
    assert set(support_cells.loc[support_cells["measure"] == TOTAL, "role"]) == {ROW_TOTAL_TO_COLUMN}
    assert (cells.loc[~cells["measure"].isin([TOTAL, SOORT]) & (cells["measure"] == "leerlingen"), "role"]
            == NOT_IN_NETWORK).all()


def test_the_soort_row_and_the_hierarchy_columns_are_lines_and_share_none_with_other_families():
    table = build_table(combine_cells(contributions(_region()), schools(TYPES)))
    cells = table.cells
    value = cells["value"].to_numpy()
    rows = columns = 0
    for line in range(table.n_lines):
        members, coefs = table.members(line)
        measures = set(cells["measure"].iloc[members])
        assert int((coefs * value[members]).sum()) == 0  # every line holds
        if measures & {TOTAL, SOORT}:
            assert measures <= {TOTAL, SOORT}, measures  # the family shares no line with another
            levels = set(cells["level"].iloc[members])
            if measures == {TOTAL, SOORT} and len(levels) == 1:
                rows += 1
            else:
                columns += 1
    assert rows == 4 + 2 + 1  # a row per counted school, per school type, for the regio
    assert columns > 0


def test_a_small_soort_group_and_its_partner_keep_the_threshold_against_the_attacker():
    combined, result = gate(_region(), TYPES)
    rel = result.release
    assert result.audit["failed"] == 0
    small = row(rel, "01AA00", SOORT, "opp")
    assert small["status"] == "suppressed_primary" and small["reason"] == "threshold"
    # The row's other parts are published or hidden so that 3 cannot be got back from the total.
    lo, hi = assert_protected(rel, TYPES, key("01AA00", SOORT, "opp"), combined)
    assert lo <= 0 + 1e-6 and hi >= T - 1 - 1e-6
    attack = Attack([public(rel)], parents(TYPES), truth=[truth(combined)])
    assert narrowed(attack) == []


def test_the_attacker_reads_the_soort_row_as_a_line():
    _, result = gate(_region(), TYPES)
    lines = lines_of(public(result.release), parents(TYPES))
    row_line = [ln for ln in lines if {k[3] for k, _ in ln} == {TOTAL, SOORT} and {k[1] for k, _ in ln} == {"01AA00"}]
    assert len(row_line) == 1
    assert sorted(c for _, c in row_line[0]) == [-1] + [1] * len(ONDERSTEUNING_GROUP_CODES)


def test_a_special_school_whose_pupils_nearly_all_have_a_tlv_so_hides_that_group():
    # 60 of 64: the group holds (nearly) all of the row, so publishing it would tell that any supported pupil
    # there has a TLV SO (group disclosure, as for every distribution).
    combined, result = gate(_region(), TYPES)
    cell = row(result.release, "04DD00", SOORT, "tlv-so")
    assert cell["status"] == "suppressed_primary" and cell["reason"] == "group_disclosure"
    assert_protected(result.release, TYPES, key("04DD00", SOORT, "tlv-so"), combined)


def _support_region(rng: np.random.Generator, n_units: int):
    """Schools of three types; two SWV nodes (a PO and a VO one) count each school once, an SO/VSO school by
    both (disjoint pupils): random soort mixes with many small groups."""
    kinds = ("BO", "SO", "VO")
    units = {f"{i + 1:02d}AA00": kinds[i % 3] for i in range(n_units)}
    cells = []
    for vest, kind in units.items():
        cells += municipal(vest, pupils=int(rng.integers(80, 600)))
        nodes = ("PO2607", "VO2607") if kind == "SO" else ("VO2607",) if kind == "VO" else ("PO2607",)
        for node in nodes:
            groups = {g: int(rng.choice([0, 0, 1, 3, 6, 11, 25])) for g in ONDERSTEUNING_GROUP_CODES}
            cells += support(node, vest, groups)
    return cells, units


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_property_no_hidden_support_cell_is_narrowed_below_the_threshold(seed):
    cells, units = _support_region(np.random.default_rng(seed), 9)
    combined, result = gate(cells, units)
    assert result.audit["failed"] == 0
    rel = result.release
    hidden = rel[rel["measure"].isin([TOTAL, SOORT]) & (rel["status"] != PUBLISHED)]
    assert len(hidden) > 0
    attack = Attack([public(rel)], parents(units), truth=[truth(combined)])
    keys = [tuple(k) for k in hidden[["level", "unit", "schooljaar", "measure", "category"]].itertuples(index=False)]
    assert narrowed(attack, keys) == []


def test_a_late_swv_submission_narrows_nothing_across_the_two_releases():
    cells, units = _support_region(np.random.default_rng(7), 9)
    late = [c for c in cells if c[0] == "VO2607"]
    first = [c for c in cells if c[0] != "VO2607"]
    combined_1, result_1 = gate(first, units)
    combined_2, result_2 = gate(cells, units, history=[(combined_1, result_1.release)])
    assert result_1.audit["failed"] == 0 and result_2.audit["failed"] == 0
    assert late and any(c[2] == TOTAL for c in late)
    rel = result_2.release
    hidden = rel[rel["measure"].isin([TOTAL, SOORT]) & (rel["status"] != PUBLISHED)]
    attack = Attack([public(result_1.release), public(rel)], parents(units),
                    truth=[truth(combined_1), truth(combined_2)])
    keys = [tuple(k) for k in hidden[["level", "unit", "schooljaar", "measure", "category"]].itertuples(index=False)]
    assert narrowed(attack, keys) == []
