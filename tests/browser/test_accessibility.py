"""WCAG 2.1 AA (EN 301 549) in a real browser, on every page of every role and the logged-out pages.

For each page, at a desktop width (1280 px) and at 320 CSS px (WCAG 1.4.10 reflow):

* axe-core (the npm package, injected from ``build/axe``; a missing file is a failure) finds no
  violation of the WCAG 2.0/2.1 A and AA rules;
* every visible text has a contrast of at least 4.5:1 against its effective background (3:1 for
  large text) — computed here as well, because axe reports some cases only as "needs review";
* at 320 px the page does not scroll sideways, and whatever scrolls sideways inside it (a wide
  table) is a keyboard-focusable, labelled region;
* chart text is at least 12 px as rendered.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.browser.conftest import log_in
from tests.conftest import REPO_ROOT

pytestmark = pytest.mark.browser

AXE_DIR = REPO_ROOT / "build" / "axe"  # git-ignored; `make test` and the fixture below install it
AXE_JS = AXE_DIR / "node_modules" / "axe-core" / "axe.min.js"
HELPERS_JS = Path(__file__).with_name("a11y.js")
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
ROLES = ("regio_admin", "gemeente", "swv", "consortium", "school")
LOGGED_OUT = ("/login", "/help", "/toegankelijkheid", "/bestaat-niet")
WIDTHS = (1280, 320)
MIN_CHART_PX = 12


@pytest.fixture(scope="session")
def axe_source() -> str:
    """axe.min.js from the npm package; installed with npm when missing, and its absence fails."""
    if not AXE_JS.exists():
        npm = shutil.which("npm")
        if npm is None:
            pytest.fail(f"axe-core is missing ({AXE_JS}) and npm is not installed: apt-get install npm, then `make test`")
        subprocess.run([npm, "install", "--prefix", str(AXE_DIR), "--no-audit", "--no-fund", "axe-core@4"], check=True,
                       capture_output=True, timeout=300)
    if not AXE_JS.exists():
        pytest.fail(f"axe-core is missing: {AXE_JS} (npm install --prefix {AXE_DIR} axe-core)")
    return AXE_JS.read_text(encoding="utf-8")


def _pages_of(page, base: str, landing: str) -> list[str]:
    """The role's landing page, every page its menu and footer link to, and one factsheet it can open."""
    page.goto(base + landing)
    hrefs = page.eval_on_selector_all("header.site nav a, footer.site a, table.data a[href^='/scholen/']",
                                      "els => els.map(e => e.getAttribute('href'))")
    paths, seen_factsheet = [landing], False
    for href in hrefs:
        path = urlsplit(href).path + (f"?{urlsplit(href).query}" if urlsplit(href).query else "")
        if path.startswith("/scholen/"):
            if seen_factsheet:
                continue
            seen_factsheet = True
        if path not in paths:
            paths.append(path)
    return paths


def _problems(page, axe_source: str, width: int) -> dict[str, object]:
    page.add_script_tag(content=axe_source)
    page.add_script_tag(path=str(HELPERS_JS))
    result = page.evaluate("tags => axe.run(document, {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']})",
                           WCAG_TAGS)
    found: dict[str, object] = {}
    violations = [{"id": v["id"], "help": v["help"], "nodes": [n["target"] for n in v["nodes"]][:5]} for v in result["violations"]]
    if violations:
        found["axe"] = violations
    contrast = page.evaluate("__a11y.contrastFailures()")
    if contrast:
        found["contrast"] = contrast
    small = [t for t in page.evaluate("__a11y.chartTextSizes()") if t["px"] < MIN_CHART_PX - 0.05]
    if small:
        found["chart text under 12 px"] = small[:10]
    if width <= 320:
        scroll_width = page.evaluate("document.scrollingElement.scrollWidth")
        if scroll_width > width:
            found["page scrolls sideways"] = scroll_width
    unreachable = [s for s in page.evaluate("__a11y.wideScrollers()") if not (s["focusable"] and s["label"] and s["role"])]
    if unreachable:
        found["scroll region not focusable/labelled"] = unreachable
    return found


def _check(browser, base: str, axe_source: str, width: int, login: tuple[str, str] | None, landing: str | None):
    # bypass_csp: the page allows no inline script, and axe is injected as one (only in this test context).
    context = browser.new_context(viewport={"width": width, "height": 900}, locale="nl-NL", bypass_csp=True)
    page = context.new_page()
    page.set_default_timeout(30_000)
    try:
        if login:
            log_in(page, base, *login)
            paths = _pages_of(page, base, landing or urlsplit(page.url).path)
        else:
            paths = list(LOGGED_OUT)
        report = {}
        for path in paths:
            page.goto(base + path)
            page.wait_for_load_state("networkidle")
            found = _problems(page, axe_source, width)
            if found:
                report[path] = found
        return paths, report
    finally:
        context.close()


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("role", ROLES + ("uitgelogd",))
def test_every_page_meets_wcag_aa(browser, seeded_server, axe_source, role, width):
    live, seeded = seeded_server
    login = None if role == "uitgelogd" else seeded.users[role]
    landing = "/overzicht" if role in ("regio_admin", "gemeente", "swv") else None
    paths, report = _check(browser, live.url, axe_source, width, login, landing)
    assert "/toegankelijkheid" in paths, "the accessibility statement is linked from every page's footer"
    assert len(paths) >= (3 if role in ("consortium", "school") else 4), paths
    assert not report, f"{role} at {width} px: " + "\n".join(f"{p}: {f}" for p, f in report.items())


def test_a_wide_table_scrolls_by_keyboard(browser, seeded_server):
    """At phone width the coverage table scrolls inside its region: Tab reaches it, the arrow keys scroll it."""
    live, seeded = seeded_server
    context = browser.new_context(viewport={"width": 320, "height": 800}, locale="nl-NL")
    page = context.new_page()
    try:
        log_in(page, live.url, *seeded.users["consortium"])
        region = page.locator(".table-wrap[tabindex='0']").first
        assert region.evaluate("el => el.scrollWidth > el.clientWidth"), "the table should be wider than a phone"
        for _ in range(60):
            page.keyboard.press("Tab")
            if region.evaluate("el => el === document.activeElement"):
                break
        else:
            pytest.fail("Tab never reached the table's scroll region")
        assert region.get_attribute("role") == "region" and region.get_attribute("aria-label")
        page.keyboard.press("ArrowRight")
        page.keyboard.press("ArrowRight")
        page.wait_for_function("el => el.scrollLeft > 0", arg=region.element_handle())
    finally:
        context.close()


def test_the_overview_archive_button_is_visible(page, seeded_server):
    """The "Alle factsheets … als ZIP" button was white on white."""
    live, seeded = seeded_server
    log_in(page, live.url, *seeded.users["regio_admin"])
    page.goto(f"{live.url}/overzicht")
    colour = page.locator("form.exports button").evaluate("b => getComputedStyle(b).color")
    assert colour not in ("rgb(255, 255, 255)", "rgba(0, 0, 0, 0)")


def test_the_factsheet_pdf_is_tagged_with_title_and_language(page, seeded_server, tmp_path):
    live, seeded = seeded_server
    log_in(page, live.url, *seeded.users["school"])
    body = page.request.get(f"{live.url}/scholen/10AA00/factsheet.pdf").body()
    assert body.startswith(b"%PDF")
    pdf = tmp_path / "factsheet.pdf"
    pdf.write_bytes(body)
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, check=True, text=True).stdout
    assert "Tagged:          yes" in info
    assert "Title:           Factsheet" in info
    objects = _pdf_objects(body)
    assert b"/Lang (nl)" in objects and b"/StructTreeRoot" in objects and b"/DisplayDocTitle true" in objects


def _pdf_objects(body: bytes) -> bytes:
    """The PDF's bytes with every Flate stream inflated (WeasyPrint packs the catalogue in object streams)."""
    import re
    import zlib

    parts = [body]
    for match in re.finditer(rb"stream\r?\n", body):
        try:
            parts.append(zlib.decompressobj().decompress(body[match.end():]))
        except zlib.error:
            continue
    return b"\n".join(parts)


@pytest.mark.parametrize("path", ["/scholen/10AA00", "/overzicht"])
def test_chart_text_is_12_px_at_every_width(browser, seeded_server, path):
    """Either side of the switch between the narrow and the wide chart (40em), and in between."""
    live, seeded = seeded_server
    context = browser.new_context(viewport={"width": 320, "height": 800}, locale="nl-NL", bypass_csp=True)
    page = context.new_page()
    try:
        log_in(page, live.url, *seeded.users["regio_admin"])
        page.goto(live.url + path)
        page.add_script_tag(path=str(HELPERS_JS))
        for width in (320, 375, 480, 639, 641, 768, 1024, 1920):
            page.set_viewport_size({"width": width, "height": 800})
            sizes = page.evaluate("__a11y.chartTextSizes()")
            assert sizes, f"no chart text at {width} px"
            small = [t for t in sizes if t["px"] < MIN_CHART_PX - 0.05]
            assert not small, f"{width} px: {small[:5]}"
            assert page.evaluate("document.scrollingElement.scrollWidth") <= width
    finally:
        context.close()
