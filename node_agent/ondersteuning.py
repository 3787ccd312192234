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


def count_support(data: pd.DataFrame, peildata: Mapping[str, date], schools: Collection[str] | None = None) -> list[Cell]:
    """The support cells per school year of ``peildata`` (school year → peildatum) from a validated,
    pseudonymised ``ondersteuning`` frame (node_agent/read/ondersteuning.py)."""
    pupil = pd.factorize(data["pseudonym"].to_numpy(object))[0]  # from here on no pseudonym
    rank = data["groep"].map(ONDERSTEUNING_PRIORITY).to_numpy(np.int64)
    start = data["ingangsdatum"].to_numpy("datetime64[D]")
    end = data["einddatum"].to_numpy("datetime64[D]")
    line = data["line"].to_numpy(np.int64)
    vest = data["vestigingscode"].to_numpy(object)
    groep = data["groep"].to_numpy(object)
    every = set(schools) if schools is not None else set(vest)
    cells: list[Cell] = []
    for jaar in sorted(peildata):
        peil = np.datetime64(peildata[jaar], "D")
        active = np.flatnonzero((start <= peil) & (end >= peil))
        # Per pupil the first row in priority order: group rank, latest start, earliest line.
        order = active[np.lexsort((line[active], -start[active].astype(np.int64), rank[active], pupil[active]))]
        first = order[np.r_[True, pupil[order][1:] != pupil[order][:-1]]] if len(order) else order
        counts = pd.DataFrame({"v": vest[first], "g": groep[first]}).value_counts(sort=False)
        totals = dict.fromkeys(every, 0)
        for (code, group), n in sorted(counts.items()):
            cells.append(Cell(code, jaar, LEERLINGEN_ONDERSTEUNING_SOORT, group, int(n)))
            totals[code] = totals.get(code, 0) + int(n)
        cells.extend(Cell(code, jaar, LEERLINGEN_ONDERSTEUNING, "", n) for code, n in sorted(totals.items()))
    return cells
