"""The privacy boundary: the vectorised BSN check equals shared.canonical_bsn, and readers hand out pseudonyms only."""

from __future__ import annotations

import hashlib
import hmac

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from node_agent.pseudonymise import check_bsn, pseudonymise
from shared.pseudonym import DOMAIN_PREFIX, BsnRejected, Pseudonymiser, canonical_bsn
from tests.node_agent.helpers import B, PS, invalid_bsn, issues, jeugdhulp_row, jh, leerling_row, ll, valid_bsns


# --- the reader's BSN check equals shared.canonical_bsn ---------------------------------------------

ZERO = next(b for b in valid_bsns(200, start=10_000_000) if b.startswith("0"))
TEST_BSN = "999900006"  # the first number of the reserved test range, and it passes the elfproef

#: (value as it arrives, the reason it is rejected or "" when accepted), the same with and without the test range.
EDGE_CASES = [
    (B[0], ""),
    (ZERO, ""),
    (ZERO.lstrip("0"), ""),  # a spreadsheet made a number of it: zeros padded back
    (ZERO.lstrip("0") + ".0", ""),  # ... and a float
    (ZERO.lstrip("0").zfill(7), ""),  # some zeros stripped
    (f" {B[1]} ", ""),
    (B[2] + "\t", ""),
    (invalid_bsn(B[3]), "bsn_elfproef"),
    (invalid_bsn(ZERO).lstrip("0"), "bsn_elfproef"),
    ("1", "bsn_elfproef"),
    ("000000000", "bsn_placeholder"),
    ("0", "bsn_placeholder"),  # 000000000 after padding
    ("999999999", "bsn_placeholder"),
    ("999999999.0", "bsn_placeholder"),
    (TEST_BSN, "bsn_test_range"),
    ("999999990", "bsn_test_range"),  # the last one
    ("", "bsn_missing"),
    ("   ", "bsn_missing"),
    ("12345678A", "bsn_format"),
    ("1234-5678", "bsn_format"),
    ("+12345672", "bsn_format"),
    ("1.2345672e8", "bsn_format"),
    ("1234567890", "bsn_format"),  # ten digits
    ("0123456789", "bsn_format"),  # ten characters, even with a leading zero
    ("１２３４５６７８２", "bsn_format"),  # full-width digits: digits to str.isdigit and int(), not in a BSN
    ("١٢٣٤٥٦٧٨٢", "bsn_format"),  # Arabic-Indic digits, the same
    ("12345678²", "bsn_format"),  # int() refuses "²": this crashed the reader with a ValueError
    ("12345672.5", "bsn_format"),
]


@pytest.mark.parametrize("allow_test_range", [False, True])
def test_bsn_check_accepts_and_rejects_what_canonical_bsn_does(allow_test_range):
    values = np.array([v for v, _ in EDGE_CASES], dtype=object)
    ints, reasons = check_bsn(values, allow_test_range)
    for (value, expected), i, reason in zip(EDGE_CASES, ints, reasons):
        if allow_test_range and expected == "bsn_test_range":
            expected = ""
        try:
            canonical = canonical_bsn(value, allow_test_range=allow_test_range)
        except BsnRejected as exc:
            assert (exc.reason, reason) == (expected, expected), repr(value)
        else:
            assert (expected, reason, f"{i:09d}") == ("", "", canonical), repr(value)


bsn_like = st.one_of(
    st.sampled_from(B + [invalid_bsn(b) for b in B] + ["000000000", "999999999", "999900006", "", " ", "12345672.0"]),
    st.integers(0, 10**10).map(str),
    st.text(alphabet="0123456789 .aX-", max_size=11),
)


@settings(max_examples=120, deadline=None)
@given(st.lists(bsn_like, min_size=1, max_size=30), st.booleans())
def test_vectorised_bsn_check_equals_canonical_bsn(values, allow):
    ints, reasons = check_bsn(np.array(values, dtype=object), allow)
    for v, i, r in zip(values, ints, reasons):
        try:
            expected = canonical_bsn(v, allow_test_range=allow)
            assert r == "" and f"{i:09d}" == expected
        except BsnRejected as exc:
            assert r == exc.reason


def test_leading_zeros_stripped_by_a_spreadsheet_are_padded_back(tmp_path):
    zero = next(b for b in valid_bsns(200, start=10_000_000) if b.startswith("0"))
    e = ll(tmp_path / "l.csv", [leerling_row(zero.lstrip("0"), "04DA00"), leerling_row(zero.lstrip("0") + ".0", "04DA01")])
    # both rows are the same child: the second is a duplicate of the first
    assert e.report.rows_used == 1 and issues(e.report) == {"leerling_dubbel": [3]}
    assert e.data["pseudonym"][0] == PS.pseudonym(zero)


def test_pseudonyms_link_files_and_bsns_do_not_leave_the_reader(tmp_path):
    e = jh(tmp_path / "jh.csv", [jeugdhulp_row(B[0], "T1")])
    l = ll(tmp_path / "l.csv", [leerling_row(B[0], "04DA00")])
    assert e.data["pseudonym"][0] == l.data["pseudonym"][0] == PS.pseudonym(B[0])
    for frame in (e.data, l.data):
        assert "bsn" not in frame.columns
        assert all(isinstance(p, bytes) and len(p) == 32 for p in frame["pseudonym"])
        text = frame.drop(columns="pseudonym").to_string()
        assert B[0] not in text and B[0].lstrip("0") not in text


@pytest.mark.parametrize("key", [bytes(range(32)), b"x" * 64, b"y" * 100])
def test_reader_pseudonyms_are_the_domain_separated_hmac(key):
    ints = np.array([int(B[0]), int(B[1]), int(B[0]), 12345672], dtype=np.int64)
    got = pseudonymise(ints, Pseudonymiser(key), batch=2)
    expected = [hmac.new(key, DOMAIN_PREFIX + f"{i:09d}".encode(), hashlib.sha256).digest() for i in ints]
    assert list(got) == expected
