"""Issue 11, item 5: SWV pages that show something. The list holds only SWVs with schools in the
region; an SWV without figures says why; the demo's SWV user gets the best-covered SWV."""

from __future__ import annotations

import re

import pytest


@pytest.fixture
def outside_swv(web_app):
    """PO0001 (alphabetically first) has one school, in Culemborg, which does not take part."""
    from hub.extensions import db
    from hub.models.reference import Samenwerkingsverband, SwvMembership, Vestiging

    with web_app.app_context():
        db.session.add(Samenwerkingsverband(code="PO0001", naam="Passend Onderwijs Rivierenland", sector="PO"))
        db.session.add(Vestiging(vestigingscode="99ZZ00", instellingscode="99ZZ", naam="De Waal", soort="BO",
                                 gemeentecode="0216", gemeentenaam="CULEMBORG", plaatsnaam="CULEMBORG",
                                 swv_code="PO0001", active=True))
        db.session.flush()
        db.session.add(SwvMembership(vestigingscode="99ZZ00", sector="PO", swv_code="PO0001"))
        db.session.commit()
    return "PO0001"


def test_the_list_holds_only_swvs_with_schools_in_the_region(client_as, outside_swv):
    html = client_as("regio_admin").get("/swv").get_data(as_text=True)
    assert "/swv/PO2701" in html and "/swv/VO2702" in html
    assert "/swv/PO0001" not in html and "Rivierenland" not in html
    assert "1 andere heeft geen school met leerlingen uit een deelnemende gemeente" in html
    row = html.split("/swv/VO2702")[1].split("</tr>")[0]
    assert re.search(r'<td class="count">2</td>', row)  # its schools in the region, not all DUO knows


def test_an_swv_without_figures_says_why(client_as, outside_swv):
    html = client_as("regio_admin").get("/swv/PO0001").get_data(as_text=True)
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))
    assert "uit 0 gemeenten" not in text and "in 0 gemeenten" not in text
    assert "Geen cijfers voor dit samenwerkingsverband" in text
    assert "Geen van zijn 1 scholen heeft leerlingen uit een gemeente die meedoet" in text


def test_an_swv_whose_figures_are_all_hidden_says_so(web_app, client_as):
    from hub.extensions import db
    from hub.models.releases import ReleaseCell

    assert "Geen cijfers te tonen" not in client_as("regio_admin").get("/swv/VO2702").get_data(as_text=True)
    with web_app.app_context():
        db.session.query(ReleaseCell).filter(ReleaseCell.unit.in_(["40DA00", "40DB00"]),
                                             ReleaseCell.measure == "clienten").update(
            {"status": "suppressed_secondary", "value": None}, synchronize_session=False)
        db.session.commit()
        web_app.extensions.pop("jeugdhub_region_data", None)
    html = client_as("regio_admin").get("/swv/VO2702").get_data(as_text=True)
    assert "Geen cijfers te tonen" in html and "afgeschermd" in html


def test_the_demo_swv_user_gets_the_best_covered_swv(web_app, outside_swv):
    from hub.services import indicators as svc

    with web_app.app_context():
        assert svc.best_covered_swv(svc.load()) == "PO2701"  # 9 covered schools; PO0001 sorts first but has none
        assert "PO0001" not in svc.swvs_in_region(svc.load())


def test_demo_uses_best_covered_swv():
    import inspect

    from hub import demo

    assert "best_covered_swv" in inspect.getsource(demo._demo_users)


def test_the_overview_swv_filter_offers_only_swvs_in_the_region(client_as, outside_swv):
    html = client_as("regio_admin").get("/overzicht").get_data(as_text=True)
    select = html.split('<select id="swv"')[1].split("</select>")[0]
    assert 'value="PO2701"' in select and 'value="PO0001"' not in select
