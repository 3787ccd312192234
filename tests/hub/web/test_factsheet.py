"""The factsheet's sections at their finest published level: soort hulp, consortia, referrers, ages,
providers; page, API JSON and CSV, with no hidden value and no table of nothing but "afgeschermd"."""

from __future__ import annotations

import json
import re

from tests.hub.web.seed import CANARIES, CONSORTIA, SCHOOLS

J = "2024-2025"
SECTION_CAPTIONS = ("Cliënten naar", "Cliënten per consortium", "Nieuwe cliënten naar", "Grootste aanbieders", "Kosten")
SECTIONS = ("zorgtype", "zorgintensiteit", "consortia", "verwijzer", "leeftijd", "aanbieders", "kosten")


def _tables(html: str) -> list[str]:
    return re.findall(r"<table class=\"data\">.*?</table>", html, flags=re.S)


def _body_rows(table: str) -> list[list[str]]:
    body = re.search(r"<tbody>(.*?)</tbody>", table, flags=re.S).group(1)
    rows = []
    for tr in re.findall(r"<tr>(.*?)</tr>", body, flags=re.S):
        head = re.search(r"<th scope=\"row\">(.*?)</th>", tr, flags=re.S)
        cells = [re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", tr, flags=re.S)]
        rows.append([re.sub(r"<[^>]+>", "", head.group(1)).strip() if head else "", *cells])
    return rows


def test_factsheet_shows_care_intensity_and_consortia(client_as, seeded):
    html = client_as("regio_admin").get(f"/scholen/10AA00?schooljaar={J}").get_data(as_text=True)
    assert 'id="soort-hulp">Soort hulp</h2>' in html and 'id="consortia">Consortia</h2>' in html
    assert "een kind kan in meer groepen vallen" in html.lower()
    assert "Basis, ambulant en overig" in html
    for naam in CONSORTIA:
        key = ("vestiging", "10AA00", J, "clienten_consortium", naam)
        if key in seeded.published:
            assert naam in html
    assert "Cijfers van deze school." in html


def test_no_factsheet_table_is_only_afgeschermd(client_as):
    client = client_as("regio_admin")
    for code, *_ in SCHOOLS:
        html = client.get(f"/scholen/{code}?schooljaar={J}").get_data(as_text=True)
        for table in _tables(html):
            caption = re.search(r"<caption>(.*?)</caption>", table, flags=re.S).group(1)
            if not caption.startswith(SECTION_CAPTIONS):
                continue  # the separate measures are one sentence when both are hidden (test below)
            # A costs table is shown when its total or a care type's cost is published; elsewhere the
            # total row alone is no reason to show a table.
            totals = () if caption.startswith("Kosten") else ("Totaal", "Alle cliënten (elk kind één keer)")
            rows = [r for r in _body_rows(table) if r and r[0] not in totals and len(r) > 1]
            if not rows:
                continue
            values = [v for r in rows for v in r[1:]]
            assert any(v not in ("afgeschermd", "–", "te weinig leerlingen") for v in values), (code, table[:200])
        for canary in CANARIES:
            assert str(canary) not in html and f"{canary:,}".replace(",", ".") not in html


def test_small_school_falls_back_to_its_school_type(client_as, seeded):
    # Zonnewijzer (15 pupils): every care-intensity cell of its own is below the threshold.
    code = "10AF00"
    own = [k for k in seeded.published if k[:4] == ("vestiging", code, J, "clienten_zorgintensiteit")]
    assert not own
    data = client_as("regio_admin").get(f"/api/v1/scholen/{code}?schooljaar={J}").get_json()
    sec = data["secties"]["zorgintensiteit"]
    type_published = [k for k in seeded.published if k[:4] == ("schooltype", "BO", J, "clienten_zorgintensiteit")]
    if type_published:
        assert sec["niveau"] == "schooltype" and sec["eenheid"] == "BO"
        html = client_as("regio_admin").get(f"/scholen/{code}?schooljaar={J}").get_data(as_text=True)
        assert "Cijfers van alle scholen van dit type (BO) in de regio; van deze school zelf is te weinig bekend." in html
    else:
        assert sec["niveau"] == "geen"


def test_api_factsheet_has_the_sections_and_no_hidden_value(client_as, seeded):
    resp = client_as("gemeente").get(f"/api/v1/scholen/10AA00?schooljaar={J}")
    assert resp.status_code == 200
    data = resp.get_json()
    assert set(data["secties"]) == set(SECTIONS) | {"ondersteuning", "ondersteuning_jeugdhulp"}
    assert {"zorgintensiteit", "consortia"} <= set(data["distributies"])
    # A table of nothing but suppressed cells is never given: null instead (secties has the finest level).
    for table in [*data["distributies"].values(), data["kosten"]]:
        rows = [] if table is None else table.get("rijen") or [table["totaal"], *table["per_zorgtype"]]
        assert table is None or any(r.get("aantal", {}).get("status") == "published" or r.get("kosten_status") == "published"
                                    for r in rows)
    for name, sec in data["secties"].items():
        assert sec["niveau"] in ("school", "school_groepen", "schooltype", "geen")
        if name == "ondersteuning_jeugdhulp":
            assert sec["uitleg"] and all(g["value"] is None for u in ("school", "schooltype") for g in sec[u]["groepen"]
                                         if g["status"] != "published")
            continue
        assert sec["uitleg"]
        if sec["verdeling"]:
            for row in sec["verdeling"]["rijen"]:
                if row["aantal"]["status"] != "published":
                    assert row["aantal"]["value"] is None and row["aandeel_procent"] is None
    text = json.dumps(data)
    for canary in CANARIES:
        assert str(canary) not in text
    # The published values are the release's.
    own = data["distributies"]["zorgintensiteit"]
    assert own is not None  # 10AA00 has published care-intensity cells of its own
    zi = {r["categorie"]: r["aantal"]["value"] for r in own["rijen"]}
    for cat, value in zi.items():
        key = ("vestiging", "10AA00", J, "clienten_zorgintensiteit", cat)
        assert value == seeded.published.get(key)


def test_api_factsheet_gives_no_table_of_only_suppressed_cells(client_as):
    # 10AF00 (15 pupils) has no published figure of its own: every own table is null, and each section
    # shows its school type's table instead.
    data = client_as("regio_admin").get(f"/api/v1/scholen/10AF00?schooljaar={J}").get_json()
    assert data["distributies"] and all(t is None for t in data["distributies"].values())
    assert data["kosten"] is None
    assert data["secties"]["zorgtype"]["niveau"] == "schooltype" and data["secties"]["zorgtype"]["verdeling"]


def test_page_shows_no_table_of_only_afgeschermd(client_as):
    # 10AF00 has no published figure of its own: its costs are its school type's, said so, and the
    # separate measures are one sentence, not a table of "afgeschermd".
    html = client_as("regio_admin").get(f"/scholen/10AF00?schooljaar={J}").get_data(as_text=True)
    kosten = html[html.index('id="kosten"'):html.index('id="apart"')]
    assert "Cijfers van alle scholen van dit type" in kosten
    assert "Jeugdbescherming" not in kosten
    apart = html[html.index('id="apart"'):html.index('id="ondersteuning"')]
    assert "De aantallen voor jeugdbescherming en jeugdreclassering van deze school zijn afgeschermd." in apart


def test_school_user_sees_no_school_type_fallback(client_as):
    # A school's own role may not see school-type cells (Access.may_see_cell): its sections stay at its own level.
    data = client_as("school").get(f"/api/v1/scholen/10AA00?schooljaar={J}").get_json()
    assert all(sec["niveau"] != "schooltype" for sec in data["secties"].values())


def test_factsheet_csv_lists_the_new_sections(client_as):
    body = client_as("regio_admin").get(f"/scholen/10AA00/factsheet.csv?schooljaar={J}").get_data().decode("utf-8-sig")
    assert "Cliënten naar soort hulp" in body and "Cliënten per consortium" in body


def test_coverage_view_shows_consortium_counts(client_as, seeded):
    data = client_as("regio_admin").get(f"/api/v1/aanbieders?schooljaar={J}").get_json()
    row = next(s for s in data["scholen"] if s["vestigingscode"] == "10AA00")
    expected = {k[4]: v for k, v in seeded.published.items() if k[:4] == ("vestiging", "10AA00", J, "clienten_consortium")}
    assert {c["consortium"]: c["clienten"] for c in row["consortia_clienten"]} == expected
    counts = [c["clienten"] for c in row["consortia_clienten"] if c["consortium"] != "andere aanbieders"]
    assert counts == sorted(counts, reverse=True)
    html = client_as("regio_admin").get(f"/aanbieders?schooljaar={J}").get_data(as_text=True)
    assert "Consortia (cliënten)" in html


def test_consortium_user_sees_only_its_own_consortium_by_name(client_as, seeded):
    own, other = list(CONSORTIA)
    data = client_as("consortium").get(f"/api/v1/aanbieders?schooljaar={J}").get_json()
    assert data["alleen_eigen_consortium"]
    for row in data["scholen"]:
        assert {c["consortium"] for c in row["consortia_clienten"]} <= {own}
        assert other not in json.dumps(row)
