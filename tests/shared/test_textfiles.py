"""Encoding detection and delimiter sniffing shared by the agent and the hub."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shared.errors import ExtractError
from shared.textfiles import UTF8_BOM, decode, detect_encoding, sniff_delimiter


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


@settings(max_examples=300, deadline=None)
@given(
    st.booleans(),
    st.lists(st.sampled_from([b"a;b", b"\r\n", "\u00e9".encode(), "\u2019".encode(), "\u20ac".encode(),
                              "\u00ef".encode("cp1252"), b"\x81", b"\xff", b"\xe9", b"\xc3", "\U0001d11e".encode()]),
             max_size=25).map(b"".join),
    st.integers(1, 7),
)
def test_streamed_detection_finds_what_decode_finds(tmp_path_factory, bom, body, block):
    """The agent streams a file in blocks; characters split over blocks, and the error's byte, come out the same."""
    data = (UTF8_BOM if bom else b"") + body
    path = tmp_path_factory.mktemp("enc") / "f.csv"
    path.write_bytes(data)
    try:
        expected: object = decode(data, "f.csv")[1]
    except ExtractError as exc:
        expected = exc.to_dict()
    try:
        got: object = detect_encoding(path, block_bytes=block)
    except ExtractError as exc:
        got = exc.to_dict()
    assert got == expected
