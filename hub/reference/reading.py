"""Reading a DUO CSV file as it comes: encoding and delimiter detection, rows with line numbers.

DUO publishes in Windows-1252 and in UTF-8 with or without BOM, with ``;`` (sometimes ``,``) as
delimiter and CRLF line ends; this module hides those differences from the layout parsers.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from shared.errors import ExtractError
from shared.textfiles import ENCODING_LABELS, UTF8_BOM, decode, sniff_delimiter  # noqa: F401  (re-exported)


@dataclass(frozen=True)
class CsvText:
    """A decoded file: its text, the encoding and delimiter we found, and its header."""

    name: str
    text: str
    encoding: str  # one of ENCODING_LABELS
    delimiter: str
    header: list[str]

    @property
    def encoding_label(self) -> str:
        return ENCODING_LABELS[self.encoding]

    def rows(self) -> Iterator[tuple[int, list[str]]]:
        """Data rows after the header as (line number in the file, fields). Blank lines are no rows."""
        reader = csv.reader(io.StringIO(self.text, newline=""), delimiter=self.delimiter)
        next(reader, None)
        for fields in reader:
            if not fields or all(not f.strip() for f in fields):
                continue
            yield reader.line_num, fields


def normalise_header(name: str) -> str:
    """Header names compared case- and space-insensitively (DUO varies both between years)."""
    return " ".join(name.replace("\ufeff", "").strip().upper().split())


def read_csv(path: Path | str) -> CsvText:
    """Read and decode ``path``; raise :class:`ExtractError` when it is no usable CSV file."""
    p = Path(path)
    try:
        data = p.read_bytes()
    except FileNotFoundError:
        raise ExtractError(f"{p.name}: bestand niet gevonden", code="file_not_found", details={"file": str(p)}) from None
    except IsADirectoryError:
        raise ExtractError(f"{p.name}: dit is een map, geen bestand", code="file_not_found") from None
    except PermissionError:
        raise ExtractError(f"{p.name}: geen leesrechten", code="file_unreadable") from None
    return parse_bytes(data, p.name)


def parse_bytes(data: bytes, name: str) -> CsvText:
    if not data.strip():
        raise ExtractError(f"{name}: het bestand is leeg", code="empty_file", details={"file": name})
    if b"\x00" in data[:4096]:
        raise ExtractError(
            f"{name}: dit is geen tekstbestand (CSV); sla een Excel-bestand eerst op als CSV",
            code="not_csv",
            details={"file": name},
        )
    text, encoding = decode(data, name)
    first_line = text.split("\n", 1)[0].rstrip("\r")
    delimiter = sniff_delimiter(first_line)
    header = [normalise_header(h) for h in next(csv.reader([first_line], delimiter=delimiter))]
    if len(header) < 3:
        raise ExtractError(
            f"{name}: regel 1 is geen kopregel van een DUO-bestand (minder dan 3 kolommen)",
            code="unknown_layout",
            details={"file": name, "line": 1},
        )
    return CsvText(name=name, text=text, encoding=encoding, delimiter=delimiter, header=header)
