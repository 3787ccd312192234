"""sums.py's combine_cells: sums per vestiging, schooltype and regio; exact top two; the largest node's share."""

from __future__ import annotations

import pandas as pd
import pytest

from hub.disclosure import combine_cells

from .helpers import contributions, cost_row, schools


def _frame():
    cells = [
        ("0356", "01AA00", "clienten", "", 12),
        ("0357", "01AA00", "clienten", "", 5),
        ("0357", "02BB00", "clienten", "", 30),
        ("0356", "GEEN", "clienten", "", 3),
        ("0358", "99ZZ00", "clienten", "", 7),  # not in the reference data
        ("0356", "01AA00", "kosten", "ambulant", 10_000, 3, 6_000, 3_000, 0),
        ("0357", "01AA00", "kosten", "ambulant", 9_000, 2, 5_000, 4_000, 1),
        ("0357", "02BB00", "kosten", "ambulant", 20_000, 2, 15_000, 5_000, 0),
    ]
    return combine_cells(contributions(cells), schools({"01AA00": "BO", "02BB00": "BO"}))


def _get(frame, level, unit, measure, category=""):
    sel = frame[(frame["level"] == level) & (frame["unit"] == unit) & (frame["measure"] == measure) & (frame["category"] == category)]
    assert len(sel) == 1
    return sel.iloc[0]


def test_sums_and_levels():
    c = _frame()
    assert _get(c, "vestiging", "01AA00", "clienten")["value"] == 17
    assert _get(c, "schooltype", "BO", "clienten")["value"] == 47
    assert _get(c, "schooltype", "GEEN", "clienten")["value"] == 3  # the no-school bucket is its own type
    assert _get(c, "schooltype", "onbekend", "clienten")["value"] == 7
    assert _get(c, "regio", "regio", "clienten")["value"] == 57
    assert _get(c, "vestiging", "01AA00", "clienten")["parent"] == "BO"
    assert _get(c, "schooltype", "BO", "clienten")["parent"] == "regio"


def test_top_two_are_exact_across_nodes_and_levels():
    c = _frame()
    v = _get(c, "vestiging", "01AA00", "kosten", "ambulant")
    assert (v["value"], v["contributors"], v["top1"], v["top2"], v["negatives"]) == (19_000, 5, 6_000, 5_000, 1)
    t = _get(c, "schooltype", "BO", "kosten", "ambulant")
    assert (t["top1"], t["top2"], t["nodes"]) == (15_000, 6_000, 2)


def test_absolute_sums_add_up_and_a_refund_ranks_by_its_size():
    cells = [
        cost_row("0356", "01AA00", "ambulant", [6_000, -9_000, 1_000]),  # the refund is the largest amount
        cost_row("0357", "01AA00", "ambulant", [7_000, 2_000]),
        cost_row("0357", "02BB00", "ambulant", [-8_000, 20_000, 500]),
    ]
    c = combine_cells(contributions(cells), schools({"01AA00": "BO", "02BB00": "BO"}))
    v = _get(c, "vestiging", "01AA00", "kosten", "ambulant")
    assert (v["value"], v["abs_sum"], v["top1"], v["top2"], v["negatives"], v["legacy_negatives"]) == (
        7_000, 25_000, 9_000, 7_000, 1, 0)
    t = _get(c, "schooltype", "BO", "kosten", "ambulant")
    assert (t["value"], t["abs_sum"], t["top1"], t["top2"], t["negatives"]) == (19_500, 53_500, 20_000, 9_000, 2)
    r = _get(c, "regio", "regio", "kosten", "ambulant")
    assert (r["abs_sum"], r["top1"], r["top2"]) == (53_500, 20_000, 9_000)
    assert (c["abs_sum"] >= c["value"].abs()).all()


def test_a_schema_1_refund_is_carried_to_every_level_it_feeds():
    cells = [
        ("0356", "01AA00", "kosten", "ambulant", 10_000, 3, 6_000, 3_000, 0),  # no refund: abs_sum is its value
        ("0357", "01AA00", "kosten", "ambulant", 9_000, 2, 5_000, 4_000, 1),  # a refund of unknown size
        cost_row("0357", "02BB00", "ambulant", [15_000, 5_000]),
    ]
    c = combine_cells(contributions(cells), schools({"01AA00": "BO", "02BB00": "BO"}))
    for level, unit in (("vestiging", "01AA00"), ("schooltype", "BO"), ("regio", "regio")):
        assert _get(c, level, unit, "kosten", "ambulant")["legacy_negatives"] == 1
    assert _get(c, "vestiging", "02BB00", "kosten", "ambulant")["legacy_negatives"] == 0
    assert _get(c, "vestiging", "01AA00", "kosten", "ambulant")["abs_sum"] == 19_000  # a lower bound


def test_largest_node_share_is_computed_per_level():
    c = _frame()
    v = _get(c, "vestiging", "01AA00", "clienten")
    assert (v["nodes"], v["max_node_value"]) == (2, 12)
    # At type level node 0357 has 5 + 30 = 35 (its sum over the type), more than 0356's 12.
    t = _get(c, "schooltype", "BO", "clienten")
    assert t["max_node_value"] == 35
    k = _get(c, "schooltype", "BO", "kosten", "ambulant")
    assert k["max_node_contributors"] == 4


def test_deterministic_regardless_of_row_order():
    a = _frame()
    cells = contributions([("0356", "01AA00", "clienten", "", 12), ("0357", "01AA00", "clienten", "", 5)])
    b1 = combine_cells(cells, schools({"01AA00": "BO"}))
    b2 = combine_cells(cells.iloc[::-1].reset_index(drop=True), schools({"01AA00": "BO"}))
    pd.testing.assert_frame_equal(b1, b2)
    assert list(a.columns)[:6] == ["level", "unit", "schooljaar", "measure", "category", "parent"]


def test_missing_columns_are_refused():
    with pytest.raises(ValueError, match="contributors"):
        combine_cells(pd.DataFrame({"node": ["0356"]}), schools({}))
