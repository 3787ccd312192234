"""Support at school on the pages: the factsheet's "Onderwijsondersteuning" section, the API's
``secties.ondersteuning`` and the SWV page, from the SWV's cells only, with no hidden value."""

from __future__ import annotations

import json

from tests.hub.web.seed import CANARIES, SCHOOLS, SUPPORT_SWV

J = "2024-2025"
DUO = {code: int(pupils * 1.15) for code, _, _, _, _, pupils in SCHOOLS}  # the seed's DUO counts


def test_a_school_of_the_participating_swv_has_its_support_per_100_pupils(client_as, seeded):
    html = client_as("regio_admin").get(f"/scholen/10AA00?schooljaar={J}").get_data(as_text=True)
    assert 'id="ondersteuning">Onderwijsondersteuning</h2>' in html
    assert "samenwerkingsverband passend onderwijs" in html and "DUO-telling" in html
    total = seeded.published[("vestiging", "10AA00", J, "leerlingen_ondersteuning", "")]
    per_100 = f"{100 * total / DUO['10AA00']:.1f}".replace(".", ",")
    assert per_100 in html and f"{total} leerlingen met ondersteuning (afgerond op 5); de school heeft {DUO['10AA00']} leerlingen" in html
    assert "Leerlingen met ondersteuning naar soort" in html and "Arrangement" in html
    for canary in CANARIES:
        assert str(canary) not in html


def test_a_school_whose_swv_does_not_take_part_says_so_plainly(client_as):
    html = client_as("regio_admin").get(f"/scholen/40DA00?schooljaar={J}").get_data(as_text=True)
    assert "het samenwerkingsverband passend onderwijs van deze school levert (nog) geen gegevens aan de hub" in html
    assert "Leerlingen met ondersteuning naar soort" not in html


def test_the_api_gives_the_section_with_its_rates_and_only_published_values(client_as, seeded):
    data = client_as("gemeente").get(f"/api/v1/scholen/10AA00?schooljaar={J}").get_json()
    sec = data["secties"]["ondersteuning"]
    assert sec["deelnemend_swv"] is True and sec["niveau"] in ("school", "schooltype")
    total = seeded.published[("vestiging", "10AA00", J, "leerlingen_ondersteuning", "")]
    assert sec["school"]["leerlingen_ondersteuning"]["value"] == total and sec["school"]["duo_leerlingen"] == DUO["10AA00"]
    assert sec["school"]["per_100"] == round(100 * total / DUO["10AA00"], 2)
    for row in sec["verdeling"]["rijen"]:
        key = ("vestiging", "10AA00", J, "leerlingen_ondersteuning_soort", row["categorie"])
        if row["aantal"]["status"] == "published":
            assert row["aantal"]["value"] == seeded.published[key]
            assert row["per_100"] == round(100 * seeded.published[key] / DUO["10AA00"], 2)
        else:
            assert row["aantal"]["value"] is None and row["per_100"] is None
    vo = client_as("gemeente").get(f"/api/v1/scholen/40DA00?schooljaar={J}").get_json()["secties"]["ondersteuning"]
    assert vo["deelnemend_swv"] is False and vo["school"]["status"] == "geen_swv" and vo["verdeling"] is None
    assert not any(str(c) in json.dumps(data) for c in CANARIES)


def test_a_small_school_shows_its_types_groups_and_says_so(client_as, seeded):
    data = client_as("regio_admin").get(f"/api/v1/scholen/10AF00?schooljaar={J}").get_json()  # 15 pupils
    sec = data["secties"]["ondersteuning"]
    assert sec["school"]["status"] == "suppressed" and sec["niveau"] == "schooltype" and sec["eenheid"] == "BO"
    counted = [c for c, _, t, _, swv, _ in SCHOOLS if t == "BO" and swv == SUPPORT_SWV]
    assert sec["noemer"]["duo_leerlingen"] == sum(DUO[c] for c in counted)


def test_the_swv_page_lists_its_schools_support_and_a_non_participating_swv_says_so(client_as, seeded):
    client = client_as("regio_admin")
    html = client.get(f"/swv/{SUPPORT_SWV}?schooljaar={J}").get_data(as_text=True)
    assert "Leerlingen met ondersteuning per school" in html and "Onderwijsondersteuning" in html
    total = seeded.published[("vestiging", "10AB00", J, "leerlingen_ondersteuning", "")]
    assert f"<td class=\"count\">{total}</td>" in html or f">{total}<" in html
    other = client.get(f"/swv/VO2702?schooljaar={J}").get_data(as_text=True)
    assert "Geen cijfers over ondersteuning." in other and "Leerlingen met ondersteuning per school" not in other
    csv = client.get(f"/swv/{SUPPORT_SWV}/export.csv?schooljaar={J}").get_data().decode("utf-8-sig")
    assert "Leerlingen met ondersteuning per school" in csv
    for canary in CANARIES:
        assert str(canary) not in html and str(canary) not in csv


def test_the_factsheet_csv_has_the_support_table(client_as):
    body = client_as("regio_admin").get(f"/scholen/10AA00/factsheet.csv?schooljaar={J}").get_data().decode("utf-8-sig")
    assert "Leerlingen met ondersteuning naar soort" in body and "Per 100 leerlingen" in body
