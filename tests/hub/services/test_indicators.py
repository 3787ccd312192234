"""Provider names on the pages: the uploaded table's name, else the one most nodes give; a name only for
a provider with a published cell; "naam onbekend" otherwise, never a code."""

from __future__ import annotations

import pytest

from hub.services import combine, consortia, indicators, nodes, rounds, submissions
from shared.partial import Cell, Partial, ProviderNames
from tests.hub.factories import enrol_node, make_partial

J, EARLIER = "2024-2025", "2023-2024"
#: Per node at school 01AB00 (30 clients each): over three nodes 45 and 30 are published, 3 is not.
COUNTS = {"11000001": 15, "11000002": 10, "11000003": 1}


def _partial(code: str, names: dict[str, str], years: tuple[str, ...] = (J,), counts=COUNTS) -> Partial:
    base = make_partial(code, years)
    cells = tuple(Cell("01AB00", jaar, "clienten_aanbieder", agb, n) for jaar in years for agb, n in counts.items())
    return Partial(base.header, base.cells + cells, base.cost_cells, base.quality, ProviderNames(names))


@pytest.fixture
def region(app, monkeypatch):
    """Three nodes and an open round; combining is left to the test."""
    from hub import jobs

    real = jobs.enqueue
    monkeypatch.setattr(jobs, "enqueue", lambda name, key: True if name == jobs.COMBINE else real(name, key))
    return [enrol_node(code) for code in ("0356", "0321", "0353")], rounds.open_round(J).id


def _send(node, round_id: int, partial: Partial) -> int:
    return submissions.receive(round_id, node.envelope(partial), nodes.get_node(node.code)).submission_id


def _publish(region, names_per_node: list[dict[str, str]]):
    node_list, round_id = region
    for node, names in zip(node_list, names_per_node):
        _send(node, round_id, _partial(node.code, names))
    combine.combine_round(round_id)
    return indicators.load()


def test_the_name_most_nodes_give_wins_and_a_tie_goes_alphabetically(region):
    data = _publish(region, [
        {"11000001": "Zorg Een", "11000002": "Twee B"},
        {"11000001": "Zorg Een", "11000002": "Twee A"},
        {"11000001": "Zorg 1"},
    ])
    assert data.provider_label("11000001") == "Zorg Een"  # two nodes to one
    assert data.provider_label("11000002") == "Twee A"  # one to one: the alphabetically first


def test_the_uploaded_table_wins_over_the_nodes(region):
    consortia.import_csv("aanbieder_agb;aanbieder_naam;consortium\n11000001;Zorg Een (tabel);Lek\n11000002;;Lek\n"
                         .encode(), "tabel.csv")
    data = _publish(region, [{"11000001": "Zorg Een", "11000002": "Twee"}] * 3)
    assert data.provider_label("11000001") == "Zorg Een (tabel)"
    assert data.provider_label("11000002") == "Twee"  # the table has no name for it


def test_a_provider_without_a_published_cell_has_no_name(region):
    """11000003 served a pupil of the region, but its cell is suppressed: its name is nowhere."""
    consortia.import_csv(b"aanbieder_agb;aanbieder_naam;consortium\n11000003;Drie (tabel);Lek\n", "tabel.csv")
    data = _publish(region, [{"11000003": "Drie"}, {"11000003": "Drie"}, {}])
    assert "11000003" not in data.provider_names
    assert data.provider_label("11000003") == indicators.UNKNOWN_PROVIDER == "naam onbekend"
    assert indicators.published_providers(sorted(data.releases.values())) == {"11000001", "11000002"}


def test_without_any_name_the_label_is_naam_onbekend_never_the_code(region):
    data = _publish(region, [{}, {}, {}])
    assert data.provider_names == {}
    assert data.provider_label("11000001") == "naam onbekend"


def test_a_node_naming_a_provider_in_two_school_years_counts_once(region):
    node_list, round_id = region
    earlier = rounds.open_round(EARLIER).id
    both = _partial("0356", {"11000001": "Zorg Z"}, years=(EARLIER, J))
    for rid in (earlier, round_id):
        _send(node_list[0], rid, both)
    _send(node_list[1], round_id, _partial("0321", {"11000001": "Zorg Een"}))
    _send(node_list[2], round_id, _partial("0353", {}))
    combine.combine_round(earlier)
    combine.combine_round(round_id)
    data = indicators.load()
    assert set(data.releases) == {EARLIER, J}
    # one node each: a tie, so the alphabetically first (per submission "Zorg Z" would have had two)
    assert indicators.node_provider_names(sorted(data.releases.values())) == {"11000001": "Zorg Een"}


def test_a_stored_name_a_later_rule_refuses_is_not_shown(region):
    from hub.extensions import db
    from hub.models.submissions import Submission

    node_list, round_id = region
    ids = [_send(n, round_id, _partial(n.code, {"11000001": "Zorg Een"})) for n in node_list]
    for i in ids:  # as if stored under an older, looser door
        db.session.get(Submission, i).provider_names = {"11000001": "=Zorg", "11000002": None}
    db.session.commit()
    combine.combine_round(round_id)
    assert indicators.load().provider_names == {}


def test_provider_names_picks_per_published_provider():
    assert indicators.provider_names({"1": "Tabel"}, {"1": "Node", "2": "Node twee", "3": "Niet"}, {"1", "2", "4"}) == {
        "1": "Tabel", "2": "Node twee"}
