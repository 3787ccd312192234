"""Parsing text values: dates in the accepted notations; the numpy fast path agrees with the exact path."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from node_agent.read.parse import debet_credit, fast_iso_dates, parse_amounts, parse_date_text, parse_dates


@pytest.mark.parametrize(
    "text,expected",
    [("2024-09-01", "2024-09-01"), ("01-09-2024", "2024-09-01"), ("1-9-2024", "2024-09-01"),
     ("2024-09-01 00:00:00", "2024-09-01"), ("2024-02-29", "2024-02-29"), ("2023-02-29", None),
     ("31-04-2024", None), ("2024/09/01", None), ("", None), ("1850-01-01", None)],
)
def test_dates(text, expected):
    got = parse_date_text(text)
    assert (str(got) if not np.isnat(got) else None) == expected


@settings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(st.dates().map(str), st.text(alphabet="0123456789- ", min_size=8, max_size=11)), max_size=20))
def test_fast_iso_dates_agree_with_the_exact_parser(texts):
    values = np.array(texts, dtype=object)
    fast, ok = fast_iso_dates(values)
    exact = np.array([parse_date_text(t.strip()) for t in texts], dtype="datetime64[D]")
    assert (fast[ok] == exact[ok]).all()
    dates, empty = parse_dates(values)
    assert np.array_equal(dates, exact, equal_nan=True)
    assert list(empty) == [t.strip() == "" for t in texts]


def test_amounts_in_eurocent_and_in_euro():
    cents, empty = parse_amounts(np.array(["100", " 7 ", "-5", "12.0", "", "1,5", "1" * 16], dtype=object), euro=False)
    assert list(cents[:4]) == [100, 7, -5, 12] and np.isnan(cents[4:]).all()
    assert list(empty) == [False, False, False, False, True, False, False]
    cents, empty = parse_amounts(np.array(["12,50", "€ 3", "-7.05", "1.234,5", " ", "1,234"], dtype=object), euro=True)
    assert list(cents[:3]) == [1250, 300, -705] and np.isnan(cents[3:]).all()
    assert list(empty) == [False, False, False, False, True, False]


def test_debet_credit_signs():
    assert list(debet_credit(np.array(["D", "", "C", "c", " d ", "X"], dtype=object))) == [1, 1, -1, -1, 1, 0]
