"""Extract files → validated, pseudonymised frames, with every row accounted for.

Reads CSV (``,`` ``;`` tab or ``|``; UTF-8 with or without BOM, or Windows-1252; CRLF or LF) and
XLSX, everything as text, maps the municipality's column names onto the data dictionary's, and
checks every rule of the data dictionary vectorised (chunks of rows, numpy and pandas; never a
Python loop over millions of rows). Each row ends up in exactly one of: used, rejected (reason,
column, line number as in the file — header is line 1), excluded by rule. BSNs are replaced by
pseudonyms here, before any frame leaves this module; no message ever carries a value.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator, Mapping

import numpy as np
import pandas as pd

from node_agent.columnar import Distinct, by_unique, byte_matrix, digits, fast_digits
from node_agent.pseudonymise import check_bsn, pseudonymise
from shared.codes import GEEN_SCHOOL, ONDERWIJSSOORTEN, VERWIJZER_ONBEKEND, VERWIJZERS, ZorgtypeTable, is_brin
from shared.codes import is_vestigingscode, normalise_gemeentecode
from shared.errors import ExtractError
from shared.partial import FileQuality
from shared.pseudonym import Pseudonymiser
from shared.textfiles import sniff_delimiter

#: The data dictionary's columns per extract (what a config mapping may point at).
COLUMNS: Mapping[str, tuple[str, ...]] = {
    "jeugdhulp": (
        "bsn",
        "geboortedatum",
        "toewijzingnummer",
        "productcategorie",
        "productcode",
        "aanbieder_agb",
        "aanbieder_naam",
        "verwijzer",
        "ingangsdatum",
        "einddatum",
        "reden_wijziging",
    ),
    "declaraties": ("toewijzingnummer", "periode_begin", "periode_einde", "bedrag_eurocent", "bedrag", "debet_credit"),
    "leerlingen": (
        "bsn",
        "geboortedatum",
        "peildatum",
        "vestigingscode",
        "brin",
        "vestigingsnummer",
        "onderwijssoort",
        "woongemeente",
        "buurtcode",
    ),
}

#: Required columns; a tuple inside means "one of these alternatives (all of its columns)".
REQUIRED: Mapping[str, tuple[Any, ...]] = {
    "jeugdhulp": ("bsn", "geboortedatum", "toewijzingnummer", "aanbieder_agb", "ingangsdatum"),
    "declaraties": ("toewijzingnummer", "periode_begin", (("bedrag_eurocent",), ("bedrag",))),
    "leerlingen": ("bsn", "geboortedatum", "peildatum", (("vestigingscode",), ("brin", "vestigingsnummer")), "woongemeente"),
}

#: Every reason a row can be rejected or excluded: code → (column, Dutch message). Stable codes.
REASONS: Mapping[str, tuple[str, str]] = {
    "kolommen_aantal": ("", "regel heeft een ander aantal velden dan de kopregel"),
    "lege_regel": ("", "lege regel"),
    "bsn_missing": ("bsn", "BSN ontbreekt"),
    "bsn_format": ("bsn", "BSN bevat andere tekens dan cijfers of heeft meer dan 9 cijfers"),
    "bsn_placeholder": ("bsn", "BSN is een opvulwaarde (000000000 of 999999999)"),
    "bsn_elfproef": ("bsn", "BSN voldoet niet aan de elfproef"),
    "bsn_test_range": ("bsn", "BSN ligt in de gereserveerde testreeks (testdata is niet toegestaan)"),
    "geboortedatum_ontbreekt": ("geboortedatum", "geboortedatum ontbreekt"),
    "geboortedatum_ongeldig": ("geboortedatum", "geboortedatum is geen geldige datum (JJJJ-MM-DD of DD-MM-JJJJ)"),
    "toewijzingnummer_ontbreekt": ("toewijzingnummer", "toewijzingnummer ontbreekt"),
    "toewijzingnummer_dubbel": ("toewijzingnummer", "toewijzingnummer komt eerder in het bestand voor (alleen de eerste telt)"),
    "productcategorie_onbekend": ("productcategorie", "productcategorie staat niet in JZ020 (31–38, 40–55) of de zorgtype-tabel"),
    "productcode_te_lang": ("productcode", "productcode is langer dan 5 tekens"),
    "aanbieder_agb_ontbreekt": ("aanbieder_agb", "AGB-code van de aanbieder ontbreekt"),
    "aanbieder_agb_ongeldig": ("aanbieder_agb", "AGB-code van de aanbieder is geen 8 cijfers"),
    "verwijzer_onbekend": ("verwijzer", "verwijzer is geen code uit COD327 (01–06, 08) en niet leeg"),
    "ingangsdatum_ontbreekt": ("ingangsdatum", "ingangsdatum ontbreekt"),
    "ingangsdatum_ongeldig": ("ingangsdatum", "ingangsdatum is geen geldige datum (JJJJ-MM-DD of DD-MM-JJJJ)"),
    "einddatum_ongeldig": ("einddatum", "einddatum is geen geldige datum (JJJJ-MM-DD of DD-MM-JJJJ)"),
    "einddatum_voor_ingangsdatum": ("einddatum", "einddatum ligt voor de ingangsdatum"),
    "ingangsdatum_voor_geboorte": ("ingangsdatum", "ingangsdatum ligt voor de geboortedatum"),
    "reden_wijziging_13": ("reden_wijziging", "toewijzing is verwijderd (reden_wijziging 13) en heeft nooit bestaan"),
    "toewijzing_onbekend": ("toewijzingnummer", "declaratieregel hoort bij geen enkele toewijzing"),
    "toewijzing_afgekeurd": ("toewijzingnummer", "declaratieregel hoort bij een afgekeurde toewijzing"),
    "toewijzing_verwijderd": ("toewijzingnummer", "declaratieregel hoort bij een verwijderde toewijzing (reden_wijziging 13)"),
    "periode_begin_ontbreekt": ("periode_begin", "periode_begin ontbreekt"),
    "periode_begin_ongeldig": ("periode_begin", "periode_begin is geen geldige datum (JJJJ-MM-DD of DD-MM-JJJJ)"),
    "periode_einde_ongeldig": ("periode_einde", "periode_einde is geen geldige datum (JJJJ-MM-DD of DD-MM-JJJJ)"),
    "periode_einde_voor_begin": ("periode_einde", "periode_einde ligt voor periode_begin"),
    "bedrag_ontbreekt": ("bedrag_eurocent", "bedrag ontbreekt"),
    "bedrag_ongeldig": (
        "bedrag_eurocent",
        "bedrag is geen geheel aantal eurocent (bedrag_eurocent) of geen bedrag in euro met hoogstens 2 decimalen (bedrag)",
    ),
    "debet_credit_ongeldig": ("debet_credit", "debet_credit is niet D of C"),
    "peildatum_ontbreekt": ("peildatum", "peildatum ontbreekt"),
    "peildatum_ongeldig": ("peildatum", "peildatum is geen geldige datum (JJJJ-MM-DD of DD-MM-JJJJ)"),
    "peildatum_afwijkend": ("peildatum", "peildatum wijkt af van de peildatum die voor dit schooljaar in het bestand staat"),
    "vestigingscode_ongeldig": ("vestigingscode", "vestigingscode is geen BRIN + 2 cijfers (bijv. 04DA00)"),
    "brin_ongeldig": ("brin", "brin ontbreekt of is geen 2 cijfers + 2 hoofdletters (bijv. 04DA)"),
    "vestigingsnummer_ongeldig": ("vestigingsnummer", "vestigingsnummer ontbreekt of is geen getal van 0 tot 99"),
    "onderwijssoort_onbekend": ("onderwijssoort", f"onderwijssoort is niet een van {', '.join(ONDERWIJSSOORTEN)}"),
    "woongemeente_ontbreekt": ("woongemeente", "woongemeente ontbreekt"),
    "woongemeente_ongeldig": ("woongemeente", "woongemeente is geen gemeentecode van 4 cijfers"),
    "andere_woongemeente": ("woongemeente", "leerling woont in een andere gemeente (die gemeente levert deze leerling zelf aan)"),
    "buurtcode_ongeldig": ("buurtcode", "buurtcode is niet BU + 8 cijfers"),
    "leerling_dubbel": ("bsn", "leerling staat in dit schooljaar al eerder in het bestand (alleen de eerste telt)"),
}
EXCLUSION_RULES = frozenset({"lege_regel", "reden_wijziging_13", "toewijzing_verwijderd"})
_REASON_CODES = tuple(REASONS)
_REASON_INDEX = {code: i + 1 for i, code in enumerate(_REASON_CODES)}  # 0 = row is fine

CHUNK_ROWS = 250_000
#: Open-ended allocations end on this day in the frames (numpy datetimes have no "infinity").
OPEN_END = np.datetime64("9999-12-31", "D")
NAT = np.datetime64("NaT", "D")
_ENCODING_LABELS = {"utf-8": "UTF-8", "utf-8-sig": "UTF-8 met BOM", "cp1252": "Windows-1252"}


# --- reports ----------------------------------------------------------------------------------


@dataclass
class RowIssues:
    """All rows of one file with one reason: the lines (as in the file) and the rule's wording."""

    reason: str
    lines: list[np.ndarray] = field(default_factory=list)

    @property
    def column(self) -> str:
        return REASONS[self.reason][0]

    @property
    def message(self) -> str:
        return REASONS[self.reason][1]

    @property
    def count(self) -> int:
        return int(sum(len(a) for a in self.lines))

    def all_lines(self) -> np.ndarray:
        return np.sort(np.concatenate(self.lines)) if self.lines else np.empty(0, np.int64)


@dataclass
class FileReport:
    """How one extract was read and what became of every row."""

    kind: str
    name: str
    format: str = ""
    encoding: str = ""
    delimiter: str = ""
    rows_read: int = 0
    rows_used: int = 0
    rejected: dict[str, RowIssues] = field(default_factory=dict)
    excluded: dict[str, RowIssues] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    @property
    def rows_rejected(self) -> int:
        return sum(r.count for r in self.rejected.values())

    @property
    def rows_excluded(self) -> int:
        return sum(r.count for r in self.excluded.values())

    def add(self, reason: str, lines: np.ndarray) -> None:
        if len(lines) == 0:
            return
        target = self.excluded if reason in EXCLUSION_RULES else self.rejected
        target.setdefault(reason, RowIssues(reason)).lines.append(np.asarray(lines, dtype=np.int64))

    def check_balance(self) -> None:
        """read = used + rejected + excluded; a failure here is a bug, never a user's mistake."""
        if self.rows_read != self.rows_used + self.rows_rejected + self.rows_excluded:
            raise AssertionError(
                f"accounting broken for {self.name}: read {self.rows_read} != used {self.rows_used} + "
                f"rejected {self.rows_rejected} + excluded {self.rows_excluded}"
            )

    def to_quality(self) -> FileQuality:
        return FileQuality(
            name=self.name,
            kind=self.kind,
            rows_read=self.rows_read,
            rows_used=self.rows_used,
            rejected={k: v.count for k, v in self.rejected.items()},
            excluded={k: v.count for k, v in self.excluded.items()},
        )

    def to_dict(self, max_lines: int | None = 1000) -> dict[str, Any]:
        def issues(d: dict[str, RowIssues]) -> list[dict[str, Any]]:
            out = []
            for code in sorted(d):
                lines = d[code].all_lines()
                out.append(
                    {
                        "reason": code,
                        "column": d[code].column,
                        "message": d[code].message,
                        "rows": int(len(lines)),
                        "lines": [int(x) for x in (lines if max_lines is None else lines[:max_lines])],
                    }
                )
            return out

        return {
            "kind": self.kind,
            "name": self.name,
            "format": self.format,
            "encoding": self.encoding,
            "delimiter": self.delimiter,
            "rows_read": self.rows_read,
            "rows_used": self.rows_used,
            "rows_rejected": self.rows_rejected,
            "rows_excluded": self.rows_excluded,
            "rejected": issues(self.rejected),
            "excluded": issues(self.excluded),
            "notes": list(self.notes),
        }


@dataclass
class Extract:
    """A validated extract: the used rows (compact types, BSN replaced by pseudonym) and its report."""

    kind: str
    data: pd.DataFrame
    report: FileReport
    #: jeugdhulp only: toewijzingnummers of excluded / rejected rows, so claim lines on them are
    #: classified instead of being called unknown.
    excluded_numbers: pd.Index | None = None
    rejected_numbers: pd.Index | None = None


@dataclass(frozen=True)
class ReadOptions:
    """How to read one file (from the config's ``[extracts.<kind>]``)."""

    path: Path
    kind: str
    format: str = "auto"
    delimiter: str = "auto"
    encoding: str = "auto"
    sheet: str = ""
    columns: Mapping[str, str] = field(default_factory=dict)
    config_source: str = "de configuratie"


# --- raw reading: file → chunks of text columns named as in the data dictionary -----------------


@dataclass
class _Chunk:
    frame: pd.DataFrame  # dictionary column names, all str ("" when empty)
    lines: np.ndarray  # line number of each row as in the file
    bad_lines: np.ndarray  # lines skipped because their field count differs from the header


def detect_encoding(path: Path) -> str:
    """``utf-8-sig`` (BOM), ``utf-8`` or ``cp1252``; strict decoding of the whole file, streamed."""
    with open(path, "rb") as fh:
        head = fh.read(3)
        if head == codecs.BOM_UTF8:
            candidates = ["utf-8-sig", "cp1252"]
        else:
            candidates = ["utf-8", "cp1252"]
    for enc in candidates:
        decoder = codecs.getincrementaldecoder(enc)(errors="strict")
        try:
            with open(path, "rb") as fh:
                while block := fh.read(4 << 20):
                    decoder.decode(block)
                decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            continue
        return enc
    raise ExtractError(
        f"{path.name}: de tekenset is niet te lezen (geen UTF-8 en geen Windows-1252). "
        "Exporteer het bestand opnieuw als CSV UTF-8.",
        code="unreadable_encoding",
        details={"file": path.name},
    )



def resolve_columns(
    header: list[str], opts: ReadOptions
) -> dict[str, str]:
    """Source column → dictionary name, from the config mapping then by (case-insensitive) name."""
    kind = opts.kind
    stripped = [h.strip() for h in header]
    by_lower: dict[str, str] = {}
    for h in stripped:
        by_lower.setdefault(h.lower(), h)
    mapping: dict[str, str] = {}
    taken: set[str] = set()
    for src, target in opts.columns.items():
        actual = src if src in stripped else by_lower.get(src.strip().lower())
        if actual is not None and target not in taken:
            mapping[actual] = target
            taken.add(target)
    for name in COLUMNS[kind]:
        if name in taken:
            continue
        actual = by_lower.get(name)
        if actual is not None and actual not in mapping:
            mapping[actual] = name
            taken.add(name)
    missing: list[str] = []
    for req in REQUIRED[kind]:
        if isinstance(req, str):
            if req not in taken:
                missing.append(req)
        elif not any(all(c in taken for c in alt) for alt in req):
            missing.append(" of ".join(" + ".join(alt) for alt in req))
    if missing:
        column = missing[0]
        found = ", ".join(h for h in stripped if h) or "(geen)"
        raise ExtractError(
            f"{opts.path.name}: verplichte kolom '{column}' ontbreekt ({kind}). Gevonden kolommen: {found}. "
            f"Voeg de kolom toe aan de export, of koppel de bronkolom in {opts.config_source} onder "
            f"[extracts.{kind}.columns], bijvoorbeeld \"Naam_in_export\" = \"{column.split(' ')[0]}\".",
            code="missing_column",
            details={"file": opts.path.name, "column": column, "kind": kind},
        )
    return mapping


def _iter_csv(opts: ReadOptions, report: FileReport) -> Iterator[_Chunk]:
    path = opts.path
    encoding = detect_encoding(path) if opts.encoding == "auto" else opts.encoding
    if encoding == "utf-8":
        # A BOM is harmless to strip even when the user said utf-8.
        encoding = "utf-8-sig"
    with open(path, "r", encoding=encoding, newline="") as fh:
        first = fh.readline()
    if not first.strip():
        raise ExtractError(
            f"{path.name}: het bestand is leeg of begint met een lege regel; de eerste regel moet de kolomnamen bevatten.",
            code="empty_extract",
            details={"file": path.name},
        )
    delimiter = sniff_delimiter(first) if opts.delimiter == "auto" else opts.delimiter
    header = next(csv.reader([first.rstrip("\r\n")], delimiter=delimiter))
    mapping = resolve_columns(header, opts)
    with open(path, "rb") as fh:
        has_bom = fh.read(3) == codecs.BOM_UTF8
    report.format = "CSV"
    used = "utf-8-sig" if has_bom and encoding.startswith("utf-8") else ("utf-8" if encoding.startswith("utf-8") else encoding)
    report.encoding = _ENCODING_LABELS.get(used, encoding)
    report.delimiter = {"\t": "tab"}.get(delimiter, delimiter)
    # All columns are parsed (no usecols): only then does pandas notice a line with too many fields,
    # the typical sign of an unquoted delimiter inside a value that shifts every later column.
    positions = {i: mapping[h.strip()] for i, h in enumerate(header) if h.strip() in mapping}
    skipped_re = re.compile(r"Skipping line (\d+)")
    next_line = 2
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            reader = pd.read_csv(
                path,
                sep=delimiter,
                encoding=encoding,
                dtype=object,
                na_filter=False,
                keep_default_na=False,
                skip_blank_lines=False,
                on_bad_lines="warn",
                header=0,
                chunksize=CHUNK_ROWS,
                engine="c",
            )
            seen = 0
            for frame in reader:
                bad = []
                for w in caught[seen:]:
                    bad.extend(int(x) for x in skipped_re.findall(str(w.message)))
                seen = len(caught)
                bad_set = set(bad)
                n = len(frame)
                lines = np.empty(n, dtype=np.int64)
                if not bad_set:
                    lines[:] = np.arange(next_line, next_line + n)
                    next_line += n
                else:
                    i = 0
                    while i < n:
                        if next_line not in bad_set:
                            lines[i] = next_line
                            i += 1
                        next_line += 1
                    while next_line in bad_set:
                        next_line += 1
                frame = frame.iloc[:, sorted(positions)]
                frame.columns = [positions[i] for i in sorted(positions)]
                yield _Chunk(frame, lines, np.array(sorted(bad_set), dtype=np.int64))
            # bad lines reported after the last chunk
            tail = []
            for w in caught[seen:]:
                tail.extend(int(x) for x in skipped_re.findall(str(w.message)))
            if tail:
                yield _Chunk(pd.DataFrame({c: pd.Series([], dtype=object) for c in positions.values()}),
                             np.empty(0, np.int64), np.array(sorted(tail), dtype=np.int64))
        except pd.errors.ParserError as exc:
            raise ExtractError(
                f"{path.name}: het bestand is geen leesbare CSV ({_parser_hint(exc)}). "
                "Controleer het scheidingsteken en de aanhalingstekens, of stel delimiter in de configuratie in.",
                code="unreadable_csv",
                details={"file": path.name},
            ) from None
        except UnicodeDecodeError:
            raise ExtractError(
                f"{path.name}: het bestand is niet in de tekenset {encoding} te lezen; zet encoding op \"auto\".",
                code="unreadable_encoding",
                details={"file": path.name},
            ) from None


def _parser_hint(exc: Exception) -> str:
    # pandas' message names a line and counts, never values; keep only that part.
    m = re.search(r"line (\d+)", str(exc))
    return f"probleem rond regel {m.group(1)}" if m else "onleesbare structuur"


def _cell_text(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, bool):
        return "1" if v else "0"
    if isinstance(v, dt.datetime):
        return v.date().isoformat() if v.time() == dt.time(0) else v.isoformat(sep=" ")
    if isinstance(v, dt.date):
        return v.isoformat()
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if v.is_integer():
            return str(int(v))
        return f"{v:.15g}"
    return str(v)


def _iter_xlsx(opts: ReadOptions, report: FileReport) -> Iterator[_Chunk]:
    import openpyxl  # only needed for spreadsheets
    from zipfile import BadZipFile

    path = opts.path
    try:
        wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except (BadZipFile, KeyError, ValueError, OSError) as exc:
        if isinstance(exc, FileNotFoundError):
            raise
        raise ExtractError(
            f"{path.name}: het bestand is geen leesbaar Excel-bestand (.xlsx). Sla het op als .xlsx of exporteer naar CSV.",
            code="unreadable_xlsx",
            details={"file": path.name},
        ) from None
    try:
        if opts.sheet:
            if opts.sheet not in wb.sheetnames:
                raise ExtractError(
                    f"{path.name}: tabblad '{opts.sheet}' bestaat niet; aanwezig: {', '.join(wb.sheetnames)}",
                    code="missing_sheet",
                    details={"file": path.name},
                )
            ws = wb[opts.sheet]
        else:
            ws = wb.worksheets[0]
        rows = ws.iter_rows(values_only=True)
        header_row = next(rows, None)
        if header_row is None or all(v is None for v in header_row):
            raise ExtractError(
                f"{path.name}: het tabblad is leeg of de eerste rij heeft geen kolomnamen.",
                code="empty_extract",
                details={"file": path.name},
            )
        header = [_cell_text(v) for v in header_row]
        mapping = resolve_columns(header, opts)
        positions = {i: mapping[h.strip()] for i, h in enumerate(header) if h.strip() in mapping}
        report.format = "XLSX"
        report.encoding = "XLSX"
        report.delimiter = ""
        cols: dict[int, list[str]] = {i: [] for i in positions}
        line = 1
        lines: list[int] = []
        for row in rows:
            line += 1
            lines.append(line)
            for i in positions:
                cols[i].append(_cell_text(row[i]) if i < len(row) else "")
            if len(lines) >= CHUNK_ROWS:
                yield _Chunk(
                    pd.DataFrame({positions[i]: pd.Series(cols[i], dtype=object) for i in positions}),
                    np.array(lines, dtype=np.int64),
                    np.empty(0, np.int64),
                )
                cols = {i: [] for i in positions}
                lines = []
        yield _Chunk(
            pd.DataFrame({positions[i]: pd.Series(cols[i], dtype=object) for i in positions}),
            np.array(lines, dtype=np.int64),
            np.empty(0, np.int64),
        )
    finally:
        wb.close()


def iter_chunks(opts: ReadOptions, report: FileReport) -> Iterator[_Chunk]:
    """Chunks of raw text columns. Values are not trimmed here: the checks below take a fast path
    for clean values and trim only what does not pass it (cheaper than trimming millions)."""
    fmt = opts.format
    if fmt == "auto":
        fmt = "xlsx" if opts.path.suffix.lower() in (".xlsx", ".xlsm") else "csv"
    if not opts.path.exists():
        raise ExtractError(
            f"{opts.path}: bestand niet gevonden ({opts.kind}). Controleer het pad in {opts.config_source}.",
            code="missing_extract",
            details={"file": opts.path.name, "kind": opts.kind},
        )
    yield from (_iter_xlsx(opts, report) if fmt == "xlsx" else _iter_csv(opts, report))


# --- vectorised value checks -------------------------------------------------------------------
#
# Each check has a fast path over a byte matrix (numpy, no Python per value) for values in the
# standard notation, and an exact path (Python, once per distinct value) for everything else:
# spaces, other notations, faults. Both paths give the same answer for the same text.

_ISO_DATE = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})(?:[ T]00:00(?::00)?)?")
_NL_DATE = re.compile(r"(\d{1,2})-(\d{1,2})-(\d{4})")
MIN_YEAR, MAX_YEAR = 1900, 2100


def parse_date_text(text: str) -> np.datetime64:
    """One date in ISO or DD-MM-YYYY form, or NaT. Years outside 1900–2100 are not plausible."""
    m = _ISO_DATE.fullmatch(text)
    if m:
        y, mo, d = int(m.group(1)), int(m.group(2)), int(m.group(3))
    else:
        m = _NL_DATE.fullmatch(text)
        if not m:
            return NAT
        d, mo, y = int(m.group(1)), int(m.group(2)), int(m.group(3))
    if not MIN_YEAR <= y <= MAX_YEAR:
        return NAT
    try:
        return np.datetime64(dt.date(y, mo, d), "D")
    except ValueError:
        return NAT


def fast_iso_dates(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(dates, ok) for values exactly ``YYYY-MM-DD``; other rows are NaT and not ok."""
    n = len(values)
    dates = np.full(n, NAT)
    m = byte_matrix(values, 10)
    if m is None or n == 0:
        return dates, np.zeros(n, dtype=bool)
    digit = (m >= 48) & (m <= 57)
    ok = digit[:, [0, 1, 2, 3, 5, 6, 8, 9]].all(axis=1) & (m[:, 4] == 45) & (m[:, 7] == 45) & (m[:, 10] == 0)
    y = np.where(ok, digits(m, slice(0, 4)), 1970)
    mo = np.where(ok, digits(m, slice(5, 7)), 1)
    d = np.where(ok, digits(m, slice(8, 10)), 1)
    ok &= (y >= MIN_YEAR) & (y <= MAX_YEAR) & (mo >= 1) & (mo <= 12) & (d >= 1)
    mo = np.where(ok, mo, 1)
    y = np.where(ok, y, 1970)
    month = ((y - 1970) * 12 + (mo - 1)).astype("datetime64[M]")
    first = month.astype("datetime64[D]")
    days_in_month = ((month + 1).astype("datetime64[D]") - first).astype(np.int64)
    ok &= d <= days_in_month
    dates[ok] = first[ok] + (d[ok] - 1).astype("timedelta64[D]")
    return dates, ok


def parse_dates(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(dates, empty) for a column: NaT where the text is empty or not a date."""
    d = Distinct(values)
    dates, ok = fast_iso_dates(d.values)
    empty = np.zeros(len(d.values), dtype=bool)
    for i in np.flatnonzero(~ok):
        text = d.values[i].strip()
        empty[i] = text == ""
        dates[i] = parse_date_text(text)
    return d.spread(dates), d.spread(empty)


class _Flags:
    """First failing rule per row wins, in the order the checks run."""

    def __init__(self, n: int):
        self.code = np.zeros(n, dtype=np.int16)

    def flag(self, mask: np.ndarray, reason: str) -> None:
        self.code[(self.code == 0) & mask] = _REASON_INDEX[reason]

    def flag_codes(self, reasons: np.ndarray) -> None:
        set_ = reasons != ""
        if set_.any():
            for r in pd.unique(reasons[set_]):
                self.flag(reasons == r, r)

    @property
    def ok(self) -> np.ndarray:
        return self.code == 0

    def report_into(self, report: FileReport, lines: np.ndarray) -> None:
        for idx in np.unique(self.code):
            if idx:
                report.add(_REASON_CODES[idx - 1], lines[self.code == idx])


def _col(frame: pd.DataFrame, name: str) -> np.ndarray:
    if name in frame.columns:
        return frame[name].to_numpy(dtype=object)
    return np.full(len(frame), "", dtype=object)


def _is_empty(values: np.ndarray) -> np.ndarray:
    return by_unique(values, lambda v: v == "", bool)


def _blank_rows(frame: pd.DataFrame) -> np.ndarray:
    if not len(frame.columns):
        return np.zeros(len(frame), dtype=bool)
    cols = list(frame.columns)
    candidates = np.flatnonzero(_col(frame, cols[0]) == "")
    if len(candidates) == 0:
        return np.zeros(len(frame), dtype=bool)
    sub = frame.iloc[candidates]
    blank = np.ones(len(sub), dtype=bool)
    for col in cols:
        blank &= _is_empty(sub[col].to_numpy(dtype=object))
    mask = np.zeros(len(frame), dtype=bool)
    mask[candidates[blank]] = True
    return mask


def _check_date(flags: _Flags, values: np.ndarray, name: str, required: bool) -> np.ndarray:
    dates, empty = parse_dates(values)
    if required:
        flags.flag(empty, f"{name}_ontbreekt")
    flags.flag(~empty & np.isnat(dates), f"{name}_ongeldig")
    return dates


def _texts(values: np.ndarray) -> np.ndarray:
    """Trimmed text; distinct values trimmed once."""
    return by_unique(values, lambda v: v)


# --- the three extracts ------------------------------------------------------------------------


def _start(opts: ReadOptions) -> FileReport:
    return FileReport(kind=opts.kind, name=opts.path.name)


def _finish(report: FileReport, parts: list[pd.DataFrame], columns: dict[str, Any]) -> pd.DataFrame:
    if parts:
        data = pd.concat(parts, ignore_index=True)
    else:
        data = pd.DataFrame({c: pd.Series([], dtype=t) for c, t in columns.items()})
    return data


def _row_chunks(opts: ReadOptions, report) -> Iterator[tuple[pd.DataFrame, np.ndarray, "_Flags"]]:
    """Every non-empty chunk with its line numbers and fresh flags, for the three readers.

    Counts every row read (lines with the wrong number of fields included, as rejected) and flags
    blank rows first, so the accounting identity holds whatever a reader checks next.
    """
    for chunk in iter_chunks(opts, report):
        report.rows_read += len(chunk.frame) + len(chunk.bad_lines)
        report.add("kolommen_aantal", chunk.bad_lines)
        if not len(chunk.frame):
            continue
        flags = _Flags(len(chunk.frame))
        flags.flag(_blank_rows(chunk.frame), "lege_regel")
        yield chunk.frame, chunk.lines, flags


def read_jeugdhulp(
    opts: ReadOptions, pseudonymiser: Pseudonymiser, zorgtypes: ZorgtypeTable, allow_test_bsn: bool = False
) -> Extract:
    """Allocations: pseudonym, dates, zorgtype, verwijzer, AGB; reden_wijziging 13 excluded."""
    report = _start(opts)
    parts: list[pd.DataFrame] = []
    bsn_parts: list[np.ndarray] = []
    rejected_nrs: list[np.ndarray] = []
    excluded_nrs: list[np.ndarray] = []
    for f, lines, flags in _row_chunks(opts, report):
        flags.flag(by_unique(_col(f, "reden_wijziging"), lambda v: v == "13", bool), "reden_wijziging_13")
        ints, bsn_reason = check_bsn(_col(f, "bsn"), allow_test_bsn)
        flags.flag_codes(bsn_reason)
        geboorte = _check_date(flags, _col(f, "geboortedatum"), "geboortedatum", True)
        nrs = _texts(_col(f, "toewijzingnummer"))
        flags.flag(nrs == "", "toewijzingnummer_ontbreekt")
        code = _texts(_col(f, "productcode"))
        zorgtype = _zorgtypes(_col(f, "productcategorie"), code, zorgtypes)
        flags.flag(zorgtype == "", "productcategorie_onbekend")
        flags.flag(by_unique(code, lambda v: len(v) > 5, bool), "productcode_te_lang")
        agb = _texts(_col(f, "aanbieder_agb"))
        flags.flag(agb == "", "aanbieder_agb_ontbreekt")
        flags.flag(~by_unique(agb, lambda v: v == "" or (len(v) == 8 and v.isascii() and v.isdigit()), bool),
                   "aanbieder_agb_ongeldig")
        verwijzer = by_unique(_col(f, "verwijzer"), _verwijzer)
        flags.flag(verwijzer == "", "verwijzer_onbekend")
        start = _check_date(flags, _col(f, "ingangsdatum"), "ingangsdatum", True)
        end = _check_date(flags, _col(f, "einddatum"), "einddatum", False)
        flags.flag(~np.isnat(end) & ~np.isnat(start) & (end < start), "einddatum_voor_ingangsdatum")
        flags.flag(~np.isnat(geboorte) & ~np.isnat(start) & (start < geboorte), "ingangsdatum_voor_geboorte")
        flags.report_into(report, lines)
        code_idx = flags.code
        excluded_nrs.append(nrs[code_idx == _REASON_INDEX["reden_wijziging_13"]])
        rejected_nrs.append(nrs[(code_idx != 0) & (code_idx != _REASON_INDEX["reden_wijziging_13"])])
        ok = flags.ok
        bsn_parts.append(ints[ok])
        parts.append(
            pd.DataFrame(
                {
                    "line": lines[ok],
                    "toewijzingnummer": nrs[ok],
                    "geboortedatum": geboorte[ok],
                    "zorgtype": zorgtype[ok],
                    "verwijzer": verwijzer[ok],
                    "aanbieder_agb": agb[ok],
                    "ingangsdatum": start[ok],
                    "einddatum": np.where(np.isnat(end[ok]), OPEN_END, end[ok]),
                }
            )
        )
    data = _finish(
        report,
        parts,
        {"line": np.int64, "toewijzingnummer": object, "geboortedatum": "datetime64[s]", "zorgtype": object,
         "verwijzer": object, "aanbieder_agb": object, "ingangsdatum": "datetime64[s]", "einddatum": "datetime64[s]"},
    )
    ints = np.concatenate(bsn_parts) if bsn_parts else np.empty(0, np.int64)
    # Duplicate toewijzingnummer: the first occurrence counts, later ones are rejected.
    dup = data["toewijzingnummer"].duplicated(keep="first").to_numpy(bool)
    if dup.any():
        report.add("toewijzingnummer_dubbel", data["line"].to_numpy()[dup])
        data = data.loc[~dup].reset_index(drop=True)
        ints = ints[~dup]
    data.insert(0, "pseudonym", pseudonymise(ints, pseudonymiser))
    del ints
    report.rows_used = len(data)
    report.check_balance()
    return Extract("jeugdhulp", data, report, _unique_nonempty(excluded_nrs), _unique_nonempty(rejected_nrs))


def _unique_nonempty(parts: list[np.ndarray]) -> pd.Index:
    if not parts:
        return pd.Index([], dtype=object)
    values = pd.unique(np.concatenate(parts))
    return pd.Index([v for v in values if v], dtype=object)


def _zorgtypes(cat: np.ndarray, code: np.ndarray, table: ZorgtypeTable) -> np.ndarray:
    """Zorgtype slug per row, "" when the productcategorie is unknown (productcode overrides first)."""
    by_cat = by_unique(cat, lambda c: table.by_categorie.get(_two_digits(c), ""))
    if table.by_productcode:
        by_code = by_unique(code, lambda c: table.by_productcode.get(c, ""))
        by_cat = np.where(by_code != "", by_code, by_cat)
    return by_cat


def _two_digits(value: str) -> str:
    # Spreadsheets turn "04" into "4" and "45" into "45.0".
    if value.endswith(".0") and value[:-2].isdigit():
        value = value[:-2]
    return value.zfill(2) if value.isdigit() and len(value) < 2 else value


def _verwijzer(value: str) -> str:
    if value == "":
        return VERWIJZER_ONBEKEND
    value = _two_digits(value)
    return value if value in VERWIJZERS and value != VERWIJZER_ONBEKEND else ""


_AMOUNT_EURO = re.compile(r"(-?)(\d+)(?:[.,](\d{1,2}))?")
_AMOUNT_CENT = re.compile(r"(-?\d+)(?:\.0+)?")


def _euro_to_cent(text: str) -> float:
    t = text.replace("€", "").replace(" ", "")
    m = _AMOUNT_EURO.fullmatch(t)
    if not m:
        return np.nan
    cents = int(m.group(2)) * 100 + int((m.group(3) or "0").ljust(2, "0"))
    return -cents if m.group(1) else cents


def _cent(text: str) -> float:
    m = _AMOUNT_CENT.fullmatch(text)
    return float(int(m.group(1))) if m and len(m.group(1)) <= 15 else np.nan


def _lookup_allocations(nrs_raw: np.ndarray, alloc: pd.Index) -> tuple[np.ndarray, np.ndarray]:
    """(position in the allocations or -1, trimmed number) per claim line."""
    position = alloc.get_indexer(nrs_raw) if len(alloc) else np.full(len(nrs_raw), -1)
    nrs = nrs_raw
    missing = position < 0
    if missing.any():
        nrs = nrs_raw.copy()
        trimmed = _texts(nrs_raw[missing])
        nrs[missing] = trimmed
        if len(alloc):
            position[missing] = alloc.get_indexer(trimmed)
    return position, nrs


def read_declaraties(opts: ReadOptions, allocations: Extract) -> Extract:
    """Claim lines linked to the allocation they belong to; credits are negative amounts."""
    report = _start(opts)
    alloc = pd.Index(allocations.data["toewijzingnummer"])
    empty = pd.Index([], dtype=object)
    excluded = allocations.excluded_numbers if allocations.excluded_numbers is not None else empty
    rejected = allocations.rejected_numbers if allocations.rejected_numbers is not None else empty
    parts: list[pd.DataFrame] = []
    uses_euro: bool | None = None
    for f, lines, flags in _row_chunks(opts, report):
        if uses_euro is None:
            uses_euro = "bedrag_eurocent" not in f.columns
        position, nrs = _lookup_allocations(_col(f, "toewijzingnummer"), alloc)
        unmatched = position < 0
        if unmatched.any():
            flags.flag(unmatched & (nrs == ""), "toewijzingnummer_ontbreekt")
            sub = pd.Index(nrs[unmatched])
            in_excluded = np.zeros(len(f), bool)
            in_rejected = np.zeros(len(f), bool)
            in_excluded[unmatched] = sub.isin(excluded)
            in_rejected[unmatched] = sub.isin(rejected)
            flags.flag(unmatched & in_excluded, "toewijzing_verwijderd")
            flags.flag(unmatched & in_rejected, "toewijzing_afgekeurd")
            flags.flag(unmatched, "toewijzing_onbekend")
        begin = _check_date(flags, _col(f, "periode_begin"), "periode_begin", True)
        einde = _check_date(flags, _col(f, "periode_einde"), "periode_einde", False)
        flags.flag(~np.isnat(einde) & ~np.isnat(begin) & (einde < begin), "periode_einde_voor_begin")
        amounts = Distinct(_col(f, "bedrag") if uses_euro else _col(f, "bedrag_eurocent"))
        cents_u = np.full(len(amounts.values), np.nan)
        if uses_euro:
            rest = np.ones(len(amounts.values), dtype=bool)
            func = _euro_to_cent
        else:
            ints, fast = fast_digits(amounts.values, 15)
            cents_u[fast] = ints[fast]
            rest = ~fast
            func = _cent
        empty_u = np.zeros(len(amounts.values), dtype=bool)
        for i in np.flatnonzero(rest):
            text = amounts.values[i].strip()
            empty_u[i] = text == ""
            cents_u[i] = func(text)
        cents = amounts.spread(cents_u)
        bedrag_empty = amounts.spread(empty_u)
        flags.flag(bedrag_empty, "bedrag_ontbreekt")
        flags.flag(np.isnan(cents) | (np.abs(cents) >= 2**53), "bedrag_ongeldig")
        dc = _debet_credit(_col(f, "debet_credit"))
        flags.flag(dc == 0, "debet_credit_ongeldig")
        flags.report_into(report, lines)
        ok = flags.ok
        amount = np.nan_to_num(cents[ok]).astype(np.int64) * dc[ok]
        parts.append(
            pd.DataFrame({"line": lines[ok], "allocation": position[ok].astype(np.int64), "periode_begin": begin[ok],
                          "bedrag_eurocent": amount})
        )
    data = _finish(report, parts, {"line": np.int64, "allocation": np.int64, "periode_begin": "datetime64[s]",
                                   "bedrag_eurocent": np.int64})
    report.rows_used = len(data)
    report.check_balance()
    return Extract("declaraties", data, report)


_DC = {"": 1, "D": 1, "C": -1}


def _debet_credit(values: np.ndarray) -> np.ndarray:
    """+1 for D (or empty), -1 for C, 0 for anything else."""
    out = np.zeros(len(values), dtype=np.int64)
    d = (values == "D") | (values == "")
    c = values == "C"
    out[d] = 1
    out[c] = -1
    rest = ~(d | c)
    if rest.any():
        out[rest] = by_unique(values[rest], lambda v: _DC.get(v.upper(), 0), np.int64)
    return out


def _vestiging(value: str) -> str:
    v = value.upper()
    if v in ("", GEEN_SCHOOL):
        return GEEN_SCHOOL
    return v if is_vestigingscode(v) else ""


def read_leerlingen(
    opts: ReadOptions, pseudonymiser: Pseudonymiser, gemeentecode: str, allow_test_bsn: bool = False
) -> Extract:
    """Enrolment on the peildatum: pseudonym, school year, vestigingscode (``GEEN`` when none)."""
    report = _start(opts)
    parts: list[pd.DataFrame] = []
    bsn_parts: list[np.ndarray] = []
    for f, lines, flags in _row_chunks(opts, report):
        ints, bsn_reason = check_bsn(_col(f, "bsn"), allow_test_bsn)
        flags.flag_codes(bsn_reason)
        geboorte = _check_date(flags, _col(f, "geboortedatum"), "geboortedatum", True)
        peil = _check_date(flags, _col(f, "peildatum"), "peildatum", True)
        if "vestigingscode" in f.columns:
            vest = by_unique(f["vestigingscode"].to_numpy(dtype=object), _vestiging)
            flags.flag(vest == "", "vestigingscode_ongeldig")
        else:
            vest = _brin_vestiging(flags, _col(f, "brin"), _col(f, "vestigingsnummer"))
        soort = by_unique(_col(f, "onderwijssoort"), lambda v: v.upper() if v == "" or v.upper() in ONDERWIJSSOORTEN else None)
        flags.flag(pd.isna(soort), "onderwijssoort_onbekend")
        woon_raw = _col(f, "woongemeente")
        woon_code = np.where(woon_raw == gemeentecode, gemeentecode, "").astype(object)
        other = woon_raw != gemeentecode
        woon_empty = np.zeros(len(f), dtype=bool)
        if other.any():
            woon_code[other] = by_unique(woon_raw[other], _gemeente)
            woon_empty[other] = _is_empty(woon_raw[other])
        flags.flag(woon_empty, "woongemeente_ontbreekt")
        flags.flag(woon_code == "", "woongemeente_ongeldig")
        flags.flag(woon_code != gemeentecode, "andere_woongemeente")
        flags.flag(~by_unique(_col(f, "buurtcode"), lambda v: v == "" or re.fullmatch(r"BU\d{8}", v.upper()) is not None,
                              bool), "buurtcode_ongeldig")
        flags.report_into(report, lines)
        ok = flags.ok
        bsn_parts.append(ints[ok])
        parts.append(
            pd.DataFrame(
                {
                    "line": lines[ok],
                    "geboortedatum": geboorte[ok],
                    "peildatum": peil[ok],
                    "vestigingscode": vest[ok],
                    "onderwijssoort": soort[ok],
                }
            )
        )
    data = _finish(report, parts, {"line": np.int64, "geboortedatum": "datetime64[s]", "peildatum": "datetime64[s]",
                                   "vestigingscode": object, "onderwijssoort": object})
    ints = np.concatenate(bsn_parts) if bsn_parts else np.empty(0, np.int64)
    peil_days = data["peildatum"].to_numpy("datetime64[D]")
    months = peil_days.astype("datetime64[M]").astype(np.int64)  # months since 1970-01
    first_year = 1970 + (months - 7) // 12  # August starts a school year
    data["schooljaar"] = by_unique(first_year.astype(str).astype(object), lambda y: f"{y}-{int(y) + 1}")
    keep = np.ones(len(data), dtype=bool)
    # One peildatum per school year: the most frequent one counts, other rows are rejected.
    if len(data):
        counts = data.groupby(["schooljaar", "peildatum"]).size().reset_index(name="n")
        counts = counts.sort_values(["schooljaar", "n", "peildatum"], ascending=[True, False, True])
        chosen = counts.drop_duplicates("schooljaar").set_index("schooljaar")["peildatum"]
        off = data["peildatum"].to_numpy() != data["schooljaar"].map(chosen).to_numpy()
        if off.any():
            report.add("peildatum_afwijkend", data["line"].to_numpy()[off])
            keep &= ~off
    # A pupil counts once per school year (first row wins), or partials would not add up.
    dup = pd.DataFrame({"b": ints, "j": data["schooljaar"].to_numpy(object)}).duplicated(keep="first").to_numpy(bool).copy()
    dup &= keep
    if dup.any():
        report.add("leerling_dubbel", data["line"].to_numpy()[dup])
        keep &= ~dup
    if not keep.all():
        data = data.loc[keep].reset_index(drop=True)
        ints = ints[keep]
    data.insert(0, "pseudonym", pseudonymise(ints, pseudonymiser))
    del ints
    report.rows_used = len(data)
    report.check_balance()
    return Extract("leerlingen", data, report)


def _gemeente(value: str) -> str:
    try:
        return normalise_gemeentecode(value)
    except ValueError:
        return ""


def _brin_vestiging(flags: _Flags, brin: np.ndarray, nummer: np.ndarray) -> np.ndarray:
    both_empty = _is_empty(brin) & _is_empty(nummer)
    brin_u = by_unique(brin, lambda v: v.upper() if is_brin(v.upper()) else "")
    nr = by_unique(nummer, lambda v: _two_digits(v) if v.isascii() and v.isdigit() and int(v) < 100 else "")
    flags.flag(~both_empty & (brin_u == ""), "brin_ongeldig")
    flags.flag(~both_empty & (nr == ""), "vestigingsnummer_ongeldig")
    code = np.where(both_empty, GEEN_SCHOOL, brin_u + nr)
    return code.astype(object)


def read_location_registry(path: Path) -> frozenset[str]:
    """Known vestigingscodes from a CSV with a ``vestigingscode`` column (or BRIN + VESTIGINGSNUMMER)."""
    opts = ReadOptions(path=path, kind="leerlingen")
    encoding = detect_encoding(path)
    with open(path, "r", encoding="utf-8-sig" if encoding.startswith("utf-8") else encoding, newline="") as fh:
        first = fh.readline()
        fh.seek(0)
        delimiter = sniff_delimiter(first)
        rows = csv.DictReader(fh, delimiter=delimiter)
        names = {(n or "").strip().lower(): n for n in (rows.fieldnames or [])}
        codes: set[str] = set()
        for row in rows:
            if "vestigingscode" in names:
                code = (row[names["vestigingscode"]] or "").strip().upper()
            elif "brin nummer" in names or "instellingscode" in names:
                brin = (row[names.get("instellingscode") or names["brin nummer"]] or "").strip().upper()
                nr = (row.get(names.get("vestigingsnummer", ""), "") or "").strip()
                code = brin + nr.zfill(2) if nr.isdigit() else (brin + nr)
            else:
                raise ExtractError(
                    f"{opts.path.name}: het vestigingenregister heeft geen kolom 'vestigingscode'.",
                    code="missing_column",
                    details={"file": opts.path.name, "column": "vestigingscode"},
                )
            if is_vestigingscode(code):
                codes.add(code)
    return frozenset(codes)
