"""Small hand-built regions for the gate's tests: contributions frames from dictionaries."""

from __future__ import annotations

import pandas as pd

from hub.disclosure import GateConfig, apply_gate, combine_cells

JAAR = "2024-2025"
COLUMNS = ["node", "vestigingscode", "schooljaar", "measure", "category", "value", "contributors", "top1", "top2", "negatives"]


def contributions(cells: list[tuple]) -> pd.DataFrame:
    """Rows ``(node, vestiging, measure, category, value[, contributors, top1, top2, negatives])``."""
    rows = []
    for c in cells:
        node, vest, measure, category, value, *rest = c
        contributors = rest[0] if rest else value
        top1, top2, negatives = (rest[1:4] + [0, 0, 0])[:3] if len(rest) > 1 else (0, 0, 0)
        rows.append((node, vest, JAAR, measure, category, value, contributors, top1, top2, negatives))
    return pd.DataFrame(rows, columns=COLUMNS)


def schools(mapping: dict[str, str]) -> pd.DataFrame:
    return pd.DataFrame({"vestigingscode": list(mapping), "schooltype": list(mapping.values())})


def gate(cells: list[tuple], types: dict[str, str], config: GateConfig | None = None, history=(), cache=None):
    combined = combine_cells(contributions(cells), schools(types))
    return combined, apply_gate(combined, config or GateConfig(), history=history, cache=cache)


def row(release: pd.DataFrame, unit: str, measure: str, category: str = "", level: str | None = None) -> pd.Series:
    sel = (release["unit"] == unit) & (release["measure"] == measure) & (release["category"] == category)
    if level:
        sel &= release["level"] == level
    found = release[sel]
    assert len(found) == 1, (unit, measure, category, len(found))
    return found.iloc[0]


def key(unit: str, measure: str, category: str = "", level: str = "vestiging") -> tuple:
    return (level, unit, JAAR, measure, category)


def parents(types: dict[str, str]) -> dict[str, str]:
    out = dict(types)
    out.update({t: "regio" for t in set(types.values())})
    return out


def truth(combined: pd.DataFrame) -> dict[tuple, int]:
    """True values per key, zeros for the catalogue's completed cells (absent from ``combined``)."""
    values = {tuple(r[:5]): int(r[5]) for r in combined[["level", "unit", "schooljaar", "measure", "category", "value"]].itertuples(index=False, name=None)}

    class Filled(dict):
        def __missing__(self, k):
            return 0

    return Filled(values)
