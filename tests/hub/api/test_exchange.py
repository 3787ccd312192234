"""The exchange endpoints: signed node requests, the steps in order, stable PsiError codes (HTTP 400)
for replayed, foreign and out-of-turn sets, and answers that match the OpenAPI document."""

from __future__ import annotations

import pytest

from hub.services import rounds
from shared import psi
from shared.messages import ExchangePoll, ExchangeTask
from tests.hub.api.test_v1 import call
from tests.hub.factories import SCHOOLJAAR, SWV_SCHOOLS, add_swv, enrol_node
from tests.hub.services.test_exchange import SWV, pseudonyms

API = "/api/v1/rounds"


@pytest.fixture
def pair(app, client):
    """An SWV and a municipality that both submitted; the round's one exchange is open."""
    add_swv()
    swv, gemeente = enrol_node(SWV), enrol_node("0356")
    round_id = rounds.open_round(SCHOOLJAAR, expected=[SWV, "0356"]).id
    for node in (swv, gemeente):
        path = f"{API}/{round_id}/submissions"
        data = node.envelope()
        call(client, "POST", path, data=data, headers=node.headers("POST", path, data), content_type="application/json")
    return swv, gemeente, round_id


def poll(client, node, round_id) -> ExchangePoll:
    path = f"{API}/{round_id}/exchanges"
    response, data = call(client, "GET", path, headers=node.headers("GET", path))
    assert response.status_code == 200, data
    return ExchangePoll.from_dict(data)


def send(client, node, round_id, exchange_id, step, body: bytes):
    path = f"{API}/{round_id}/exchanges/{exchange_id}/{step}"
    return call(client, "POST", path, data=body, headers=node.headers("POST", path, body), content_type="application/json")


def peer(client, node, round_id, exchange_id):
    path = f"{API}/{round_id}/exchanges/{exchange_id}/peer"
    return call(client, "GET", path, headers=node.headers("GET", path))


def test_a_whole_exchange_over_the_api(client, pair, admin_headers):
    swv, gemeente, round_id = pair
    sets = {SWV: {"01AB00": pseudonyms("s", 20) + pseudonyms("both", 15)},
            "0356": {"01AB00": pseudonyms("g", 12) + pseudonyms("both", 15), "02CD00": pseudonyms("g2", 11)}}
    states = {}
    (task,) = poll(client, gemeente, round_id).tasks
    assert task.step == "blind" and set(task.schools) == set(SWV_SCHOOLS)
    exchange = psi.Exchange.from_dict(task.exchange)
    for node in (gemeente, swv):
        states[node.code] = psi.new_state(exchange, node.code)
    for node in (gemeente, swv):
        (task,) = poll(client, node, round_id).tasks
        assert task.step == "blind"
        payload = psi.blind(states[node.code], {s: p for s, p in sets[node.code].items() if s in task.schools}).payload
        response, data = send(client, node, round_id, task.exchange_id, "blinded", psi.encode_sets(payload))
        assert response.status_code == 200, data
        ExchangeTask.from_dict(data)
    for node in (gemeente, swv):
        (task,) = poll(client, node, round_id).tasks
        assert task.step == "reblind"
        response, data = peer(client, node, round_id, task.exchange_id)
        assert response.status_code == 200
        answer, states[node.code] = psi.reblind(states[node.code], psi.PsiSets.from_dict(data))
        response, data = send(client, node, round_id, task.exchange_id, "reblinded", psi.encode_sets(answer))
        assert response.status_code == 200, data
    assert data["step"] == "done" and data["status"] == "geteld (1 school)"
    _, status = call(client, "GET", f"{API}/{round_id}", headers=admin_headers)
    (entry,) = status["exchanges"]
    assert entry["status"] == "counted" and entry["schools_counted"] == 1
    assert status["current_release"] is not None  # the count let the first publication go out
    from hub.services.overlap import counts_frame

    frame = counts_frame(round_id, [entry["swv_submission_id"], entry["gemeente_submission_id"]])
    assert list(zip(frame["vestigingscode"], frame["beide"])) == [("01AB00", 15)]


def test_replayed_foreign_and_out_of_turn_sets_get_their_code(client, pair):
    swv, gemeente, round_id = pair
    other = enrol_node("0321")
    (task,) = poll(client, gemeente, round_id).tasks
    exchange = psi.Exchange.from_dict(task.exchange)
    mine = {"01AB00": pseudonyms("g", 12)}
    good = psi.blind(psi.new_state(exchange, "0356"), mine).payload
    replay = psi.Exchange(**{**exchange.to_dict(), "round_id": round_id + 7})
    cases = [
        (gemeente, psi.blind(psi.new_state(replay, "0356"), mine).payload, "psi_replay"),  # another round
        (other, good, "psi_foreign_set"),  # not a party of the exchange
        (swv, psi.blind(psi.new_state(exchange, SWV), {"01AB00": pseudonyms("s", 12)}).payload,
         "psi_wrong_step"),  # the SWV before the municipality
    ]
    for node, payload, code in cases:
        response, data = send(client, node, round_id, task.exchange_id, "blinded", psi.encode_sets(payload))
        assert (response.status_code, data["error"]["code"]) == (400, code)
    response, data = send(client, gemeente, round_id, task.exchange_id, "blinded", b"not json")
    assert (response.status_code, data["error"]["code"]) == (400, "psi_bad_payload")
    response, _ = send(client, gemeente, round_id, task.exchange_id, "blinded", psi.encode_sets(good))
    assert response.status_code == 200
    response, data = send(client, swv, round_id, task.exchange_id, "blinded", psi.encode_sets(good))
    assert (response.status_code, data["error"]["code"]) == (400, "psi_foreign_set")  # its set sent back
    response, data = peer(client, gemeente, round_id, task.exchange_id)
    assert (response.status_code, data["error"]["code"]) == (400, "psi_wrong_step")  # nothing to fetch yet


def test_an_unsigned_poll_is_refused_and_an_unknown_exchange_is_404(client, pair):
    swv, _, round_id = pair
    response, data = call(client, "GET", f"{API}/{round_id}/exchanges")
    assert (response.status_code, data["error"]["code"]) == (401, "unauthorised")
    response, data = send(client, swv, round_id, "PO2607-0999-1-2", "blinded", b"{}")
    assert (response.status_code, data["error"]["code"]) == (404, "exchange_not_found")
