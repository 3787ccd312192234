"""The DUO layouts the hub imports, each recognised by its header (never by the file name).

- ``bo_vestigingen``: 02. alle schoolvestigingen basisonderwijs (registry: board, gemeente, address)
- ``po_leerlingen_historisch``: 06. historisch overzicht aantal leerlingen per schoolvestiging
  (BO/SBO/SO/VSO/SO-VSO with ``LEERLINGEN_YYYY`` columns)
- ``vo_examens``: examenkandidaten en geslaagden per vestiging (used as the VO location registry)
- ``vo_leerlingen``: 01. leerlingen vo per vestiging naar onderwijstype (old and new column names)
- ``swv_vestigingen``: samenwerkingsverband passend onderwijs per vestiging

Years: DUO counts pupils on 1 October. ``LEERLINGEN_2024`` (and the VO file of 2024) is the count of
1 October 2024, i.e. school year 2024-2025; the hub stores it as ``jaar`` 2024.
"""

from __future__ import annotations

import re
from typing import Callable

from shared.codes import is_brin, is_vestigingscode, normalise_gemeentecode, normalise_swv_code
from shared.errors import ExtractError

from hub.reference.gemeenten import ONBEKENDE_GEMEENTE, GemeenteLookup
from hub.reference.parsed import Parsed
from hub.reference.reading import CsvText

BRIN_COLUMNS = ("INSTELLINGSCODE", "BRIN NUMMER", "BRIN")
VESTIGING_COLUMNS = ("VESTIGINGSCODE", "VESTIGINGSNUMMER", "BRINVESTIGINGSNUMMER")

LAYOUT_LABELS = {
    "bo_vestigingen": "DUO schoolvestigingen basisonderwijs (02)",
    "po_leerlingen_historisch": "DUO historisch overzicht leerlingen per schoolvestiging (06)",
    "vo_examens": "DUO examenkandidaten vo per vestiging (vo-vestigingen)",
    "vo_leerlingen": "DUO leerlingen vo per vestiging naar onderwijstype (01)",
    "swv_vestigingen": "DUO samenwerkingsverbanden passend onderwijs per vestiging",
}

_LEERLINGEN_YEAR = re.compile(r"^LEERLINGEN_(\d{4})$")
_LEERJAAR_COUNT = re.compile(r"^(?:LEER- OF VERBLIJFSJAAR|LEERJAAR|LJ)\s*(\d)(?:\s*-\s*|\s+)?(MAN|VROUW|TOTAAL)?$")
_TOTAL_COLUMNS = ("TOTAAL AANTAL LEERLINGEN", "AANTAL LEERLINGEN", "TOTAAL LEERLINGEN", "LEERLINGEN TOTAAL", "TOTAAL")
_YEAR_COLUMNS = ("PEILJAAR", "TELJAAR", "JAAR", "SCHOOLJAAR", "PEILDATUM")
_SWV_NAME_COLUMNS = (
    "SAMENWERKINGSVERBAND PASSEND ONDERWIJS VO",
    "SAMENWERKINGSVERBAND PASSEND ONDERWIJS PO",
    "NAAM SAMENWERKINGSVERBAND",
    "SAMENWERKINGSVERBAND",
)
_SWV_CODE_COLUMNS = ("ADMINISTRATIENUMMER", "ADMINISTRATIENUMMER SWV", "SWV ADMINISTRATIENUMMER")
_FILE_YEAR = re.compile(r"(?<!\d)((?:19|20)\d{2})(?!\d)")


def _first(header: list[str], names: tuple[str, ...]) -> str | None:
    for name in names:
        if name in header:
            return name
    return None


def detect_layout(header: list[str]) -> str:
    """The layout name for a (normalised) header; :class:`ExtractError` if it is none we know."""
    has = set(header).__contains__
    brin = _first(header, BRIN_COLUMNS)
    vest = _first(header, VESTIGING_COLUMNS)
    if _first(header, _SWV_CODE_COLUMNS) and vest:
        return "swv_vestigingen"
    if has("SOORT_VESTIGING") and any(_LEERLINGEN_YEAR.match(h) for h in header) and vest:
        return "po_leerlingen_historisch"
    if has("ONDERWIJSTYPE VO") and any(h.startswith("EXAMENKANDIDATEN") for h in header) and vest:
        return "vo_examens"
    if vest and (_first(header, _TOTAL_COLUMNS) or any(_LEERJAAR_COUNT.match(h) for h in header)) and (
        any(h.startswith("ONDERWIJSTYPE VO") for h in header) or has("OPLEIDINGSNAAM") or has("VMBO SECTOR")
    ):
        return "vo_leerlingen"
    if brin and vest and has("GEMEENTENUMMER") and has("DENOMINATIE") and has("VESTIGINGSNAAM"):
        return "bo_vestigingen"
    raise ExtractError(
        "kopregel niet herkend als DUO-bestand dat de hub kent (schoolvestigingen bo, historisch overzicht "
        "leerlingen, examenkandidaten vo, leerlingen vo per vestiging, samenwerkingsverbanden)",
        code="unknown_layout",
        details={"columns": header[:12]},
    )


# --- field helpers ---------------------------------------------------------------------------


class RowError(Exception):
    """One field breaks a rule: the row is rejected with this column and reason."""

    def __init__(self, column: str, reason: str):
        super().__init__(reason)
        self.column = column
        self.reason = reason


def vestigingscode_of(brin_raw: str | None, vest_raw: str, brin_col: str | None, vest_col: str) -> str:
    """``32JK00`` as is, or BRIN ``32JK`` + number ``0`` → ``32JK00``; anything else is rejected."""
    vest = vest_raw.strip().upper()
    brin = (brin_raw or "").strip().upper()
    if brin and not is_brin(brin):
        raise RowError(brin_col or "INSTELLINGSCODE", f"instellingscode '{brin}' is geen BRIN (2 cijfers + 2 letters)")
    if is_vestigingscode(vest):
        if brin and vest[:4] != brin:
            raise RowError(vest_col, f"vestigingscode '{vest}' hoort niet bij instellingscode '{brin}'")
        return vest
    if vest.isdigit() and len(vest) <= 2 and brin:
        return brin + vest.zfill(2)
    if not vest:
        raise RowError(vest_col, "vestigingscode ontbreekt")
    raise RowError(vest_col, f"vestigingscode '{vest}' is geen BRIN + 2 cijfers (bijv. 32JK00)")


def gemeentecode_of(raw: str, column: str) -> str:
    try:
        return normalise_gemeentecode(raw)
    except ValueError:
        raise RowError(column, f"gemeentecode '{raw.strip()}' is geen gemeentecode (1-4 cijfers)") from None


def count_of(raw: str, column: str) -> tuple[int | None, bool]:
    """``<5`` → (None, masked); digits → the number; empty → (None, not masked)."""
    text = raw.strip()
    if not text:
        return None, False
    if text.replace(" ", "") == "<5":
        return None, True
    if text.isdigit():
        return int(text), False
    raise RowError(column, f"aantal '{text}' is geen geheel getal en geen '<5'")


def swv_code_of(raw: str, column: str) -> str:
    """``PO-27-01``, ``PO 27.01`` and ``PO2701`` → ``PO2701`` (``shared.codes.normalise_swv_code``)."""
    try:
        return normalise_swv_code(raw)
    except ValueError:
        raise RowError(column, f"administratienummer '{raw.strip()}' is geen SWV-nummer (bijv. PO-27-01 of VO2701)") from None


def _text(value: str) -> str | None:
    text = " ".join(value.split())
    return text or None


class _Row:
    """A row as a mapping from normalised column name to value."""

    def __init__(self, index: dict[str, int], fields: list[str]):
        self._index = index
        self.fields = fields

    def get(self, column: str | None) -> str:
        if column is None:
            return ""
        return self.fields[self._index[column]]


def _rows(csv_text: CsvText, parsed: Parsed, handle: Callable[[int, _Row], bool]) -> None:
    """Run ``handle`` over every row; it returns True when the row was used (or raises RowError)."""
    width = len(csv_text.header)
    index = {name: i for i, name in enumerate(csv_text.header)}
    for line, fields in csv_text.rows():
        parsed.rows_read += 1
        if len(fields) != width:
            parsed.reject(line, None, f"{len(fields)} velden in plaats van {width}")
            continue
        try:
            if handle(line, _Row(index, fields)):
                parsed.rows_used += 1
        except RowError as err:
            parsed.reject(line, err.column, err.reason)


def _require(header: list[str], *groups: tuple[str, ...]) -> list[str]:
    found = []
    for names in groups:
        col = _first(header, names)
        if col is None:
            raise ExtractError(
                f"verplichte kolom {' of '.join(names)} ontbreekt", code="missing_column", details={"column": names[0]}
            )
        found.append(col)
    return found


# --- the parsers -----------------------------------------------------------------------------


def parse_bo_vestigingen(csv_text: CsvText, parsed: Parsed, **_: object) -> None:
    header = csv_text.header
    brin_col, vest_col, gem_col = _require(header, BRIN_COLUMNS, VESTIGING_COLUMNS, ("GEMEENTENUMMER",))
    naam_col = _first(header, ("VESTIGINGSNAAM",))
    bg_col = _first(header, ("BEVOEGD GEZAG NUMMER", "BEVOEGD GEZAG"))
    bg_naam_col = _first(header, ("BEVOEGD GEZAG NAAM", "NAAM BEVOEGD GEZAG"))
    gem_naam_col = _first(header, ("GEMEENTENAAM",))
    straat_col, nr_col = _first(header, ("STRAATNAAM",)), _first(header, ("HUISNUMMER-TOEVOEGING",))

    def handle(line: int, row: _Row) -> bool:
        code = vestigingscode_of(row.get(brin_col), row.get(vest_col), brin_col, vest_col)
        gemeentecode = gemeentecode_of(row.get(gem_col), gem_col)
        if gemeentecode == ONBEKENDE_GEMEENTE:
            parsed.exclude(line, "gemeente onbekend (9999)")
            return False
        gemeentenaam = _text(row.get(gem_naam_col))
        if gemeentenaam:
            parsed.gemeenten[gemeentecode] = gemeentenaam
        adres = " ".join(x for x in (_text(row.get(straat_col)) or "", _text(row.get(nr_col)) or "") if x)
        parsed.merge_vestiging(
            code,
            {
                "instellingscode": code[:4],
                "naam": _text(row.get(naam_col)),
                "soort": "BO",
                "bevoegd_gezag_nummer": _text(row.get(bg_col)),
                "bevoegd_gezag_naam": _text(row.get(bg_naam_col)),
                "gemeentecode": gemeentecode,
                "gemeentenaam": gemeentenaam,
                "plaatsnaam": _text(row.get(_first(header, ("PLAATSNAAM",)))),
                "adres": adres or None,
                "postcode": _text(row.get(_first(header, ("POSTCODE",)))),
                "denominatie": _text(row.get(_first(header, ("DENOMINATIE",)))),
                "active": True,
            },
        )
        return True

    _rows(csv_text, parsed, handle)


def parse_po_leerlingen(csv_text: CsvText, parsed: Parsed, **_: object) -> None:
    header = csv_text.header
    brin_col, vest_col, soort_col, gem_col = _require(
        header, BRIN_COLUMNS, VESTIGING_COLUMNS, ("SOORT_VESTIGING",), ("GEMEENTECODE_VESTIGING", "GEMEENTENUMMER")
    )
    year_cols = sorted((int(m.group(1)), h) for h in header if (m := _LEERLINGEN_YEAR.match(h)))
    latest_year = year_cols[-1][0]
    soorten = {"BO", "SBO", "SO", "VSO", "SO/VSO"}

    def handle(line: int, row: _Row) -> bool:
        code = vestigingscode_of(row.get(brin_col), row.get(vest_col), brin_col, vest_col)
        soort = row.get(soort_col).strip().upper()
        if soort not in soorten:
            raise RowError(soort_col, f"soort vestiging '{soort}' onbekend (verwacht BO, SBO, SO, VSO of SO/VSO)")
        gemeentecode = gemeentecode_of(row.get(gem_col), gem_col)
        if gemeentecode == ONBEKENDE_GEMEENTE:
            parsed.exclude(line, "gemeente onbekend (9999)")
            return False
        counts: dict[int, tuple[int | None, bool]] = {}
        for jaar, col in year_cols:
            counts[jaar] = count_of(row.get(col), col)
        gemeentenaam = _text(row.get(_first(header, ("GEMEENTENAAM_VESTIGING", "GEMEENTENAAM"))))
        if gemeentenaam:
            parsed.gemeenten[gemeentecode] = gemeentenaam
        denominatie = _text(row.get(_first(header, ("DENOMINATIE_VESTIGING", "DENOMINATIE"))))
        latest, latest_masked = counts[latest_year]
        parsed.merge_vestiging(
            code,
            {
                "instellingscode": code[:4],
                "naam": _text(row.get(_first(header, ("NAAM_VESTIGING", "VESTIGINGSNAAM")))),
                "soort": soort,
                "bevoegd_gezag_nummer": _text(row.get(_first(header, ("BEVOEGD_GEZAG_NUMMER",)))),
                "gemeentecode": gemeentecode,
                "gemeentenaam": gemeentenaam,
                "denominatie": None if denominatie == "onbekend" else denominatie,
                # A location without pupils in the latest count has closed (or not yet opened).
                "active": bool(latest) or latest_masked,
            },
        )
        # 0 means "no pupils at this location that year" (closed, not yet opened): no count is stored.
        for jaar, (value, masked) in counts.items():
            if masked or value:
                parsed.pupil_counts[(code, jaar)] = (value, masked)
        return True

    _rows(csv_text, parsed, handle)


def parse_vo_examens(csv_text: CsvText, parsed: Parsed, *, lookup: GemeenteLookup, **_: object) -> None:
    header = csv_text.header
    brin_col, vest_col, gem_naam_col, type_col = _require(
        header, BRIN_COLUMNS, VESTIGING_COLUMNS, ("GEMEENTENAAM",), ("ONDERWIJSTYPE VO",)
    )
    naam_col = _first(header, ("INSTELLINGSNAAM VESTIGING", "VESTIGINGSNAAM"))

    def handle(line: int, row: _Row) -> bool:
        code = vestigingscode_of(row.get(brin_col), row.get(vest_col), brin_col, vest_col)
        gemeentenaam = _text(row.get(gem_naam_col))
        if not gemeentenaam:
            raise RowError(gem_naam_col, "gemeentenaam ontbreekt")
        gemeentecode = lookup.code_of(gemeentenaam)
        if gemeentecode is None:
            raise RowError(gem_naam_col, f"gemeente '{gemeentenaam}' onbekend (geen gemeentecode te vinden)")
        onderwijstype = _text(row.get(type_col))
        parsed.merge_vestiging(
            code,
            {
                "instellingscode": code[:4],
                "naam": _text(row.get(naam_col)),
                "soort": "VO",
                "gemeentecode": gemeentecode,
                "gemeentenaam": gemeentenaam,
                "onderwijstypen": {onderwijstype.upper()} if onderwijstype else set(),
                "active": True,
            },
        )
        return True

    _rows(csv_text, parsed, handle)


def _year_of(value: str, column: str) -> int:
    """``2024``, ``2024-2025`` or ``01-10-2024`` / ``2024-10-01`` → 2024 (the 1 October count's year)."""
    text = value.strip()
    if re.fullmatch(r"\d{4}", text):
        return int(text)
    m = re.fullmatch(r"(\d{4})\s*[-/]\s*(\d{4})", text)
    if m and int(m.group(2)) == int(m.group(1)) + 1:
        return int(m.group(1))
    m = re.fullmatch(r"(\d{4})-\d{2}-\d{2}|\d{2}-\d{2}-(\d{4})", text)
    if m:
        return int(m.group(1) or m.group(2))
    raise RowError(column, f"jaar '{text}' niet herkend (verwacht 2024 of 2024-2025)")


def parse_vo_leerlingen(csv_text: CsvText, parsed: Parsed, *, jaar: int | None = None, **_: object) -> None:
    header = csv_text.header
    brin_col, vest_col = _require(header, BRIN_COLUMNS, VESTIGING_COLUMNS)
    year_col = _first(header, _YEAR_COLUMNS)
    if year_col is None and jaar is None:
        m = _FILE_YEAR.findall(parsed.name)
        if not m:
            raise ExtractError(
                "geen jaarkolom en geen jaartal in de bestandsnaam (bijv. ...-2024.csv); geef het jaar op met --jaar",
                code="missing_year",
            )
        jaar = int(m[-1])
        parsed.notes.append(f"jaar {jaar} uit de bestandsnaam (telling 1 oktober {jaar}, schooljaar {jaar}-{jaar + 1})")
    if year_col is None:
        parsed.context = f"jaar={jaar}"
    total_col = _first(header, _TOTAL_COLUMNS)
    leerjaar = [(h, m) for h in header if (m := _LEERJAAR_COUNT.match(h))]
    if total_col:
        count_cols = [total_col]
    elif any(m.group(2) == "TOTAAL" or m.group(2) is None for _, m in leerjaar):
        count_cols = [h for h, m in leerjaar if m.group(2) in ("TOTAAL", None)]
    else:
        count_cols = [h for h, _ in leerjaar]
    gem_col = _first(header, ("GEMEENTENUMMER", "GEMEENTECODE"))
    gem_naam_col = _first(header, ("GEMEENTENAAM", "GEMEENTENAAM VESTIGING"))
    naam_col = _first(header, ("INSTELLINGSNAAM VESTIGING", "VESTIGINGSNAAM"))
    plaats_col = _first(header, ("PLAATSNAAM VESTIGING", "PLAATSNAAM"))
    type_col = _first(header, ("ONDERWIJSTYPE VO", "ONDERWIJSTYPE VO EN LEER- OF VERBLIJFSJAAR"))
    totals: dict[tuple[str, int], list] = {}

    def handle(line: int, row: _Row) -> bool:
        code = vestigingscode_of(row.get(brin_col), row.get(vest_col), brin_col, vest_col)
        row_year = _year_of(row.get(year_col), year_col) if year_col else jaar
        fields: dict = {"instellingscode": code[:4], "soort": "VO", "active": True}
        if gem_col:
            gemeentecode = gemeentecode_of(row.get(gem_col), gem_col)
            if gemeentecode == ONBEKENDE_GEMEENTE:
                parsed.exclude(line, "gemeente onbekend (9999)")
                return False
            fields["gemeentecode"] = gemeentecode
            gemeentenaam = _text(row.get(gem_naam_col))
            if gemeentenaam:
                parsed.gemeenten[gemeentecode] = gemeentenaam
                fields["gemeentenaam"] = gemeentenaam
        values = [count_of(row.get(c), c) for c in count_cols]
        fields["naam"] = _text(row.get(naam_col))
        fields["plaatsnaam"] = _text(row.get(plaats_col))
        onderwijstype = _text(row.get(type_col))
        if onderwijstype:
            fields["onderwijstypen"] = {onderwijstype.split()[0].upper()}
        parsed.merge_vestiging(code, fields)
        acc = totals.setdefault((code, row_year), [0, False, False])  # sum, any masked, any value
        for value, masked in values:
            acc[0] += value or 0
            acc[1] = acc[1] or masked
            acc[2] = acc[2] or value is not None
        return True

    _rows(csv_text, parsed, handle)
    # Masked parts (<5) are unknown: the stored total is then a lower bound flagged masked, or NULL
    # when every part was masked.
    for key, (total, masked, any_value) in totals.items():
        parsed.pupil_counts[key] = (total if any_value else None, masked)


def parse_swv_vestigingen(csv_text: CsvText, parsed: Parsed, **_: object) -> None:
    header = csv_text.header
    brin_col, vest_col, code_col = _require(header, BRIN_COLUMNS, VESTIGING_COLUMNS, _SWV_CODE_COLUMNS)
    naam_col = _first(header, _SWV_NAME_COLUMNS)

    def handle(line: int, row: _Row) -> bool:
        code = vestigingscode_of(row.get(brin_col), row.get(vest_col), brin_col, vest_col)
        swv = swv_code_of(row.get(code_col), code_col)
        sector = swv[:2]
        if naam_col and naam_col.endswith((" PO", " VO")) and naam_col[-2:] != sector:
            raise RowError(code_col, f"administratienummer {swv} is geen {naam_col[-2:]}-samenwerkingsverband")
        naam = _text(row.get(naam_col)) or swv
        known = parsed.samenwerkingsverbanden.get(swv)
        if known is None or known[0] == swv:
            parsed.samenwerkingsverbanden[swv] = (naam, sector)
        previous = parsed.memberships.get((code, sector))
        if previous is not None and previous != swv:
            raise RowError(code_col, f"vestiging {code} staat al bij {previous}; een vestiging hoort bij één {sector}-SWV")
        parsed.memberships[(code, sector)] = swv
        return True

    _rows(csv_text, parsed, handle)


PARSERS: dict[str, Callable[..., None]] = {
    "bo_vestigingen": parse_bo_vestigingen,
    "po_leerlingen_historisch": parse_po_leerlingen,
    "vo_examens": parse_vo_examens,
    "vo_leerlingen": parse_vo_leerlingen,
    "swv_vestigingen": parse_swv_vestigingen,
}


def parse(csv_text: CsvText, *, lookup: GemeenteLookup | None = None, jaar: int | None = None) -> Parsed:
    """Detect the layout from the header and parse every row; the result accounts for every row."""
    layout = detect_layout(csv_text.header)
    parsed = Parsed(
        name=csv_text.name,
        layout=layout,
        layout_label=LAYOUT_LABELS[layout],
        encoding=csv_text.encoding,
        delimiter=csv_text.delimiter,
    )
    try:
        PARSERS[layout](csv_text, parsed, lookup=lookup or GemeenteLookup(), jaar=jaar)
    except ExtractError as err:
        err.message = f"{csv_text.name}: {err.message}"
        err.args = (err.message,)
        err.details = {"file": csv_text.name, "layout": layout, **err.details}
        raise
    parsed.check_accounting()
    if parsed.rows_read == 0:
        raise ExtractError(f"{csv_text.name}: het bestand heeft geen gegevensregels", code="empty_file")
    if parsed.rows_used == 0 and parsed.rejected:
        first = parsed.rejected[0]
        raise ExtractError(
            f"{csv_text.name}: geen enkele regel bruikbaar ({len(parsed.rejected)} afgewezen; eerste: {first.describe()})",
            code="no_usable_rows",
            details={"file": csv_text.name, "line": first.line, "column": first.column, "reason": first.reason},
        )
    return parsed
