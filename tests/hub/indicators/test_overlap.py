"""Support and youth care together per unit: the three groups per 100 pupils of the schools counted, the
coverage, the factsheet section's level, and an SWV's totals over its schools (published values only)."""

from hub.indicators import overlap as o
from hub.indicators.cells import ReleaseCells
from tests.hub.indicators.release_fixtures import release

J, J0 = "2024-2025", "2023-2024"
V, T = "vestiging", "schooltype"
B, SO, CO = "ondersteuning_en_jeugdhulp", "ondersteuning_zonder_jeugdhulp", "jeugdhulp_zonder_ondersteuning"
SV, CV = "ondersteuning_vergeleken", "clienten_vergeleken"


def cells(rows):
    return ReleaseCells(release(rows))


def school(code, b, so, co, sv, cv, clients, support, jaar=J):
    return [(V, code, jaar, B, "", b), (V, code, jaar, SO, "", so), (V, code, jaar, CO, "", co), (V, code, jaar, SV, "", sv),
            (V, code, jaar, CV, "", cv), (V, code, jaar, "clienten", "", clients),
            (V, code, jaar, "leerlingen_ondersteuning", "", support)]


ROWS = (school("01AA00", 20, 45, 30, 65, 50, 55, 65) + school("02BB00", None, None, 25, None, None, 40, None)
        + [(V, "03CC00", J, "clienten", "", 30), (V, "03CC00", J, "leerlingen_ondersteuning", "", 40)]  # not counted
        + [(T, "SBO", J, B, "", 25), (T, "SBO", J, SO, "", 55), (T, "SBO", J, CO, "", 55), (T, "SBO", J, SV, "", 80),
           (T, "SBO", J, CV, "", 80)])
DUO = {"01AA00": (400, False), "02BB00": (100, False), "03CC00": (250, False)}
TYPE_SCHOOLS = ["01AA00", "02BB00", "03CC00"]


def test_a_school_shows_its_groups_per_100_pupils_and_its_coverage():
    sec = o.school_overlap(cells(ROWS), "01AA00", "SBO", J, DUO, TYPE_SCHOOLS, 20)
    assert sec.shown == V and sec.school.counted and sec.text == ""
    assert [(r.measure, r.count.value, r.per_100) for r in sec.school.rows] == [(B, 20, 5.0), (SO, 45, 11.25), (CO, 30, 7.5)]
    assert sec.school.compared_support.value == 65  # at a school, its leerlingen_ondersteuning
    assert round(sec.school.coverage_per_100, 2) == round(100 * 50 / 55, 2)
    # The type's over its counted schools only (01AA00 and 02BB00: 500 pupils), not 03CC00.
    assert sec.schooltype.schools == 2 and sec.schooltype.pupils.count == 500 and sec.schooltype.rows[0].per_100 == 5.0
    out = sec.to_dict()
    assert out["niveau"] == "school" and out["uitleg"] == o.HOW_TEXT and out["school"]["scholen_geteld"] == 1


def test_a_school_with_only_hidden_groups_shows_its_types_and_never_a_table_of_hidden_values():
    rows = [r for r in ROWS if not (r[1] == "02BB00" and r[3] == CO)] + [(V, "02BB00", J, CO, "", None)]
    sec = o.school_overlap(cells(rows), "02BB00", "SBO", J, DUO, TYPE_SCHOOLS, 20)
    assert sec.school.status == "suppressed" and sec.shown == T and "alle scholen van dit type" in sec.text
    hidden = o.school_overlap(cells([r for r in rows if r[0] == V]), "02BB00", "SBO", J, DUO, TYPE_SCHOOLS, 20)
    assert hidden.shown is None and "te klein" in hidden.text


def test_a_school_without_a_count_says_why_in_one_sentence():
    sec = o.school_overlap(cells(ROWS), "03CC00", "SBO", J, DUO, TYPE_SCHOOLS, 20)
    assert not sec.school.counted and sec.shown is None and sec.text == o.NOT_COUNTED_TEXT
    assert sec.school.rows == () and sec.to_dict()["school"]["status"] == o.NOT_COUNTED


def test_per_100_needs_a_published_count_and_enough_pupils():
    sec = o.school_overlap(cells(ROWS), "02BB00", "SBO", J, {"02BB00": (15, False)}, TYPE_SCHOOLS, 20)
    assert [r.per_100 for r in sec.school.rows] == [None, None, None]  # hidden, hidden, 15 pupils < 20
    assert sec.school.rows[2].count.value == 25


def test_an_swvs_totals_add_its_schools_published_values_and_count_the_hidden_ones():
    rows = ROWS + school("01AA00", 15, 40, 25, 55, 40, 45, 55, jaar=J0)
    total = o.group_total(cells(rows), J, ["01AA00", "02BB00", "03CC00"], B)
    assert (total.value, total.included, total.hidden) == (20, 1, 1)  # 03CC00 has no figure: not in it
    year = o.swv_year(cells(rows), J0, ["01AA00", "02BB00"])
    assert year.both.value == 15 and year.support.value == 55 and year.both.hidden == 0
