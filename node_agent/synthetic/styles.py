"""Municipal export shapes for synthetic extracts: file format, encoding, delimiter, date and amount style, column names.

Each demo municipality gets the shape its (imagined) supplier's software produces, so the agent is exercised on
the variety the data dictionary promises: ``;`` + Windows-1252 + ``DD-MM-YYYY`` + decimal-comma euros, ``,`` +
UTF-8 with BOM + ISO dates + eurocent, XLSX with numeric BSNs (leading zeros gone), split BRIN/vestigingsnummer.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import numpy as np
import tomli_w

CONFIG_NAME = "node-agent.toml"

#: Data-dictionary column → source column name, per extract (the agent config holds the reverse).
CANONICAL = {
    "leerlingen": ("bsn", "geboortedatum", "peildatum", "vestigingscode", "onderwijssoort", "woongemeente", "buurtcode"),
    "jeugdhulp": ("bsn", "geboortedatum", "toewijzingnummer", "productcategorie", "productcode", "aanbieder_agb",
                  "aanbieder_naam", "verwijzer", "ingangsdatum", "einddatum", "reden_wijziging"),
    "declaraties": ("toewijzingnummer", "periode_begin", "periode_einde", "bedrag_eurocent", "debet_credit"),
}


@dataclass(frozen=True)
class Style:
    name: str
    format: str  # csv | xlsx
    encoding: str = "utf-8"
    delimiter: str = ","
    newline: str = "\n"
    date_format: str = "%Y-%m-%d"
    amount: str = "eurocent"  # eurocent | euro_comma | euro_point | euro_number (xlsx)
    split_vestiging: bool = False  # brin + vestigingsnummer instead of vestigingscode
    stripped_bsns: int = 0  # CSV rows whose BSN lost its leading zero (XLSX: all of them)
    toewijzing_prefix: str = "TW"
    columns: dict[str, dict[str, str]] = field(default_factory=dict)  # kind → canonical → source
    file_names: dict[str, str] = field(default_factory=dict)


SUITE = Style(
    name="suite-cp1252",
    format="csv",
    encoding="cp1252",
    delimiter=";",
    newline="\r\n",
    date_format="%d-%m-%Y",
    amount="euro_comma",
    stripped_bsns=4,
    toewijzing_prefix="",
    columns={
        "leerlingen": {"bsn": "BSN_kind", "geboortedatum": "Geboortedatum", "peildatum": "Peildatum",
                       "vestigingscode": "Vestiging", "onderwijssoort": "Schoolsoort", "woongemeente": "Gemeente",
                       "buurtcode": "Buurt"},
        "jeugdhulp": {"bsn": "BSN_kind", "geboortedatum": "Geboortedatum", "toewijzingnummer": "Toewijzingnummer",
                      "productcategorie": "Productcategorie", "productcode": "Productcode",
                      "aanbieder_agb": "AGB-code", "aanbieder_naam": "Aanbieder", "verwijzer": "Verwijzer",
                      "ingangsdatum": "Begindatum", "einddatum": "Einddatum", "reden_wijziging": "Reden wijziging"},
        "declaraties": {"toewijzingnummer": "Toewijzingnummer", "periode_begin": "Begindatum periode",
                        "periode_einde": "Einddatum periode", "bedrag_eurocent": "Bedrag",
                        "debet_credit": "Debet/Credit"},
    },
    file_names={"leerlingen": "Leerplicht_peildata.csv", "jeugdhulp": "Toewijzingen_Jeugdwet.csv",
                "declaraties": "Declaraties_JW323.csv"},
)

STANDARD = Style(
    name="ijw-utf8-bom",
    format="csv",
    encoding="utf-8-sig",
    delimiter=",",
    newline="\n",
    date_format="%Y-%m-%d",
    amount="eurocent",
    stripped_bsns=2,
    toewijzing_prefix="JW",
    columns={kind: {c: c for c in cols} for kind, cols in CANONICAL.items()},
    file_names={"leerlingen": "leerlingen.csv", "jeugdhulp": "jeugdhulp.csv", "declaraties": "declaraties.csv"},
)

SPREADSHEET = Style(
    name="xlsx",
    format="xlsx",
    amount="euro_number",
    toewijzing_prefix="B",
    columns={
        "leerlingen": {"bsn": "Burgerservicenummer", "geboortedatum": "Geb.datum", "peildatum": "Peildatum",
                       "vestigingscode": "Vestigingscode school", "onderwijssoort": "Onderwijssoort",
                       "woongemeente": "Woongemeente", "buurtcode": "CBS buurt"},
        "jeugdhulp": {"bsn": "Burgerservicenummer", "geboortedatum": "Geb.datum",
                      "toewijzingnummer": "Beschikkingnummer", "productcategorie": "Productcat.",
                      "productcode": "Product", "aanbieder_agb": "AGB", "aanbieder_naam": "Zorgaanbieder",
                      "verwijzer": "Verwijzer code", "ingangsdatum": "Ingang", "einddatum": "Einde",
                      "reden_wijziging": "Reden"},
        "declaraties": {"toewijzingnummer": "Beschikkingnummer", "periode_begin": "Periode van",
                        "periode_einde": "Periode tot", "bedrag_eurocent": "Bedrag (EUR)",
                        "debet_credit": "D/C"},
    },
    file_names={"leerlingen": "leerlingen.xlsx", "jeugdhulp": "jeugdhulp.xlsx", "declaraties": "declaraties.xlsx"},
)

SPLIT = Style(
    name="split-brin-semicolon",
    format="csv",
    encoding="utf-8",
    delimiter=";",
    newline="\r\n",
    date_format="%Y-%m-%d",
    amount="euro_comma",
    split_vestiging=True,
    stripped_bsns=3,
    toewijzing_prefix="T-",
    columns={
        "leerlingen": {"bsn": "bsn", "geboortedatum": "geboortedatum", "peildatum": "peildatum", "brin": "BRIN",
                       "vestigingsnummer": "vestigingsnummer", "onderwijssoort": "onderwijssoort",
                       "woongemeente": "gemeentecode", "buurtcode": "buurtcode"},
        "jeugdhulp": {"bsn": "bsn", "geboortedatum": "geboortedatum", "toewijzingnummer": "toewijzing_id",
                      "productcategorie": "categorie", "productcode": "product", "aanbieder_agb": "agb_code",
                      "aanbieder_naam": "aanbieder", "verwijzer": "verwijzer", "ingangsdatum": "ingangsdatum",
                      "einddatum": "einddatum", "reden_wijziging": "reden_wijziging"},
        "declaraties": {"toewijzingnummer": "toewijzing_id", "periode_begin": "periode_begin",
                        "periode_einde": "periode_eind", "bedrag_eurocent": "bedrag", "debet_credit": "dc"},
    },
    file_names={"leerlingen": "leerlingen_export.csv", "jeugdhulp": "jeugdhulp_export.csv",
                "declaraties": "declaraties_export.csv"},
)

STYLE_OF: dict[str, Style] = {
    "0356": SUITE, "0321": STANDARD, "0353": SPLIT, "0331": SPREADSHEET, "1961": SUITE,
    "0392": STANDARD, "0473": SPREADSHEET, "0377": SPLIT, "0397": SUITE,
    "0453": SUITE, "0375": STANDARD, "0396": SPREADSHEET,
}


def _dictionary_name(style: Style, canonical: str) -> str:
    """The data-dictionary column an extract column maps to (amounts in euros are ``bedrag``)."""
    if canonical == "bedrag_eurocent" and style.amount != "eurocent":
        return "bedrag"
    return canonical


def _amount(style: Style, eurocent: int):
    if style.amount == "eurocent":
        return str(eurocent)
    euros = f"{eurocent // 100}.{eurocent % 100:02d}"
    if style.amount == "euro_comma":
        return euros.replace(".", ",")
    if style.amount == "euro_number":
        return eurocent / 100
    return euros


def _strip_some(rng: np.random.Generator, bsns: list[str], n: int) -> tuple[list[str], int]:
    """Strip the leading zero(s) of ``n`` rows' BSNs (as a spreadsheet round trip does)."""
    candidates = [i for i, b in enumerate(bsns) if b.startswith("0")]
    if not candidates or n <= 0:
        return bsns, 0
    chosen = rng.choice(len(candidates), size=min(n, len(candidates)), replace=False)
    out = list(bsns)
    for j in chosen:
        i = candidates[int(j)]
        out[i] = out[i].lstrip("0")
    return out, len(chosen)


def write_extracts(style: Style, m_dir: Path, leerlingen, allocations, claims, rng: np.random.Generator) -> dict:
    """Write the three extracts; returns per kind ``{"path", "stripped"}`` (rows whose BSN lost a leading zero)."""
    fmt_date = (lambda d: d.strftime(style.date_format) if d else "") if style.format == "csv" else \
        (lambda d: datetime(d.year, d.month, d.day) if d else None)
    result = {}

    # leerlingen
    cols = style.columns["leerlingen"]
    records = []
    for r in leerlingen:
        rec = {"bsn": r["bsn"], "geboortedatum": fmt_date(r["geboortedatum"]), "peildatum": fmt_date(r["peildatum"]),
               "onderwijssoort": r["onderwijssoort"], "woongemeente": r["woongemeente"], "buurtcode": r["buurtcode"]}
        code = r["vestigingscode"]
        if style.split_vestiging:
            if len(code) == 6 and code[4:].isdigit():
                rec["brin"], rec["vestigingsnummer"] = code[:4], str(int(code[4:]))
            else:  # a malformed or empty code stays whole in the BRIN column
                rec["brin"], rec["vestigingsnummer"] = code, ""
        else:
            rec["vestigingscode"] = code
        records.append(rec)
    result["leerlingen"] = _write(style, m_dir, "leerlingen", cols, records, rng)

    # jeugdhulp
    cols = style.columns["jeugdhulp"]
    records = [{"bsn": a.bsn, "geboortedatum": fmt_date(a.geboortedatum), "toewijzingnummer": a.toewijzingnummer,
                "productcategorie": a.productcategorie, "productcode": a.productcode, "aanbieder_agb": a.aanbieder.agb,
                "aanbieder_naam": a.aanbieder.naam, "verwijzer": a.verwijzer, "ingangsdatum": fmt_date(a.ingangsdatum),
                "einddatum": fmt_date(a.einddatum), "reden_wijziging": a.reden_wijziging} for a in allocations]
    result["jeugdhulp"] = _write(style, m_dir, "jeugdhulp", cols, records, rng)

    # declaraties
    cols = style.columns["declaraties"]
    records = [{"toewijzingnummer": t, "periode_begin": fmt_date(b), "periode_einde": fmt_date(e),
                "bedrag_eurocent": _amount(style, amount), "debet_credit": dc} for t, b, e, amount, dc in claims]
    result["declaraties"] = _write(style, m_dir, "declaraties", cols, records, rng)
    return result


def _write(style: Style, m_dir: Path, kind: str, cols: dict[str, str], records: list[dict], rng) -> dict:
    path = m_dir / style.file_names[kind]
    stripped = 0
    if records and "bsn" in records[0]:
        bsns = [r["bsn"] for r in records]
        if style.format == "xlsx":
            stripped = sum(1 for b in bsns if b.startswith("0"))
        else:
            bsns, stripped = _strip_some(rng, bsns, style.stripped_bsns)
        for r, b in zip(records, bsns):
            r["bsn"] = b
    header = list(cols.values())
    if style.format == "csv":
        with path.open("w", encoding=style.encoding, newline="") as fh:
            writer = csv.writer(fh, delimiter=style.delimiter, lineterminator=style.newline)
            writer.writerow(header)
            for r in records:
                writer.writerow([r[c] for c in cols])
    else:
        _write_xlsx(path, kind, cols, records)
    return {"path": path, "stripped": stripped}


def _write_xlsx(path: Path, kind: str, cols: dict[str, str], records: list[dict]) -> None:
    """A spreadsheet as an office user saves it: BSN and gemeentecode as numbers, real date cells."""
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    ws = wb.create_sheet(kind)
    ws.append(list(cols.values()))
    numeric = {"bsn", "woongemeente"}
    for r in records:
        row = []
        for c in cols:
            v = r[c]
            if c in numeric and isinstance(v, str) and v.isdigit():
                v = int(v)
            elif v == "":
                v = None
            row.append(v)
        ws.append(row)
    wb.save(path)
    _freeze_zip(path)


_FIXED_ZIP_TIME = (2025, 9, 15, 0, 0, 0)


def _freeze_zip(path: Path) -> None:
    """Make an XLSX byte-identical across runs: fixed member timestamps and document dates."""
    import re
    import zipfile

    with zipfile.ZipFile(path) as zin:
        members = [(info.filename, zin.read(info.filename)) for info in zin.infolist()]
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zout:
        for name, data in members:
            if name == "docProps/core.xml":
                data = re.sub(rb"(<dcterms:(?:created|modified)[^>]*>)[^<]*", rb"\g<1>2025-09-15T00:00:00Z", data)
            zout.writestr(zipfile.ZipInfo(name, date_time=_FIXED_ZIP_TIME), data, compress_type=zipfile.ZIP_DEFLATED)


def write_config(style: Style, m_dir: Path, gemeentecode: str, naam: str, files: dict,
                 hub_url: str = "http://localhost:5000") -> Path:
    """The agent config (``node_agent.config`` layout) that maps this municipality's columns."""
    extracts = {}
    for kind in ("leerlingen", "jeugdhulp", "declaraties"):
        cols = style.columns[kind]
        entry = {
            "path": Path(files[kind]["path"]).name,
            "format": style.format,
            "columns": {src: _dictionary_name(style, canonical) for canonical, src in cols.items()},
        }
        if style.format == "csv":
            entry["delimiter"] = style.delimiter
            entry["encoding"] = style.encoding
        extracts[kind] = entry
    doc = {
        "gemeentecode": gemeentecode,
        "hub": {"url": hub_url},
        "keys": {"signing_key": "keys/signing.pem", "pseudonym_key": "keys/pseudonym.key"},
        "paths": {"spool_dir": "spool", "log": "node-agent-log.jsonl"},
        "extracts": extracts,
    }
    path = m_dir / CONFIG_NAME
    text = f"# node-agent configuratie voor {naam} ({gemeentecode}); synthetische demodata ({style.name}).\n"
    path.write_text(text + tomli_w.dumps(doc), encoding="utf-8")
    return path

