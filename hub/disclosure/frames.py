"""The release-frame vocabulary: keys, levels, statuses, reasons and the column lists of the gate's frames.

A cell passes through three frames, each with its own columns:

- *contributions* (``CONTRIBUTION_COLUMNS``): one row per node cell, straight from the partials
  (``contributions``);
- *combined* (``COMBINED_COLUMNS``): one row per cell of the hierarchy vestiging → schooltype → regio,
  with what the primary rules need (sums.py's ``combine_cells``);
- *release* (``RELEASE_COLUMNS``): the gate's verdict per cell (gate.py's ``apply_gate``), which the
  hub stores and ``release_bytes`` digests. It carries the internal status (primary or secondary) and
  the reason.

What a reader gets of a cell (``PUBLIC_COLUMNS``) is less: the key, ``published`` or ``suppressed``
and a value only when published. Every module that reads or writes these frames takes its names from
here; see docs/disclosure-control.md for the rules behind the statuses and reasons.
"""

from __future__ import annotations

from typing import Iterable

import numpy as np
import pandas as pd

from shared.codes import KOSTEN
from shared.partial import Partial

#: The levels of the hierarchy, bottom up; the order of a release's cells.
LEVELS = ("vestiging", "schooltype", "regio")
VESTIGING, SCHOOLTYPE, REGIO = LEVELS
#: The one unit of the regio level: everything in the round.
REGIO_UNIT = "regio"
#: The school type of a vestigingscode the school-type mapping does not know.
UNKNOWN_SCHOOLTYPE = "onbekend"

#: A cell's key in the combined and release frames.
KEY = ["level", "unit", "schooljaar", "measure", "category"]

# Statuses. The gate tells primary from secondary suppression (the audit and ``jeugdhub release show``
# need to know why a cell is hidden); a reader sees only ``SUPPRESSED`` for both.
PUBLISHED = "published"
PRIMARY = "suppressed_primary"
SECONDARY = "suppressed_secondary"
SUPPRESSED = "suppressed"

# Reasons: why a cell is primarily hidden (rules.py) ...
THRESHOLD = "threshold"
GROUP_DISCLOSURE = "group_disclosure"
INSIDER_COUNT = "insider_count"
NEGATIVE = "negative"  # a refund whose size is unknown (a schema-1 partial): the cell cannot be judged
NEGATIVE_SUM = "negative_sum"  # the net cost itself is below 0: never published (docs/disclosure-control.md)
LINKED_COUNT = "linked_count"
INSIDER_COST = "insider_cost"
P_PERCENT = "p_percent"
DOMINANCE = "dominance"
PROVIDER_AGGREGATE = "provider_aggregate"  # providers are published per school only (rules.py)
OVERLAP_VARIABLE = "overlap"  # the auditor's own overlap variables (overlap.py): never published, never listed
# ... and why a cell that passed them is hidden as well (gate.py).
COMPLEMENTARY = "complementary"  # a line would narrow a hidden cell too far (secondary suppression)
AUDIT_PARTNER = "audit_partner"  # the auditor could not prove a hidden cell protected without it
EARLIER_HIDDEN = "earlier_hidden"  # hidden in an earlier release and unchanged since

#: One row per node cell of one school year (``contributions``). For a cost cell ``top1``/``top2`` are
#: the two largest absolute per-child amounts and ``abs_sum`` the sum of them all; ``legacy_negatives``
#: counts the refunds of a schema-1 cost cell, which came without their size (shared/partial.py).
CONTRIBUTION_COLUMNS = [
    "node", "vestigingscode", "schooljaar", "measure", "category",
    "value", "contributors", "top1", "top2", "negatives", "abs_sum", "legacy_negatives",
]  # fmt: skip
#: The integer columns of a contributions frame, summed (or pooled, for ``top1``/``top2``) per level.
CONTRIBUTION_INTS = ["value", "contributors", "top1", "top2", "negatives", "abs_sum", "legacy_negatives"]
#: One row per cell and level. ``parent`` is the unit one level up (the schooltype of a vestiging,
#: ``regio`` for a schooltype, "" for regio): the gate needs the hierarchy and receives only this frame.
COMBINED_COLUMNS = KEY + ["parent",
    "value", "contributors", "top1", "top2", "negatives", "abs_sum", "legacy_negatives",
    "nodes", "max_node_value", "max_node_contributors",
]  # fmt: skip
#: The gate's release frame, as stored: the internal status and the reason stay in the hub. ``flags``
#: is always "" (a flag would be information the auditor had to model) but keeps its column, so the
#: release bytes and digests of stored releases stay what they were.
RELEASE_COLUMNS = KEY + ["status", "value", "reason", "flags"]
#: What a reader of a release gets per cell (the API, the pages, the indicators): no reason, no flag,
#: and ``status`` narrowed to ``PUBLISHED``/``SUPPRESSED``. A reader who could tell a partner from a small
#: cell could narrow both (world.py, ``attacker_bounds``), so the two lists must not be merged.
PUBLIC_COLUMNS = KEY + ["status", "value"]


def shared_objects(values: pd.Series) -> pd.Series:
    """``values.astype(object)``, but equal values are one Python object: the key columns of a national
    release repeat a few thousand strings over millions of cells, and ``astype(object)`` of a string column
    makes a string per cell (about 60 bytes each, against 8 for a reference). The dtype is given, so that
    pandas' string inference does not turn the array back into a string column."""
    codes, uniques = pd.factorize(values, use_na_sentinel=False)
    return pd.Series(np.asarray(uniques, dtype=object)[codes], index=values.index, dtype=object)


def sort_contributions(frame: pd.DataFrame) -> pd.DataFrame:
    """A contributions frame in its canonical order (node, then the cell's key; stable)."""
    return frame.sort_values(CONTRIBUTION_COLUMNS[:5], kind="stable").reset_index(drop=True)


def contributions(partials: Iterable[Partial], schooljaar: str) -> pd.DataFrame:
    """One row per node cell of ``schooljaar`` (other years in a partial are ignored).

    The node is the partial's sender (a gemeentecode or an SWV code). A count cell counts each child once, so its
    ``contributors`` is its value and it has no amounts (``top1``, ``top2``, ``negatives``, ``abs_sum``
    are 0); a cost cell brings its own. A schema-1 cost cell has no ``abs_sum``: without refunds its
    amounts are all positive, so ``abs_sum`` is its value; with refunds their size is unknown, so it
    gets ``legacy_negatives`` (the rules hide every cell it feeds) and ``abs_sum`` = |value|, a lower
    bound.
    """
    rows: list[tuple] = []
    for partial in partials:
        node = partial.header.node
        for c in partial.cells:
            if c.schooljaar == schooljaar:
                rows.append((node, c.vestigingscode, c.schooljaar, c.measure, c.category, c.value, c.value, 0, 0, 0, 0, 0))
        for c in partial.cost_cells:
            if c.schooljaar == schooljaar:
                if c.abs_sum is not None:
                    abs_sum, legacy = c.abs_sum, 0
                else:
                    abs_sum, legacy = abs(c.value), c.negatives
                rows.append((node, c.vestigingscode, c.schooljaar, KOSTEN, c.category, c.value, c.contributors,
                             c.top1, c.top2, c.negatives, abs_sum, legacy))
    frame = pd.DataFrame.from_records(rows, columns=CONTRIBUTION_COLUMNS)
    for col in CONTRIBUTION_COLUMNS:
        frame[col] = frame[col].astype("int64") if col in CONTRIBUTION_INTS else frame[col].astype(str)
    return sort_contributions(frame)
