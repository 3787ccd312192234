"""A school's factsheet as the page, the PDF and the ZIP of PDFs show it: tables, charts and HTML.

One rendering for all three, so a PDF carries exactly what the page shows. ``render_archive`` is what
the archive job (hub/services/factsheet_archives.py) is handed: the job owns the request and its
transaction, the web layer owns templates and the request context they need.
"""

from __future__ import annotations

import io
import re
import zipfile
from typing import Callable, Iterable

from flask import abort, current_app, g, render_template
from markupsafe import Markup

from hub import cache
from hub.services import indicators as svc
from hub.web import charts, exports
from shared.errors import JeugdhubError


def slug(text: str) -> str:
    """A file-name part from a school's name."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:60] or "school"


def threshold() -> int:
    return int(current_app.config["DISCLOSURE_THRESHOLD"])


def factsheet_parts(data, code: str, schooljaar: str | None):
    """The factsheet's figures and its tables (page, CSV and XLSX share them); 403/404 as the page would."""
    if not svc.school_visible(data, g.access, code.upper()):
        abort(403)
    try:
        sheet = svc.factsheet(data, g.access, code, schooljaar)
    except JeugdhubError as exc:
        if exc.http_status == 404:
            abort(404)
        raise
    school = sheet["school"]
    tables = {
        "trend": exports.trend_table("trend", "Cliënten per 100 leerlingen door de jaren",
                                     {school.naam: sheet["trend"], f"Alle {school.schooltype}-scholen": sheet["type_trend"]},
                                     sheet="Trend per 100 leerlingen"),
        # Each at the finest level with a published figure (figures.school_sections).
        **{name: exports.section_table(section, data.provider_label) for name, section in sheet["secties"].items()},
        "ondersteuning": exports.support_table("ondersteuning", sheet["ondersteuning"]),
        "ondersteuning_jeugdhulp": exports.overlap_table("ondersteuning-jeugdhulp", sheet["ondersteuning_jeugdhulp"]),
        "apart": exports.separate_table("apart", sheet["apart"]),
    }
    return sheet, tables


def factsheet_html(data, code: str, schooljaar: str | None, for_pdf: bool = False) -> str:
    """The factsheet page (``for_pdf``: the print version WeasyPrint renders).

    Its contents are rendered once per publication, scope and arguments (hub/cache.py); the header
    around them, with the user's name and form token, for every request.
    """
    from flask import request

    title, body = cache.view("factsheet page", data, g.access, (code, schooljaar, for_pdf, request.script_root),
                             lambda: factsheet_body(data, code, schooljaar, for_pdf))
    return render_template("page.html", title=title, bodyclass="factsheet pdf" if for_pdf else "factsheet",
                           body=Markup(body), for_pdf=for_pdf)


def factsheet_body(data, code: str, schooljaar: str | None, for_pdf: bool = False) -> tuple[str, str]:
    """The factsheet's (title, contents) as ``g.access`` may see them; 403/404 as the page would."""
    sheet, tables = factsheet_parts(data, code, schooljaar)
    school = sheet["school"]
    series = {
        school.naam: [(p.schooljaar, p.rate.per_100, p.rate.low, p.rate.high) for p in sheet["trend"]],
        f"alle {school.schooltype}-scholen": [(p.schooljaar, p.rate.per_100, None, None) for p in sheet["type_trend"]],
    }
    trend_svg = charts.responsive(charts.trend_chart, series, f"Trend cliënten per 100 leerlingen, {school.naam}",
                                  show_intervals=True, for_pdf=for_pdf)
    funnel_svg = charts.responsive(charts.funnel_chart, sheet["funnel"], f"{school.naam} tussen de {school.schooltype}-scholen",
                                   highlight=school.vestigingscode, for_pdf=for_pdf)
    rate_cells = exports.rate_cells(school.rate)
    body = render_template("factsheet_body.html", sheet=sheet, school=school, tables=tables, trend_svg=trend_svg,
                           funnel_svg=funnel_svg, for_pdf=for_pdf, schooljaren=data.schooljaren, fmt=exports.format_cell,
                           rate_cells=rate_cells, coverage_cell=exports.coverage_cell(school.coverage),
                           count_cell=exports.count_cell, threshold=threshold(),
                           support_rate=exports.support_rate_cell)
    return f"Factsheet {school.naam} {sheet['schooljaar']}", body


def html_to_pdf(html: str, base_url: str) -> bytes:
    """A tagged PDF (PDF/UA-1: a structure tree, the document title from ``<title>`` shown as the window
    title, the language from ``<html lang="nl">``), so screen readers read the factsheet as the page."""
    from weasyprint import HTML

    return HTML(string=html, base_url=base_url).write_pdf(pdf_variant="pdf/ua-1")


def zip_of_pdfs(items: Iterable[tuple[str, str]], render_html: Callable[[str], str], base_url: str) -> bytes:
    """``items``: (vestigingscode, file stem) pairs; ``render_html(code)`` gives the factsheet HTML."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for code, stem in items:
            info = zipfile.ZipInfo(f"{stem}.pdf", date_time=(2000, 1, 1, 0, 0, 0))  # stable archive bytes
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, html_to_pdf(render_html(code), base_url))
    return buf.getvalue()


def render_archive(access, data, schooljaar: str, gemeente: str | None, swv: str | None, base_url: str) -> tuple[bytes, int]:
    """The ZIP of the factsheet PDFs ``access`` may see (the overview's schools); (bytes, school count).

    Outside a request (a worker), so the templates get one of their own at ``base_url``.
    """
    with current_app.test_request_context("/", base_url=base_url):
        g.access = access
        view = svc.overview(data, access, schooljaar, gemeente, None, swv)
        items = [(r.vestigingscode, f"{r.vestigingscode}-{slug(r.naam)}") for r in view["scholen"]]
        body = zip_of_pdfs(items, lambda code: factsheet_html(data, code, schooljaar, for_pdf=True), base_url)
    return body, len(items)
