"""Code lists and date helpers."""

from datetime import date

import pytest

from shared.codes import (
    CLIENT_ZORGTYPES,
    ONDERSTEUNING_GROUP_CODES,
    ONDERSTEUNING_PRIORITY,
    ONDERSTEUNINGSSOORTEN,
    node_kind,
    normalise_node_code,
    normalise_swv_code,
    ondersteuningssoort,
    age_band,
    age_on,
    default_peildatum,
    normalise_gemeentecode,
    parse_schooljaar,
    schooljaar_of,
    zorgtype_table,
)
from shared.errors import ConfigError


def test_zorgtype_table_and_override():
    t = zorgtype_table()
    assert t.zorgtype("45") == "ambulant"
    assert t.zorgtype("42") == "vervoer" and "vervoer" not in CLIENT_ZORGTYPES
    assert t.zorgtype("99") is None
    t2 = zorgtype_table(productcodes={"45A03": "maatwerk"})
    assert t2.zorgtype("45", "45A03") == "maatwerk"
    with pytest.raises(ConfigError):
        zorgtype_table({"45": "nonsense"})


def test_school_year_helpers():
    assert parse_schooljaar("2024-2025") == (date(2024, 8, 1), date(2025, 7, 31))
    assert schooljaar_of(date(2025, 7, 31)) == "2024-2025"
    assert schooljaar_of(date(2025, 8, 1)) == "2025-2026"
    assert default_peildatum("2024-2025") == date(2024, 10, 1)
    with pytest.raises(ValueError):
        parse_schooljaar("2024-2026")


def test_ages():
    assert age_on(date(2014, 10, 2), date(2024, 10, 1)) == 9
    assert age_band(9) == "9-11" and age_band(3) == "0-3" and age_band(19) == "18+"


@pytest.mark.parametrize("raw", ["285", "0285", "GM0285", 285])
def test_gemeentecode(raw):
    assert normalise_gemeentecode(raw) == "0285"


@pytest.mark.parametrize("raw", ["PO-26-07", "po 26.07", "PO2607", " PO_26_07 "])
def test_swv_code(raw):
    assert normalise_swv_code(raw) == "PO2607" and node_kind(normalise_swv_code(raw)) == "swv"


def test_node_codes_of_both_kinds_never_look_alike():
    assert normalise_node_code("356") == "0356" and node_kind("0356") == "gemeente"
    assert normalise_node_code("vo-26-07") == "VO2607" and node_kind("VO2607") == "swv"
    for bad in ("PO26", "XO2607", "Nieuwegein", "035"):
        with pytest.raises(ValueError):
            node_kind(bad)
    with pytest.raises(ValueError):
        normalise_node_code("PO-26")


@pytest.mark.parametrize("text,slug", [
    ("TLV SO categorie hoog", "tlv-so-hoog"), ("tlv_so_laag", "tlv-so-laag"), ("TLV-VSO cat. 2", "tlv-so-midden"),
    ("TLV SBO", "tlv-sbo"), ("PrO", "pro"), ("Praktijkonderwijs", "pro"), ("LWOO", "lwoo"),
    ("Leerwegondersteuning", "lwoo"), ("Arrangement", "arrangement"), ("OPP", "opp"),
    ("ontwikkelingsperspectiefplan", "opp"), ("Thuiszitter", "thuiszitter"),
    ("TLV SO", None), ("rugzak", None), ("", None),
])
def test_soort_spellings(text, slug):
    assert ondersteuningssoort(text) == slug


def test_every_soort_has_a_group_and_the_groups_a_documented_priority():
    assert {s.group for s in ONDERSTEUNINGSSOORTEN} == set(ONDERSTEUNING_GROUP_CODES)
    assert ONDERSTEUNING_GROUP_CODES == ("tlv-so", "tlv-sbo", "pro", "lwoo", "arrangement", "opp", "thuiszitter")
    assert [ONDERSTEUNING_PRIORITY[g] for g in ONDERSTEUNING_GROUP_CODES] == list(range(7))
