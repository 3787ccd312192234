"""``jeugdhub round …`` and ``jeugdhub release …`` over a small region."""

from __future__ import annotations

import json

import pytest

from hub.services import nodes, submissions
from tests.hub.factories import enrol_node


def run(app, *args):
    return app.test_cli_runner().invoke(args=list(args))


@pytest.fixture
def region(app):
    return enrol_node("0356"), enrol_node("0321")


def test_open_list_status_close(app, region):
    a, _ = region
    result = run(app, "round", "open", "2024-2025", "--peildatum", "2024-10-01", "--node", "0356", "--node", "0321")
    assert result.exit_code == 0 and "Ronde 1 geopend" in result.output
    assert "2024-2025" in run(app, "round", "list").output
    submissions.receive(1, a.envelope(), nodes.get_node("0356"))
    status = run(app, "round", "status", "1")
    assert "ONTBREEKT" in status.output and "jeugdhulp.csv: 97/100 gebruikt" in status.output
    data = json.loads(run(app, "round", "status", "1", "--json").output)
    assert data["missing"] == ["0321"]
    assert "gesloten" in run(app, "round", "close", "1").output
    again = run(app, "round", "close", "1")
    assert again.exit_code == 75 and "al gesloten" in again.output


@pytest.mark.parametrize(
    "args, fragment",
    [
        (["round", "open", "2024"], "JJJJ-JJJJ"),
        (["round", "open", "2024-2025", "--peildatum", "1-10-2024"], "geen datum"),
        (["round", "status", "7"], "bestaat niet"),
    ],
)
def test_round_user_errors(app, region, args, fragment):
    result = run(app, *args)
    assert result.exit_code != 0 and fragment in result.output and "Traceback" not in result.output


def test_release_list_show_rebuild(app, region):
    a, b = region
    run(app, "round", "open", "2024-2025")
    submissions.receive(1, a.envelope(), nodes.get_node("0356"))
    submissions.receive(1, b.envelope(), nodes.get_node("0321"))  # the first publication waits for both
    submissions.receive(1, a.envelope(scale=2), nodes.get_node("0356"))  # a correction: version 2
    listing = run(app, "release", "list")
    assert listing.exit_code == 0 and "*   2" in listing.output and "0321,0356" in listing.output
    show = run(app, "release", "show", "2")
    assert show.exit_code == 0 and "regio" in show.output and "leerlingen" in show.output
    shown = json.loads(run(app, "release", "show", "1", "--json", "--level", "vestiging").output)
    assert all(c["value"] is None for c in shown["cells"] if c["status"] != "published")
    rebuilt = run(app, "release", "rebuild", "2")
    assert rebuilt.exit_code == 0 and "Gelijk" in rebuilt.output
    assert "al actueel" in run(app, "round", "combine", "1").output


def test_rebuild_reports_a_difference(app, region, monkeypatch):
    a, b = region
    run(app, "round", "open", "2024-2025")
    submissions.receive(1, a.envelope(), nodes.get_node("0356"))
    submissions.receive(1, b.envelope(), nodes.get_node("0321"))
    from hub.extensions import db
    from hub.models.releases import Release

    release = db.session.get(Release, 1)
    release.digest = "0" * 64  # as if the stored release had been altered
    db.session.commit()
    result = run(app, "release", "rebuild", "1")
    assert result.exit_code == 1 and "VERSCHIL" in result.output


def test_status_shows_a_quarantined_submission(app, region):
    from tests.hub.factories import store_unchecked

    a, b = region
    run(app, "round", "open", "2024-2025")
    store_unchecked(b, 1, lambda o: o["cells"].append(["03EF00", "2024-2025", "clienten", "", 10**20]))
    submissions.receive(1, a.envelope(), nodes.get_node("0356"))  # combines: 0321's submission is set aside
    status = run(app, "round", "status", "1")
    assert status.exit_code == 0 and "0321" in status.output
    line = next(x for x in status.output.splitlines() if "0321" in x)
    assert "NIET GEBRUIKT" in line and "cell_out_of_range" in line and "03EF00" in line
    data = json.loads(run(app, "round", "status", "1", "--json").output)
    assert data["quarantined"] == ["0321"] and data["pending"] is False


# --- the calendar ------------------------------------------------------------------------------


def test_open_with_a_deadline(app, region):
    from hub.services.rounds import get_round

    default = run(app, "round", "open", "2024-2025")
    assert default.exit_code == 0 and "eerste publicatie uiterlijk" in default.output
    last_day = run(app, "round", "open", "2023-2024", "--deadline", "2099-11-20")
    assert last_day.exit_code == 0 and "eerste publicatie uiterlijk 21-11-2099 00:00" in last_day.output
    days = run(app, "round", "open", "2022-2023", "--deadline-days", "0")
    assert days.exit_code == 0 and "geen termijn" in days.output and get_round(3).deadline is None
    listing = json.loads(run(app, "round", "list", "--json").output)
    assert [r["deadline"] is not None for r in listing] == [True, True, False]
    assert "termijn 21-11-2099 00:00" in run(app, "round", "list").output


@pytest.mark.parametrize("args, fragment", [
    (["--deadline", "20-11-2099"], "geen datum"),
    (["--deadline", "2099-11-20", "--deadline-days", "3"], "niet allebei"),
    (["--deadline", "2000-01-01"], "ligt niet na het openen"),
    (["--deadline-days", "-1"], "-1"),
])
def test_open_refuses_a_deadline_that_cannot_be(app, region, args, fragment):
    result = run(app, "round", "open", "2024-2025", *args)
    assert result.exit_code != 0 and fragment in result.output and "Traceback" not in result.output
    assert "al een open ronde" not in run(app, "round", "open", "2024-2025").output  # nothing was opened


def test_status_says_whom_the_first_publication_waits_for_and_until_when(app, region):
    a, _ = region
    run(app, "round", "open", "2024-2025", "--deadline", "2099-11-20")
    submissions.receive(1, a.envelope(), nodes.get_node("0356"))
    status = run(app, "round", "status", "1").output
    assert "De eerste publicatie wacht op de inzending van 0321, uiterlijk tot de termijn (21-11-2099 00:00)" in status
    assert json.loads(run(app, "round", "status", "1", "--json").output)["deadline"] == "2099-11-20T23:00:00+00:00"


def test_combine_forces_the_first_publication_and_is_in_the_audit_log(app, region):
    from hub.services import audit

    a, _ = region
    run(app, "round", "open", "2024-2025")
    submissions.receive(1, a.envelope(), nodes.get_node("0356"))  # waits for 0321
    result = run(app, "round", "combine", "1")
    assert result.exit_code == 0 and "nieuwe release 1" in result.output
    (line,) = audit.all_lines()
    assert (line.action, line.result) == ("admin", "ok") and line.actor.startswith("cli")
    assert line.target == "ronde 1 samengevoegd door beheerder: versie 1 (eerste publicatie, vóór de termijn, zonder 0321)"


def test_status_lists_the_schools_a_correction_holds_back(app, region):
    from tests.hub.factories import enrol_node, make_partial, with_own_school

    a, b = region
    late = enrol_node("0307")
    run(app, "round", "open", "2024-2025", "--node", "0356", "--node", "0321")
    submissions.receive(1, a.envelope(), nodes.get_node("0356"))
    submissions.receive(1, b.envelope(), nodes.get_node("0321"))  # the first publication
    submissions.receive(1, late.envelope(with_own_school(make_partial("0307"))), nodes.get_node("0307"))  # a correction
    status = run(app, "round", "status", "1")
    assert status.exit_code == 0 and "versie 2" in status.output
    line = next(x for x in status.output.splitlines() if x.startswith("Achtergehouden"))
    assert "09XY00" in line and "volgende schooljaar" in line
    data = json.loads(run(app, "round", "status", "1", "--json").output)
    assert data["held_back"] == ["09XY00"] and data["held_back_reason"]


def test_the_waiting_line_tells_submissions_from_exchanges_and_a_correction_from_a_first_publication():
    from hub.cli.round import waiting_line

    first = {"waiting_submissions": ["0321"], "waiting_exchanges": ["PO2607"], "current_release": None, "deadline": None}
    assert waiting_line(first) == ("De eerste publicatie wacht op de inzending van 0321 en de overlap-uitwisseling "
                                   "van PO2607, (geen termijn)")
    correction = {"waiting_submissions": [], "waiting_exchanges": ["0356", "PO2607"], "current_release": {"id": 3},
                  "deadline": "2099-11-20T23:00:00+00:00"}
    assert waiting_line(correction) == "De correctie wacht nog even op de overlap-uitwisseling van 0356, PO2607"
