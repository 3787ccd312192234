"""Code lists and date helpers."""

from datetime import date

import pytest

from shared.codes import (
    CLIENT_ZORGTYPES,
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
