"""Indicators from release frames: propagation rules, shares, providers, costs, funnel, sorting."""

import pandas as pd
import pytest

from hub.indicators.cells import ReleaseCells
from hub.indicators import figures as f
from tests.hub.indicators.release_fixtures import release

J = "2024-2025"
J0 = "2023-2024"
V = "vestiging"


def cells(rows):
    return ReleaseCells(release(rows))


def test_rate_published_with_wilson_interval():
    c = cells([(V, "04DA00", J, "clienten", "", 10), (V, "04DA00", J, "leerlingen", "", 100)])
    rate = f.clients_per_100(c, V, "04DA00", J, 20)
    assert rate.status == "published"
    assert rate.per_100 == pytest.approx(10.0)
    assert rate.low == pytest.approx(5.523, abs=1e-3)
    assert rate.high == pytest.approx(17.437, abs=1e-3)


def test_rate_hidden_when_numerator_suppressed():
    c = cells([(V, "04DA00", J, "clienten", "", None), (V, "04DA00", J, "leerlingen", "", 100)])
    rate = f.clients_per_100(c, V, "04DA00", J, 20)
    assert rate.status == "suppressed"
    assert rate.per_100 is None and rate.low is None and rate.high is None
    assert rate.to_dict()["clienten"] == {"value": None, "status": "suppressed"}


def test_rate_hidden_when_denominator_below_minimum():
    c = cells([(V, "04DA00", J, "clienten", "", 10), (V, "04DA00", J, "leerlingen", "", 15)])
    rate = f.clients_per_100(c, V, "04DA00", J, 20)
    assert rate.status == "small_denominator"
    assert rate.per_100 is None


def test_suppressed_value_never_enters_the_index():
    frame = release([(V, "04DA00", J, "clienten", "", 10)])
    frame.loc[0, "status"] = "suppressed_secondary"  # a value the gate left in by mistake stays unused
    c = ReleaseCells(frame)
    assert c.get(V, "04DA00", J, "clienten").value is None


def test_coverage_uses_published_pupils_and_duo_count():
    c = cells([(V, "04DA00", J, "leerlingen", "", 180)])
    cov = f.coverage(c.get(V, "04DA00", J, "leerlingen"), 240)
    assert cov.share == pytest.approx(0.75)
    assert f.coverage(c.get(V, "04DA00", J, "leerlingen"), None, True).share is None


def test_distribution_shares_only_for_published_cells():
    c = cells([
        (V, "A", J, "clienten", "", 40),
        (V, "A", J, "clienten_zorgtype", "ambulant", 20),
        (V, "A", J, "clienten_zorgtype", "jeugd-ggz", None),
        (V, "A", J, "clienten_zorgtype", "wijkteam", 15),
    ])
    d = f.distribution(c, V, "A", J, "zorgtype")
    by = {r.category: r for r in d.rows}
    assert by["ambulant"].share == pytest.approx(0.5)
    assert by["wijkteam"].share == pytest.approx(0.375)
    assert by["jeugd-ggz"].share is None and by["jeugd-ggz"].count.value is None
    # a category not sent looks exactly like a suppressed one
    assert by["crisis"].count.status == by["jeugd-ggz"].count.status == "suppressed"


def test_distribution_without_published_total_has_no_shares():
    c = cells([(V, "A", J, "clienten", "", None), (V, "A", J, "clienten_zorgtype", "ambulant", 20)])
    d = f.distribution(c, V, "A", J, "zorgtype")
    assert all(r.share is None for r in d.rows)


def test_hidden_cells_look_alike_whatever_hid_them():
    c = cells([
        (V, "A", J, "nieuwe_clienten", "", 15),
        (V, "A", J, "nieuwe_clienten_verwijzer", "01", None, "threshold"),
        (V, "A", J, "nieuwe_clienten_verwijzer", "02", None, "complementary"),
        (V, "A", J, "nieuwe_clienten_verwijzer", "03", None, "group_disclosure"),
    ])
    d = f.distribution(c, V, "A", J, "verwijzer")
    hidden = [r for r in d.rows if r.category in ("01", "02", "03")]
    assert [r.to_dict() for r in hidden] == [
        {"categorie": r.category, "label": r.label, "aantal": {"value": None, "status": "suppressed"}, "aandeel_procent": None}
        for r in hidden
    ]
    assert "reason" not in str(d.to_dict()) and "group_disclosure" not in str(d.to_dict())

def test_providers_only_published_and_concentration():
    c = cells([
        (V, "A", J, "clienten", "", 50),
        (V, "A", J, "clienten_aanbieder", "11111111", 25),
        (V, "A", J, "clienten_aanbieder", "22222222", 10),
        (V, "A", J, "clienten_aanbieder", "33333333", None),
    ])
    p = f.providers(c, V, "A", J)
    assert [r.agb for r in p.rows] == ["11111111", "22222222"]
    assert p.largest_share == pytest.approx(0.5)
    assert p.hhi_lower_bound == pytest.approx(0.5**2 + 0.2**2)
    assert "33333333" not in str(p.to_dict())


def test_cost_per_client_needs_both_published():
    c = cells([
        (V, "A", J, "clienten", "", 20),
        (V, "A", J, "kosten", "totaal", 12_345_600),
        (V, "B", J, "clienten", "", None),
        (V, "B", J, "kosten", "totaal", 5_000_000),
        (V, "C", J, "clienten", "", 25),
        (V, "C", J, "kosten", "totaal", None),
    ])
    assert f.costs(c, V, "A", J).total.per_client_euro == pytest.approx(123_456 / 20)
    assert f.costs(c, V, "B", J).total.per_client_euro is None
    c_costs = f.costs(c, V, "C", J).total
    assert c_costs.per_client_euro is None and c_costs.to_dict()["kosten_euro"] is None


def test_trend_and_change_against_last_year():
    c = cells([
        (V, "A", J0, "clienten", "", 10), (V, "A", J0, "leerlingen", "", 100),
        (V, "A", J, "clienten", "", 15), (V, "A", J, "leerlingen", "", 100),
        (V, "B", J0, "clienten", "", None), (V, "B", J0, "leerlingen", "", 100),
        (V, "B", J, "clienten", "", 15), (V, "B", J, "leerlingen", "", 100),
    ])
    trend = f.rate_trend(c, V, "A", 20)
    assert [(t.schooljaar, t.rate.per_100) for t in trend] == [(J0, 10.0), (J, 15.0)]
    a_now, a_then = trend[1].rate, trend[0].rate
    assert f.rate_change(a_now, a_then) == pytest.approx(5.0)
    b = f.rate_trend(c, V, "B", 20)
    assert f.rate_change(b[1].rate, b[0].rate) is None


def test_funnel_uses_type_level_pooled_rate_and_published_schools():
    rows = [("schooltype", "BO", J, "clienten", "", 100), ("schooltype", "BO", J, "leerlingen", "", 1000)]
    rows += [(V, "A", J, "clienten", "", 10), (V, "A", J, "leerlingen", "", 100)]
    rows += [(V, "B", J, "clienten", "", 40), (V, "B", J, "leerlingen", "", 100)]
    rows += [(V, "C", J, "clienten", "", None), (V, "C", J, "leerlingen", "", 100)]
    fun = f.funnel(cells(rows), "BO", ["A", "B", "C"], J, 20)
    assert fun.pooled.per_100 == pytest.approx(10.0)
    assert [(p.vestigingscode, p.zone) for p in fun.points] == [("A", "binnen"), ("B", "boven_998")]
    first = fun.limits[0]
    assert first.n == 20
    assert first.upper_95 == pytest.approx(0.1 + 1.959964 * (0.09 / 20) ** 0.5, rel=1e-6)


def _row(code, naam, per_100):
    rate = f.Rate(
        f.Count(None, "suppressed"), f.Count(None, "suppressed"), "published" if per_100 is not None else "suppressed", per_100
    )
    cov = f.coverage(f.Count(None, "suppressed"), None)
    return f.SchoolRow(code, naam, "BO", None, None, None, None, None, rate, None, cov)


def test_sort_puts_hidden_rows_last_by_name_in_both_directions():
    rows = [_row("1", "Zon", None), _row("2", "Appel", 12.0), _row("3", "Berk", None), _row("4", "Dal", 30.0)]
    asc = [r.naam for r in f.sort_rows(rows, "clienten_per_100")]
    desc = [r.naam for r in f.sort_rows(rows, "clienten_per_100", descending=True)]
    assert asc == ["Appel", "Dal", "Berk", "Zon"]
    assert desc == ["Dal", "Appel", "Berk", "Zon"]


def test_school_rows_join_reference_and_duo():
    c = cells([(V, "04DA00", J, "clienten", "", 10), (V, "04DA00", J, "leerlingen", "", 100),
               (V, "GEEN", J, "leerlingen", "", 30), (V, "99ZZ00", J, "leerlingen", "", 20)])
    schools = pd.DataFrame([{"vestigingscode": "04DA00", "naam": "De Linde", "schooltype": "BO", "gemeentecode": "0356",
                             "gemeentenaam": "Nieuwegein", "plaatsnaam": "Nieuwegein", "bestuur": "Stichting X", "swv_code": "PO2701"}])
    pupils = pd.DataFrame([{"vestigingscode": "04DA00", "leerlingen": 125, "masked": False}])
    rows = {r.vestigingscode: r for r in f.school_rows(c, schools, pupils, J, 20)}
    assert set(rows) == {"04DA00", "99ZZ00"}
    assert rows["04DA00"].coverage.share == pytest.approx(0.8)
    assert rows["99ZZ00"].schooltype == "onbekend"
    assert f.filter_rows(list(rows.values()), gemeente="0356")[0].naam == "De Linde"


def test_missing_cell_of_a_present_unit_reads_as_suppressed():
    # Nodes may omit zero cells; a missing jeugdbescherming cell must not reveal "0".
    c = cells([(V, "A", J, "clienten", "", 20), (V, "A", J, "kosten", "totaal", 1_000_000)])
    assert c.get(V, "A", J, "jeugdbescherming").status == "suppressed"
    assert c.get(V, "B", J, "clienten").status == "absent"
    rows = f.costs(c, V, "A", J).by_zorgtype
    assert len(rows) == len(f.ZORGTYPE_CATEGORIES)
    assert all(r.kosten.status == "suppressed" for r in rows)


def test_coverage_with_partly_masked_duo_count_is_an_upper_bound():
    covered = f.Count(90, "published")
    cov = f.coverage(covered, 100, duo_masked=True)
    assert cov.share == pytest.approx(0.9) and cov.upper_bound
    assert f.coverage(covered, None, duo_masked=True).share is None
    from hub.web.exports import coverage_cell

    assert coverage_cell(cov) == "≤ 90 %"
