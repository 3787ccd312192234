"""Issue 11, item 3: names, dates and plain Dutch. Every page, PDF and download says which publication
it shows (number, version, local date) and which municipalities take part; admin pages show local
time; no "release" or "nodes" in the UI; audit actions in Dutch; Dutch chart ticks; a favicon."""

from __future__ import annotations

import csv
import io
import re
from datetime import datetime, timezone

import pytest
from openpyxl import load_workbook

from hub.dutch import local_time, long_date, place_name
from hub.web.charts import spread_labels, trend_chart

PUBLISHED_AT = datetime(2026, 7, 1, 10, 30, tzinfo=timezone.utc)  # 12:30 in Amsterdam (summer time)


@pytest.fixture
def with_participants(web_app):
    """Nieuwegein and Houten submitted to both rounds; the releases are made of their submissions."""
    from hub.extensions import db
    from hub.models.nodes import Node
    from hub.models.releases import Release
    from hub.models.submissions import Submission

    with web_app.app_context():
        nodes = [Node(code="0356", naam="Nieuwegein"), Node(code="0321", naam="Houten")]
        db.session.add_all(nodes)
        db.session.flush()
        for release in db.session.query(Release).all():
            subs = [Submission(round_id=release.round_id, node_id=n.id, key_id="k", digest=f"{release.id}{n.id:063d}",
                               payload_digest="0" * 64, envelope=b"", size_bytes=0) for n in nodes]
            db.session.add_all(subs)
            db.session.flush()
            release.submission_ids = sorted(s.id for s in subs)
            release.created_at = PUBLISHED_AT
        db.session.commit()


@pytest.mark.parametrize("raw, nice", [
    ("NIEUWEGEIN", "Nieuwegein"), ("IJSSELSTEIN", "IJsselstein"), ("'S-HERTOGENBOSCH", "'s-Hertogenbosch"),
    ("ALPHEN AAN DEN RIJN", "Alphen aan den Rijn"), ("BERGEN (NH)", "Bergen (NH)"), ("Houten", "Houten"),
])
def test_place_names_as_people_write_them(raw, nice):
    assert place_name(raw) == nice


def test_local_time_is_amsterdam():
    assert local_time("2026-12-01T12:02:00+00:00") == "01-12-2026 13:02"  # winter: UTC+1
    assert local_time(datetime(2026, 7, 1, 10, 30)) == "01-07-2026 12:30"  # naive = UTC; summer: UTC+2
    assert long_date(PUBLISHED_AT) == "1 juli 2026, 12:30"


BRON = re.compile(r"Bron: publicatie (\d+) \(versie 1, gepubliceerd 1 juli 2026, 12:30\) van de jeugdhub .*"
                  r"schooljaar 2024-2025\. Deelnemende gemeenten: Houten, Nieuwegein\.")


@pytest.mark.parametrize("path", ["/overzicht", "/swv/PO2701", "/aanbieders", "/scholen/10AA00"])
def test_every_page_names_its_publication_and_participants(client_as, with_participants, seeded, path):
    html = client_as("regio_admin").get(path).get_data(as_text=True)
    match = BRON.search(html)
    assert match, html[-1500:]
    assert int(match.group(1)) == seeded.release_ids["2024-2025"]
    assert "release" not in re.sub(r"<[^>]+>", " ", html).lower()


@pytest.mark.parametrize("path", ["/overzicht.csv", "/swv/PO2701/export.csv", "/aanbieders.csv", "/scholen/10AA00/factsheet.csv"])
def test_every_csv_names_its_publication(client_as, with_participants, path):
    body = client_as("regio_admin").get(path).get_data().decode("utf-8-sig")
    last = list(csv.reader(io.StringIO(body), delimiter=";"))[-1]
    assert BRON.search(last[0]), last


def test_xlsx_names_its_publication_and_keeps_sheet_names_whole(client_as, with_participants):
    wb = load_workbook(io.BytesIO(client_as("regio_admin").get("/scholen/10AA00/factsheet.xlsx").get_data()))
    assert BRON.search(wb["Bron"]["A1"].value)
    assert "Cliënten per 100 leerlingen doo" not in wb.sheetnames
    assert all(len(name) <= 31 for name in wb.sheetnames)
    assert "Trend per 100 leerlingen" in wb.sheetnames and "Nieuwe cliënten naar leeftijd" in wb.sheetnames


def test_the_pdf_names_its_publication(web_app, client_as, with_participants):
    from flask import g

    from hub.access import Access
    from hub.services import indicators as svc
    from hub.web.factsheet import factsheet_html

    with web_app.test_request_context("/"):
        g.access = Access.operator()
        html = factsheet_html(svc.load(), "10AA00", "2024-2025", for_pdf=True)
    assert BRON.search(html)


def test_rounds_page_in_plain_dutch_and_local_time(web_app, client_as, with_participants):
    from hub.extensions import db
    from hub.models.rounds import Round

    with web_app.app_context():
        rnd = db.session.get(Round, 2)
        rnd.status = "open"
        rnd.opened_at = datetime(2026, 1, 15, 8, 0, tzinfo=timezone.utc)
        db.session.commit()
    html = client_as("regio_admin").get("/beheer/rondes").get_data(as_text=True)
    text = re.sub(r"<[^>]+>", " ", html)
    assert "gepubliceerd, staat open voor correcties" in text
    assert "· open<" not in html and " · open " not in text
    assert "(nodes)" not in text and "release" not in text.lower()
    assert "15-01-2026 09:00" in text  # opened_at in Amsterdam time
    assert "01-07-2026 12:30" in text  # publication date
    assert not re.search(r"\d{4}-\d\d-\d\dT\d\d:\d\d", text), "raw ISO timestamp on the page"


def test_audit_log_in_dutch(client_as):
    client = client_as("regio_admin")
    client.get("/overzicht")
    client.get("/overzicht.csv")
    text = re.sub(r"<[^>]+>", " ", client.get("/beheer/audit").get_data(as_text=True))
    for word in ("bekeken", "gedownload", "ingelogd"):
        assert f" {word} " in text
    html = client.get("/beheer/audit").get_data(as_text=True)
    actions = {cells[2] for cells in (re.findall(r"<td>([^<]*)</td>", row) for row in html.split("<tr>")[2:]) if len(cells) > 2}
    assert actions and actions <= {"bekeken", "gedownload", "ingelogd", "uitgelogd", "inloggen mislukt", "beheer"}, actions
    assert "UTC" not in text


def test_swv_names_not_codes_in_the_overview(client_as):
    html = client_as("regio_admin").get("/overzicht").get_data(as_text=True)
    assert "<td class=\"text\">Passend Primair Lekstroom</td>" in html
    assert "<td class=\"text\">PO2701</td>" not in html


def test_chart_ticks_use_decimal_commas_and_end_labels_do_not_overlap():
    svg = trend_chart({"a": [("2023-2024", 2.5, None, None), ("2024-2025", 2.6, None, None)],
                       "b": [("2023-2024", 2.0, None, None), ("2024-2025", 2.55, None, None)]}, "t")
    from hub.web.charts import _tick

    assert not re.search(r">\s*\d+\.\d+\s*<", svg)  # no decimal point anywhere in the chart's text
    assert (_tick(12.5), _tick(12.0), _tick(1200), _tick(0.25)) == ("12,5", "12", "1.200", "0,25")
    ys = spread_labels([10.0, 10.2, 3.0], 1.0)
    assert abs(ys[1] - ys[0]) >= 1.0 - 1e-9 and ys[2] == 3.0


def test_funnel_label_is_not_on_the_mean_line(web_app, monkeypatch):
    """The "deze school" label moves away from the mean line, to the side its point is on."""
    from matplotlib.axes import Axes

    from hub.access import Access
    from hub.services import indicators as svc
    from hub.web import charts

    labels = []
    real = Axes.annotate

    def spy(self, text, xy, *args, **kwargs):
        if text == "deze school":
            labels.append((xy[1], kwargs["xytext"][1]))
        return real(self, text, xy, *args, **kwargs)

    monkeypatch.setattr(Axes, "annotate", spy)
    with web_app.app_context():
        data = svc.load()
        funnel = svc.funnel(data, Access.operator(), "BO")
        schools = [p for p in funnel.points if p.vestigingscode and p.per_100 != funnel.pooled.per_100]
        above = next((p for p in schools if p.per_100 > funnel.pooled.per_100), None)
        below = next((p for p in schools if p.per_100 < funnel.pooled.per_100), None)
        for point in (above, below):
            if point is not None:
                charts.funnel_chart(funnel, "t", highlight=point.vestigingscode)
    assert labels and above is not None and below is not None
    for y, offset in labels:
        assert (offset > 0) == (y > funnel.pooled.per_100)  # on the point's side of the mean, never on it


def test_favicon(web_app, client_as):
    html = client_as("regio_admin").get("/help").get_data(as_text=True)
    assert 'rel="icon"' in html and "favicon.svg" in html
    resp = web_app.test_client().get("/static/web/favicon.svg")
    assert resp.status_code == 200 and b"<svg" in resp.data
