"""No suppressed value leaves the hub through a page, chart, CSV, XLSX, PDF, ZIP or API response.

The seeded region stores every suppressed cell WITH a distinctive canary value (the real store keeps
none), and has many small cells. Every page and export is rendered, and none may contain a canary in
any form it could take (raw, Dutch thousands, euros, per 100 pupils).
"""

from __future__ import annotations

import io
import re
import subprocess
import zipfile

import pytest

from tests.hub.web.helpers import request_archive
from tests.hub.web.seed import CANARIES, HIDDEN_AGB, SCHOOLS, YEARS, add_node_names

ALL_SCHOOLS = [s[0] for s in SCHOOLS]


def _forms(c: int) -> set[str]:
    forms = {str(c), f"{c:,}".replace(",", "."), f"{c:,}"}
    euros = c / 100
    forms |= {str(round(euros)), f"{round(euros):,}".replace(",", "."), f"{euros:.2f}", f"{euros:.2f}".replace(".", ",")}
    return forms


FORBIDDEN = sorted({f for c in CANARIES for f in _forms(c)}, key=len, reverse=True)
_PATTERN = re.compile("|".join(re.escape(f) for f in FORBIDDEN))


def assert_clean(text: str, where: str) -> None:
    # Digits must not run on either side, so "98765" inside a longer unrelated number is not a false hit.
    for m in _PATTERN.finditer(text):
        before = text[m.start() - 1] if m.start() else " "
        after = text[m.end()] if m.end() < len(text) else " "
        assert before.isdigit() or after.isdigit(), f"suppressed value {m.group()!r} leaked in {where}"


def _xlsx_text(body: bytes) -> str:
    with zipfile.ZipFile(io.BytesIO(body)) as zf:
        return "\n".join(zf.read(n).decode("utf-8") for n in zf.namelist() if n.endswith(".xml"))


def _pdf_text(body: bytes, tmp_path, name: str) -> str:
    path = tmp_path / f"{name}.pdf"
    path.write_bytes(body)
    out = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, check=True)
    return out.stdout.decode("utf-8")


def test_canary_check_itself_catches_a_leak():
    with pytest.raises(AssertionError):
        assert_clean(f"<td>{CANARIES[0]:,}</td>".replace(",", "."), "self-test")
    assert_clean("<td>1234</td>", "self-test")


def _pages():
    for jaar in YEARS:
        yield f"/overzicht?schooljaar={jaar}"
        for sort in ("-clienten_per_100", "clienten_per_100", "-verschil", "dekking", "-leerlingen"):
            yield f"/overzicht?schooljaar={jaar}&sort={sort}"
        yield f"/swv/PO2701?schooljaar={jaar}"
        yield f"/swv/VO2702?schooljaar={jaar}&sort=-clienten_per_100"
        yield f"/aanbieders?schooljaar={jaar}"
        for code in ALL_SCHOOLS:
            yield f"/scholen/{code}?schooljaar={jaar}"
    yield "/swv"
    yield "/beheer/rondes"
    yield "/beheer/audit"


def test_no_leak_in_pages_and_charts(client_as):
    client = client_as("regio_admin")
    for path in _pages():
        resp = client.get(path)
        assert resp.status_code == 200, path
        assert_clean(resp.get_data(as_text=True), path)


def test_no_leak_in_csv_and_xlsx(client_as):
    client = client_as("regio_admin")
    for jaar in YEARS:
        for base in ["/overzicht", "/aanbieders", "/swv/PO2701/export"] + [f"/scholen/{c}/factsheet" for c in ALL_SCHOOLS]:
            csv = client.get(f"{base}.csv?schooljaar={jaar}")
            assert csv.status_code == 200, base
            text = csv.get_data().decode("utf-8-sig")
            assert_clean(text, f"{base}.csv")
            assert "afgeschermd" in text or base.endswith("export") or "aanbieders" in base
            xlsx = client.get(f"{base}.xlsx?schooljaar={jaar}")
            assert xlsx.status_code == 200, base
            assert_clean(_xlsx_text(xlsx.get_data()), f"{base}.xlsx")


def test_no_leak_in_api(client_as):
    client = client_as("regio_admin")
    paths = ["/api/v1/scholen", "/api/v1/regio", "/api/v1/aanbieders", "/api/v1/schooltypes/BO/funnel",
             "/api/v1/schooltypes/SBO/funnel", "/api/v1/schooltypes/VO/funnel"] + [f"/api/v1/scholen/{c}" for c in ALL_SCHOOLS]
    for jaar in YEARS:
        for path in paths:
            resp = client.get(f"{path}?schooljaar={jaar}")
            assert resp.status_code == 200, path
            assert_clean(resp.get_data(as_text=True), path)


def test_no_leak_in_pdfs_and_zip(client_as, tmp_path):
    client = client_as("regio_admin")
    # The schools with the most suppressed cells, plus a large one.
    for code in ("10AF00", "10AD00", "30CA00", "40DA00"):
        resp = client.get(f"/scholen/{code}/factsheet.pdf")
        assert resp.status_code == 200 and resp.mimetype == "application/pdf"
        text = _pdf_text(resp.get_data(), tmp_path, code)
        assert "afgeschermd" in text
        assert_clean(text, f"factsheet {code} PDF")
    resp = request_archive(client, gemeente="0353")
    assert resp.status_code == 200 and resp.mimetype == "application/zip"
    with zipfile.ZipFile(io.BytesIO(resp.get_data())) as zf:
        names = zf.namelist()
        assert sorted(n[:6] for n in names) == ["10AE00", "10AF00"]
        for name in names:
            assert_clean(_pdf_text(zf.read(name), tmp_path, name[:6]), f"zip/{name}")


def test_seed_really_has_many_small_cells(seeded):
    school_cells = [k for k in seeded.suppressed if k[0] == "vestiging"]
    assert len(school_cells) > 100
    assert any(k[1] == "10AF00" and k[3] == "clienten" for k in school_cells)


def test_no_provider_name_without_a_published_cell(web, client_as):
    """A name the nodes sent is shown for a provider with a published cell only: a list of every name
    would tell which providers served the region's pupils. HIDDEN_AGB has a suppressed cell only,
    11000098 none at all (it could not pass the door; stored here as if it had)."""
    app, seeded = web
    with app.app_context():
        add_node_names(seeded, {"0356": {"11000002": "Zorg Twee Gemeentelijk", HIDDEN_AGB: "Geheime Zorg Verborgen"},
                                "0321": {"11000002": "Zorg Twee Gemeentelijk", "11000098": "Nergens Zorg Verborgen"}})
    client = client_as("regio_admin")
    texts = {}
    for path in list(_pages()):
        texts[path] = client.get(path).get_data(as_text=True)
    api = ["/api/v1/scholen", "/api/v1/regio", "/api/v1/aanbieders", "/api/v1/schooltypes/BO/funnel",
           "/api/v1/releases", "/api/v1/schooljaren"] + [f"/api/v1/scholen/{c}" for c in ALL_SCHOOLS]
    for jaar in YEARS:
        for path in api:
            texts[f"{path}?schooljaar={jaar}"] = client.get(f"{path}?schooljaar={jaar}").get_data(as_text=True)
        for base in ["/overzicht", "/aanbieders", "/scholen/10AA00/factsheet"]:
            texts[f"{base}.csv {jaar}"] = client.get(f"{base}.csv?schooljaar={jaar}").get_data().decode("utf-8-sig")
            texts[f"{base}.xlsx {jaar}"] = _xlsx_text(client.get(f"{base}.xlsx?schooljaar={jaar}").get_data())
    for rid in seeded.release_ids.values():
        texts[f"cells {rid}"] = client.get(f"/api/v1/releases/{rid}/cells").get_data(as_text=True)
        texts[f"tidy csv {rid}"] = client.get(f"/publicaties/{rid}/cijfers.csv").get_data().decode("utf-8-sig")
        texts[f"tidy xlsx {rid}"] = _xlsx_text(client.get(f"/publicaties/{rid}/cijfers.xlsx").get_data())
    assert HIDDEN_AGB in texts[f"cells {seeded.release_ids[YEARS[-1]]}"]  # its suppressed cell is there, nameless
    for where, text in texts.items():
        assert "Verborgen" not in text, f"a provider name without a published cell in {where}"
    assert "Zorg Twee Gemeentelijk" in texts[f"/scholen/10AA00?schooljaar={YEARS[-1]}"]
    assert "Zorg Twee Gemeentelijk" in texts[f"/api/v1/aanbieders?schooljaar={YEARS[-1]}"]
