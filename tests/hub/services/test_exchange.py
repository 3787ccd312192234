"""The overlap exchange at the hub: its pairs, order and checks, the counts against a direct
intersection, what stays stored after counting, and the deadline."""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
import threading
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select, text

from hub.extensions import db
from hub.models.exchange import ExchangePayload, OverlapExchange
from hub.models.nodes import Node
from hub.models.overlap import OverlapCount
from hub.services import combine, rounds, submissions
from hub.services import exchange as service
from hub.services.overlap import counts_frame
from shared import psi
from shared.errors import ConflictError, PsiError
from shared.messages import STEP_BLIND, STEP_CLOSED, STEP_DONE, STEP_REBLIND, STEP_WAIT
from tests.hub.factories import SCHOOLJAAR, SWV_SCHOOLS, add_swv, enrol_node, make_partial

SWV = "PO2607"
GEMEENTEN = ("0356", "0321")


def pseudonyms(label: str, n: int) -> list[bytes]:
    return [hashlib.sha256(f"{label}/{i}".encode()).digest() for i in range(n)]


def region_sets() -> dict[str, dict[str, list[bytes]]]:
    """Per node, per school, its pseudonyms: overlaps of known size, a school below the minimum, a
    school outside the SWV, and children of another municipality at the SWV's schools."""
    shared_a, shared_b = pseudonyms("a", 40), pseudonyms("b", 30)
    return {
        SWV: {
            "01AB00": shared_a[:25] + pseudonyms("swv-a", 20),  # 25 in common with 0356, 5 with 0321
            "02CD00": shared_b[:12] + pseudonyms("swv-b", 3),  # 12 in common with 0356
            "03EF00": pseudonyms("swv-c", 6),  # below the minimum
        },
        "0356": {
            "01AB00": shared_a[:30],
            "02CD00": shared_b,
            "04GH00": pseudonyms("elders", 50),  # not an SWV school: never sent
        },
        "0321": {
            "01AB00": shared_a[20:25] + pseudonyms("0321-a", 9),
            "02CD00": pseudonyms("0321-b", 4),  # below the minimum
        },
    }


def direct(sets, gemeente: str, minimum: int = 10) -> dict[str, int]:
    """The counts the exchange must give: per school both sides hold at least ``minimum``."""
    swv = sets[SWV]
    return {school: len(set(swv[school]) & set(kids)) for school, kids in sets[gemeente].items()
            if school in swv and len(set(kids)) >= minimum and len(set(swv[school])) >= minimum}


class Region:
    """Three enrolled nodes, a round, and the nodes' side of the protocol played in-process."""

    def __init__(self, deadline_days: int | None = None) -> None:
        add_swv(SWV, SWV_SCHOOLS + ("04XX00",))
        self.enrolled = {code: enrol_node(code) for code in (SWV,) + GEMEENTEN}
        self.round = rounds.open_round(SCHOOLJAAR, expected=[SWV, *GEMEENTEN],
                                       deadline_days=deadline_days if deadline_days is not None else 14)
        self.sets = region_sets()
        self.states: dict[tuple[str, str], psi.BlindingState] = {}
        self.sent: list[bytes] = []  # every point a node sent

    def node(self, code: str) -> Node:
        return db.session.scalar(select(Node).where(Node.code == code))

    def submit(self, code: str, **kwargs) -> int:
        from tests.hub.factories import make_swv_partial

        partial = make_swv_partial(code, **kwargs) if code == SWV else make_partial(code, **kwargs)
        envelope = self.enrolled[code].envelope(partial)
        return submissions.receive(self.round.id, envelope, self.node(code)).submission_id

    def submit_all(self) -> dict[str, int]:
        return {code: self.submit(code) for code in (SWV,) + GEMEENTEN}

    def state(self, code: str, exchange: psi.Exchange) -> psi.BlindingState:
        key = (code, exchange.exchange_id)
        if key not in self.states:
            self.states[key] = psi.new_state(exchange, code)
        return self.states[key]

    def step(self, code: str, *, only: str | None = None) -> int:
        """Take every step the hub has for node ``code`` now; how many it took."""
        taken = 0
        for task in service.node_tasks(self.round.id, self.node(code)).tasks:
            exchange = psi.Exchange.from_dict(task.exchange)
            if task.step == STEP_BLIND and only in (None, STEP_BLIND):
                mine = {s: p for s, p in self.sets[code].items() if s in task.schools}
                payload = psi.blind(self.state(code, exchange), mine, min_set_size=task.min_set_size,
                                    pad_block=task.pad_block).payload
                self.sent += [p for points in payload.sets.values() for p in points]
                service.receive_blinded(self.round.id, task.exchange_id, self.node(code), psi.encode_sets(payload))
                taken += 1
            elif task.step == STEP_REBLIND and only in (None, STEP_REBLIND):
                peer = psi.decode_sets(service.peer_payload(self.round.id, task.exchange_id, self.node(code)))
                payload, self.states[(code, exchange.exchange_id)] = psi.reblind(self.state(code, exchange), peer)
                self.sent += [p for points in payload.sets.values() for p in points]
                service.receive_reblinded(self.round.id, task.exchange_id, self.node(code), psi.encode_sets(payload))
                taken += 1
        return taken

    def play(self, codes=(SWV,) + GEMEENTEN) -> None:
        while sum(self.step(code) for code in codes):
            pass


@pytest.fixture
def region(app) -> Region:
    return Region()


def exchanges() -> list[OverlapExchange]:
    return list(db.session.scalars(select(OverlapExchange).order_by(OverlapExchange.id)))


def test_every_expected_swv_exchanges_with_every_expected_municipality_once_both_submitted(region):
    region.submit(SWV)
    assert exchanges() == []
    ids = {"0356": region.submit("0356")}
    (only,) = exchanges()
    assert only.exchange_id == f"{SWV}-0356-{only.swv_submission_id}-{ids['0356']}"
    region.submit("0321")
    assert sorted(x.exchange_id.split("-")[1] for x in exchanges()) == ["0321", "0356"]


def test_the_municipality_blinds_first_then_the_swv_then_both_reblind(region):
    region.submit_all()
    steps = {code: {t.exchange["gemeente"]: t.step for t in service.node_tasks(region.round.id, region.node(code)).tasks}
             for code in (SWV, "0356")}
    assert steps[SWV] == {"0356": STEP_WAIT, "0321": STEP_WAIT}
    assert steps["0356"] == {"0356": STEP_BLIND}
    (task,) = service.node_tasks(region.round.id, region.node("0356")).tasks
    assert set(task.schools) == set(SWV_SCHOOLS) | {"04XX00"}  # the SWV's schools, from the reference data
    region.step("0356")
    (task,) = [t for t in service.node_tasks(region.round.id, region.node(SWV)).tasks if t.exchange["gemeente"] == "0356"]
    assert task.step == STEP_BLIND and task.schools == ("01AB00", "02CD00")  # what the municipality sent
    region.step(SWV, only=STEP_BLIND)
    (mine,) = service.node_tasks(region.round.id, region.node("0356")).tasks
    assert mine.step == STEP_REBLIND


def test_the_counts_equal_a_direct_intersection_and_name_both_submissions(region):
    ids = region.submit_all()
    region.play()
    rows = db.session.scalars(select(OverlapCount).order_by(OverlapCount.id)).all()
    for gemeente in GEMEENTEN:
        mine = {r.vestigingscode: r.beide for r in rows if r.gemeente_node_id == region.node(gemeente).id}
        assert mine == direct(region.sets, gemeente)
        assert {(r.swv_submission_id, r.gemeente_submission_id) for r in rows
                if r.gemeente_node_id == region.node(gemeente).id} == {(ids[SWV], ids[gemeente])}
    assert direct(region.sets, "0356") == {"01AB00": 25, "02CD00": 12}
    assert direct(region.sets, "0321") == {"01AB00": 5}
    frame = counts_frame(region.round.id, ids.values())
    assert sorted(zip(frame["gemeente"], frame["vestigingscode"], frame["beide"])) == [
        ("0321", "01AB00", 5), ("0356", "01AB00", 25), ("0356", "02CD00", 12)]
    assert {x.status for x in exchanges()} == {"counted"}
    assert db.session.scalar(select(db.func.count()).select_from(ExchangePayload)) == 0


def _stored_bytes() -> bytes:
    """Every value of every column of every table, as bytes (text and blobs alike)."""
    out = []
    for table in db.metadata.sorted_tables:
        for row in db.session.execute(text(f'SELECT * FROM "{table.name}"')):
            for value in row:
                if isinstance(value, (bytes, bytearray, memoryview)):
                    out.append(bytes(value))
                elif value is not None:
                    out.append(str(value).encode("utf-8"))
    db.session.rollback()
    return b"\n".join(out)


def _expanded(stored: bytes) -> bytes:
    """``stored`` plus every base64 or hex run in it decoded, so a value inside a longer encoded
    string (a point in a set's base64) is found as raw bytes."""
    extra = []
    for run in re.findall(rb"[A-Za-z0-9+/_=-]{40,}", stored):
        for decode in (base64.b64decode, base64.urlsafe_b64decode):
            for cut in range(4):  # any alignment
                chunk = run[cut:]
                chunk = chunk[: len(chunk) - len(chunk) % 4]
                try:
                    extra.append(decode(chunk))
                except (binascii.Error, ValueError):
                    pass
    for run in re.findall(rb"[0-9a-fA-F]{64,}", stored):
        for cut in (0, 1):
            chunk = run[cut:]
            extra.append(bytes.fromhex(chunk[: len(chunk) - len(chunk) % 2].decode()))
    return stored + b"\n" + b"\n".join(extra)


def _forms(value: bytes) -> list[bytes]:
    """A 32-byte value as the hub could hold it: raw, hex (both cases), base64 and base64url."""
    return [value, value.hex().encode(), value.hex().upper().encode(), base64.b64encode(value),
            base64.urlsafe_b64encode(value), base64.b64encode(value).rstrip(b"=")]


def test_after_counting_no_table_holds_a_pseudonym_or_a_point(region):
    region.submit_all()
    region.step("0356")
    region.step("0321")
    during = _expanded(_stored_bytes())
    # The search finds the points while the exchange runs (so it would find them afterwards too).
    assert all(point in during for point in region.sent)
    region.play()
    stored = _expanded(_stored_bytes())
    pseudonyms_held = {p for node_sets in region.sets.values() for kids in node_sets.values() for p in kids}
    assert pseudonyms_held and region.sent
    for value in pseudonyms_held | set(region.sent):
        for form in _forms(value):
            assert form not in stored
    # No digest of a payload either (a digest is a value computed from the points).
    assert db.session.scalar(select(db.func.count()).select_from(ExchangePayload)) == 0


def _blinded(region: Region, code: str, xid: str, **change) -> bytes:
    x = db.session.scalar(select(OverlapExchange).where(OverlapExchange.exchange_id == xid))
    exchange = psi.Exchange(service._region(), x.round_id, xid, SWV, xid.split("-")[1])
    exchange = psi.Exchange(**{**exchange.to_dict(), **change})
    mine = {s: p for s, p in region.sets[code].items() if s in SWV_SCHOOLS}
    return psi.encode_sets(psi.blind(region.state(code, exchange), mine).payload)


def test_a_replayed_set_of_another_exchange_or_round_is_refused(region):
    region.submit_all()
    a, b = (x.exchange_id for x in exchanges())
    for change in ({"exchange_id": b}, {"round_id": region.round.id + 1}):
        with pytest.raises(PsiError) as err:
            service.receive_blinded(region.round.id, a, region.node("0356"), _blinded(region, "0356", a, **change))
        assert err.value.code == "psi_replay"


def test_a_reblinded_set_answering_another_set_is_refused(region):
    region.submit_all()
    region.step("0356")
    region.step(SWV, only=STEP_BLIND)
    (x,) = [x for x in exchanges() if "-0356-" in x.exchange_id]
    exchange = psi.Exchange(service._region(), region.round.id, x.exchange_id, SWV, "0356")
    other = psi.blind(psi.new_state(exchange, SWV), {"01AB00": pseudonyms("other", 20)}).payload
    answer, _ = psi.reblind(region.state("0356", exchange), other)
    with pytest.raises(PsiError) as err:
        service.receive_reblinded(region.round.id, x.exchange_id, region.node("0356"), psi.encode_sets(answer))
    assert err.value.code == "psi_replay"


def test_a_foreign_set_is_refused(region):
    region.submit_all()
    (a,) = [x.exchange_id for x in exchanges() if "-0356-" in x.exchange_id]
    payload = _blinded(region, "0356", a)
    # Another municipality sends it (it is no party of the exchange) …
    with pytest.raises(PsiError) as err:
        service.receive_blinded(region.round.id, a, region.node("0321"), payload)
    assert err.value.code == "psi_foreign_set"
    # … or the SWV sends the municipality's set as its own.
    service.receive_blinded(region.round.id, a, region.node("0356"), payload)
    with pytest.raises(PsiError) as err:
        service.receive_blinded(region.round.id, a, region.node(SWV), payload)
    assert err.value.code == "psi_foreign_set"


def test_a_set_in_the_wrong_step_or_out_of_turn_is_refused(region):
    region.submit_all()
    (a,) = [x.exchange_id for x in exchanges() if "-0356-" in x.exchange_id]
    exchange = psi.Exchange(service._region(), region.round.id, a, SWV, "0356")
    swv_first = psi.blind(region.state(SWV, exchange), {"01AB00": region.sets[SWV]["01AB00"]}).payload
    with pytest.raises(PsiError) as err:  # the SWV before the municipality
        service.receive_blinded(region.round.id, a, region.node(SWV), psi.encode_sets(swv_first))
    assert err.value.code == "psi_wrong_step"
    region.step("0356")
    region.step(SWV, only=STEP_BLIND)
    peer = psi.decode_sets(service.peer_payload(region.round.id, a, region.node("0356")))
    answer, _ = psi.reblind(region.state("0356", exchange), peer)
    with pytest.raises(PsiError) as err:  # a re-blinded set where a blinded one belongs
        service.receive_blinded(region.round.id, a, region.node("0356"), psi.encode_sets(answer))
    assert err.value.code == "psi_wrong_step"


def test_the_same_set_again_is_accepted_another_refused(region):
    region.submit_all()
    (a,) = [x.exchange_id for x in exchanges() if "-0356-" in x.exchange_id]
    payload = _blinded(region, "0356", a)
    service.receive_blinded(region.round.id, a, region.node("0356"), payload)
    task = service.receive_blinded(region.round.id, a, region.node("0356"), payload)  # a restarted node
    assert task.step == STEP_WAIT
    region.states.pop(("0356", a))
    with pytest.raises(PsiError) as err:
        service.receive_blinded(region.round.id, a, region.node("0356"), _blinded(region, "0356", a))
    assert err.value.code == "psi_already_sent"


def test_a_correction_starts_a_new_exchange_and_old_counts_stay_with_the_old_submissions(region):
    ids = region.submit_all()
    region.play()
    new = region.submit("0356", created_at="2024-11-02T10:00:00Z")
    by_pair = {(x.swv_submission_id, x.gemeente_submission_id): x.status for x in exchanges()}
    assert by_pair[(ids[SWV], ids["0356"])] == "counted"
    assert by_pair[(ids[SWV], new)] == "open"
    assert len(counts_frame(region.round.id, [ids[SWV], new, ids["0321"]])) == 1  # only 0321's pair
    region.play()
    assert len(counts_frame(region.round.id, [ids[SWV], new, ids["0321"]])) == 3


def test_a_correction_before_counting_supersedes_the_running_exchange(region):
    ids = region.submit_all()
    region.step("0356")
    region.submit("0356", created_at="2024-11-02T10:00:00Z")
    old = next(x for x in exchanges() if x.gemeente_submission_id == ids["0356"])
    assert old.status == "superseded" and old.reason
    assert db.session.scalar(select(db.func.count()).select_from(ExchangePayload)
                             .where(ExchangePayload.exchange_pk == old.id)) == 0
    with pytest.raises(ConflictError) as err:
        service.receive_blinded(region.round.id, old.exchange_id, region.node("0356"), b"{}")
    assert err.value.code == "exchange_closed"


def test_the_first_publication_waits_for_the_exchanges(region):
    region.submit_all()
    rnd = rounds.get_round(region.round.id)
    assert rnd.current_release_id is None
    assert rounds.waiting_for(rnd) == ["0321", "0356"]  # both owe their blinded set
    status = rounds.round_status(region.round.id).to_dict()
    labels = sorted(x["label"] for x in status["exchanges"])
    assert labels == ["wacht op gemeente 0321: versleutelde set", "wacht op gemeente 0356: versleutelde set"]
    region.step("0356")
    region.step("0321")
    assert rounds.waiting_for(rnd) == [SWV]
    region.play()
    db.session.expire_all()
    rnd = rounds.get_round(region.round.id)
    assert rnd.current_release_id is not None  # the last count queued the combine
    assert {x["label"] for x in rounds.round_status(rnd.id).to_dict()["exchanges"]} == {
        "geteld (2 scholen)", "geteld (1 school)"}


def test_a_node_missing_the_deadline_leaves_the_round_published_without_its_overlap(app):
    region = Region(deadline_days=1)
    ids = region.submit_all()
    region.play(codes=(SWV, "0356"))  # 0321 never answers
    db.session.expire_all()
    assert rounds.get_round(region.round.id).current_release_id is None
    later = datetime.now(timezone.utc) + timedelta(days=2)
    assert combine.pending_rounds(now=later) == [region.round.id]
    release_id = combine.combine_round(region.round.id, wait_for_all=True, now=later)
    assert release_id is not None
    late = next(x for x in exchanges() if x.gemeente_submission_id == ids["0321"])
    assert late.status == "abandoned"
    assert db.session.scalar(select(db.func.count()).select_from(ExchangePayload)) == 0
    status = rounds.round_status(region.round.id, now=later).to_dict()
    (entry,) = [x for x in status["exchanges"] if x["gemeente"] == "0321"]
    assert entry["label"].startswith("afgebroken: niet op tijd klaar") and "zonder deze overlap" in entry["label"]
    assert status["waiting_for"] == []
    frame = counts_frame(region.round.id, ids.values())
    assert set(frame["gemeente"]) == {"0356"}
    # The late node is told it is over.
    (task,) = service.node_tasks(region.round.id, region.node("0321")).tasks
    assert task.step == STEP_CLOSED


def test_closing_the_round_abandons_open_exchanges_and_deletes_their_sets(region):
    region.submit_all()
    region.step("0356")
    rounds.close_round(region.round.id)
    assert {x.status for x in exchanges()} == {"abandoned"}
    assert db.session.scalar(select(db.func.count()).select_from(ExchangePayload)) == 0
    poll = service.node_tasks(region.round.id, region.node("0356"))
    assert not poll.round_open and {t.step for t in poll.tasks} == {STEP_CLOSED}


def test_a_municipality_with_no_school_above_the_minimum_ends_its_exchange_at_once(region):
    region.sets["0321"] = {"01AB00": pseudonyms("few", 3)}
    region.submit_all()
    region.step("0321")
    (x,) = [x for x in exchanges() if "-0321-" in x.exchange_id]
    assert x.status == "counted" and x.schools_counted == 0
    steps = {t.exchange["gemeente"]: t.step for t in service.node_tasks(region.round.id, region.node(SWV)).tasks}
    assert steps["0321"] == STEP_DONE


# --- steps arriving at the same moment --------------------------------------------------------------


def _as_another_request(app, work, failures: list) -> threading.Thread:
    """A thread that runs ``work`` in its own app context (its own session and connection), as
    another request does; what it raises goes to ``failures``."""

    def run() -> None:
        try:
            with app.app_context():
                work()
                db.session.remove()
        except BaseException as exc:  # noqa: BLE001 - the test asserts on it
            failures.append(exc)

    return threading.Thread(target=run)


def _in_another_session(app, work) -> None:
    """Run ``work`` as another request, now, and re-raise what it raised."""
    failures: list[BaseException] = []
    thread = _as_another_request(app, work, failures)
    thread.start()
    thread.join(60)
    if failures:
        raise failures[0]


@pytest.fixture
def file_region(tmp_path):
    from tests.hub.conftest import make_app

    app = make_app(SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'hub.sqlite'}")
    with app.app_context():
        db.create_all()
        region = Region()
        region.round_id = region.round.id
        yield app, region
        db.session.remove()


def test_a_step_landing_between_the_hubs_reads_never_gives_the_swv_an_empty_school_list(file_region, monkeypatch):
    # The SWV polls; the municipality's blinded set lands between the hub reading the exchanges
    # and deciding the SWV's step. The SWV must see either "wait" or "blind at the schools the
    # municipality sent", never "blind at no school" (it then sent an empty set, and the exchange
    # was counted as empty: no overlap for that municipality, silently).
    app, region = file_region
    region.submit_all()
    real, landed = service._pairs, []

    def pairs_then_the_municipality_blinds(*args, **kwargs):
        found = real(*args, **kwargs)
        node = kwargs.get("node")
        if node is not None and node.code == SWV and not landed:
            landed.append(True)
            _in_another_session(app, lambda: region.step("0356", only=STEP_BLIND))
        return found

    monkeypatch.setattr(service, "_pairs", pairs_then_the_municipality_blinds)
    tasks = service.node_tasks(region.round_id, region.node(SWV)).tasks
    assert landed
    assert all(t.schools for t in tasks if t.step == STEP_BLIND)
    monkeypatch.undo()
    (task,) = [t for t in service.node_tasks(region.round_id, region.node(SWV)).tasks if t.exchange["gemeente"] == "0356"]
    assert task.step == STEP_BLIND and task.schools == ("01AB00", "02CD00")
    region.play()
    assert {r.vestigingscode: r.beide for r in db.session.scalars(select(OverlapCount))
            if r.gemeente_node_id == region.node("0356").id} == direct(region.sets, "0356")


def test_the_same_set_twice_at_once_is_stored_once_on_postgresql(postgres_db):
    # A node that retries while its first upload is still being handled: both arrive together.
    # The second waits for the first (the exchange row is taken) and is taken as a repeat.
    import flask_migrate

    from tests.hub.conftest import make_app

    app = make_app(SQLALCHEMY_DATABASE_URI=postgres_db)
    with app.app_context():
        flask_migrate.upgrade()
        region = Region()
        round_id = region.round.id
        region.submit_all()
        (xid,) = [x.exchange_id for x in exchanges() if "-0356-" in x.exchange_id]
        payload = _blinded(region, "0356", xid)
        db.session.remove()
        barrier, steps, failures = threading.Barrier(2), [], []

        def send() -> None:
            barrier.wait(10)
            node = db.session.scalar(select(Node).where(Node.code == "0356"))
            steps.append(service.receive_blinded(round_id, xid, node, payload).step)

        threads = [_as_another_request(app, send, failures) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        assert failures == []
        assert steps == [STEP_WAIT, STEP_WAIT]
        assert db.session.scalar(select(func.count()).select_from(ExchangePayload)) == 1
        db.session.remove()
        db.engine.dispose()
