"""Combining a round into releases: idempotent, atomic, reproducible, only published values stored."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from hub.disclosure.frames import CONTRIBUTION_COLUMNS
from hub.extensions import db
from hub.models.releases import Release, ReleaseCell
from hub.models.rounds import Round
from hub.services import combine, nodes, rounds, submissions
from tests.hub.conftest import row_counts
from tests.hub.factories import enrol_node, make_partial, with_own_school


@pytest.fixture
def region(app, monkeypatch):
    """Two nodes and an open round; combining is left to the test (no automatic enqueue)."""
    from hub import jobs

    real = jobs.enqueue
    monkeypatch.setattr(jobs, "enqueue", lambda name, key: True if name == jobs.COMBINE else real(name, key))
    a, b = enrol_node("0356"), enrol_node("0321")
    rnd = rounds.open_round("2024-2025")
    return a, b, rnd.id


def _submit(node, round_id, **kwargs):
    return submissions.receive(round_id, node.envelope(**kwargs), nodes.get_node(node.code))


def test_combine_writes_a_release_and_switches_the_round(region):
    a, b, round_id = region
    s1, s2 = _submit(a, round_id), _submit(b, round_id)

    release_id = combine.combine_round(round_id)

    release = db.session.get(Release, release_id)
    assert db.session.get(Round, round_id).current_release_id == release_id
    assert (release.version, release.submission_ids) == (1, sorted([s1.submission_id, s2.submission_id]))
    assert release.cell_count == db.session.scalar(
        select(db.func.count()).select_from(ReleaseCell).where(ReleaseCell.release_id == release_id)
    )
    assert len(release.digest) == 64


def test_combine_is_idempotent(region):
    a, b, round_id = region
    _submit(a, round_id)
    _submit(b, round_id)
    combine.combine_round(round_id)
    before = row_counts()
    assert combine.combine_round(round_id) is None
    assert row_counts() == before


def test_no_submissions_no_release(region):
    _, _, round_id = region
    assert combine.combine_round(round_id) is None
    assert db.session.scalar(select(db.func.count()).select_from(Release)) == 0


def test_crash_before_commit_keeps_previous_release_and_retry_gives_same_digest(region, monkeypatch):
    a, b, round_id = region
    _submit(a, round_id)
    first = combine.combine_round(round_id)
    _submit(b, round_id)
    before = row_counts()

    def crash(digest):
        raise RuntimeError("worker died")

    original = combine._pause_for_tests
    monkeypatch.setattr(combine, "_pause_for_tests", crash)
    with pytest.raises(RuntimeError):
        combine.combine_round(round_id)
    assert row_counts() == before
    assert db.session.get(Round, round_id).current_release_id == first

    # What the crashed attempt would have written, computed without writing:
    rnd = db.session.get(Round, round_id)
    ids = sorted(s.id for s in submissions.current_submissions(round_id))
    expected = combine.compute(rnd.schooljaar, ids, combine.reference_schooltypes(), combine.earlier_releases(rnd.schooljaar))
    monkeypatch.setattr(combine, "_pause_for_tests", original)
    second = combine.combine_round(round_id)
    assert db.session.get(Release, second).digest == expected.digest
    assert db.session.get(Release, second).version == 2


def test_rebuild_reproduces_every_release(region):
    a, b, round_id = region
    _submit(a, round_id)
    r1 = combine.combine_round(round_id)
    _submit(b, round_id)
    r2 = combine.combine_round(round_id)
    _submit(a, round_id, scale=3)
    r3 = combine.combine_round(round_id)
    for release_id in (r1, r2, r3):
        stored, rebuilt = combine.rebuild(release_id)
        assert stored == rebuilt


def test_a_superseding_submission_changes_the_release(region):
    a, b, round_id = region
    _submit(a, round_id)
    _submit(b, round_id)
    r1 = db.session.get(Release, combine.combine_round(round_id))
    _submit(a, round_id, scale=2)
    r2 = db.session.get(Release, combine.combine_round(round_id))
    assert r2.version == 2 and r2.digest != r1.digest
    assert set(r2.submission_ids) != set(r1.submission_ids)
    # The old release is untouched: releases are immutable.
    assert db.session.get(Release, r1.id).digest == r1.digest


def test_suppressed_cells_have_no_value_stored(region):
    a, _, round_id = region
    _submit(a, round_id)  # one node with small cells: some are suppressed
    release_id = combine.combine_round(round_id)
    cells = db.session.scalars(select(ReleaseCell).where(ReleaseCell.release_id == release_id)).all()
    suppressed = [c for c in cells if c.status != "published"]
    assert suppressed, "the fixture should produce suppressed cells"
    assert all(c.value is None and c.reason for c in suppressed)
    assert all(c.value is not None for c in cells if c.status == "published")


def test_contributions_use_only_the_rounds_schooljaar(region):
    a, _, round_id = region
    _submit(a, round_id, schooljaren=("2023-2024", "2024-2025"))
    frame = combine.contributions_frame(submissions.current_submissions(round_id), "2024-2025")
    assert set(frame["schooljaar"]) == {"2024-2025"}
    assert list(frame.columns) == CONTRIBUTION_COLUMNS
    assert str(frame["value"].dtype) == "int64"
    kosten = frame[frame["measure"] == "kosten"]
    partial = make_partial("0356")
    assert sorted(kosten["top1"]) == sorted(c.top1 for c in partial.cost_cells)
    counts = frame[frame["measure"] != "kosten"]
    assert (counts["contributors"] == counts["value"]).all() and (counts["top1"] == 0).all()


def test_schools_frame_maps_unknown_codes_to_onbekend():
    frame = combine.schools_frame(["01AB00", "GEEN", "02CD00"], {"01AB00": "BO"})
    assert frame.to_dict("records") == [
        {"vestigingscode": "01AB00", "schooltype": "BO"},
        {"vestigingscode": "02CD00", "schooltype": "onbekend"},
        {"vestigingscode": "GEEN", "schooltype": "GEEN"},
    ]


def test_history_holds_earlier_releases_of_the_schooljaar(region, monkeypatch):
    a, b, round_id = region
    _submit(a, round_id)
    combine.combine_round(round_id)
    seen = []
    real = combine._history

    def spy(gate, inputs, earlier):
        pairs = real(gate, inputs, earlier)
        seen.append(len(pairs))
        return pairs

    monkeypatch.setattr(combine, "_history", spy)
    _submit(b, round_id)
    combine.combine_round(round_id)
    assert seen == [1]


def test_the_database_refuses_two_releases_with_the_same_version(region):
    a, _, round_id = region
    _submit(a, round_id)
    release = db.session.get(Release, combine.combine_round(round_id))
    db.session.add(Release(round_id=round_id, version=release.version, schooljaar="2024-2025", digest="0" * 64, submission_ids=[]))
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()


def test_lost_race_is_retried_and_converges(region, monkeypatch):
    """Another worker commits the same release while this one computes: the insert of the same
    version fails, the retry sees an up-to-date round and does nothing."""
    a, _, round_id = region
    _submit(a, round_id)
    real_compute = combine.compute
    calls = []

    def racing_compute(*args, **kwargs):
        result = real_compute(*args, **kwargs)
        if not calls:
            calls.append(1)
            # Simulate the competitor in its own session/connection-free way: write version 1 now.
            other = Release(round_id=round_id, version=1, schooljaar="2024-2025", digest=result.digest,
                            submission_ids=args[1], audit={}, schooltypes={})  # fmt: skip
            db.session.add(other)
            db.session.flush()
            db.session.get(Round, round_id).current_release_id = other.id
            db.session.commit()
            db.session.begin()
        return result

    monkeypatch.setattr(combine, "compute", racing_compute)
    assert combine.combine_round(round_id) is None  # lost the race, then found nothing to do
    releases = db.session.scalars(select(Release).where(Release.round_id == round_id)).all()
    assert [r.version for r in releases] == [1]


def test_a_release_with_unproven_cells_is_never_published(region, monkeypatch):
    a, b, round_id = region
    _submit(a, round_id)
    first = combine.combine_round(round_id)
    _submit(b, round_id)
    before = row_counts()
    real_compute = combine.compute

    def unproven(*args, **kwargs):
        computed = real_compute(*args, **kwargs)
        computed.audit["failed"] = 2
        return computed

    monkeypatch.setattr(combine, "compute", unproven)
    with pytest.raises(combine.DisclosureAuditFailed) as exc:
        combine.combine_round(round_id)
    assert exc.value.code == "audit_failed" and exc.value.details["unproven_cells"] == 2
    assert row_counts() == before
    assert db.session.get(Round, round_id).current_release_id == first
    assert round_id in combine.pending_rounds()  # still pending: the sweep and admins see it


# --- a submission that cannot be combined is quarantined; the others are published -------------


def _huge(obj):
    """One count beyond int64: it passed the door before the decoder checked ranges."""
    obj["cells"].append(["03EF00", "2024-2025", "clienten", "", 10**20])


def _implausible(obj):
    """More clients of one care type than clients: fits int64, but the door refuses it now."""
    obj["cells"][1][4] = obj["cells"][0][4] + 1  # 01AB00: clienten_zorgtype ambulant > clienten


def test_a_submission_that_cannot_be_combined_is_quarantined_and_the_round_published_without_it(region):
    from hub.models.submissions import Submission
    from tests.hub.factories import store_unchecked

    a, b, round_id = region
    good = _submit(a, round_id).submission_id
    bad = store_unchecked(b, round_id, _huge)

    release_id = combine.combine_round(round_id)

    assert db.session.get(Release, release_id).submission_ids == [good]
    sub = db.session.get(Submission, bad)
    assert sub.status == "current" and sub.quarantine_code == "cell_out_of_range" and sub.quarantined_at is not None
    assert "03EF00" in sub.quarantine_reason
    assert combine.pending_rounds() == [] and combine.combine_round(round_id) is None  # no retry, ever
    status = rounds.round_status(round_id).to_dict()
    assert status["quarantined"] == ["0321"] and status["pending"] is False
    node = next(n for n in status["nodes"] if n["code"] == "0321")
    assert node["quarantine"]["code"] == "cell_out_of_range" and node["quarantine"]["reason"] == sub.quarantine_reason

    # The node corrects it by sending again; the corrected partial is published.
    fixed = _submit(b, round_id).submission_id
    assert combine.pending_rounds() == [round_id]
    assert db.session.get(Release, combine.combine_round(round_id)).submission_ids == sorted([good, fixed])
    assert rounds.round_status(round_id).to_dict()["quarantined"] == []


def test_a_loader_failure_quarantines_only_that_submission(region, monkeypatch):
    from hub.models.submissions import Submission

    a, b, round_id = region
    good, bad = _submit(a, round_id).submission_id, _submit(b, round_id).submission_id
    real = combine.load_partial

    def broken(sub, **kwargs):
        if sub.id == bad:
            raise RuntimeError("cannot read this one")
        return real(sub, **kwargs)

    monkeypatch.setattr(combine, "load_partial", broken)
    release_id = combine.combine_round(round_id)
    assert db.session.get(Release, release_id).submission_ids == [good]
    sub = db.session.get(Submission, bad)
    assert sub.quarantine_code == "combine_failed" and "RuntimeError" in sub.quarantine_reason
    assert db.session.get(Submission, good).quarantine_code is None
    assert combine.pending_rounds() == []


def test_a_database_error_while_loading_quarantines_nothing(region, monkeypatch):
    from sqlalchemy.exc import OperationalError

    from hub.models.submissions import Submission

    a, b, round_id = region
    _submit(a, round_id)
    _submit(b, round_id)

    def down(sub, **kwargs):
        raise OperationalError("SELECT", {}, Exception("server closed the connection"))

    monkeypatch.setattr(combine, "load_partial", down)
    with pytest.raises(OperationalError):
        combine.combine_round(round_id)
    assert db.session.scalar(select(db.func.count()).select_from(Submission).where(Submission.quarantined_at.is_not(None))) == 0
    assert combine.pending_rounds() == [round_id]  # the sweep retries: the database may be back


def test_a_submission_already_in_a_release_is_read_as_it_was_combined(region, monkeypatch):
    """A check added to the door later never quarantines (or stops rebuilding) what a release holds."""
    from hub.models.submissions import Submission
    from tests.hub.factories import store_unchecked

    a, b, round_id = region
    _submit(a, round_id)
    old = store_unchecked(b, round_id, _implausible)
    real = combine.load_partial
    monkeypatch.setattr(combine, "load_partial", lambda sub, **kwargs: real(sub, strict=False))  # the hub before the check
    first = combine.combine_round(round_id)
    monkeypatch.setattr(combine, "load_partial", real)

    newer = _submit(a, round_id, scale=2).submission_id
    second = combine.combine_round(round_id)
    assert db.session.get(Release, second).submission_ids == sorted([old, newer])
    assert db.session.get(Submission, old).quarantined_at is None
    for release_id in (first, second):
        stored, rebuilt = combine.rebuild(release_id)
        assert stored == rebuilt


# --- the calendar: first publication, forced publication, held-back schools -------------------

OPENED = datetime(2024, 11, 1, 9, 0, tzinfo=timezone.utc)
BEFORE, AFTER = OPENED + timedelta(days=13), OPENED + timedelta(days=15)  # the deadline is at 14 days


@pytest.fixture
def calendar(app, monkeypatch):
    """Three expected municipalities, a round opened at OPENED; combining is left to the test."""
    from hub import jobs

    real = jobs.enqueue
    monkeypatch.setattr(jobs, "enqueue", lambda name, key: True if name == jobs.COMBINE else real(name, key))
    a, b, late = enrol_node("0356"), enrol_node("0321"), enrol_node("0307")
    return a, b, late, rounds.open_round("2024-2025", now=OPENED).id


def _audit_lines():
    from hub.services import audit

    return [(e.action, e.target, e.result, e.actor) for e in audit.all_lines()]


def test_the_first_publication_waits_until_every_node_has_submitted(calendar):
    a, b, late, round_id = calendar
    _submit(a, round_id)
    _submit(b, round_id)
    assert combine.combine_round(round_id, wait_for_all=True, now=BEFORE) is None
    assert combine.pending_rounds(now=BEFORE) == []
    _submit(late, round_id)
    assert combine.pending_rounds(now=BEFORE) == [round_id]
    release = db.session.get(Release, combine.combine_round(round_id, wait_for_all=True, now=BEFORE))
    assert release.version == 1 and release.held_back == []


def test_a_submission_landing_during_the_combine_is_not_counted_as_there(calendar, monkeypatch):
    """The last node's upload commits after the combine read the round's submissions: the combine
    must not publish the others as "all there" (its release would lack the last node, and the next
    version, with it, would be a difference a reader could subtract)."""
    a, b, late, round_id = calendar
    _submit(a, round_id)
    _submit(b, round_id)
    real = combine.current_submissions
    landed = []

    def read_then_upload(rid):
        found = real(rid)
        if not landed:
            landed.append(_submit(late, round_id).submission_id)  # commits in between
        return found

    monkeypatch.setattr(combine, "current_submissions", read_then_upload)
    assert combine.combine_round(round_id, wait_for_all=True, now=BEFORE) is None
    assert db.session.scalar(select(db.func.count()).select_from(Release)) == 0
    monkeypatch.setattr(combine, "current_submissions", real)
    release = db.session.get(Release, combine.combine_round(round_id, wait_for_all=True, now=BEFORE))
    assert landed[0] in release.submission_ids and len(release.submission_ids) == 3


def test_the_first_publication_goes_out_at_the_deadline_without_the_missing(calendar):
    a, b, _, round_id = calendar
    subs = sorted([_submit(a, round_id).submission_id, _submit(b, round_id).submission_id])
    assert combine.combine_round(round_id, wait_for_all=True, now=BEFORE) is None
    assert combine.pending_rounds(now=AFTER) == [round_id]  # the sweep picks the round up
    release = db.session.get(Release, combine.combine_round(round_id, wait_for_all=True, now=AFTER))
    assert (release.version, release.submission_ids) == (1, subs)
    assert _audit_lines() == []  # the calendar did it, not an admin


def test_an_admin_forcing_the_first_publication_is_in_the_audit_log(calendar):
    a, _, _, round_id = calendar
    _submit(a, round_id)
    release_id = combine.publish_now(round_id, actor="cli:beheerder", now=BEFORE)
    assert db.session.get(Release, release_id).version == 1
    assert _audit_lines() == [(
        "admin", f"ronde {round_id} samengevoegd door beheerder: versie 1 (eerste publicatie, vóór de termijn, zonder 0307, 0321)",
        "ok", "cli:beheerder")]  # fmt: skip
    assert combine.publish_now(round_id, actor="cli:beheerder") is None
    assert _audit_lines()[-1][1:3] == (f"ronde {round_id} samenvoegen door beheerder: niets te doen", "ok")
    from hub.services import audit

    assert audit.verify().ok


def test_a_refused_forced_publication_is_in_the_audit_log_as_failed(calendar, monkeypatch):
    a, _, _, round_id = calendar
    _submit(a, round_id)
    real_compute = combine.compute

    def unproven(*args, **kwargs):
        computed = real_compute(*args, **kwargs)
        computed.audit["failed"] = 1
        return computed

    monkeypatch.setattr(combine, "compute", unproven)
    with pytest.raises(combine.DisclosureAuditFailed):
        combine.publish_now(round_id, actor="cli:beheerder", now=BEFORE)
    assert _audit_lines() == [("admin", f"ronde {round_id} samenvoegen door beheerder: geweigerd (audit_failed)",
                               "failed", "cli:beheerder")]  # fmt: skip
    assert db.session.get(Round, round_id).current_release_id is None


def _cells(release_id, **where):
    query = select(ReleaseCell).where(ReleaseCell.release_id == release_id)
    for column, value in where.items():
        query = query.where(getattr(ReleaseCell, column) == value)
    return db.session.scalars(query).all()


def _late_municipality(calendar):
    """0356 and 0321 are published at the deadline; 0307, whose own school 09XY00 only its children
    attend, submits after it."""
    a, b, late, round_id = calendar
    _submit(a, round_id)
    _submit(b, round_id)
    first = combine.combine_round(round_id, wait_for_all=True, now=AFTER)
    late_sub = submissions.receive(round_id, late.envelope(with_own_school(make_partial("0307"))), nodes.get_node("0307"))
    return round_id, first, late_sub.submission_id


def test_without_holding_back_the_late_school_the_gate_refuses_the_correction(calendar, monkeypatch):
    """The issue: the change in the totals pins the new school's zero cells."""
    round_id, first, _ = _late_municipality(calendar)
    monkeypatch.setattr(combine, "held_back", lambda schooljaar, locations: [])
    with pytest.raises(combine.DisclosureAuditFailed):
        combine.combine_round(round_id, wait_for_all=True, now=AFTER)
    assert db.session.get(Round, round_id).current_release_id == first


def test_a_school_that_first_appears_in_a_correction_is_held_back_and_the_correction_published(calendar):
    round_id, first, late_sub = _late_municipality(calendar)

    second = combine.combine_round(round_id, wait_for_all=True, now=AFTER)

    release = db.session.get(Release, second)
    assert release.version == 2 and late_sub in release.submission_ids and release.held_back == ["09XY00"]
    assert _cells(second, unit="09XY00") == []
    # 0307's children at the shared schools count; the 40 pupils of 09XY00 count at no level.
    regio = _cells(second, level="regio", measure="leerlingen")[0]
    assert (regio.status, regio.value) == ("published", 3 * (200 + 250 + 300))
    assert _cells(first, level="regio", measure="leerlingen")[0].value == 2 * (200 + 250 + 300)
    status = rounds.round_status(round_id).to_dict()
    assert status["held_back"] == ["09XY00"] and "volgende schooljaar" in status["held_back_reason"]
    assert combine.rebuild(second)[0] == combine.rebuild(second)[1]


def test_the_held_back_set_is_stored_so_later_versions_and_rebuilds_agree(calendar):
    round_id, first, _ = _late_municipality(calendar)
    second = combine.combine_round(round_id, wait_for_all=True, now=AFTER)
    _submit(calendar[0], round_id, scale=2)  # a further correction

    third = combine.combine_round(round_id, wait_for_all=True, now=AFTER)

    assert db.session.get(Release, third).held_back == ["09XY00"]  # still never published this school year
    for release_id in (first, second, third):
        stored, rebuilt = combine.rebuild(release_id)
        assert stored == rebuilt


def test_every_earlier_version_of_the_school_year_is_the_gates_history(calendar, monkeypatch):
    round_id, first, _ = _late_municipality(calendar)
    second = combine.combine_round(round_id, wait_for_all=True, now=AFTER)
    _submit(calendar[0], round_id, scale=2)
    seen = []
    real = combine._history

    def spy(gate, inputs, earlier):
        seen.append([r.id for r in earlier])
        return real(gate, inputs, earlier)

    monkeypatch.setattr(combine, "_history", spy)
    combine.combine_round(round_id, wait_for_all=True, now=AFTER)
    assert seen == [[first, second]]


def test_the_held_back_school_counts_from_the_next_school_years_round(calendar):
    a, b, late, round_id = calendar
    _late_municipality(calendar)
    combine.combine_round(round_id, wait_for_all=True, now=AFTER)
    rounds.close_round(round_id)

    nxt = rounds.open_round("2025-2026", now=AFTER).id
    for node in (a, b):
        _submit(node, nxt, schooljaren=("2025-2026",))
    partial = with_own_school(make_partial("0307", ("2025-2026",)))
    submissions.receive(nxt, late.envelope(partial), nodes.get_node("0307"))
    release_id = combine.combine_round(nxt, wait_for_all=True, now=AFTER)

    release = db.session.get(Release, release_id)
    assert release.version == 1 and release.held_back == []
    assert {c.level for c in _cells(release_id, unit="09XY00")} == {"vestiging"}
    assert _cells(release_id, level="regio", measure="leerlingen")[0].value == 3 * (200 + 250 + 300) + 40


def test_an_swvs_support_cells_are_combined_with_the_municipalities_cells(app, monkeypatch):
    """A school's support cells come from the SWV node whose school it is; they sit next to the
    municipalities' cells in one release, through one gate (their own family)."""
    from hub import jobs
    from tests.hub.factories import SWV_CODE, add_swv

    real = jobs.enqueue
    monkeypatch.setattr(jobs, "enqueue", lambda name, key: True if name == jobs.COMBINE else real(name, key))
    add_swv()
    a, b, swv = enrol_node("0356"), enrol_node("0321"), enrol_node(SWV_CODE)
    round_id = rounds.open_round("2024-2025").id
    from tests.hub.factories import make_swv_partial

    _submit(a, round_id)
    _submit(b, round_id)
    groups = {"01AB00": {"arrangement": 30, "opp": 12, "tlv-sbo": 11}, "02CD00": {"arrangement": 22, "opp": 14},
              "03EF00": {}}
    submissions.receive(round_id, swv.envelope(make_swv_partial(groups=groups)), nodes.get_node(SWV_CODE))
    release = db.session.get(Release, combine.combine_round(round_id))
    cells = {(c.level, c.unit, c.measure, c.category): c for c in
             db.session.scalars(select(ReleaseCell).where(ReleaseCell.release_id == release.id))}
    support = {k: c for k, c in cells.items() if k[2].startswith("leerlingen_ondersteuning")}
    assert {k[1] for k in support if k[0] == "vestiging"} == {"01AB00", "02CD00", "03EF00"}  # GEEN has none
    assert cells[("vestiging", "03EF00", "leerlingen_ondersteuning", "")].status != "published"  # 0: hidden
    assert any(c.status == "published" for k, c in support.items() if k[0] == "vestiging")
    regio = cells[("regio", "regio", "leerlingen_ondersteuning", "")]
    assert regio.status == "published" and regio.value == 90  # 53 + 36 + 0, rounded to 5
    assert cells[("regio", "regio", "leerlingen", "")].status == "published"  # the municipalities' cells alongside
    assert release.audit["failed"] == 0
    assert combine.rebuild(release.id)[0] == combine.rebuild(release.id)[1]


@pytest.fixture
def overlap_round(app, monkeypatch):
    """Two municipalities and an SWV with submissions in one round; the overlap counts are the test's."""
    from hub import jobs
    from tests.hub.factories import SWV_CODE, add_swv, make_swv_partial

    real = jobs.enqueue
    monkeypatch.setattr(jobs, "enqueue", lambda name, key: True if name == jobs.COMBINE else real(name, key))
    add_swv()
    a, b, swv = enrol_node("0356"), enrol_node("0321"), enrol_node(SWV_CODE)
    round_id = rounds.open_round("2024-2025").id
    sa, sb = _submit(a, round_id), _submit(b, round_id)
    groups = {"01AB00": {"arrangement": 30, "opp": 12, "tlv-sbo": 11}, "02CD00": {"arrangement": 22, "opp": 14},
              "03EF00": {}}
    ss = submissions.receive(round_id, swv.envelope(make_swv_partial(groups=groups)), nodes.get_node(SWV_CODE))
    return round_id, {"0356": sa.submission_id, "0321": sb.submission_id, "swv": ss.submission_id}, (a, b)


def _overlap_cells(release_id: int) -> dict[tuple, ReleaseCell]:
    from shared.codes import OVERLAP_MEASURES

    return {(c.level, c.unit, c.measure): c for c in db.session.scalars(
        select(ReleaseCell).where(ReleaseCell.release_id == release_id, ReleaseCell.measure.in_(OVERLAP_MEASURES)))}


def test_a_release_publishes_the_overlap_figures_of_its_counts_and_rebuilds_the_same(overlap_round):
    from tests.hub.factories import add_overlap_count

    round_id, subs, _ = overlap_round
    # 01AB00: 53 pupils with support, 30 clients of each municipality; 02CD00: 36 and 37 each.
    for vest, n_0356, n_0321 in (("01AB00", 14, 9), ("02CD00", 15, 11)):
        add_overlap_count(round_id, vest, subs["swv"], subs["0356"], n_0356)
        add_overlap_count(round_id, vest, subs["swv"], subs["0321"], n_0321)
    release = db.session.get(Release, combine.combine_round(round_id))
    assert release.audit["failed"] == 0
    assert len(release.audit["overlap"]["counts"]) == 4 and release.audit["overlap"]["schools"] == 2
    cells = _overlap_cells(release.id)
    assert {k[1] for k in cells if k[0] == "vestiging"} == {"01AB00", "02CD00"}  # 03EF00: no count, no figure
    compared = cells[("regio", "regio", "clienten_vergeleken")]
    assert compared.status == "published" and compared.value == 135  # 2 × (30 + 37)
    both = cells[("regio", "regio", "ondersteuning_en_jeugdhulp")]
    assert both.status == "published" and both.value == 50  # 14 + 9 + 15 + 11 = 49
    assert combine.rebuild(release.id)[0] == combine.rebuild(release.id)[1]
    assert combine.combine_round(round_id) is None  # nothing new


def test_a_count_that_arrives_later_makes_a_new_version_and_a_correction_drops_the_stale_pairs(overlap_round):
    from tests.hub.factories import add_overlap_count, make_partial

    round_id, subs, (a, b) = overlap_round
    first = combine.combine_round(round_id)
    assert _overlap_cells(first) == {}  # the exchange had not counted yet
    for vest, n_0356, n_0321 in (("01AB00", 14, 9), ("02CD00", 15, 11)):
        add_overlap_count(round_id, vest, subs["swv"], subs["0356"], n_0356)
        add_overlap_count(round_id, vest, subs["swv"], subs["0321"], n_0321)
    assert round_id in combine.pending_rounds()
    second = combine.combine_round(round_id)
    assert second is not None and round_id not in combine.pending_rounds()
    release = db.session.get(Release, second)
    # This tiny region has one school type (no DUO data) and a school with no clients: with the first
    # version's hidden cells, the compared clients of the type next to its clients would pin that school's
    # 0 (its clients are the type's less the compared ones). The auditor cannot prove the figures, so the
    # version is published without them, and says so; it never stops the round.
    assert release.audit["failed"] == 0
    assert release.audit["overlap"]["left_out"] == "audit_failed" and release.audit["overlap"]["counts"] == []
    assert _overlap_cells(second) == {}
    # 0321 corrects its partial: its two counts belong to its old submission.
    _submit(b, round_id, partial=make_partial("0321", created_at="2024-11-02T10:00:00Z"))
    third = combine.combine_round(round_id)
    release = db.session.get(Release, third)
    assert release.audit["failed"] == 0 and release.audit["overlap"]["counts"] == []
    for rid in (first, second, third):
        stored, rebuilt = combine.rebuild(rid)
        assert stored == rebuilt


def test_a_correction_drops_the_stale_pairs_rather_than_change_the_coverage(overlap_round):
    from tests.hub.factories import add_overlap_count, make_partial

    round_id, subs, (a, b) = overlap_round
    for vest, n_0356, n_0321 in (("01AB00", 14, 9), ("02CD00", 15, 11)):
        add_overlap_count(round_id, vest, subs["swv"], subs["0356"], n_0356)
        add_overlap_count(round_id, vest, subs["swv"], subs["0321"], n_0321)
    first = combine.combine_round(round_id)
    assert {k[1] for k in _overlap_cells(first) if k[0] == "vestiging"} == {"01AB00", "02CD00"}
    # 0321 corrects its partial: its two counts belong to its old submission. Only 0356's pairs are left,
    # another coverage than the school year published: no figure at either school, rather than one
    # whose difference to the last version is 0321's count.
    _submit(b, round_id, partial=make_partial("0321", created_at="2024-11-02T10:00:00Z"))
    second = combine.combine_round(round_id)
    release = db.session.get(Release, second)
    assert release.audit["failed"] == 0 and release.audit["overlap"]["counts"] == []
    assert release.audit["overlap"]["left_out"] is None
    assert _overlap_cells(second) == {}
    for rid in (first, second):
        stored, rebuilt = combine.rebuild(rid)
        assert stored == rebuilt


def test_the_schools_behind_unproven_cells_are_their_own_or_their_types_covered_schools():
    from types import SimpleNamespace

    overlap = SimpleNamespace(coverage={"01AB00": None, "02CD00": None, "03EF00": None})
    types = {"01AB00": "BO", "02CD00": "BO", "03EF00": "SO/VSO"}
    behind = combine._schools_behind
    assert behind([("vestiging", "01AB00", "2024-2025", "ondersteuning_en_jeugdhulp", "")], overlap, types) == {"01AB00"}
    assert behind([("schooltype", "BO", "2024-2025", "clienten_vergeleken", "")], overlap, types) == {"01AB00", "02CD00"}
    # A school without figures is not to blame; a regio cell, or every covered school: none alone.
    assert behind([("vestiging", "09ZZ00", "2024-2025", "clienten", "")], overlap, types) == set()
    assert behind([("regio", "regio", "2024-2025", "clienten_vergeleken", "")], overlap, types) == set()
    assert behind([("schooltype", "BO", "2024-2025", "clienten", ""),
                   ("vestiging", "03EF00", "2024-2025", "clienten", "")], overlap, types) == set()


def test_the_gate_in_processes_of_its_own_makes_the_same_release(region, app):
    """``GATE_PROCESSES`` (the demo's setting) runs each gate call in a spawned process: the release is the
    one the combining thread makes itself, byte for byte."""
    a, b, round_id = region
    _submit(a, round_id), _submit(b, round_id)
    in_thread = db.session.get(Release, combine.combine_round(round_id))
    app.config["GATE_PROCESSES"] = 1
    try:
        digest, rebuilt = combine.rebuild(in_thread.id)
        assert combine._POOL  # the gate ran in the pool
    finally:
        app.config["GATE_PROCESSES"] = 0
        combine.shutdown_gate_pool()
    assert rebuilt == digest == in_thread.digest
