"""The fixed catalogue of published tables: which cells exist and which additive lines bind them.

Cells: every unit (vestiging, schooltype, regio) in ``combined`` gets every fixed category of the
count measures (missing = 0): the fine lists, the groups of the catalogue's groupings
(shared/groupings.py; the care-intensity groups) and, in a school year with consortium cells, every consortium that occurs;
and every ``kosten`` category when the school year has cost data. The support cells of the SWV nodes
(``leerlingen_ondersteuning`` and every soort group of ``leerlingen_ondersteuning_soort``) exist at the units
an SWV counted (its schools, 0 included, and their school type and the regio), and nowhere else: a school
no participating SWV counts has no support figure at all, rather than a zero.
``clienten_aanbieder`` cells exist only where a provider served the unit (non-zero). The release lists
a provider cell only when it is published: listing a hidden one would reveal that the provider served
a pupil at that school. A reader therefore cannot tell an absent provider cell from a hidden one (the
auditor gives hidden provider cells the bounds [0, ∞)); the auditor fixes absent cells at their true
value 0, a restriction of the attacker's problem, which keeps the audit sound.

Lines (each "total = sum of parts"):
- hierarchy columns, per (schooljaar, measure, category): vestigingen of a type → the type cell;
  types → the regio cell;
- rows, per unit: ``nieuwe_clienten_verwijzer`` → ``nieuwe_clienten``; ``nieuwe_clienten_leeftijd`` →
  ``nieuwe_clienten`` (the two rows share that total; with N ≤ C they are in the distinct counts'
  family); ``kosten`` categories → ``kosten/totaal``; ``leerlingen_ondersteuning_soort`` → ``leerlingen_ondersteuning`` (each pupil counts
  under one soort group: a family of one row, like the costs, and so a network per school type);
- the inequalities between the distinct counts (``clienten``, care types, care-intensity groups,
  consortia, providers) and across measures (``nieuwe_clienten`` ≤ ``clienten``; ``clienten``,
  ``jeugdbescherming``, ``jeugdreclassering`` ≤ ``leerlingen``), as lines with an overlap variable
  (overlap.py): with the new clients' rows and the pupils, one family per school year.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping

import numpy as np
import pandas as pd

from shared.codes import (
    AGE_BANDS, CLIENT_ZORGTYPES, CLIENTEN, CLIENTEN_AANBIEDER, CLIENTEN_CONSORTIUM, CLIENTEN_ZORGINTENSITEIT,
    CLIENTEN_ZORGTYPE, JEUGDBESCHERMING, JEUGDRECLASSERING, KOSTEN, KOSTEN_CATEGORIES, KOSTEN_TOTAAL, LEERLINGEN,
    LEERLINGEN_ONDERSTEUNING, LEERLINGEN_ONDERSTEUNING_SOORT, MEASURES, NIEUWE_CLIENTEN, NIEUWE_CLIENTEN_LEEFTIJD,
    NIEUWE_CLIENTEN_VERWIJZER, ONDERSTEUNING_GROUP_CODES, SUPPORT_MEASURES, VERWIJZERS,
    CLIENTEN_VERGELEKEN, JEUGDHULP_ZONDER_ONDERSTEUNING, ONDERSTEUNING_EN_JEUGDHULP, ONDERSTEUNING_VERGELEKEN,
    ONDERSTEUNING_ZONDER_JEUGDHULP, OVERLAP_MEASURES,
)
from shared.groupings import DEFAULT_GROUPINGS, Groupings

from .frames import COMBINED_COLUMNS, KEY, LEVELS, REGIO, SCHOOLTYPE, VESTIGING, shared_objects
from .flows import NOT_IN_NETWORK, ROW_PART, ROW_TOTAL_TO_COLUMN, ROW_TOTAL_TO_SECOND_ROW, SECOND_ROW_PART
from .coverage import NOT_COMPARED
from .overlap import DISTINCT_FAMILY, OVERLAP, overlap_lines


@dataclass(frozen=True)
class Catalogue:
    """The code tables a release is built with: the groupings and the provider (AGB) → consortium table."""

    groupings: Groupings = DEFAULT_GROUPINGS
    consortia: Mapping[str, str] = field(default_factory=dict)

    def fixed_count_cells(self) -> tuple[tuple[str, str], ...]:
        return FIXED_COUNT_CELLS + tuple(
            (CLIENTEN_ZORGINTENSITEIT, c) for c in self.groupings.zorgintensiteit.counted_codes())


DEFAULT_CATALOGUE = Catalogue()
#: Measures whose categories come from the groupings table: only the catalogue's groups are cells.
GROUP_MEASURES = frozenset({CLIENTEN_ZORGINTENSITEIT})

FIXED_COUNT_CELLS: tuple[tuple[str, str], ...] = (
    ((LEERLINGEN, ""), (CLIENTEN, ""), (NIEUWE_CLIENTEN, ""), (JEUGDBESCHERMING, ""), (JEUGDRECLASSERING, ""))
    + tuple((CLIENTEN_ZORGTYPE, z) for z in CLIENT_ZORGTYPES)
    + tuple((NIEUWE_CLIENTEN_VERWIJZER, v) for v in VERWIJZERS)
    + tuple((NIEUWE_CLIENTEN_LEEFTIJD, a) for a, _, _ in AGE_BANDS)
)
FIXED_COST_CELLS: tuple[tuple[str, str], ...] = tuple((KOSTEN, c) for c in KOSTEN_CATEGORIES)
#: The support cells of every unit an SWV counted: the total and every soort group.
FIXED_SUPPORT_CELLS: tuple[tuple[str, str], ...] = ((LEERLINGEN_ONDERSTEUNING, ""),) + tuple(
    (LEERLINGEN_ONDERSTEUNING_SOORT, g) for g in ONDERSTEUNING_GROUP_CODES)
#: Row lines: (part measure, total measure, total category, part categories excluded).
ROW_LINES = (
    (NIEUWE_CLIENTEN_VERWIJZER, NIEUWE_CLIENTEN, ""),
    (NIEUWE_CLIENTEN_LEEFTIJD, NIEUWE_CLIENTEN, ""),
    (KOSTEN, KOSTEN, KOSTEN_TOTAAL),
    (LEERLINGEN_ONDERSTEUNING_SOORT, LEERLINGEN_ONDERSTEUNING, ""),
)
NEW_CLIENT_FAMILY = frozenset({NIEUWE_CLIENTEN, NIEUWE_CLIENTEN_VERWIJZER, NIEUWE_CLIENTEN_LEEFTIJD})
#: The SWVs' support cells: one family per school year (their row and its hierarchy columns).
SUPPORT_FAMILY = SUPPORT_MEASURES
#: The overlap figures (coverage.py) and the auditor's not-compared clients: in the distinct counts' family,
#: since "care only" + "both" = the compared clients, and those + the not compared = ``clienten``.
OVERLAP_FAMILY = frozenset(OVERLAP_MEASURES) | {NOT_COMPARED}
#: Every measure that can be a cell: the nodes' and the overlap figures the hub makes.
CELL_MEASURES = frozenset(MEASURES) | frozenset(OVERLAP_MEASURES)
_LEVEL_ORDER = {lv: i for i, lv in enumerate(LEVELS)}
_NUM = COMBINED_COLUMNS[len(KEY) + 1:]


def network_role(measure: pd.Series, category: pd.Series) -> np.ndarray:
    """Each cell's arc in its type's network (flows.py): how ``ROW_LINES`` bind the two-dimensional families.

    The new clients' rows keep their arcs although they are in the distinct counts' family (N ≤ C,
    overlap.py): the audit's first pass holds the rest of that family at its true values, which leaves
    their rows a network with N capped by the slack of N ≤ C (``Auditor.network_bounds``)."""
    m = measure.to_numpy(dtype=object)
    c = category.to_numpy(dtype=object)
    return np.select(
        [m == NIEUWE_CLIENTEN_VERWIJZER, m == NIEUWE_CLIENTEN, m == NIEUWE_CLIENTEN_LEEFTIJD,
         (m == KOSTEN) & (c == KOSTEN_TOTAAL), m == KOSTEN,
         m == LEERLINGEN_ONDERSTEUNING, m == LEERLINGEN_ONDERSTEUNING_SOORT],
        [ROW_PART, ROW_TOTAL_TO_SECOND_ROW, SECOND_ROW_PART, ROW_TOTAL_TO_COLUMN, ROW_PART,
         ROW_TOTAL_TO_COLUMN, ROW_PART],
        default=NOT_IN_NETWORK).astype(np.int8)


def family_of(measure: pd.Series, category: pd.Series) -> pd.Series:
    """Cells bound by lines share a family; families never share a line (independent audits)."""
    fam = measure.astype(str) + "|" + category.astype(str)
    # The new clients' rows, the pupils and the distinct counts are bound by inequalities (N ≤ C ≤ L,
    # overlap.py): one family.
    fam = fam.where(~measure.isin(DISTINCT_FAMILY | NEW_CLIENT_FAMILY | OVERLAP_FAMILY), CLIENTEN)
    fam = fam.where(~measure.isin(SUPPORT_FAMILY), LEERLINGEN_ONDERSTEUNING)
    return fam.where(measure != KOSTEN, KOSTEN)


@dataclass
class Table:
    """One release's cells (sorted canonically) and its lines as CSR arrays over cell ids."""

    cells: pd.DataFrame  # KEY + parent + numeric columns + family, unit_id; row position = cell id
    line_ptr: np.ndarray  # line i's members are line_idx[line_ptr[i]:line_ptr[i+1]]
    line_idx: np.ndarray
    line_coef: np.ndarray  # +1 for parts, -1 for the total
    cell_ptr: np.ndarray  # inverse: cell c's lines are cell_lines[cell_ptr[c]:cell_ptr[c+1]]
    cell_lines: np.ndarray

    @property
    def n_lines(self) -> int:
        return len(self.line_ptr) - 1

    def lines_of(self, cell: int) -> np.ndarray:
        return self.cell_lines[self.cell_ptr[cell]:self.cell_ptr[cell + 1]]

    def members(self, line: int) -> tuple[np.ndarray, np.ndarray]:
        s, e = self.line_ptr[line], self.line_ptr[line + 1]
        return self.line_idx[s:e], self.line_coef[s:e]


def _universe(combined: pd.DataFrame, catalogue: Catalogue = DEFAULT_CATALOGUE) -> pd.DataFrame:
    units = combined[["level", "unit", "schooljaar", "parent"]].drop_duplicates()
    fixed = pd.DataFrame(catalogue.fixed_count_cells(), columns=["measure", "category"])
    frames = [units.merge(fixed, how="cross")]
    # Consortia: every consortium that occurs in a school year, at every unit of that year (0 included),
    # so a school a consortium does not serve has a cell like any other.
    cons = combined.loc[combined["measure"] == CLIENTEN_CONSORTIUM, ["schooljaar", "category"]].drop_duplicates()
    if len(cons):
        frames.append(units.merge(cons.assign(measure=CLIENTEN_CONSORTIUM), on="schooljaar"))
    cost_years = combined.loc[combined["measure"] == KOSTEN, "schooljaar"].unique()
    if len(cost_years):
        cost = pd.DataFrame(FIXED_COST_CELLS, columns=["measure", "category"])
        frames.append(units[units["schooljaar"].isin(cost_years)].merge(cost, how="cross"))
    # Support: every soort group at each unit an SWV counted (it sent a total there, 0 included).
    counted = combined.loc[combined["measure"] == LEERLINGEN_ONDERSTEUNING, ["level", "unit", "schooljaar", "parent"]]
    if len(counted):
        support = pd.DataFrame(FIXED_SUPPORT_CELLS, columns=["measure", "category"])
        frames.append(counted.drop_duplicates().merge(support, how="cross"))
    grid = pd.concat(frames, ignore_index=True)
    cells = grid.merge(combined, on=KEY + ["parent"], how="outer")
    # Only measures this hub knows are cells: a lenient re-read of an old submission may carry others.
    cells = cells[cells["measure"].isin(CELL_MEASURES).to_numpy()]
    # Only the catalogue's groups are cells: a group a node sent under another table (or of a single
    # category) would be a figure whose relation to its parts the auditor does not know.
    known = set(catalogue.fixed_count_cells())
    is_group = cells["measure"].isin(GROUP_MEASURES).to_numpy()
    if is_group.any():
        pairs = list(zip(cells["measure"].to_numpy(dtype=object)[is_group], cells["category"].to_numpy(dtype=object)[is_group]))
        drop = np.zeros(len(cells), dtype=bool)
        drop[np.flatnonzero(is_group)] = [p not in known for p in pairs]
        cells = cells[~drop]
    for c in _NUM:
        cells[c] = cells[c].fillna(0).astype("int64")
    # A provider cell exists only where the provider served pupils; a zero one is no cell at all.
    cells = cells[~((cells["measure"] == CLIENTEN_AANBIEDER) & (cells["value"] == 0))]
    cells["_lv"] = cells["level"].map(_LEVEL_ORDER)
    cells = cells.sort_values(["_lv", "unit", "schooljaar", "measure", "category"], kind="mergesort")
    cells = cells.drop(columns="_lv").reset_index(drop=True)
    for c in KEY + ["parent"]:
        cells[c] = shared_objects(cells[c])
    return cells


def _csr(line_ids: np.ndarray, members: np.ndarray, coefs: np.ndarray, n: int):
    order = np.lexsort((members, line_ids))
    line_ids, members, coefs = line_ids[order], members[order], coefs[order]
    ptr = np.zeros(n + 1, dtype=np.int64)
    np.add.at(ptr, line_ids + 1, 1)
    return np.cumsum(ptr), members.astype(np.int64), coefs.astype(np.int8)


def build_table(combined: pd.DataFrame, catalogue: Catalogue = DEFAULT_CATALOGUE) -> Table:
    """The catalogue's cells and lines for one combined frame."""
    cells = _universe(combined, catalogue)
    base_cid = pd.Series(np.arange(len(cells)), index=pd.MultiIndex.from_frame(cells[KEY]))
    overlap, o_lines, o_members, o_coefs = overlap_lines(cells, base_cid, catalogue.groupings, catalogue.consortia)
    if len(overlap):
        cells = pd.concat([cells, overlap], ignore_index=True)
    not_compared = not_compared_cells(cells)
    if len(not_compared):
        cells = pd.concat([cells, not_compared], ignore_index=True)
    n = len(cells)
    cid = pd.Series(np.arange(n), index=pd.MultiIndex.from_frame(cells[KEY]))
    cells["family"] = (cells["schooljaar"].astype(str) + "|" + family_of(cells["measure"], cells["category"])).to_numpy()
    # A school year with overlap figures: "both" binds the support (its rows) to the clients (V ≤ C), so
    # the support family, the figures and the distinct counts are one family, audited without networks.
    cells["unit_id"] = pd.factorize(cells["schooljaar"].astype(str) + "|" + cells["level"] + "|" + cells["unit"])[0]

    totals, parts = [], []
    # Hierarchy columns (the overlap variables have none: theirs follow from their members').
    # The not-compared clients neither: a type's holds its uncovered schools' clients too.
    child = cells[(cells["level"] != REGIO) & ~cells["measure"].isin([OVERLAP, NOT_COMPARED])]
    parent_level = np.where(child["level"] == VESTIGING, SCHOOLTYPE, REGIO)
    pkey = pd.MultiIndex.from_arrays([parent_level, child["parent"].to_numpy(), child["schooljaar"].to_numpy(),
                                      child["measure"].to_numpy(), child["category"].to_numpy()])
    tot = cid.reindex(pkey).to_numpy()
    ok = ~np.isnan(tot)
    totals.append(tot[ok].astype(np.int64))
    parts.append(child.index.to_numpy()[ok])

    def row(part: pd.DataFrame, total_measure, total_category) -> None:
        tkey = pd.MultiIndex.from_arrays([part["level"].to_numpy(), part["unit"].to_numpy(), part["schooljaar"].to_numpy(),
                                          np.broadcast_to(np.asarray(total_measure, dtype=object), len(part)),
                                          np.broadcast_to(np.asarray(total_category, dtype=object), len(part))])
        tot = cid.reindex(tkey).to_numpy()
        ok = ~np.isnan(tot)
        totals.append(tot[ok].astype(np.int64))
        parts.append(part.index.to_numpy()[ok])

    # Rows within a unit.
    for part_measure, total_measure, total_category in ROW_LINES:
        sel = cells["measure"] == part_measure
        if total_measure == part_measure:
            sel &= cells["category"] != total_category
        row(cells[sel], total_measure, total_category)
    # The overlap figures' rows (coverage.py), at every unit with them: "support only" + "both" = the
    # compared support, "care only" + "both" = the compared clients, the compared + the not compared =
    # ``clienten``. (A covered school's compared support is its support, a cell of the support family:
    # world.py holds both at their true value, known_bounds below.)
    measure = cells["measure"]
    row(cells[measure.isin([ONDERSTEUNING_ZONDER_JEUGDHULP, ONDERSTEUNING_EN_JEUGDHULP])], ONDERSTEUNING_VERGELEKEN, "")
    row(cells[measure.isin([JEUGDHULP_ZONDER_ONDERSTEUNING, ONDERSTEUNING_EN_JEUGDHULP])], CLIENTEN_VERGELEKEN, "")
    row(cells[measure.isin([CLIENTEN_VERGELEKEN, NOT_COMPARED])], CLIENTEN, "")
    # One line per (kind, total): key the kind into the line id so verwijzer and leeftijd stay separate.
    kinds = np.concatenate([np.full(len(t), k, dtype=np.int64) for k, t in enumerate(totals)])
    tot_all = np.concatenate(totals)
    part_all = np.concatenate(parts)
    line_key = kinds * n + tot_all
    line_codes, uniq = pd.factorize(pd.Series(line_key), sort=True)
    n_lines = len(uniq)
    line_tot = (np.asarray(uniq) % n).astype(np.int64)
    lids = np.concatenate([line_codes, np.arange(n_lines)])
    mems = np.concatenate([part_all, line_tot])
    coefs = np.concatenate([np.ones(len(part_all), dtype=np.int8), -np.ones(n_lines, dtype=np.int8)])
    if len(o_lines):
        o_codes, o_uniq = pd.factorize(pd.Series(o_lines), sort=True)
        lids = np.concatenate([lids, n_lines + o_codes])
        mems = np.concatenate([mems, o_members])
        coefs = np.concatenate([coefs, o_coefs])
        n_lines += len(o_uniq)
    # A line is a fact only if the data satisfy it: a row whose parts do not add up to its total (an
    # inconsistent partial) is dropped, never handed to the auditor as if the attacker could use it.
    value = cells["value"].to_numpy(np.int64)
    residual = np.zeros(n_lines, dtype=np.int64)
    np.add.at(residual, lids, coefs.astype(np.int64) * value[mems])
    holds = residual == 0
    cells["role"] = network_role(cells["measure"], cells["category"])
    known_bounds(cells)
    keep = holds[lids]
    renumber = np.cumsum(holds) - 1
    lids, mems, coefs = renumber[lids[keep]], mems[keep], coefs[keep]
    n_lines = int(holds.sum())
    line_ptr, line_idx, line_coef = _csr(lids.astype(np.int64), mems, coefs, n_lines)
    # Inverse index: lines of each cell.
    line_of_member = np.repeat(np.arange(n_lines), np.diff(line_ptr))
    order = np.argsort(line_idx, kind="stable")
    cell_ptr = np.zeros(n + 1, dtype=np.int64)
    np.add.at(cell_ptr, line_idx + 1, 1)
    return Table(cells=cells, line_ptr=line_ptr, line_idx=line_idx, line_coef=line_coef,
                 cell_ptr=np.cumsum(cell_ptr), cell_lines=line_of_member[order])


def not_compared_cells(cells: pd.DataFrame) -> pd.DataFrame:
    """Per unit with compared clients, the auditor's cell of its clients less the compared ones (coverage.py's
    ``NOT_COMPARED``), in ``cells``' columns: a school's, the children of municipalities not compared there;
    a type's and the regio's, those and every client at their schools without figures."""
    compared = cells[cells["measure"] == CLIENTEN_VERGELEKEN]
    if not len(compared):
        return cells.iloc[0:0].copy()
    clients = cells[cells["measure"] == CLIENTEN].set_index(["level", "unit", "schooljaar"])["value"]
    new = compared.copy()
    total = clients.reindex(pd.MultiIndex.from_frame(compared[["level", "unit", "schooljaar"]])).to_numpy()
    for col in _NUM:
        new[col] = 0
    new["measure"] = NOT_COMPARED
    new["value"] = (np.nan_to_num(total).astype(np.int64) - compared["value"].to_numpy(np.int64))
    new["contributors"] = new["value"]
    return new.reset_index(drop=True)


def known_bounds(cells: pd.DataFrame) -> None:
    """Add what the overlap figures tell beyond their lines, per cell (in place; world.py's ``attacker_bounds``).

    ``floor_nodes``: a school's figures exist only where each covered node has at least the threshold of
    children there (coverage.py), so its compared clients are at least threshold × the covered
    municipalities, and its compared support threshold × the covered SWVs (more than a reader knows: the
    auditor's problem is a restriction, so sound). ``pinned``: a covered school's support is a cell of the
    support family and its compared support (the same number) one of the distinct counts' family; the
    families share no line, so each is audited with the other at its true value: both held at their true
    value (a restriction for either family's targets, sound). ``never_small``: the compared clients and
    support at every level, and the support and clients of a unit with a covered school (itself or one
    below it), are known to hold at least the threshold, so a partner among them cannot be told from a
    small cell (world.py's ``targets``).
    """
    n = len(cells)
    measure = cells["measure"].to_numpy(dtype=object)
    cells["floor_nodes"] = np.zeros(n, dtype=np.int64)
    cells["pinned"] = np.zeros(n, dtype=bool)
    cells["never_small"] = np.isin(measure, [CLIENTEN_VERGELEKEN, ONDERSTEUNING_VERGELEKEN])
    school = cells["level"].to_numpy(dtype=object) == VESTIGING
    compared = school & np.isin(measure, [CLIENTEN_VERGELEKEN, ONDERSTEUNING_VERGELEKEN])
    if not compared.any():
        return
    nodes = cells["nodes"].to_numpy(np.int64)
    floor = np.zeros(n, dtype=np.int64)
    floor[compared] = nodes[compared]
    unit = cells["unit"].to_numpy(dtype=object)
    jaar = cells["schooljaar"].to_numpy(dtype=object)
    level = cells["level"].to_numpy(dtype=object)
    with_figures = measure == CLIENTEN_VERGELEKEN  # every unit with a covered school (itself, or below)
    covered = set(zip(level[with_figures], unit[with_figures], jaar[with_figures]))
    at_covered = np.array([(lv, u, j) in covered for lv, u, j in zip(level, unit, jaar)], dtype=bool)
    pinned = school & at_covered & np.isin(measure, [LEERLINGEN_ONDERSTEUNING, ONDERSTEUNING_VERGELEKEN])
    never_small = cells["never_small"].to_numpy().copy()
    # At least one covered school's ≥ threshold below: the unit's support and clients are never small.
    never_small[at_covered & np.isin(measure, [LEERLINGEN_ONDERSTEUNING, CLIENTEN])] = True
    cells["floor_nodes"], cells["pinned"], cells["never_small"] = floor, pinned, never_small
