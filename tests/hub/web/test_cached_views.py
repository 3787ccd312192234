"""The cached overview and factsheet (pages and API, hub/cache.py): each scope gets its own answer from
the cache, a cached answer is the uncached one byte for byte, and a new publication or consortium
table is shown at once."""

from __future__ import annotations

import re

import pytest

from hub import cache
from hub.extensions import db
from hub.models.releases import Release, ReleaseCell
from hub.models.rounds import Round
from tests.hub.web.seed import SCHOOLS, YEARS

J = YEARS[-1]
PO2701 = {s[0] for s in SCHOOLS if s[4] == "PO2701"}
_CSRF = re.compile(r'name="csrf_token" value="[^"]+"')

URLS = ("/overzicht", "/overzicht?sort=-clienten_per_100&schooltype=BO", f"/overzicht?schooljaar={YEARS[0]}&zoek=de",
        "/api/v1/scholen", "/api/v1/scholen?sort=-dekking&gemeente=0356", "/scholen/10AA00",
        f"/scholen/10ab00?schooljaar={YEARS[0]}", "/scholen/40DA00", "/api/v1/scholen/10AA00",
        f"/api/v1/scholen/40DA00?schooljaar={YEARS[0]}")


def _get(client, url: str) -> tuple[int, str]:
    resp = client.get(url)
    return resp.status_code, _CSRF.sub('name="csrf_token" value="-"', resp.get_data(as_text=True))


def _uncached(app, client, url: str) -> tuple[int, str]:
    app.config["CACHE_ENABLED"] = False
    try:
        return _get(client, url)
    finally:
        app.config["CACHE_ENABLED"] = True


@pytest.mark.parametrize("role", ["regio_admin", "gemeente", "swv", "school"])
def test_a_cached_answer_is_the_uncached_one(web_app, client_as, role):
    client = client_as(role)
    for url in URLS:
        uncached = _uncached(web_app, client, url)
        first, second = _get(client, url), _get(client, url)
        assert first == uncached, url
        assert second == uncached, url
    with web_app.app_context():
        assert cache.view_cache().hits > 0


def test_a_cache_hit_for_another_scope_is_that_scopes_own_view(web_app, client_as):
    admin, swv, school = client_as("regio_admin"), client_as("swv"), client_as("school")
    # The admin fills the cache first; every other scope must get its own answer, not the admin's.
    for url in ("/api/v1/scholen", "/overzicht", "/api/v1/scholen/10AA00", "/scholen/10AA00"):
        _get(admin, url), _get(admin, url)
    shown = {s["vestigingscode"] for s in swv.get("/api/v1/scholen").get_json()["scholen"]}
    assert shown == PO2701
    assert "Lekstroom College" in _get(admin, "/overzicht")[1]
    assert "Lekstroom College" not in _get(swv, "/overzicht")[1]  # a VO school: outside PO2701

    # The funnel names other schools to the admin only; the school sees them as anonymous points.
    mine = school.get("/api/v1/scholen/10AA00").get_json()["funnel"]["punten"]
    full = admin.get("/api/v1/scholen/10AA00").get_json()["funnel"]["punten"]
    assert all(p["vestigingscode"] for p in full) and any(p["vestigingscode"] is None for p in mine)
    assert _get(school, "/api/v1/scholen/10AA00") == _uncached(web_app, school, "/api/v1/scholen/10AA00")
    assert _get(school, "/scholen/10AA00") == _uncached(web_app, school, "/scholen/10AA00")

    # What the admin has cached stays out of reach where the scope ends.
    for url in ("/api/v1/scholen/40DA00", "/scholen/40DA00"):
        _get(admin, url)
        assert swv.get(url).status_code == 403
        assert school.get(url).status_code == 403


def test_two_users_of_one_scope_share_an_answer_each_with_their_own_header(web, client_as):
    from hub.services import users

    app, seeded = web
    with app.app_context():
        users.add_user("tweede-gemeente@example.nl", "correct-horse-battery-staple", "gemeente", "0356", naam="Tweede")
    first = client_as("gemeente")
    second = app.test_client()
    from tests.hub.web.helpers import login

    assert login(second, "tweede-gemeente@example.nl", "correct-horse-battery-staple").status_code == 302
    page_one = first.get("/overzicht").get_data(as_text=True)
    with app.app_context():
        hits = cache.view_cache().hits
    page_two = second.get("/overzicht").get_data(as_text=True)
    with app.app_context():
        assert cache.view_cache().hits == hits + 1
    assert "tweede-gemeente@example.nl" in page_two and "tweede-gemeente@example.nl" not in page_one
    # Each page carries its own session's form token, in the header and in the archive form alike.
    tokens_one, tokens_two = (set(re.findall(r'name="csrf_token" value="([^"]+)"', p)) for p in (page_one, page_two))
    assert len(tokens_one) == len(tokens_two) == 1 and tokens_one != tokens_two
    assert "csrf-" not in page_two


def _republish(app, change: int) -> None:
    """A new release of J: the same cells, 10AA00's published client count raised by ``change``."""
    with app.app_context():
        rnd = db.session.scalars(db.select(Round).where(Round.schooljaar == J)).one()
        old = db.session.get(Release, rnd.current_release_id)
        new = Release(round_id=rnd.id, version=old.version + 1, schooljaar=J, digest="2" * 64, submission_ids=[],
                      audit={}, schooltypes=dict(old.schooltypes))
        db.session.add(new)
        db.session.flush()
        cols = ("level", "unit", "schooljaar", "measure", "category", "status", "value", "reason", "flags")
        rows = []
        for x in db.session.scalars(db.select(ReleaseCell).where(ReleaseCell.release_id == old.id)):
            row = {**{c: getattr(x, c) for c in cols}, "release_id": new.id}
            if (x.level, x.unit, x.measure, x.category) == ("vestiging", "10AA00", "clienten", ""):
                assert x.status == "published"
                row["value"] = x.value + change
            rows.append(row)
        db.session.execute(ReleaseCell.__table__.insert(), rows)
        rnd.current_release_id = new.id
        db.session.commit()


def test_a_new_release_is_shown_at_once(web_app, client_as):
    admin = client_as("regio_admin")
    before = admin.get("/api/v1/scholen/10AA00").get_json()
    page_before = _get(admin, "/scholen/10AA00")
    overview_before = _get(admin, "/api/v1/scholen")
    _get(admin, "/scholen/10AA00"), _get(admin, "/api/v1/scholen")  # cached now

    _republish(web_app, 25)

    after = admin.get("/api/v1/scholen/10AA00").get_json()
    assert after["release_id"] != before["release_id"]
    clients = lambda sheet: sheet["school"]["clienten_per_100"]["clienten"]["value"]  # noqa: E731
    assert clients(after) == clients(before) + 25
    for url, old in (("/scholen/10AA00", page_before), ("/api/v1/scholen", overview_before)):
        new = _get(admin, url)
        assert new != old
        assert new == _uncached(web_app, admin, url)


def test_a_new_consortium_table_is_shown_at_once(web_app, client_as):
    from hub.services import consortia

    admin = client_as("regio_admin")

    def names() -> set[str]:
        sheet = admin.get("/api/v1/scholen/10AA00").get_json()
        return {p["aanbieder_naam"] for p in sheet["aanbieders"]["aanbieders"]}

    first = names()
    assert "Zorg Eén" not in first
    # As many rows as before, straight after: SQLite hands them the same ids; the upload time differs.
    with web_app.app_context():
        consortia.import_csv(b"aanbieder_agb;aanbieder_naam;consortium\n11000001;Zorg Een;Lek\n11000006;Zorg Zes;Lek\n"
                             b"11000003;Zorg Drie;Vaart\n11000005;Zorg Vijf;Vaart\n", "een.csv")
    assert "Zorg Een" in names()
    with web_app.app_context():
        consortia.import_csv("aanbieder_agb;aanbieder_naam;consortium\n11000001;Zorg Eén;Lek\n11000006;Zorg Zes;Lek\n"
                             "11000003;Zorg Drie;Vaart\n11000005;Zorg Vijf;Vaart\n".encode(), "twee.csv")
    assert "Zorg Eén" in names() and "Zorg Een" not in names()
