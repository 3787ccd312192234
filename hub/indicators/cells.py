"""Lookup over a release frame: every cell as a :class:`Count` that is either published (with its
rounded value) or not. A suppressed cell's value is dropped here, at the door, so nothing downstream
can use it by accident.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

import pandas as pd

from hub.disclosure.frames import PUBLIC_COLUMNS, PUBLISHED, SUPPRESSED

#: A unit the release of a school year does not have at all (an indicator's status, not a cell's).
ABSENT = "absent"


@dataclass(frozen=True)
class Count:
    """One release figure. ``value`` is None unless ``status`` is ``published``."""

    value: int | None
    status: str

    @property
    def published(self) -> bool:
        return self.status == PUBLISHED

    def to_dict(self) -> dict:
        return {"value": self.value, "status": self.status}


ABSENT_COUNT = Count(None, ABSENT)
SUPPRESSED_COUNT = Count(None, SUPPRESSED)


class ReleaseCells:
    """Index over one or more releases (several school years may be concatenated).

    The frame has at least ``PUBLIC_COLUMNS`` (what a reader gets per cell: no reason, no flag). Values of cells whose status is not ``published`` are
    discarded on construction, and so is every other column (why a cell is hidden stays in the hub).
    """

    def __init__(self, frame: pd.DataFrame):
        missing = [c for c in PUBLIC_COLUMNS if c not in frame.columns]
        if missing:
            raise ValueError(f"release frame lacks columns {missing}")
        values = frame["value"].astype(object).where(frame["value"].notna(), None).tolist()
        self._build(zip(frame["level"].tolist(), frame["unit"].tolist(), frame["schooljaar"].tolist(),
                        frame["measure"].tolist(), frame["category"].fillna("").tolist(), frame["status"].tolist(),
                        values))

    @classmethod
    def from_rows(cls, rows) -> "ReleaseCells":
        """From (level, unit, schooljaar, measure, category, status, value) tuples (a database query)."""
        self = cls.__new__(cls)
        self._build(rows)
        return self

    def _build(self, rows) -> None:
        self._cells: dict[tuple[str, str, str, str, str], Count] = {}
        for level, unit, jaar, measure, category, status, value in rows:
            if status == PUBLISHED and value is not None:
                count = Count(int(value), PUBLISHED)
            else:
                # Hidden, for whatever reason: the value and the reason never leave this method.
                count = SUPPRESSED_COUNT
            self._cells[(str(level), str(unit), str(jaar), str(measure), str(category or ""))] = count
        self._schooljaren = sorted({k[2] for k in self._cells})
        self._by_line: dict[tuple[str, str, str, str], list[str]] = {}
        for key in sorted(self._cells):
            self._by_line.setdefault(key[:4], []).append(key[4])
        self._units: dict[tuple[str, str], set[str]] = {}
        for key in self._cells:
            self._units.setdefault((key[0], key[2]), set()).add(key[1])

    @classmethod
    def empty(cls) -> "ReleaseCells":
        return cls(pd.DataFrame(columns=PUBLIC_COLUMNS))

    @property
    def schooljaren(self) -> list[str]:
        return list(self._schooljaren)

    def get(self, level: str, unit: str, schooljaar: str, measure: str, category: str = "") -> Count:
        """The cell; a cell missing from a unit that is in the release reads as suppressed.

        Nodes need not send zero cells, so "no cell" usually means 0 — a small count. Showing it as
        different from a suppressed cell would publish that zero. Only a unit wholly absent from a
        school year's release is ``absent``.
        """
        found = self._cells.get((level, unit, schooljaar, measure, category))
        if found is not None:
            return found
        if unit in self._units.get((level, schooljaar), ()):
            return SUPPRESSED_COUNT
        return ABSENT_COUNT

    def listed(self, level: str, unit: str, schooljaar: str, measure: str, category: str = "") -> bool:
        """Whether the release lists the cell at all (published or not): for a measure that exists only
        where a node counted it (an SWV's support cells), what tells "not counted" from "hidden"."""
        return (level, unit, schooljaar, measure, category) in self._cells

    def units(self, level: str, schooljaar: str | None = None) -> list[str]:
        if schooljaar is not None:
            return sorted(self._units.get((level, schooljaar), ()))
        return sorted(set().union(*[u for (lv, _), u in self._units.items() if lv == level]))

    def categories(self, level: str, unit: str, schooljaar: str, measure: str) -> list[str]:
        return list(self._by_line.get((level, unit, schooljaar, measure), ()))

    def items(self) -> Iterable[tuple[tuple[str, str, str, str, str], Count]]:
        return self._cells.items()
