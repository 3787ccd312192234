"""What a parsed DUO file yields: records to merge into the reference tables, and every row accounted for."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

#: Which source may set a location's school type. The 06 file states SOORT_VESTIGING explicitly, so
#: it wins over the VO files (which imply VO) and the BO registry (which implies BO); a VSO school
#: with exam candidates therefore stays VSO whatever the import order.
SOORT_RANK = {"bo_vestigingen": 1, "vo_examens": 2, "vo_leerlingen": 2, "po_leerlingen_historisch": 3}

#: Which source may overwrite a location's descriptive fields (name, address, board, gemeente,
#: active). The registry is DUO's current, full description; the historical count file abbreviates
#: names. A lower-ranked file only fills fields that are still empty, so the import order does
#: not change the result; among equal ranks the later file wins.
DETAIL_RANK = {"po_leerlingen_historisch": 1, "vo_examens": 2, "vo_leerlingen": 2, "bo_vestigingen": 3}


@dataclass(frozen=True)
class RowIssue:
    """A row not used: its line in the file, the column at fault (if one), and the rule it broke."""

    line: int
    column: str | None
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return {"line": self.line, "column": self.column, "reason": self.reason}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "RowIssue":
        return cls(line=int(data["line"]), column=data.get("column"), reason=str(data["reason"]))

    def describe(self) -> str:
        where = f"regel {self.line}" + (f", kolom {self.column}" if self.column else "")
        return f"{where}: {self.reason}"


@dataclass
class Parsed:
    """The outcome of parsing one file. ``rows_read == rows_used + len(rejected) + len(excluded)``."""

    name: str
    layout: str
    layout_label: str
    encoding: str
    delimiter: str
    rows_read: int = 0
    rows_used: int = 0
    rejected: list[RowIssue] = field(default_factory=list)
    excluded: list[RowIssue] = field(default_factory=list)
    #: vestigingscode → the fields this file carries for it (absent keys are left untouched).
    vestigingen: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: (vestigingscode, jaar) → (leerlingen or None, masked)
    pupil_counts: dict[tuple[str, int], tuple[int | None, bool]] = field(default_factory=dict)
    #: gemeentecode → naam
    gemeenten: dict[str, str] = field(default_factory=dict)
    #: swv code → (naam, sector)
    samenwerkingsverbanden: dict[str, tuple[str, str]] = field(default_factory=dict)
    #: (vestigingscode, sector) → swv code
    memberships: dict[tuple[str, str], str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    #: Meaning taken from outside the bytes (``jaar=2024`` from the file name or --jaar); part of
    #: the import's identity together with the SHA-256.
    context: str = ""

    def reject(self, line: int, column: str | None, reason: str) -> None:
        self.rejected.append(RowIssue(line, column, reason))

    def exclude(self, line: int, reason: str) -> None:
        self.excluded.append(RowIssue(line, None, reason))

    def excluded_summary(self) -> dict[str, int]:
        return dict(Counter(i.reason for i in self.excluded))

    def check_accounting(self) -> None:
        """Every row read must be used, rejected or excluded; anything else is a bug in a parser."""
        accounted = self.rows_used + len(self.rejected) + len(self.excluded)
        if accounted != self.rows_read:
            raise AssertionError(f"{self.name}: {self.rows_read} rows read but {accounted} accounted for")

    def merge_vestiging(self, code: str, fields: dict[str, Any]) -> None:
        """Several rows may describe one location (exam/VO files: one row per programme)."""
        current = self.vestigingen.setdefault(code, {})
        for key, value in fields.items():
            if key == "onderwijstypen":
                current.setdefault(key, set()).update(value)
            elif value not in (None, ""):
                current[key] = value
