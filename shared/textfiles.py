"""Reading text files as they come from municipal and DUO systems: strict encoding detection
(UTF-8 with or without BOM, else Windows-1252), delimiter sniffing, and which text a spreadsheet
would take for a formula. Standard library only, so
the agent and the hub share one implementation."""

from __future__ import annotations

import codecs
import csv
from pathlib import Path
from typing import Callable, Iterable

from shared.errors import ExtractError

UTF8_BOM = b"\xef\xbb\xbf"
#: A spreadsheet reads a cell starting with one of these as a formula (or the start of one): the hub
#: refuses such names at upload and neutralises them in every export (hub/web/exports.py).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
#: Names shown to people for the encodings we accept.
ENCODING_LABELS = {"utf-8-sig": "UTF-8 met BOM", "utf-8": "UTF-8", "cp1252": "Windows-1252"}
#: Files are decoded in blocks of this many bytes, so a large extract is never held whole.
BLOCK_BYTES = 4 << 20


def decode(data: bytes, name: str) -> tuple[str, str]:
    """Decode strictly: BOM → UTF-8 (must be valid), else UTF-8 if valid, else Windows-1252.

    Windows-1252 is the fallback because it is what DUO's older files use; bytes it does not
    define (0x81, 0x8D, 0x8F, 0x90, 0x9D) make the file unusable rather than silently garbled.
    """
    bom = data.startswith(UTF8_BOM)
    body = data[len(UTF8_BOM) :] if bom else data
    return _decode_strictly(lambda: (body,), bom, name, keep_text=True)


def detect_encoding(path: Path | str, block_bytes: int = BLOCK_BYTES) -> str:
    """The encoding :func:`decode` would find for the file at ``path``, read in blocks (nothing kept)."""
    path = Path(path)
    with open(path, "rb") as fh:
        bom = fh.read(len(UTF8_BOM)) == UTF8_BOM

    def blocks() -> Iterable[bytes]:
        with open(path, "rb") as fh:
            fh.seek(len(UTF8_BOM) if bom else 0)
            while block := fh.read(block_bytes):
                yield block

    return _decode_strictly(blocks, bom, path.name, keep_text=False)[1]


def _decode_strictly(
    blocks: Callable[[], Iterable[bytes]], bom: bool, name: str, keep_text: bool
) -> tuple[str, str]:
    """(text or "", encoding) of the bytes after any BOM, by the rules of :func:`decode`.

    An error's ``byte`` counts from the end of the BOM, as Python's ``utf-8-sig`` codec does.
    """
    failed_at = 0
    for encoding in ("utf-8-sig",) if bom else ("utf-8", "cp1252"):
        decoder = codecs.getincrementaldecoder("utf-8" if bom else encoding)(errors="strict")
        parts: list[str] = []
        fed = 0  # bytes given to the decoder so far
        try:
            for block in blocks():
                # where the decoder's input starts: it still holds the first bytes of an unfinished character
                start = fed - len(decoder.getstate()[0])
                text = decoder.decode(block)
                fed += len(block)
                if keep_text:
                    parts.append(text)
            start = fed - len(decoder.getstate()[0])
            decoder.decode(b"", final=True)
        except UnicodeDecodeError as exc:
            failed_at = start + exc.start
            continue
        return "".join(parts), encoding
    if bom:
        raise ExtractError(
            f"{name}: het bestand begint met een UTF-8-BOM maar bevat ongeldige UTF-8 op byte {failed_at}",
            code="bad_encoding",
            details={"file": name, "byte": failed_at},
        )
    raise ExtractError(
        f"{name}: tekencodering niet herkend (geen UTF-8 en geen Windows-1252; byte {failed_at})",
        code="bad_encoding",
        details={"file": name, "byte": failed_at},
    )


def sniff_delimiter(header_line: str) -> str:
    """The delimiter that splits the header into the most fields (quotes respected)."""
    best, best_count = ";", 0
    for candidate in (";", ",", "\t", "|"):
        fields = next(csv.reader([header_line], delimiter=candidate), [])
        if len(fields) > best_count:
            best, best_count = candidate, len(fields)
    return best
