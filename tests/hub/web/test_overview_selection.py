"""Issue 11, item 4: the overview follows what was asked — KPI cards and caption follow the search and
filters, column headers sort (links, aria-sort), low coverage is marked, coverage is capped at
"≥ 95 %", "grootste stijging" ranks by how clearly a school changed, and the overview prints on A4
landscape while the factsheet PDF keeps captions and the source line with their content."""

from __future__ import annotations

import re
from pathlib import Path

from hub.indicators import figures as fig
from hub.indicators.cells import Count
from hub.web import exports


def _kpis(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html.split('<section class="kpis"')[1].split("</section>")[0]))


def _caption(html: str) -> str:
    return re.sub(r"<[^>]+>", "", re.search(r"<caption>(.*?)</caption>", html, re.S).group(1))


def test_kpis_and_caption_follow_the_search(client_as):
    client = client_as("regio_admin")
    whole = client.get("/overzicht").get_data(as_text=True)
    assert "Scholen in dit overzicht 11" in _kpis(whole) and _caption(whole).startswith("11 scholen in de regio")
    one = client.get("/overzicht?zoek=kompas").get_data(as_text=True)
    assert "Scholen in deze selectie 1 " in _kpis(one) and "zoekterm ‘kompas’" in _kpis(one)
    assert _caption(one).startswith("1 school · zoekterm ‘kompas’")
    assert "Ter vergelijking: hele regio" in _kpis(one)
    none = client.get("/overzicht?zoek=bestaat-niet").get_data(as_text=True)
    assert "Scholen in deze selectie 0 " in _kpis(none) and _caption(none).startswith("0 scholen")


def test_a_type_filter_shows_the_types_published_rate(client_as, seeded):
    html = client_as("regio_admin").get("/overzicht?schooltype=VO").get_data(as_text=True)
    kpis = _kpis(html)
    assert "alle VO-scholen" in kpis and "Scholen in deze selectie 2 " in kpis
    key = ("schooltype", "VO", "2024-2025")
    k, n = seeded.published[key + ("clienten", "")], seeded.published[key + ("leerlingen", "")]
    assert f"{100 * k / n:.1f}".replace(".", ",") in kpis


def test_column_headers_sort_with_links_and_aria_sort(client_as):
    html = client_as("regio_admin").get("/overzicht?sort=-clienten_per_100&gemeente=0356").get_data(as_text=True)
    head = html.split("<thead>")[1].split("</thead>")[0]
    sorted_th = re.findall(r'<th[^>]*aria-sort="([a-z]+)"[^>]*><a href="([^"]+)"', head)
    assert len(sorted_th) == 1 and sorted_th[0][0] == "descending"
    assert "sort=clienten_per_100" in sorted_th[0][1] and "gemeente=0356" in sorted_th[0][1]  # toggles, keeps the filter
    links = dict((label, href) for href, label in re.findall(r'<a href="([^"]+)">([^<]+?)(?: <span|<span)', head))
    assert "sort=naam" in links["School"].replace("&amp;", "&")
    assert "sort=-stijging" in links["Verschil"].replace("&amp;", "&")
    swv = client_as("regio_admin").get("/swv/PO2701?sort=naam").get_data(as_text=True)
    assert 'aria-sort="ascending"' in swv


def test_low_coverage_is_marked_and_high_coverage_capped(web_app, client_as):
    from hub.extensions import db
    from hub.models.reference import PupilCount

    with web_app.app_context():
        for code, n in (("10AA00", 1000), ("10AB00", 300)):
            db.session.query(PupilCount).filter_by(vestigingscode=code, jaar=2024).update({"leerlingen": n})
        db.session.commit()
    html = client_as("regio_admin").get("/overzicht").get_data(as_text=True)
    row_aa = html.split('/scholen/10AA00')[1].split("</tr>")[0]
    row_ab = html.split('/scholen/10AB00')[1].split("</tr>")[0]
    assert 'class="pct marked"' in row_aa and "(laag)" in row_aa
    assert "≥ 95 %" in row_ab and "%" in row_ab and "103" not in row_ab
    assert "Dekking onder 80 % is gemarkeerd" in html and "Dekking ≥ 95 %" in html
    assert "Dekking onder 80 % 1 " in _kpis(html)
    sheet = re.sub(r"<[^>]+>", " ", client_as("regio_admin").get("/scholen/10AB00").get_data(as_text=True))
    assert "≥ 95 %" in sheet and "vrijwel alle 300 leerlingen" in sheet and "van de 300 leerlingen" not in sheet


def _rate(k: int, n: int) -> fig.Rate:
    return fig.rate_from_counts(Count(k, "published"), Count(n, "published"), 20)


def _row(code: str, now: fig.Rate, before: fig.Rate) -> fig.SchoolRow:
    cov = fig.coverage(now.leerlingen, now.leerlingen.value)
    return fig.SchoolRow(code, code, "SO", None, None, None, None, None, now, fig.rate_change(now, before), cov,
                         fig.change_z(now, before))


def test_clearest_rise_first_not_the_largest():
    tiny = _row("TINY", _rate(15, 25), _rate(10, 25))  # +20 per 100, but intervals of ±20 overlap
    big = _row("BIG", _rate(150, 900), _rate(100, 900))  # +5,6 per 100, clearly outside chance
    hidden = _row("HIDDEN", fig.Rate(Count(None, "suppressed"), Count(40, "published"), fig.SUPPRESSED),
                  _rate(10, 40))
    by_size = fig.sort_rows([tiny, big, hidden], "verschil", descending=True)
    assert [r.vestigingscode for r in by_size] == ["TINY", "BIG", "HIDDEN"]
    by_clarity = fig.sort_rows([tiny, big, hidden], "stijging", descending=True)
    assert [r.vestigingscode for r in by_clarity] == ["BIG", "TINY", "HIDDEN"]  # hidden last, whatever the direction
    assert [r.vestigingscode for r in fig.sort_rows([tiny, big, hidden], "stijging")][-1] == "HIDDEN"
    assert big.change_z > fig.Z_CLEAR > tiny.change_z


def test_overview_print_css_is_a4_landscape_and_pdf_keeps_things_together(client_as):
    css = (Path(exports.__file__).parent / "static" / "hub.css").read_text(encoding="utf-8")
    assert re.search(r"@page overzicht \{ size: A4 landscape", css)
    assert "body.overview main { page: overzicht; }" in css
    assert re.search(r"caption, h2, h3 \{ break-after: avoid", css)
    assert re.search(r"\.source, footer\.site \{ break-before: avoid", css)
    assert '<body class="overview">' in client_as("regio_admin").get("/overzicht").get_data(as_text=True)


def _page_texts(page) -> list[tuple[tuple[str, ...], str]]:
    """(enclosing tags, text) of every text box on a laid-out WeasyPrint page, page numbers left out."""
    out = []

    def walk(box, tags):
        if type(box).__name__ == "MarginBox":
            return
        tag = getattr(box, "element_tag", None)
        if getattr(box, "text", "").strip():
            out.append((tags, box.text))
        for child in getattr(box, "children", None) or []:
            walk(child, tags + (tag,) if tag else tags)

    walk(page._page_box, ())
    return out


def test_the_factsheet_pdf_keeps_captions_and_the_source_line_with_content(web_app, seeded):
    from flask import g
    from weasyprint import HTML

    from hub.access import Access
    from hub.services import indicators as svc
    from hub.web.factsheet import factsheet_html

    for code in ("10AA00", "10AD00", "40DA00"):
        with web_app.test_request_context("/"):
            g.access = Access.operator()
            html = factsheet_html(svc.load(), code, "2024-2025", for_pdf=True)
        pages = HTML(string=html, base_url="http://localhost/").render().pages
        for number, page in enumerate(pages, start=1):
            tags, text = _page_texts(page)[-1]
            assert not {"caption", "h2", "h3"} & set(tags), f"{code} page {number} ends on a heading or caption: {text}"
        last = _page_texts(pages[-1])
        body = [t for tags, t in last if "footer" not in tags and not any("source" in (x or "") for x in tags)]
        assert len(" ".join(body)) > 200, f"{code}: the last page holds little more than the source line"
        assert any("Bron: publicatie" in t for _, t in last)
