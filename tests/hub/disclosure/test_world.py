"""The auditor's world (world.py): what a reader knows per cell, what a hidden cell must keep, and the
variables and bounds over several releases."""

from __future__ import annotations

import numpy as np
import pandas as pd

from hub.disclosure import GateConfig, combine_cells
from hub.disclosure.frames import KEY, PRIMARY, PUBLISHED, SECONDARY
from hub.disclosure.tables import build_table
from hub.disclosure.world import (
    FULL_RANGE, INF, TWO_SIDED, WIDTH, ReleaseState, attacker_bounds, build_world, static_world, targets,
)
from shared.groupings import DEFAULT_GROUPINGS

from .helpers import JAAR, contributions, key, schools


def test_attacker_bounds_are_rounding_windows_for_published_cells_and_zero_up_for_hidden_ones():
    cells = pd.DataFrame({
        "level": ["vestiging"] * 7,
        "measure": ["clienten", "clienten", "clienten", "kosten", "kosten", "kosten", "kosten"],
        "value": [42, 11, 3, 123_456_78, 5_000_00, -2_000_00, 50_00],
        "top1": [0, 0, 0, 10_000_00, 1_000_00, 3_000_00, 10_000_00],
        "legacy_negatives": [0] * 7,
    })
    status = np.array([PUBLISHED, PUBLISHED, PRIMARY, PUBLISHED, SECONDARY, PRIMARY, PRIMARY], dtype=object)
    lo, hi = attacker_bounds(cells, status, GateConfig())
    assert (lo[0], hi[0]) == (38, 42)  # shown as 40: [40 - 2, 40 + 2]
    assert (lo[1], hi[1]) == (10, 12)  # shown as 10, and a published count is >= threshold
    assert (lo[2], hi[2]) == (0, INF)  # hidden: only >= 0, whatever hid it
    assert (lo[3], hi[3]) == (123_450_00, 123_549_99)  # shown as €123,500 (rounded to €100)
    assert (lo[4], hi[4]) == (0, INF)  # hidden, and 0 leaves it its protection of €1,000
    # Hidden costs with refunds: no lower bound a reader could know, but the auditor grants the
    # strongest true one that leaves the cell its protection (10 % of its largest absolute amount).
    assert (lo[5], hi[5]) == (-2_000_00 - 300_00, INF)  # a hidden cost whose true sum is negative
    assert (lo[6], hi[6]) == (50_00 - 1_000_00, INF)  # €50 net: a refund nearly cancels a large payment


def test_targets_are_every_hidden_cell_with_its_requirement():
    cells = pd.DataFrame({
        "level": ["vestiging", "vestiging", "vestiging", "vestiging", "schooltype", "vestiging", "vestiging",
                  "vestiging"],
        "measure": ["clienten", "clienten", "kosten", "kosten", "kosten", "clienten", "kosten", "kosten"],
        "value": [3, 40, 100_000, 50_000, 50_000, 40, 50_000, -30_000],
        "top1": [0, 0, 60_000, 10_000, 10_000, 0, 200_000, 40_000],
        "legacy_negatives": [0, 0, 0, 1, 1, 0, 0, 0],
    })
    status = np.array([PRIMARY, SECONDARY, PRIMARY, PRIMARY, PRIMARY, PUBLISHED, PRIMARY, PRIMARY], dtype=object)
    reason = np.array(["threshold", "complementary", "p_percent", "negative", "negative", "", "p_percent",
                       "negative_sum"], dtype=object)
    is_target, kind, req_lo, req_hi = targets(cells, status, reason, GateConfig())
    assert list(is_target) == [True, True, True, True, True, False, True, True]
    assert list(kind[:5]) == [FULL_RANGE, WIDTH, TWO_SIDED, TWO_SIDED, TWO_SIDED]
    assert (req_lo[0], req_hi[0]) == (0, 9) and (req_lo[1], req_hi[1]) == (0, 9)
    assert (req_lo[2], req_hi[2]) == (94_000, 106_000)  # ± ceil(10 % of the largest amount)
    # A schema-1 refund (size unknown) at school level: the cell's own size stands in for the largest
    # amount; above it, only when the sum itself is negative.
    assert (req_lo[3], req_hi[3]) == (45_000, 55_000)
    assert (req_lo[4], req_hi[4]) == (49_000, 51_000)
    # With absolute amounts the largest is known, a refund included: 10 % of it, even below 0.
    assert (req_lo[6], req_hi[6]) == (30_000, 70_000)
    assert (req_lo[7], req_hi[7]) == (-34_000, -26_000)


def test_a_hidden_cost_keeps_its_own_requirement_within_what_the_reader_is_granted():
    cells = pd.DataFrame({
        "level": ["vestiging"] * 4,
        "measure": ["kosten"] * 4,
        "value": [50_00, -2_000_00, 1_000_000_00, 10],
        "top1": [10_000_00, 3_000_00, 20_000_00, 10],
        "legacy_negatives": [0, 0, 0, 1],
    })
    status = np.array([PRIMARY] * 4, dtype=object)
    reason = np.array(["p_percent", "negative_sum", "complementary", "negative"], dtype=object)
    lo, hi = attacker_bounds(cells, status, GateConfig())
    _, _, req_lo, req_hi = targets(cells, status, reason, GateConfig())
    assert (lo <= req_lo).all() and (hi >= req_hi).all()
    assert lo[2] == 0  # no refund can pull a cost of €1 million below 0 by its protection


def _table(values: dict[str, int]):
    types = {"01AA00": "BO", "02BB00": "BO", "03CC00": "BO"}
    cells = [("0356", v, "clienten", "", n) for v, n in values.items()]
    return build_table(combine_cells(contributions(cells), schools(types)))


def _position(table, k) -> int:
    return int(pd.MultiIndex.from_frame(table.cells[KEY]).get_loc(k))


def test_a_cell_unchanged_between_releases_is_one_variable_and_keeps_what_either_release_showed():
    earlier = _table({"01AA00": 40, "02BB00": 50, "03CC00": 60})
    current = _table({"01AA00": 40, "02BB00": 52, "03CC00": 60})  # a late submission at 02BB00
    static = static_world([current, earlier])
    assert list(static.var_of[0]) == list(range(len(current.cells)))  # the current release first
    same, changed = key("01AA00", "clienten"), key("02BB00", "clienten")
    assert static.var_of[0][_position(current, same)] == static.var_of[1][_position(earlier, same)]
    assert static.var_of[0][_position(current, changed)] != static.var_of[1][_position(earlier, changed)]
    # 02BB00, BO and regio changed: their old values are variables of their own, in no line of the current
    # release, and none of the six is the same in every release. So are the overlap variables
    # (overlap.py) whose true slack the change moved: G_g <= C has slack C - G_g, one per
    # care-intensity group at each of the three units, and N <= C has slack C - N. (C <= L is no
    # relation here: no pupils are given, so its slack would be negative.)
    slack_moved = [(lv, unit, "_overlap", rel) for lv, unit in
                   (("vestiging", "02BB00"), ("schooltype", "BO"), ("regio", "regio"))
                   for rel in [f"gc:{g}" for g in DEFAULT_GROUPINGS.zorgintensiteit.counted_codes()] + ["nc"]]
    for lv, unit, measure, category in slack_moved:
        k = (lv, unit, JAAR, measure, category)
        assert static.var_of[0][_position(current, k)] != static.var_of[1][_position(earlier, k)]
    n_changed = 3 + len(slack_moved)
    n_vars = len(static.arrays["t"])
    assert n_vars == len(current.cells) + n_changed
    assert int((~static.arrays["in_all"]).sum()) == 2 * n_changed
    assert len(static.line_ptr) - 1 == current.n_lines + earlier.n_lines

    # 01AA00 published before and hidden now as a partner: a reader knows it from the earlier release.
    status_now = np.full(len(current.cells), PUBLISHED, dtype=object)
    reason_now = np.full(len(current.cells), "", dtype=object)
    status_now[_position(current, same)], reason_now[_position(current, same)] = SECONDARY, "complementary"
    small = _position(current, key("03CC00", "clienten"))
    status_now[small], reason_now[small] = PRIMARY, "threshold"
    releases = [ReleaseState(current, status_now, reason_now),
                ReleaseState(earlier, np.full(len(earlier.cells), PUBLISHED, dtype=object),
                             np.full(len(earlier.cells), "", dtype=object))]
    world, origin = build_world(releases, GateConfig(), static)
    var = static.var_of[0][_position(current, same)]
    assert (world.lo[var], world.hi[var]) == (38, 42)
    assert var not in world.target_var  # a partner whose value a release published protects nothing
    assert list(world.target_var) == [static.var_of[0][small]] and list(world.target_kind) == [FULL_RANGE]
    assert [tuple(o) for o in origin] == [(0, small)]
