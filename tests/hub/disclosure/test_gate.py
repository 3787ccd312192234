"""The disclosure gate against an attacker: the tests of docs/disclosure-control.md on secondary
suppression, history and the release bytes (1-5, 10-12; the primary rules' 6-9 are in test_rules.py),
and more."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hub.disclosure import GateConfig, apply_gate, combine_cells, release_bytes
from hub.disclosure.frames import contributions
from shared.partial import decode_partial, encode_partial
from tests.hub.factories import SCHOOLJAAR, make_partial

from .attacker import interval, public, width
from .helpers import (
    T, TYPES3, assert_costs_protected, assert_protected, cost_row, gate, key, parents, region, row, schools, three_schools,
    truth,
)


def test_spec_01_row_3_10_12_total_25():
    cells = three_schools({"01": 3, "02": 10, "03": 12})
    combined, result = gate(cells, TYPES3)
    rel = result.release
    target = row(rel, "01AA00", "nieuwe_clienten_verwijzer", "01")
    assert target["status"] == "suppressed_primary" and target["reason"] == "threshold"
    partners = rel[(rel["unit"] == "01AA00") & rel["measure"].isin(["nieuwe_clienten_verwijzer", "nieuwe_clienten"])
                   & (rel["status"] == "suppressed_secondary")]
    assert len(partners) >= 1
    lo, hi = assert_protected(rel, TYPES3, key("01AA00", "nieuwe_clienten_verwijzer", "01"), combined)
    assert lo <= 1e-6 and hi >= T - 1 - 1e-6
    assert result.audit["failed"] == 0 and result.audit["min_width"] >= T


def test_spec_02_two_small_cells_2_and_4_get_a_third():
    cells = three_schools({"01": 2, "02": 4, "03": 30, "05": 22})
    combined, result = gate(cells, TYPES3)
    rel = result.release
    tr = truth(combined)
    hidden = rel[(rel["unit"] == "01AA00") & (rel["measure"] == "nieuwe_clienten_verwijzer") & (rel["status"] != "published")]
    hidden_sum = sum(tr[tuple(r)] for r in hidden[["level", "unit", "schooljaar", "measure", "category"]].itertuples(index=False, name=None))
    assert (hidden["status"] == "suppressed_secondary").any() or row(rel, "01AA00", "nieuwe_clienten")["status"] != "published"
    assert hidden_sum >= T or row(rel, "01AA00", "nieuwe_clienten")["status"] != "published"
    for cat in ("01", "02"):
        assert_protected(rel, TYPES3, key("01AA00", "nieuwe_clienten_verwijzer", cat), combined)


def test_spec_03_last_hidden_school_in_column_stays_hidden():
    # Two schools (20 and 4) under a published type total: rounding alone leaves the 4 too little room.
    types = {"01AA00": "BO", "04DD00": "BO", "05EE00": "VO"}
    cells = [("0356", v, "clienten", "", n) for v, n in zip(types, (20, 4, 50))]
    cells += [("0356", v, "leerlingen", "", 300) for v in types]
    combined, result = gate(cells, types)
    rel = result.release
    assert row(rel, "04DD00", "clienten")["status"] == "suppressed_primary"
    column = [row(rel, "01AA00", "clienten"), row(rel, "BO", "clienten", level="schooltype")]
    assert any(r["status"] == "suppressed_secondary" for r in column)
    assert_protected(rel, types, key("04DD00", "clienten"), combined)


def test_spec_03b_rounding_windows_of_many_visible_schools_protect_the_last():
    types = {"01AA00": "BO", "02BB00": "BO", "03CC00": "BO", "04DD00": "BO"}
    cells = [("0356", v, "clienten", "", n) for v, n in zip(types, (20, 30, 25, 4))]
    cells += [("0356", v, "leerlingen", "", 300) for v in types]
    combined, result = gate(cells, types)
    rel = result.release
    assert row(rel, "04DD00", "clienten")["status"] == "suppressed_primary"
    assert_protected(rel, types, key("04DD00", "clienten"), combined)


def test_spec_04_hidden_school_not_recovered_via_type_or_region_total():
    types = {"01AA00": "BO", "02BB00": "BO", "03CC00": "VO", "04DD00": "VO"}
    values = {"01AA00": 3, "02BB00": 40, "03CC00": 50, "04DD00": 33}
    cells = [("0356", v, "clienten", "", n) for v, n in values.items()]
    cells += [("0356", v, "leerlingen", "", 500) for v in types]
    combined, result = gate(cells, types)
    rel = result.release
    # The region total and the other type are published: an attacker has every total to subtract from.
    assert row(rel, "regio", "clienten", level="regio")["status"] == "published"
    assert_protected(rel, types, key("01AA00", "clienten"), combined)
    assert_protected(rel, types, key("BO", "clienten", level="schooltype"), combined) if \
        row(rel, "BO", "clienten", level="schooltype")["status"] == "suppressed_primary" else None


def test_spec_05_referrer_and_age_tables_sharing_totals_are_audited_together():
    # Each row alone leaves the 4 and the 6 their range; together (same nieuwe_clienten) they might not.
    types = {"01AA00": "BO", "02BB00": "BO", "03CC00": "BO"}
    cells = [("0356", "01AA00", "leerlingen", "", 400), ("0356", "01AA00", "nieuwe_clienten", "", 40)]
    cells += [("0356", "01AA00", "nieuwe_clienten_verwijzer", c, v) for c, v in (("01", 4), ("02", 36))]
    cells += [("0356", "01AA00", "nieuwe_clienten_leeftijd", c, v) for c, v in (("6-8", 6), ("9-11", 34))]
    for v, n in (("02BB00", 60), ("03CC00", 70)):
        cells += [("0356", v, "leerlingen", "", 400), ("0356", v, "nieuwe_clienten", "", n),
                  ("0356", v, "nieuwe_clienten_verwijzer", "01", n // 2), ("0356", v, "nieuwe_clienten_verwijzer", "02", n - n // 2),
                  ("0356", v, "nieuwe_clienten_leeftijd", "6-8", n // 2), ("0356", v, "nieuwe_clienten_leeftijd", "9-11", n - n // 2)]
    combined, result = gate(cells, types)
    rel = result.release
    assert result.audit["failed"] == 0
    for target in (key("01AA00", "nieuwe_clienten_verwijzer", "01"), key("01AA00", "nieuwe_clienten_leeftijd", "6-8")):
        assert row(rel, target[1], target[3], target[4])["status"] == "suppressed_primary"
        assert_protected(rel, types, target, combined)


def _late_submission_case(extra: int):
    types = {"01AA00": "BO", "02BB00": "BO", "03CC00": "BO"}
    cells = []
    for v, n in (("01AA00", 3), ("02BB00", 14), ("03CC00", 40)):
        cells += [("0356", v, "leerlingen", "", 400), ("0356", v, "clienten", "", n)]
    if extra:
        cells += [("0357", "02BB00", "clienten", "", extra), ("0357", "02BB00", "leerlingen", "", extra)]
    return cells, types


def test_spec_10_cell_hidden_in_release_1_not_derivable_with_release_2():
    cells1, types = _late_submission_case(0)
    combined1, r1 = gate(cells1, types)
    assert row(r1.release, "01AA00", "clienten")["status"] == "suppressed_primary"
    cells2, _ = _late_submission_case(2)  # a late municipality changes 02BB00 and every total by 2
    combined2, r2 = gate(cells2, types, history=[(combined1, r1.release)])
    assert r2.audit["history_releases"] == 1 and r2.audit["failed"] == 0
    # The attacker combines both releases; unchanged cells (01AA00, 03CC00) are one variable each.
    lo, hi = interval([public(r1.release), public(r2.release)], parents(types), key("01AA00", "clienten"),
                      truth=[truth(combined1), truth(combined2)])
    assert width(lo, hi) >= T


def test_history_attack_is_real_without_history():
    # The same two releases gated WITHOUT history: the auditor's history input is what protects the cell.
    cells1, types = _late_submission_case(0)
    combined1, r1 = gate(cells1, types)
    cells2, _ = _late_submission_case(2)
    combined2, r2 = gate(cells2, types)
    lo, hi = interval([public(r1.release), public(r2.release)], parents(types), key("01AA00", "clienten"),
                      truth=[truth(combined1), truth(combined2)])
    with_history = gate(cells2, types, history=[(combined1, r1.release)])[1]
    assert release_bytes(with_history.release) != release_bytes(r2.release) or width(lo, hi) >= T


def test_spec_11_release_never_carries_a_hidden_value_and_order_cannot_leak():
    cells = three_schools({"01": 3, "02": 10, "03": 12})
    _, result = gate(cells, TYPES3)
    rel = result.release
    assert rel.loc[rel["status"] != "published", "value"].isna().all()
    assert rel.loc[rel["status"] == "published", "value"].notna().all()
    # Two inputs that differ only in hidden true values give the same bytes: no order, no value leaks.
    other = three_schools({"01": 1, "02": 10, "03": 14})
    _, result2 = gate(other, TYPES3)
    hidden = set(map(tuple, rel.loc[rel["status"] != "published", ["unit", "measure", "category"]].to_numpy()))
    hidden2 = set(map(tuple, result2.release.loc[result2.release["status"] != "published", ["unit", "measure", "category"]].to_numpy()))
    if hidden == hidden2:
        a = rel[rel["status"] != "published"].sort_values("value", kind="mergesort")
        b = result2.release[result2.release["status"] != "published"].sort_values("value", kind="mergesort")
        assert list(a["unit"] + a["category"]) == list(b["unit"] + b["category"])
    data = release_bytes(rel).decode()
    for line in data.splitlines()[1:]:
        parts = line.split(",")
        if parts[5] != "published":
            assert parts[6] == ""


def test_spec_12_same_input_twice_gives_identical_bytes():
    cells = three_schools({"01": 3, "02": 10, "03": 12})
    _, a = gate(cells, TYPES3)
    _, b = gate(list(reversed(cells)), TYPES3)
    assert release_bytes(a.release) == release_bytes(b.release)
    assert release_bytes(a.release.sample(frac=1, random_state=1)) == release_bytes(a.release)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.lists(st.integers(min_value=0, max_value=30), min_size=3, max_size=3), min_size=3, max_size=4),
       st.integers(min_value=0, max_value=1))
def test_property_every_primary_cell_keeps_threshold_values(table, split_types):
    types = {f"{i + 1:02d}AA00": ("BO" if (i % 2 == 0 or not split_types) else "VO") for i in range(len(table))}
    cells = []
    for (vest, values) in zip(types, table):
        cells += [("0356", vest, "leerlingen", "", 300), ("0356", vest, "nieuwe_clienten", "", sum(values))]
        cells += [("0356", vest, "nieuwe_clienten_verwijzer", c, v) for c, v in zip(("01", "02", "03"), values) if v]
        # The age row must add up to the same total (the agent counts every new client once per row).
        cells += [("0356", vest, "nieuwe_clienten_leeftijd", c, v) for c, v in (("6-8", values[0] + values[1]), ("9-11", values[2])) if v]
    combined, result = gate(cells, types)
    rel = result.release
    assert result.audit["failed"] == 0
    primaries = rel[(rel["status"] == "suppressed_primary")
                    & rel["measure"].isin(["nieuwe_clienten", "nieuwe_clienten_verwijzer", "nieuwe_clienten_leeftijd"])
                    & (rel["level"] == "vestiging") & rel["category"].isin(["", "01", "02", "03", "6-8", "9-11"])]
    for r in primaries.itertuples():
        assert_protected(rel, types, (r.level, r.unit, r.schooljaar, r.measure, r.category), combined)


# --- costs with refunds: the p%-protection against a reader of every published value --------------------


def _bo_costs(amounts_by_school: dict[str, list[int]]):
    """BO schools with only ambulant care (so ``totaal`` is the same cell twice), from per-child amounts."""
    types = {v: "BO" for v in amounts_by_school}
    cells = []
    for v, amounts in amounts_by_school.items():
        n = sum(1 for a in amounts if a)
        cells += [("0356", v, "leerlingen", "", 500), ("0356", v, "clienten", "", n + 20),
                  ("0356", v, "clienten_zorgtype", "ambulant", n)]
        cells += [cost_row("0356", v, category, amounts) for category in ("ambulant", "totaal")]
    return cells, types


def test_a_net_negative_cost_shelters_its_partner_by_no_more_than_its_own_protection():
    # 01AA00 nets −€1,000 (nine children of €1,000 and a refund of €10,000: protection €1,000); 02BB00
    # holds €400k (largest €20k: protection €2,000). Hiding the two in the BO column would tell a reader
    # their sum; granted a floor of −€2,000 for 01AA00 (its value minus its protection), 02BB00 would be
    # known to within €1,000 above. The gate must hide a third school, and no hidden cost is narrowed.
    cells, types = _bo_costs({
        "01AA00": [1_000_00] * 9 + [-10_000_00],
        "02BB00": [20_000_00] + [9_750_00] * 39,
        "03CC00": [20_000_00] * 30,
        "04DD00": [25_000_00] * 30,
    })
    combined, result = gate(cells, types)
    rel = result.release
    assert row(rel, "01AA00", "kosten", "ambulant")["reason"] == "negative_sum"
    hidden = {u for u in types if row(rel, u, "kosten", "ambulant")["status"] != "published"}
    assert len(hidden) >= 3, hidden
    assert result.audit["failed"] == 0
    assert assert_costs_protected(rel, types, combined) >= 6


def _cost_region(rng: np.random.Generator, n_units: int, refunds: float):
    """Schools of two types over two nodes, each with 12–40 clients in up to three care types; a child's
    amount per care type is a refund with probability ``refunds``. Counts and costs agree (linked counts)."""
    units = {f"{i + 1:02d}AA00": ("BO", "SO")[i % 2] for i in range(n_units)}
    cells = []
    for i, vest in enumerate(units):
        node = "0356" if i % 3 else "0344"
        n = int(rng.integers(12, 41))
        care = rng.random((3, n)) < np.array([[0.9], [0.6], [0.4]])
        amounts = np.where(care, rng.integers(50_000, 900_000, size=(3, n)), 0)
        amounts = np.where(rng.random((3, n)) < refunds, -amounts, amounts)
        cells += [(node, vest, "leerlingen", "", 500), (node, vest, "clienten", "", int(care.any(axis=0).sum()))]
        for z, row_, has in zip(("ambulant", "daghulp", "jeugd-ggz"), amounts, care):
            cells.append((node, vest, "clienten_zorgtype", z, int(has.sum())))
            if has.any():
                cells.append(cost_row(node, vest, z, [int(a) for a in row_]))
        cells.append(cost_row(node, vest, "totaal", [int(a) for a in amounts.sum(axis=0)]))
    return cells, units


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_property_with_refunds_no_hidden_cost_is_known_to_within_its_protection(seed):
    cells, units = _cost_region(np.random.default_rng(seed), 10, refunds=0.05)
    combined, result = gate(cells, units)
    assert result.audit["failed"] == 0
    rel = result.release
    costs = rel[rel["measure"] == "kosten"]
    kosten = combined[combined["measure"] == "kosten"]
    assert (kosten["negatives"] > 0).any() and (kosten["legacy_negatives"] == 0).all()  # refunds, with their size
    published = costs[costs["status"] == "published"]
    assert (published["value"] >= 0).all()  # a negative cost is never shown
    # Refunds no longer hide the totals: cells with refunds show where the absolute amounts allow it.
    with_refunds = kosten.loc[kosten["negatives"] > 0, ["level", "unit", "category"]].itertuples(index=False)
    shown = {tuple(r) for r in published[["level", "unit", "category"]].itertuples(index=False)}
    assert any(tuple(r) in shown for r in with_refunds)
    assert assert_costs_protected(rel, units, combined) > 0


def test_schema_1_partials_without_refunds_gate_as_their_schema_2_twins():
    new = [make_partial("0356"), make_partial("0321", scale=2)]
    old = [decode_partial(encode_partial(replace(p, header=replace(p.header, schema_version=1),
                                                 cost_cells=tuple(replace(c, abs_sum=None) for c in p.cost_cells))))
           for p in new]
    assert all(c.abs_sum is None for p in old for c in p.cost_cells)
    types = schools({"01AB00": "BO", "02CD00": "BO"})
    released = []
    for partials in (new, old):
        combined = combine_cells(contributions(partials, SCHOOLJAAR), types)
        released.append(release_bytes(apply_gate(combined, GateConfig()).release))
    assert released[0] == released[1]


def test_history_gives_unlisted_cells_the_reasons_they_were_hidden_for():
    """A release lists no hidden provider cell: read back as history, a provider's school-type total is
    ``provider_aggregate`` (no target, as when it was published) and a small provider cell ``threshold``
    (the whole [0, 9], not only 10 values), so a late submission is audited with the same requirements."""
    from hub.disclosure.frames import PRIMARY, PROVIDER_AGGREGATE, PUBLISHED, THRESHOLD
    from hub.disclosure.gate import _prepare_history

    from .helpers import gate as run_gate

    types = {"01AA00": "BO", "02BB00": "BO", "03CC00": "BO"}
    cells = []
    for vest, (clients, big, small) in zip(types, ((40, 30, 4), (35, 25, 6), (50, 38, 3))):
        cells += [("0356", vest, "leerlingen", "", 400), ("0356", vest, "clienten", "", clients),
                  ("0356", vest, "clienten_aanbieder", "10000001", big), ("0356", vest, "clienten_aanbieder", "10000002", small)]
    combined, result = run_gate(cells, types)
    listed = set(zip(result.release["level"], result.release["unit"], result.release["measure"], result.release["category"]))
    assert ("vestiging", "01AA00", "clienten_aanbieder", "10000002") not in listed  # hidden: not listed
    assert ("schooltype", "BO", "clienten_aanbieder", "10000001") not in listed
    (state,) = _prepare_history([(combined, result.release)], GateConfig())
    cells_ = state.table.cells
    at = {(lv, u, m, c): i for i, (lv, u, m, c) in enumerate(zip(cells_["level"], cells_["unit"], cells_["measure"], cells_["category"]))}
    small = at[("vestiging", "01AA00", "clienten_aanbieder", "10000002")]
    aggregate = at[("schooltype", "BO", "clienten_aanbieder", "10000001")]
    assert (state.status[small], state.reason[small]) == (PRIMARY, THRESHOLD)
    assert (state.status[aggregate], state.reason[aggregate]) == (PRIMARY, PROVIDER_AGGREGATE)
    shown = at[("vestiging", "01AA00", "clienten_aanbieder", "10000001")]
    assert state.status[shown] == PUBLISHED
    # The same release as its own history changes nothing, and fails nothing.
    _, again = run_gate(cells, types, history=[(combined, result.release)])
    assert again.audit["failed"] == 0 and release_bytes(again.release) == release_bytes(result.release)


def _one_sided_unions(table, release):
    """Per line whose hidden cells all sit on one side: (their true sum, the line's cells are costs)."""
    from hub.disclosure.frames import KEY, PUBLISHED

    shown = set(map(tuple, release.loc[release["status"] == PUBLISHED, KEY].astype(str).to_numpy().tolist()))
    cells = table.cells
    keys = [tuple(map(str, k)) for k in cells[KEY].to_numpy().tolist()]
    out = []
    for line in range(table.n_lines):
        members, coef = table.members(line)
        measures = set(cells["measure"].to_numpy()[members])
        if "_overlap" in measures:
            continue
        hidden = np.array([keys[m] not in shown for m in members])
        if hidden.sum() >= 2 and len(set(coef[hidden])) == 1:
            out.append((int(cells["value"].to_numpy()[members][hidden].sum()), "kosten" in measures))
    return out


def test_the_hidden_cells_of_a_line_never_add_up_to_a_small_group():
    """Four school types hide 1–9 children with jeugdreclassering together when the regio and the one
    large type are published: their sum is as good as published. The gate widens such a union."""
    from hub.disclosure.tables import build_table

    types = {"01AA00": "BO", "02BB00": "SBO", "03CC00": "SO", "04DD00": "VO", "05EE00": "VO"}
    cells = []
    for vest, jr in zip(types, (2, 1, 3, 30, 35)):
        cells += [("0356", vest, "leerlingen", "", 500), ("0356", vest, "clienten", "", 60),
                  ("0356", vest, "jeugdreclassering", "", jr)]
    combined, result = gate(cells, types)
    assert result.audit["failed"] == 0
    unions = _one_sided_unions(build_table(combined), result.release)
    assert unions and all(u >= T for u, _ in unions)


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, 10_000))
def test_no_line_of_a_random_region_has_a_small_union_of_hidden_cells(seed):
    from hub.disclosure.tables import build_table

    rng = np.random.default_rng(seed)
    cells, units = region(rng, 7, types=("BO", "SO", "VO"))
    combined, result = gate(cells, units)
    for union, cost in _one_sided_unions(build_table(combined), result.release):
        if not cost:
            assert union >= T
