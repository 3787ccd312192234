"""Files → chunks of raw text rows named as in the data dictionary, each row with its line number
as in the file (CSV in any of the accepted encodings and delimiters, parsed by Arrow; or XLSX); and
the location registry."""

from __future__ import annotations

import csv
import datetime as dt
import io
import mmap
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv

from node_agent.columnar import Distinct
from node_agent.read.columns import resolve_columns
from node_agent.read.report import FileReport, Flags, ReadOptions
from shared.codes import is_vestigingscode
from shared.errors import ExtractError
from shared.textfiles import ENCODING_LABELS, UTF8_BOM, detect_encoding, sniff_delimiter

#: XLSX rows are collected in chunks of this many rows (a CSV file is parsed whole, by Arrow).
CHUNK_ROWS = 250_000


class Rows:
    """Rows of one file as read, per dictionary column: text only ("" when empty), not yet trimmed or
    checked. Each column is an Arrow string array, factorised on first use (:func:`column`)."""

    def __init__(self, arrays: dict[str, Any], n: int):
        self.arrays = arrays  # dictionary name → pyarrow string array, in the file's column order
        self.n = n
        self._distinct: dict[str, Distinct] = {}

    def __len__(self) -> int:
        return self.n

    def __contains__(self, name: object) -> bool:
        return name in self.arrays

    def names(self) -> list[str]:
        return list(self.arrays)

    def distinct(self, name: str) -> Distinct:
        if name not in self._distinct:
            self._distinct[name] = Distinct.from_arrow(self.arrays[name])
        return self._distinct[name]


@dataclass
class Chunk:
    """Rows of one file with their line numbers (as in the file; the header is line 1)."""

    rows: Rows
    lines: np.ndarray  # line number of each row as in the file
    bad_lines: np.ndarray  # lines skipped because they have more fields than the header
    # lines with fewer fields than the header (read with the missing ones empty), and their field counts
    short_lines: np.ndarray = field(default_factory=lambda: np.empty(0, np.int64))
    short_fields: np.ndarray = field(default_factory=lambda: np.empty(0, np.int64))
    header_fields: int = 0


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


class _FileBytes:
    """A file's bytes, memory-mapped (no copy, pages shared with the page cache), with the facts the
    reader needs about them: a UTF-8 BOM at the start, and whether what follows is plain ASCII."""

    def __init__(self, path: Path):
        with open(path, "rb") as fh:
            size = os.fstat(fh.fileno()).st_size
            self.raw: Any = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) if size else b""
        self.bom = self.raw[: len(UTF8_BOM)] == UTF8_BOM
        self.start = len(UTF8_BOM) if self.bom else 0
        body = np.frombuffer(self.raw, dtype=np.uint8)[self.start :]
        self.ascii = bool(body.max(initial=0) < 128)

    def detected_encoding(self, path: Path) -> str:
        """What ``shared.textfiles`` detects; ASCII after any BOM decides without decoding the file."""
        if self.ascii:
            return "utf-8-sig" if self.bom else "utf-8"
        try:
            return _detect_encoding(path)
        except ExtractError as exc:
            if exc.code != "unreadable_encoding":
                raise
            # With a BOM the file must be UTF-8; without one, Windows-1252 was the last one tried.
            raise self.decode_error(path, "utf-8" if self.bom else "cp1252",
                                    "UTF-8 (het bestand begint met een BOM)" if self.bom
                                    else "UTF-8 of Windows-1252") from None

    def decode_error(self, path: Path, encoding: str, label: str | None = None) -> ExtractError:
        """The error for a file that does not decode as ``encoding`` (``label``: the tekenset named to the
        user): the line (and the byte in it) of the first byte that does not, so the user can find it."""
        where, details = "", {"file": path.name}
        codec = "utf-8" if encoding.replace("_", "-").lower() in ("utf-8-sig", "utf8-sig") else encoding
        try:
            bytes(self.raw[self.start :]).decode(codec)
        except UnicodeDecodeError as exc:
            at = self.start + exc.start
            head = bytes(self.raw[:at])
            line_start = head.rfind(b"\n") + 1
            line = head.count(b"\n") + 1
            byte = self.raw[at : at + 1].hex().upper()
            where = f" Regel {line} bevat het teken 0x{byte} (byte {at - line_start + 1} van die regel)."
            details.update(line=line, byte=f"0x{byte}")
        except LookupError:
            pass
        advice = ("Exporteer het bestand opnieuw als CSV UTF-8." if label
                  else "Sla het bestand op als UTF-8, of zet encoding op \"auto\" (UTF-8 of Windows-1252).")
        return ExtractError(
            f"{path.name}: het bestand is niet in de tekenset {label or encoding} te lezen.{where} {advice}",
            code="unreadable_encoding",
            details=details,
        )

    def utf8(self, encoding: str, validated: bool) -> Any:
        """The text as UTF-8 without BOM (a buffer), decoded strictly as ``encoding``
        (UnicodeDecodeError otherwise); ``validated``: the encoding was detected, so the bytes decode."""
        if encoding.replace("_", "-").lower() in ("utf-8-sig", "utf8-sig", "utf-8", "utf8"):
            if not (validated or self.ascii):
                self.raw[self.start :].decode("utf-8")  # as reading the text would
            return memoryview(self.raw)[self.start :]
        return memoryview(self.raw[: len(self.raw)].decode(encoding).encode("utf-8"))


def _unclosed_quote(data: Any, delimiter: str) -> int | None:
    """The line (header = 1) of the quote that opened a value never closed, or None (``_quote_state``)."""
    at = _quote_state(data, delimiter)
    if at is None:
        return None
    return bytes(data[:at]).count(b"\n") + 1


def _quote_state(data: Any, delimiter: str) -> int | None:
    """Where the quote starts that leaves the file ending inside a quoted value (a byte offset), or None.

    The tokenizer's quote state changes only at runs of quote characters: inside quotes a run of odd
    length closes them (pairs are escaped quotes); outside, a run that starts a field (after the
    delimiter, a line end or at the start) opens them when its length is odd, and a run inside an
    unquoted value is text. So per run the state is kept (even run), flipped (odd run at a field
    start) or cleared (odd run inside a value), and the state at the end follows from the runs after
    the last clearing one; the last flip after it, when their number is odd, opened the quote.
    """
    buf = np.frombuffer(data, dtype=np.uint8)
    quote = np.flatnonzero(buf == 34)
    if len(quote) == 0:
        return None
    run_start = np.r_[True, np.diff(quote) > 1]
    starts = quote[run_start]
    lengths = np.diff(np.r_[np.flatnonzero(run_start), len(quote)])
    before = np.where(starts > 0, buf[np.maximum(starts - 1, 0)], 10)
    at_field_start = (before == ord(delimiter)) | (before == 10) | (before == 13)
    odd = lengths % 2 == 1
    clears = np.flatnonzero(odd & ~at_field_start)
    after = clears[-1] + 1 if len(clears) else 0
    flips = after + np.flatnonzero(odd[after:] & at_field_start[after:])
    return int(starts[flips[-1]]) if len(flips) % 2 else None  # the last flip opened the quote


def _parse_csv(data: Any, quoted: bool, delimiter: str, n_fields: int, keep: list[int], threads: bool = True):
    """Arrow's parse of the rows after the header in ``data`` (a buffer; ``quoted``: it holds a quote
    character): (table of the ``keep`` fields as text, invalid rows as (record number, number of
    fields, text)). Record numbers count the header as 1."""

    names = [f"f{i}" for i in range(n_fields)]
    invalid: list[tuple[int | None, int, str]] = []

    def on_invalid(row) -> str:
        invalid.append((row.number, row.actual_columns, row.text))
        return "skip"

    table = pa_csv.read_csv(
        pa.BufferReader(pa.py_buffer(data)),
        read_options=pa_csv.ReadOptions(use_threads=threads, skip_rows=1, column_names=names, block_size=4 << 20),
        parse_options=pa_csv.ParseOptions(
            delimiter=delimiter,
            quote_char='"',
            double_quote=True,
            escape_char=False,
            newlines_in_values=quoted,  # only a quoted value can hold a line end
            ignore_empty_lines=False,
            invalid_row_handler=on_invalid,
        ),
        convert_options=pa_csv.ConvertOptions(
            column_types={names[i]: pa.string() for i in keep},
            include_columns=[names[i] for i in keep],
            strings_can_be_null=False,
            quoted_strings_can_be_null=False,
        ),
    )
    if invalid and threads and any(number is None for number, _, _ in invalid):
        return _parse_csv(data, quoted, delimiter, n_fields, keep, threads=False)  # only a serial parse numbers them
    return table, invalid


def _iter_csv(opts: ReadOptions, report: FileReport) -> Iterator[Chunk]:
    path = opts.path
    file = _FileBytes(path)
    encoding = file.detected_encoding(path) if opts.encoding == "auto" else opts.encoding
    if encoding == "utf-8":
        # A BOM is harmless to strip even when the user said utf-8.
        encoding = "utf-8-sig"
    try:
        with open(path, "r", encoding=encoding, newline="") as fh:
            first = fh.readline()  # decodes a first block of the file, more than this line
    except UnicodeDecodeError:
        raise file.decode_error(path, encoding) from None
    if not first.strip():
        raise ExtractError(
            f"{path.name}: het bestand is leeg of begint met een lege regel; de eerste regel moet de kolomnamen bevatten.",
            code="empty_extract",
            details={"file": path.name},
        )
    delimiter = sniff_delimiter(first) if opts.delimiter == "auto" else opts.delimiter
    header = next(csv.reader([first.rstrip("\r\n")], delimiter=delimiter))
    mapping = resolve_columns(header, opts)
    report.format = "CSV"
    utf8 = encoding.startswith("utf-8")
    used = "utf-8-sig" if file.bom and utf8 else ("utf-8" if utf8 else encoding)
    report.encoding = ENCODING_LABELS.get(used, encoding)
    report.delimiter = {"\t": "tab"}.get(delimiter, delimiter)
    positions = {i: mapping[h.strip()] for i, h in enumerate(header) if h.strip() in mapping}
    keep = sorted(positions)
    try:
        data = file.utf8(encoding, validated=opts.encoding == "auto")
    except UnicodeDecodeError:
        raise file.decode_error(path, encoding) from None
    if len(data) and data[-1] not in b"\n\r":
        data = memoryview(bytes(data) + b"\n")  # Arrow cannot skip a header line that has no line end
    quoted = data.obj.find(b'"', len(data.obj) - len(data)) >= 0  # a search without copying the text
    open_line = _unclosed_quote(data, delimiter) if quoted else None
    if open_line is not None:
        raise ExtractError(
            f"{path.name}: het bestand is geen leesbare CSV: een aanhalingsteken (\") op regel {open_line} wordt "
            "nergens gesloten, zodat de rest van het bestand als één waarde zou gelden. Verwijder of verdubbel het "
            "teken (\"\") in de export, of controleer het scheidingsteken.",
            code="unreadable_csv",
            details={"file": path.name, "line": open_line},
        )
    # Every field is parsed (only the kept ones converted): only then is a line with more fields than
    # the header noticed, the typical sign of an unquoted delimiter inside a value that shifts every
    # later column. Such lines are skipped and reported; a line with fewer fields is a row whose
    # missing fields are empty.
    table, invalid = _parse_csv(data, quoted, delimiter, len(header), keep)
    del data, file  # the table holds its own copy of the text
    columns = [table.column(j) for j in range(table.num_columns)]
    n_records = table.num_rows + len(invalid)
    del table
    lines = np.arange(2, n_records + 2, dtype=np.int64)
    if invalid:
        lines = np.setdiff1d(lines, np.array([number for number, _, _ in invalid], dtype=np.int64), assume_unique=True)
    bad = np.sort(np.array([number for number, fields, _ in invalid if fields > len(header)], dtype=np.int64))
    short = [(number, text) for number, fields, text in invalid if fields < len(header)]
    if short:
        extra = [list(next(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter), [])) for _, text in short]
        extra = [row + [""] * (len(header) - len(row)) for row in extra]
        all_lines = np.concatenate([lines, np.array([number for number, _ in short], dtype=np.int64)])
        order = np.argsort(all_lines, kind="stable")
        columns = [
            pa.concat_arrays([col.combine_chunks(), pa.array([row[i] for row in extra], pa.string())]).take(order)
            for col, i in zip(columns, keep)
        ]
        lines = all_lines[order]
    yield Chunk(Rows({positions[i]: col for i, col in zip(keep, columns)}, len(lines)), lines, bad,
                short_lines=np.array([number for number, fields, _ in invalid if fields < len(header)], dtype=np.int64),
                short_fields=np.array([fields for _, fields, _ in invalid if fields < len(header)], dtype=np.int64),
                header_fields=len(header))


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
                yield _xlsx_chunk(cols, positions, lines)
                cols = {i: [] for i in positions}
                lines = []
        yield _xlsx_chunk(cols, positions, lines)
    finally:
        wb.close()


def _xlsx_chunk(cols: dict[int, list[str]], positions: dict[int, str], lines: list[int]) -> Chunk:
    rows = Rows({positions[i]: pa.array(cols[i], type=pa.string()) for i in sorted(positions)}, len(lines))
    return Chunk(rows, np.array(lines, dtype=np.int64), np.empty(0, np.int64))


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


def column(rows: Rows, name: str) -> Distinct:
    """A chunk's column, factorised; all "" when the file does not have it (optional columns)."""
    if name in rows:
        return rows.distinct(name)
    return Distinct.constant("", len(rows))


def _blank_rows(rows: Rows) -> np.ndarray:
    """Rows whose first column is "" and every column empty after trimming."""
    names = rows.names()
    mask = np.zeros(len(rows), dtype=bool)
    if not names:
        return mask
    candidates = np.flatnonzero(pc.equal(rows.arrays[names[0]], "").to_numpy(zero_copy_only=False))
    if len(candidates) == 0:
        return mask
    blank = np.ones(len(candidates), dtype=bool)
    for name in names:
        sub = Distinct.from_arrow(rows.arrays[name].take(candidates))
        blank &= sub.spread(np.array([v.strip() == "" for v in sub.values], dtype=bool))
    mask[candidates[blank]] = True
    return mask


def concat_parts(parts: list[pd.DataFrame], columns: dict[str, Any]) -> pd.DataFrame:
    """A reader's per-chunk frames as one; with no chunks, an empty frame of the given column types."""
    if len(parts) == 1:
        return parts[0]
    if parts:
        data = pd.concat(parts, ignore_index=True)
    else:
        data = pd.DataFrame({c: pd.Series([], dtype=t) for c, t in columns.items()})
    return data


def row_chunks(opts: ReadOptions, report: FileReport) -> Iterator[tuple[Rows, np.ndarray, Flags]]:
    """Every non-empty chunk with its line numbers and fresh flags, for the three readers.

    Counts every row read (lines with the wrong number of fields included, as rejected) and flags
    blank rows first, so the accounting identity holds whatever a reader checks next.
    """
    for chunk in iter_chunks(opts, report):
        report.rows_read += len(chunk.rows) + len(chunk.bad_lines)
        report.add("kolommen_aantal", chunk.bad_lines)
        if not len(chunk.rows):
            continue
        flags = Flags(len(chunk.rows))
        blank = _blank_rows(chunk.rows)
        flags.flag(blank, "lege_regel")
        if len(chunk.short_lines):
            # A blank line's few fields say nothing; any other short line is told, with its field count.
            told = ~np.isin(chunk.short_lines, chunk.lines[blank])
            report.add_short(chunk.short_lines[told], chunk.short_fields[told], chunk.header_fields)
        yield chunk.rows, chunk.lines, flags


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
