"""Extract files → validated, pseudonymised frames, with every row accounted for.

Reads CSV (``,`` ``;`` tab or ``|``; UTF-8 with or without BOM, or Windows-1252; CRLF or LF; parsed
by Arrow) and XLSX, everything as text (:mod:`.sources`), maps the municipality's column names onto
the data dictionary's (:mod:`.columns`), and checks every rule of the data dictionary vectorised
(:mod:`.parse` and one module per extract: each distinct value of a column checked once, Arrow, numpy
and pandas, never a Python loop over millions of rows). Each row ends up in exactly one of: used,
rejected (reason, column, line number as in the file — header is line 1), excluded by rule
(:mod:`.report`). BSNs are checked and replaced by
pseudonyms in :mod:`node_agent.pseudonymise` before any frame leaves a reader; no message ever
carries a value.
"""

from node_agent.pseudonymise import check_bsn, pseudonymise
from node_agent.read.columns import COLUMNS, REQUIRED, resolve_columns
from node_agent.read.declaraties import read_declaraties
from node_agent.read.jeugdhulp import OPEN_END, read_jeugdhulp
from node_agent.read.leerlingen import read_leerlingen
from node_agent.read.ondersteuning import read_ondersteuning
from node_agent.read.parse import NAT, parse_date_text, parse_dates
from node_agent.read.report import EXCLUSION_RULES, REASONS, Extract, FileReport, ReadOptions, RowIssues
from node_agent.read.sources import CHUNK_ROWS, iter_chunks, read_location_registry

__all__ = [
    "CHUNK_ROWS",
    "COLUMNS",
    "EXCLUSION_RULES",
    "NAT",
    "OPEN_END",
    "REASONS",
    "REQUIRED",
    "Extract",
    "FileReport",
    "ReadOptions",
    "RowIssues",
    "check_bsn",  # lives in node_agent.pseudonymise, the privacy boundary
    "iter_chunks",
    "parse_date_text",
    "parse_dates",
    "pseudonymise",  # lives in node_agent.pseudonymise, the privacy boundary
    "read_declaraties",
    "read_jeugdhulp",
    "read_leerlingen",
    "read_location_registry",
    "read_ondersteuning",
    "resolve_columns",
]
