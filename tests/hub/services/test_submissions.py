"""Receiving submissions: every rejection stores nothing; duplicates and supersession."""

from __future__ import annotations

import base64
import json
from datetime import date

import pytest
from sqlalchemy import select

from hub.extensions import db
from hub.models.submissions import Submission
from hub.services import nodes, rounds, submissions
from shared.errors import JeugdhubError
from shared.partial import SCHEMA_VERSION, canonical_json
from shared.signing import SIGNING_CONTEXT, SignedEnvelope, generate_signing_key, sign_partial
from hub.jobs import enqueue as REAL_ENQUEUE
from tests.hub.conftest import row_counts
from tests.hub.factories import SWV_CODE, add_swv, enrol_node, make_partial, make_swv_partial, signed_payload


@pytest.fixture
def setup(app, no_combine):
    a = enrol_node("0356")
    b = enrol_node("0321")
    rnd = rounds.open_round("2024-2025")
    return a, b, rnd


def _reject(round_id, data, node, code):
    before = row_counts()
    with pytest.raises(JeugdhubError) as err:
        submissions.receive(round_id, data, node)
    assert err.value.code == code, err.value.message
    assert row_counts() == before, "a rejected upload must store nothing"
    return err.value


def _node(code):
    return nodes.get_node(code)


def _resign(payload_obj, key) -> bytes:
    """Sign a hand-made payload (to test what the hub does with partials the shared code refuses)."""
    payload = canonical_json(payload_obj)
    from shared.signing import key_id

    return SignedEnvelope(key_id(key), payload, key.sign(SIGNING_CONTEXT + payload)).to_bytes()


def test_accepts_a_valid_submission(setup, no_combine):
    a, _, rnd = setup
    receipt = submissions.receive(rnd.id, a.envelope(), _node("0356"))
    assert no_combine == [rnd.id]  # asked for after the commit
    assert receipt.status == "accepted" and receipt.supersedes is None
    sub = db.session.get(Submission, receipt.submission_id)
    assert sub.envelope == a.envelope() and sub.status == "current"
    assert sub.quality["files"][0]["rows_read"] == 100
    assert receipt.digest == SignedEnvelope.from_bytes(sub.envelope).digest


def test_tampered_envelope_is_rejected(setup):
    a, _, rnd = setup
    obj = json.loads(a.envelope())
    payload = json.loads(base64.b64decode(obj["payload"]))
    payload["cells"][0][4] += 1  # one count changed after signing
    obj["payload"] = base64.b64encode(canonical_json(payload)).decode()
    _reject(rnd.id, json.dumps(obj).encode(), _node("0356"), "bad_signature")


def test_replay_is_a_duplicate_stored_once(setup):
    a, _, rnd = setup
    env = a.envelope()
    first = submissions.receive(rnd.id, env, _node("0356"))
    before = row_counts()
    again = submissions.receive(rnd.id, env, _node("0356"))
    assert again.status == "duplicate" and again.submission_id == first.submission_id
    assert row_counts() == before


def test_partial_of_another_municipality_signed_by_the_sender(setup):
    a, _, rnd = setup
    # 0356 signs a partial that claims to be 0321's.
    env = sign_partial(make_partial("0321"), a.key).to_bytes()
    _reject(rnd.id, env, _node("0356"), "wrong_node")


def test_envelope_signed_by_another_nodes_key(setup):
    _, b, rnd = setup
    # 0321's genuine partial, sent by 0356.
    _reject(rnd.id, b.envelope(), _node("0356"), "wrong_node")


def test_unknown_and_revoked_keys(setup):
    a, _, rnd = setup
    stranger = generate_signing_key()
    _reject(rnd.id, sign_partial(make_partial("0356"), stranger).to_bytes(), _node("0356"), "unknown_key")
    nodes.revoke_key(a.key_id)
    _reject(rnd.id, a.envelope(), None, "unknown_key")


def test_revoked_node_is_rejected(setup):
    a, _, rnd = setup
    nodes.revoke_node("0356")
    _reject(rnd.id, a.envelope(), None, "node_revoked")


def test_closed_and_missing_rounds(setup):
    a, _, rnd = setup
    _reject(9999, a.envelope(), _node("0356"), "round_not_found")
    rounds.close_round(rnd.id)
    _reject(rnd.id, a.envelope(), _node("0356"), "round_closed")


def test_wrong_schooljaar(setup):
    a, _, rnd = setup
    _reject(rnd.id, a.envelope(schooljaren=("2023-2024",)), _node("0356"), "wrong_schooljaar")


def test_wrong_peildatum(setup):
    a, _, rnd = setup
    env = a.envelope(peildata={"2024-2025": "2025-01-15"})
    _reject(rnd.id, env, _node("0356"), "wrong_peildatum")


def test_oversized(setup, app):
    a, _, rnd = setup
    env = a.envelope()
    app.config["SUBMISSION_MAX_BYTES"] = len(env) - 1
    _reject(rnd.id, env, _node("0356"), "payload_too_large")


@pytest.mark.parametrize(
    "data", [b"", b"garbage", b"\xff\xfe\x00", b"[]", b'{"format": "something-else"}', b'{"format": "jeugdhub.signed-partial"}']
)
def test_garbage(setup, data):
    _, _, rnd = setup
    _reject(rnd.id, data, _node("0356"), "bad_envelope")


def test_unsupported_schema_version(setup):
    a, _, rnd = setup
    obj = make_partial("0356").to_dict()
    obj["header"]["schema_version"] = SCHEMA_VERSION + 1
    _reject(rnd.id, _resign(obj, a.key), _node("0356"), "unsupported_schema")


def test_bad_cells_and_bad_partials(setup):
    a, _, rnd = setup
    obj = make_partial("0356").to_dict()
    obj["cells"][0][4] = -3
    _reject(rnd.id, _resign(obj, a.key), _node("0356"), "bad_cell")
    obj = make_partial("0356").to_dict()
    del obj["header"]
    _reject(rnd.id, _resign(obj, a.key), _node("0356"), "bad_partial")


def test_a_corrected_partial_supersedes_and_keeps_the_old_one(setup):
    a, _, rnd = setup
    first = submissions.receive(rnd.id, a.envelope(), _node("0356"))
    second = submissions.receive(rnd.id, a.envelope(scale=2, created_at="2024-11-02T10:00:00Z"), _node("0356"))

    assert second.status == "accepted" and second.supersedes == first.submission_id
    old, new = db.session.scalars(select(Submission).order_by(Submission.id)).all()
    assert (old.status, old.superseded_by_id) == ("superseded", new.id)
    assert new.status == "current"
    assert [s.id for s in submissions.current_submissions(rnd.id)] == [new.id]
    # Replaying the superseded bytes does not bring them back.
    assert submissions.receive(rnd.id, a.envelope(), _node("0356")).status == "duplicate"
    assert [s.id for s in submissions.current_submissions(rnd.id)] == [new.id]


def test_same_partial_resigned_after_rotation_is_a_duplicate(setup):
    a, _, rnd = setup
    partial = make_partial("0356")
    first = submissions.receive(rnd.id, sign_partial(partial, a.key).to_bytes(), _node("0356"))
    from shared.messages import EnrolmentRequest
    from shared.signing import public_key_pem

    new_key = generate_signing_key()
    nodes.enrol(EnrolmentRequest(nodes.rotate_key("0356"), "0356", public_key_pem(new_key), "t"))
    again = submissions.receive(rnd.id, sign_partial(partial, new_key).to_bytes(), _node("0356"))
    assert again.status == "duplicate" and again.submission_id == first.submission_id


def test_manual_upload_resolves_the_node_from_the_key(setup):
    _, b, rnd = setup
    receipt = submissions.receive(rnd.id, b.envelope(), None, source="upload")
    sub = db.session.get(Submission, receipt.submission_id)
    assert sub.node.code == "0321" and sub.source == "upload"


def test_cell_count_only_counts_the_rounds_schooljaar(setup):
    a, _, rnd = setup
    receipt = submissions.receive(rnd.id, a.envelope(schooljaren=("2023-2024", "2024-2025")), _node("0356"))
    sub = db.session.get(Submission, receipt.submission_id)
    assert sub.cell_count == len(make_partial("0356").cells) + len(make_partial("0356").cost_cells)


def test_broker_failure_does_not_fail_the_upload(setup, monkeypatch, caplog):
    a, b, rnd = setup
    import hub.jobs
    import hub.tasks

    def broken(*args, **kwargs):
        raise ConnectionError("redis://:s3cret@broker:6379 unreachable")

    monkeypatch.setattr(hub.jobs, "enqueue", REAL_ENQUEUE)
    monkeypatch.setattr(hub.tasks.combine_round, "apply_async", broken)
    receipt = submissions.receive(rnd.id, a.envelope(), _node("0356"))
    assert receipt.status == "accepted"
    assert db.session.get(Submission, receipt.submission_id) is not None
    submissions.receive(rnd.id, b.envelope(), _node("0321"))  # the round is complete: it is pending
    assert "s3cret" not in caplog.text
    from hub.services.combine import pending_rounds

    assert pending_rounds() == [rnd.id]


def test_round_defaults(app):
    enrol_node("0356")
    rnd = rounds.open_round("2024-2025")
    assert rnd.peildatum == date(2024, 10, 1) and rnd.expected_nodes == ["0356"]


def test_the_provider_names_of_the_rounds_school_year_are_stored(setup):
    """Names go with the submission, but only for codes with a provider cell in the round's year."""
    from shared.partial import Cell, Partial, ProviderNames

    a, _, rnd = setup
    base = make_partial("0356", ("2023-2024", "2024-2025"))
    cells = (Cell("01AB00", "2024-2025", "clienten_aanbieder", "11000001", 3),
             Cell("01AB00", "2023-2024", "clienten_aanbieder", "11000009", 2))
    partial = Partial(base.header, base.cells + cells, base.cost_cells, base.quality,
                      ProviderNames({"11000001": "Zorg Een", "11000009": "Zorg Vorig Jaar"}))
    sub = db.session.get(Submission, submissions.receive(rnd.id, a.envelope(partial), _node("0356")).submission_id)
    assert sub.provider_names == {"11000001": "Zorg Een"}
    plain = db.session.get(Submission, submissions.receive(rnd.id, a.envelope(), _node("0356")).submission_id)
    assert plain.provider_names == {}


def test_a_name_for_a_provider_without_a_cell_is_refused_and_stores_nothing(setup):
    a, _, rnd = setup
    obj = make_partial("0356").to_dict()
    obj["providers"] = {"11000001": "Zorg Een"}  # the partial has no provider cell at all
    err = _reject(rnd.id, _resign(obj, a.key), _node("0356"), "bad_providers")
    assert err.details["field"] == "providers.11000001"


# --- an SWV's partial ------------------------------------------------------------------------------


@pytest.fixture
def swv(app, no_combine):
    add_swv()
    a = enrol_node("0356")
    s = enrol_node(SWV_CODE)
    rnd = rounds.open_round("2024-2025")
    return a, s, rnd


def test_an_swv_partial_is_accepted_and_the_round_expects_the_swv_too(swv):
    a, s, rnd = swv
    assert rnd.expected_nodes == ["0356", SWV_CODE]
    receipt = submissions.receive(rnd.id, s.envelope(), _node(SWV_CODE))
    assert receipt.status == "accepted"
    sub = db.session.get(Submission, receipt.submission_id)
    assert sub.node.kind == "swv" and sub.quality["files"][0]["kind"] == "ondersteuning"


def test_an_swv_may_send_its_own_schools_only(swv):
    _, s, rnd = swv
    outside = make_swv_partial(groups={"01AB00": {"arrangement": 12}, "08XY00": {"opp": 3}})
    err = _reject(rnd.id, s.envelope(outside), _node(SWV_CODE), "school_outside_swv")
    assert "08XY00" in err.message and err.details["field"].startswith("cells[")


def test_neither_kind_of_node_sends_the_other_kinds_partial(swv):
    a, s, rnd = swv
    # The SWV signs a municipality's partial naming it (its measures refused at the door) ...
    from dataclasses import replace

    p = make_partial("0356")
    as_swv = replace(p, header=replace(p.header, node=SWV_CODE, kind="swv"))
    data, _ = signed_payload(s, as_swv.to_dict())
    _reject(rnd.id, data, _node(SWV_CODE), "measure_not_for_node")
    # ... and a municipality's key on an SWV's partial is another node's partial.
    _reject(rnd.id, a.envelope(make_swv_partial()), _node("0356"), "wrong_node")


def test_the_round_gives_an_swv_node_its_schools_and_a_municipality_none(swv):
    a, s, rnd = swv
    [for_swv] = rounds.list_rounds("open", _node(SWV_CODE))
    [for_gemeente] = rounds.list_rounds("open", _node("0356"))
    assert for_swv.schools == ("01AB00", "02CD00", "03EF00") and for_gemeente.schools == ()
