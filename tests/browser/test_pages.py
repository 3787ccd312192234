"""The pages in a real browser: log in as each role, filter the overview, open a factsheet, download
its PDF and CSV, and check that what the page shows equals the API's figures from the release."""

from __future__ import annotations

import os
import subprocess

import pytest

from tests.browser.conftest import log_in
from tests.hub.web.seed import CANARIES

pytestmark = pytest.mark.browser

LANDING = {
    "regio_admin": "/overzicht",
    "gemeente": "/overzicht?gemeente=0356",
    "swv": "/swv/PO2701",
    "consortium": "/aanbieders",
    "school": "/scholen/10AA00",
}


def _nl(x: float) -> str:
    return f"{x:.1f}".replace(".", ",")


@pytest.mark.parametrize("role", sorted(LANDING))
def test_each_role_logs_in_and_lands_on_its_page(page, seeded_server, role):
    live, seeded = seeded_server
    log_in(page, live.url, *seeded.users[role])
    assert page.url == live.url + LANDING[role]
    assert page.locator("h1").first.is_visible()
    nav = page.locator("header.site nav").inner_text()
    assert ("Rondes en gemeenten" in nav) == (role == "regio_admin")
    page.click("form.logout button")
    page.wait_for_url(f"{live.url}/login")


def test_overview_filter_factsheet_and_downloads(page, seeded_server, tmp_path):
    live, seeded = seeded_server
    log_in(page, live.url, *seeded.users["regio_admin"])
    page.goto(f"{live.url}/overzicht")
    page.select_option("#gemeente", "0356")
    page.select_option("#sort", "-clienten_per_100")
    page.click("form.filters button[type=submit]")
    page.wait_for_load_state("networkidle")
    assert "gemeente=0356" in page.url

    api = page.request.get(f"{live.url}/api/v1/scholen?gemeente=0356&sort=-clienten_per_100").json()
    rows = page.locator("table.data").first.locator("tbody tr")
    assert rows.count() == len(api["scholen"]) > 0
    for i, school in enumerate(api["scholen"]):
        cells = rows.nth(i).locator("th, td").all_inner_texts()
        assert cells[0] == school["naam"] and cells[1] == school["vestigingscode"]
        rate = school["clienten_per_100"]
        shown = cells[8]
        assert shown == (_nl(rate["per_100"]) if rate["per_100"] is not None else "afgeschermd")
        assert cells[3] == "Nieuwegein"

    if os.environ.get("JEUGDHUB_SCREENSHOTS"):
        page.screenshot(path=os.path.join(os.environ["JEUGDHUB_SCREENSHOTS"], "overzicht.png"), full_page=True)

    # Open the first school's factsheet from the table.
    first = api["scholen"][0]
    page.click(f"table.data tbody tr >> nth=0 >> a")
    page.wait_for_load_state("networkidle")
    assert f"/scholen/{first['vestigingscode']}" in page.url
    sheet = page.request.get(f"{live.url}/api/v1/scholen/{first['vestigingscode']}").json()
    kpi = page.locator(".kpi.main .value").inner_text()
    assert kpi == _nl(sheet["school"]["clienten_per_100"]["per_100"])
    assert page.locator("figure svg >> visible=true").count() == 2  # one variant of each chart shown
    if os.environ.get("JEUGDHUB_SCREENSHOTS"):
        page.screenshot(path=os.path.join(os.environ["JEUGDHUB_SCREENSHOTS"], "factsheet.png"), full_page=True)

    with page.expect_download() as pdf_info:
        page.click("text=Download als PDF")
    pdf = tmp_path / "factsheet.pdf"
    pdf_info.value.save_as(pdf)
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, check=True).stdout.decode()
    assert first["naam"] in text and _nl(sheet["school"]["clienten_per_100"]["per_100"]) in text

    with page.expect_download() as csv_info:
        page.click("text=Tabellen als CSV")
    csv_path = tmp_path / "factsheet.csv"
    csv_info.value.save_as(csv_path)
    csv_text = csv_path.read_text(encoding="utf-8-sig")
    trend_line = [line for line in csv_text.splitlines() if line.startswith(first["naam"] + ";" + sheet["schooljaar"])]
    assert trend_line and _nl(sheet["school"]["clienten_per_100"]["per_100"]) in trend_line[0]


def test_rendered_pages_carry_no_suppressed_value(page, seeded_server):
    live, seeded = seeded_server
    log_in(page, live.url, *seeded.users["regio_admin"])
    for path in ("/overzicht?sort=-clienten_per_100", "/scholen/10AF00", "/scholen/30CA00", "/aanbieders", "/swv/PO2701"):
        page.goto(live.url + path)
        html = page.content()
        for canary in CANARIES:
            assert str(canary) not in html and f"{canary:,}".replace(",", ".") not in html


def test_school_user_cannot_open_another_school(page, seeded_server):
    live, seeded = seeded_server
    log_in(page, live.url, *seeded.users["school"])
    response = page.goto(f"{live.url}/scholen/10AB00")
    assert response.status == 403
    assert "Geen toegang" in page.content()


@pytest.mark.parametrize("role", ["gemeente", "swv"])
def test_region_roles_filter_and_open_a_factsheet(page, seeded_server, role):
    live, seeded = seeded_server
    log_in(page, live.url, *seeded.users[role])
    page.goto(f"{live.url}/overzicht")
    page.select_option("#schooltype", "BO")
    page.click("form.filters button[type=submit]")
    page.wait_for_load_state("networkidle")
    api = page.request.get(f"{live.url}/api/v1/scholen?schooltype=BO").json()["scholen"]
    shown = page.locator("table.data >> nth=0").locator("tbody tr th").all_inner_texts()
    assert shown == [s["naam"] for s in api]
    page.click("table.data tbody tr >> nth=0 >> a")
    page.wait_for_load_state("networkidle")
    sheet = page.request.get(f"{live.url}/api/v1/scholen/{api[0]['vestigingscode']}").json()
    rate = sheet["school"]["clienten_per_100"]["per_100"]
    assert page.locator(".kpi.main .value").inner_text() == (_nl(rate) if rate is not None else "afgeschermd")


def test_school_role_prints_its_factsheet(page, seeded_server, tmp_path):
    live, seeded = seeded_server
    log_in(page, live.url, *seeded.users["school"])
    sheet = page.request.get(f"{live.url}/api/v1/scholen/10AA00").json()
    assert page.locator(".kpi.main .value").inner_text() == _nl(sheet["school"]["clienten_per_100"]["per_100"])
    with page.expect_download() as pdf_info:
        page.click("text=Download als PDF")
    pdf = tmp_path / "eigen.pdf"
    pdf_info.value.save_as(pdf)
    assert pdf.read_bytes().startswith(b"%PDF")


def test_consortium_sees_the_coverage_table(page, seeded_server):
    live, seeded = seeded_server
    log_in(page, live.url, *seeded.users["consortium"])
    api = page.request.get(f"{live.url}/api/v1/aanbieders").json()["scholen"]
    rows = page.locator("table.data tbody tr")
    assert rows.count() == len(api) > 0
    first = rows.nth(0).locator("th, td").all_inner_texts()
    assert first[0] == api[0]["naam"] and first[5] == str(api[0]["aantal_gepubliceerde_aanbieders"])
