"""Encoding and delimiter detection, line numbers, unusable files."""

from __future__ import annotations

import pytest

from hub.reference.reading import decode, parse_bytes, read_csv, sniff_delimiter
from shared.errors import ExtractError


def test_utf8_with_bom_is_detected_and_stripped():
    text, enc = decode("\ufeffNAAM;PLAATS\r\nCafé;Zoë\r\n".encode("utf-8"), "f.csv")
    assert enc == "utf-8-sig"
    assert text.startswith("NAAM") and "Café" in text


def test_utf8_without_bom():
    text, enc = decode("NAAM;PLAATS\r\nSúdwest-Fryslân;x\r\n".encode("utf-8"), "f.csv")
    assert enc == "utf-8" and "Súdwest-Fryslân" in text


def test_windows_1252_fallback_keeps_the_characters():
    raw = "NAAM;PLAATS\r\nDalton Kindcentrum ’t Kompas;Wrâldwizer\r\n".encode("cp1252")
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")
    text, enc = decode(raw, "f.csv")
    assert enc == "cp1252"
    assert "’t Kompas" in text and "Wrâldwizer" in text


def test_bom_with_invalid_utf8_is_unusable_not_guessed():
    with pytest.raises(ExtractError) as info:
        decode(b"\xef\xbb\xbfA;B;C\r\n\xe9;x;y\r\n", "kapot.csv")
    assert info.value.code == "bad_encoding"
    assert "kapot.csv" in info.value.message


def test_bytes_undefined_in_windows_1252_are_unusable():
    with pytest.raises(ExtractError) as info:
        decode(b"A;B;C\r\n\x81\x8d;x;y\r\n", "vreemd.csv")
    assert info.value.code == "bad_encoding"


@pytest.mark.parametrize(
    ("header", "expected"),
    [("A;B;C", ";"), ("A,B,C", ","), ("A\tB\tC", "\t"), ('"A;1","B;2","C"', ","), ('"A,1";"B";"C"', ";")],
)
def test_delimiter_from_the_header(header, expected):
    assert sniff_delimiter(header) == expected


def test_rows_carry_line_numbers_and_skip_blank_lines():
    data = b"A;B;C\r\n1;2;3\r\n\r\n4;5;6\r\n"
    csv_text = parse_bytes(data, "f.csv")
    assert csv_text.header == ["A", "B", "C"]
    assert list(csv_text.rows()) == [(2, ["1", "2", "3"]), (4, ["4", "5", "6"])]


def test_header_names_are_normalised():
    csv_text = parse_bytes("\ufeff brin  nummer ;Vestigingsnummer;x\r\n".encode("utf-8"), "f.csv")
    assert csv_text.header == ["BRIN NUMMER", "VESTIGINGSNUMMER", "X"]


@pytest.mark.parametrize(
    ("data", "code"),
    [(b"", "empty_file"), (b"  \r\n", "empty_file"), (b"PK\x03\x04\x00\x00binary", "not_csv"), (b"alleen tekst\r\n", "unknown_layout")],
)
def test_unusable_files(data, code):
    with pytest.raises(ExtractError) as info:
        parse_bytes(data, "x.csv")
    assert info.value.code == code
    assert info.value.message.startswith("x.csv")


def test_missing_file(tmp_path):
    with pytest.raises(ExtractError) as info:
        read_csv(tmp_path / "bestaat-niet.csv")
    assert info.value.code == "file_not_found"
