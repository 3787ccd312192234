"""Importing DUO reference files into the hub, and the read functions other parts use.

``import_files`` owns its transactions (one per file) and is idempotent: a file already imported
(same SHA-256) is a no-op, an updated file upserts. Each file updates only the fields it carries,
and sources are ranked per kind of field (``SOORT_RANK``, ``DETAIL_RANK``), so importing the
sources in any order gives the same result.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Sequence

import pandas as pd
from sqlalchemy import and_, bindparam, func, insert, select, update
from sqlalchemy.orm import Session

from shared.errors import ExtractError, JeugdhubError

from hub.models.reference import (
    Gemeente,
    PupilCount,
    ReferenceImport,
    Samenwerkingsverband,
    SwvMembership,
    Vestiging,
)
from hub.reference.gemeenten import GemeenteLookup
from hub.reference.layouts import parse
from hub.reference.parsed import DETAIL_RANK, SOORT_RANK, Parsed, RowIssue
from hub.reference.reading import ENCODING_LABELS, parse_bytes

#: How many rejected rows a report lists (all are counted).
MAX_REPORTED_REJECTS = 20

STATUS_IMPORTED = "imported"
STATUS_UNCHANGED = "unchanged"
STATUS_UNUSABLE = "unusable"

#: Which SWV sector a school type belongs to, in order of preference.
_SECTORS_OF_SOORT = {"BO": ("PO",), "SBO": ("PO",), "SO": ("PO",), "SO/VSO": ("PO", "VO"), "VSO": ("VO",), "VO": ("VO",)}

_VESTIGING_FIELDS = (
    "instellingscode", "naam", "bevoegd_gezag_nummer", "bevoegd_gezag_naam", "gemeentecode", "gemeentenaam",
    "plaatsnaam", "adres", "postcode", "denominatie", "active",
)


@dataclass
class ImportReport:
    """What happened to one file. ``rows_read == rows_used + rows_rejected + rows_excluded``."""

    bestand: str
    status: str
    sha256: str | None = None
    layout: str | None = None
    layout_label: str | None = None
    encoding: str | None = None
    delimiter: str | None = None
    rows_read: int = 0
    rows_used: int = 0
    rows_rejected: int = 0
    rows_excluded: int = 0
    rejects: list[RowIssue] = field(default_factory=list)
    excluded: dict[str, int] = field(default_factory=dict)
    changes: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    error: dict[str, Any] | None = None

    @property
    def ok(self) -> bool:
        return self.status != STATUS_UNUSABLE

    @property
    def name(self) -> str:
        """The file name (alias of ``bestand``)."""
        return self.bestand

    def to_dict(self) -> dict[str, Any]:
        return {
            "bestand": self.bestand,
            "status": self.status,
            "sha256": self.sha256,
            "layout": self.layout,
            "layout_label": self.layout_label,
            "encoding": self.encoding,
            "delimiter": self.delimiter,
            "rows_read": self.rows_read,
            "rows_used": self.rows_used,
            "rows_rejected": self.rows_rejected,
            "rows_excluded": self.rows_excluded,
            "rejects": [r.to_dict() for r in self.rejects],
            "excluded": dict(self.excluded),
            "changes": dict(self.changes),
            "notes": list(self.notes),
            "error": self.error,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "ImportReport":
        return cls(
            bestand=data["bestand"],
            status=data["status"],
            sha256=data.get("sha256"),
            layout=data.get("layout"),
            layout_label=data.get("layout_label"),
            encoding=data.get("encoding"),
            delimiter=data.get("delimiter"),
            rows_read=int(data.get("rows_read", 0)),
            rows_used=int(data.get("rows_used", 0)),
            rows_rejected=int(data.get("rows_rejected", 0)),
            rows_excluded=int(data.get("rows_excluded", 0)),
            rejects=[RowIssue.from_dict(r) for r in data.get("rejects", [])],
            excluded={str(k): int(v) for k, v in data.get("excluded", {}).items()},
            changes={str(k): int(v) for k, v in data.get("changes", {}).items()},
            notes=[str(n) for n in data.get("notes", [])],
            error=data.get("error"),
        )


# --- importing -------------------------------------------------------------------------------


def import_files(session: Session, paths: Sequence[str | Path], *, jaar: int | None = None) -> list[ImportReport]:
    """Import each file in its own transaction; an unusable file is reported and changes nothing.

    ``jaar`` is the count year for a VO pupil file that has no year column nor a year in its name.
    """
    reports = []
    for path in paths:
        p = Path(path)
        try:
            data = p.read_bytes()
        except OSError:
            reports.append(_unusable(p.name, None, ExtractError(f"{p.name}: bestand niet gevonden of niet leesbaar",
                                                                code="file_not_found")))
            continue
        reports.append(import_bytes(session, data, p.name, jaar=jaar))
    return reports


def import_bytes(session: Session, data: bytes, name: str, *, jaar: int | None = None) -> ImportReport:
    """Import one file's content (the upload page and the CLI share this)."""
    sha = hashlib.sha256(data).hexdigest()
    earlier = session.scalars(select(ReferenceImport).where(ReferenceImport.sha256 == sha)).all()
    if earlier and earlier[0].kind != "vo_leerlingen":
        # Same bytes, same layout, and no meaning taken from the name: a no-op without re-parsing.
        report = ImportReport.from_dict(earlier[0].summary)
        report.bestand, report.status, report.changes = name, STATUS_UNCHANGED, {}
        report.notes.append(_already(earlier[0]))
        session.rollback()
        return report
    try:
        csv_text = parse_bytes(data, name)
        lookup = GemeenteLookup(session.execute(select(Gemeente.code, Gemeente.naam)).all())
        parsed = parse(csv_text, lookup=lookup, jaar=jaar)
    except ExtractError as err:
        session.rollback()
        return _unusable(name, sha, err)
    previous = session.scalar(
        select(ReferenceImport).where(ReferenceImport.sha256 == sha, ReferenceImport.context == parsed.context)
    )
    if previous is not None:
        report = _report(parsed, sha, STATUS_UNCHANGED, {})
        report.notes.append(_already(previous))
        session.rollback()  # end the read-only transaction
        return report
    try:
        changes = _apply(session, parsed)
        report = _report(parsed, sha, STATUS_IMPORTED, changes)
        session.add(
            ReferenceImport(
                bestandsnaam=name,
                sha256=sha,
                context=parsed.context,
                kind=parsed.layout,
                encoding=ENCODING_LABELS[parsed.encoding],
                rows_read=parsed.rows_read,
                rows_used=parsed.rows_used,
                rows_rejected=len(parsed.rejected),
                rows_excluded=len(parsed.excluded),
                summary=report.to_dict(),
            )
        )
        session.commit()
    except Exception:
        session.rollback()
        raise
    return report


def _already(previous: ReferenceImport) -> str:
    return f"al geïmporteerd op {previous.imported_at:%Y-%m-%d %H:%M} als {previous.bestandsnaam}; niets gewijzigd"


def _unusable(name: str, sha: str | None, err: JeugdhubError) -> ImportReport:
    message = err.message if err.message.startswith(name) else f"{name}: {err.message}"
    return ImportReport(bestand=name, status=STATUS_UNUSABLE, sha256=sha,
                        error={"code": err.code, "message": message, "exit_code": err.exit_code})


def _report(parsed: Parsed, sha: str, status: str, changes: dict[str, int]) -> ImportReport:
    return ImportReport(
        bestand=parsed.name,
        status=status,
        sha256=sha,
        layout=parsed.layout,
        layout_label=parsed.layout_label,
        encoding=ENCODING_LABELS[parsed.encoding],
        delimiter=parsed.delimiter,
        rows_read=parsed.rows_read,
        rows_used=parsed.rows_used,
        rows_rejected=len(parsed.rejected),
        rows_excluded=len(parsed.excluded),
        rejects=parsed.rejected[:MAX_REPORTED_REJECTS],
        excluded=parsed.excluded_summary(),
        changes=changes,
        notes=list(parsed.notes),
    )


def _apply(session: Session, parsed: Parsed) -> dict[str, int]:
    changes: dict[str, int] = {}
    changes.update(_upsert_gemeenten(session, parsed.gemeenten))
    changes.update(_upsert_vestigingen(session, parsed))
    session.flush()
    changes.update(_upsert_pupil_counts(session, parsed))
    changes.update(_upsert_swv(session, parsed))
    session.flush()
    changes["swv_toegekend"] = _refresh_derived(session)
    return {k: v for k, v in changes.items() if v}


def _upsert_gemeenten(session: Session, gemeenten: dict[str, str]) -> dict[str, int]:
    existing = {g.code: g for g in session.scalars(select(Gemeente))}
    new = changed = 0
    for code, naam in gemeenten.items():
        current = existing.get(code)
        if current is None:
            session.add(Gemeente(code=code, naam=naam))
            new += 1
        elif current.naam != naam:
            current.naam = naam
            changed += 1
    return {"gemeenten_nieuw": new, "gemeenten_gewijzigd": changed}


def _types(text: str | None) -> set[str]:
    return {t.strip() for t in (text or "").split(",") if t.strip()}


def _upsert_vestigingen(session: Session, parsed: Parsed) -> dict[str, int]:
    existing = {v.vestigingscode: v for v in session.scalars(select(Vestiging))}
    rank = SOORT_RANK.get(parsed.layout, 0)
    detail_rank = DETAIL_RANK.get(parsed.layout, 0)
    new = changed = 0
    for code, fields in parsed.vestigingen.items():
        v = existing.get(code)
        if v is None:
            v = Vestiging(vestigingscode=code, instellingscode=code[:4], active=True)
            session.add(v)
            new += 1
            is_new = True
        else:
            is_new = False
        dirty = False
        outranks = detail_rank >= DETAIL_RANK.get(v.details_bron or "", 0)
        for key in _VESTIGING_FIELDS:
            value = fields.get(key)
            if value is None or getattr(v, key) == value:
                continue
            if outranks or getattr(v, key) is None:
                setattr(v, key, value)
                dirty = True
        if outranks and any(fields.get(k) is not None for k in _VESTIGING_FIELDS):
            v.details_bron = parsed.layout
        soort = fields.get("soort")
        if soort and (v.soort is None or rank >= SOORT_RANK.get(v.soort_bron or "", 0)):
            dirty = dirty or v.soort != soort
            v.soort, v.soort_bron = soort, parsed.layout
        if fields.get("onderwijstypen"):
            merged = ", ".join(sorted(_types(v.onderwijstypen) | set(fields["onderwijstypen"])))
            if merged != v.onderwijstypen:
                v.onderwijstypen = merged
                dirty = True
        if dirty and not is_new:
            changed += 1
    return {"vestigingen_nieuw": new, "vestigingen_gewijzigd": changed}


def _upsert_pupil_counts(session: Session, parsed: Parsed) -> dict[str, int]:
    if not parsed.pupil_counts:
        return {}
    table = PupilCount.__table__
    codes = {code for code, _ in parsed.pupil_counts}
    existing: dict[tuple[str, int], tuple[int | None, bool, str]] = {}
    for code, jaar, n, masked, source in session.execute(
        select(table.c.vestigingscode, table.c.jaar, table.c.leerlingen, table.c.masked, table.c.source)
    ):
        if code in codes:
            existing[(code, jaar)] = (n, bool(masked), source)
    inserts, updates = [], []
    for (code, jaar), (n, masked) in parsed.pupil_counts.items():
        current = existing.get((code, jaar))
        if current is None:
            inserts.append((code, jaar, n, masked, parsed.layout))
        elif current != (n, masked, parsed.layout):
            updates.append((n, masked, parsed.layout, code, jaar))
    conn = session.connection()  # same transaction as the ORM work
    if conn.dialect.name != "sqlite":
        # PostgreSQL: Core executemany, which SQLAlchemy batches into multi-row INSERTs.
        t = table.c
        if inserts:
            conn.execute(insert(table), [dict(zip(("vestigingscode", "jaar", "leerlingen", "masked", "source"), r)) for r in inserts])
        if updates:
            conn.execute(
                update(table)
                .where(and_(t.vestigingscode == bindparam("b_code"), t.jaar == bindparam("b_jaar")))
                .values(leerlingen=bindparam("b_n"), masked=bindparam("b_masked"), source=bindparam("b_source")),
                [dict(zip(("b_n", "b_masked", "b_source", "b_code", "b_jaar"), r)) for r in updates],
            )
    else:
        # SQLite: the driver's own executemany; SQLAlchemy's per-row parameter processing would
        # dominate for the ~230k counts of the national 06 file.
        if inserts:
            conn.exec_driver_sql(
                f"INSERT INTO {table.name} (vestigingscode, jaar, leerlingen, masked, source) VALUES (?, ?, ?, ?, ?)",
                inserts,
            )
        if updates:
            conn.exec_driver_sql(
                f"UPDATE {table.name} SET leerlingen = ?, masked = ?, source = ? WHERE vestigingscode = ? AND jaar = ?",
                updates,
            )
    return {"leerlingaantallen_nieuw": len(inserts), "leerlingaantallen_gewijzigd": len(updates)}


def _upsert_swv(session: Session, parsed: Parsed) -> dict[str, int]:
    if not parsed.samenwerkingsverbanden and not parsed.memberships:
        return {}
    swvs = {s.code: s for s in session.scalars(select(Samenwerkingsverband))}
    new_swv = 0
    for code, (naam, sector) in parsed.samenwerkingsverbanden.items():
        s = swvs.get(code)
        if s is None:
            session.add(Samenwerkingsverband(code=code, naam=naam, sector=sector))
            new_swv += 1
        elif naam != code and s.naam != naam:
            s.naam = naam
    session.flush()
    members = {(m.vestigingscode, m.sector): m for m in session.scalars(select(SwvMembership))}
    new = changed = 0
    for (code, sector), swv in parsed.memberships.items():
        m = members.get((code, sector))
        if m is None:
            session.add(SwvMembership(vestigingscode=code, sector=sector, swv_code=swv))
            new += 1
        elif m.swv_code != swv:
            m.swv_code = swv
            changed += 1
    return {"swv_nieuw": new_swv, "lidmaatschappen_nieuw": new, "lidmaatschappen_gewijzigd": changed}


def _refresh_derived(session: Session) -> int:
    """Fields derived across sources: the location's own-sector SWV, and a missing gemeente name."""
    members: dict[str, dict[str, str]] = {}
    for m in session.scalars(select(SwvMembership)):
        members.setdefault(m.vestigingscode, {})[m.sector] = m.swv_code
    names = dict(session.execute(select(Gemeente.code, Gemeente.naam)).all())
    assigned = 0
    for v in session.scalars(select(Vestiging)):
        own = members.get(v.vestigingscode, {})
        sectors = _SECTORS_OF_SOORT.get(v.soort or "", ("PO", "VO"))
        desired = next((own[s] for s in sectors if s in own), None)
        if desired is not None and v.swv_code != desired:
            v.swv_code = desired
            assigned += 1
        if not v.gemeentenaam and v.gemeentecode in names:
            v.gemeentenaam = names[v.gemeentecode]
    return assigned


# --- reading ---------------------------------------------------------------------------------

VESTIGING_COLUMNS = [
    "vestigingscode", "naam", "schooltype", "instellingscode", "bevoegd_gezag_nummer", "bestuur",
    "gemeentecode", "gemeentenaam", "plaatsnaam", "adres", "postcode", "denominatie", "onderwijstypen",
    "swv_code", "active",
]


def schooltypes(session: Session) -> pd.DataFrame:
    """DataFrame[vestigingscode, schooltype] of every location with a known school type."""
    rows = session.execute(
        select(Vestiging.vestigingscode, Vestiging.soort).where(Vestiging.soort.is_not(None)).order_by(Vestiging.vestigingscode)
    ).all()
    return pd.DataFrame(
        {"vestigingscode": pd.Series([r[0] for r in rows], dtype=str), "schooltype": pd.Series([r[1] for r in rows], dtype=str)}
    )


def pupil_counts(session: Session, jaar: int) -> pd.DataFrame:
    """DataFrame[vestigingscode, leerlingen (Int64, NA when wholly masked), masked] for the 1 October of ``jaar``."""
    rows = session.execute(
        select(PupilCount.vestigingscode, PupilCount.leerlingen, PupilCount.masked)
        .where(PupilCount.jaar == int(jaar))
        .order_by(PupilCount.vestigingscode)
    ).all()
    return pd.DataFrame(
        {
            "vestigingscode": pd.Series([r[0] for r in rows], dtype=str),
            "leerlingen": pd.Series([r[1] for r in rows], dtype="Int64"),
            "masked": pd.Series([bool(r[2]) for r in rows], dtype=bool),
        }
    )


def pupil_counts_for_schooljaar(session: Session, schooljaar: str) -> pd.DataFrame:
    """Counts of the school year's 1 October: ``2024-2025`` → the count of 1 October 2024."""
    from shared.codes import parse_schooljaar

    start, _ = parse_schooljaar(schooljaar)
    return pupil_counts(session, start.year)


def vestigingen(session: Session, gemeentecodes: Iterable[str] | None = None) -> pd.DataFrame:
    """Locations (optionally only in ``gemeentecodes``) with the columns of :data:`VESTIGING_COLUMNS`."""
    stmt = select(Vestiging).order_by(Vestiging.vestigingscode)
    if gemeentecodes is not None:
        stmt = stmt.where(Vestiging.gemeentecode.in_(sorted(set(gemeentecodes))))
    records = []
    for v in session.scalars(stmt):
        records.append(
            {
                "vestigingscode": v.vestigingscode,
                "naam": v.naam,
                "schooltype": v.soort,
                "instellingscode": v.instellingscode,
                "bevoegd_gezag_nummer": v.bevoegd_gezag_nummer,
                "bestuur": v.bevoegd_gezag_naam or (f"bevoegd gezag {v.bevoegd_gezag_nummer}" if v.bevoegd_gezag_nummer else None),
                "gemeentecode": v.gemeentecode,
                "gemeentenaam": v.gemeentenaam,
                "plaatsnaam": v.plaatsnaam,
                "adres": v.adres,
                "postcode": v.postcode,
                "denominatie": v.denominatie,
                "onderwijstypen": v.onderwijstypen,
                "swv_code": v.swv_code,
                "active": bool(v.active),
            }
        )
    return pd.DataFrame.from_records(records, columns=VESTIGING_COLUMNS)


def swv_of(session: Session, vestigingscode: str) -> list[dict[str, str]]:
    """The samenwerkingsverbanden a location belongs to (PO and/or VO)."""
    rows = session.execute(
        select(SwvMembership.sector, Samenwerkingsverband.code, Samenwerkingsverband.naam)
        .join(Samenwerkingsverband, Samenwerkingsverband.code == SwvMembership.swv_code)
        .where(SwvMembership.vestigingscode == vestigingscode)
        .order_by(SwvMembership.sector)
    ).all()
    return [{"sector": s, "code": c, "naam": n} for s, c, n in rows]


def samenwerkingsverbanden(session: Session) -> pd.DataFrame:
    """DataFrame[code, naam, sector, vestigingen] (number of member locations)."""
    counts = dict(
        session.execute(select(SwvMembership.swv_code, func.count()).group_by(SwvMembership.swv_code)).all()
    )
    rows = session.execute(select(Samenwerkingsverband).order_by(Samenwerkingsverband.code)).scalars().all()
    return pd.DataFrame.from_records(
        [{"code": s.code, "naam": s.naam, "sector": s.sector, "vestigingen": int(counts.get(s.code, 0))} for s in rows],
        columns=["code", "naam", "sector", "vestigingen"],
    )


def gemeenten(session: Session) -> dict[str, str]:
    """gemeentecode → naam as the imported files name them."""
    return dict(session.execute(select(Gemeente.code, Gemeente.naam).order_by(Gemeente.code)).all())


@dataclass
class ReferenceStatus:
    """What the hub holds: totals per table and per school type, and the imports in order."""

    vestigingen: int
    per_soort: dict[str, int]
    leerlingaantallen: int
    jaren: list[int]
    samenwerkingsverbanden: int
    lidmaatschappen: int
    imports: list[dict[str, Any]]

    def to_dict(self) -> dict[str, Any]:
        return {
            "vestigingen": self.vestigingen,
            "per_soort": dict(self.per_soort),
            "leerlingaantallen": self.leerlingaantallen,
            "jaren": list(self.jaren),
            "samenwerkingsverbanden": self.samenwerkingsverbanden,
            "lidmaatschappen": self.lidmaatschappen,
            "imports": list(self.imports),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "ReferenceStatus":
        return cls(
            vestigingen=int(data["vestigingen"]),
            per_soort={str(k): int(v) for k, v in data["per_soort"].items()},
            leerlingaantallen=int(data["leerlingaantallen"]),
            jaren=[int(j) for j in data["jaren"]],
            samenwerkingsverbanden=int(data["samenwerkingsverbanden"]),
            lidmaatschappen=int(data["lidmaatschappen"]),
            imports=list(data["imports"]),
        )


def status(session: Session) -> ReferenceStatus:
    per_soort = {
        (s or "onbekend"): int(n)
        for s, n in session.execute(select(Vestiging.soort, func.count()).group_by(Vestiging.soort)).all()
    }
    jaren = [int(j) for (j,) in session.execute(select(PupilCount.jaar).distinct().order_by(PupilCount.jaar))]
    imports = [
        {
            "bestandsnaam": i.bestandsnaam,
            "kind": i.kind,
            "encoding": i.encoding,
            "imported_at": i.imported_at.isoformat() if i.imported_at else None,
            "sha256": i.sha256,
            "rows_read": i.rows_read,
            "rows_used": i.rows_used,
            "rows_rejected": i.rows_rejected,
            "rows_excluded": i.rows_excluded,
        }
        for i in session.scalars(select(ReferenceImport).order_by(ReferenceImport.id))
    ]
    return ReferenceStatus(
        vestigingen=int(session.scalar(select(func.count()).select_from(Vestiging)) or 0),
        per_soort=dict(sorted(per_soort.items())),
        leerlingaantallen=int(session.scalar(select(func.count()).select_from(PupilCount)) or 0),
        jaren=jaren,
        samenwerkingsverbanden=int(session.scalar(select(func.count()).select_from(Samenwerkingsverband)) or 0),
        lidmaatschappen=int(session.scalar(select(func.count()).select_from(SwvMembership)) or 0),
        imports=imports,
    )


def swv_codes_by_school(session: Session) -> dict[str, set[str]]:
    """vestigingscode → the SWVs it belongs to: DUO's membership lists plus the location's own SWV code."""
    result: dict[str, set[str]] = {}
    for code, swv in session.execute(select(SwvMembership.vestigingscode, SwvMembership.swv_code)):
        result.setdefault(code, set()).add(swv)
    for code, swv in session.execute(select(Vestiging.vestigingscode, Vestiging.swv_code)
                                       .where(Vestiging.swv_code.is_not(None), Vestiging.swv_code != "")):
        result.setdefault(code, set()).add(swv)
    return result
