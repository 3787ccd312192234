"""Builders for release frames (the gate's output, hub/disclosure/gate.py) for indicator tests."""

from __future__ import annotations

import pandas as pd

from hub.disclosure.frames import PUBLIC_COLUMNS


def release(rows) -> pd.DataFrame:
    """``rows``: (level, unit, schooljaar, measure, category, value_or_None[, reason]); None = suppressed.

    The frame carries the gate's internal ``reason`` column too, as the gate's own frame does, so a test
    can check that nothing downstream reads it.
    """
    records = []
    for row in rows:
        level, unit, jaar, measure, category, value = row[:6]
        reason = row[6] if len(row) > 6 else (None if value is not None else "threshold")
        records.append(
            {
                "level": level,
                "unit": unit,
                "schooljaar": jaar,
                "measure": measure,
                "category": category,
                "status": "published" if value is not None else "suppressed_primary",
                "value": value,
                "reason": reason,
            }
        )
    frame = pd.DataFrame.from_records(records, columns=PUBLIC_COLUMNS + ["reason"])
    frame["value"] = frame["value"].astype("Int64")
    return frame
