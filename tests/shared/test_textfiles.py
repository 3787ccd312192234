"""Encoding detection and delimiter sniffing shared by the agent and the hub."""

import pytest

from shared.errors import ExtractError
from shared.textfiles import decode, sniff_delimiter


def test_bom_utf8_and_cp1252():
    assert decode(b"\xef\xbb\xbfna\xc3\xafef", "f.csv") == ("naïef", "utf-8-sig")
    assert decode("naïef".encode("utf-8"), "f.csv") == ("naïef", "utf-8")
    assert decode("naïef".encode("cp1252"), "f.csv") == ("naïef", "cp1252")


def test_undecodable_bytes_name_the_file():
    with pytest.raises(ExtractError, match="f.csv"):
        decode(b"\xef\xbb\xbf\xff", "f.csv")  # BOM promises UTF-8
    with pytest.raises(ExtractError, match="f.csv"):
        decode(b"\x81\x8d", "f.csv")  # undefined in Windows-1252


@pytest.mark.parametrize(
    "header,expected", [("a;b;c", ";"), ("a,b,c", ","), ("a\tb", "\t"), ('"x;y",b,c', ","), ("a|b|c", "|")]
)
def test_sniff(header, expected):
    assert sniff_delimiter(header) == expected
