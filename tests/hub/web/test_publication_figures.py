"""Issue 11, item 6: one file with all the figures of a publication, tidy long format (one row per
figure), CSV and XLSX with a sheet explaining every column, scoped like the API's release cells."""

from __future__ import annotations

import csv
import io

from openpyxl import load_workbook

from hub.web.tidy import COLUMNS
from tests.hub.web.seed import CANARIES, SCHOOLS, YEARS

HEADER = [name for name, _ in COLUMNS]


def _csv(client, release_id: int) -> list[dict[str, str]]:
    resp = client.get(f"/publicaties/{release_id}/cijfers.csv")
    assert resp.status_code == 200 and "attachment" in resp.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(resp.get_data().decode("utf-8-sig")), delimiter=";"))
    assert rows[0] == HEADER  # one header, no titles, no stacked tables
    return [dict(zip(HEADER, r)) for r in rows[1:]]


def test_one_row_per_figure_with_labels_and_hidden_as_afgeschermd(client_as, seeded):
    rid = seeded.release_ids[YEARS[1]]
    rows = _csv(client_as("regio_admin"), rid)
    expected = {k for k in seeded.published if k[2] == YEARS[1]} | {k for k in seeded.suppressed if k[2] == YEARS[1]}
    assert len(rows) == len(expected)
    level = {"school": "vestiging", "schooltype": "schooltype", "regio": "regio"}
    for r in rows:
        key = (level[r["niveau"]], r["eenheid_code"], r["schooljaar"], r["maat_code"], r["categorie_code"])
        assert r["publicatie"] == str(rid) and r["publicatie_versie"] == "1" and r["publicatie_datum"]
        if key in seeded.suppressed:
            assert r["waarde"] == "afgeschermd"
        elif r["maat_code"] == "kosten":
            assert int(r["waarde"]) == seeded.published[key] // 100
        else:
            assert int(r["waarde"]) == seeded.published[key]
        assert r["maat"] and (r["categorie"] or not r["categorie_code"])
    linde = next(r for r in rows if r["eenheid_code"] == "10AA00" and r["maat_code"] == "clienten")
    assert linde["eenheid_naam"] == "De Linde" and linde["niveau"] == "school"
    assert linde["maat"] == "Cliënten (leerlingen met jeugdhulp)"
    wijk = next(r for r in rows if r["maat_code"] == "clienten_zorgtype" and r["categorie_code"] == "wijkteam")
    assert wijk["categorie"] == "Wijkteam"
    body = client_as("regio_admin").get(f"/publicaties/{rid}/cijfers.csv").get_data(as_text=True)
    assert not any(str(c) in body for c in CANARIES)


def test_scoped_like_the_api(client_as, seeded):
    rid = seeded.release_ids[YEARS[1]]
    own = {s[0] for s in SCHOOLS if s[4] == "PO2701"}
    schools = {r["eenheid_code"] for r in _csv(client_as("swv"), rid) if r["niveau"] == "school"}
    assert schools and schools <= own
    api = client_as("swv").get(f"/api/v1/releases/{rid}/cells").get_json()
    cells = api["cells"] if isinstance(api, dict) else api
    assert len(_csv(client_as("swv"), rid)) == len(cells)
    assert client_as("school").get(f"/publicaties/{rid}/cijfers.csv").status_code == 403
    assert client_as("regio_admin").get("/publicaties/999/cijfers.csv").status_code == 404


def test_xlsx_has_the_figures_and_a_sheet_explaining_every_column(client_as, seeded):
    rid = seeded.release_ids[YEARS[0]]
    wb = load_workbook(io.BytesIO(client_as("regio_admin").get(f"/publicaties/{rid}/cijfers.xlsx").get_data()))
    assert wb.sheetnames == ["Cijfers", "Uitleg"]
    ws = wb["Cijfers"]
    assert [c.value for c in ws[1]] == HEADER
    values = [row[HEADER.index("waarde")] for row in ws.iter_rows(min_row=2, values_only=True)]
    assert all(isinstance(v, int) or v == "afgeschermd" for v in values) and "afgeschermd" in values
    explained = {row[0]: row[1] for row in wb["Uitleg"].iter_rows(min_row=2, values_only=True) if row[0]}
    assert set(explained) == set(HEADER) and all(explained.values())
    assert any("Bron: publicatie" in (row[1] or "") for row in wb["Uitleg"].iter_rows(values_only=True))


def test_the_overview_links_to_the_file(client_as, seeded):
    html = client_as("gemeente").get("/overzicht").get_data(as_text=True)
    assert f"/publicaties/{seeded.release_ids[YEARS[1]]}/cijfers.csv" in html
