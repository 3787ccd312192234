"""Scope holds on every route: CORE's release cells and the funnel give a role what its pages show, no more."""

from __future__ import annotations

import re

from hub.extensions import db
from hub.indicators.figures import AGGREGATE_MEASURES_SHOWN, REGIO, SCHOOLTYPE
from hub.models.releases import Release, ReleaseCell
from hub.models.rounds import Round
from tests.hub.openapi_helpers import assert_matches_openapi
from tests.hub.web.seed import SCHOOLS, YEARS

J = YEARS[-1]
PO2701 = {s[0] for s in SCHOOLS if s[4] == "PO2701"}
BO = {s[0] for s in SCHOOLS if s[2] == "BO"}


def _cells(client, path: str) -> list[dict]:
    resp = client.get(path)
    assert resp.status_code == 200, resp.get_data(as_text=True)
    assert_matches_openapi(resp, "GET", path)
    return resp.get_json()["cells"]


def _supersede(app, jaar: str) -> tuple[int, int]:
    """A second version of ``jaar``'s release (same cells); returns (superseded id, current id)."""
    with app.app_context():
        rnd = db.session.scalars(db.select(Round).where(Round.schooljaar == jaar)).one()
        old = db.session.get(Release, rnd.current_release_id)
        new = Release(round_id=rnd.id, version=2, schooljaar=jaar, digest="1" * 64, submission_ids=[], audit={},
                      schooltypes=dict(old.schooltypes))
        db.session.add(new)
        db.session.flush()
        cols = ("level", "unit", "schooljaar", "measure", "category", "status", "value", "reason", "flags")
        rows = [{**{c: getattr(x, c) for c in cols}, "release_id": new.id}
                for x in db.session.scalars(db.select(ReleaseCell).where(ReleaseCell.release_id == old.id))]
        db.session.execute(ReleaseCell.__table__.insert(), rows)
        rnd.current_release_id = new.id
        db.session.commit()
        return old.id, new.id


def test_swv_user_gets_release_cells_of_its_own_schools_only(web_app, client_as, seeded):
    old, new = _supersede(web_app, J)
    swv, admin = client_as("swv"), client_as("regio_admin")
    for release_id in (old, new, seeded.release_ids[YEARS[0]]):
        # Naming another SWV's school gives nothing, with or without a level.
        assert _cells(swv, f"/api/v1/releases/{release_id}/cells?level=vestiging&unit=40DA00") == []
        assert _cells(swv, f"/api/v1/releases/{release_id}/cells?unit=40DB00") == []
        assert len(_cells(admin, f"/api/v1/releases/{release_id}/cells?level=vestiging&unit=40DA00")) > 0
        units = {c["unit"] for c in _cells(swv, f"/api/v1/releases/{release_id}/cells?level=vestiging")}
        assert units == PO2701
        # Its own school: every cell, as the regio_admin gets them.
        own = f"/api/v1/releases/{release_id}/cells?level=vestiging&unit=10AB00"
        assert _cells(swv, own) == _cells(admin, own)


def test_a_bearer_token_is_held_to_the_same_scope(web_app, seeded):
    from hub.services.users import create_api_token

    with web_app.app_context():
        token = create_api_token(seeded.users["swv"][0])
    resp = web_app.test_client().get(f"/api/v1/releases/{seeded.release_ids[J]}/cells",
                                     headers={"Authorization": f"Bearer {token}"})
    assert resp.status_code == 200
    units = {c["unit"] for c in resp.get_json()["cells"] if c["level"] == "vestiging"}
    assert units == PO2701


def test_region_roles_get_the_aggregate_cells_their_pages_show(client_as, seeded):
    path = f"/api/v1/releases/{seeded.release_ids[J]}/cells"
    every = _cells(client_as("regio_admin"), path)
    assert {(c["level"], c["measure"]) for c in every if c["level"] != "vestiging"} - {
        (lvl, m) for lvl, ms in AGGREGATE_MEASURES_SHOWN.items() for m in ms}, "the seed should have hidden measures"
    for role in ("gemeente", "swv"):
        cells = _cells(client_as(role), path)
        aggregate = {(c["level"], c["measure"]) for c in cells if c["level"] != "vestiging"}
        assert aggregate == {(c["level"], c["measure"]) for c in every if c["level"] != "vestiging"
                             and c["measure"] in AGGREGATE_MEASURES_SHOWN[c["level"]]}
    # A gemeente sees the region's published school figures, as on its overview.
    assert {c["unit"] for c in _cells(client_as("gemeente"), path) if c["level"] == "vestiging"} == {
        c["unit"] for c in every if c["level"] == "vestiging"}


def test_the_aggregate_measures_are_exactly_what_the_pages_read(client_as, monkeypatch):
    from hub.indicators.cells import ReleaseCells

    read: set[tuple[str, str]] = set()
    real_get, real_categories = ReleaseCells.get, ReleaseCells.categories

    def get(self, level, unit, schooljaar, measure, category=""):
        read.add((level, measure))
        return real_get(self, level, unit, schooljaar, measure, category)

    def categories(self, level, unit, schooljaar, measure):
        read.add((level, measure))
        return real_categories(self, level, unit, schooljaar, measure)

    monkeypatch.setattr(ReleaseCells, "get", get)
    monkeypatch.setattr(ReleaseCells, "categories", categories)
    client = client_as("regio_admin")
    # 10AF00 (15 pupils) has no published figure of its own, so its sections read the school type's.
    for path in ("/overzicht", "/swv/PO2701", "/aanbieders", "/scholen/10AA00", "/scholen/40DA00", "/scholen/10AF00",
                 "/api/v1/regio"):
        assert client.get(path).status_code == 200, path
    shown = {(level, m) for level, ms in AGGREGATE_MEASURES_SHOWN.items() for m in ms}
    assert {(lvl, m) for lvl, m in read if lvl in (SCHOOLTYPE, REGIO)} == shown


def _funnel_points(client, path="/api/v1/schooltypes/BO/funnel"):
    resp = client.get(path)
    assert resp.status_code == 200
    assert_matches_openapi(resp, "GET", path)
    return resp.get_json()


def test_a_school_user_funnel_names_and_sizes_no_other_school(client_as):
    body = _funnel_points(client_as("school"))
    points = body["punten"]
    mine = [p for p in points if p["vestigingscode"] is not None]
    others = [p for p in points if p["vestigingscode"] is None]
    assert [p["vestigingscode"] for p in mine] == ["10AA00"] and mine[0]["leerlingen"] and mine[0]["zone"]
    assert others and all(p["leerlingen"] is None and p["zone"] is None for p in others)
    # Rates to one decimal, in rate order (not the order of the codes).
    assert all(p["per_100"] == round(p["per_100"], 1) for p in others)
    assert [round(p["per_100"], 1) for p in points] == sorted(round(p["per_100"], 1) for p in points)
    # The limits reach no further than the own school asks for, not to the largest school's size.
    full = _funnel_points(client_as("regio_admin"))
    assert len(full["punten"]) == len(points)
    assert body["grenzen"][-1]["leerlingen"] <= mine[0]["leerlingen"] * 3 // 2
    # The factsheet's funnel is the same one.
    assert client_as("school").get("/api/v1/scholen/10AA00").get_json()["funnel"] == body
    # Who sees every school of the type gets the whole funnel, in code order, as before.
    assert {p["vestigingscode"] for p in full["punten"]} <= BO and all(p["leerlingen"] for p in full["punten"])
    assert [p["vestigingscode"] for p in full["punten"]] == sorted(p["vestigingscode"] for p in full["punten"])
    assert _funnel_points(client_as("gemeente")) == full


def test_funnels_only_for_the_types_of_schools_in_scope(client_as):
    swv = client_as("swv")
    assert swv.get("/api/v1/schooltypes/VO/funnel").status_code == 403
    assert swv.get("/api/v1/schooltypes/BO/funnel").status_code == 200
    assert client_as("school").get("/api/v1/schooltypes/SBO/funnel").status_code == 403


def _double_school(app, code: str) -> None:
    """Twice the pupils and twice the clients at ``code``: the same rate, another size."""
    with app.app_context():
        cells = db.session.scalars(db.select(ReleaseCell).where(
            ReleaseCell.unit == code, ReleaseCell.level == "vestiging",
            ReleaseCell.measure.in_(("leerlingen", "clienten")))).all()
        assert len(cells) == 2 * len(YEARS)
        for cell in cells:
            cell.value *= 2
        db.session.commit()
    app.extensions.pop("jeugdhub_region_data", None)  # the region data cache keys on releases, not values


def _funnel_svg(client) -> str:
    html = client.get(f"/scholen/10AA00?schooljaar={J}").get_data(as_text=True)
    section = html[html.index('id="funnel"'):]
    return re.search(r"<svg.*?</svg>", section, re.S).group(0)


def test_another_school_size_reaches_neither_the_school_user_json_nor_its_chart(web_app, client_as):
    school, admin = client_as("school"), client_as("regio_admin")
    before = (_funnel_points(school), _funnel_svg(school), _funnel_points(admin))
    _double_school(web_app, "10AB00")
    after = (_funnel_points(school), _funnel_svg(school), _funnel_points(admin))
    assert after[2] != before[2], "the regio_admin's funnel should show the new size"
    assert after[0] == before[0]
    assert after[1] == before[1]


def test_the_factsheet_says_where_the_other_schools_are(client_as):
    note = "Scholen buiten uw bereik staan rechts naast de trechter"
    assert note in client_as("school").get("/scholen/10AA00").get_data(as_text=True)
    assert note not in client_as("swv").get("/scholen/10AA00").get_data(as_text=True)  # every BO school is in PO2701
