"""Support and youth care together on the pages: the factsheet section "Onderwijsondersteuning en jeugdhulp",
the API's ``secties.ondersteuning_jeugdhulp``, the SWV page's overlap and totals, and the help page's plain
explanation; only published values, never a hidden one."""

from __future__ import annotations

import json

from tests.hub.web.seed import CANARIES

J = "2024-2025"


def test_the_factsheet_shows_the_three_groups_per_100_pupils_and_the_coverage(client_as, seeded):
    html = client_as("regio_admin").get(f"/scholen/10AA00?schooljaar={J}").get_data(as_text=True)
    assert 'id="ondersteuning-jeugdhulp">Onderwijsondersteuning en jeugdhulp</h2>' in html
    assert "Ondersteuning én jeugdhulp" in html and "Alleen ondersteuning" in html and "Alleen jeugdhulp" in html
    compared = seeded.published.get(("vestiging", "10AA00", J, "clienten_vergeleken", ""))
    clients = seeded.published.get(("vestiging", "10AA00", J, "clienten", ""))
    if compared is not None and clients is not None:
        assert f"{compared} van de {clients} kinderen met jeugdhulp op deze school" in html
    assert "/help#overlap" in html
    for canary in CANARIES:
        assert str(canary) not in html


def test_a_school_without_a_count_says_why_in_one_sentence(client_as):
    html = client_as("regio_admin").get(f"/scholen/10AB00?schooljaar={J}").get_data(as_text=True)
    assert "is niet geteld hoeveel leerlingen zowel ondersteuning als jeugdhulp hebben" in html
    other = client_as("regio_admin").get(f"/scholen/40DA00?schooljaar={J}").get_data(as_text=True)  # another SWV
    assert "is niet geteld hoeveel leerlingen zowel ondersteuning als jeugdhulp hebben" in other


def test_the_api_gives_the_section_with_only_published_values(client_as, seeded):
    data = client_as("gemeente").get(f"/api/v1/scholen/10AA00?schooljaar={J}").get_json()
    sec = data["secties"]["ondersteuning_jeugdhulp"]
    assert sec["geteld"] is True and sec["uitleg"] and sec["school"]["scholen_geteld"] == 1
    for group in sec["school"]["groepen"]:
        key = ("vestiging", "10AA00", J, group["maat"], "")
        if group["status"] == "published":
            assert group["value"] == seeded.published[key]
        else:
            assert group["value"] is None and group["per_100"] is None
    assert sec["schooltype"]["niveau"] == "schooltype" and sec["schooltype"]["scholen_geteld"] >= 1
    assert not any(str(c) in json.dumps(data) for c in CANARIES)
    none = client_as("gemeente").get(f"/api/v1/scholen/10AB00?schooljaar={J}").get_json()["secties"]
    assert none["ondersteuning_jeugdhulp"]["geteld"] is False and none["ondersteuning_jeugdhulp"]["niveau"] == "geen"


def test_the_swv_page_shows_the_overlap_per_school_and_its_totals_over_the_years(client_as, seeded):
    html = client_as("regio_admin").get(f"/swv/PO2701?schooljaar={J}").get_data(as_text=True)
    assert 'id="ondersteuning-jeugdhulp">Onderwijsondersteuning en jeugdhulp</h2>' in html
    assert "Ondersteuning en jeugdhulp per school, schooljaar 2024-2025" in html
    assert "Totaal van het samenwerkingsverband per schooljaar" in html
    assert "<caption>" in html and 'scope="col"' in html  # tables with a caption and headers, as the others
    from tests.hub.web.seed import YEARS

    for jaar in YEARS:
        assert f'<th scope="row">{jaar}</th>' in html
    total = sum(v for (lv, unit, jaar, m, _), v in seeded.published.items()
                if lv == "vestiging" and jaar == J and m == "leerlingen_ondersteuning" and unit[:2] in ("10", "20", "30"))
    assert f"{total:,}".replace(",", ".") in html or str(total) in html
    for canary in CANARIES:
        assert str(canary) not in html


def test_the_help_page_explains_the_count_without_names_in_plain_dutch(client):
    html = client.get("/help").get_data(as_text=True)
    assert 'id="overlap"' in html
    assert "versleutelen hun eigen lijst" in html and "dubbel versleuteld" in html and "bewaart alleen dat aantal" in html
