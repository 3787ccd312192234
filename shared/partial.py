"""The partial: what one node's agent sends (a municipality's, or an SWV's), as typed objects with
paired converters.

A partial holds integer cells keyed by (vestigingscode, schooljaar, measure, category), a
data-quality block and, optionally, a provider-name block (``providers``: AGB code → the name the
node's extract gives that provider most often; business names, shown on the hub's pages). It never
holds a BSN, a pseudonym, a birth date or a row. Its canonical
encoding (:func:`encode_partial`) is what gets signed: compact JSON, sorted keys, cells sorted by
key, integers only, UTF-8. The same partial always encodes to the same bytes.

Cells travel as arrays to keep national-scale partials small::

    "cells":      [[vestigingscode, schooljaar, measure, category, value], ...]
    "cost_cells": [[vestigingscode, schooljaar, category, value, contributors, top1, top2, negatives, abs_sum], ...]

``cost_cells`` are the ``kosten`` measure. For each cost cell the node sends the number of
children with a non-zero amount (``contributors``), the two largest per-child amounts by absolute
value (``top1`` ≥ ``top2`` ≥ 0, of |net amount|), the number of children whose net amount is
negative and the sum of the absolute per-child amounts (``abs_sum``): after combining, the hub
needs these for the p%-rule and (n,k)-dominance on absolute values, and the insider rule.
Schema 1 (:data:`COST_ABS_SCHEMA_VERSION` − 1) had no ``abs_sum`` (eight fields) and its ``top1``/
``top2`` were the largest *positive* amounts; such partials still decode, with ``abs_sum`` None.

What the decoder checks (the hub on receipt, the agent before it signs and in ``inspect``): every
field has its type (an int is never a bool), every integer fits int64, and a *strict* decode also
checks plausibility, so a signed but impossible partial is refused at the door with a stable code
and ``details["field"]`` naming the field, instead of breaking every later combine of its round:

- ``bad_partial``: the header (the sender: ``gemeentecode`` of four digits, or for an SWV node
  ``swv_code`` instead, e.g. ``PO2607``; schooljaren, peildata as ISO dates of those years, bounded
  strings); ``bad_cell``: a cell's key, measure, category (at most :data:`MAX_CATEGORY_LENGTH`
  characters, no control characters; a support cell's category one of the soort groups) or a
  negative count.
- ``measure_not_for_node``: a measure the sender's kind does not count: an SWV sends only
  :data:`~shared.codes.SUPPORT_MEASURES` (no cost cells, no ``GEEN`` bucket), a municipality none
  of them. Checked by the lenient decode too: it decides what the hub may combine.
- ``cell_out_of_range``: a count above :data:`MAX_COUNT` (children in one cell), a cost field
  beyond ±:data:`MAX_COST_EUROCENT`, anything beyond int64.
- ``cell_inconsistent``: cells that contradict each other. A count is at most the count it is part
  of, where that cell is present: ``clienten``, ``jeugdbescherming``, ``jeugdreclassering`` and a
  cost cell's ``contributors`` ≤ ``leerlingen``; ``nieuwe_clienten``, ``clienten_zorgtype`` and
  ``clienten_aanbieder`` ≤ ``clienten``; the ``nieuwe_clienten_*`` breakdowns ≤
  ``nieuwe_clienten`` (a missing cell is skipped for the next one up); an SWV's soort cells add up
  to ``leerlingen_ondersteuning`` of their vestiging exactly. Within a cost cell, with
  ``n = contributors``, ``positives = n − negatives``, ``paid = (abs_sum + value) / 2`` and
  ``refunded = (abs_sum − value) / 2``: ``0 ≤ top2 ≤ top1``; ``top1 > 0`` exactly when ``n ≥ 1``
  and ``top2 > 0`` exactly when ``n ≥ 2``; ``abs_sum ≥ |value|`` with the same parity (so paid and
  refunded are whole eurocents ≥ 0); ``paid ≥ positives`` and ``refunded ≥ negatives`` (every child
  counted got or returned at least one cent), each 0 exactly when its count is; ``top1 + top2 ≤
  abs_sum ≤ top1 + top2 · (n − 1)``. A schema-1 cost cell has the older checks: ``top1 > 0``
  exactly when ``positives ≥ 1`` and ``top2 > 0`` exactly when ``positives ≥ 2``; ``value ≤ top1 +
  top2 · (positives − 1) − negatives`` and, without credits, ``value ≥ top1 + top2``.
- ``bad_quality``: the quality block has only its known keys; counts are ints in
  [0, :data:`MAX_ROWS`]; a file's ``kind`` is one of :data:`FILE_KINDS` of the sender's kind, its name and the notes
  are bounded strings, reason codes match :data:`REASON_CODE`, and read = used + rejected +
  excluded.
- ``bad_providers``: the provider-name block is an object whose keys are AGB codes (8 digits)
  that have a ``clienten_aanbieder`` cell in this partial (any of its school years), so the block
  can never carry anything about a provider the cells do not already name, and whose values pass
  :func:`provider_name_problem` (1 to :data:`MAX_PROVIDER_NAME_LENGTH` printable characters, no
  surrounding space, not read as a spreadsheet formula, a letter in it, not an AGB code).

A lenient decode (``strict=False``) keeps only what combining needs (types, keys, int64): the hub
uses it to re-read a submission a release was already built from, so a check added later never
makes an existing release unreadable. It drops a quality or provider-name block it cannot use.

The provider-name block is optional and left out of the encoding when empty, so a partial without
names encodes to the same bytes as before the block existed, and a decoder that predates it reads a
partial with names as one without: the block needed no schema version of its own (schema 2 is the
cost cells' ``abs_sum``).

About 950 lines: the schema, its canonical encoding and every check at the door (for both kinds of node) belong in one
place, so the agent's build and the hub's verification can never disagree.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field, fields
from datetime import date
from operator import attrgetter
from typing import Any, Callable, Iterable

from shared import safejson
from shared.codes import (
    CLIENTEN,
    CLIENTEN_AANBIEDER,
    CLIENTEN_CONSORTIUM,
    CLIENTEN_ZORGINTENSITEIT,
    CLIENTEN_ZORGTYPE,
    GEEN_SCHOOL,
    JEUGDBESCHERMING,
    JEUGDRECLASSERING,
    KOSTEN,
    LEERLINGEN,
    LEERLINGEN_ONDERSTEUNING,
    LEERLINGEN_ONDERSTEUNING_SOORT,
    MEASURES,
    MEASURES_WITHOUT_CATEGORY,
    NIEUWE_CLIENTEN,
    NIEUWE_CLIENTEN_LEEFTIJD,
    NIEUWE_CLIENTEN_VERWIJZER,
    NODE_GEMEENTE,
    NODE_SWV,
    ONDERSTEUNING_GROUP_CODES,
    SUPPORT_MEASURES,
    is_swv_code,
    is_vestigingscode,
    parse_schooljaar,
)
from shared.errors import PayloadError, PayloadFieldError, SchemaVersionError
from shared.textfiles import FORMULA_STARTS

SCHEMA_VERSION = 2
SUPPORTED_SCHEMA_VERSIONS = frozenset({1, 2})
#: The first schema whose cost cells carry ``abs_sum`` and absolute ``top1``/``top2`` (nine fields).
COST_ABS_SCHEMA_VERSION = 2

# --- plausibility bounds (far above any real value, far below an int64 overflow) ----------------

INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
#: Children (pupils, clients) in one count cell. The largest municipality has about 10⁵ pupils;
#: summed over every Dutch municipality a cell still stays far inside int64.
MAX_COUNT = 1_000_000
#: Eurocent in one cost cell, and for one child (top1, top2): €10 billion, more than the whole
#: country spends on youth care in a year.
MAX_COST_EUROCENT = 10**12
#: Rows of one input file (and the other counts of the quality block).
MAX_ROWS = 10**12
#: Characters in a category: ``release_cells.category`` is a VARCHAR(80).
MAX_CATEGORY_LENGTH = 80
MAX_HEADER_TEXT = 64  # created_at, agent_version
MAX_FILE_NAME_LENGTH = 255
MAX_QUALITY_FILES = 32
MAX_REASONS = 200  # reason codes per file, rejected and excluded each
MAX_UNKNOWN_LOCATIONS = 100_000
MAX_NOTES = 100
MAX_NOTE_LENGTH = 1000
#: A rejection or exclusion reason code, e.g. ``bsn_elfproef`` or ``reden_wijziging_13``.
REASON_CODE = re.compile(r"[a-z][a-z0-9_]{0,63}")
#: The extracts a node of each kind reads (the quality block's file kinds).
FILE_KINDS: dict[str, frozenset[str]] = {
    NODE_GEMEENTE: frozenset({"jeugdhulp", "declaraties", "leerlingen"}),
    NODE_SWV: frozenset({"ondersteuning"}),
}
#: The header field that names the sender, per node kind.
NODE_FIELD = {NODE_GEMEENTE: "gemeentecode", NODE_SWV: "swv_code"}
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
#: Characters in a provider name (the hub's consortium table stores names of up to 200 too).
MAX_PROVIDER_NAME_LENGTH = 200
_AGB = re.compile(r"[0-9]{8}")
#: What is no name but a code: digits, optionally after "AGB" (``98114406``, ``AGB 98114406``).
_CODE_AS_NAME = re.compile(r"(?i)(agb[\s:.-]*)?[0-9\s.-]+")

#: measure → the measure it is part of (same vestiging and year): a count is at most that count.
PART_OF: dict[str, str] = {
    CLIENTEN: LEERLINGEN,
    JEUGDBESCHERMING: LEERLINGEN,
    JEUGDRECLASSERING: LEERLINGEN,
    KOSTEN: LEERLINGEN,  # a cost cell's contributors
    NIEUWE_CLIENTEN: CLIENTEN,
    CLIENTEN_ZORGTYPE: CLIENTEN,
    CLIENTEN_AANBIEDER: CLIENTEN,
    NIEUWE_CLIENTEN_VERWIJZER: NIEUWE_CLIENTEN,
    NIEUWE_CLIENTEN_LEEFTIJD: NIEUWE_CLIENTEN,
    CLIENTEN_ZORGINTENSITEIT: CLIENTEN,
    CLIENTEN_CONSORTIUM: CLIENTEN,
    LEERLINGEN_ONDERSTEUNING_SOORT: LEERLINGEN_ONDERSTEUNING,
}


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
    top1: int  # largest |per-child net amount| (eurocent); schema 1: the largest positive amount
    top2: int  # second largest (0 when fewer than two children)
    negatives: int  # children whose net amount is negative
    abs_sum: int | None = None  # Σ |per-child net amount|; None in a schema-1 partial (it had no such field)

    measure = KOSTEN

    @property
    def key(self) -> tuple[str, str, str, str]:
        return (self.vestigingscode, self.schooljaar, KOSTEN, self.category)

    @property
    def has_abs(self) -> bool:
        """Does the cell carry absolute amounts (schema ≥ :data:`COST_ABS_SCHEMA_VERSION`)?"""
        return self.abs_sum is not None

    def to_list(self) -> list[Any]:
        """Nine fields; eight for a schema-1 cell (no ``abs_sum``), so an old partial encodes as it was."""
        row = [
            self.vestigingscode,
            self.schooljaar,
            self.category,
            self.value,
            self.contributors,
            self.top1,
            self.top2,
            self.negatives,
        ]
        if self.abs_sum is not None:
            row.append(self.abs_sum)
        return row

    @classmethod
    def from_list(cls, row: list[Any]) -> "CostCell":
        """Nine fields, or eight (schema 1); ``validate_partial`` checks the count against the header."""
        if not isinstance(row, list) or len(row) not in (8, 9):
            raise PayloadError("Een kostencel moet 9 velden hebben (8 in schemaversie 1)", code="bad_cell")
        return cls(*row)


#: Sort keys giving the cells' own order (their fields in turn) as plain tuples: sorting cells in no
#: particular order by these is a few times faster than by the dataclasses' generated ``__lt__``.
CELL_ORDER = attrgetter(*(f.name for f in fields(Cell)))
COST_CELL_ORDER = attrgetter(*(f.name for f in fields(CostCell)))


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
    def from_dict(cls, d: dict[str, Any], where: str = "quality.files[0]") -> "FileQuality":
        _known_keys(d, where, required=("name", "kind", "rows_read", "rows_used"), optional=("rejected", "excluded"))
        for name in ("rejected", "excluded"):
            if not isinstance(d.get(name, {}), dict):
                raise _quality_error(f"{where}.{name}", "moet een object zijn (redencode → aantal rijen)")
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
        _known_keys(d, "quality", optional=_QUALITY_KEYS)
        for name in ("files", "unknown_locations", "notes"):
            if not isinstance(d.get(name, []), list):
                raise _quality_error(f"quality.{name}", "moet een lijst zijn")
        return cls(
            files=tuple(FileQuality.from_dict(f, f"quality.files[{i}]") for i, f in enumerate(d.get("files", []))),
            unmatched_claim_lines=d.get("unmatched_claim_lines", 0),
            allocations_without_enrolment=d.get("allocations_without_enrolment", 0),
            unknown_locations=tuple(d.get("unknown_locations", [])),
            notes=tuple(d.get("notes", [])),
        )


@dataclass(frozen=True, slots=True)
class ProviderNames:
    """AGB code → the provider's name as the node's extract gives it most often (the optional
    ``providers`` block). Only providers with a ``clienten_aanbieder`` cell in the same partial."""

    names: dict[str, str] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(self.names)

    def get(self, agb: str) -> str | None:
        return self.names.get(agb)

    def to_dict(self) -> dict[str, str]:
        return dict(sorted(self.names.items()))

    @classmethod
    def from_dict(cls, d: Any) -> "ProviderNames":
        if not isinstance(d, dict):
            raise _providers_error("providers", "moet een object zijn (AGB-code → naam)")
        return cls(names=dict(d))


@dataclass(frozen=True, slots=True)
class PartialHeader:
    node: str  # the sender: a gemeentecode (0356), or for an SWV node its SWV code (PO2607)
    schooljaren: tuple[str, ...]
    peildata: dict[str, str]  # schooljaar → ISO peildatum used
    created_at: str  # ISO 8601 UTC, seconds precision
    agent_version: str
    schema_version: int = SCHEMA_VERSION
    kind: str = NODE_GEMEENTE  # NODE_GEMEENTE | NODE_SWV: which header field names the sender

    def to_dict(self) -> dict[str, Any]:
        # A municipality's header is what it always was; an SWV's names itself by swv_code instead.
        return {
            "schema_version": self.schema_version,
            NODE_FIELD.get(self.kind, "gemeentecode"): self.node,
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
        named = [kind for kind, name in NODE_FIELD.items() if name in d]
        if len(named) != 1:
            raise PayloadError("De header noemt de afzender met precies één van gemeentecode en swv_code",
                               code="bad_partial")
        return cls(
            schema_version=version,
            node=d[NODE_FIELD[named[0]]],
            kind=named[0],
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
    providers: ProviderNames = ProviderNames()

    def to_dict(self) -> dict[str, Any]:
        d = {
            "header": self.header.to_dict(),
            "cells": [c.to_list() for c in sorted(self.cells)],
            "cost_cells": [c.to_list() for c in sorted(self.cost_cells)],
            "quality": self.quality.to_dict(),
        }
        if self.providers:  # absent when empty: such a partial encodes as before the block existed
            d["providers"] = self.providers.to_dict()
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any], *, strict: bool = True) -> "Partial":
        """Decode and check (see the module docstring for ``strict``)."""
        if not isinstance(d, dict) or "header" not in d:
            raise PayloadError("Het deelresultaat heeft geen header", code="bad_partial")
        try:
            header = PartialHeader.from_dict(d["header"])
            cells = tuple(Cell.from_list(r) for r in d.get("cells", []))
            cost_cells = tuple(CostCell.from_list(r) for r in d.get("cost_cells", []))
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise PayloadError(f"Het deelresultaat is onvolledig: {exc}", code="bad_partial") from None
        try:
            quality = DataQuality.from_dict(d.get("quality", {}))
        except PayloadError:
            if strict:
                raise
            quality = DataQuality()  # combining never reads the quality block
        try:
            providers = ProviderNames.from_dict(d.get("providers", {}))
        except PayloadError:
            if strict:
                raise
            providers = ProviderNames()  # nor the provider names
        partial = cls(header=header, cells=cells, cost_cells=cost_cells, quality=quality, providers=providers)
        validate_partial(partial, strict=strict)
        if not strict and providers:
            try:
                validate_providers(providers, provider_codes(partial))
            except PayloadError:
                partial = cls(header=header, cells=cells, cost_cells=cost_cells, quality=quality)
        return partial

    def all_cells(self) -> Iterable[Cell]:
        """Every cell as a plain :class:`Cell` (cost cells by their value), e.g. for ``inspect``."""
        yield from self.cells
        for c in self.cost_cells:
            yield Cell(c.vestigingscode, c.schooljaar, KOSTEN, c.category, c.value)


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


_QUALITY_KEYS = ("files", "unmatched_claim_lines", "allocations_without_enrolment", "unknown_locations", "notes")


def _quality_error(where: str, problem: str) -> PayloadFieldError:
    return PayloadFieldError(f"Kwaliteitsblok, {where}: {problem}", field=where, code="bad_quality")


def _known_keys(d: Any, where: str, *, required: tuple[str, ...] = (), optional: tuple[str, ...] = ()) -> None:
    if not isinstance(d, dict):
        raise _quality_error(where, "moet een object zijn")
    for name in d:
        if name not in required and name not in optional:
            # The unknown key itself is not echoed: it is free text from the sender.
            raise _quality_error(f"{where}.{name}" if REASON_CODE.fullmatch(str(name)) else where, "onbekend veld")
    for name in required:
        if name not in d:
            raise _quality_error(f"{where}.{name}", "ontbreekt")


def _is_text(v: Any, max_length: int) -> bool:
    return isinstance(v, str) and len(v) <= max_length and not _CONTROL.search(v)


def _header_error(where: str, problem: str) -> PayloadFieldError:
    return PayloadFieldError(f"Header, {where}: {problem}", field=where, code="bad_partial")


def _check_header(h: PartialHeader) -> None:
    if h.kind == NODE_SWV:
        if not is_swv_code(h.node):
            raise PayloadFieldError("swv_code in de header is geen SWV-code (PO of VO en 4 cijfers, bijv. PO2607)",
                                    field="header.swv_code", code="bad_partial")
    elif h.kind != NODE_GEMEENTE or not (isinstance(h.node, str) and len(h.node) == 4 and h.node.isdigit()):
        raise PayloadFieldError(
            "gemeentecode in de header is geen code van 4 cijfers", field="header.gemeentecode", code="bad_partial"
        )
    if not h.schooljaren:
        raise PayloadFieldError("De header noemt geen schooljaar", field="header.schooljaren", code="bad_partial")
    for i, jaar in enumerate(h.schooljaren):
        if not isinstance(jaar, str):
            raise _header_error(f"header.schooljaren[{i}]", "een schooljaar is tekst, bijv. 2024-2025")
        try:
            parse_schooljaar(jaar)
        except ValueError as exc:
            raise PayloadFieldError(str(exc), field=f"header.schooljaren[{i}]", code="bad_partial") from None
    for jaar, peildatum in h.peildata.items():
        where = f"header.peildata.{jaar}" if isinstance(jaar, str) and len(jaar) <= 9 else "header.peildata"
        if jaar not in h.schooljaren:
            raise _header_error(where, "peildatum voor een schooljaar dat niet in de header staat")
        try:
            day = date.fromisoformat(peildatum) if isinstance(peildatum, str) and len(peildatum) == 10 else None
        except ValueError:
            day = None
        start, end = parse_schooljaar(jaar)
        if day is None or not (start <= day <= end):
            raise _header_error(where, f"peildatum is geen datum (JJJJ-MM-DD) in schooljaar {jaar}")
    for name in ("created_at", "agent_version"):
        if not _is_text(getattr(h, name), MAX_HEADER_TEXT):
            raise _header_error(f"header.{name}", f"moet tekst van hoogstens {MAX_HEADER_TEXT} tekens zijn")


def _cell_error(where: str, key: tuple, problem: str, code: str = "bad_cell") -> PayloadFieldError:
    """An error about one cell, naming it by its key (never by its value)."""
    label = " ".join(str(k) for k in key if k != "")
    return PayloadFieldError(f"Cel {label}: {problem}", field=where, code=code, details={"cell": list(key)})


def validate_partial(p: Partial, *, strict: bool = True) -> None:
    """The checks a receiver runs before trusting anything in a partial (module docstring)."""
    _check_header(p.header)
    years = set(p.header.schooljaren)
    swv = p.header.kind == NODE_SWV
    plain = _plain_counts(p.cells, years, strict, swv)
    counts: dict[tuple[str, str, str, str], int] = plain if plain is not None else {}
    for i, c in enumerate(p.cells if plain is None else ()):
        where = f"cells[{i}]"
        _check_key(c.vestigingscode, c.schooljaar, years, where)
        key = (c.vestigingscode, c.schooljaar, c.measure, c.category)
        if not isinstance(c.measure, str) or c.measure not in MEASURES or c.measure == KOSTEN:
            raise _cell_error(f"{where}.measure", key[:2], "onbekende maat")
        if (c.measure in SUPPORT_MEASURES) != swv:
            raise _cell_error(f"{where}.measure", key[:3], _NOT_FOR_NODE[swv], code="measure_not_for_node")
        if swv and c.vestigingscode == GEEN_SCHOOL:
            raise _cell_error(f"{where}.vestigingscode", key[:3], "een samenwerkingsverband telt per school; GEEN hoort er niet bij")
        if not _is_text(c.category, MAX_CATEGORY_LENGTH) or (c.measure in MEASURES_WITHOUT_CATEGORY) != (c.category == ""):
            raise _cell_error(
                f"{where}.category", key[:3],
                f"ongeldige categorie (tekst van hoogstens {MAX_CATEGORY_LENGTH} tekens, leeg alleen bij een maat zonder categorieën)",
            )  # fmt: skip
        if c.measure == LEERLINGEN_ONDERSTEUNING_SOORT and c.category not in ONDERSTEUNING_GROUP_CODES:
            raise _cell_error(f"{where}.category", key[:3],
                              f"geen soortgroep van ondersteuning (een van {', '.join(ONDERSTEUNING_GROUP_CODES)})")
        if not _is_int(c.value) or c.value < 0:
            raise _cell_error(f"{where}.value", key, "een telling moet een geheel getal ≥ 0 zijn")
        _check_range(c.value, 0, MAX_COUNT if strict else INT64_MAX, f"{where}.value", key, "kinderen")
        if key in counts:
            raise _cell_error(where, key, "dubbele cel in het deelresultaat")
        counts[key] = c.value
    if swv and p.cost_cells:
        c = p.cost_cells[0]
        raise _cell_error("cost_cells[0]", (c.vestigingscode, c.schooljaar, KOSTEN), _NOT_FOR_NODE[swv],
                          code="measure_not_for_node")
    seen: set[tuple[str, str, str, str]] = set()
    with_abs = _cost_abs_expected(p.header)
    for i, c in enumerate(p.cost_cells if not _plain_costs(p.cost_cells, years, strict, with_abs) else ()):
        where = f"cost_cells[{i}]"
        _check_key(c.vestigingscode, c.schooljaar, years, where)
        key = (c.vestigingscode, c.schooljaar, KOSTEN, c.category)
        if not _is_text(c.category, MAX_CATEGORY_LENGTH) or not c.category:
            raise _cell_error(f"{where}.category", key[:3], f"een kostencel heeft een categorie nodig (hoogstens {MAX_CATEGORY_LENGTH} tekens)")
        if c.has_abs != with_abs:
            raise _cell_error(where, key, f"een kostencel in schemaversie {p.header.schema_version} heeft "
                                          f"{9 if with_abs else 8} velden")
        _check_cost_cell(c, where, key, strict)
        if key in seen:
            raise _cell_error(where, key, "dubbele kostencel in het deelresultaat")
        seen.add(key)
    if strict:
        _check_part_of(p, counts)
        if swv:
            _check_support_rows(p, counts)
        validate_quality(p.quality, p.header.kind)
        if p.providers:
            validate_providers(p.providers, provider_codes(p))


#: Why a measure is refused for the sender's kind (``measure_not_for_node``), by "is the sender an SWV".
_NOT_FOR_NODE = {
    True: "een samenwerkingsverband stuurt alleen leerlingen_ondersteuning en leerlingen_ondersteuning_soort",
    False: "ondersteuningscellen komen van een samenwerkingsverband, niet van een gemeente",
}


def _check_support_rows(p: Partial, counts: dict[tuple[str, str, str, str], int]) -> None:
    """An SWV's soort cells of a vestiging and year add up to its ``leerlingen_ondersteuning`` exactly:
    each pupil counts under one soort group (shared/codes.py, ``ONDERSTEUNING_GROUPS``)."""
    sums: dict[tuple[str, str], int] = {}
    for (vest, jaar, measure, _), value in counts.items():
        if measure == LEERLINGEN_ONDERSTEUNING_SOORT:
            sums[(vest, jaar)] = sums.get((vest, jaar), 0) + value
    for (vest, jaar, measure, _), value in counts.items():
        if measure == LEERLINGEN_ONDERSTEUNING:
            sums.setdefault((vest, jaar), 0)
    for (vest, jaar), total in sorted(sums.items()):
        if counts.get((vest, jaar, LEERLINGEN_ONDERSTEUNING, "")) != total:
            raise PayloadFieldError(
                f"Cel {vest} {jaar} {LEERLINGEN_ONDERSTEUNING}: de soortgroepen tellen niet op tot het totaal",
                field="cells", code="cell_inconsistent",
                details={"cell": [vest, jaar, LEERLINGEN_ONDERSTEUNING, ""]})


def _plain_counts(
    cells: tuple[Cell, ...], years: set[str], strict: bool, swv: bool = False
) -> dict[tuple[str, str, str, str], int] | None:
    """The count cells by key when every one passes :func:`validate_partial`'s checks for count cells,
    judged once per distinct vestiging, school year and (measure, category), which cells share; None
    when any might not, so the caller checks cell by cell and names the first problem."""
    high = min(MAX_COUNT if strict else INT64_MAX, INT64_MAX)
    try:
        keys = [(c.vestigingscode, c.schooljaar, c.measure, c.category) for c in cells]
        values = [c.value for c in cells]
        if not all(type(v) is int and 0 <= v <= high for v in values) or len(set(keys)) != len(keys):
            return None
        vestigingen = {k[0] for k in keys}
        jaren = {k[1] for k in keys}
        measures = {(k[2], k[3]) for k in keys}
    except TypeError:  # an unhashable field
        return None
    if not all(type(v) is str and ((v == GEEN_SCHOOL and not swv) or is_vestigingscode(v)) for v in vestigingen):
        return None
    if not (all(type(j) is str for j in jaren) and jaren <= years):
        return None
    for measure, category in measures:
        if not (type(measure) is str and measure in MEASURES and measure != KOSTEN):
            return None
        if (measure in SUPPORT_MEASURES) != swv:
            return None
        if not _is_text(category, MAX_CATEGORY_LENGTH) or (measure in MEASURES_WITHOUT_CATEGORY) != (category == ""):
            return None
        if measure == LEERLINGEN_ONDERSTEUNING_SOORT and category not in ONDERSTEUNING_GROUP_CODES:
            return None
    return dict(zip(keys, values))


def _cost_abs_expected(h: PartialHeader) -> bool:
    """Do this header's cost cells carry ``abs_sum`` (nine fields)?"""
    return _is_int(h.schema_version) and h.schema_version >= COST_ABS_SCHEMA_VERSION


def _plain_costs(cells: tuple[CostCell, ...], years: set[str], strict: bool, with_abs: bool) -> bool:
    """Does every cost cell pass :func:`validate_partial`'s checks for cost cells (key parts judged once
    per distinct value)? False when any might not, so the caller checks cell by cell."""
    cost = min(MAX_COST_EUROCENT if strict else INT64_MAX, INT64_MAX)
    count = min(MAX_COUNT if strict else INT64_MAX, INT64_MAX)
    try:
        keys = [(c.vestigingscode, c.schooljaar, c.category) for c in cells]
        if len(set(keys)) != len(keys):
            return False
        vestigingen = {k[0] for k in keys}
        jaren = {k[1] for k in keys}
        categories = {k[2] for k in keys}
    except TypeError:  # an unhashable field
        return False
    if not all(type(v) is str and (v == GEEN_SCHOOL or is_vestigingscode(v)) for v in vestigingen):
        return False
    if not (all(type(j) is str for j in jaren) and jaren <= years):
        return False
    if not all(_is_text(category, MAX_CATEGORY_LENGTH) and category for category in categories):
        return False

    def plain(c: CostCell) -> bool:
        value, n, top1, top2, negatives, abs_sum = c.value, c.contributors, c.top1, c.top2, c.negatives, c.abs_sum
        if not (type(value) is int and type(n) is int and type(top1) is int and type(top2) is int
                and type(negatives) is int):
            return False
        if not (-cost <= value <= cost and 0 <= n <= count and 0 <= negatives <= count
                and -cost <= top1 <= cost and -cost <= top2 <= cost and top2 <= top1 and negatives <= n):
            return False
        if with_abs != (abs_sum is not None):
            return False
        if with_abs and not (type(abs_sum) is int and 0 <= abs_sum <= cost):
            return False
        if not strict:
            return True
        if with_abs:
            return _abs_problem(value, n, top1, top2, negatives, abs_sum) is None
        positives = n - negatives
        highest = top1 + top2 * max(positives - 1, 0) - negatives
        return (top2 >= 0 and (top1 > 0) == (positives >= 1) and (top2 > 0) == (positives >= 2)
                and not (value > highest or (negatives == 0 and value < top1 + top2)))

    return all(plain(c) for c in cells)


def _check_range(value: int, low: int, high: int, where: str, key: tuple, unit: str) -> None:
    if not (max(low, INT64_MIN) <= value <= min(high, INT64_MAX)):
        if high >= INT64_MAX:
            problem = "past niet in een 64-bits geheel getal"
        elif low < 0:
            problem = f"ligt buiten ±{high:,} {unit} (de grens per cel)".replace(",", ".")
        else:
            problem = f"is groter dan {high:,} {unit} (de grens per cel)".replace(",", ".")
        raise _cell_error(where, key, problem, code="cell_out_of_range")


def _abs_problem(value: int, n: int, top1: int, top2: int, negatives: int, abs_sum: int) -> tuple[str, str] | None:
    """The first plausibility check (module docstring) a cost cell with absolute amounts fails, as
    (field, problem); None when it passes them all."""
    positives = n - negatives
    if top2 < 0:
        return "top2", "de grootste bedragen (top1, top2) zijn absolute bedragen, dus ≥ 0"
    if (top1 > 0) != (n >= 1):
        return "top1", "het grootste absolute bedrag (top1) past niet bij het aantal kinderen met een bedrag"
    if (top2 > 0) != (n >= 2):
        return "top2", "het op één na grootste absolute bedrag (top2) past niet bij het aantal kinderen met een bedrag"
    if abs_sum < abs(value) or (abs_sum - value) % 2:
        return "abs_sum", "de som van de absolute bedragen (abs_sum) past niet bij het totaalbedrag"
    paid, refunded = (abs_sum + value) // 2, (abs_sum - value) // 2
    if paid < positives or (paid > 0) != (positives > 0):
        return "abs_sum", "de betaalde bedragen passen niet bij het aantal kinderen met een positief bedrag"
    if refunded < negatives or (refunded > 0) != (negatives > 0):
        return "abs_sum", "de terugbetaalde bedragen passen niet bij het aantal kinderen met een negatief bedrag"
    if not (top1 + top2 <= abs_sum <= top1 + top2 * max(n - 1, 0)):
        return "abs_sum", "de som van de absolute bedragen past niet bij de grootste bedragen (top1, top2) en het aantal kinderen"
    return None


def _check_cost_cell(c: CostCell, where: str, key: tuple, strict: bool) -> None:
    names = ("value", "contributors", "top1", "top2", "negatives") + (("abs_sum",) if c.has_abs else ())
    for name in names:
        if not _is_int(getattr(c, name)):
            raise _cell_error(f"{where}.{name}", key, "kostenvelden moeten gehele getallen zijn")
    cost = MAX_COST_EUROCENT if strict else INT64_MAX
    count = MAX_COUNT if strict else INT64_MAX
    _check_range(c.value, -cost, cost, f"{where}.value", key, "eurocent")
    if c.has_abs:
        if c.abs_sum < 0:
            raise _cell_error(f"{where}.abs_sum", key, "een som van absolute bedragen is ≥ 0")
        _check_range(c.abs_sum, 0, cost, f"{where}.abs_sum", key, "eurocent")
    for name in ("contributors", "negatives"):
        if getattr(c, name) < 0:
            raise _cell_error(f"{where}.{name}", key, "een aantal kinderen moet ≥ 0 zijn")
        _check_range(getattr(c, name), 0, count, f"{where}.{name}", key, "kinderen")
    for name in ("top1", "top2"):
        _check_range(getattr(c, name), -cost, cost, f"{where}.{name}", key, "eurocent")

    def inconsistent(name: str, problem: str) -> PayloadFieldError:
        return _cell_error(f"{where}.{name}", key, problem, code="cell_inconsistent")

    if c.top2 > c.top1:
        raise inconsistent("top2", "het op één na grootste bedrag (top2) is groter dan het grootste (top1)")
    if c.negatives > c.contributors:
        raise inconsistent("negatives", "meer kinderen met een negatief bedrag dan kinderen met een bedrag")
    if not strict:
        return  # what a lenient decode always checked; the rest is plausibility
    if c.has_abs:
        problem = _abs_problem(c.value, c.contributors, c.top1, c.top2, c.negatives, c.abs_sum)
        if problem is not None:
            raise inconsistent(*problem)
        return
    if c.top2 < 0:
        raise inconsistent("top2", "een grootste bedrag (top1, top2) is ≥ 0")
    positives = c.contributors - c.negatives
    if (c.top1 > 0) != (positives >= 1):
        raise inconsistent("top1", "het grootste bedrag (top1) past niet bij het aantal kinderen met een positief bedrag")
    if (c.top2 > 0) != (positives >= 2):
        raise inconsistent("top2", "het op één na grootste bedrag (top2) past niet bij het aantal kinderen met een positief bedrag")
    highest = c.top1 + c.top2 * max(positives - 1, 0) - c.negatives
    if c.value > highest or (c.negatives == 0 and c.value < c.top1 + c.top2):
        raise inconsistent("value", "het totaalbedrag past niet bij de grootste bedragen (top1, top2) en de aantallen kinderen")


def _check_part_of(p: Partial, counts: dict[tuple[str, str, str, str], int]) -> None:
    """A count is at most the nearest present count it is part of (PART_OF)."""

    found_for: dict[tuple[str, str, str], tuple[str, int] | None] = {}

    def bound(vestigingscode: str, schooljaar: str, measure: str) -> tuple[str, int] | None:
        where = (vestigingscode, schooljaar, measure)
        if where in found_for:  # the cells of one vestiging, year and measure share their bound
            return found_for[where]
        found = None
        parent = PART_OF.get(measure)
        while parent is not None:
            total = counts.get((vestigingscode, schooljaar, parent, ""))
            if total is not None:
                found = (parent, total)
                break
            parent = PART_OF.get(parent)
        found_for[where] = found
        return found

    if _within_parts(p, bound):
        return
    for i, c in enumerate(p.cells):
        found = bound(c.vestigingscode, c.schooljaar, c.measure)
        if found is not None and c.value > found[1]:
            raise _cell_error(
                f"cells[{i}].value", (c.vestigingscode, c.schooljaar, c.measure, c.category),
                f"telling is groter dan {found[0]} op dezelfde vestiging", code="cell_inconsistent",
            )  # fmt: skip
    for i, c in enumerate(p.cost_cells):
        found = bound(c.vestigingscode, c.schooljaar, KOSTEN)
        if found is not None and c.contributors > found[1]:
            raise _cell_error(
                f"cost_cells[{i}].contributors", (c.vestigingscode, c.schooljaar, KOSTEN, c.category),
                f"meer kinderen met kosten dan {found[0]} op dezelfde vestiging", code="cell_inconsistent",
            )  # fmt: skip


def _within_parts(p: Partial, bound: Callable[[str, str, str], tuple[str, int] | None]) -> bool:
    """Is every count within its PART_OF bound? Judged by the largest count per vestiging, year and
    measure, so the cells need going through one by one only when one is over, to name the first."""
    largest: dict[tuple[str, str, str], int] = {}
    for c in p.cells:
        where = (c.vestigingscode, c.schooljaar, c.measure)
        if c.value > largest.get(where, -1):
            largest[where] = c.value
    for c in p.cost_cells:
        where = (c.vestigingscode, c.schooljaar, KOSTEN)
        if c.contributors > largest.get(where, -1):
            largest[where] = c.contributors
    return not any((found := bound(*where)) is not None and value > found[1] for where, value in largest.items())


def _check_quality_count(v: Any, where: str) -> int:
    if not _is_int(v) or not (0 <= v <= MAX_ROWS):
        raise _quality_error(where, f"moet een geheel getal van 0 tot en met {MAX_ROWS:,} zijn".replace(",", "."))
    return v


def validate_quality(q: DataQuality, kind: str = NODE_GEMEENTE) -> None:
    """The quality block's types and bounds (module docstring): it is shown to admins as is. ``kind``:
    the sender's node kind, whose extracts the files are."""
    file_kinds = FILE_KINDS[kind]
    if len(q.files) > MAX_QUALITY_FILES:
        raise _quality_error("quality.files", f"hoogstens {MAX_QUALITY_FILES} bestanden")
    for i, f in enumerate(q.files):
        where = f"quality.files[{i}]"
        if not _is_text(f.name, MAX_FILE_NAME_LENGTH) or not f.name:
            raise _quality_error(f"{where}.name", f"een bestandsnaam is tekst van 1 tot {MAX_FILE_NAME_LENGTH} tekens")
        if f.kind not in file_kinds:
            raise _quality_error(f"{where}.kind", f"soort bestand is niet een van {', '.join(sorted(file_kinds))}")
        rows_read = _check_quality_count(f.rows_read, f"{where}.rows_read")
        total = _check_quality_count(f.rows_used, f"{where}.rows_used")
        for name in ("rejected", "excluded"):
            reasons = getattr(f, name)
            if not isinstance(reasons, dict) or len(reasons) > MAX_REASONS:
                raise _quality_error(f"{where}.{name}", f"moet een object met hoogstens {MAX_REASONS} redencodes zijn")
            for code, rows in reasons.items():
                if not isinstance(code, str) or not REASON_CODE.fullmatch(code):
                    raise _quality_error(f"{where}.{name}", "een redencode is 1 tot 64 kleine letters, cijfers of _")
                total += _check_quality_count(rows, f"{where}.{name}.{code}")
        if total != rows_read:
            raise _quality_error(f"{where}.rows_read", "gelezen rijen ≠ gebruikt + afgewezen + uitgesloten")
    for name in ("unmatched_claim_lines", "allocations_without_enrolment"):
        _check_quality_count(getattr(q, name), f"quality.{name}")
    if len(q.unknown_locations) > MAX_UNKNOWN_LOCATIONS:
        raise _quality_error("quality.unknown_locations", f"hoogstens {MAX_UNKNOWN_LOCATIONS} vestigingen")
    for i, code in enumerate(q.unknown_locations):
        if not isinstance(code, str) or not is_vestigingscode(code):
            raise _quality_error(f"quality.unknown_locations[{i}]", "geen vestigingscode (BRIN + 2 cijfers)")
    if len(q.notes) > MAX_NOTES:
        raise _quality_error("quality.notes", f"hoogstens {MAX_NOTES} opmerkingen")
    for i, note in enumerate(q.notes):
        if not _is_text(note, MAX_NOTE_LENGTH):
            raise _quality_error(f"quality.notes[{i}]", f"een opmerking is tekst van hoogstens {MAX_NOTE_LENGTH} tekens")


def _providers_error(where: str, problem: str) -> PayloadFieldError:
    return PayloadFieldError(f"Aanbiedernamen, {where}: {problem}", field=where, code="bad_providers")


def provider_codes(p: Partial) -> set[str]:
    """The AGB codes the partial's provider cells (``clienten_aanbieder``) name, over its school years."""
    return {c.category for c in p.cells if c.measure == CLIENTEN_AANBIEDER}


def provider_name_problem(name: Any) -> str | None:
    """Why ``name`` cannot be sent as a provider's name, in Dutch; None when it can. The agent leaves
    such a name out, the door refuses it."""
    if not isinstance(name, str) or not name:
        return "een naam is tekst van minstens 1 teken"
    if len(name) > MAX_PROVIDER_NAME_LENGTH:
        return f"een naam heeft hoogstens {MAX_PROVIDER_NAME_LENGTH} tekens"
    if not name.isprintable():
        return "een naam mag geen stuurtekens, tabs, regeleinden of onzichtbare tekens bevatten"
    if name != name.strip():
        return "een naam mag niet met een spatie beginnen of eindigen"
    if name.startswith(FORMULA_STARTS):
        return "een naam mag niet met =, +, - of @ beginnen (een spreadsheet leest dat als formule)"
    if not any(ch.isalpha() for ch in name) or _CODE_AS_NAME.fullmatch(name):
        return "een naam moet een letter bevatten en mag geen AGB-code zijn"
    return None


def validate_providers(providers: ProviderNames, codes: set[str]) -> None:
    """The provider-name block (module docstring): only codes of the partial's provider cells, each
    with a name that passes :func:`provider_name_problem`."""
    if not isinstance(providers.names, dict):
        raise _providers_error("providers", "moet een object zijn (AGB-code → naam)")
    for agb, name in providers.names.items():
        if not isinstance(agb, str) or not _AGB.fullmatch(agb):
            # The key itself is not echoed: it is free text from the sender.
            raise _providers_error("providers", "een sleutel is geen AGB-code (8 cijfers)")
        where = f"providers.{agb}"
        if agb not in codes:
            raise _providers_error(where, "naam voor een aanbieder zonder cel clienten_aanbieder in dit deelresultaat")
        problem = provider_name_problem(name)
        if problem is not None:
            raise _providers_error(where, problem)


def _check_key(vestigingscode: Any, schooljaar: Any, years: set[str], where: str) -> None:
    if not isinstance(vestigingscode, str) or not (vestigingscode == GEEN_SCHOOL or is_vestigingscode(vestigingscode)):
        raise PayloadFieldError("Ongeldige vestigingscode in een cel", field=f"{where}.vestigingscode", code="bad_cell")
    if not isinstance(schooljaar, str) or schooljaar not in years:
        raise PayloadFieldError(
            "Cel voor een schooljaar dat niet in de header staat", field=f"{where}.schooljaar", code="bad_cell"
        )


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
    _refuse_floats(d["quality"])  # the provider names are proven str → str by validate_partial
    return _dumps(d)


def decode_partial(data: bytes, *, strict: bool = True) -> Partial:
    """Bytes → a checked :class:`Partial` (``strict``: see the module docstring)."""
    try:
        obj = safejson.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise PayloadError("Het deelresultaat is geen geldige JSON", code="bad_partial") from None
    return Partial.from_dict(obj, strict=strict)
