"""Factsheet sections at the finest published level: the fallback chain, the all-hidden rule, the labels."""

from hub.indicators import figures as f
from hub.indicators.cells import ReleaseCells
from shared.codes import GEEN_CONSORTIUM
from tests.hub.indicators.release_fixtures import release

J = "2024-2025"
V, T = "vestiging", "schooltype"
SCHOOL = "04DA00"
GROUPS = [("basis", "Basis, ambulant en overig"), ("specialistisch", "Specialistisch (jeugd-ggz, daghulp)"),
          ("verblijf-crisis", "Verblijf en crisis")]


def cells(rows):
    return ReleaseCells(release(rows))


def base(clienten=40, type_clienten=400):
    return [(V, SCHOOL, J, "clienten", "", clienten), (V, SCHOOL, J, "leerlingen", "", 300),
            (T, "SO", J, "clienten", "", type_clienten), (T, "SO", J, "leerlingen", "", 3000)]


def sections(rows, may_see=lambda level, measure: True):
    return f.school_sections(cells(rows), SCHOOL, "SO", J, GROUPS, may_see)


def test_school_level_when_one_category_is_published_and_a_hidden_one_stays_hidden():
    rows = base() + [(V, SCHOOL, J, "clienten_zorgtype", "ambulant", 20), (V, SCHOOL, J, "clienten_zorgtype", "verblijf", None),
                     (T, "SO", J, "clienten_zorgtype", "ambulant", 200)]
    sec = sections(rows)["zorgtype"]
    assert sec.level == f.LEVEL_SCHOOL and sec.unit == SCHOOL
    by = {r.category: r for r in sec.table.rows}
    assert by["ambulant"].count.value == 20 and by["ambulant"].share == 0.5
    assert by["verblijf"].count.status == "suppressed" and by["verblijf"].share is None
    assert sec.label == "Cijfers van deze school."


def test_care_types_all_hidden_fall_back_to_the_schools_care_intensity_groups():
    rows = base() + [(V, SCHOOL, J, "clienten_zorgtype", "ambulant", None),
                     (V, SCHOOL, J, "clienten_zorgintensiteit", "basis", 30),
                     (V, SCHOOL, J, "clienten_zorgintensiteit", "specialistisch", None),
                     (T, "SO", J, "clienten_zorgtype", "ambulant", 200)]
    s = sections(rows)
    assert s["zorgtype"].level == f.LEVEL_SCHOOL_GROUPS
    assert [r.category for r in s["zorgtype"].table.rows] == ["basis", "specialistisch", "verblijf-crisis"]
    assert "grotere groepen" in s["zorgtype"].label
    assert s["zorgintensiteit"].level == f.LEVEL_SCHOOL
    assert s["zorgintensiteit"].table.rows[0].share == 0.75


def test_school_all_hidden_falls_back_to_the_school_type_with_its_label():
    rows = base() + [(V, SCHOOL, J, "clienten_zorgintensiteit", "basis", None),
                     (V, SCHOOL, J, "clienten_zorgintensiteit", "specialistisch", None),
                     (T, "SO", J, "clienten_zorgintensiteit", "basis", 250)]
    sec = sections(rows)["zorgintensiteit"]
    assert sec.level == f.LEVEL_SCHOOLTYPE and sec.unit == "SO"
    assert sec.label == "Cijfers van alle scholen van dit type (SO) in de regio; van deze school zelf is te weinig bekend."
    assert sec.table.rows[0].count.value == 250 and sec.table.rows[0].share == 0.625


def test_a_published_total_alone_is_no_table():
    # Every row hidden, only the total published: the table would be nothing but "afgeschermd".
    rows = base() + [(V, SCHOOL, J, "nieuwe_clienten", "", 20), (V, SCHOOL, J, "nieuwe_clienten_verwijzer", "01", None),
                     (T, "SO", J, "nieuwe_clienten", "", 200), (T, "SO", J, "nieuwe_clienten_verwijzer", "01", 120)]
    sec = sections(rows)["verwijzer"]
    assert sec.level == f.LEVEL_SCHOOLTYPE
    assert not f.has_published_row(f.distribution(cells(rows), V, SCHOOL, J, "verwijzer"))


def test_no_level_published_gives_one_sentence_and_no_table():
    rows = base() + [(V, SCHOOL, J, "clienten_consortium", "Lek", None), (T, "SO", J, "clienten_consortium", "Lek", None)]
    s = sections(rows)
    for name in ("zorgtype", "zorgintensiteit", "consortia", "verwijzer", "leeftijd", "aanbieders", "kosten"):
        assert s[name].level == f.LEVEL_NONE and s[name].table is None and not s[name].shown
        assert s[name].label == f.NOTHING_PUBLISHED
        assert s[name].to_dict() == {"niveau": "geen", "uitleg": f.NOTHING_PUBLISHED, "eenheid": None,
                                     "verdeling": None, "aanbieders": None, "kosten": None}


def test_costs_all_hidden_at_the_school_fall_back_to_the_school_type():
    """A school's cost table of nothing but "afgeschermd" is not shown: its type's costs are, said so."""
    hidden = [(V, SCHOOL, J, "kosten", "totaal", None), (V, SCHOOL, J, "kosten", "ambulant", None),
              (V, SCHOOL, J, "clienten_zorgtype", "ambulant", 12)]
    shown = [(T, "SO", J, "kosten", "totaal", 4_000_000_00), (T, "SO", J, "kosten", "ambulant", 1_500_000_00),
             (T, "SO", J, "clienten_zorgtype", "ambulant", 150)]
    sec = sections(base() + hidden + shown)["kosten"]
    assert sec.level == f.LEVEL_SCHOOLTYPE and sec.unit == "SO"
    assert sec.table.total.kosten.value == 4_000_000_00 and sec.table.total.per_client_euro == 10_000
    assert sec.to_dict()["kosten"]["totaal"]["kosten_euro"] == 4_000_000
    # One published cost of the school's own (here a care type's) keeps the school's table.
    own = [(V, SCHOOL, J, "kosten", "totaal", None), (V, SCHOOL, J, "kosten", "ambulant", 90_000_00),
           (V, SCHOOL, J, "clienten_zorgtype", "ambulant", 12)]
    sec = sections(base() + own + shown)["kosten"]
    assert sec.level == f.LEVEL_SCHOOL and sec.table.total.kosten.status == "suppressed"
    # A viewer who may not see costs at the school type gets no table, not the school type's.
    nothing = sections(base() + hidden + shown, may_see=lambda level, measure: not (measure == "kosten" and level == T))
    assert nothing["kosten"].level == f.LEVEL_NONE


def test_a_level_the_viewer_may_not_see_is_skipped():
    rows = base() + [(V, SCHOOL, J, "clienten_zorgintensiteit", "basis", None),
                     (T, "SO", J, "clienten_zorgintensiteit", "basis", 250)]
    sec = sections(rows, may_see=lambda level, measure: level == V)["zorgintensiteit"]
    assert sec.level == f.LEVEL_NONE


def test_consortia_sorted_by_published_count_hidden_by_name_other_providers_last():
    rows = base() + [(V, SCHOOL, J, "clienten_consortium", GEEN_CONSORTIUM, 25),
                     (V, SCHOOL, J, "clienten_consortium", "Zuid", 10), (V, SCHOOL, J, "clienten_consortium", "Noord", 30),
                     (V, SCHOOL, J, "clienten_consortium", "Beek", None), (V, SCHOOL, J, "clienten_consortium", "Aa", None)]
    sec = sections(rows)["consortia"]
    assert sec.level == f.LEVEL_SCHOOL
    assert [r.category for r in sec.table.rows] == ["Noord", "Zuid", "Aa", "Beek", GEEN_CONSORTIUM]
    assert [r.count.value for r in sec.table.rows] == [30, 10, None, None, 25]
    assert sec.table.rows[0].share == 0.75


def test_providers_fall_back_to_the_school_type_only_with_a_published_provider():
    rows = base() + [(V, SCHOOL, J, "clienten_aanbieder", "11000001", None),
                     (T, "SO", J, "clienten_aanbieder", "11000001", 100)]
    sec = sections(rows)["aanbieders"]
    assert sec.level == f.LEVEL_SCHOOLTYPE
    assert sec.to_dict()["aanbieders"]["aanbieders"] == [{"aanbieder_agb": "11000001", "clienten": 100, "aandeel_procent": 25.0}]


def test_section_json_has_no_hidden_value():
    rows = base() + [(V, SCHOOL, J, "clienten_zorgintensiteit", "basis", 30),
                     (V, SCHOOL, J, "clienten_zorgintensiteit", "specialistisch", None, "complementary")]
    d = sections(rows)["zorgintensiteit"].to_dict()
    hidden = [r for r in d["verdeling"]["rijen"] if r["categorie"] == "specialistisch"][0]
    assert hidden["aantal"] == {"value": None, "status": "suppressed"} and hidden["aandeel_procent"] is None
    assert "complementary" not in repr(d)


def test_level_labels():
    assert f.level_label(f.LEVEL_SCHOOL) == "Cijfers van deze school."
    assert "(VO)" in f.level_label(f.LEVEL_SCHOOLTYPE, "VO")
    assert f.level_label(f.LEVEL_NONE) == f.NOTHING_PUBLISHED
