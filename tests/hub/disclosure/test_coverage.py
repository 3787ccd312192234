"""The overlap figures through the gate: which schools get them (coverage.py), their rows and what their
existence tells (tables.py), and the independent attacker against them: small groups, an overlap equal
to the support, a tiny side, a late correction against the earlier release, a naive publication."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from hub.disclosure import GateConfig, apply_gate, combine_cells
from hub.disclosure.coverage import NOT_COMPARED, count_keys, coverage_of, overlap_contributions
from hub.disclosure.flows import NOT_IN_NETWORK, ROW_TOTAL_TO_COLUMN
from hub.disclosure.frames import PUBLISHED
from hub.disclosure.rules import primary_reasons
from hub.disclosure.tables import build_table
from hub.services.overlap import COUNT_COLUMNS
from shared.codes import (
    CLIENTEN, CLIENTEN_VERGELEKEN, JEUGDHULP_ZONDER_ONDERSTEUNING, LEERLINGEN_ONDERSTEUNING, LEERLINGEN_ONDERSTEUNING_SOORT,
    ONDERSTEUNING_EN_JEUGDHULP, ONDERSTEUNING_VERGELEKEN, ONDERSTEUNING_ZONDER_JEUGDHULP, OVERLAP_MEASURES,
)

from .attacker import Attack, narrowed, public
from .helpers import JAAR, T, contributions, key, parents, row, schools, truth

BOTH, SUPPORT_ONLY, CARE_ONLY, COMPARED = (ONDERSTEUNING_EN_JEUGDHULP, ONDERSTEUNING_ZONDER_JEUGDHULP,
                                           JEUGDHULP_ZONDER_ONDERSTEUNING, CLIENTEN_VERGELEKEN)
SUPPORT, COMPARED_SUPPORT = LEERLINGEN_ONDERSTEUNING, ONDERSTEUNING_VERGELEKEN
#: Submission ids per node in these tests (a count is tied to the two submissions).
SUBS = {"PO2607": 1, "VO2607": 2, "0356": 3, "0357": 4, "0358": 5}


class School:
    """One school's children as sets: who gets support from which SWV, who is a client of which municipality."""

    def __init__(self, vest: str, pupils: int, support: dict[str, set[int]], clients: dict[str, set[int]]):
        self.vest, self.pupils, self.support, self.clients = vest, pupils, support, clients

    def cells(self) -> list[tuple]:
        out = [(g, self.vest, "leerlingen", "", self.pupils // len(self.clients)) for g in self.clients]
        out += [(g, self.vest, CLIENTEN, "", len(c)) for g, c in self.clients.items()]
        for s, kids in self.support.items():
            out += [(s, self.vest, SUPPORT, "", len(kids)), (s, self.vest, LEERLINGEN_ONDERSTEUNING_SOORT, "arrangement", len(kids))]
        return out

    def counts(self, minimum: int = T) -> list[tuple]:
        """What the exchange counts: |S ∩ C| per pair whose two sets both have at least ``minimum`` children."""
        return [(self.vest, s, g, SUBS[s], SUBS[g], len(ks & kc))
                for s, ks in self.support.items() for g, kc in self.clients.items()
                if len(ks) >= minimum and len(kc) >= minimum]


def _school(rng: np.random.Generator, vest: str, n_support: int, n_clients: dict[str, int], share: float,
            swv: str = "PO2607") -> School:
    """``share``: the part of the supported pupils who are also clients (drawn from the clients)."""
    kids = np.arange(2000)
    clients, start = {}, 0
    for g, n in n_clients.items():
        clients[g] = set(int(k) for k in kids[start:start + n])
        start += n
    pool = sorted(set().union(*clients.values()))
    n_both = min(int(round(share * n_support)), len(pool))
    both = set(int(k) for k in rng.choice(pool, n_both, replace=False)) if n_both else set()
    rest = set(int(k) for k in kids[start:start + n_support - n_both])
    return School(vest, 400, {swv: both | rest}, clients)


def _frames(schools_: list[School], minimum: int = T):
    cells = [c for s in schools_ for c in s.cells()]
    counts = pd.DataFrame([c for s in schools_ for c in s.counts(minimum)], columns=list(COUNT_COLUMNS))
    return contributions(cells), counts


def _gate(schools_: list[School], types: dict[str, str], history=(), earlier=(), counts=None, config=None):
    contrib, all_counts = _frames(schools_)
    overlap = overlap_contributions(contrib, all_counts if counts is None else counts, JAAR, T, earlier)
    combined = combine_cells(pd.concat([contrib, overlap.rows], ignore_index=True), schools(types))
    result = apply_gate(combined, config or GateConfig(), history=history)
    assert result.audit["failed"] == 0
    return combined, result, overlap


def _hidden_keys(rel: pd.DataFrame, measures) -> list[tuple]:
    """The hidden cells of ``measures`` that must keep the threshold's width: not the compared clients and
    support, nor the support and clients of a unit with a covered school (itself or one below it: the
    units with a compared-clients row). A reader knows those hold at least the threshold (the figures
    exist), so they are never small and a partner among them keeps no width (docs/disclosure-control.md)."""
    hidden = rel[rel["measure"].isin(list(measures)) & (rel["status"] != PUBLISHED)]
    covered = set(zip(*[rel.loc[rel["measure"] == COMPARED, c] for c in ("level", "unit")]))
    at_covered = np.array([(lv, u) in covered for lv, u in zip(hidden["level"], hidden["unit"])], dtype=bool)
    known = hidden["measure"].isin([COMPARED, COMPARED_SUPPORT]) | (
        at_covered & hidden["measure"].isin([SUPPORT, CLIENTEN]))
    hidden = hidden[~known]
    return [tuple(k) for k in hidden[["level", "unit", "schooljaar", "measure", "category"]].itertuples(index=False)]


TYPES = {"01AA00": "BO", "02BB00": "BO", "03CC00": "BO", "04DD00": "SBO", "05EE00": "SBO"}


def _region(rng=None) -> list[School]:
    rng = rng or np.random.default_rng(3)
    return [
        _school(rng, "01AA00", 45, {"0356": 40, "0357": 12}, 0.4),
        _school(rng, "02BB00", 38, {"0356": 30, "0357": 4}, 0.3),  # 0357 has 4 clients here: not compared
        _school(rng, "03CC00", 60, {"0356": 25, "0357": 22}, 0.15),
        _school(rng, "04DD00", 70, {"0356": 45, "0357": 20}, 0.6),
        _school(rng, "05EE00", 55, {"0356": 35, "0358": 15}, 0.5),
    ]


# --- which schools get figures -------------------------------------------------------------------------


def test_the_figures_equal_the_true_intersections_and_add_up():
    region = _region()
    combined, result, overlap = _gate(region, TYPES)
    for school in region:
        compared = [g for g, c in school.clients.items() if len(c) >= T]
        kids = set().union(*school.support.values())
        cared = set().union(*(school.clients[g] for g in compared))
        t = truth(combined)
        assert t[key(school.vest, BOTH)] == len(kids & cared)
        assert t[key(school.vest, SUPPORT_ONLY)] == len(kids - cared)
        assert t[key(school.vest, CARE_ONLY)] == len(cared - kids)
        assert t[key(school.vest, COMPARED)] == len(cared)
        assert t[key(school.vest, COMPARED_SUPPORT)] == t[key(school.vest, SUPPORT)] == len(kids)
        assert t[key(school.vest, CLIENTEN)] == sum(len(c) for c in school.clients.values())
    assert overlap.coverage["02BB00"] == frozenset({("PO2607", "0356")})  # the municipality with 4 is left out
    assert sorted(overlap.used) == count_keys(pd.DataFrame([c for s in region for c in s.counts()], columns=list(COUNT_COLUMNS)))
    t = truth(combined)
    for m in OVERLAP_MEASURES:  # additive: schools → type → regio
        assert t[key("BO", m, level="schooltype")] == sum(t[key(v, m)] for v, k in TYPES.items() if k == "BO")
        assert t[key("regio", m, level="regio")] == sum(t[key(k, m, level="schooltype")] for k in ("BO", "SBO"))


def test_a_school_gets_no_figure_where_the_coverage_is_incomplete():
    rng = np.random.default_rng(1)
    full = _school(rng, "01AA00", 40, {"0356": 30, "0357": 20}, 0.4)
    contrib, counts = _frames([full])
    assert set(overlap_contributions(contrib, counts, JAAR, T).coverage) == {"01AA00"}
    # One pair missing (a node that did not answer): the covered sides are no product, so no figure.
    assert overlap_contributions(contrib, counts.iloc[:1], JAAR, T).coverage == {"01AA00": frozenset({("PO2607", "0356")})}
    # An SWV with pupils with support there that the exchange did not compare (fewer than 10): no figure.
    tiny = School("01AA00", 400, {**full.support, "VO2607": {1500, 1501, 1502}}, full.clients)
    contrib, counts = _frames([tiny])
    assert overlap_contributions(contrib, counts, JAAR, T).coverage == {}
    # A count larger than a side (a bug, or a child in two municipalities' sets): no figure.
    contrib, counts = _frames([full])
    bad = counts.assign(beide=counts["beide"] + 1000)
    assert overlap_contributions(contrib, bad, JAAR, T).coverage == {}
    # A pair below the threshold on one side is no pair (the exchange's minimum; a stricter gate raises it).
    assert set(overlap_contributions(contrib, counts, JAAR, 25).coverage["01AA00"]) == {("PO2607", "0356")}


def test_a_later_release_keeps_the_coverage_the_school_year_published():
    rng = np.random.default_rng(2)
    school = _school(rng, "01AA00", 40, {"0356": 30, "0357": 20}, 0.4)
    contrib, counts = _frames([school])
    first = overlap_contributions(contrib, counts, JAAR, T)
    # Only one pair now (the other municipality corrected and the exchange did not run again): publishing
    # both versions would tell that one pair's count by subtraction, so the school has no figure.
    later = overlap_contributions(contrib, counts.iloc[:1], JAAR, T, earlier=[first.coverage])
    assert later.coverage == {}
    again = overlap_contributions(contrib, counts, JAAR, T, earlier=[first.coverage])
    assert again.coverage == first.coverage
    assert coverage_of(counts, first.used) == first.coverage


# --- the table --------------------------------------------------------------------------------------


def test_the_rows_are_lines_with_the_distinct_counts_and_the_existence_is_known():
    combined, result, _ = _gate(_region(), TYPES)
    table = build_table(combined)
    cells = table.cells
    value = cells["value"].to_numpy()
    rows = {"split": 0, "compared": 0, "clients": 0}
    for line in range(table.n_lines):
        members, coefs = table.members(line)
        assert int((coefs * value[members]).sum()) == 0
        measures = set(cells["measure"].iloc[members])
        one_unit = len(set(zip(cells["level"].iloc[members], cells["unit"].iloc[members]))) == 1
        if measures == {SUPPORT_ONLY, BOTH, COMPARED_SUPPORT} and one_unit:
            rows["split"] += 1
        if measures == {CARE_ONLY, BOTH, COMPARED} and one_unit:
            rows["compared"] += 1
        if measures == {COMPARED, NOT_COMPARED, CLIENTEN}:
            rows["clients"] += 1
        if measures & set(OVERLAP_MEASURES):
            assert set(cells["family"].iloc[members]) == {f"{JAAR}|{CLIENTEN}"}  # with the distinct counts
    assert rows == {"split": 8, "compared": 8, "clients": 8}  # at every unit: 5 schools, 2 types, the regio
    school = cells[(cells["level"] == "vestiging") & (cells["unit"] == "01AA00")].set_index("measure")
    assert school.loc[NOT_COMPARED, "value"] == school.loc[CLIENTEN, "value"] - school.loc[COMPARED, "value"]
    # The support family keeps its network; the school's support and compared support are held at their
    # true value (the two families share no line), and known to hold at least the threshold.
    assert school.loc[SUPPORT, "family"] == f"{JAAR}|{SUPPORT}" and school.loc[SUPPORT, "role"] == ROW_TOTAL_TO_COLUMN
    assert school.loc[[SUPPORT, COMPARED_SUPPORT], "pinned"].all() and not school.loc[BOTH, "pinned"]
    assert school.loc[COMPARED, "floor_nodes"] == 2 and school.loc[COMPARED_SUPPORT, "floor_nodes"] == 1
    assert school.loc[[COMPARED, COMPARED_SUPPORT, SUPPORT, CLIENTEN], "never_small"].all()
    assert not school.loc[BOTH, "never_small"]
    # The not-compared clients are never in a release.
    assert NOT_COMPARED not in set(result.release["measure"])
    plain = build_table(combine_cells(_frames(_region())[0], schools(TYPES))).cells
    assert NOT_COMPARED not in set(plain["measure"]) and not plain["pinned"].any()


def test_a_small_group_of_clients_not_compared_is_not_told_by_the_two_counts():
    # 0357 has 4 clients at 02BB00 (not compared): publishing the clients (34) and the compared (30) would
    # tell those 4.
    combined, result, _ = _gate(_region(), TYPES)
    rel = result.release
    both_shown = row(rel, "02BB00", CLIENTEN)["status"] == PUBLISHED and row(rel, "02BB00", COMPARED)["status"] == PUBLISHED
    assert not both_shown


# --- adversarial ---------------------------------------------------------------------------------------


def _attack(results, combineds, types):
    return Attack([public(r.release) for r in results], parents(types), truth=[truth(c) for c in combineds])


def test_small_groups_are_hidden_and_keep_the_threshold_against_the_attacker():
    rng = np.random.default_rng(5)
    region = [
        _school(rng, "01AA00", 45, {"0356": 40}, 0.1),  # both = 4
        _school(rng, "02BB00", 30, {"0356": 25}, 0.9),  # support only = 3
        _school(rng, "03CC00", 60, {"0356": 30}, 0.3),
        _school(rng, "04DD00", 50, {"0356": 12}, 0.5),  # care only small
        _school(rng, "05EE00", 55, {"0356": 35}, 0.5),
    ]
    combined, result, _ = _gate(region, TYPES)
    rel = result.release
    assert row(rel, "01AA00", BOTH)["reason"] == "threshold"
    assert row(rel, "02BB00", SUPPORT_ONLY)["reason"] == "threshold"
    hidden = _hidden_keys(rel, OVERLAP_MEASURES + (SUPPORT, CLIENTEN))
    assert len(hidden) >= 4
    assert narrowed(_attack([result], [combined], TYPES), hidden) == []


def test_an_overlap_equal_to_the_support_is_hidden_as_a_group_disclosure():
    # Every supported pupil of the SBO school is a client: publishing "both" next to the support would
    # tell of each of them that they get youth care.
    rng = np.random.default_rng(6)
    region = _region(rng)
    region[3] = _school(rng, "04DD00", 40, {"0356": 45, "0357": 20}, 1.0)
    combined, result, _ = _gate(region, TYPES)
    rel = result.release
    t = truth(combined)
    assert t[key("04DD00", BOTH)] == t[key("04DD00", SUPPORT)] == 40 and t[key("04DD00", SUPPORT_ONLY)] == 0
    assert row(rel, "04DD00", BOTH)["reason"] == "group_disclosure"
    assert row(rel, "04DD00", SUPPORT_ONLY)["status"] != PUBLISHED  # 0 < threshold
    attack = _attack([result], [combined], TYPES)
    both = attack.interval(key("04DD00", BOTH))
    assert both[1] - both[0] + 1 >= T
    assert narrowed(attack, _hidden_keys(rel, OVERLAP_MEASURES + (SUPPORT,))) == []


def test_a_school_where_one_side_is_tiny_shows_its_coverage_and_narrows_nothing():
    rng = np.random.default_rng(8)
    region = _region(rng)
    # 0357 has 9 clients at 03CC00: not compared; the compared clients are 0356's 25 of 34.
    region[2] = _school(rng, "03CC00", 60, {"0356": 25, "0357": 9}, 0.3)
    # An SWV with 11 pupils with support and 50 clients: just above the minimum.
    region[4] = _school(rng, "05EE00", 11, {"0356": 50}, 0.5)
    combined, result, overlap = _gate(region, TYPES)
    t = truth(combined)
    assert t[key("03CC00", COMPARED)] == 25 and t[key("03CC00", CLIENTEN)] == 34
    assert overlap.coverage["03CC00"] == frozenset({("PO2607", "0356")})
    rel = result.release
    attack = _attack([result], [combined], TYPES)
    assert narrowed(attack, _hidden_keys(rel, OVERLAP_MEASURES + (SUPPORT, CLIENTEN))) == []


def test_a_late_correction_of_one_municipality_narrows_nothing_across_the_two_releases():
    rng = np.random.default_rng(9)
    region = _region(rng)
    combined_1, result_1, first = _gate(region, TYPES)
    # 0357 corrects: two more clients at 01AA00, one of them with support; the exchange ran again for it.
    school = region[0]
    supported = sorted(set().union(*school.support.values()) - school.clients["0357"] - school.clients["0356"])
    school.clients["0357"] |= {supported[0], 1990}
    combined_2, result_2, second = _gate(region, TYPES, history=[(combined_1, result_1.release)], earlier=[first.coverage])
    assert second.coverage == first.coverage
    assert truth(combined_2)[key("01AA00", BOTH)] == truth(combined_1)[key("01AA00", BOTH)] + 1
    attack = _attack([result_1, result_2], [combined_1, combined_2], TYPES)
    rel = result_2.release
    assert narrowed(attack, _hidden_keys(rel, OVERLAP_MEASURES + (SUPPORT, CLIENTEN))) == []
    # The earlier release's hidden cells stay protected too (the attacker reads both).
    older = Attack([public(result_2.release), public(result_1.release)], parents(TYPES),
                   truth=[truth(combined_2), truth(combined_1)])
    assert narrowed(older, _hidden_keys(result_1.release, OVERLAP_MEASURES + (SUPPORT,))) == []


def test_a_naive_publication_of_support_only_next_to_hidden_both_is_caught():
    rng = np.random.default_rng(10)
    region = _region(rng)
    region[0] = _school(rng, "01AA00", 45, {"0356": 40, "0357": 12}, 0.1)  # both = 4 or 5: hidden
    combined, result, _ = _gate(region, TYPES)
    rel = result.release
    assert row(rel, "01AA00", BOTH)["reason"] == "threshold"
    # Naive: publish "support only" and the support as they are, with "both" hidden.
    naive = rel.copy()
    for measure in (SUPPORT_ONLY, SUPPORT):
        i = naive.index[(naive["level"] == "vestiging") & (naive["unit"] == "01AA00") & (naive["measure"] == measure)][0]
        naive.loc[i, "status"] = PUBLISHED
        naive.loc[i, "value"] = int(5 * round(truth(combined)[key("01AA00", measure)] / 5))
    attack = Attack([public(naive)], parents(TYPES), truth=[truth(combined)])
    lo, hi = attack.interval(key("01AA00", BOTH))
    assert hi - lo + 1 < T  # the attacker reads "both" from support − support only
    # The gate does not publish that pair next to the hidden "both".
    assert not (row(rel, "01AA00", SUPPORT_ONLY)["status"] == PUBLISHED and row(rel, "01AA00", SUPPORT)["status"] == PUBLISHED)
    assert narrowed(_attack([result], [combined], TYPES), [key("01AA00", BOTH)]) == []


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_property_no_hidden_cell_of_a_region_with_figures_is_narrowed(seed):
    rng = np.random.default_rng(seed)
    kinds = ("BO", "SBO", "SO")
    types = {f"{i + 1:02d}AA00": kinds[i % 3] for i in range(9)}
    region = []
    for vest in types:
        n_clients = {g: int(rng.choice([3, 8, 12, 20, 35])) for g in ("0356", "0357")}
        region.append(_school(rng, vest, int(rng.choice([6, 12, 25, 40])), n_clients, float(rng.choice([0.1, 0.4, 0.9]))))
    contrib, all_counts = _frames(region)
    overlap = overlap_contributions(contrib, all_counts, JAAR, T, ())
    combined = combine_cells(pd.concat([contrib, overlap.rows], ignore_index=True), schools(types))
    result = apply_gate(combined, GateConfig())
    coverage = set(overlap.coverage)
    if result.audit["failed"]:
        # As hub/services/combine.py does: a release the auditor cannot prove with the figures is
        # published without them.
        combined = combine_cells(contrib, schools(types))
        result, coverage = apply_gate(combined, GateConfig()), set()
    assert result.audit["failed"] == 0
    rel = result.release
    hidden = _hidden_keys(rel, OVERLAP_MEASURES + (SUPPORT, CLIENTEN))
    attack = _attack([result], [combined], types)
    assert narrowed(attack, hidden) == []
    attack.infer_classes()  # what the intervals tell of why a cell is hidden
    assert narrowed(attack, hidden) == []
    # Schools without figures have no overlap cell at all.
    listed = set(rel.loc[(rel["level"] == "vestiging") & rel["measure"].isin(OVERLAP_MEASURES), "unit"])
    assert listed == coverage



def test_a_school_bound_only_through_its_type_total_gets_a_partner_that_can_move():
    # Every SBO school but 05EE00 is covered, so its support is told by the figures (pinned), and its
    # hidden 0 is bound through the SBO total, which the regio total and the BO total fix. Partners among
    # the SBO soort cells (smaller) move nothing: the partner must be a total of the same hierarchy
    # whose own lines hold another hidden cell (the BO total: 02BB00 and 06FF00 are hidden; not the
    # smaller SO total, which its one published school fixes), and the regio's support total stays
    # published.
    from hub.disclosure import gate as gate_module

    rng = np.random.default_rng(11)
    types = {**TYPES, "06FF00": "BO", "07GG00": "SO"}
    region = [
        _school(rng, "01AA00", 45, {"0356": 40, "0357": 12}, 0.4),
        _school(rng, "02BB00", 6, {"0356": 30}, 0.3),  # 6 and 7 supported pupils: hidden, not covered
        _school(rng, "06FF00", 7, {"0356": 30}, 0.3),
        _school(rng, "03CC00", 60, {"0356": 25, "0357": 22}, 0.15),
        _school(rng, "04DD00", 70, {"0356": 45, "0357": 20}, 0.6),
        _school(rng, "05EE00", 0, {"0356": 35}, 0.0),  # no supported pupil: hidden 0, not covered
        _school(rng, "07GG00", 20, {"0356": 5}, 0.0),  # the SO total (20): the cheapest, but it cannot move
    ]
    combined, result, _ = _gate(region, types)
    rel = result.release
    table = build_table(combined)
    cells = table.cells
    assert cells.loc[(cells["unit"] == "04DD00") & (cells["measure"] == SUPPORT), "pinned"].all()
    assert row(rel, "05EE00", SUPPORT)["reason"] == "threshold"
    assert row(rel, "regio", SUPPORT, level="regio")["status"] == PUBLISHED
    assert row(rel, "04DD00", SUPPORT)["status"] == PUBLISHED  # pinned: never a partner
    assert narrowed(_attack([result], [combined], types), _hidden_keys(rel, (SUPPORT, LEERLINGEN_ONDERSTEUNING_SOORT))) == []

    # The choice itself, from the state where only the SBO total hides 05EE00's support.
    at = {k: i for i, k in enumerate(zip(cells["level"], cells["unit"], cells["measure"], cells["category"]))}
    reason = primary_reasons(cells, GateConfig())
    status = np.where(reason != "", "suppressed_primary", PUBLISHED).astype(object)
    assert status[at[("vestiging", "05EE00", SUPPORT, "")]] != PUBLISHED
    status[at[("schooltype", "SBO", SUPPORT, "")]] = "suppressed_secondary"
    known = cells["pinned"].to_numpy(bool).copy()
    sticky = np.zeros(len(cells), dtype=bool)
    cell = at[("vestiging", "05EE00", SUPPORT, "")]
    assert gate_module._audit_partner(table, status, reason, sticky, known, cell, everything=False) == 1
    chosen = np.flatnonzero((reason == "audit_partner"))
    assert [tuple(cells.iloc[i][["level", "unit", "measure"]]) for i in chosen] == [("schooltype", "BO", SUPPORT)]
