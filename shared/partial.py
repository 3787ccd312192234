"""The partial: what one municipality's agent sends, as typed objects with paired converters.

A partial holds integer cells keyed by (vestigingscode, schooljaar, measure, category) plus a
data-quality block. It never holds a BSN, a pseudonym, a birth date or a row. Its canonical
encoding (:func:`encode_partial`) is what gets signed: compact JSON, sorted keys, cells sorted by
key, integers only, UTF-8. The same partial always encodes to the same bytes.

Cells travel as arrays to keep national-scale partials small::

    "cells":      [[vestigingscode, schooljaar, measure, category, value], ...]
    "cost_cells": [[vestigingscode, schooljaar, category, value, contributors, top1, top2, negatives], ...]

``cost_cells`` are the ``kosten`` measure. For each cost cell the node sends the number of
children with a non-zero amount (``contributors``), the two largest per-child amounts
(``top1`` ≥ ``top2``) and the number of children whose net amount is negative: after combining,
the hub needs these for the p%-rule, (n,k)-dominance and the insider rule.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Iterable

from shared import safejson
from shared.codes import GEEN_SCHOOL, KOSTEN, MEASURES, MEASURES_WITHOUT_CATEGORY, is_vestigingscode, parse_schooljaar
from shared.errors import PayloadError, SchemaVersionError

SCHEMA_VERSION = 1
SUPPORTED_SCHEMA_VERSIONS = frozenset({1})


@dataclass(frozen=True, slots=True, order=True)
class Cell:
    vestigingscode: str  # six characters, or GEEN for pupils without a school
    schooljaar: str
    measure: str
    category: str  # "" for measures without a category
    value: int

    @property
    def key(self) -> tuple[str, str, str, str]:
        return (self.vestigingscode, self.schooljaar, self.measure, self.category)

    def to_list(self) -> list[Any]:
        return [self.vestigingscode, self.schooljaar, self.measure, self.category, self.value]

    @classmethod
    def from_list(cls, row: list[Any]) -> "Cell":
        if not isinstance(row, list) or len(row) != 5:
            raise PayloadError("Een cel moet 5 velden hebben", code="bad_cell")
        return cls(*row)


@dataclass(frozen=True, slots=True, order=True)
class CostCell:
    vestigingscode: str
    schooljaar: str
    category: str  # a zorgtype slug or "totaal"
    value: int  # eurocent, net (credits subtracted)
    contributors: int  # children with a non-zero net amount
    top1: int  # largest per-child net amount (eurocent)
    top2: int  # second largest (0 when fewer than two children)
    negatives: int  # children whose net amount is negative

    measure = KOSTEN

    @property
    def key(self) -> tuple[str, str, str, str]:
        return (self.vestigingscode, self.schooljaar, KOSTEN, self.category)

    def to_list(self) -> list[Any]:
        return [
            self.vestigingscode,
            self.schooljaar,
            self.category,
            self.value,
            self.contributors,
            self.top1,
            self.top2,
            self.negatives,
        ]

    @classmethod
    def from_list(cls, row: list[Any]) -> "CostCell":
        if not isinstance(row, list) or len(row) != 8:
            raise PayloadError("Een kostencel moet 8 velden hebben", code="bad_cell")
        return cls(*row)


@dataclass(frozen=True, slots=True)
class FileQuality:
    """Accounting for one input file: read = used + rejected + excluded, always."""

    name: str  # file name only, never a full path with a user name in it
    kind: str  # jeugdhulp | declaraties | leerlingen
    rows_read: int
    rows_used: int
    rejected: dict[str, int] = field(default_factory=dict)  # reason code → rows
    excluded: dict[str, int] = field(default_factory=dict)  # rule code → rows

    @property
    def rows_rejected(self) -> int:
        return sum(self.rejected.values())

    @property
    def rows_excluded(self) -> int:
        return sum(self.excluded.values())

    @property
    def balanced(self) -> bool:
        return self.rows_read == self.rows_used + self.rows_rejected + self.rows_excluded

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "kind": self.kind,
            "rows_read": self.rows_read,
            "rows_used": self.rows_used,
            "rejected": dict(sorted(self.rejected.items())),
            "excluded": dict(sorted(self.excluded.items())),
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "FileQuality":
        return cls(
            name=d["name"],
            kind=d["kind"],
            rows_read=d["rows_read"],
            rows_used=d["rows_used"],
            rejected=dict(d.get("rejected", {})),
            excluded=dict(d.get("excluded", {})),
        )


@dataclass(frozen=True, slots=True)
class DataQuality:
    files: tuple[FileQuality, ...] = ()
    unmatched_claim_lines: int = 0  # claim lines whose toewijzingnummer matches no allocation
    allocations_without_enrolment: int = 0  # clients not in the enrolment extract (not school-age residents)
    unknown_locations: tuple[str, ...] = ()  # vestigingscodes not in the agent's location registry
    notes: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "files": [f.to_dict() for f in self.files],
            "unmatched_claim_lines": self.unmatched_claim_lines,
            "allocations_without_enrolment": self.allocations_without_enrolment,
            "unknown_locations": sorted(self.unknown_locations),
            "notes": list(self.notes),
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "DataQuality":
        return cls(
            files=tuple(FileQuality.from_dict(f) for f in d.get("files", [])),
            unmatched_claim_lines=d.get("unmatched_claim_lines", 0),
            allocations_without_enrolment=d.get("allocations_without_enrolment", 0),
            unknown_locations=tuple(d.get("unknown_locations", [])),
            notes=tuple(d.get("notes", [])),
        )


@dataclass(frozen=True, slots=True)
class PartialHeader:
    gemeentecode: str  # the node: four digits, e.g. 0356
    schooljaren: tuple[str, ...]
    peildata: dict[str, str]  # schooljaar → ISO peildatum used
    created_at: str  # ISO 8601 UTC, seconds precision
    agent_version: str
    schema_version: int = SCHEMA_VERSION

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema_version": self.schema_version,
            "gemeentecode": self.gemeentecode,
            "schooljaren": sorted(self.schooljaren),
            "peildata": dict(sorted(self.peildata.items())),
            "created_at": self.created_at,
            "agent_version": self.agent_version,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "PartialHeader":
        version = d.get("schema_version")
        if version not in SUPPORTED_SCHEMA_VERSIONS:
            raise SchemaVersionError(
                f"Schemaversie {version!r} wordt niet ondersteund (ondersteund: {sorted(SUPPORTED_SCHEMA_VERSIONS)})"
            )
        return cls(
            schema_version=version,
            gemeentecode=d["gemeentecode"],
            schooljaren=tuple(d["schooljaren"]),
            peildata=dict(d["peildata"]),
            created_at=d["created_at"],
            agent_version=d["agent_version"],
        )


@dataclass(frozen=True, slots=True)
class Partial:
    header: PartialHeader
    cells: tuple[Cell, ...]
    cost_cells: tuple[CostCell, ...] = ()
    quality: DataQuality = DataQuality()

    def to_dict(self) -> dict[str, Any]:
        return {
            "header": self.header.to_dict(),
            "cells": [c.to_list() for c in sorted(self.cells)],
            "cost_cells": [c.to_list() for c in sorted(self.cost_cells)],
            "quality": self.quality.to_dict(),
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "Partial":
        if not isinstance(d, dict) or "header" not in d:
            raise PayloadError("Het deelresultaat heeft geen header", code="bad_partial")
        try:
            partial = cls(
                header=PartialHeader.from_dict(d["header"]),
                cells=tuple(Cell.from_list(r) for r in d.get("cells", [])),
                cost_cells=tuple(CostCell.from_list(r) for r in d.get("cost_cells", [])),
                quality=DataQuality.from_dict(d.get("quality", {})),
            )
        except (KeyError, TypeError) as exc:
            raise PayloadError(f"Het deelresultaat is onvolledig: {exc}", code="bad_partial") from None
        validate_partial(partial)
        return partial

    def all_cells(self) -> Iterable[Cell]:
        """Every cell as a plain :class:`Cell` (cost cells by their value), e.g. for ``inspect``."""
        yield from self.cells
        for c in self.cost_cells:
            yield Cell(c.vestigingscode, c.schooljaar, KOSTEN, c.category, c.value)


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def validate_partial(p: Partial) -> None:
    """Structural checks a receiver runs before trusting anything in a partial."""
    h = p.header
    if not (isinstance(h.gemeentecode, str) and len(h.gemeentecode) == 4 and h.gemeentecode.isdigit()):
        raise PayloadError("gemeentecode in de header is geen code van 4 cijfers", code="bad_partial")
    if not h.schooljaren:
        raise PayloadError("De header noemt geen schooljaar", code="bad_partial")
    for jaar in h.schooljaren:
        try:
            parse_schooljaar(jaar)
        except ValueError as exc:
            raise PayloadError(str(exc), code="bad_partial") from None
    years = set(h.schooljaren)
    seen: set[tuple[str, str, str, str]] = set()
    for c in p.cells:
        _check_key(c.vestigingscode, c.schooljaar, years)
        if c.measure not in MEASURES or c.measure == KOSTEN:
            raise PayloadError(f"Onbekende maat '{c.measure}'", code="bad_cell")
        if not isinstance(c.category, str) or (c.measure in MEASURES_WITHOUT_CATEGORY) != (c.category == ""):
            raise PayloadError(f"Maat '{c.measure}' met ongeldige categorie", code="bad_cell")
        if not _is_int(c.value) or c.value < 0:
            raise PayloadError("Een telling moet een geheel getal ≥ 0 zijn", code="bad_cell")
        if c.key in seen:
            raise PayloadError("Dubbele cel in het deelresultaat", code="bad_cell")
        seen.add(c.key)
    for c in p.cost_cells:
        _check_key(c.vestigingscode, c.schooljaar, years)
        if not isinstance(c.category, str) or not c.category:
            raise PayloadError("Een kostencel heeft een categorie nodig", code="bad_cell")
        for v in (c.value, c.contributors, c.top1, c.top2, c.negatives):
            if not _is_int(v):
                raise PayloadError("Kostenvelden moeten gehele getallen zijn", code="bad_cell")
        if c.contributors < 0 or c.negatives < 0 or c.negatives > c.contributors or c.top2 > c.top1:
            raise PayloadError("Kostencel is inconsistent", code="bad_cell")
        if c.key in seen:
            raise PayloadError("Dubbele kostencel in het deelresultaat", code="bad_cell")
        seen.add(c.key)


def _check_key(vestigingscode: Any, schooljaar: Any, years: set[str]) -> None:
    if not isinstance(vestigingscode, str) or not (vestigingscode == GEEN_SCHOOL or is_vestigingscode(vestigingscode)):
        raise PayloadError("Ongeldige vestigingscode in een cel", code="bad_cell")
    if schooljaar not in years:
        raise PayloadError("Cel voor een schooljaar dat niet in de header staat", code="bad_cell")


def canonical_json(obj: Any) -> bytes:
    """Compact, key-sorted UTF-8 JSON; rejects floats so no value depends on float printing."""
    _refuse_floats(obj)
    return _dumps(obj)


def _dumps(obj: Any) -> bytes:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def _refuse_floats(obj: Any) -> None:
    def check(o: Any) -> None:
        if isinstance(o, float):
            raise PayloadError("Gebroken getallen horen niet in een deelresultaat", code="bad_partial")
        if isinstance(o, dict):
            for v in o.values():
                check(v)
        elif isinstance(o, (list, tuple)):
            for v in o:
                check(v)

    check(obj)


def encode_partial(p: Partial) -> bytes:
    """The canonical bytes of a partial: what is signed and what the hub stores.

    ``validate_partial`` already proves every cell field an int or a str, so only the header and
    the quality block still need the float check (walking ~10⁵ cells twice is measurable).
    """
    validate_partial(p)
    d = p.to_dict()
    _refuse_floats(d["header"])
    _refuse_floats(d["quality"])
    return _dumps(d)


def decode_partial(data: bytes) -> Partial:
    try:
        obj = safejson.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise PayloadError("Het deelresultaat is geen geldige JSON", code="bad_partial") from None
    return Partial.from_dict(obj)
