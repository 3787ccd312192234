"""Files → chunks of raw text rows named as in the data dictionary, each row with its line number
as in the file (CSV in any of the accepted encodings and delimiters, or XLSX); and the location registry."""

from __future__ import annotations

import csv
import datetime as dt
import re
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

import numpy as np
import pandas as pd

from node_agent.read.columns import resolve_columns
from node_agent.read.parse import is_empty
from node_agent.read.report import FileReport, Flags, ReadOptions
from shared.codes import is_vestigingscode
from shared.errors import ExtractError
from shared.textfiles import ENCODING_LABELS, UTF8_BOM, detect_encoding, sniff_delimiter

CHUNK_ROWS = 250_000


@dataclass
class Chunk:
    """Rows of one file as read: text only, not yet trimmed or checked."""

    frame: pd.DataFrame  # dictionary column names, all str ("" when empty)
    lines: np.ndarray  # line number of each row as in the file
    bad_lines: np.ndarray  # lines skipped because their field count differs from the header


def _detect_encoding(path: Path) -> str:
    """``shared.textfiles``' detection, with the agent's code and remedy (the hub keeps ``bad_encoding``)."""
    try:
        return detect_encoding(path)
    except ExtractError as exc:
        if exc.code != "bad_encoding":
            raise
        raise ExtractError(
            f"{path.name}: de tekenset is niet te lezen (geen UTF-8 en geen Windows-1252). "
            "Exporteer het bestand opnieuw als CSV UTF-8.",
            code="unreadable_encoding",
            details={"file": path.name},
        ) from None


def _iter_csv(opts: ReadOptions, report: FileReport) -> Iterator[Chunk]:
    path = opts.path
    encoding = _detect_encoding(path) if opts.encoding == "auto" else opts.encoding
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
        has_bom = fh.read(len(UTF8_BOM)) == UTF8_BOM
    report.format = "CSV"
    used = "utf-8-sig" if has_bom and encoding.startswith("utf-8") else ("utf-8" if encoding.startswith("utf-8") else encoding)
    report.encoding = ENCODING_LABELS.get(used, encoding)
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
                yield Chunk(frame, lines, np.array(sorted(bad_set), dtype=np.int64))
            # bad lines reported after the last chunk
            tail = []
            for w in caught[seen:]:
                tail.extend(int(x) for x in skipped_re.findall(str(w.message)))
            if tail:
                yield Chunk(pd.DataFrame({c: pd.Series([], dtype=object) for c in positions.values()}),
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


def _iter_xlsx(opts: ReadOptions, report: FileReport) -> Iterator[Chunk]:
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
                yield Chunk(
                    pd.DataFrame({positions[i]: pd.Series(cols[i], dtype=object) for i in positions}),
                    np.array(lines, dtype=np.int64),
                    np.empty(0, np.int64),
                )
                cols = {i: [] for i in positions}
                lines = []
        yield Chunk(
            pd.DataFrame({positions[i]: pd.Series(cols[i], dtype=object) for i in positions}),
            np.array(lines, dtype=np.int64),
            np.empty(0, np.int64),
        )
    finally:
        wb.close()


def iter_chunks(opts: ReadOptions, report: FileReport) -> Iterator[Chunk]:
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


def column(frame: pd.DataFrame, name: str) -> np.ndarray:
    """A chunk's column as an object array; all "" when the file does not have it (optional columns)."""
    if name in frame.columns:
        return frame[name].to_numpy(dtype=object)
    return np.full(len(frame), "", dtype=object)


def _blank_rows(frame: pd.DataFrame) -> np.ndarray:
    if not len(frame.columns):
        return np.zeros(len(frame), dtype=bool)
    cols = list(frame.columns)
    candidates = np.flatnonzero(column(frame, cols[0]) == "")
    if len(candidates) == 0:
        return np.zeros(len(frame), dtype=bool)
    sub = frame.iloc[candidates]
    blank = np.ones(len(sub), dtype=bool)
    for col in cols:
        blank &= is_empty(sub[col].to_numpy(dtype=object))
    mask = np.zeros(len(frame), dtype=bool)
    mask[candidates[blank]] = True
    return mask


def concat_parts(parts: list[pd.DataFrame], columns: dict[str, Any]) -> pd.DataFrame:
    """A reader's per-chunk frames as one; with no chunks, an empty frame of the given column types."""
    if parts:
        data = pd.concat(parts, ignore_index=True)
    else:
        data = pd.DataFrame({c: pd.Series([], dtype=t) for c, t in columns.items()})
    return data


def row_chunks(opts: ReadOptions, report: FileReport) -> Iterator[tuple[pd.DataFrame, np.ndarray, Flags]]:
    """Every non-empty chunk with its line numbers and fresh flags, for the three readers.

    Counts every row read (lines with the wrong number of fields included, as rejected) and flags
    blank rows first, so the accounting identity holds whatever a reader checks next.
    """
    for chunk in iter_chunks(opts, report):
        report.rows_read += len(chunk.frame) + len(chunk.bad_lines)
        report.add("kolommen_aantal", chunk.bad_lines)
        if not len(chunk.frame):
            continue
        flags = Flags(len(chunk.frame))
        flags.flag(_blank_rows(chunk.frame), "lege_regel")
        yield chunk.frame, chunk.lines, flags


def read_location_registry(path: Path) -> frozenset[str]:
    """Known vestigingscodes from a CSV with a ``vestigingscode`` column (or BRIN + VESTIGINGSNUMMER)."""
    opts = ReadOptions(path=path, kind="leerlingen")
    encoding = _detect_encoding(path)
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
