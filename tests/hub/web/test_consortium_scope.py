"""A consortium user sees only the schools its own consortium's providers serve, and only those providers,
on the coverage page, its CSV and XLSX, and the API; its consortium id must exist when it is added."""

from __future__ import annotations

import csv
import io

import pytest
from openpyxl import load_workbook

from shared.errors import InputError
from tests.hub.web.seed import AGBS, CONSORTIA, PASSWORD, SCHOOLS, YEARS

LATEST = YEARS[-1]
OWN = frozenset(CONSORTIA["Lek"])  # the seeded consortium user's scope is 1, the first consortium
OTHER_AGBS = sorted(set(AGBS) - OWN)
ALL_CODES = {s[0] for s in SCHOOLS}


def _served(seeded, jaar: str) -> set[str]:
    """From the seed's own figures: schools where a provider of consortium 1, or consortium 1 itself
    (``clienten_consortium``), has a published count."""
    return {k[1] for k in seeded.published if k[0] == "vestiging" and k[2] == jaar
            and ((k[3] == "clienten_aanbieder" and k[4] in OWN) or (k[3] == "clienten_consortium" and k[4] == "Lek"))}


def test_seed_leaves_schools_outside_the_consortium(seeded):
    assert _served(seeded, LATEST) and _served(seeded, LATEST) != ALL_CODES


def test_api_shows_only_own_schools_and_providers(client_as, seeded):
    body = client_as("consortium").get(f"/api/v1/aanbieders?schooljaar={LATEST}").get_json()
    codes = {s["vestigingscode"] for s in body["scholen"]}
    assert codes == _served(seeded, LATEST)
    named = {p["aanbieder_agb"] for s in body["scholen"] for p in s["aanbieders"]}
    assert named and named <= OWN
    assert all(s["hhi_ondergrens"] is None and s["aandeel_grootste_procent"] is None for s in body["scholen"])
    assert all(set(s["consortia"]) <= {"Lek"} for s in body["scholen"])
    text = client_as("consortium").get(f"/api/v1/aanbieders?schooljaar={LATEST}").get_data(as_text=True)
    assert not [agb for agb in OTHER_AGBS if agb in text]
    # A gemeente still sees every provider of every school.
    region = client_as("gemeente").get(f"/api/v1/aanbieders?schooljaar={LATEST}").get_json()
    assert {p["aanbieder_agb"] for s in region["scholen"] for p in s["aanbieders"]} > OWN


def test_page_shows_only_own_schools(client_as, seeded):
    html = client_as("consortium").get(f"/aanbieders?schooljaar={LATEST}").get_data(as_text=True)
    outside = ALL_CODES - _served(seeded, LATEST)
    assert not [c for c in outside if c in html]
    assert all(c in html for c in _served(seeded, LATEST))
    assert not [agb for agb in OTHER_AGBS if agb in html]
    assert "alleen de aanbieders van uw consortium" in html


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_exports_show_only_own_schools(client_as, seeded, fmt):
    resp = client_as("consortium").get(f"/aanbieders.{fmt}?schooljaar={LATEST}")
    assert resp.status_code == 200
    if fmt == "csv":
        cells = [c for row in csv.reader(io.StringIO(resp.get_data().decode("utf-8-sig")), delimiter=";") for c in row]
    else:
        wb = load_workbook(io.BytesIO(resp.get_data()))
        cells = [str(c.value) for ws in wb.worksheets for row in ws.iter_rows() for c in row if c.value is not None]
    text = "\n".join(cells)
    assert {c for c in ALL_CODES if c in text} == _served(seeded, LATEST)
    assert not [agb for agb in OTHER_AGBS if agb in text]


def test_consortium_without_members_sees_no_school(web_app):
    from hub.extensions import db
    from hub.models.consortia import Consortium
    from hub.services import users
    from tests.hub.web.helpers import login

    with web_app.app_context():
        empty = Consortium(naam="Leeg")
        db.session.add(empty)
        db.session.commit()
        users.add_user("leeg@example.nl", PASSWORD, "consortium", str(empty.id))
    client = web_app.test_client()
    assert login(client, "leeg@example.nl", PASSWORD).status_code == 302
    assert client.get("/api/v1/aanbieders").get_json()["scholen"] == []


def test_unknown_consortium_id_is_refused(web_app):
    from hub.services import users

    with web_app.app_context():
        with pytest.raises(InputError) as exc:
            users.add_user("nieuw@example.nl", PASSWORD, "consortium", "99")
        assert exc.value.code == "unknown_consortium" and "99" in exc.value.message
        assert users.add_user("ok@example.nl", PASSWORD, "consortium", "2").scope == "2"


def test_cli_refuses_unknown_consortium_id(web_app):
    result = web_app.test_cli_runner().invoke(
        args=["user", "add", "cli@example.nl", "--rol", "consortium", "--scope", "77", "--wachtwoord", PASSWORD])
    assert result.exit_code != 0
    assert "geen consortium met id 77" in result.output


def test_reupload_keeps_consortium_ids(client_as, web_app):
    """A consortium user's scope is an id: a new table must not hand that id to another consortium."""
    from hub.services import consortia

    with web_app.app_context():
        before = {naam: cid for cid, naam, _ in consortia.consortium_ids()}
        consortia.import_csv(b"aanbieder_agb;consortium\n11000002;Nieuw\n11000001;Vaart\n", "t.csv")
        after = {naam: cid for cid, naam, _ in consortia.consortium_ids()}
    assert after["Vaart"] == before["Vaart"] and after["Lek"] == before["Lek"]
    assert after["Nieuw"] not in before.values()
    # Lek has no members any more: its user sees nothing, not Vaart's or Nieuw's schools.
    assert client_as("consortium").get("/api/v1/aanbieders").get_json()["scholen"] == []


def test_other_providers_are_counted_never_named(client_as):
    """Issue 10, item 7: the others appear only as "andere aanbieders"."""
    body = client_as("consortium").get("/api/v1/aanbieders").get_json()
    assert body["scholen"] and all("andere_aanbieders" in s for s in body["scholen"])
    assert any(s["andere_aanbieders"] > 0 for s in body["scholen"])
    html = client_as("consortium").get("/aanbieders").get_data(as_text=True)
    assert "Andere aanbieders met gepubliceerd aantal" in html
