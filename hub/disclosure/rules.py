"""Primary rules (threshold, group disclosure, p%, dominance, negatives, insider, linked) and rounding.

Reasons are stable codes; a cell gets the first failing rule in the order of ``COST_ORDER``. The p%
and dominance rules judge the absolute per-child amounts (``abs_sum``, and ``top1``/``top2`` of
|amount|), as GaussSuppression's MagnitudeRule does for tables with negative contributions: a refund
neither hides a cell by being there nor shelters a large payment by cancelling it. A cost whose net
sum is negative is never published (``negative_sum``), and a refund whose size is unknown (a schema-1
partial) hides every cell it is in (``negative``). Linked
suppression: a cost cell is hidden when the count that describes the same children is primarily
hidden (``clienten_zorgtype`` X for kosten X, ``jeugdbescherming``/``jeugdreclassering`` for those
cost categories, ``clienten`` for ``totaal``), so neither the sum nor a mean can be shown for
fewer than ``threshold`` children. Counts published after secondary suppression are always ≥ threshold.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from shared.codes import (
    CLIENT_ZORGTYPES, CLIENTEN, CLIENTEN_AANBIEDER, CLIENTEN_CONSORTIUM, CLIENTEN_ZORGINTENSITEIT, CLIENTEN_ZORGTYPE,
    JEUGDBESCHERMING, JEUGDRECLASSERING, KOSTEN, KOSTEN_TOTAAL, LEERLINGEN_ONDERSTEUNING, LEERLINGEN_ONDERSTEUNING_SOORT,
    NIEUWE_CLIENTEN, NIEUWE_CLIENTEN_LEEFTIJD, NIEUWE_CLIENTEN_VERWIJZER,
    CLIENTEN_VERGELEKEN, JEUGDHULP_ZONDER_ONDERSTEUNING, ONDERSTEUNING_EN_JEUGDHULP, ONDERSTEUNING_VERGELEKEN,
    ONDERSTEUNING_ZONDER_JEUGDHULP,
)

from .config import GateConfig
from .frames import (
    DOMINANCE, GROUP_DISCLOSURE, INSIDER_COST, INSIDER_COUNT, KEY, LINKED_COUNT, NEGATIVE, NEGATIVE_SUM, OVERLAP_VARIABLE,
    P_PERCENT, PROVIDER_AGGREGATE, THRESHOLD, VESTIGING,
)
from .coverage import NOT_COMPARED
from .overlap import OVERLAP

COST_ORDER = (NEGATIVE, NEGATIVE_SUM, THRESHOLD, LINKED_COUNT, INSIDER_COST, P_PERCENT, DOMINANCE)
#: Distribution rows (part measure, total measure) that the group-disclosure rule reads.
DISTRIBUTIONS = ((NIEUWE_CLIENTEN_VERWIJZER, NIEUWE_CLIENTEN), (NIEUWE_CLIENTEN_LEEFTIJD, NIEUWE_CLIENTEN),
                 (CLIENTEN_ZORGTYPE, CLIENTEN), (CLIENTEN_AANBIEDER, CLIENTEN),
                 (CLIENTEN_ZORGINTENSITEIT, CLIENTEN), (CLIENTEN_CONSORTIUM, CLIENTEN),
                 (LEERLINGEN_ONDERSTEUNING_SOORT, LEERLINGEN_ONDERSTEUNING),
                 (ONDERSTEUNING_EN_JEUGDHULP, CLIENTEN_VERGELEKEN), (JEUGDHULP_ZONDER_ONDERSTEUNING, CLIENTEN_VERGELEKEN),
                 (ONDERSTEUNING_EN_JEUGDHULP, ONDERSTEUNING_VERGELEKEN), (ONDERSTEUNING_ZONDER_JEUGDHULP, ONDERSTEUNING_VERGELEKEN))


def round_to(values: np.ndarray, base: int) -> np.ndarray:
    """Round half up to a multiple of ``base`` (integers in, integers out; exact for negatives too)."""
    v = np.asarray(values, dtype=np.int64)
    return ((v + base // 2) // base) * base


def rounding_window(base: int) -> tuple[int, int]:
    """(below, above): a value v with round_to(v) = r lies in [r - below, r + above]."""
    return base // 2, base - 1 - base // 2


def primary_reasons(cells: pd.DataFrame, config: GateConfig) -> np.ndarray:
    """The primary-suppression reason per cell ("" when it passes every rule)."""
    n = len(cells)
    reason = np.full(n, "", dtype=object)
    measure = cells["measure"].to_numpy()
    value = cells["value"].to_numpy(np.int64)
    is_cost = measure == KOSTEN
    t = config.threshold

    # The auditor's overlap variables are no figure at all: never published.
    reason[measure == OVERLAP] = OVERLAP_VARIABLE
    # Counts: threshold, then the optional insider rule (combined minus the largest node's share).
    count = ~is_cost & (measure != OVERLAP)
    reason[count & (value < t)] = THRESHOLD
    # The auditor's not-compared clients (coverage.py): never published; a small group of them (1 to
    # threshold − 1) keeps the threshold's range, none or a large group nothing (docs/disclosure-control.md).
    nc = measure == NOT_COMPARED
    reason[nc & (value == 0)] = OVERLAP_VARIABLE
    reason[nc & (reason == "")] = OVERLAP_VARIABLE
    # Providers are published per school only: a provider's school-type or regional total next to
    # its published schools would bound the schools it is absent from (no cells at all, so the
    # auditor cannot protect them), e.g. "at most 4 children at all SBO schools together".
    level = cells["level"].to_numpy()
    reason[(measure == CLIENTEN_AANBIEDER) & (level != VESTIGING) & (reason == "")] = PROVIDER_AGGREGATE
    reason[count & (reason == "") & group_disclosure(cells, config)] = GROUP_DISCLOSURE
    if config.count_insider_rule:
        rest = value - cells["max_node_value"].to_numpy(np.int64)
        reason[count & (reason == "") & (rest > 0) & (rest < t)] = INSIDER_COUNT

    # Linked: the count row describing the same children as a cost cell.
    linked = _linked_count_key(cells)
    hidden_count = pd.Series(count & (reason != ""), index=pd.MultiIndex.from_frame(cells[KEY]))
    linked_hidden = hidden_count.reindex(linked).fillna(False).to_numpy(dtype=bool)

    contributors = cells["contributors"].to_numpy(np.int64)
    # Absolute amounts: top1/top2 of |per-child amount| and their sum over all children of the cell.
    top1 = cells["top1"].to_numpy(np.int64)
    top2 = cells["top2"].to_numpy(np.int64)
    abs_sum = cells["abs_sum"].to_numpy(np.int64)
    rest_contributors = contributors - cells["max_node_contributors"].to_numpy(np.int64)
    dominant = 100 * (top1 + top2) > config.dominance_k * abs_sum  # (2, k)-dominance; config allows n = 2 only
    tests = {
        NEGATIVE: cells["legacy_negatives"].to_numpy(np.int64) > 0,
        NEGATIVE_SUM: value < 0,
        THRESHOLD: contributors < t,
        LINKED_COUNT: linked_hidden,
        INSIDER_COST: (rest_contributors > 0) & (rest_contributors < 3) if config.cost_insider_rule else np.zeros(n, bool),
        P_PERCENT: 100 * (abs_sum - top1 - top2) < config.p_percent * top1,
        DOMINANCE: dominant,
    }
    for code in COST_ORDER:
        reason[is_cost & (reason == "") & tests[code]] = code
    return reason


def _linked_count_key(cells: pd.DataFrame) -> pd.MultiIndex:
    """For every cell, the key of the count cell a cost cell is linked to (a dummy key otherwise)."""
    category = cells["category"].to_numpy(dtype=object)
    measure = np.full(len(cells), "-", dtype=object)
    cat = np.full(len(cells), "-", dtype=object)
    is_cost = cells["measure"].to_numpy() == KOSTEN
    client = is_cost & np.isin(category, np.array(CLIENT_ZORGTYPES, dtype=object))
    measure[client], cat[client] = CLIENTEN_ZORGTYPE, category[client]
    for sep in (JEUGDBESCHERMING, JEUGDRECLASSERING):
        m = is_cost & (category == sep)
        measure[m], cat[m] = sep, ""
    m = is_cost & (category == KOSTEN_TOTAAL)
    measure[m], cat[m] = CLIENTEN, ""
    return pd.MultiIndex.from_arrays([cells["level"].to_numpy(), cells["unit"].to_numpy(),
                                      cells["schooljaar"].to_numpy(), measure, cat])


def group_disclosure(cells: pd.DataFrame, config: GateConfig) -> np.ndarray:
    """Categories that hold (nearly) all children of their row: hidden, so no reader learns it.

    A category is group-disclosive when it holds at least ``group_disclosure_percent`` of its row's
    total, or when both round to the same shown value (a reader could not tell it from "all"). The
    rows are the distributions a page shows: care types, referrers and ages over their totals,
    providers over the school's clients, the soort groups over the pupils with support, and the overlap
    figures' two rows ("both" and "support only" over the compared support, "both" and "care only" over
    the compared clients: nearly all with youth care tells it of each supported pupil).
    """
    flag = np.zeros(len(cells), dtype=bool)
    key = pd.MultiIndex.from_frame(cells[KEY])
    values = pd.Series(cells["value"].to_numpy(np.int64), index=key)
    measure = cells["measure"].to_numpy()
    for part, total in DISTRIBUTIONS:
        sel = np.flatnonzero(measure == part)
        if not len(sel):
            continue
        sub = cells.iloc[sel]
        tkey = pd.MultiIndex.from_arrays([sub["level"].to_numpy(), sub["unit"].to_numpy(), sub["schooljaar"].to_numpy(),
                                          np.full(len(sub), total, dtype=object), np.full(len(sub), "", dtype=object)])
        tot = values.reindex(tkey).fillna(0).to_numpy(np.int64)
        v = sub["value"].to_numpy(np.int64)
        share = 100 * v >= config.group_disclosure_percent * tot
        same_shown = round_to(v, config.rounding_base) == round_to(tot, config.rounding_base)
        flag[sel[(tot > 0) & (v > 0) & (share | same_shown)]] = True
    return flag


def linked_count_index(cells: pd.DataFrame) -> np.ndarray:
    """For every cost cell, the row position of the count cell that describes the same children (-1
    where there is none, and for every other cell)."""
    position = pd.Series(np.arange(len(cells)), index=pd.MultiIndex.from_frame(cells[KEY]))
    found = position.reindex(_linked_count_key(cells)).to_numpy()
    return np.where(np.isnan(found), -1, found).astype(np.int64)
