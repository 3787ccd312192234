"""The release-frame vocabulary (frames.py): partials → contributions, and the frames' column lists."""

from __future__ import annotations

from dataclasses import replace

from hub.disclosure import combine_cells, frames
from shared.codes import KOSTEN
from shared.partial import CostCell, decode_partial, encode_partial
from tests.hub.factories import SCHOOLJAAR, make_partial

from .helpers import TYPES3, gate, schools, three_schools


def test_contributions_from_partials():
    a = make_partial("0356", schooljaren=("2023-2024", "2024-2025"))
    b = make_partial("0321", scale=2)
    frame = frames.contributions([b, a], "2024-2025")
    assert list(frame.columns) == frames.CONTRIBUTION_COLUMNS
    assert set(frame["schooljaar"]) == {"2024-2025"} and set(frame["node"]) == {"0356", "0321"}
    assert all(str(frame[c].dtype) == "int64" for c in frames.CONTRIBUTION_INTS)
    assert frame.equals(frames.sort_contributions(frame.iloc[::-1]))  # canonical order, whatever came first
    counts = frame[frame["measure"] != KOSTEN]
    assert (counts["contributors"] == counts["value"]).all()
    assert (counts[["top1", "top2", "negatives", "abs_sum", "legacy_negatives"]] == 0).all().all()
    costs = frame[(frame["measure"] == KOSTEN) & (frame["node"] == "0356")]
    expected = sorted((c.vestigingscode, c.category, c.value, c.contributors, c.top1, c.top2, c.negatives, c.abs_sum, 0)
                      for c in a.cost_cells if c.schooljaar == "2024-2025")
    got = costs[["vestigingscode", "category", "value", "contributors", "top1", "top2", "negatives", "abs_sum",
                 "legacy_negatives"]]
    assert sorted(got.itertuples(index=False, name=None)) == expected


def test_a_schema_1_partial_becomes_contributions_as_before():
    """No abs_sum: without a refund it is the value; with one the refund's size is unknown (legacy_negatives)."""
    new = make_partial("0356")
    old_header = replace(new.header, schema_version=1)
    old_costs = (CostCell("01AB00", SCHOOLJAAR, "totaal", 1_000_000, 30, 90_000, 80_000, 0),
                 CostCell("02CD00", SCHOOLJAAR, "totaal", 900_000, 37, 90_000, 80_000, 2))
    old = decode_partial(encode_partial(replace(new, header=old_header, cost_cells=old_costs)))
    frame = frames.contributions([old], SCHOOLJAAR)
    costs = frame[frame["measure"] == KOSTEN].set_index("vestigingscode")
    assert (costs.loc["01AB00", "abs_sum"], costs.loc["01AB00", "legacy_negatives"]) == (1_000_000, 0)
    assert (costs.loc["02CD00", "abs_sum"], costs.loc["02CD00", "legacy_negatives"]) == (900_000, 2)


def test_contributions_of_no_partials_is_an_empty_frame_with_the_columns():
    frame = frames.contributions([], "2024-2025")
    assert frame.empty and list(frame.columns) == frames.CONTRIBUTION_COLUMNS


def test_each_frame_has_its_columns():
    combined, result = gate(three_schools({"01": 3, "02": 10, "03": 12}), TYPES3)
    assert list(combined.columns) == frames.COMBINED_COLUMNS
    assert list(result.release.columns) == frames.RELEASE_COLUMNS
    assert set(result.release["status"]) <= {frames.PUBLISHED, frames.PRIMARY, frames.SECONDARY}
    assert list(combine_cells(frames.contributions([], "2024-2025"), schools({})).columns) == frames.COMBINED_COLUMNS


def test_the_public_view_is_the_release_without_why():
    """A reader gets the key, published or suppressed, and a value: never the reason or a flag."""
    assert frames.PUBLIC_COLUMNS[:5] == frames.KEY == frames.RELEASE_COLUMNS[:5]
    assert frames.PUBLIC_COLUMNS == [c for c in frames.RELEASE_COLUMNS if c not in ("reason", "flags")]
    assert frames.SUPPRESSED not in (frames.PRIMARY, frames.SECONDARY)
