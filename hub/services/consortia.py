"""The provider → consortium table: import from CSV (replacing the previous table as a whole) and read it.

CSV format (``;`` or ``,``, UTF-8 with or without BOM, or Windows-1252), one row per provider::

    aanbieder_agb;aanbieder_naam;consortium
    12345678;Jeugdzorg Voorbeeld;Consortium Lek
    87654321;Praktijk De Brug;Consortium Lek

``aanbieder_agb`` (8 digits; shorter numbers are zero-padded as spreadsheets strip zeros) and
``consortium`` (at most 80 characters, not "andere aanbieders": the nodes count each consortium's
clients under its name, and providers outside the table under that one) are required; ``aanbieder_naam`` is optional and shown instead of the AGB code.
A provider may appear once. Names go into every user's CSV and XLSX exports, so a name that a
spreadsheet would read as a formula (starting with ``=``, ``+``, ``-``, ``@``) is refused, as are
control characters and names longer than the table stores. Any bad row rejects the whole file
(the table is small and is replaced as a whole, so a half-imported table would mislead).
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass

from sqlalchemy import delete, select

from hub.extensions import db
from hub.models.consortia import Consortium, ConsortiumMember
from hub.services._util import transaction, utcnow
from shared.codes import GEEN_CONSORTIUM
from shared.errors import InputError
from shared.partial import MAX_CATEGORY_LENGTH
from shared.textfiles import FORMULA_STARTS, decode

REQUIRED = ("aanbieder_agb", "consortium")
#: The longest name the table stores (Consortium.naam, ConsortiumMember.aanbieder_naam).
MAX_NAME = 200
#: A consortium's name is the category the nodes count its clients under (``clienten_consortium``).
MAX_CONSORTIUM_NAME = MAX_CATEGORY_LENGTH
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_START_NAMES = {"\t": "een tab", "\r": "een regeleinde"}


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
    lines = _records(reader, filename)
    header = [h.strip().lower() for h in next(lines, [])]
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        raise InputError(f"{filename}, regel 1: kolom(men) {', '.join(missing)} ontbreken "
                         f"(verwacht: aanbieder_agb;aanbieder_naam;consortium)", code="bad_consortium_file")
    idx = {name: header.index(name) for name in header}
    rows, errors, seen = [], [], {}
    for line, fields in enumerate(lines, start=2):
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
        if len(cons) > MAX_CONSORTIUM_NAME:
            # The nodes count per consortium under its name (shared/partial.py: a category is at most 80 characters).
            errors.append(f"regel {line}, kolom consortium: langer dan {MAX_CONSORTIUM_NAME} tekens")
            continue
        if cons.casefold() == GEEN_CONSORTIUM.casefold():
            errors.append(f"regel {line}, kolom consortium: '{GEEN_CONSORTIUM}' is de naam voor aanbieders buiten elk "
                          "consortium; kies een andere naam")
            continue
        bad = [f"regel {line}, kolom {col}: {why}" for col, value in (("aanbieder_naam", get("aanbieder_naam")), ("consortium", cons))
               if (why := name_problem(value))]
        if bad:
            errors.extend(bad)
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


def _records(reader, filename: str):
    """The reader's rows; a row the csv module cannot read (a field over its 131,072-character limit,
    a stray quote) rejects the file with its line number instead of escaping as a server error."""
    while True:
        try:
            yield next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            why = ("een veld is langer dan de CSV-lezer toestaat (131.072 tekens)" if "field larger" in str(exc)
                   else "deze regel is geen geldige CSV")
            raise InputError(f"{filename}, regel {reader.line_num}: {why}; niets ingelezen",
                             code="bad_consortium_file") from None


def name_problem(value: str) -> str | None:
    """Why ``value`` cannot be a provider or consortium name, in Dutch; None when it can."""
    if value.startswith(FORMULA_STARTS):
        first = _START_NAMES.get(value[0], f"'{value[0]}'")
        return (f"begint met {first}, en een spreadsheet leest dat als formule "
                "(laat de naam met een letter of cijfer beginnen)")
    if _CONTROL.search(value):
        return "bevat een onzichtbaar stuurteken, zoals een tab of regeleinde (haal het weg)"
    if len(value) > MAX_NAME:
        return f"is langer dan {MAX_NAME} tekens"
    return None


def import_csv(raw: bytes, filename: str) -> ImportResult:
    rows = parse_csv(raw, filename)
    with transaction():
        # A consortium keeps its id across uploads (a consortium user's scope is that id): members are
        # replaced, consortia are matched by name, and a consortium no longer in the file stays, empty,
        # so that its id is never handed to another consortium.
        db.session.execute(delete(ConsortiumMember))
        ids = {naam: cid for cid, naam in db.session.execute(select(Consortium.id, Consortium.naam))}
        ids = {naam: cid for naam, cid in ids.items() if naam in {r[2] for r in rows}}
        for naam in sorted({r[2] for r in rows} - set(ids)):
            c = Consortium(naam=naam)
            db.session.add(c)
            db.session.flush()
            ids[naam] = c.id
        # The upload time to the microsecond (the database's own clock may count seconds): with the
        # members' ids, which SQLite may hand out again, it tells the pages' caches the table changed.
        now = utcnow()
        for agb, naam, cons in rows:
            db.session.add(ConsortiumMember(consortium_id=ids[cons], aanbieder_agb=agb, aanbieder_naam=naam,
                                            uploaded_at=now))
    return ImportResult(filename, len(rows), len(rows), len(ids))


def current_table() -> list[tuple[str, str, str]]:
    q = (select(ConsortiumMember.aanbieder_agb, ConsortiumMember.aanbieder_naam, Consortium.naam)
         .join(Consortium, Consortium.id == ConsortiumMember.consortium_id).order_by(Consortium.naam, ConsortiumMember.aanbieder_agb))
    return [tuple(r) for r in db.session.execute(q).all()]


def membership() -> dict[str, str]:
    """AGB code → consortium name: the table the nodes count ``clienten_consortium`` by."""
    return {agb: naam for agb, _, naam in current_table()}


def consortium_ids() -> list[tuple[int, str, int]]:
    """(id, naam, aantal aanbieders) per consortium: the id is a consortium user's scope."""
    from sqlalchemy import func

    q = (select(Consortium.id, Consortium.naam, func.count(ConsortiumMember.id))
         .outerjoin(ConsortiumMember, ConsortiumMember.consortium_id == Consortium.id)
         .group_by(Consortium.id, Consortium.naam).order_by(Consortium.id))
    return [tuple(r) for r in db.session.execute(q).all()]
