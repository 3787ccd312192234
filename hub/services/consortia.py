"""The provider → consortium table: import from CSV (replacing the previous table as a whole) and read it.

CSV format (``;`` or ``,``, UTF-8 with or without BOM, or Windows-1252), one row per provider::

    aanbieder_agb;aanbieder_naam;consortium
    12345678;Jeugdzorg Voorbeeld;Consortium Lek
    87654321;Praktijk De Brug;Consortium Lek

``aanbieder_agb`` (8 digits; shorter numbers are zero-padded as spreadsheets strip zeros) and
``consortium`` are required; ``aanbieder_naam`` is optional and shown instead of the AGB code.
A provider may appear once. Any bad row rejects the whole file (the table is small and is
replaced as a whole, so a half-imported table would mislead).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

from sqlalchemy import delete, select

from hub.services._util import transaction
from hub.extensions import db
from hub.models.consortia import Consortium, ConsortiumMember
from shared.errors import InputError
from shared.textfiles import decode

REQUIRED = ("aanbieder_agb", "consortium")


@dataclass(frozen=True)
class ImportResult:
    bestandsnaam: str
    rows_read: int
    rows_used: int
    consortia: int

    def to_dict(self) -> dict:
        return {"bestandsnaam": self.bestandsnaam, "rijen_gelezen": self.rows_read, "rijen_gebruikt": self.rows_used,
                "consortia": self.consortia}


def parse_csv(raw: bytes, filename: str) -> list[tuple[str, str, str]]:
    """Rows (agb, naam, consortium); raises InputError naming file, line, column and rule for every problem."""
    text, _ = decode(raw, filename)
    first = text.splitlines()[0] if text.strip() else ""
    delimiter = ";" if first.count(";") >= first.count(",") else ","
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    header = [h.strip().lower() for h in next(reader, [])]
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        raise InputError(f"{filename}, regel 1: kolom(men) {', '.join(missing)} ontbreken "
                         f"(verwacht: aanbieder_agb;aanbieder_naam;consortium)", code="bad_consortium_file")
    idx = {name: header.index(name) for name in header}
    rows, errors, seen = [], [], {}
    for line, fields in enumerate(reader, start=2):
        if not any(f.strip() for f in fields):
            errors.append(f"regel {line}: lege regel")
            continue

        def get(col: str) -> str:
            i = idx.get(col)
            return fields[i].strip() if i is not None and i < len(fields) else ""

        agb, cons = get("aanbieder_agb"), get("consortium")
        if not agb.isdigit() or len(agb) > 8:
            errors.append(f"regel {line}, kolom aanbieder_agb: geen AGB-code (8 cijfers)")
            continue
        agb = agb.zfill(8)
        if not cons:
            errors.append(f"regel {line}, kolom consortium: leeg")
            continue
        if agb in seen:
            errors.append(f"regel {line}, kolom aanbieder_agb: AGB {agb} staat al op regel {seen[agb]}")
            continue
        seen[agb] = line
        rows.append((agb, get("aanbieder_naam"), cons))
    if errors:
        shown = "; ".join(errors[:10]) + (f"; en {len(errors) - 10} meer" if len(errors) > 10 else "")
        raise InputError(f"{filename}: {len(errors)} fout(en), niets ingelezen: {shown}", code="bad_consortium_file",
                         details={"errors": errors})
    if not rows:
        raise InputError(f"{filename}: geen regels met aanbieders", code="bad_consortium_file")
    return rows


def import_csv(raw: bytes, filename: str) -> ImportResult:
    rows = parse_csv(raw, filename)
    with transaction():
        db.session.execute(delete(ConsortiumMember))
        db.session.execute(delete(Consortium))
        ids: dict[str, int] = {}
        for naam in sorted({r[2] for r in rows}):
            c = Consortium(naam=naam)
            db.session.add(c)
            db.session.flush()
            ids[naam] = c.id
        for agb, naam, cons in rows:
            db.session.add(ConsortiumMember(consortium_id=ids[cons], aanbieder_agb=agb, aanbieder_naam=naam))
    return ImportResult(filename, len(rows), len(rows), len(ids))


def current_table() -> list[tuple[str, str, str]]:
    q = (select(ConsortiumMember.aanbieder_agb, ConsortiumMember.aanbieder_naam, Consortium.naam)
         .join(Consortium, Consortium.id == ConsortiumMember.consortium_id).order_by(Consortium.naam, ConsortiumMember.aanbieder_agb))
    return [tuple(r) for r in db.session.execute(q).all()]
