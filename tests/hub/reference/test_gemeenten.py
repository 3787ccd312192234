"""Gemeente names → codes across DUO's spellings."""

from __future__ import annotations

import csv

import pytest

from hub.reference.gemeenten import GemeenteLookup, name_key, packaged_gemeenten

from .conftest import EXAM_FILE


@pytest.mark.parametrize(
    ("a", "b"),
    [("'S-GRAVENHAGE", "S GRAVENHAGE"), ("SÚDWEST-FRYSLÂN", "SUDWEST-FRYSLAN"), ("BERGEN (NH.)", "BERGEN NH"),
     ("NUENEN C.A.", "NUENEN CA"), ("Nieuwegein", "NIEUWEGEIN")],
)
def test_name_key_equates_duo_spellings(a, b):
    assert name_key(a) == name_key(b)


def test_the_two_bergens_stay_apart():
    lookup = GemeenteLookup()
    assert lookup.code_of("BERGEN (NH.)") == "0373"
    assert lookup.code_of("BERGEN (L.)") == "0893"


def test_packaged_list_has_every_municipality():
    gemeenten = packaged_gemeenten()
    assert len(gemeenten) == 342
    assert gemeenten["0356"] == "NIEUWEGEIN"
    assert "9999" not in gemeenten


def test_every_exam_file_name_resolves(duo_dir):
    with EXAM_FILE.open(encoding="utf-8", newline="") as fh:
        names = {r["GEMEENTENAAM"] for r in csv.DictReader(fh, delimiter=";")}
    lookup = GemeenteLookup()
    assert {n for n in names if lookup.code_of(n) is None} == set()


def test_database_names_extend_the_list():
    lookup = GemeenteLookup({"0999": "NIEUWSTAD", "9999": "ONBEKEND"})
    assert lookup.code_of("Nieuwstad") == "0999"
    assert lookup.code_of("ONBEKEND") is None
