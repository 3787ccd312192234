"""BSN canonicalisation and pseudonyms."""

import hashlib
import hmac

import pytest

from shared.errors import ConfigError
from shared.pseudonym import DOMAIN_PREFIX, BsnRejected, Pseudonymiser, canonical_bsn, elfproef, new_key

VALID = "111222333"  # passes the elfproef


def test_elfproef():
    assert elfproef(VALID)
    assert not elfproef("111222334")
    assert not elfproef("000000000")
    assert not elfproef("１２３４５６７８２") and not elfproef("12345678²")  # digits to str.isdigit, not in a BSN


@pytest.mark.parametrize("raw", ["111222333", 111222333, 111222333.0, " 111222333 ", "111222333.0"])
def test_canonical_forms(raw):
    assert canonical_bsn(raw) == VALID


def test_leading_zeros_are_padded_back():
    # 012345672 passes the elfproef; a spreadsheet makes it 12345672
    assert canonical_bsn("12345672") == "012345672"
    assert canonical_bsn(12345672) == "012345672"


@pytest.mark.parametrize(
    "raw,reason",
    [
        ("", "bsn_missing"),
        (None, "bsn_missing"),
        (float("nan"), "bsn_missing"),
        ("12a456789", "bsn_format"),
        ("1234567890", "bsn_format"),
        ("１２３４５６７８２", "bsn_format"),  # full-width digits: digits to str.isdigit, not in a BSN
        ("12345678²", "bsn_format"),
        ("000000000", "bsn_placeholder"),
        ("999999999", "bsn_placeholder"),
        ("111222334", "bsn_elfproef"),
        ("999900006", "bsn_test_range"),
    ],
)
def test_rejections_carry_a_reason_and_no_value(raw, reason):
    with pytest.raises(BsnRejected) as exc:
        canonical_bsn(raw)
    assert exc.value.reason == reason
    assert "111222" not in str(exc.value) and "99990" not in str(exc.value)


def test_test_range_allowed_when_asked():
    assert canonical_bsn("999900006", allow_test_range=True) == "999900006"


def test_pseudonym_is_domain_separated_hmac():
    key = new_key()
    p = Pseudonymiser(key)
    expected = hmac.new(key, DOMAIN_PREFIX + VALID.encode(), hashlib.sha256).digest()
    assert p.pseudonym(VALID) == expected
    assert p.pseudonym(VALID) != hmac.new(key, VALID.encode(), hashlib.sha256).digest()
    assert p.pseudonymise_many([VALID, VALID, "012345672"]) == {
        VALID: expected,
        "012345672": p.pseudonym("012345672"),
    }
    assert p.pseudonyms(["012345672", VALID, VALID]) == [p.pseudonym("012345672"), expected, expected]


def test_key_length_and_repr():
    with pytest.raises(ConfigError):
        Pseudonymiser(b"short")
    key = new_key()
    assert key.hex() not in repr(Pseudonymiser(key))
    assert len(key) == 32
