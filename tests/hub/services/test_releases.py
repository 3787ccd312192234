"""hub/services/releases.py: the one-query current release ids every request checks agree with the
full summaries they stand in for, also when a later round of a school year has a release of its own."""

from __future__ import annotations

from datetime import date

from hub.extensions import db
from hub.models.releases import Release
from hub.models.rounds import Round
from hub.services import releases


def _round(jaar: str, version: int = 1, current: bool = True) -> tuple[Round, Release]:
    rnd = Round(schooljaar=jaar, peildatum=date(int(jaar[:4]), 10, 1), status="closed", expected_nodes=[])
    db.session.add(rnd)
    db.session.flush()
    release = Release(round_id=rnd.id, version=version, schooljaar=jaar, digest="0" * 64, submission_ids=[],
                      audit={}, schooltypes={})
    db.session.add(release)
    db.session.flush()
    if current:
        rnd.current_release_id = release.id
    return rnd, release


def test_current_release_ids_are_the_current_releases(app):
    assert releases.current_release_ids() == {}
    _round("2023-2024")
    _, first = _round("2024-2025")
    _round("2024-2025", current=False)  # a later round without a publication yet
    db.session.commit()
    expected = {r.schooljaar: r.id for r in releases.current_releases()}
    assert releases.current_release_ids() == expected and expected["2024-2025"] == first.id
    _, later = _round("2024-2025")  # a later round that did publish: its release is the year's
    db.session.commit()
    assert releases.current_release_ids() == {r.schooljaar: r.id for r in releases.current_releases()}
    assert releases.current_release_ids()["2024-2025"] == later.id
