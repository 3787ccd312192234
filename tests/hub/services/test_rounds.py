"""Opening, closing and listing rounds; the admin's round status."""

from __future__ import annotations

from datetime import date

import pytest

from hub.services import nodes, rounds, submissions
from shared.errors import ConflictError, InputError, NotFoundError
from tests.hub.factories import enrol_node


def test_open_with_explicit_peildatum_and_nodes(app):
    enrol_node("0356")
    enrol_node("0321")
    rnd = rounds.open_round("2023-2024", date(2024, 1, 15), ["321"])
    assert (rnd.schooljaar, rnd.peildatum, rnd.expected_nodes, rnd.status) == ("2023-2024", date(2024, 1, 15), ["0321"], "open")


@pytest.mark.parametrize(
    "schooljaar, peildatum, code",
    [("2024/2025", None, "invalid_schooljaar"), ("2024-2026", None, "invalid_schooljaar"), ("2024-2025", date(2025, 9, 1), "invalid_peildatum")],
)
def test_open_rejects_bad_input(app, schooljaar, peildatum, code):
    enrol_node("0356")
    with pytest.raises(InputError) as err:
        rounds.open_round(schooljaar, peildatum)
    assert err.value.code == code


def test_open_needs_known_active_nodes(app):
    enrol_node("0356")
    with pytest.raises(NotFoundError) as err:
        rounds.open_round("2024-2025", expected=["0365"])
    assert err.value.code == "node_not_found"
    nodes.revoke_node("0356")
    with pytest.raises(InputError) as err:
        rounds.open_round("2024-2025")
    assert err.value.code == "no_expected_nodes"


def test_one_open_round_per_schooljaar(app):
    enrol_node("0356")
    first = rounds.open_round("2024-2025")
    with pytest.raises(ConflictError) as err:
        rounds.open_round("2024-2025")
    assert err.value.code == "round_exists"
    rounds.close_round(first.id)
    assert rounds.open_round("2024-2025").id != first.id


def test_close_twice(app):
    enrol_node("0356")
    rnd = rounds.open_round("2024-2025")
    rounds.close_round(rnd.id)
    with pytest.raises(ConflictError) as err:
        rounds.close_round(rnd.id)
    assert err.value.code == "round_closed"
    with pytest.raises(NotFoundError):
        rounds.close_round(12345)


def test_node_sees_only_its_rounds_with_submitted_flag(app, no_combine):
    a = enrol_node("0356")
    enrol_node("0321")
    mine = rounds.open_round("2024-2025")
    other = rounds.open_round("2023-2024", expected=["0321"])
    submissions.receive(mine.id, a.envelope(), nodes.get_node("0356"))

    seen = rounds.list_rounds("open", nodes.get_node("0356"))
    assert [(r.id, r.submitted) for r in seen] == [(mine.id, True)]
    assert [r.id for r in rounds.list_rounds("open", nodes.get_node("0321"))] == [mine.id, other.id]
    assert rounds.list_rounds("closed", nodes.get_node("0321")) == []
    with pytest.raises(InputError):
        rounds.list_rounds("half-open")


def test_round_status_shows_missing_nodes_and_quality(app):
    a = enrol_node("0356")
    enrol_node("0321")
    rnd = rounds.open_round("2024-2025")
    submissions.receive(rnd.id, a.envelope(), nodes.get_node("0356"))
    submissions.receive(rnd.id, a.envelope(scale=2), nodes.get_node("0356"))

    status = rounds.round_status(rnd.id).to_dict()
    assert status["submitted"] == ["0356"] and status["missing"] == ["0321"]
    row = next(n for n in status["nodes"] if n["gemeentecode"] == "0356")
    assert row["superseded"] == 1 and row["quality"]["files"][0]["name"] == "jeugdhulp.csv"
    # The first publication waits for 0321: nothing is published, and nothing is pending either.
    assert status["current_release"] is None and status["pending"] is False
