"""The declaraties extract: claim lines linked to the allocation they belong to, with their
period and amount in eurocent (credits negative)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from node_agent.read.parse import check_date, debet_credit, parse_amounts, texts
from node_agent.read.report import Extract, FileReport, ReadOptions
from node_agent.read.sources import column, concat_parts, row_chunks


def _lookup_allocations(nrs_raw: np.ndarray, alloc: pd.Index) -> tuple[np.ndarray, np.ndarray]:
    """(position in the allocations or -1, trimmed number) per claim line."""
    position = alloc.get_indexer(nrs_raw) if len(alloc) else np.full(len(nrs_raw), -1)
    nrs = nrs_raw
    missing = position < 0
    if missing.any():
        nrs = nrs_raw.copy()
        trimmed = texts(nrs_raw[missing])
        nrs[missing] = trimmed
        if len(alloc):
            position[missing] = alloc.get_indexer(trimmed)
    return position, nrs


def read_declaraties(opts: ReadOptions, allocations: Extract) -> Extract:
    """Claim lines linked to the allocation they belong to; credits are negative amounts."""
    report = FileReport.for_options(opts)
    alloc = pd.Index(allocations.data["toewijzingnummer"])
    empty = pd.Index([], dtype=object)
    excluded = allocations.excluded_numbers if allocations.excluded_numbers is not None else empty
    rejected = allocations.rejected_numbers if allocations.rejected_numbers is not None else empty
    parts: list[pd.DataFrame] = []
    uses_euro: bool | None = None
    for f, lines, flags in row_chunks(opts, report):
        if uses_euro is None:
            uses_euro = "bedrag_eurocent" not in f.columns
        position, nrs = _lookup_allocations(column(f, "toewijzingnummer"), alloc)
        unmatched = position < 0
        if unmatched.any():
            flags.flag(unmatched & (nrs == ""), "toewijzingnummer_ontbreekt")
            sub = pd.Index(nrs[unmatched])
            in_excluded = np.zeros(len(f), bool)
            in_rejected = np.zeros(len(f), bool)
            in_excluded[unmatched] = sub.isin(excluded)
            in_rejected[unmatched] = sub.isin(rejected)
            flags.flag(unmatched & in_excluded, "toewijzing_verwijderd")
            flags.flag(unmatched & in_rejected, "toewijzing_afgekeurd")
            flags.flag(unmatched, "toewijzing_onbekend")
        begin = check_date(flags, column(f, "periode_begin"), "periode_begin", True)
        einde = check_date(flags, column(f, "periode_einde"), "periode_einde", False)
        flags.flag(~np.isnat(einde) & ~np.isnat(begin) & (einde < begin), "periode_einde_voor_begin")
        amounts = column(f, "bedrag") if uses_euro else column(f, "bedrag_eurocent")
        cents, bedrag_empty = parse_amounts(amounts, euro=uses_euro)
        flags.flag(bedrag_empty, "bedrag_ontbreekt")
        flags.flag(np.isnan(cents) | (np.abs(cents) >= 2**53), "bedrag_ongeldig")
        dc = debet_credit(column(f, "debet_credit"))
        flags.flag(dc == 0, "debet_credit_ongeldig")
        flags.report_into(report, lines)
        ok = flags.ok
        amount = np.nan_to_num(cents[ok]).astype(np.int64) * dc[ok]
        parts.append(
            pd.DataFrame({"line": lines[ok], "allocation": position[ok].astype(np.int64), "periode_begin": begin[ok],
                          "bedrag_eurocent": amount})
        )
    data = concat_parts(parts, {"line": np.int64, "allocation": np.int64, "periode_begin": "datetime64[s]",
                                "bedrag_eurocent": np.int64})
    report.rows_used = len(data)
    report.check_balance()
    return Extract("declaraties", data, report)
