"""Test data builders for the agent: valid BSNs by the elfproef, and extract files in many shapes."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from node_agent.read import ReadOptions, read_jeugdhulp, read_leerlingen, read_ondersteuning
from shared.codes import zorgtype_table
from shared.pseudonym import TEST_RANGE, Pseudonymiser, elfproef


def valid_bsns(count: int, start: int = 100_000_000) -> list[str]:
    """``count`` distinct BSNs that pass the elfproef, outside the reserved test range."""
    out = []
    n = start
    while len(out) < count:
        text = f"{n:09d}"
        if elfproef(text) and not (TEST_RANGE[0] <= n <= TEST_RANGE[1]):
            out.append(text)
        n += 1
    return out


def invalid_bsn(valid: str) -> str:
    """A 9-digit number that fails the elfproef (last digit changed)."""
    for d in "0123456789":
        candidate = valid[:8] + d
        if not elfproef(candidate):
            return candidate
    raise AssertionError("unreachable")


JEUGDHULP_HEADER = [
    "bsn", "geboortedatum", "toewijzingnummer", "productcategorie", "productcode", "aanbieder_agb",
    "aanbieder_naam", "verwijzer", "ingangsdatum", "einddatum", "reden_wijziging",
]
DECLARATIES_HEADER = ["toewijzingnummer", "periode_begin", "periode_einde", "bedrag_eurocent", "debet_credit"]
LEERLINGEN_HEADER = ["bsn", "geboortedatum", "peildatum", "vestigingscode", "onderwijssoort", "woongemeente", "buurtcode"]
ONDERSTEUNING_HEADER = ["bsn", "vestigingscode", "soort", "ingangsdatum", "einddatum"]


def write_csv(path: Path, header: list[str], rows: list[list[str]], *, delimiter: str = ",",
              encoding: str = "utf-8", newline: str = "\n") -> Path:
    buf = io.StringIO()
    writer = csv.writer(buf, delimiter=delimiter, lineterminator=newline)
    writer.writerow(header)
    writer.writerows(rows)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(buf.getvalue().encode(encoding))
    return path


def write_xlsx(path: Path, header: list[str], rows: list[list[object]]) -> Path:
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(header)
    for row in rows:
        ws.append(row)
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    return path


def jeugdhulp_row(bsn: str, nr: str, cat: str = "45", start: str = "2024-09-01", end: str = "", *,
                  geboortedatum: str = "2015-05-05", agb: str = "98000001", verwijzer: str = "02",
                  productcode: str = "", reden: str = "", naam: str = "Aanbieder BV") -> list[str]:
    return [bsn, geboortedatum, nr, cat, productcode, agb, naam, verwijzer, start, end, reden]


def leerling_row(bsn: str, vestiging: str, *, peildatum: str = "2024-10-01", geboortedatum: str = "2015-05-05",
                 soort: str = "BO", woongemeente: str = "0356", buurt: str = "") -> list[str]:
    return [bsn, geboortedatum, peildatum, vestiging, soort, woongemeente, buurt]


def ondersteuning_row(bsn: str, vestiging: str = "04DA00", soort: str = "arrangement", start: str = "2024-08-01",
                      end: str = "") -> list[str]:
    return [bsn, vestiging, soort, start, end]


# --- reading extracts in tests: one key, one set of valid BSNs ---------------------------------------

KEY = bytes(range(32))
PS = Pseudonymiser(KEY)
B = valid_bsns(20)


def jh(path: Path, rows, **kw):
    """Write jeugdhulp rows as CSV and read them back."""
    write_csv(path, JEUGDHULP_HEADER, rows, **kw)
    return read_jeugdhulp(ReadOptions(path, "jeugdhulp"), PS, zorgtype_table())


def ll(path: Path, rows, gemeente="0356", header=LEERLINGEN_HEADER, **kw):
    """Write leerlingen rows as CSV and read them back."""
    write_csv(path, header, rows, **kw)
    return read_leerlingen(ReadOptions(path, "leerlingen"), PS, gemeente)


def ond(path: Path, rows, schools=None, header=ONDERSTEUNING_HEADER, **kw):
    """Write ondersteuning rows as CSV and read them back (``schools``: the SWV's, as a round gives them)."""
    write_csv(path, header, rows, **kw)
    return read_ondersteuning(ReadOptions(path, "ondersteuning"), PS, schools=schools)


def issues(report, kind="rejected"):
    """Reason → the lines it hit, for a report's rejected (or excluded) rows."""
    return {code: list(map(int, i.all_lines())) for code, i in getattr(report, kind).items()}
