"""The primary rules (rules.py) through the gate: threshold, linked costs, p%, dominance, negatives,
insider, group disclosure and rounding (tests 6 to 9 of docs/disclosure-control.md among them)."""

from __future__ import annotations

import pandas as pd

from hub.disclosure import GateConfig

from .helpers import assert_costs_protected, assert_protected, cost_row, gate, key, row, verwijzer_unit


def test_spec_06_hidden_count_hides_sum_and_mean():
    types = {"01AA00": "BO", "02BB00": "BO"}
    cells = []
    for v, (n, amount) in {"01AA00": (4, 40_000_00), "02BB00": (30, 300_000_00)}.items():
        cells += [("0356", v, "leerlingen", "", 500), ("0356", v, "clienten", "", n), ("0356", v, "clienten_zorgtype", "verblijf", n),
                  ("0356", v, "kosten", "verblijf", amount, n, amount // n, amount // n, 0),
                  ("0356", v, "kosten", "totaal", amount, n, amount // n, amount // n, 0)]
    # With the count insider rule on, a count of 12 (11 from one municipality) is hidden while its cost has 12 children.
    cells += [("0356", "03CC00", "leerlingen", "", 500), ("0356", "03CC00", "clienten", "", 19), ("0357", "03CC00", "clienten", "", 1),
              ("0356", "03CC00", "clienten_zorgtype", "ambulant", 11), ("0357", "03CC00", "clienten_zorgtype", "ambulant", 1),
              ("0356", "03CC00", "kosten", "ambulant", 110_000_00, 6, 10_000_00, 10_000_00, 0),
              ("0357", "03CC00", "kosten", "ambulant", 50_000_00, 6, 10_000_00, 9_000_00, 0)]
    types["03CC00"] = "BO"
    combined, result = gate(cells, types, GateConfig(count_insider_rule=True))
    rel = result.release
    assert row(rel, "01AA00", "kosten", "verblijf")["status"] == "suppressed_primary"
    assert row(rel, "01AA00", "kosten", "totaal")["status"] != "published"
    assert row(rel, "03CC00", "clienten_zorgtype", "ambulant")["reason"] == "insider_count"
    assert row(rel, "03CC00", "kosten", "ambulant")["reason"] == "linked_count"
    # Everywhere: a hidden count means a hidden linked sum, so no mean (sum / n) and no n × mean exists.
    links = {("clienten_zorgtype", "verblijf"): ("kosten", "verblijf"), ("clienten_zorgtype", "ambulant"): ("kosten", "ambulant"),
             ("clienten", ""): ("kosten", "totaal")}
    for r in rel[rel["measure"] != "kosten"].itertuples():
        link = links.get((r.measure, r.category))
        if link and r.status == "suppressed_primary":
            cost = rel[(rel["level"] == r.level) & (rel["unit"] == r.unit) & (rel["measure"] == link[0]) & (rel["category"] == link[1])]
            assert (cost["status"] != "published").all()


def _cost_cells(value, contributors, top1, top2, negatives=0, node="0356", abs_sum=None, totaal=False):
    """Three BO schools; 01AA00's ambulant cost as given (``abs_sum`` None: as a schema-1 node sent it).
    ``totaal``: every school's ``kosten/totaal`` equals its ambulant cost (its only care), so the cost
    rows add up as a reader assumes."""
    types = {"01AA00": "BO", "02BB00": "BO", "03CC00": "BO"}
    cells = []
    for v in types:
        # 40 of 60 clients get ambulant care: no category holds (nearly) all (group disclosure).
        cells += [(node, v, "leerlingen", "", 500), (node, v, "clienten", "", 60), (node, v, "clienten_zorgtype", "ambulant", 40)]
    first = (node, "01AA00", "kosten", "ambulant", value, contributors, top1, top2, negatives)
    cells += [first if abs_sum is None else first + (abs_sum,)]
    cells += [(node, v, "kosten", "ambulant", 400_000_00, 40, 20_000_00, 19_000_00, 0) for v in ("02BB00", "03CC00")]
    if totaal:
        cells += [c[:3] + ("totaal",) + c[4:] for c in cells if c[2] == "kosten"]
    return cells, types


def _school_cost(amounts, vest="01AA00"):
    """``_cost_cells(totaal=True)`` with 01AA00's cost made from per-child net amounts (schema 2)."""
    cells, types = _cost_cells(0, 0, 0, 0, totaal=True)
    cells = [c for c in cells if not (c[1] == vest and c[2] == "kosten")]
    return cells + [cost_row("0356", vest, category, amounts) for category in ("ambulant", "totaal")], types


def test_spec_07_p_percent_one_child_120k_of_140k():
    # 15 children, €140k, the largest €120k and the second €9k: 140 - 120 - 9 = 11 < 10 % of 120 = 12.
    cells, types = _cost_cells(140_000_00, 15, 120_000_00, 9_000_00)
    cells = [c for c in cells if not (c[1] == "01AA00" and c[2] in ("clienten", "clienten_zorgtype"))]
    cells += [("0356", "01AA00", "clienten", "", 25), ("0356", "01AA00", "clienten_zorgtype", "ambulant", 15)]
    _, result = gate(cells, types)
    target = row(result.release, "01AA00", "kosten", "ambulant")
    assert target["status"] == "suppressed_primary" and target["reason"] == "p_percent"


def test_dominance_without_p_percent_failure():
    # Top two €60k + €59k of €140k = 85.0 % passes; €61k + €60k = 86.4 % fails (k = 85); p% passes both.
    cells, types = _cost_cells(140_000_00, 20, 60_000_00, 59_000_00)
    _, result = gate(cells, types)
    assert row(result.release, "01AA00", "kosten", "ambulant")["status"] == "published"
    cells, types = _cost_cells(140_000_00, 20, 61_000_00, 60_000_00)
    cells = [c if not (c[1] == "01AA00" and c[2] == "kosten") else c for c in cells]
    _, result = gate(cells, types, GateConfig(p_percent=10))
    r = row(result.release, "01AA00", "kosten", "ambulant")
    assert r["status"] == "suppressed_primary" and r["reason"] in ("p_percent", "dominance")
    cells, types = _cost_cells(200_000_00, 20, 90_000_00, 85_000_00)  # 87.5 %, p%: 25k ≥ 9k passes
    _, result = gate(cells, types)
    assert row(result.release, "01AA00", "kosten", "ambulant")["reason"] == "dominance"


def test_spec_08_negative_contribution_suppresses_cost():
    # As a schema-1 node sent it: one refund of unknown size hides the cell and every total it is in.
    cells, types = _cost_cells(300_000_00, 40, 20_000_00, 19_000_00, negatives=1)
    _, result = gate(cells, types)
    for unit, level in (("01AA00", "vestiging"), ("BO", "schooltype"), ("regio", "regio")):
        r = row(result.release, unit, "kosten", "ambulant", level=level)
        assert r["status"] == "suppressed_primary" and r["reason"] == "negative" and pd.isna(r["value"])
    assert result.audit["failed"] == 0


def test_a_refund_among_many_children_is_judged_on_absolute_amounts():
    # The same cell from a schema-2 node: 40 children, one of them refunded €5k. |amounts| sum to
    # €310k, the largest two are €20k and €19k: p% and dominance pass, so the cell and its totals show.
    cells, types = _cost_cells(300_000_00, 40, 20_000_00, 19_000_00, negatives=1, abs_sum=310_000_00, totaal=True)
    combined, result = gate(cells, types)
    for unit, level in (("01AA00", "vestiging"), ("BO", "schooltype"), ("regio", "regio")):
        assert row(result.release, unit, "kosten", "ambulant", level=level)["status"] == "published"
    assert row(result.release, "01AA00", "kosten", "ambulant")["value"] == 300_000_00
    assert result.audit["failed"] == 0
    assert_costs_protected(result.release, types, combined)


def test_p_percent_judges_absolute_amounts_so_a_refund_shelters_no_payment():
    # 13 children: a refund of €120k, a payment of €119k and 11 of €1k. Net €10k; the rest of the
    # absolute amounts (€11k) is below 10 % of the largest (€12k): the pair nearly cancels, and a
    # reader who knows the other 11 would read the payment from the net to within p %.
    cells, types = _school_cost([-120_000_00, 119_000_00] + [1_000_00] * 11)
    combined, result = gate(cells, types)
    r = row(result.release, "01AA00", "kosten", "ambulant")
    assert r["status"] == "suppressed_primary" and r["reason"] == "p_percent"
    assert result.audit["failed"] == 0
    assert_costs_protected(result.release, types, combined)
    # Twelve more children of €1k each give the rest (€23k) its 10 % of €120k: p % passes, and the
    # pair's share of the absolute amounts (239/262 = 91 %) is still dominant (k = 85).
    cells, types = _school_cost([-120_000_00, 119_000_00] + [1_000_00] * 23)
    _, result = gate(cells, types)
    assert row(result.release, "01AA00", "kosten", "ambulant")["reason"] == "dominance"


def test_dominance_counts_a_refund_among_the_largest_two():
    # A payment of €150k and a refund of €60k among 20 children of €1k: 210 of 230 absolute = 91 % > 85 %.
    cells, types = _school_cost([150_000_00, -60_000_00] + [1_000_00] * 20)
    combined, result = gate(cells, types)
    r = row(result.release, "01AA00", "kosten", "ambulant")
    assert r["status"] == "suppressed_primary" and r["reason"] == "dominance"
    assert_costs_protected(result.release, types, combined)


def test_a_negative_net_cost_is_never_published_and_stays_protected():
    # 30 children: 29 of €1k and one refund of €40k. Net −€11k: hidden (negative_sum), and neither it
    # nor a partner can be narrowed to within 10 % of €40k through the BO column.
    cells, types = _school_cost([1_000_00] * 29 + [-40_000_00])
    combined, result = gate(cells, types)
    r = row(result.release, "01AA00", "kosten", "ambulant")
    assert r["status"] == "suppressed_primary" and r["reason"] == "negative_sum" and pd.isna(r["value"])
    assert result.audit["failed"] == 0
    assert assert_costs_protected(result.release, types, combined) >= 2  # it got a partner
    # Its school type and the region still net positive and show.
    assert row(result.release, "BO", "kosten", "ambulant", level="schooltype")["status"] == "published"


def test_spec_09_insider_rules_for_costs_and_counts():
    types = {"01AA00": "BO", "02BB00": "BO", "03CC00": "BO"}
    cells = []
    for v in types:
        cells += [("0356", v, "leerlingen", "", 500)]
    # Cost: 12 children, 11 from municipality 0356 and 1 from 0357 → 0356 subtracts and reads one child.
    cells += [("0356", "01AA00", "clienten", "", 11), ("0357", "01AA00", "clienten", "", 1),
              ("0356", "01AA00", "kosten", "totaal", 220_000_00, 11, 21_000_00, 20_000_00, 0),
              ("0357", "01AA00", "kosten", "totaal", 20_000_00, 1, 20_000_00, 0, 0)]
    # Count: 12, of which one municipality sent 10.
    cells += [("0356", "02BB00", "clienten", "", 10), ("0357", "02BB00", "clienten", "", 2),
              ("0356", "03CC00", "clienten", "", 40)]
    _, off = gate(cells, types)
    assert row(off.release, "01AA00", "kosten", "totaal")["reason"] == "insider_cost"
    assert row(off.release, "02BB00", "clienten")["status"] == "published"  # count insider rule off by default
    _, on = gate(cells, types, GateConfig(count_insider_rule=True))
    assert row(on.release, "02BB00", "clienten")["reason"] == "insider_count"
    assert on.audit["failed"] == 0


def test_rounding_to_five_and_cost_rounding():
    types = {"01AA00": "BO", "02BB00": "BO"}
    cells = [("0356", "01AA00", "leerlingen", "", 412), ("0356", "02BB00", "leerlingen", "", 388),
             ("0356", "01AA00", "clienten", "", 42), ("0356", "02BB00", "clienten", "", 43)]
    cells += [("0356", v, "kosten", "totaal", amount, 40, 9_000_00, 8_000_00, 0) for v, amount in
              (("01AA00", 123_456_78), ("02BB00", 98_765_43))]
    _, result = gate(cells, types)
    rel = result.release
    assert row(rel, "01AA00", "clienten")["value"] == 40
    assert row(rel, "02BB00", "clienten")["value"] == 45
    assert row(rel, "BO", "clienten", level="schooltype")["value"] == 85  # total rounded on its own
    assert row(rel, "01AA00", "leerlingen")["value"] == 410
    assert row(rel, "01AA00", "kosten", "totaal")["value"] == 123_500_00


def test_group_disclosure_hides_a_category_holding_nearly_all_and_publishes_no_flag():
    types = {"01AA00": "BO", "02BB00": "BO", "03CC00": "BO"}
    cells = verwijzer_unit("01AA00", {"01": 30}) + verwijzer_unit("02BB00", {"01": 20, "02": 25})
    cells += verwijzer_unit("03CC00", {"01": 28, "02": 2})  # 28 of 30 = 93 %: nearly all
    cells += [("0356", "02BB00", "clienten", "", 40), ("0356", "02BB00", "clienten_zorgtype", "ambulant", 37),  # 92.5 %
              ("0356", "03CC00", "clienten", "", 40), ("0356", "03CC00", "clienten_zorgtype", "ambulant", 30)]  # 75 %
    combined, result = gate(cells, types)
    rel = result.release
    for unit, measure, category in (("01AA00", "nieuwe_clienten_verwijzer", "01"), ("03CC00", "nieuwe_clienten_verwijzer", "01"),
                                    ("02BB00", "clienten_zorgtype", "ambulant")):
        r = row(rel, unit, measure, category)
        assert r["status"] == "suppressed_primary" and r["reason"] == "group_disclosure", (unit, category)
        assert_protected(rel, types, key(unit, measure, category), combined)
    assert row(rel, "03CC00", "clienten_zorgtype", "ambulant")["reason"] == ""
    assert (rel["flags"] == "").all()  # no flag is ever published: a flag is information the auditor would have to model
    assert result.audit["failed"] == 0


def test_providers_are_published_per_school_only():
    """A provider's type or regional total would bound the schools it is absent from (no cells to protect)."""
    types = {"01AA00": "BO", "02BB00": "BO", "03CC00": "VO"}
    cells = []
    for v in types:
        cells += [("0356", v, "leerlingen", "", 500), ("0356", v, "clienten", "", 60)]
    cells += [("0356", "01AA00", "clienten_aanbieder", "98000001", 20), ("0356", "02BB00", "clienten_aanbieder", "98000001", 15)]
    _, result = gate(cells, types)
    rel = result.release
    providers = rel[rel["measure"] == "clienten_aanbieder"]
    assert set(providers["level"]) == {"vestiging"}  # unlisted above the schools
    assert (providers["status"] == "published").all() and len(providers) == 2
    assert result.audit["failed"] == 0


def test_a_count_hidden_as_a_partner_hides_its_cost_too():
    """A published cost next to a hidden count would tell the reader that count is a partner (>= 10)."""
    types = {"01AA00": "BO", "02BB00": "BO", "03CC00": "BO"}
    cells = []
    # The 4 needs a count partner (10 at 02BB00, the first of the two tens); the cheapest cost partner
    # of its cost is 03CC00's, so without the link 02BB00's cost would stay published.
    for v, n, per_child in (("01AA00", 4, 10_000_00), ("02BB00", 10, 50_000_00), ("03CC00", 10, 10_000_00)):
        cells += [("0356", v, "leerlingen", "", 500), ("0356", v, "clienten", "", n + 30),
                  ("0356", v, "jeugdbescherming", "", n),
                  ("0356", v, "kosten", "jeugdbescherming", n * per_child, n, per_child, per_child, 0)]
    _, result = gate(cells, types)
    rel = result.release
    assert row(rel, "02BB00", "jeugdbescherming")["status"] == "suppressed_secondary"
    hidden_counts = rel[(rel["measure"] == "jeugdbescherming") & (rel["status"] != "published")]
    for r in hidden_counts.itertuples():
        cost = row(rel, r.unit, "kosten", "jeugdbescherming", level=r.level)
        assert cost["status"] != "published", r.unit
    assert result.audit["failed"] == 0
