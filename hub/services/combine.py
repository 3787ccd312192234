"""Combining a round: current submissions → contributions → disclosure gate → a new immutable release.

``combine_round`` is idempotent: when the round's current submissions are exactly those of its
current release it does nothing. It computes everything first, then inserts the release and its
cells and switches ``Round.current_release_id`` in ONE transaction; a crash before the commit
leaves the previous release in place, and a retry computes the identical release (same digest),
because the gate is deterministic and its inputs (submissions, the schooltype mapping, earlier
releases) are all stored. Concurrent combiners of one round are serialised by a row lock on the
round (PostgreSQL) and, everywhere, by the unique (round_id, version) constraint.

Quarantine: one node's submission never stops its round. Before computing, every usable
submission is decoded on its own (:meth:`_Inputs.screen`); one that cannot be (it passed an
older door but fails today's checks, it overflows int64, its key is gone, the loader raises) is
*quarantined* in its own commit: ``quarantine_code``, ``quarantine_reason`` (Dutch) and
``quarantined_at`` are set, it stays ``current`` for audit, and the round is then published
without it. A quarantined submission is no longer pending, so neither a retry nor the sweep ever
tries it again; admins see it on /beheer/rondes, in ``jeugdhub round status`` and in the API's
round status. The node corrects it by sending a new partial, which supersedes it as usual.
Database errors (``SQLAlchemyError``) are never a submission's fault and quarantine nothing: the
combine fails and the sweep retries. Failures inside the gate itself are not attributed to a
submission and still stop the round's combine (an unproven audit on purpose, see below).

The calendar (docs/architecture.md): the automatic combine publishes a round's first version only
when every expected node has submitted or the deadline has passed (``waiting_for``); an admin's
``publish_now`` forces it and is recorded in the audit log. Every later release of the school year
(a correction, or a later round of the same year) holds back the vestigingen that no earlier
release of the year had (``held_back``): their cells leave the contributions before combining, at
every level, because the change in the schooltype and regio totals between two versions would
otherwise pin them. The held-back set is stored on the release, so a retry, a rebuild and the
auditor's history leave out the same schools.

Overlap figures: a release also reads the overlap counts of its submissions and makes the figures of
hub/disclosure/coverage.py from them, recording in ``Release.audit["overlap"]`` which counts it used and
saw; a release the auditor cannot prove with them is published without them. The module is long (over
600 lines) because the whole path from the stored inputs to one committed release, and its rebuild,
is kept in one place that reads top to bottom.
"""

from __future__ import annotations

import hashlib
import logging
import math
import os
import threading
import time
from dataclasses import asdict, dataclass, is_dataclass
from datetime import datetime
from typing import Any, Callable, Iterable

import pandas as pd
from flask import current_app
from sqlalchemy import func, insert, select
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from hub.disclosure.coverage import CountKey, Coverage, count_keys, coverage_of, overlap_contributions
from hub.disclosure.frames import (
    PUBLISHED,
    RELEASE_COLUMNS,
    SCHOOLTYPE,
    UNKNOWN_SCHOOLTYPE,
    VESTIGING,
    contributions,
    sort_contributions,
)
from hub.extensions import db
from hub.models.releases import Release, ReleaseCell
from hub.models.rounds import ROUND_OPEN, CombineStatus, Round
from hub.models.submissions import Submission
from hub.services import audit, exchange, reference
from hub.services import overlap as counts_store
from hub.services._util import utcnow
from hub.services.progress import Progress, report
from hub.services.rounds import deadline_passed, get_round, waiting_for
from hub.services.submissions import current_submissions, load_partial
from shared.codes import GEEN_SCHOOL
from shared.errors import ConflictError, DisclosureAuditFailed, JeugdhubError, NotFoundError

log = logging.getLogger(__name__)

#: The combine's steps as it reports them (to a ``progress`` callback and to ``combine_status``).
STEPS = (
    "inzendingen inlezen",
    "cellen samenvoegen",
    "controle (afscherming en audit)",
    "publicatie opslaan",
)


# --- inputs --------------------------------------------------------------------------------------


def contributions_frame(submissions: Iterable[Submission], schooljaar: str) -> pd.DataFrame:
    """One row per node cell of ``schooljaar`` (other years in a partial are ignored; frames.py)."""
    return contributions((load_partial(sub) for sub in submissions), schooljaar)


def reference_schooltypes() -> dict[str, str]:
    """vestigingscode → schooltype from the reference data.

    Empty on a hub without imported DUO data: every school is then ``onbekend`` and only the
    vestiging and regio levels carry information.
    """
    frame = reference.schooltypes(db.session)
    return {str(k): str(v) for k, v in zip(frame["vestigingscode"], frame["schooltype"])}


def schools_frame(vestigingscodes: Iterable[str], mapping: dict[str, str]) -> pd.DataFrame:
    codes = sorted(set(vestigingscodes))
    types = [GEEN_SCHOOL if c == GEEN_SCHOOL else mapping.get(c, UNKNOWN_SCHOOLTYPE) for c in codes]
    return pd.DataFrame({"vestigingscode": pd.Series(codes, dtype=str), "schooltype": pd.Series(types, dtype=str)})


def release_frame(release: Release) -> pd.DataFrame:
    """A stored release as the gate's release frame (for the auditor's history)."""
    rows = db.session.execute(
        select(*(getattr(ReleaseCell, c) for c in RELEASE_COLUMNS))
        .where(ReleaseCell.release_id == release.id)
        .order_by(ReleaseCell.id)
    ).all()
    frame = pd.DataFrame.from_records(rows, columns=RELEASE_COLUMNS)
    frame["value"] = frame["value"].astype("Int64")
    # Stored as NULL/"" for published cells; the gate's own frames use "".
    frame["reason"] = frame["reason"].fillna("").astype(object)
    frame["flags"] = frame["flags"].fillna("").astype(object)
    return frame


# --- the computation (pure given its inputs) -----------------------------------------------------


@dataclass
class Computed:
    release: pd.DataFrame
    digest: str
    audit: dict[str, Any]
    schooltypes: dict[str, str]
    held_back: list[str]


def _jsonable(obj: Any) -> Any:
    if is_dataclass(obj) and not isinstance(obj, type):
        obj = asdict(obj)
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple, set, frozenset)):
        items = [_jsonable(v) for v in obj]
        return sorted(items, key=repr) if isinstance(obj, (set, frozenset)) else items
    if hasattr(obj, "item") and callable(obj.item):  # numpy scalars
        obj = obj.item()
    if isinstance(obj, float) and (math.isnan(obj) or math.isinf(obj)):
        return None
    if obj is None or isinstance(obj, (str, int, float, bool)):
        return obj
    return str(obj)


_AUDIT_CACHE = None


class _Gate:
    """The disclosure functions with this hub's settings, looked up when a combine runs (a process that
    never combines does not load the solvers)."""

    def __init__(self) -> None:
        import hub.disclosure as disclosure

        self.config = disclosure.GateConfig.from_app_config(current_app.config)
        self.catalogue = catalogue()
        self.combine_cells: Callable = disclosure.combine_cells
        self.release_bytes: Callable = disclosure.release_bytes
        # One audit cache per process: a late submission re-audits only the blocks it changed.
        # The cache only memoises pure block results, so the release is the same with or without it.
        global _AUDIT_CACHE
        if _AUDIT_CACHE is None:
            _AUDIT_CACHE = disclosure.AuditCache()
        cache = _AUDIT_CACHE
        self.apply_gate: Callable = lambda combined, config, history=(): disclosure.apply_gate(
            combined, config, history=history, cache=cache, catalogue=self.catalogue)
        processes = int(current_app.config.get("GATE_PROCESSES", 0) or 0)
        if processes:
            # The embedded hub's combines run on threads of one process, which share one interpreter lock:
            # two gates side by side would take turns. In processes of their own they run side by side
            # (Celery's workers are processes already). The gate is a pure function of its inputs, so the
            # release is the same; each process keeps its own audit cache.
            pool = _gate_pool(processes)
            self.apply_gate = lambda combined, config, history=(): pool.submit(
                _apply_gate_here, combined, config, list(history), self.catalogue).result()


_POOL: dict[int, Any] = {}
_POOL_LOCK = threading.Lock()
_PROCESS_CACHE = None


def _gate_pool(processes: int):
    """The process pool the gate runs in (``GATE_PROCESSES``), started on first use ("spawn": the hub's
    threads are never forked). A spawned process imports the parent's ``__main__`` when that is a file:
    the console scripts (``jeugdhub``, ``gunicorn``, pytest) guard it, a script of one's own must too
    (``if __name__ == "__main__":``), or each gate process runs it again."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    with _POOL_LOCK:
        if processes not in _POOL:
            _POOL[processes] = ProcessPoolExecutor(max_workers=processes, mp_context=multiprocessing.get_context("spawn"))
        return _POOL[processes]


def shutdown_gate_pool() -> None:
    """Stop the gate's processes (they start again when a combine needs them)."""
    with _POOL_LOCK:
        pools = list(_POOL.values())
        _POOL.clear()
    for pool in pools:
        pool.shutdown(wait=True)


def _apply_gate_here(combined: pd.DataFrame, config, history: list, catalogue):
    """``apply_gate`` in a gate process (``_gate_pool``), with that process's own audit cache."""
    import hub.disclosure as disclosure

    global _PROCESS_CACHE
    if _PROCESS_CACHE is None:
        _PROCESS_CACHE = disclosure.AuditCache()
    return disclosure.apply_gate(combined, config, history=history, cache=_PROCESS_CACHE, catalogue=catalogue)


def catalogue():
    """The code tables this hub's releases are built with: its groupings and provider → consortium table
    (the same tables the round gave the nodes, hub/services/rounds.py ``round_tables``)."""
    from hub.disclosure.tables import Catalogue
    from hub.services import consortia, groupings

    return Catalogue(groupings=groupings.current(), consortia=consortia.membership())


class _Inputs:
    """Caches decoded contributions per submission within one combine (history reuses them)."""

    def __init__(self, schooljaar: str, frames: dict[int, pd.DataFrame] | None = None) -> None:
        self.schooljaar = schooljaar
        self._frames: dict[int, pd.DataFrame] = {} if frames is None else frames
        self._counts: dict[tuple[int, ...], pd.DataFrame] = {}
        self.threshold = 10  # the gate's, set by compute

    def overlap_counts(self, submission_ids: list[int]) -> pd.DataFrame:
        """The overlap counts of these submissions (hub/services/overlap.py), read once per combine."""
        ids = tuple(sorted(int(i) for i in submission_ids))
        if ids not in self._counts:
            round_id = db.session.scalar(select(Submission.round_id).where(Submission.id.in_(ids)).limit(1)) if ids else None
            self._counts[ids] = counts_store.counts_frame(round_id, ids) if round_id is not None else counts_store.counts_frame(0, [])
        return self._counts[ids]

    def screen(self, subs: Iterable[Submission]) -> list[tuple[Submission, Exception]]:
        """Decode each submission on its own (the frames are kept for the compute); the ones that
        cannot be decoded, with why. A database error is raised: it is nobody's submission."""
        broken = []
        for sub in subs:
            if sub.id in self._frames:
                continue
            try:
                self._frames[sub.id] = contributions_frame([sub], self.schooljaar)
            except (SQLAlchemyError, MemoryError):
                raise
            except Exception as exc:  # noqa: BLE001 — whatever a node's data makes the loader raise
                broken.append((sub, exc))
        return broken

    def _frames_of(self, submission_ids: list[int]) -> list[pd.DataFrame]:
        missing = [i for i in submission_ids if i not in self._frames]
        if missing:
            subs = db.session.scalars(select(Submission).where(Submission.id.in_(missing))).all()
            for sub in subs:
                self._frames[sub.id] = contributions_frame([sub], self.schooljaar)
        return [self._frames[i] for i in sorted(submission_ids)]

    def contributions(self, submission_ids: list[int]) -> pd.DataFrame:
        frames = self._frames_of(submission_ids)
        if not frames:
            return contributions_frame([], self.schooljaar)
        return sort_contributions(pd.concat(frames, ignore_index=True))

    def locations(self, submission_ids: list[int]) -> set[str]:
        """The vestigingscodes the submissions have cells for (in the round's school year)."""
        return {str(code) for frame in self._frames_of(submission_ids) for code in frame["vestigingscode"].unique()}


def without(contrib: pd.DataFrame, held_back: Iterable[str] | None) -> pd.DataFrame:
    """The contributions without the cells of the held-back vestigingen (so at no level at all)."""
    held = set(held_back or ())
    if not held:
        return contrib
    return contrib[~contrib["vestigingscode"].isin(held)].reset_index(drop=True)


def published_locations(schooljaar: str) -> set[str] | None:
    """The vestigingscodes in the releases of ``schooljaar`` so far (any round); None when it has none.
    Under the calendar these are exactly the first release's of the school year's first round."""
    if db.session.scalar(select(func.count()).select_from(Release).where(Release.schooljaar == schooljaar)) == 0:
        return None
    return set(db.session.scalars(
        select(ReleaseCell.unit).distinct().join(Release, Release.id == ReleaseCell.release_id)
        .where(Release.schooljaar == schooljaar, ReleaseCell.level == VESTIGING)))


def held_back(schooljaar: str, locations: set[str]) -> list[str]:
    """Of ``locations`` (the next version's), those no release of the school year has published: a
    correction holds them back. [] for the school year's first publication.

    The school year, not only the round: the auditor's history is every release of the school year
    (:func:`earlier_releases`), and a later round of the same year that added a school would be
    pinned (and refused) the same way a correction would."""
    known = published_locations(schooljaar)
    return [] if known is None else sorted(locations - known)


def stored_overlap(release: Release) -> list[CountKey] | None:
    """The overlap counts a stored release was built from (``audit["overlap"]["counts"]``); None for a
    release from before the overlap figures (it used none)."""
    found = ((release.audit or {}).get("overlap") or {}).get("counts")
    return None if found is None else [(str(v), int(s), int(g)) for v, s, g in found]


def seen_overlap(release: Release) -> list[CountKey]:
    """The overlap counts the release's combine could read (used or not): new counts make a round pending."""
    found = ((release.audit or {}).get("overlap") or {}).get("seen") or []
    return [(str(v), int(s), int(g)) for v, s, g in found]


def _release_contributions(inputs: _Inputs, submission_ids: list[int], held: Iterable[str],
                           used: list[CountKey] | None, earlier: Iterable[dict[str, Coverage]] = ()):
    """The contributions of a release: its submissions' cells and the overlap figures' rows (coverage.py),
    without the held-back schools. ``used``: the counts a stored release used (a rebuild, the history),
    else None (every count of the submissions, under the coverage of the ``earlier`` releases)."""
    contrib = without(inputs.contributions(submission_ids), held)
    counts = inputs.overlap_counts(submission_ids)
    if used is not None:
        keep = set(used)
        counts = counts[[k in keep for k in zip(counts["vestigingscode"].astype(str), counts["swv_submission_id"].astype(int),
                                                counts["gemeente_submission_id"].astype(int))]]
        earlier = ()
    overlap = overlap_contributions(contrib, counts, inputs.schooljaar, inputs.threshold, earlier)
    seen = count_keys(inputs.overlap_counts(submission_ids))
    if len(overlap.rows):
        contrib = sort_contributions(pd.concat([contrib, overlap.rows], ignore_index=True))
    return contrib, overlap, seen


def _history(gate: _Gate, inputs: _Inputs, earlier: list[Release]) -> list[tuple[pd.DataFrame, pd.DataFrame]]:
    """Each earlier release's (combined, release frame), its overlap figures made from its stored counts."""
    pairs = []
    for rel in earlier:
        contrib, _, _ = _release_contributions(inputs, list(rel.submission_ids), rel.held_back or (),
                                               stored_overlap(rel) or [])
        combined = gate.combine_cells(contrib, schools_frame(contrib["vestigingscode"], rel.schooltypes or {}))
        pairs.append((combined, release_frame(rel)))
    return pairs


def _coverages(inputs: _Inputs, earlier: list[Release]) -> list[dict[str, Coverage]]:
    """Per earlier release, the coverage of each school it published overlap figures for (coverage.py)."""
    out = []
    for rel in earlier:
        used = stored_overlap(rel) or []
        out.append(coverage_of(inputs.overlap_counts(list(rel.submission_ids)), used) if used else {})
    return out


#: How often a release leaves out the overlap figures of the schools its unproven cells point at
#: before it leaves out all of them.
FIGURE_RETRIES = 3


def _schools_behind(unproven: list[tuple], overlap, schooltypes: dict[str, str]) -> set[str]:
    """The covered schools whose overlap figures the unproven cells point at: a school-level cell's
    own school, every covered school of a school-type cell; empty when a regio cell is among them
    or they are every covered school (then no school alone is to blame)."""
    covered = set(overlap.coverage)
    out: set[str] = set()
    for level, unit, *_ in unproven:
        if level == VESTIGING:
            if unit in covered:
                out.add(unit)
        elif level == SCHOOLTYPE:
            out |= {v for v in covered if schooltypes.get(v) == unit}
        else:
            return set()
    return out if out < covered else set()


def _schooltypes_in(contrib: pd.DataFrame, schooltypes: dict[str, str]) -> dict[str, str]:
    """The school types of the vestigingen the contributions have cells for."""
    present = set(contrib["vestigingscode"].unique())
    return {c: t for c, t in schooltypes.items() if c in present}


def compute(
    schooljaar: str,
    submission_ids: list[int],
    schooltypes: dict[str, str],
    earlier: list[Release],
    gate: _Gate | None = None,
    inputs: _Inputs | None = None,
    progress: Progress | None = None,
    held_back: Iterable[str] = (),
    overlap_counts: list[CountKey] | None = None,
) -> Computed:
    """Combine (without the ``held_back`` vestigingen), gate and digest; reads stored data only,
    writes nothing. ``progress`` hears of steps 2 and 3 of :data:`STEPS` (the caller reports the others).
    ``overlap_counts``: the counts a stored release used (a rebuild); None: every count of the
    submissions (hub/services/overlap.py), under the coverage the school year published (coverage.py)."""
    gate = gate or _Gate()
    inputs = inputs or _Inputs(schooljaar)
    inputs.threshold = gate.config.threshold
    report(progress, 2, len(STEPS), STEPS[1])
    held = sorted(set(held_back))
    history, coverages = _history(gate, inputs, earlier), _coverages(inputs, earlier)
    contrib, overlap, seen = _release_contributions(inputs, submission_ids, held, overlap_counts, coverages)
    used = _schooltypes_in(contrib, schooltypes)
    combined = gate.combine_cells(contrib, schools_frame(contrib["vestigingscode"], used))
    report(progress, 3, len(STEPS), STEPS[2])
    result = gate.apply_gate(combined, gate.config, history=history)
    dropped = None
    for _ in range(FIGURE_RETRIES):
        if not (result.audit.get("failed") and overlap.used and overlap_counts is None):
            break
        # First leave out only the schools the unproven cells point at (a school's own cells, or
        # every covered school of an unproven school-type cell); a regio cell, or nothing left to
        # leave out, falls through to the release without any figures below.
        drop = _schools_behind(result.unproven, overlap, used)
        if not drop:
            break
        log.info("overlap figures of %s schools left out of a release of %s: the audit could not prove "
                 "%s cells with them", len(drop), schooljaar, result.audit.get("failed"))
        keep = [k for k in overlap.used if k[0] not in drop]
        contrib, overlap, seen = _release_contributions(inputs, submission_ids, held, keep, ())
        used = _schooltypes_in(contrib, schooltypes)
        combined = gate.combine_cells(contrib, schools_frame(contrib["vestigingscode"], used))
        result = gate.apply_gate(combined, gate.config, history=history)
        dropped = "schools"
    if result.audit.get("failed") and overlap.used and overlap_counts is None:
        # The overlap figures must never stop a round: when the auditor cannot prove the release with
        # them, it is published without them (as before the exchange), and says so. A rebuild reads the
        # stored empty list and makes the same release.
        log.warning("overlap figures left out of a release of %s: the audit could not prove them (%s cells)",
                    schooljaar, result.audit.get("failed"))
        contrib, overlap, seen = _release_contributions(inputs, submission_ids, held, [], ())
        used = _schooltypes_in(contrib, schooltypes)
        combined = gate.combine_cells(contrib, schools_frame(contrib["vestigingscode"], used))
        result = gate.apply_gate(combined, gate.config, history=history)
        dropped = "audit_failed"
    data = gate.release_bytes(result.release)
    audit_info = _jsonable(result.audit)
    # Which counts the overlap figures were made from, so a rebuild and a later release's history use
    # the same ones; and which it could read, so new counts make the round pending again.
    audit_info["overlap"] = {"counts": [list(k) for k in overlap.used], "seen": [list(k) for k in seen],
                             "schools": len(overlap.coverage), "left_out": dropped}
    return Computed(
        release=result.release,
        digest=hashlib.sha256(data).hexdigest(),
        audit=audit_info,
        schooltypes=dict(sorted(used.items())),
        held_back=held,
    )


def earlier_releases(schooljaar: str, before_release_id: int | None = None) -> list[Release]:
    """Releases already published for ``schooljaar`` (any round), oldest first."""
    query = select(Release).where(Release.schooljaar == schooljaar).order_by(Release.id)
    if before_release_id is not None:
        query = query.where(Release.id < before_release_id)
    return list(db.session.scalars(query))


def _flags(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, str):
        return value
    try:
        return ",".join(sorted(str(v) for v in value))
    except TypeError:
        return str(value)


def _cell_rows(release_id: int, frame: pd.DataFrame) -> list[dict[str, Any]]:
    rows = []
    for rec in frame.itertuples(index=False):
        published = rec.status == PUBLISHED
        value = rec.value
        missing = value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value))
        rows.append(
            {
                "release_id": release_id,
                "level": str(rec.level),
                "unit": str(rec.unit),
                "schooljaar": str(rec.schooljaar),
                "measure": str(rec.measure),
                "category": str(rec.category),
                "status": str(rec.status),
                # A suppressed cell's value is never stored, whatever the frame says.
                "value": int(value) if published and not missing else None,
                "reason": None if rec.reason is None or rec.reason is pd.NA or rec.reason != rec.reason or rec.reason == "" else str(rec.reason),
                "flags": _flags(rec.flags),
            }
        )
    return rows


# --- the task body -------------------------------------------------------------------------------


def _pause_for_tests(digest: str) -> None:
    """Test hook: hold here (computed, not committed) while ``COMBINE_PAUSE_FILE`` exists, after
    writing ``<file>.reached`` with this process id and the digest about to be committed, so a
    test can kill the worker at exactly this moment. Refused in production by hub/config.py."""
    path = current_app.config.get("COMBINE_PAUSE_FILE")
    if not path or not os.path.exists(path):
        return
    with open(f"{path}.reached", "w") as fh:
        fh.write(f"{os.getpid()} {digest}\n")
    while os.path.exists(path):
        time.sleep(0.05)


def _write_status(round_id: int, step: int, total: int, label: str) -> None:
    """Record the step in ``combine_status`` in a short transaction of its own, so the rounds page
    of any process sees it at once. Called only while the combine's own session has written nothing
    (SQLite would make this wait for it); a failure here is logged and never stops the combine."""
    now = utcnow()
    try:
        with db.engine.begin() as conn:
            table = CombineStatus.__table__
            if step == 1:
                conn.execute(table.delete().where(table.c.round_id == round_id))
                conn.execute(table.insert().values(round_id=round_id, started_at=now, updated_at=now,
                                                   step=step, steps=total, label=label[:80]))
            else:
                conn.execute(table.update().where(table.c.round_id == round_id)
                             .values(updated_at=now, step=step, steps=total, label=label[:80]))
    except SQLAlchemyError as exc:
        log.warning("round %s: could not record combine step %s (%s)", round_id, step, type(exc).__name__)


def _clear_status(round_id: int) -> None:
    try:
        with db.engine.begin() as conn:
            table = CombineStatus.__table__
            conn.execute(table.delete().where(table.c.round_id == round_id))
    except SQLAlchemyError as exc:
        log.warning("round %s: could not clear the combine status (%s)", round_id, type(exc).__name__)


#: What ``_combine_once`` returns after quarantining: read the round again.
_QUARANTINED = object()


_YEAR_LOCKS: dict[str, threading.Lock] = {}
_YEAR_LOCKS_GUARD = threading.Lock()


def _school_year_lock(schooljaar: str) -> threading.Lock:
    """This process's lock for the combines of one school year: the background jobs of two rounds run
    side by side (hub/jobs.py), and two rounds of one school year share their history."""
    with _YEAR_LOCKS_GUARD:
        return _YEAR_LOCKS.setdefault(schooljaar, threading.Lock())


def combine_round(round_id: int, *, attempts: int = 3, wait_for_all: bool = False,
                  progress: Progress | None = None, now: datetime | None = None) -> int | None:
    """Bring the round's current release up to date; returns the new release id, or None when
    nothing had to change.

    ``wait_for_all`` (the automatic path: the task after an upload, the sweep): a round's FIRST
    publication waits until every expected municipality has submitted, its deadline has passed
    (at ``now``), or the round is closed. A release of a few municipalities followed by one of all
    would let a reader subtract the two and narrow the later ones' cells. The admin's
    ``jeugdhub round combine`` (:func:`publish_now`) publishes what is there.

    ``progress`` (optional) hears of each of :data:`STEPS` as it starts; whether or not it is
    given, the step is also recorded in ``combine_status`` while the combine runs (the rounds page).
    A combine with nothing to do reports no step.
    """
    frames: dict[int, pd.DataFrame] = {}  # decoded submissions, kept across attempts (they never change)
    started = []

    def step(number: int, total: int, label: str) -> None:
        started.append(number)
        _write_status(round_id, number, total, label)
        report(progress, number, total, label)

    year_lock = _school_year_lock(get_round(round_id).schooljaar)
    db.session.rollback()
    try:
        for attempt in range(1, attempts + 1):
            try:
                with year_lock:
                    result = _combine_once(round_id, frames, wait_for_all, step, now)
                    while result is _QUARANTINED:  # finite: each pass sets at least one submission aside
                        result = _combine_once(round_id, frames, wait_for_all, step, now)
                return result
            except IntegrityError:
                # Another worker wrote this version first; recheck against what it wrote.
                db.session.rollback()
                log.info("combine of round %s lost a race (attempt %s); rechecking", round_id, attempt)
    finally:
        if started:
            _clear_status(round_id)
    raise ConflictError(f"Ronde {round_id} kon niet worden samengevoegd door gelijktijdige schrijvers", code="conflict")


def _quarantine(sub: Submission, exc: Exception) -> None:
    """Set ``sub`` aside with the reason an admin sees; the caller commits."""
    if isinstance(exc, JeugdhubError):
        code, reason = exc.code, exc.message
    else:
        code, reason = "combine_failed", f"De inzending kon niet worden samengevoegd ({type(exc).__name__})"
    sub.quarantine_code = code[:40]
    sub.quarantine_reason = reason[:500]
    sub.quarantined_at = utcnow()
    log.warning(
        "round %s: submission %s of node %s quarantined (%s, %s); the round is published without it",
        sub.round_id, sub.id, sub.node.code, code, type(exc).__name__,
    )  # fmt: skip


def _combine_once(round_id: int, frames: dict[int, pd.DataFrame], wait_for_all: bool = False,
                  progress: Progress | None = None, now: datetime | None = None) -> int | None | object:
    """One attempt; :data:`_QUARANTINED` when it set submissions aside (then the caller retries)."""
    try:
        schooljaar = get_round(round_id).schooljaar
        # FOR NO KEY UPDATE on every round of the school year (in id order): serialises the combiners of
        # the school year without blocking submissions (their foreign key only takes a KEY SHARE lock).
        # Not only this round's: a release's history and held-back schools are the school year's, so a
        # second round of the same year must not be audited without the first's release (PostgreSQL;
        # in one process combine_round also holds the school year's lock, for SQLite).
        year = db.session.scalars(
            select(Round)
            .where(Round.schooljaar == schooljaar)
            .order_by(Round.id)
            .with_for_update(key_share=True)
            .execution_options(populate_existing=True)
        ).all()
        rnd = next(r for r in year if r.id == round_id)
        # One read serves both the build and the "all there" check (see waiting_for).
        present = current_submissions(round_id)
        subs = [s for s in present if not s.quarantined]
        ids = sorted(s.id for s in subs)
        current = db.session.get(Release, rnd.current_release_id) if rnd.current_release_id else None
        if not ids or (current is not None and up_to_date(current, round_id, ids)):
            db.session.rollback()
            return None
        missing = waiting_for(rnd, now=now, submitted=present) if wait_for_all else []
        if missing:
            log.info("round %s: publication waits for %s nodes (submissions or overlap exchanges)", round_id, len(missing))
            db.session.rollback()
            return None
        report(progress, 1, len(STEPS), STEPS[0])
        inputs = _Inputs(rnd.schooljaar, frames)
        broken = inputs.screen(subs)
        if broken:
            # Committed on their own, so the admin sees them even if the gate fails next; the
            # caller then reads the round again without them (decoded frames are kept).
            for sub, exc in broken:
                _quarantine(sub, exc)
            db.session.commit()
            return _QUARANTINED
        # The version is fixed before computing: a competitor that commits meanwhile makes our
        # insert collide on (round_id, version), and the retry then finds the round up to date.
        version = (db.session.scalar(select(func.max(Release.version)).where(Release.round_id == round_id)) or 0) + 1
        # A correction leaves out the schools the school year has never published (read from its
        # stored releases, so a retry holds back the same ones).
        held = held_back(rnd.schooljaar, inputs.locations(ids))
        computed = compute(rnd.schooljaar, ids, reference_schooltypes(), earlier_releases(rnd.schooljaar), inputs=inputs,
                           progress=progress, held_back=held)
        unproven = int((computed.audit or {}).get("failed", 0) or 0)
        if unproven:
            # The auditor could not prove every suppressed cell protected: publishing could reveal
            # one. The previous release stays current; the round shows as pending until fixed.
            db.session.rollback()
            log.warning("round %s: audit left %s suppressed cells unproven; nothing published", round_id, unproven)
            raise DisclosureAuditFailed(
                f"Ronde {round_id}: de controle kon {unproven} afgeschermde cel(len) niet als veilig bewijzen; "
                "er is niets gepubliceerd en de vorige release blijft staan",
                details={"round_id": round_id, "unproven_cells": unproven},
            )
        # Reported before the first write of this transaction (see _write_status).
        report(progress, 4, len(STEPS), STEPS[3])
        statuses = computed.release["status"].astype(str)
        release = Release(
            round_id=round_id,
            version=version,
            schooljaar=rnd.schooljaar,
            digest=computed.digest,
            submission_ids=ids,
            audit=computed.audit,
            schooltypes=computed.schooltypes,
            held_back=computed.held_back,
            cell_count=int(len(computed.release)),
            published_count=int((statuses == PUBLISHED).sum()),
        )
        db.session.add(release)
        db.session.flush()
        rows = _cell_rows(release.id, computed.release)
        if rows:
            db.session.execute(insert(ReleaseCell), rows)
        rnd.current_release_id = release.id
        for sub in subs:
            if sub.combined_in_release_id is None:
                sub.combined_in_release_id = release.id
        # An overlap exchange between these submissions that has not finished is abandoned now: the
        # release goes out without its counts, so no count can arrive later for the same submissions.
        exchange.abandon_unfinished(rnd, ids, first=current is None, now=now)
        _pause_for_tests(computed.digest)
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    log.info("round %s: release v%s (%s cells, digest %s…; %s vestigingen held back)", round_id, version, len(rows),
             computed.digest[:12], len(computed.held_back))
    return release.id


def up_to_date(current: Release, round_id: int, ids: list[int]) -> bool:
    """Whether the current release was built from exactly these submissions and every overlap count of
    them there is now (a count that arrives after a release makes the round pending again)."""
    if list(current.submission_ids) != ids:
        return False
    return count_keys(counts_store.counts_frame(round_id, ids)) == seen_overlap(current)


def pending_rounds(now: datetime | None = None) -> list[int]:
    """Rounds whose usable submissions differ from their current release's (the sweep's work); a
    quarantined submission makes no round pending, nor does a first publication that waits for
    municipalities (``waiting_for``): a round whose deadline passed (at ``now``) is pending again."""
    result = []
    # populate_existing: a caller's session may hold these rows from before another session's commit.
    for rnd in db.session.scalars(select(Round).order_by(Round.id).execution_options(populate_existing=True)):
        present = current_submissions(rnd.id)
        ids = sorted(s.id for s in present if not s.quarantined)
        if not ids or waiting_for(rnd, now=now, submitted=present):
            continue
        current = db.session.get(Release, rnd.current_release_id) if rnd.current_release_id else None
        if current is None or not up_to_date(current, rnd.id, ids):
            result.append(rnd.id)
    db.session.rollback()  # read-only: end the transaction so no snapshot lingers
    return result


def rebuild(release_id: int) -> tuple[str, str]:
    """Recompute a stored release from its submissions and earlier releases: (stored, rebuilt) digests."""
    release = db.session.get(Release, release_id)
    if release is None:
        raise NotFoundError(f"Release {release_id} bestaat niet", code="release_not_found")
    computed = compute(
        release.schooljaar,
        list(release.submission_ids),
        release.schooltypes or {},
        earlier_releases(release.schooljaar, before_release_id=release.id),
        held_back=release.held_back or (),
        overlap_counts=stored_overlap(release) or [],
    )
    db.session.rollback()
    return release.digest, computed.digest


def publish_now(round_id: int, *, actor: str, progress: Progress | None = None, now: datetime | None = None) -> int | None:
    """The admin's combine (``jeugdhub round combine``): publish what is there, without waiting for
    the missing municipalities or the deadline. Every call is a line of the audit log (by ``actor``),
    with what it did; a refused or failed combine is logged as failed and re-raised."""
    rnd = get_round(round_id)
    first = rnd.current_release_id is None
    missing = waiting_for(rnd, now=now)  # whom a first publication now goes out without
    early = first and rnd.status == ROUND_OPEN and rnd.deadline is not None and not deadline_passed(rnd, now)
    db.session.rollback()
    try:
        release_id = combine_round(round_id, progress=progress, now=now)
    except Exception as exc:  # noqa: BLE001 — logged as failed, then raised unchanged
        why = f"geweigerd ({exc.code})" if isinstance(exc, JeugdhubError) else f"mislukt ({type(exc).__name__})"
        try:
            _record_force(actor, f"ronde {round_id} samenvoegen door beheerder: {why}", "failed")
        except SQLAlchemyError as lost:  # the database may be why the combine failed: keep its error
            log.warning("round %s: could not record the failed forced combine (%s)", round_id, type(lost).__name__)
        raise
    if release_id is None:
        target = f"ronde {round_id} samenvoegen door beheerder: niets te doen"
    else:
        release = db.session.get(Release, release_id)
        target = f"ronde {round_id} samengevoegd door beheerder: versie {release.version}"
        if first:
            target += " (eerste publicatie"
            target += ", vóór de termijn" if early else ""
            target += f", zonder {', '.join(missing)})" if missing else ")"
        if release.held_back:
            target += f"; {len(release.held_back)} vestiging(en) achtergehouden"
    _record_force(actor, target, "ok")
    return release_id


def _record_force(actor: str, target: str, result: str) -> None:
    db.session.rollback()  # a failed combine may leave its transaction unusable
    audit.record(None, "admin", target, result=result, actor=actor)
