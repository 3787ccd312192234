"""Gemeente names → codes, for DUO files that name the gemeente but give no code (the exam file).

DUO spells names differently per file (``'S-GRAVENHAGE`` / ``S GRAVENHAGE``, ``SÚDWEST-FRYSLÂN`` /
``SUDWEST-FRYSLAN``, ``BERGEN (NH.)`` / ``BERGEN NH``), so names are compared by a key without
accents, punctuation and spaces. ``gemeenten.csv`` next to this module holds every code and
spelling found in DUO's own files (written by ``demo/make_demo.py``).
"""

from __future__ import annotations

import csv
import unicodedata
from functools import lru_cache
from pathlib import Path
from typing import Iterable, Mapping

GEMEENTEN_CSV = Path(__file__).with_name("gemeenten.csv")

#: DUO's placeholder for "gemeente unknown" (06 file); it is no gemeente.
ONBEKENDE_GEMEENTE = "9999"


def name_key(naam: str) -> str:
    """``'S-GRAVENHAGE`` and ``S Gravenhage`` → ``SGRAVENHAGE``."""
    decomposed = unicodedata.normalize("NFKD", naam)
    return "".join(c for c in decomposed.upper() if c.isascii() and c.isalnum())


@lru_cache(maxsize=1)
def packaged_names() -> dict[str, str]:
    """name key → gemeentecode from the shipped list."""
    result: dict[str, str] = {}
    with GEMEENTEN_CSV.open(encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh, delimiter=";"):
            result[name_key(row["naam"])] = row["code"]
    return result


@lru_cache(maxsize=1)
def packaged_gemeenten() -> dict[str, str]:
    """gemeentecode → preferred name (the first spelling listed for the code)."""
    result: dict[str, str] = {}
    with GEMEENTEN_CSV.open(encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh, delimiter=";"):
            result.setdefault(row["code"], row["naam"])
    return result


class GemeenteLookup:
    """Resolves names to codes: the shipped list, overridden by what the database already knows."""

    def __init__(self, known: Mapping[str, str] | Iterable[tuple[str, str]] = ()):
        self._by_key = dict(packaged_names())
        items = known.items() if isinstance(known, Mapping) else known
        for code, naam in items:
            if naam and code != ONBEKENDE_GEMEENTE:
                self._by_key[name_key(naam)] = code

    def code_of(self, naam: str) -> str | None:
        return self._by_key.get(name_key(naam))
