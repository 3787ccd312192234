"""The release-frame vocabulary (frames.py): partials → contributions, and the frames' column lists."""

from __future__ import annotations

from hub.disclosure import combine_cells, frames
from shared.codes import KOSTEN
from tests.hub.factories import make_partial

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
    assert (counts[["top1", "top2", "negatives"]] == 0).all().all()
    costs = frame[(frame["measure"] == KOSTEN) & (frame["node"] == "0356")]
    expected = sorted((c.vestigingscode, c.category, c.value, c.contributors, c.top1, c.top2, c.negatives)
                      for c in a.cost_cells if c.schooljaar == "2024-2025")
    got = costs[["vestigingscode", "category", "value", "contributors", "top1", "top2", "negatives"]]
    assert sorted(got.itertuples(index=False, name=None)) == expected


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
