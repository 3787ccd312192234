"""/beheer/rondes shows each overlap exchange of a round and whom it waits for, in Dutch."""

from __future__ import annotations

from hub.extensions import db
from hub.services import nodes, rounds, submissions, users
from tests.hub.conftest import make_app
from tests.hub.factories import SCHOOLJAAR, add_swv, enrol_node
from tests.hub.web.conftest import FAST_HASH
from tests.hub.web.helpers import login

ADMIN = ("beheer@example.org", "een-lang-wachtwoord-voor-tests")


def test_the_rounds_page_shows_the_step_each_exchange_waits_for():
    app = make_app(PASSWORD_HASH_METHOD=FAST_HASH)
    with app.app_context():
        db.create_all()
        users.add_user(*ADMIN, "regio_admin", None, naam="Beheer")
        add_swv()
        swv, gemeente = enrol_node("PO2607"), enrol_node("0356")
        rnd = rounds.open_round(SCHOOLJAAR, expected=["PO2607", "0356"])
        submissions.receive(rnd.id, swv.envelope(), nodes.get_node("PO2607"))
        submissions.receive(rnd.id, gemeente.envelope(), nodes.get_node("0356"))
        client = app.test_client()
        assert login(client, *ADMIN).status_code == 302
        page = client.get("/beheer/rondes").get_data(as_text=True)
    assert "Overlap tussen samenwerkingsverbanden en gemeenten" in page
    assert "wacht op gemeente 0356: versleutelde set" in page
    assert "De eerste publicatie wacht op de overlap-uitwisseling van 0356" in page
