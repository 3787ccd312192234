"""Pupils with support per 100 pupils (DUO's count), by soort group at the finest published level."""

from hub.indicators import figures as f
from hub.indicators import support as s
from hub.indicators.cells import ABSENT, Count, ReleaseCells
from tests.hub.indicators.release_fixtures import release

J = "2024-2025"
V, T = "vestiging", "schooltype"
TOTAL, SOORT = "leerlingen_ondersteuning", "leerlingen_ondersteuning_soort"


def cells(rows):
    return ReleaseCells(release(rows))


def test_the_rate_follows_the_propagation_rule():
    pupils = s.Pupils(400)
    assert s.support_rate(Count(None, ABSENT), pupils, 10).status == s.NOT_COUNTED
    assert s.support_rate(Count(None, "suppressed"), pupils, 10).status == "suppressed"
    assert s.support_rate(Count(70, "published"), s.Pupils(None), 10).status == s.NO_PUPIL_COUNT
    assert s.support_rate(Count(0, "published"), s.Pupils(8), 10).status == f.SMALL_DENOMINATOR
    rate = s.support_rate(Count(70, "published"), pupils, 10)
    assert rate.published and rate.per_100 == 17.5 and not rate.upper_bound
    assert s.support_rate(Count(70, "published"), s.Pupils(400, lower_bound=True), 10).upper_bound


def test_duo_pupils_of_several_schools_is_a_lower_bound_where_a_count_is_masked_or_missing():
    duo = {"01AA00": (300, False), "02BB00": (120, True), "03CC00": (None, True)}
    assert s.duo_pupils(duo, ["01AA00"]) == s.Pupils(300, False)
    assert s.duo_pupils(duo, ["01AA00", "02BB00"]) == s.Pupils(420, True)
    assert s.duo_pupils(duo, ["01AA00", "09ZZ00"]) == s.Pupils(300, True)
    assert s.duo_pupils(duo, ["03CC00"]) == s.Pupils(None, False)


ROWS = [
    (V, "01AA00", J, TOTAL, "", 70), (V, "01AA00", J, SOORT, "arrangement", 45), (V, "01AA00", J, SOORT, "opp", 25),
    (V, "01AA00", J, SOORT, "tlv-sbo", None), (V, "02BB00", J, TOTAL, "", None), (V, "02BB00", J, SOORT, "opp", None),
    (V, "03CC00", J, "leerlingen", "", 200),  # a school no SWV counts
    (T, "BO", J, TOTAL, "", 150), (T, "BO", J, SOORT, "arrangement", 100), (T, "BO", J, SOORT, "opp", 50),
]
DUO = {"01AA00": (400, False), "02BB00": (100, False), "03CC00": (250, False)}
TYPE_SCHOOLS = ["01AA00", "02BB00", "03CC00"]


def test_a_school_with_a_published_group_shows_its_own_groups_per_100_pupils():
    sup = s.school_support(cells(ROWS), "01AA00", "BO", J, DUO, TYPE_SCHOOLS, 10)
    assert sup.counted and sup.rate.per_100 == 17.5
    assert sup.type_rate.per_100 == 30.0  # 150 of 500: the counted schools only, not 03CC00
    assert sup.section.level == f.LEVEL_SCHOOL and sup.section_pupils == s.Pupils(400)
    by = {r.category: r for r in sup.section.table.rows}
    assert [r.category for r in sup.section.table.rows][:2] == ["tlv-so", "tlv-sbo"]  # priority order
    assert sup.per_100(by["arrangement"].count) == 11.25 and sup.per_100(by["tlv-sbo"].count) is None
    d = sup.to_dict()
    assert d["deelnemend_swv"] and d["school"]["per_100"] == 17.5
    assert {r["categorie"]: r["per_100"] for r in d["verdeling"]["rijen"]}["opp"] == 6.25


def test_a_school_whose_own_groups_are_all_hidden_shows_its_types():
    sup = s.school_support(cells(ROWS), "02BB00", "BO", J, DUO, TYPE_SCHOOLS, 10)
    assert sup.rate.status == "suppressed"
    assert sup.section.level == f.LEVEL_SCHOOLTYPE and sup.section_pupils == s.Pupils(500)
    assert "alle scholen van dit type (BO)" in sup.section.label


def test_a_school_no_swv_counts_says_so_and_shows_no_figure():
    sup = s.school_support(cells(ROWS), "03CC00", "BO", J, DUO, TYPE_SCHOOLS, 10)
    assert not sup.counted and sup.section.level == f.LEVEL_NONE and sup.section.table is None
    assert sup.section.label == s.NOT_COUNTED_TEXT and "samenwerkingsverband" in s.NOT_COUNTED_TEXT
    assert sup.to_dict()["deelnemend_swv"] is False and sup.to_dict()["uitleg"] == s.NOT_COUNTED_TEXT


def test_a_viewer_without_the_type_cells_gets_no_type_fallback():
    sup = s.school_support(cells(ROWS), "02BB00", "BO", J, DUO, TYPE_SCHOOLS, 10,
                           may_see=lambda level, measure: level == V)
    assert sup.section.level == f.LEVEL_NONE and sup.type_rate.status == "suppressed"
