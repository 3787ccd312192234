"""Count an SWV's pupils with support per school and school year at the peildatum: the partial's
``leerlingen_ondersteuning`` and ``leerlingen_ondersteuning_soort`` cells.

Definitions (data dictionary, "Extract 4"):

- A support row counts in school year Y when it is active on Y's peildatum: ``ingangsdatum`` ≤
  peildatum and (``einddatum`` empty or ≥ peildatum).
- Each pupil counts once per school year: of their active rows, the one of the highest-priority soort
  group (``shared.codes.ONDERSTEUNING_GROUPS``: TLV SO > TLV SBO > PrO > LWOO > arrangement > OPP >
  thuiszitter) decides both the group and the school; a tie goes to the latest ``ingangsdatum``, then
  to the earliest line of the file. So the soort cells of a school add up to its total, and a pupil is
  at one school only (the schools add up to the SWV's own total).
- Every school of the SWV gets a total, 0 included (so the hub can tell "none with support" from "not
  counted"): the schools the round lists, or without that list the schools in the extract. A soort cell
  is sent only when it is > 0.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import date

import numpy as np
import pandas as pd

from shared.codes import LEERLINGEN_ONDERSTEUNING, LEERLINGEN_ONDERSTEUNING_SOORT, ONDERSTEUNING_PRIORITY
from shared.partial import Cell


class _Rows:
    """The frame's columns as arrays, and per peildatum each pupil's deciding row."""

    def __init__(self, data: pd.DataFrame) -> None:
        self.pupil = pd.factorize(data["pseudonym"].to_numpy(object))[0]  # from here on no pseudonym
        self.rank = data["groep"].map(ONDERSTEUNING_PRIORITY).to_numpy(np.int64)
        self.start = data["ingangsdatum"].to_numpy("datetime64[D]")
        self.end = data["einddatum"].to_numpy("datetime64[D]")
        self.line = data["line"].to_numpy(np.int64)
        self.vest = data["vestigingscode"].to_numpy(object)
        self.groep = data["groep"].to_numpy(object)

    def first(self, peildatum: date) -> np.ndarray:
        """Per pupil active on ``peildatum`` the first row in priority order: group rank, latest
        start, earliest line (the row that decides the pupil's group and school)."""
        peil = np.datetime64(peildatum, "D")
        start, pupil = self.start, self.pupil
        active = np.flatnonzero((start <= peil) & (self.end >= peil))
        order = active[np.lexsort((self.line[active], -start[active].astype(np.int64), self.rank[active],
                                   pupil[active]))]
        return order[np.r_[True, pupil[order][1:] != pupil[order][:-1]]] if len(order) else order


def support_sets(data: pd.DataFrame, peildatum: date, schools: Collection[str] | None = None) -> dict[str, list[bytes]]:
    """Per school the pseudonyms of the pupils its ``leerlingen_ondersteuning`` cell counts on
    ``peildatum`` (the same deciding rows as :func:`count_support`), for the overlap exchange
    (docs/overlap.md); never part of the partial."""
    rows = _Rows(data)
    first = rows.first(peildatum)
    pseudonyms = data["pseudonym"].to_numpy(object)
    keep = set(schools) if schools is not None else None
    out: dict[str, list[bytes]] = {}
    for i in first.tolist():
        code = str(rows.vest[i])
        if keep is None or code in keep:
            out.setdefault(code, []).append(bytes(pseudonyms[i]))
    return out


def count_support(data: pd.DataFrame, peildata: Mapping[str, date], schools: Collection[str] | None = None) -> list[Cell]:
    """The support cells per school year of ``peildata`` (school year → peildatum) from a validated,
    pseudonymised ``ondersteuning`` frame (node_agent/read/ondersteuning.py)."""
    rows = _Rows(data)
    vest, groep = rows.vest, rows.groep
    every = set(schools) if schools is not None else set(vest)
    cells: list[Cell] = []
    for jaar in sorted(peildata):
        first = rows.first(peildata[jaar])
        counts = pd.DataFrame({"v": vest[first], "g": groep[first]}).value_counts(sort=False)
        totals = dict.fromkeys(every, 0)
        for (code, group), n in sorted(counts.items()):
            cells.append(Cell(code, jaar, LEERLINGEN_ONDERSTEUNING_SOORT, group, int(n)))
            totals[code] = totals.get(code, 0) + int(n)
        cells.extend(Cell(code, jaar, LEERLINGEN_ONDERSTEUNING, "", n) for code, n in sorted(totals.items()))
    return cells
