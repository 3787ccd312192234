"""Builders for release frames in the shape of CONTRACTS.md, for indicator tests."""

from __future__ import annotations

import pandas as pd

from hub.indicators.cells import RELEASE_COLUMNS


def release(rows) -> pd.DataFrame:
    """``rows``: (level, unit, schooljaar, measure, category, value_or_None[, flags]); None = suppressed."""
    records = []
    for row in rows:
        level, unit, jaar, measure, category, value = row[:6]
        flags = row[6] if len(row) > 6 else ""
        records.append(
            {
                "level": level,
                "unit": unit,
                "schooljaar": jaar,
                "measure": measure,
                "category": category,
                "status": "published" if value is not None else "suppressed_primary",
                "value": value,
                "reason": None if value is not None else "threshold",
                "flags": flags,
            }
        )
    frame = pd.DataFrame.from_records(records, columns=list(RELEASE_COLUMNS))
    frame["value"] = frame["value"].astype("Int64")
    return frame
