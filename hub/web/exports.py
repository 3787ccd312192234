"""Tables as shown on the pages, and their CSV and XLSX exports — built once, so the page and every
export carry exactly the same figures and the same suppression marker.

A cell is a number (published), a text, or one of the markers below; a hidden value has no way in.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from typing import Any, Sequence

from hub.indicators import figures as fig
from hub.indicators import overlap as ovl
from hub.indicators import support as sup
from shared.textfiles import FORMULA_STARTS
from hub.indicators.cells import Count

#: Shown for every value the disclosure gate did not publish (primary and secondary alike: telling
#: them apart would tell an attacker that a hidden neighbour is ≥ 10).
AFGESCHERMD = "afgeschermd"
#: A rate whose pupil count is published but below the minimum denominator.
TE_KLEIN = "te weinig leerlingen"
GEEN = "–"
MARKERS = (AFGESCHERMD, TE_KLEIN, GEEN)

KINDS = ("text", "count", "rate", "pct", "euro", "delta")


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    kind: str = "text"

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(self.kind)


@dataclass(frozen=True)
class Table:
    name: str  # file-name part
    title: str
    columns: tuple[Column, ...]
    rows: tuple[tuple[Any, ...], ...]
    note: str = ""
    links: tuple[str | None, ...] = ()  # per row: a URL for the first cell (pages only)
    sheet: str = ""  # XLSX sheet name when the title is longer than Excel's 31 characters
    marks: tuple[frozenset[str], ...] = ()  # per row: keys of the columns the page marks (low coverage)

    def sheet_name(self) -> str:
        """A sheet name of at most 31 characters that is never cut off mid-word."""
        title = "".join(ch for ch in self.title if ch not in '[]:*?/\\')
        if len(title) <= 31:
            return title
        if self.sheet:
            return self.sheet[:31]
        words, out = title.split(), ""
        for w in words:
            if len(out) + len(w) + (1 if out else 0) > 31:
                break
            out = f"{out} {w}" if out else w
        return out.rstrip(",") or self.name[:31]

    def formatted(self) -> list[list[str]]:
        return [[format_cell(v, c.kind) for v, c in zip(row, self.columns)] for row in self.rows]


def _nl(x: float, digits: int) -> str:
    text = f"{x:,.{digits}f}"
    return text.replace(",", "\u2009").replace(".", ",").replace("\u2009", ".")


def format_cell(value: Any, kind: str) -> str:
    """Dutch display form: decimal comma, thousands dot."""
    if value is None:
        return GEEN
    if isinstance(value, str):
        return value
    if kind == "count":
        return _nl(value, 0)
    if kind == "rate":
        return _nl(value, 1)
    if kind == "pct":
        return _nl(value, 0) + " %"
    if kind == "euro":
        return "€ " + _nl(value, 0)
    if kind == "delta":
        return ("+" if value > 0 else "") + _nl(value, 1)
    return str(value)


# --- value helpers -------------------------------------------------------------------------------


def count_cell(count: Count) -> Any:
    return count.value if count.published else AFGESCHERMD


def rate_cells(rate: fig.Rate) -> tuple[Any, Any, Any]:
    if rate.published:
        return rate.per_100, rate.low, rate.high
    marker = TE_KLEIN if rate.status == fig.SMALL_DENOMINATOR else AFGESCHERMD
    return marker, marker, marker


#: Coverage from here up is shown as "≥ 95 %": the covered pupils are rounded to 5 and counted on a
#: different date than DUO's, so a higher share is not precise (it can even come out above 100 %).
COVERAGE_CAP = 0.95
COVERAGE_CAPPED = "≥ 95 %"
COVERAGE_CAP_NOTE = ("Dekking ≥ 95 %: het aantal leerlingen met gegevens is afgerond op 5 en op een andere dag geteld "
                     "dan bij DUO; een hogere dekking is daardoor niet precies te geven (soms zou er meer dan 100 % staan).")
#: Below this share the figures describe too few of a school's pupils; the overview marks it.
COVERAGE_LOW = 0.8
COVERAGE_LOW_NOTE = "Dekking onder 80 % is gemarkeerd: de cijfers beschrijven dan niet alle leerlingen van de school."


def coverage_cell(cov: fig.Coverage) -> Any:
    if cov.share is not None:
        if cov.share >= COVERAGE_CAP:
            return COVERAGE_CAPPED
        if cov.upper_bound:
            return "≤ " + format_cell(100 * cov.share, "pct")
        return 100 * cov.share
    if not cov.covered.published:
        return AFGESCHERMD
    return GEEN  # DUO count missing or masked ("<5")


# --- tables --------------------------------------------------------------------------------------


def overview_table(rows: Sequence[fig.SchoolRow], schooljaar: str, url_for_school=None,
                   swv_names: dict[str, str] | None = None) -> Table:
    """``swv_names``: the SWV column shows names where the reference data has them, else the code."""
    swv_names = swv_names or {}
    cols = (
        Column("naam", "School"),
        Column("vestigingscode", "Vestiging"),
        Column("schooltype", "Type"),
        Column("gemeente", "Gemeente"),
        Column("bestuur", "Bestuur"),
        Column("swv", "SWV"),
        Column("leerlingen", "Leerlingen", "count"),
        Column("clienten", "Cliënten", "count"),
        Column("per_100", "Per 100", "rate"),
        Column("low", "95 % van", "rate"),
        Column("high", "95 % tot", "rate"),
        Column("verschil", "Verschil", "delta"),
        Column("dekking", "Dekking", "pct"),
    )
    out, links, marks = [], [], []
    for r in rows:
        low = r.coverage.share is not None and r.coverage.share < COVERAGE_LOW
        marks.append(frozenset({"dekking"}) if low else frozenset())
        per_100, low, high = rate_cells(r.rate)
        change = r.change if r.change is not None else GEEN
        out.append((r.naam, r.vestigingscode, r.schooltype, r.gemeentenaam or GEEN, r.bestuur or GEEN,
                    swv_names.get(r.swv_code or "", r.swv_code) or GEEN,
                    count_cell(r.coverage.covered), count_cell(r.rate.clienten), per_100, low, high, change, coverage_cell(r.coverage)))
        links.append(url_for_school(r.vestigingscode) if url_for_school else None)
    return Table(f"overzicht-{schooljaar}", f"Scholen in de regio, schooljaar {schooljaar}", cols, tuple(out),
                 links=tuple(links), sheet=f"Scholen {schooljaar}", marks=tuple(marks),
                 note=f"{COVERAGE_LOW_NOTE} {COVERAGE_CAP_NOTE}")


def trend_table(name: str, title: str, series: dict[str, Sequence[fig.TrendPoint]], sheet: str = "") -> Table:
    cols = (Column("reeks", "Reeks"), Column("schooljaar", "Schooljaar"), Column("leerlingen", "Leerlingen", "count"),
            Column("clienten", "Cliënten", "count"), Column("per_100", "Cliënten per 100", "rate"),
            Column("low", "95 %-interval van", "rate"), Column("high", "95 %-interval tot", "rate"))
    out = []
    for label, points in series.items():
        for p in points:
            out.append((label, p.schooljaar, count_cell(p.rate.leerlingen), count_cell(p.rate.clienten), *rate_cells(p.rate)))
    return Table(name, title, cols, tuple(out), sheet=sheet)


def distribution_table(name: str, title: str, dist: fig.Distribution, head: str) -> Table:
    cols = (Column("categorie", head), Column("aantal", "Aantal", "count"), Column("aandeel", "Aandeel", "pct"))
    rows = []
    for r in dist.rows:
        share = 100 * r.share if r.share is not None else (AFGESCHERMD if not r.count.published else GEEN)
        rows.append((r.label, count_cell(r.count), share))
    rows.append(("Totaal", count_cell(dist.total), GEEN))
    return Table(name, title, cols, tuple(rows), "")


#: Per factsheet section: (title, head of the category column, note).
SECTION_TITLES: dict[str, tuple[str, str, str]] = {
    "zorgtype": ("Cliënten naar zorgtype", "Zorgtype",
                 "Een kind kan meerdere soorten hulp krijgen; de aandelen kunnen samen meer dan 100 % zijn."),
    "zorgintensiteit": ("Cliënten naar soort hulp", "Soort hulp",
                        "Een kind kan in meer groepen vallen; de groepen tellen daarom niet op tot het totaal."),
    "consortia": ("Cliënten per consortium", "Consortium",
                  "Een kind dat bij twee aanbieders van één consortium hulp krijgt, telt één keer; een kind kan wel "
                  "bij twee consortia meetellen. 'andere aanbieders' zijn aanbieders die bij geen consortium horen."),
    "verwijzer": ("Nieuwe cliënten naar verwijzer", "Verwijzer", ""),
    "leeftijd": ("Nieuwe cliënten naar leeftijd bij de start", "Leeftijd", ""),
}


def section_table(section: fig.Section, label_of=None) -> Table:
    """A factsheet section at the level it shows: a school type's table says so in its title (files
    carry the title; the page shows the section's level sentence above the table too). A section
    without any published figure is a table without rows."""
    suffix = f", alle {section.unit}-scholen in de regio" if section.level == fig.LEVEL_SCHOOLTYPE else ""
    if section.name == "aanbieders":
        providers = section.table if section.table is not None else fig.Providers(Count(None, "absent"), (), None, None)
        table = providers_table(section.name, providers, label_of or (lambda agb: agb))
        return Table(table.name, table.title + suffix, table.columns, table.rows, table.note, sheet="Grootste aanbieders")
    if section.name == "kosten":
        if section.table is None:
            return Table(section.name, COSTS_TITLE, COST_COLUMNS, (), section.label)
        table = costs_table(section.name, section.table)
        return Table(table.name, table.title + suffix, table.columns, table.rows, table.note, sheet="Kosten")
    title, head, note = SECTION_TITLES[section.name]
    sheet = ""  # the title, cut at a word (Table.sheet_name)
    if section.level == fig.LEVEL_SCHOOL_GROUPS:
        title, head, note = SECTION_TITLES["zorgintensiteit"]
        title, sheet = "Cliënten naar soort hulp (in plaats van zorgtype)", "Zorgtype als soort hulp"
    if section.table is None:
        cols = (Column("categorie", head), Column("aantal", "Aantal", "count"), Column("aandeel", "Aandeel", "pct"))
        return Table(section.name, title, cols, (), section.label, sheet=sheet)
    table = distribution_table(section.name, title + suffix, section.table, head)
    rows = table.rows
    if section.table.measure in OVERLAPPING:
        # The categories overlap (a child in two groups or consortia): the last row is no sum of them.
        rows = rows[:-1] + (("Alle cliënten (elk kind één keer)", *rows[-1][1:]),)
    return Table(table.name, table.title, table.columns, rows, note, sheet=sheet)


#: Measures whose categories overlap, so the clients total is no sum of the rows.
OVERLAPPING = frozenset({"clienten_zorgtype", "clienten_zorgintensiteit", "clienten_consortium"})


def providers_table(name: str, providers: fig.Providers, label_of, consortium_of=None) -> Table:
    cols = [Column("aanbieder", "Aanbieder"), Column("agb", "AGB-code"), Column("clienten", "Cliënten", "count"),
            Column("aandeel", "Aandeel van de cliënten", "pct")]
    if consortium_of is not None:
        cols.append(Column("consortium", "Consortium"))
    rows = []
    for r in providers.rows:
        row = [label_of(r.agb), r.agb, r.count, 100 * r.share if r.share is not None else GEEN]
        if consortium_of is not None:
            row.append(consortium_of(r.agb) or GEEN)
        rows.append(tuple(row))
    return Table(name, "Grootste aanbieders", tuple(cols), tuple(rows),
                 "Alleen aanbieders met een gepubliceerd aantal cliënten staan hier; kleinere aanbieders worden niet genoemd.")


def support_rate_cell(rate: sup.SupportRate) -> Any:
    """Pupils with support per 100 pupils: the number, "≤ n" when DUO's count is a lower bound, else a marker."""
    if rate.published:
        return "≤ " + format_cell(rate.per_100, "rate") if rate.upper_bound else rate.per_100
    if rate.status == fig.SMALL_DENOMINATOR:
        return TE_KLEIN
    if rate.status in (sup.NOT_COUNTED, sup.NO_PUPIL_COUNT):
        return GEEN
    return AFGESCHERMD


def support_table(name: str, support: sup.SchoolSupport) -> Table:
    """The factsheet's support section: the soort groups at the level it shows, also per 100 pupils of that
    level (DUO's count); a section without a published figure is a table without rows and its sentence."""
    cols = (Column("soort", "Soort ondersteuning"), Column("aantal", "Leerlingen", "count"),
            Column("per_100", "Per 100 leerlingen", "rate"), Column("aandeel", "Aandeel", "pct"))
    section = support.section
    suffix = f", alle {section.unit}-scholen in de regio" if section.level == fig.LEVEL_SCHOOLTYPE else ""
    title = "Leerlingen met ondersteuning naar soort" + suffix
    note = ("Elke leerling telt één keer, bij de soort met de hoogste voorrang (TLV SO, TLV SBO, PrO, LWOO, "
            "arrangement, OPP, thuiszitter); per 100 leerlingen volgens de DUO-telling van 1 oktober.")
    if section.table is None:
        return Table(name, title, cols, (), section.label, sheet="Ondersteuning")

    def per_100(count: Count) -> Any:
        value = support.per_100(count)
        if value is None:
            return AFGESCHERMD if not count.published else GEEN
        return "≤ " + format_cell(value, "rate") if support.section_pupils.lower_bound else value

    rows = []
    for r in section.table.rows:
        share = 100 * r.share if r.share is not None else (AFGESCHERMD if not r.count.published else GEEN)
        rows.append((r.label, count_cell(r.count), per_100(r.count), share))
    rows.append(("Alle leerlingen met ondersteuning", count_cell(section.table.total), per_100(section.table.total), GEEN))
    return Table(name, title, cols, tuple(rows), note, sheet="Ondersteuning")


def swv_support_table(support, schooljaar: str, url_for_school=None) -> Table:
    """The SWV page's schools with their pupils with support (``indicators.SwvSupport``)."""
    cols = (Column("naam", "School"), Column("vestigingscode", "Vestiging"), Column("schooltype", "Type"),
            Column("ondersteuning", "Leerlingen met ondersteuning", "count"),
            Column("duo", "Leerlingen (DUO)", "count"), Column("per_100", "Per 100 leerlingen", "rate"))
    out, links = [], []
    for row, rate in support.rows:
        count = GEEN if rate.status == sup.NOT_COUNTED else count_cell(rate.count)
        out.append((row.naam, row.vestigingscode, row.schooltype, count,
                    rate.pupils.count if rate.pupils.count is not None else GEEN, support_rate_cell(rate)))
        links.append(url_for_school(row.vestigingscode) if url_for_school else None)
    return Table(f"ondersteuning-{schooljaar}", f"Leerlingen met ondersteuning per school, schooljaar {schooljaar}",
                 cols, tuple(out), links=tuple(links), sheet=f"Ondersteuning {schooljaar}",
                 note="Van het samenwerkingsverband zelf: alle leerlingen van de school met ondersteuning op 1 oktober, "
                      "wonend waar ook; per 100 leerlingen volgens DUO. '–': het samenwerkingsverband telt deze school niet.")


def overlap_table(name: str, overlap: ovl.SchoolOverlap) -> Table:
    """The factsheet's "Onderwijsondersteuning en jeugdhulp": the three groups at the level the section
    shows (the school's, else its type's), per 100 pupils of DUO's count of the schools counted; no rows
    (only the section's sentence) when neither level has a published figure."""
    cols = (Column("groep", "Groep"), Column("aantal", "Leerlingen", "count"),
            Column("per_100", "Per 100 leerlingen", "rate"))
    unit = overlap.schooltype if overlap.shown == fig.SCHOOLTYPE else overlap.school
    suffix = f", alle {unit.unit}-scholen met een telling ({unit.schools})" if overlap.shown == fig.SCHOOLTYPE else ""
    title = "Ondersteuning en jeugdhulp" + suffix
    note = ("Ondersteuning: van het samenwerkingsverband. Jeugdhulp: van de gemeenten waarvan de kinderen op deze "
            "school zijn vergeleken. Per 100 leerlingen volgens de DUO-telling van 1 oktober.")
    if overlap.shown is None:
        return Table(name, title, cols, (), overlap.text, sheet="Ondersteuning en jeugdhulp")
    rows = []
    for r in unit.rows:
        per_100 = r.per_100 if r.per_100 is not None else (AFGESCHERMD if not r.count.published else GEEN)
        rows.append((r.label, count_cell(r.count), per_100))
    return Table(name, title, cols, tuple(rows), note, sheet="Ondersteuning en jeugdhulp")


def swv_overlap_table(overlap, schooljaar: str, url_for_school=None) -> Table:
    """The SWV page's schools with their overlap figures (``indicators.SwvOverlap``)."""
    cols = (Column("naam", "School"), Column("vestigingscode", "Vestiging"), Column("schooltype", "Type"),
            Column("beide", "Ondersteuning én jeugdhulp", "count"), Column("alleen_ondersteuning", "Alleen ondersteuning", "count"),
            Column("alleen_jeugdhulp", "Alleen jeugdhulp", "count"), Column("beide_per_100", "Beide per 100 leerlingen", "rate"),
            Column("vergeleken", "Jeugdhulp vergeleken", "count"), Column("clienten", "Jeugdhulp op school", "count"))
    out, links = [], []
    for row, o in overlap.rows:
        if not o.counted:
            out.append((row.naam, row.vestigingscode, row.schooltype, GEEN, GEEN, GEEN, GEEN, GEEN, count_cell(o.clients)))
        else:
            both = o.rows[0]
            per_100 = both.per_100 if both.per_100 is not None else (AFGESCHERMD if not both.count.published else GEEN)
            out.append((row.naam, row.vestigingscode, row.schooltype, *(count_cell(r.count) for r in o.rows), per_100,
                        count_cell(o.compared_clients), count_cell(o.clients)))
        links.append(url_for_school(row.vestigingscode) if url_for_school else None)
    return Table(f"ondersteuning-jeugdhulp-{schooljaar}", f"Ondersteuning en jeugdhulp per school, schooljaar {schooljaar}",
                 cols, tuple(out), links=tuple(links), sheet=f"Ondersteuning en jeugdhulp {schooljaar}"[:31],
                 note="'Jeugdhulp vergeleken': de kinderen met jeugdhulp van de gemeenten waarvan de lijst voor deze school "
                      "is vergeleken (elk ten minste 10 kinderen op de school), naast alle kinderen met jeugdhulp op de "
                      "school. '–': voor deze school is de overlap niet geteld.")


def swv_trend_table(overlap, code: str) -> Table:
    """The SWV's totals per school year: its schools' published values added up (``indicators.SwvYear``)."""
    cols = (Column("schooljaar", "Schooljaar"), Column("ondersteuning", "Leerlingen met ondersteuning", "count"),
            Column("beide", "Ondersteuning én jeugdhulp", "count"), Column("alleen_ondersteuning", "Alleen ondersteuning", "count"),
            Column("alleen_jeugdhulp", "Alleen jeugdhulp", "count"), Column("afgeschermd", "Scholen niet opgeteld", "count"))
    rows = []
    for y in overlap.trend:
        parts = (y.support, y.both, y.support_only, y.care_only)
        hidden = max(p.hidden for p in parts)
        rows.append((y.schooljaar, *((p.value if p.included else GEEN) for p in parts), hidden))
    return Table(f"swv-trend-{code}", "Totaal van het samenwerkingsverband per schooljaar", cols, tuple(rows),
                 note="Opgeteld over de scholen van het samenwerkingsverband met een gepubliceerd cijfer (elk afgerond op 5). "
                      "Een school met een afgeschermd cijfer telt niet mee; hoeveel dat er zijn, staat in de laatste kolom. "
                      "'–': geen enkele school met een gepubliceerd cijfer.", sheet="Totaal per schooljaar")


COSTS_TITLE = "Kosten per zorgtype"
COST_COLUMNS = (Column("zorgtype", "Zorgtype"), Column("kosten", "Kosten", "euro"), Column("clienten", "Cliënten", "count"),
                Column("per_client", "Gemiddeld per cliënt", "euro"))


def costs_table(name: str, costs: fig.Costs) -> Table:
    rows = []
    for r in (costs.total, *costs.by_zorgtype):
        kosten = r.kosten.value / 100 if r.kosten.published else AFGESCHERMD
        per = r.per_client_euro if r.per_client_euro is not None else AFGESCHERMD
        rows.append((r.label, kosten, count_cell(r.clienten), per))
    return Table(name, COSTS_TITLE, COST_COLUMNS, tuple(rows),
                 "Kosten zijn afgerond op € 100; het gemiddelde staat er alleen als zowel de kosten als het aantal cliënten gepubliceerd zijn.")


#: How many schools the comparison page puts side by side.
COMPARE_MAX = 4


def comparison_table(sheets: Sequence[dict], schooljaar: str) -> Table:
    """Up to four schools side by side, one row each, from their factsheets' published figures only:
    rate with interval, change, coverage, the care-type shares and the cost per client."""
    zorgtypes = fig.ZORGTYPE_CATEGORIES
    cols = (
        Column("naam", "School"), Column("schooltype", "Type"), Column("leerlingen", "Leerlingen", "count"),
        Column("per_100", "Per 100", "rate"), Column("low", "95 % van", "rate"), Column("high", "95 % tot", "rate"),
        Column("verschil", "Verschil", "delta"), Column("dekking", "Dekking", "pct"),
        *(Column(f"zorgtype_{slug}", f"{label} (% van de cliënten)", "pct") for slug, label in zorgtypes),
        Column("per_client", "Kosten per cliënt", "euro"),
    )
    rows = []
    for sheet in sheets:
        school = sheet["school"]
        per_100, low, high = rate_cells(school.rate)
        shares = {r.category: r for r in sheet["distributies"]["zorgtype"].rows}
        share_cells = []
        for slug, _ in zorgtypes:
            r = shares.get(slug)
            share_cells.append(100 * r.share if r is not None and r.share is not None else AFGESCHERMD)
        total = sheet["kosten"].total
        rows.append((school.naam, school.schooltype, count_cell(school.coverage.covered), per_100, low, high,
                     school.change if school.change is not None else GEEN, coverage_cell(school.coverage),
                     *share_cells, total.per_client_euro if total.per_client_euro is not None else AFGESCHERMD))
    return Table(f"vergelijking-{schooljaar}", f"Scholen naast elkaar, schooljaar {schooljaar}", cols, tuple(rows),
                 "Alleen gepubliceerde cijfers: een afgeschermd cijfer blijft afgeschermd, en de hub rekent niets "
                 "over de gekozen scholen samen uit (daaruit zou een afgeschermd cijfer terug te rekenen zijn).",
                 sheet=f"Vergelijking {schooljaar}")


def audit_table(lines) -> Table:
    """The audit log as a file (CSV export, page download): every BIO field plus the chain's hashes.
    Targets and actors come from requests (an e-mail tried at login), so they go through the same
    formula neutralising as every export."""
    from hub.services.audit import ACTIONS, RESULTS

    cols = (Column("id", "Regel", "count"), Column("tijd", "Tijd (UTC)"), Column("actie", "Actie"),
            Column("wat", "Wat"), Column("resultaat", "Resultaat"), Column("adres", "Vanaf adres"),
            Column("gebruiker", "Gebruiker"), Column("formaat", "Formaat"), Column("vorige", "Vorige hash"),
            Column("hash", "Hash"))
    rows = tuple((e.id, e.at.isoformat(timespec="seconds") if e.at else GEEN, ACTIONS.get(e.action, e.action), e.target,
                  RESULTS.get(e.result, e.result), e.origin or GEEN, e.actor or GEEN, e.fmt or GEEN,
                  e.prev_hash or GEEN, e.line_hash or GEEN) for e in lines)
    return Table("auditlog", "Auditlog", cols, rows, sheet="Auditlog")


def coverage_table(rows, data, schooljaar: str, own_consortium: bool = False) -> Table:
    """``own_consortium``: a consortium user's view, which names its own providers only."""
    eigen = "eigen " if own_consortium else ""
    cols = (Column("naam", "School"), Column("vestigingscode", "Vestiging"), Column("schooltype", "Type"),
            Column("gemeente", "Gemeente"), Column("clienten", "Cliënten", "count"),
            Column("aanbieders", ("Eigen aanbieders" if own_consortium else "Aanbieders") + " met gepubliceerd aantal", "count"),
            Column("grootste", f"Grootste {eigen}aanbieder"), Column("aandeel", "Aandeel grootste", "pct"),
            Column("hhi", "Concentratie (HHI, ondergrens)", "rate"),
            Column("consortia", ("Eigen consortium" if own_consortium else "Consortia") + " (cliënten)"))
    if own_consortium:
        cols += (Column("andere", "Andere aanbieders met gepubliceerd aantal", "count"),
                 Column("andere_consortia", "Andere consortia met gepubliceerd aantal", "count"))
    out = []
    for row in rows:
        p = row.providers
        largest = f"{data.provider_label(p.rows[0].agb)} (AGB {p.rows[0].agb})" if p.rows else GEEN
        share = 100 * p.largest_share if p.largest_share is not None else GEEN
        hhi = round(p.hhi_lower_bound, 2) if p.hhi_lower_bound is not None else GEEN
        line = (row.school.naam, row.school.vestigingscode, row.school.schooltype, row.school.gemeentenaam or GEEN,
                count_cell(p.clienten), p.published_providers, largest, share, hhi, consortia_cell(row))
        out.append(line + ((row.other_providers, row.other_consortia) if own_consortium else ()))
    return Table(f"aanbieders-{schooljaar}", f"Aanbieders per school, schooljaar {schooljaar}", cols, tuple(out),
                 sheet=f"Aanbieders {schooljaar}",
                 note="Consortia: het aantal cliënten per consortium (afgerond op 5), de grootste eerst. Een kind "
                      "dat bij twee aanbieders van één consortium hulp krijgt, telt één keer; een kind kan wel bij "
                      "twee consortia meetellen. 'andere aanbieders' zijn aanbieders die bij geen consortium horen.")


def consortia_cell(row) -> str:
    """The consortia of one school in the coverage view: "name (count)" for each published count, largest
    first, "andere aanbieders" last; "afgeschermd" when the school has consortium cells but none is
    published; "–" when the publication has no consortium figures for it."""
    published = row.published_consortia()
    if published:
        return ", ".join(f"{r.category} ({format_cell(r.count.value, 'count')})" for r in published)
    if row.consortium_counts is not None and row.consortium_counts.rows:
        return AFGESCHERMD
    return GEEN


def separate_table(name: str, apart: dict[str, Count]) -> Table:
    labels = {"jeugdbescherming": "Jeugdbescherming", "jeugdreclassering": "Jeugdreclassering"}
    cols = (Column("maatregel", "Maatregel"), Column("kinderen", "Kinderen", "count"))
    return Table(name, "Jeugdbescherming en jeugdreclassering", cols,
                 tuple((labels[k], count_cell(v)) for k, v in apart.items()))


# --- files ---------------------------------------------------------------------------------------
#
# Every CSV and XLSX export is written from :func:`file_rows`, the one place where text becomes a
# spreadsheet cell. Names come from uploads (the consortium table, DUO's reference files), so a name
# such as ``=HYPERLINK(…)`` must never reach a spreadsheet as a formula (OWASP, "CSV injection").

#: Control characters that neither Excel nor openpyxl accept in a cell (tab, LF and CR are allowed).
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def neutralise(text: str) -> str:
    """Text as a spreadsheet must show it: control characters dropped, and a leading ``'`` when it
    would otherwise start a formula (the quote is Excel's and LibreOffice's "this is text" marker)."""
    text = _CONTROL.sub("", text)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


#: One row of a file: (value, kind) per cell; a value is a neutralised str or a number of that kind.
FileCell = tuple[Any, str]


def file_rows(table: Table, *, titled: bool, typed: bool) -> list[list[FileCell]]:
    """The rows a file holds for ``table``: the title (``titled``), the header, the data, and (XLSX)
    the note.

    ``typed`` keeps published figures as numbers (XLSX); otherwise they are the page's Dutch text
    (CSV). Numbers are never neutralised, so a negative change stays a number; every text is.
    """
    rows: list[list[FileCell]] = []
    if titled:
        rows.append([(neutralise(table.title), "text")])
    rows.append([(neutralise(c.label), "text") for c in table.columns])
    for row in table.rows:
        cells: list[FileCell] = []
        for value, column in zip(row, table.columns):
            if value is None:
                cells.append((GEEN, "text"))
            elif isinstance(value, str) or column.kind == "text":
                cells.append((neutralise(str(value)), "text"))
            elif typed:
                cells.append((round(float(value), 1) if column.kind in ("rate", "delta") else round(float(value)), column.kind))
            else:
                cells.append((format_cell(value, column.kind), column.kind))
        rows.append(cells)
    if typed and table.note:
        rows.append([])
        rows.append([(neutralise(table.note), "text")])
    return rows


def to_csv(tables: Sequence[Table], source: str | None = None) -> bytes:
    """Semicolon-separated, UTF-8 with BOM, decimal comma: what Dutch Excel opens correctly.
    ``source``: the "Bron" line (which publication), as the last line after an empty one."""
    buf = io.StringIO()
    writer = csv.writer(buf, delimiter=";", lineterminator="\r\n")
    for i, table in enumerate(tables):
        if i:
            writer.writerow([])
        for row in file_rows(table, titled=len(tables) > 1, typed=False):
            writer.writerow([value for value, _ in row])
    if source:
        writer.writerow([])
        writer.writerow([neutralise(source)])
    return ("\ufeff" + buf.getvalue()).encode("utf-8")


_XLSX_FORMATS = {"count": "#,##0", "rate": "0.0", "pct": "0", "euro": "€ #,##0", "delta": "+0.0;-0.0;0.0"}


def to_xlsx(tables: Sequence[Table], source: str | None = None) -> bytes:
    """One sheet per table; published numbers as numbers, markers and names as text (never a formula).
    ``source``: the "Bron" line, under every table and on a sheet of its own."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook()
    wb.remove(wb.active)
    used = set()
    for table in tables:
        title = table.sheet_name() or table.name[:31]
        while title in used:
            title = title[:28] + f" {len(used)}"
        used.add(title)
        ws = wb.create_sheet(title)
        for r, row in enumerate(file_rows(table, titled=False, typed=True), start=1):
            for c, (value, kind) in enumerate(row, start=1):
                cell = ws.cell(r, c, value)
                if isinstance(value, str):
                    cell.data_type = "s"  # openpyxl would store "=…" as a formula and "#N/A" as an error
                elif kind in _XLSX_FORMATS:
                    cell.number_format = _XLSX_FORMATS[kind]
        for cell in ws[1]:
            cell.font = Font(bold=True)
        for i, c in enumerate(table.columns, start=1):
            ws.column_dimensions[ws.cell(1, i).column_letter].width = max(10, min(40, len(c.label) + 4))
        if source:
            ws.cell(ws.max_row + 2, 1, neutralise(source)).data_type = "s"
    if source:
        ws = wb.create_sheet("Bron")
        ws.cell(1, 1, neutralise(source)).data_type = "s"
        ws.column_dimensions["A"].width = 120
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
