"""Comparing up to four schools side by side (issue 11, item 4): published figures only, each school
within the user's scope, no figure computed over the chosen schools together."""

from __future__ import annotations

import csv
import io
import re


def _rows(html: str) -> list[list[str]]:
    body = html.split("<tbody>")[1].split("</tbody>")[0]
    return [[re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)]
            for row in re.findall(r"<tr>(.*?)</tr>", body, re.S)]


def test_two_schools_side_by_side_show_what_their_factsheets_publish(client_as):
    client = client_as("regio_admin")
    html = client.get("/vergelijk?school=40DA00&school=10AB00").get_data(as_text=True)
    rows = _rows(html)
    assert [r[0] for r in rows] == ["Lekstroom College", "Het Kompas"]  # in the order asked
    for code, row in zip(("40DA00", "10AB00"), rows):
        sheet = client.get(f"/api/v1/scholen/{code}").get_json()
        rate = sheet["school"]["clienten_per_100"]
        shown = row[3]
        if rate["status"] == "published":
            assert shown == f"{rate['per_100']:.1f}".replace(".", ",")
        else:
            assert shown in ("afgeschermd", "te weinig leerlingen")
    assert "rekent niets" in html  # the page says why there is no total over the chosen schools


def test_the_page_offers_the_schools_of_the_users_scope_only(client_as):
    html = client_as("swv").get("/vergelijk").get_data(as_text=True)
    offered = set(re.findall(r'<option value="([0-9]{2}[A-Z]{2}[0-9]{2})"', html))
    assert offered and "40DA00" not in offered  # a VO school is outside the PO SWV's scope


def test_a_school_outside_the_scope_is_refused(client_as):
    assert client_as("swv").get("/vergelijk?school=10AA00&school=40DA00").status_code == 403


def test_more_than_four_schools_is_a_clear_error(client_as):
    resp = client_as("regio_admin").get("/vergelijk?" + "&".join(f"school={c}" for c in
                                        ("10AA00", "10AB00", "10AC00", "10AD00", "10AE00")))
    assert resp.status_code == 400 and "hoogstens 4" in resp.get_data(as_text=True)


def test_the_comparison_downloads_as_csv_with_its_source(client_as):
    resp = client_as("regio_admin").get("/vergelijk.csv?school=10AA00&school=40DA00")
    assert resp.status_code == 200
    rows = list(csv.reader(io.StringIO(resp.data.decode("utf-8-sig")), delimiter=";"))
    names = [r[0] for r in rows if r]
    assert "De Linde" in names and "Lekstroom College" in names
    assert any(r and r[0].startswith("Bron:") for r in rows)  # which publication, and from whom
