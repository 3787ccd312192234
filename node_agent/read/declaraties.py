"""The declaraties extract: claim lines linked to the allocation they belong to, with their
period and amount in eurocent (credits negative)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from node_agent.columnar import Distinct
from node_agent.read.parse import check_date_values, day_numbers, debet_credit, parse_amount_values, parse_amounts
from node_agent.read.report import Extract, FileReport, ReadOptions
from node_agent.read.sources import Rows, column, concat_parts, row_chunks


def _lookup_allocations(numbers: Any, alloc: pd.Index, alloc_arrow: Any) -> tuple[np.ndarray, np.ndarray, Distinct]:
    """(position in the allocations or -1 per claim line; the lines not found as written; their
    numbers factorised). Numbers not found as written are looked up again trimmed."""
    position = pc.index_in(numbers, value_set=alloc_arrow).fill_null(-1).cast(pa.int64()).to_numpy(zero_copy_only=False)
    missing = np.flatnonzero(position < 0)
    rest = Distinct.from_arrow(numbers.take(missing))
    if len(missing) and len(alloc):
        trimmed = rest.trimmed()
        position = position.copy()  # Arrow's buffer is read-only
        position[missing] = rest.spread(alloc.get_indexer(trimmed))
    return position, missing, rest


def _amounts(f: Rows, euro: bool) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None]:
    """(eurocent per row as int64, 0 where not an amount; empty or None; not an amount or None — None
    meaning no row). Whole eurocents in plain digits (at most 15) are cast by Arrow; every other value
    is parsed once by the exact path of :func:`parse_amounts`."""
    if euro:
        cents, empty = parse_amounts(column(f, "bedrag"), euro=True)
        invalid = np.isnan(cents) | (np.abs(cents) >= 2**53)
        return np.where(invalid, 0, cents).astype(np.int64), empty, invalid
    values = f.arrays["bedrag_eurocent"]
    plain = pc.and_(pc.ascii_is_decimal(values), pc.less_equal(pc.binary_length(values), 15))
    ints = pc.cast(pc.if_else(plain, values, "0"), pa.int64()).to_numpy(zero_copy_only=False)
    other = np.flatnonzero(~plain.to_numpy(zero_copy_only=False))
    if len(other) == 0:
        return ints, None, None
    rest = Distinct.from_arrow(values.take(other))
    cents_v, empty_v = parse_amount_values(rest.values, euro=False)
    invalid_v = np.isnan(cents_v) | (np.abs(cents_v) >= 2**53)
    ints = ints.copy()  # Arrow's buffer is read-only
    ints[other] = rest.spread(np.where(invalid_v, 0, cents_v).astype(np.int64))
    empty = np.zeros(len(ints), dtype=bool)
    empty[other] = rest.spread(empty_v)
    invalid = np.zeros(len(ints), dtype=bool)
    invalid[other] = rest.spread(invalid_v)
    return ints, empty, invalid


def read_declaraties(opts: ReadOptions, allocations: Extract) -> Extract:
    """Claim lines linked to the allocation they belong to; credits are negative amounts."""
    report = FileReport.for_options(opts)

    alloc = pd.Index(allocations.data["toewijzingnummer"])
    alloc_arrow = pa.array(alloc.to_numpy(object), type=pa.string())
    empty = pd.Index([], dtype=object)
    excluded = allocations.excluded_numbers if allocations.excluded_numbers is not None else empty
    rejected = allocations.rejected_numbers if allocations.rejected_numbers is not None else empty
    parts: list[pd.DataFrame] = []
    uses_euro: bool | None = None
    for f, lines, flags in row_chunks(opts, report):
        if uses_euro is None:
            uses_euro = "bedrag_eurocent" not in f
        position, missing, rest = _lookup_allocations(f.arrays["toewijzingnummer"], alloc, alloc_arrow)
        unmatched = position < 0
        if unmatched.any():
            nrs_v = rest.trimmed()
            sub = pd.Index(nrs_v)

            def flag_unmatched(per_value: np.ndarray, reason: str) -> None:
                mask = np.zeros(len(f), dtype=bool)
                mask[missing] = rest.spread(per_value)
                flags.flag(unmatched & mask, reason)

            flag_unmatched(nrs_v == "", "toewijzingnummer_ontbreekt")
            flag_unmatched(sub.isin(excluded), "toewijzing_verwijderd")
            flag_unmatched(sub.isin(rejected), "toewijzing_afgekeurd")
            flags.flag(unmatched, "toewijzing_onbekend")
        begin_col = column(f, "periode_begin")
        begin = check_date_values(flags, begin_col, "periode_begin", True)
        einde_col = column(f, "periode_einde")
        einde = check_date_values(flags, einde_col, "periode_einde", False)
        if not np.isnat(einde).all():
            # compared as day numbers; NaT on either side never compares as "before"
            before = (day_numbers(einde, np.iinfo(np.int32).max)[einde_col.codes]
                      < day_numbers(begin, np.iinfo(np.int32).min)[begin_col.codes])
            flags.flag(before, "periode_einde_voor_begin")
        cents, bedrag_empty, bedrag_invalid = _amounts(f, uses_euro)
        if bedrag_empty is not None:
            flags.flag(bedrag_empty, "bedrag_ontbreekt")
        if bedrag_invalid is not None:
            flags.flag(bedrag_invalid, "bedrag_ongeldig")
        dc_col = column(f, "debet_credit")
        dc_v = debet_credit(dc_col.values)
        flags.flag_values(dc_col, dc_v == 0, "debet_credit_ongeldig")
        flags.report_into(report, lines)
        ok = flags.selection()
        amount = cents[ok] * dc_v[dc_col.codes[ok]]
        parts.append(
            pd.DataFrame({"line": lines[ok], "allocation": position[ok],
                          "periode_begin": begin.astype("datetime64[s]")[begin_col.codes[ok]],
                          "bedrag_eurocent": amount}, copy=False)
        )
    data = concat_parts(parts, {"line": np.int64, "allocation": np.int64, "periode_begin": "datetime64[s]",
                                "bedrag_eurocent": np.int64})
    report.rows_used = len(data)
    report.check_balance()
    return Extract("declaraties", data, report)
