"""Reading text files as they come from municipal and DUO systems: strict encoding detection
(UTF-8 with or without BOM, else Windows-1252) and delimiter sniffing. Standard library only, so
the agent and the hub share one implementation."""

from __future__ import annotations

import csv

from shared.errors import ExtractError

UTF8_BOM = b"\xef\xbb\xbf"


def decode(data: bytes, name: str) -> tuple[str, str]:
    """Decode strictly: BOM → UTF-8 (must be valid), else UTF-8 if valid, else Windows-1252.

    Windows-1252 is the fallback because it is what DUO's older files use; bytes it does not
    define (0x81, 0x8D, 0x8F, 0x90, 0x9D) make the file unusable rather than silently garbled.
    """
    if data.startswith(UTF8_BOM):
        try:
            return data.decode("utf-8-sig"), "utf-8-sig"
        except UnicodeDecodeError as exc:
            raise ExtractError(
                f"{name}: het bestand begint met een UTF-8-BOM maar bevat ongeldige UTF-8 op byte {exc.start}",
                code="bad_encoding",
                details={"file": name, "byte": exc.start},
            ) from None
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252"), "cp1252"
    except UnicodeDecodeError as exc:
        raise ExtractError(
            f"{name}: tekencodering niet herkend (geen UTF-8 en geen Windows-1252; byte {exc.start})",
            code="bad_encoding",
            details={"file": name, "byte": exc.start},
        ) from None


def sniff_delimiter(header_line: str) -> str:
    """The delimiter that splits the header into the most fields (quotes respected)."""
    best, best_count = ";", 0
    for candidate in (";", ",", "\t", "|"):
        fields = next(csv.reader([header_line], delimiter=candidate), [])
        if len(fields) > best_count:
            best, best_count = candidate, len(fields)
    return best
