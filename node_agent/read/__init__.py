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

from __future__ import annotations

import importlib
from typing import Any

#: Where each public name lives. Imported on first use (PEP 562), so a command that only needs the
#: column names (the config's check, ``node-agent exchange``) does not load pandas and Arrow.
_WHERE = {
    "check_bsn": "node_agent.pseudonymise",
    "pseudonymise": "node_agent.pseudonymise",
    "COLUMNS": "node_agent.read.columns",
    "REQUIRED": "node_agent.read.columns",
    "resolve_columns": "node_agent.read.columns",
    "read_declaraties": "node_agent.read.declaraties",
    "OPEN_END": "node_agent.read.jeugdhulp",
    "read_jeugdhulp": "node_agent.read.jeugdhulp",
    "read_leerlingen": "node_agent.read.leerlingen",
    "read_ondersteuning": "node_agent.read.ondersteuning",
    "NAT": "node_agent.read.parse",
    "parse_date_text": "node_agent.read.parse",
    "parse_dates": "node_agent.read.parse",
    "EXCLUSION_RULES": "node_agent.read.report",
    "REASONS": "node_agent.read.report",
    "Extract": "node_agent.read.report",
    "FileReport": "node_agent.read.report",
    "ReadOptions": "node_agent.read.report",
    "RowIssues": "node_agent.read.report",
    "CHUNK_ROWS": "node_agent.read.sources",
    "iter_chunks": "node_agent.read.sources",
    "read_location_registry": "node_agent.read.sources",
}


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(_WHERE[name]), name)
    globals()[name] = value
    return value


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
