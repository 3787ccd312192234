"""Opening, closing and listing rounds; the admin's round status."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

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
    row = next(n for n in status["nodes"] if n["code"] == "0356")
    assert row["superseded"] == 1 and row["quality"]["files"][0]["name"] == "jeugdhulp.csv"
    # The first publication waits for 0321: nothing is published, and nothing is pending either.
    assert status["current_release"] is None and status["pending"] is False


# --- the calendar: a deadline for the first publication ---------------------------------------

OPENED = datetime(2024, 11, 1, 9, 0, tzinfo=timezone.utc)


def _deadline(rnd):
    return rnd.deadline.replace(tzinfo=rnd.deadline.tzinfo or timezone.utc)  # SQLite hands back naive UTC


def test_a_round_gets_a_deadline_14_days_after_it_is_opened(app):
    enrol_node("0356")
    rnd = rounds.open_round("2024-2025", now=OPENED)
    assert _deadline(rnd) == OPENED + timedelta(days=14)
    assert rounds.round_status(rnd.id).to_dict()["deadline"] == "2024-11-15T09:00:00+00:00"


def test_the_default_deadline_is_a_setting_and_0_means_none(app):
    enrol_node("0356")
    app.config["ROUND_DEADLINE_DAYS"] = 3
    assert _deadline(rounds.open_round("2024-2025", now=OPENED)) == OPENED + timedelta(days=3)
    app.config["ROUND_DEADLINE_DAYS"] = 0
    assert rounds.open_round("2023-2024", now=OPENED).deadline is None


def test_a_deadline_in_days_or_as_the_last_day(app):
    enrol_node("0356")
    assert _deadline(rounds.open_round("2024-2025", deadline_days=30, now=OPENED)) == OPENED + timedelta(days=30)
    assert rounds.open_round("2023-2024", deadline_days=0, now=OPENED).deadline is None
    # A date: through that day, Dutch time (winter: UTC+1, so 23:00 UTC).
    last_day = rounds.open_round("2022-2023", deadline=date(2024, 11, 20), now=OPENED)
    assert _deadline(last_day) == datetime(2024, 11, 20, 23, 0, tzinfo=timezone.utc)


@pytest.mark.parametrize("kwargs", [
    {"deadline": date(2024, 11, 20), "deadline_days": 3},  # both
    {"deadline": date(2024, 10, 31)},  # before the round opens
    {"deadline_days": -1},
])
def test_a_deadline_that_cannot_be(app, kwargs):
    enrol_node("0356")
    with pytest.raises(InputError) as err:
        rounds.open_round("2024-2025", now=OPENED, **kwargs)
    assert err.value.code == "invalid_deadline"
    assert rounds.all_rounds() == []


def test_the_first_publication_stops_waiting_at_the_deadline(app, no_combine):
    a = enrol_node("0356")
    enrol_node("0321")
    rnd = rounds.open_round("2024-2025", now=OPENED)
    submissions.receive(rnd.id, a.envelope(), nodes.get_node("0356"))
    before, after = OPENED + timedelta(days=13), OPENED + timedelta(days=14)
    assert rounds.waiting_for(rnd, now=before) == ["0321"]
    assert rounds.round_status(rnd.id, now=before).pending is False
    assert rounds.waiting_for(rnd, now=after) == []
    status = rounds.round_status(rnd.id, now=after).to_dict()
    # 0321 is still missing, but the round is now due: the sweep publishes it.
    assert status["pending"] is True and status["waiting_for"] == [] and status["missing"] == ["0321"]


def test_a_round_without_a_deadline_waits_for_all_or_its_close(app, no_combine):
    a = enrol_node("0356")
    enrol_node("0321")
    rnd = rounds.open_round("2024-2025", deadline_days=0, now=OPENED)
    submissions.receive(rnd.id, a.envelope(), nodes.get_node("0356"))
    assert rounds.waiting_for(rnd, now=OPENED + timedelta(days=400)) == ["0321"]
    rounds.close_round(rnd.id)
    assert rounds.waiting_for(rnd) == []
