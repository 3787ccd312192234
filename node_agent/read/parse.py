"""Vectorised parsing of text columns into dates, amounts, debet/credit signs, two-digit codes and
school locations: a numpy fast path for values in the standard notation, an exact Python path for the
other values."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any, Callable

import numpy as np

from node_agent.columnar import Distinct, by_unique, byte_matrix, digits, fast_digits, per_value
from node_agent.read.report import Flags
from node_agent.read.sources import Rows, column
from shared.codes import GEEN_SCHOOL, is_brin, is_vestigingscode

NAT = np.datetime64("NaT", "D")

# Each check has a fast path over a byte matrix (numpy, no Python per value) for values in the
# standard notation, and an exact path (Python, once per distinct value) for everything else:
# spaces, other notations, faults. Both paths give the same answer for the same text.

_ISO_DATE = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})(?:[ T]00:00(?::00)?)?")
_NL_DATE = re.compile(r"(\d{1,2})-(\d{1,2})-(\d{4})")
MIN_YEAR, MAX_YEAR = 1900, 2100


def parse_date_text(text: str) -> np.datetime64:
    """One date in ISO or DD-MM-YYYY form, or NaT. Years outside 1900–2100 are not plausible."""
    m = _ISO_DATE.fullmatch(text)
    if m:
        y, mo, d = int(m.group(1)), int(m.group(2)), int(m.group(3))
    else:
        m = _NL_DATE.fullmatch(text)
        if not m:
            return NAT
        d, mo, y = int(m.group(1)), int(m.group(2)), int(m.group(3))
    if not MIN_YEAR <= y <= MAX_YEAR:
        return NAT
    try:
        return np.datetime64(dt.date(y, mo, d), "D")
    except ValueError:
        return NAT


def fast_iso_dates(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(dates, ok) for values exactly ``YYYY-MM-DD``; other rows are NaT and not ok."""
    n = len(values)
    dates = np.full(n, NAT)
    m = byte_matrix(values, 10)
    if m is None or n == 0:
        return dates, np.zeros(n, dtype=bool)
    digit = (m >= 48) & (m <= 57)
    ok = digit[:, [0, 1, 2, 3, 5, 6, 8, 9]].all(axis=1) & (m[:, 4] == 45) & (m[:, 7] == 45) & (m[:, 10] == 0)
    y = np.where(ok, digits(m, slice(0, 4)), 1970)
    mo = np.where(ok, digits(m, slice(5, 7)), 1)
    d = np.where(ok, digits(m, slice(8, 10)), 1)
    ok &= (y >= MIN_YEAR) & (y <= MAX_YEAR) & (mo >= 1) & (mo <= 12) & (d >= 1)
    mo = np.where(ok, mo, 1)
    y = np.where(ok, y, 1970)
    month = ((y - 1970) * 12 + (mo - 1)).astype("datetime64[M]")
    first = month.astype("datetime64[D]")
    days_in_month = ((month + 1).astype("datetime64[D]") - first).astype(np.int64)
    ok &= d <= days_in_month
    dates[ok] = first[ok] + (d[ok] - 1).astype("timedelta64[D]")
    return dates, ok


def _parse_values(
    values: np.ndarray, fast: Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]], exact: Callable[[str], Any]
) -> tuple[np.ndarray, np.ndarray]:
    """(parsed, empty) per distinct value: ``fast`` over all of them, ``exact`` on the trimmed text of
    each value the fast path did not take."""
    parsed, ok = fast(values)
    empty = np.zeros(len(values), dtype=bool)
    for i in np.flatnonzero(~ok):
        text = values[i].strip()
        empty[i] = text == ""
        parsed[i] = exact(text)
    return parsed, empty


def _parse_column(
    values: Any, fast: Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]], exact: Callable[[str], Any]
) -> tuple[np.ndarray, np.ndarray]:
    """(parsed, empty) per row, each distinct value parsed once."""
    d = Distinct.of(values)
    parsed, empty = _parse_values(d.values, fast, exact)
    return d.spread(parsed), d.spread(empty)


def parse_dates(values: Any) -> tuple[np.ndarray, np.ndarray]:
    """(dates, empty) for a column: NaT where the text is empty or not a date."""
    return _parse_column(values, fast_iso_dates, parse_date_text)


def is_empty(values: Any) -> np.ndarray:
    """Per row: is the trimmed text empty."""
    return by_unique(values, lambda v: v == "", bool)


def check_date(flags: Flags, values: Any, name: str, required: bool) -> np.ndarray:
    """Parse a date column (datetime64[s] per row, NaT when not a date) and flag ``<name>_ontbreekt``
    (when required) and ``<name>_ongeldig``."""
    d = Distinct.of(values)
    return d.spread(check_date_values(flags, d, name, required).astype("datetime64[s]"))  # the unit pandas keeps


def check_date_values(flags: Flags, column: Distinct, name: str, required: bool) -> np.ndarray:
    """:func:`check_date` per distinct value of ``column`` (datetime64[D]); the caller spreads."""
    dates, empty = _parse_values(column.values, fast_iso_dates, parse_date_text)
    if required:
        flags.flag_values(column, empty, f"{name}_ontbreekt")
    flags.flag_values(column, ~empty & np.isnat(dates), f"{name}_ongeldig")
    return dates


def day_numbers(dates: np.ndarray, nat: int) -> np.ndarray:
    """Days since 1970 as int32, ``nat`` where NaT (so comparisons with NaT can come out as wanted)."""
    days = dates.astype("datetime64[D]").astype(np.int64)
    return np.where(np.isnat(dates), nat, days).astype(np.int32)


def two_digits(value: str) -> str:
    """A code of two digits as written ("04"), also when a spreadsheet made a number of it."""
    # Spreadsheets turn "04" into "4" and "45" into "45.0".
    if value.endswith(".0") and value[:-2].isdigit():
        value = value[:-2]
    return value.zfill(2) if value.isdigit() and len(value) < 2 else value


_AMOUNT_EURO = re.compile(r"(-?)(\d+)(?:[.,](\d{1,2}))?")
_AMOUNT_CENT = re.compile(r"(-?\d+)(?:\.0+)?")


def _euro_to_cent(text: str) -> float:
    t = text.replace("€", "").replace(" ", "")
    m = _AMOUNT_EURO.fullmatch(t)
    if not m:
        return np.nan
    cents = int(m.group(2)) * 100 + int((m.group(3) or "0").ljust(2, "0"))
    return -cents if m.group(1) else cents


def _cent(text: str) -> float:
    m = _AMOUNT_CENT.fullmatch(text)
    return float(int(m.group(1))) if m and len(m.group(1)) <= 15 else np.nan


def _no_fast_path(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return np.full(len(values), np.nan), np.zeros(len(values), dtype=bool)


def _whole_cents(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    ints, ok = fast_digits(values, 15)
    return np.where(ok, ints, np.nan), ok


def parse_amounts(values: Any, euro: bool) -> tuple[np.ndarray, np.ndarray]:
    """(eurocent as float, NaN where not an amount; empty) for a column of amounts in euro with at
    most 2 decimals (``bedrag``, ``euro``) or of whole eurocents (``bedrag_eurocent``)."""
    d = Distinct.of(values)
    cents, empty = parse_amount_values(d.values, euro)
    return d.spread(cents), d.spread(empty)


def parse_amount_values(values: np.ndarray, euro: bool) -> tuple[np.ndarray, np.ndarray]:
    """:func:`parse_amounts` for distinct values."""
    if euro:
        return _parse_values(values, _no_fast_path, _euro_to_cent)
    return _parse_values(values, _whole_cents, _cent)


_DC = {"": 1, "D": 1, "C": -1}


def debet_credit(values: Any) -> np.ndarray:
    """+1 for D (or empty), -1 for C, 0 for anything else."""
    d = Distinct.of(values)
    per_value = np.array([1 if v in ("D", "") else -1 if v == "C" else _DC.get(v.strip().upper(), 0)
                          for v in d.values], dtype=np.int64)
    return d.spread(per_value)


def _vestiging(value: str) -> str:
    v = value.upper()
    if v in ("", GEEN_SCHOOL):
        return GEEN_SCHOOL
    return v if is_vestigingscode(v) else ""


def check_vestiging(flags: Flags, rows: Rows) -> np.ndarray:
    """The school location per row, from ``vestigingscode`` (upper-cased; ``vestigingscode_ongeldig``)
    or, in a file without that column, from ``brin`` + ``vestigingsnummer`` (``brin_ongeldig``,
    ``vestigingsnummer_ongeldig``); ``GEEN`` where it is empty (no school)."""
    if "vestigingscode" in rows:
        vc = column(rows, "vestigingscode")
        vest_v = per_value(vc, _vestiging)
        flags.flag_values(vc, vest_v == "", "vestigingscode_ongeldig")
        return vc.spread(vest_v)
    brin, nummer = column(rows, "brin"), column(rows, "vestigingsnummer")
    both_empty = is_empty(brin) & is_empty(nummer)
    brin_u = by_unique(brin, lambda v: v.upper() if is_brin(v.upper()) else "")
    nr = by_unique(nummer, lambda v: two_digits(v) if v.isascii() and v.isdigit() and int(v) < 100 else "")
    flags.flag(~both_empty & (brin_u == ""), "brin_ongeldig")
    flags.flag(~both_empty & (nr == ""), "vestigingsnummer_ongeldig")
    code = np.where(both_empty, GEEN_SCHOOL, brin_u + nr)
    return code.astype(object)
