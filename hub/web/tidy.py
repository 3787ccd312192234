"""One file with all the figures of a publication, in tidy long format: one row per figure, as CSV and
XLSX (with a sheet that explains every column and one that names the publication).

Rows come from :func:`hub.services.releases.release_cells` with the caller's ``Access``, the filter the
API uses, so the file holds exactly what the user may see. A hidden cell carries no value here either:
its row says ``afgeschermd``, the same for every reason.
"""

from __future__ import annotations

import csv
import io
from typing import Any, Sequence

from hub.web.exports import AFGESCHERMD, neutralise
from shared.codes import (
    CLIENTEN,
    CLIENTEN_AANBIEDER,
    CLIENTEN_CONSORTIUM,
    CLIENTEN_ZORGINTENSITEIT,
    CLIENTEN_ZORGTYPE,
    GEEN_SCHOOL,
    JEUGDBESCHERMING,
    JEUGDRECLASSERING,
    KOSTEN,
    KOSTEN_TOTAAL,
    LEERLINGEN,
    NIEUWE_CLIENTEN,
    NIEUWE_CLIENTEN_LEEFTIJD,
    NIEUWE_CLIENTEN_VERWIJZER,
    VERWIJZERS,
    ZORGTYPE_BY_SLUG,
)

LEVELS = {"vestiging": "school", "schooltype": "schooltype", "regio": "regio"}
MEASURES = {
    LEERLINGEN: "Leerlingen met gegevens",
    CLIENTEN: "Cliënten (leerlingen met jeugdhulp)",
    CLIENTEN_ZORGTYPE: "Cliënten per zorgtype",
    NIEUWE_CLIENTEN: "Nieuwe cliënten",
    NIEUWE_CLIENTEN_VERWIJZER: "Nieuwe cliënten per verwijzer",
    NIEUWE_CLIENTEN_LEEFTIJD: "Nieuwe cliënten per leeftijd bij de start",
    CLIENTEN_AANBIEDER: "Cliënten per aanbieder",
    KOSTEN: "Kosten in euro",
    JEUGDBESCHERMING: "Kinderen met jeugdbescherming",
    JEUGDRECLASSERING: "Kinderen met jeugdreclassering",
    CLIENTEN_ZORGINTENSITEIT: "Cliënten per soort hulp (een kind kan in meer groepen vallen)",
    CLIENTEN_CONSORTIUM: "Cliënten per consortium (een kind kan bij meer consortia meetellen)",
}

#: (column, what it means): the header of the file and its explanation sheet, in this order.
COLUMNS: tuple[tuple[str, str], ...] = (
    ("publicatie", "Nummer van de publicatie (de vastgestelde set cijfers van één schooljaar)."),
    ("publicatie_versie", "Versie binnen de ronde: een verbeterde inzending levert een nieuwe versie op."),
    ("publicatie_datum", "Datum en tijd van de publicatie, Nederlandse tijd (Europe/Amsterdam)."),
    ("deelnemende_gemeenten", "De gemeenten waarvan de inzendingen in deze publicatie zitten; leerlingen uit andere gemeenten tellen niet mee."),
    ("schooljaar", "Het schooljaar waarover het cijfer gaat."),
    ("niveau", "school (één schoolvestiging), schooltype (alle scholen van dat type samen) of regio (alles samen)."),
    ("eenheid_code", "Vestigingscode (BRIN + 2 cijfers), schooltype (BO, SBO, SO, VO …) of 'regio'."),
    ("eenheid_naam", "Naam van de school, het schooltype of de regio."),
    ("maat_code", "Code van wat er geteld is, zoals in de API (bijvoorbeeld clienten, leerlingen, kosten)."),
    ("maat", "Wat er geteld is, in gewone woorden."),
    ("categorie_code", "Code van de categorie (zorgtype, soort hulp, verwijzer, leeftijd, AGB-code van de aanbieder, naam van het consortium); leeg als de maat geen categorieën heeft."),
    ("categorie", "De categorie in gewone woorden."),
    ("waarde", "Het gepubliceerde aantal (afgerond op 5; kosten in euro, afgerond op € 100), of 'afgeschermd' als het "
               "cijfer niet getoond wordt om kinderen te beschermen. Afgeschermd ziet er altijd hetzelfde uit, wat de reden ook is."),
)


def _category_label(measure: str, category: str, provider_label) -> str:
    if not category:
        return ""
    if measure in (CLIENTEN_ZORGTYPE, KOSTEN):
        if category == KOSTEN_TOTAAL:
            return "Totaal"
        z = ZORGTYPE_BY_SLUG.get(category)
        return z.label if z else category
    if measure == NIEUWE_CLIENTEN_VERWIJZER:
        return VERWIJZERS.get(category, category)
    if measure == NIEUWE_CLIENTEN_LEEFTIJD:
        return f"{category} jaar"
    if measure == CLIENTEN_AANBIEDER:
        return f"{provider_label(category)} (AGB {category})"
    if measure == CLIENTEN_ZORGINTENSITEIT:
        from hub.services import groupings

        return groupings.current().zorgintensiteit.labels().get(category, category)
    return category


def _unit_name(level: str, unit: str, data, region: str) -> str:
    if level == "regio":
        return region
    if level == "schooltype":
        return f"alle {unit}-scholen"
    if unit == GEEN_SCHOOL:
        return "leerlingen zonder bekende school"
    return (data.school_info.get(unit) or {}).get("naam") or f"vestiging {unit}"


def rows(cells: Sequence, data, pub: dict[str, Any], region: str) -> list[list[Any]]:
    """One row per visible cell, in the order of :data:`COLUMNS`; a hidden value is ``afgeschermd``."""
    from hub.dutch import local_time

    date = local_time(pub["created_at"])
    gemeenten = ", ".join(pub.get("gemeenten") or [])
    out = []
    for c in cells:
        if c.published:
            value = c.value / 100 if c.measure == KOSTEN else c.value  # stored in cents
            value = int(value) if float(value).is_integer() else value
        else:
            value = AFGESCHERMD
        out.append([pub["id"], pub["version"], date, gemeenten, c.schooljaar, LEVELS.get(c.level, c.level), c.unit,
                    _unit_name(c.level, c.unit, data, region), c.measure, MEASURES.get(c.measure, c.measure),
                    c.category, _category_label(c.measure, c.category, data.provider_label), value])
    return out


def _text(value: Any) -> Any:
    return neutralise(value) if isinstance(value, str) else value


def to_csv(table: list[list[Any]], source: str) -> bytes:
    """Semicolon-separated, UTF-8 with BOM; one header line, then one line per figure (no title, no
    stacked tables), so any tool reads it as it is. Numbers without thousands separators."""
    buf = io.StringIO()
    writer = csv.writer(buf, delimiter=";", lineterminator="\r\n")
    writer.writerow([name for name, _ in COLUMNS])
    for row in table:
        writer.writerow([_text(v) for v in row])
    del source  # the publication is in every row; the CSV stays one tidy table
    return ("\ufeff" + buf.getvalue()).encode("utf-8")


def to_xlsx(table: list[list[Any]], source: str) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook()
    ws = wb.active
    ws.title = "Cijfers"
    ws.append([name for name, _ in COLUMNS])
    for row in table:
        ws.append([_text(v) for v in row])
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for r in ws.iter_rows(min_row=2):
        for cell in r:
            if isinstance(cell.value, str):
                cell.data_type = "s"  # never a formula
    ws.freeze_panes = "A2"
    uitleg = wb.create_sheet("Uitleg")
    uitleg.append(["kolom", "betekenis"])
    for name, meaning in COLUMNS:
        uitleg.append([name, meaning])
    uitleg.append([])
    uitleg.append(["", neutralise(source)])
    for cell in uitleg[1]:
        cell.font = Font(bold=True)
    uitleg.column_dimensions["A"].width = 18
    uitleg.column_dimensions["B"].width = 110
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
