"""The catalogue (tables.py): which cells a release has, and the additive lines that bind them."""

from __future__ import annotations

import numpy as np
import pandas as pd

from hub.disclosure import combine_cells
from hub.disclosure.frames import KEY, LEVELS
from hub.disclosure.overlap import DISTINCT_FAMILY, OVERLAP
from hub.disclosure.tables import DEFAULT_CATALOGUE, FIXED_COST_CELLS, build_table

from .helpers import contributions, key, schools

TYPES = {"01AA00": "BO", "02BB00": "BO"}


def _table(cells):
    return build_table(combine_cells(contributions(cells), schools(TYPES)))


def _new_clients(verwijzer: int):
    """01AA00: 10 new clients, all aged 9-11, of whom ``verwijzer`` have referrer 01."""
    return [("0356", "01AA00", "clienten", "", 30), ("0356", "01AA00", "clienten_aanbieder", "P1", 30),
            ("0356", "02BB00", "clienten", "", 20), ("0356", "01AA00", "nieuwe_clienten", "", 10),
            ("0356", "01AA00", "nieuwe_clienten_verwijzer", "01", verwijzer),
            ("0356", "01AA00", "nieuwe_clienten_leeftijd", "9-11", 10)]


def test_every_unit_gets_the_fixed_cells_and_provider_cells_exist_only_where_nonzero():
    table = _table(_new_clients(10))
    everything = table.cells
    # The auditor's overlap variables (overlap.py, tested there) are no catalogue cells.
    cells = everything[everything["measure"] != OVERLAP]
    fixed = DEFAULT_CATALOGUE.fixed_count_cells()  # the fine lists and the care-intensity groups
    assert {("clienten_zorgintensiteit", g) for g in ("basis", "specialistisch", "verblijf-crisis")} <= set(fixed)
    per_unit = cells.groupby(["level", "unit"]).size().to_dict()
    # 01AA00, BO and regio have the provider's cell too; 02BB00 was not served by P1.
    assert per_unit == {("vestiging", "01AA00"): len(fixed) + 1, ("vestiging", "02BB00"): len(fixed),
                        ("schooltype", "BO"): len(fixed) + 1, ("regio", "regio"): len(fixed) + 1}
    assert set(zip(cells.loc[cells["unit"] == "02BB00", "measure"], cells.loc[cells["unit"] == "02BB00", "category"])) == set(fixed)
    assert not (cells["measure"] == "kosten").any()  # no cost data this school year: no cost cells
    assert list(pd.unique(cells["level"])) == list(LEVELS)
    with_costs = _table(_new_clients(10) + [("0356", "02BB00", "kosten", "totaal", 50_000_00, 20, 9_000_00, 8_000_00, 0)])
    costs = with_costs.cells[with_costs.cells["measure"] == "kosten"]
    assert costs.groupby(["level", "unit"]).size().eq(len(FIXED_COST_CELLS)).all() and len(costs) == 4 * len(FIXED_COST_CELLS)


def _row_lines_with_total(table, total_key) -> list[set[str]]:
    """The measures of the parts of every additive line (no inequality of overlap.py) whose total is the
    cell ``total_key``."""
    index = pd.MultiIndex.from_frame(table.cells[KEY])
    total = int(index.get_loc(total_key))
    measure = table.cells["measure"].to_numpy()
    out = []
    for line in range(table.n_lines):
        members, coefs = table.members(line)
        if total in members[coefs < 0] and not (measure[members] == OVERLAP).any():
            out.append(set(table.cells["measure"].to_numpy()[members[coefs > 0]]))
    return out


def test_every_line_holds_and_a_row_that_does_not_add_up_is_no_line():
    consistent, inconsistent = _table(_new_clients(10)), _table(_new_clients(8))
    for table in (consistent, inconsistent):
        value = table.cells["value"].to_numpy(np.int64)
        residual = np.add.reduceat(table.line_coef.astype(np.int64) * value[table.line_idx], table.line_ptr[:-1])
        assert (residual == 0).all()
    total = key("01AA00", "nieuwe_clienten")
    assert sorted(map(sorted, _row_lines_with_total(consistent, total))) == [["nieuwe_clienten_leeftijd"],
                                                                               ["nieuwe_clienten_verwijzer"]]
    # 8 referred of 10: the referrer row is inconsistent, so the attacker is not handed it as a fact.
    assert _row_lines_with_total(inconsistent, total) == [{"nieuwe_clienten_leeftijd"}]


def test_families_share_no_line():
    table = _table(_new_clients(10))
    family = table.cells["family"].to_numpy()
    for line in range(table.n_lines):
        members, _ = table.members(line)
        assert len(set(family[members])) == 1
    assert (table.cells["measure"] == OVERLAP).any()  # the overlap lines are among the lines checked
    new = table.cells["measure"].str.startswith("nieuwe_clienten")
    # The distinct counts, their overlap variables, the new clients' rows and the pupils are one family:
    # their inequalities (N <= C <= L, overlap.py) bind them all ...
    distinct = table.cells["measure"].isin(DISTINCT_FAMILY) | new
    assert set(table.cells.loc[distinct, "measure"]) == {
        "clienten", "clienten_zorgtype", "clienten_zorgintensiteit", "clienten_aanbieder", OVERLAP, "leerlingen",
        "jeugdbescherming", "jeugdreclassering", "nieuwe_clienten", "nieuwe_clienten_verwijzer",
        "nieuwe_clienten_leeftijd"}
    assert table.cells.loc[distinct, "family"].nunique() == 1
    # ... and any other measure remains a family of its own.
    others = table.cells[~distinct & ~new]
    assert others.groupby("measure")["family"].nunique().eq(1).all()
    assert others["family"].nunique() == others["measure"].nunique()
    assert not set(others["family"]) & set(table.cells.loc[distinct | new, "family"])
