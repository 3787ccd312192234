"""Files as read: encodings, delimiters, newlines, line numbers, unreadable files and spreadsheets."""

from __future__ import annotations

import datetime as dt

import pytest

from node_agent.read import ReadOptions, read_declaraties, read_jeugdhulp, read_leerlingen, read_location_registry
from shared.codes import zorgtype_table
from shared.errors import ExtractError
from tests.node_agent.helpers import (
    B,
    JEUGDHULP_HEADER,
    LEERLINGEN_HEADER,
    PS,
    invalid_bsn,
    issues,
    jeugdhulp_row,
    leerling_row,
    valid_bsns,
    write_csv,
    write_xlsx,
)


def test_rows_with_a_wrong_number_of_fields_keep_their_line_numbers(tmp_path):
    path = tmp_path / "jh.csv"
    good = ",".join(jeugdhulp_row(B[0], "T1"))
    text = ",".join(JEUGDHULP_HEADER) + "\n" + good + "\n" + good.replace("T1", "T2") + ",extra\n"
    text += ",".join(jeugdhulp_row(B[2], "T3")) + "\n" + ",".join(jeugdhulp_row(invalid_bsn(B[3]), "T4")) + "\n"
    path.write_text(text)
    e = read_jeugdhulp(ReadOptions(path, "jeugdhulp"), PS, zorgtype_table())
    assert issues(e.report) == {"kolommen_aantal": [3], "bsn_elfproef": [5]}
    assert e.report.rows_read == 4 and e.report.rows_used == 2
    assert list(e.data["line"]) == [2, 4]


def _jh_text(tmp_path, body: str):
    path = tmp_path / "jh.csv"
    path.write_text(",".join(JEUGDHULP_HEADER) + "\n" + body, encoding="utf-8")
    return read_jeugdhulp(ReadOptions(path, "jeugdhulp"), PS, zorgtype_table())


def test_a_first_line_with_a_field_too_many_is_rejected_like_any_other(tmp_path):
    # pandas took such a first line as an index column and shifted every column of the file
    good = ",".join(jeugdhulp_row(B[0], "T1"))
    e = _jh_text(tmp_path, good.replace("T1", "T0") + ",\n" + good + "\n")
    assert issues(e.report) == {"kolommen_aantal": [2]} and list(e.data["line"]) == [3]


def test_short_blank_and_quoted_lines_keep_their_record_numbers(tmp_path):
    row = jeugdhulp_row(B[0], "T1")
    short = ",".join(row[:9])  # the missing fields (einddatum, reden_wijziging) are empty
    named = ",".join(row[:6] + ['"Zorg, ""Hoekje""\nAfdeling 2"'] + row[7:]).replace("T1", "T2")
    text = short + "\n\n,,\n   \n" + named + "\n" + ",".join(jeugdhulp_row(B[1], "T3")) + ",x\n"
    text += ",".join(jeugdhulp_row(B[2], "T4"))  # no line end after the last line
    e = _jh_text(tmp_path, text)
    # records, not physical lines: the quoted line end does not shift the numbers after it;
    # spaces in the first field make a line not blank
    assert issues(e.report) == {"bsn_missing": [5], "kolommen_aantal": [7]}
    assert issues(e.report, "excluded") == {"lege_regel": [3, 4]}
    assert list(e.data["line"]) == [2, 6, 8] and list(e.data["toewijzingnummer"]) == ["T1", "T2", "T4"]
    # the short lines are told with their field counts (line 5, "   ", is one field, rejected for its
    # missing BSN); the blank ",," (3 fields) is only a blank line
    n = len(JEUGDHULP_HEADER)
    assert e.report.short_count == 2 and e.report.short_examples == [(2, 9), (5, 1)]
    assert e.report.to_dict()["notes"] == [e.report.short_note()]
    assert f"2 regel(s) hebben minder velden dan de kopregel ({n} velden): regel 2 (9 velden), regel 5 (1 veld)." in e.report.short_note()


def test_a_short_line_missing_a_required_field_is_rejected_under_that_field_and_told(tmp_path):
    row = jeugdhulp_row(B[0], "T1")
    cut = JEUGDHULP_HEADER.index("ingangsdatum")
    e = _jh_text(tmp_path, ",".join(row[:cut]) + "\n" + ",".join(jeugdhulp_row(B[1], "T2")) + "\n")
    assert issues(e.report) == {"ingangsdatum_ontbreekt": [2]}
    assert e.report.short_count == 1 and e.report.short_examples == [(2, cut)]
    assert e.report.rows_read == 2 and e.report.rows_used == 1


def test_a_quote_left_open_makes_the_file_unreadable(tmp_path):
    with pytest.raises(ExtractError) as err:
        _jh_text(tmp_path, ",".join(jeugdhulp_row(B[0], "T1")) + '\n"' + ",".join(jeugdhulp_row(B[1], "T2")) + "\n")
    assert err.value.code == "unreadable_csv" and "jh.csv" in err.value.message
    assert err.value.details["line"] == 3 and "regel 3" in err.value.message
    # a closed quoted value before it does not count; the one left open is named
    rows = [",".join(jeugdhulp_row(b, f"T{i}")) for i, b in enumerate(B[:4])]
    rows[0] = rows[0].replace("T0", '"T,0"')
    rows[2] = rows[2].replace("T2", '"T2')
    with pytest.raises(ExtractError) as err:
        _jh_text(tmp_path, "\n".join(rows) + "\n")
    assert err.value.details["line"] == 4


def test_a_header_without_line_end_is_an_empty_extract(tmp_path):
    path = tmp_path / "jh.csv"
    path.write_text(",".join(JEUGDHULP_HEADER), encoding="utf-8")
    e = read_jeugdhulp(ReadOptions(path, "jeugdhulp"), PS, zorgtype_table())
    assert e.report.rows_read == 0 and len(e.data) == 0


@pytest.mark.parametrize(
    "encoding,label",
    [("utf-8", "UTF-8"), ("utf-8-sig", "UTF-8 met BOM"), ("cp1252", "Windows-1252")],
)
@pytest.mark.parametrize("delimiter", [",", ";", "\t"])
@pytest.mark.parametrize("newline", ["\n", "\r\n"])
def test_encodings_delimiters_newlines(tmp_path, encoding, label, delimiter, newline):
    rows = [jeugdhulp_row(B[0], "T1"), jeugdhulp_row(B[1], "T2", start="15-10-2024", end="31-12-2024")]
    rows[0][6] = "Zorg & Welzijn Café ’t Hoekje"  # é and ’ differ between UTF-8 and Windows-1252
    path = write_csv(tmp_path / "jh.csv", JEUGDHULP_HEADER, rows, delimiter=delimiter, encoding=encoding, newline=newline)
    e = read_jeugdhulp(ReadOptions(path, "jeugdhulp"), PS, zorgtype_table())
    assert e.report.encoding == label
    assert e.report.delimiter == {"\t": "tab"}.get(delimiter, delimiter)
    assert e.report.rows_used == 2 and e.report.rows_read == 2
    assert list(e.data["einddatum"].dt.date) == [dt.date(9999, 12, 31), dt.date(2024, 12, 31)]
    assert list(e.data["ingangsdatum"].dt.date) == [dt.date(2024, 9, 1), dt.date(2024, 10, 15)]


def test_unreadable_encoding_is_an_extract_error(tmp_path):
    path = tmp_path / "jh.csv"
    path.write_bytes((",".join(JEUGDHULP_HEADER) + "\n").encode() + b"\x81\x8d\x8f\x90\x9d\n")
    with pytest.raises(ExtractError) as err:
        read_jeugdhulp(ReadOptions(path, "jeugdhulp"), PS, zorgtype_table())
    assert err.value.code == "unreadable_encoding" and "jh.csv" in err.value.message


def test_a_bom_promises_utf8_so_invalid_utf8_after_it_is_unreadable(tmp_path):
    # shared.textfiles' rule, as in the hub: not guessed as Windows-1252 (which made the BOM part of the first column name)
    path = tmp_path / "jh.csv"
    path.write_bytes(b"\xef\xbb\xbf" + (",".join(JEUGDHULP_HEADER) + "\n").encode() + b"\xe9\n")
    with pytest.raises(ExtractError) as err:
        read_jeugdhulp(ReadOptions(path, "jeugdhulp"), PS, zorgtype_table())
    assert err.value.code == "unreadable_encoding" and "jh.csv" in err.value.message


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "auto"])
def test_one_bad_byte_in_a_utf8_file_names_its_line(tmp_path, encoding):
    # The byte lies within the first block a text read decodes for the header: that read raised before.
    path = tmp_path / "jh.csv"
    rows = [",".join(jeugdhulp_row(b, f"T{i}")) for i, b in enumerate(valid_bsns(60, start=300_000_000))]
    rows[47] = rows[47].replace("T47", "Caf\xe9")
    text = "\n".join([",".join(JEUGDHULP_HEADER), *rows]) + "\n"
    path.write_bytes(b"\xef\xbb\xbf" + text.encode("latin-1"))
    with pytest.raises(ExtractError) as err:
        read_jeugdhulp(ReadOptions(path, "jeugdhulp", encoding=encoding), PS, zorgtype_table())
    assert err.value.code == "unreadable_encoding"
    assert err.value.details["line"] == 49 and err.value.details["byte"] == "0xE9"
    assert "Regel 49" in err.value.message and "jh.csv" in err.value.message


def test_xlsx_with_numbers_dates_and_floats(tmp_path):
    zero = next(b for b in valid_bsns(200, start=10_000_000) if b.startswith("0"))
    rows = [
        [int(zero), dt.datetime(2015, 5, 5), "T1", 45, None, 98000001, "A", "02", dt.date(2024, 9, 1), None, None],
        [float(B[1]), "05-05-2015", "T2", "51", "", "98000002", "B", 4, "2024-09-01", dt.datetime(2025, 1, 31), ""],
        [B[2], "2015-05-05", "T3", "99", "", "98000002", "B", "", "2024-09-01", "", ""],
    ]
    path = write_xlsx(tmp_path / "jh.xlsx", JEUGDHULP_HEADER, rows)
    e = read_jeugdhulp(ReadOptions(path, "jeugdhulp"), PS, zorgtype_table())
    assert e.report.format == "XLSX"
    assert issues(e.report) == {"productcategorie_onbekend": [4]}
    assert list(e.data["verwijzer"]) == ["02", "04"]
    assert e.data["pseudonym"][0] == PS.pseudonym(zero)
    header = ["toewijzingnummer", "periode_begin", "bedrag"]
    d = read_declaraties(ReadOptions(write_xlsx(tmp_path / "d.xlsx", header, [["T1", dt.date(2024, 9, 1), 12.5], ["T2", "2024-09-01", 3]]),
                                     "declaraties"), e)
    assert list(d.data["bedrag_eurocent"]) == [1250, 300]


def test_xlsx_sheet_by_name(tmp_path):
    import openpyxl

    wb = openpyxl.Workbook()
    wb.active.title = "Toelichting"
    ws = wb.create_sheet("Leerlingen")
    ws.append(LEERLINGEN_HEADER)
    ws.append(leerling_row(B[0], "04DA00"))
    wb.save(tmp_path / "l.xlsx")
    e = read_leerlingen(ReadOptions(tmp_path / "l.xlsx", "leerlingen", sheet="Leerlingen"), PS, "0356")
    assert e.report.rows_used == 1
    with pytest.raises(ExtractError, match="tabblad"):
        read_leerlingen(ReadOptions(tmp_path / "l.xlsx", "leerlingen", sheet="Blad9"), PS, "0356")


def test_location_registry_by_vestigingscode_or_brin_and_number(tmp_path):
    by_code = tmp_path / "v.csv"
    by_code.write_text("VESTIGINGSCODE;NAAM\n04DA00;De Linde\n05xb01;Het Anker\nonzin;x\n", encoding="cp1252")
    assert read_location_registry(by_code) == {"04DA00", "05XB01"}
    by_brin = tmp_path / "b.csv"
    by_brin.write_bytes("\ufeffINSTELLINGSCODE,VESTIGINGSNUMMER,NAAM\n04DA,1,Zoë\n04DA,12,Café\n".encode())
    assert read_location_registry(by_brin) == {"04DA01", "04DA12"}
    unreadable = tmp_path / "u.csv"
    unreadable.write_bytes(b"VESTIGINGSCODE\n\x81\x8d\n")
    with pytest.raises(ExtractError) as err:
        read_location_registry(unreadable)
    assert err.value.code == "unreadable_encoding"
    (tmp_path / "n.csv").write_text("NAAM\nDe Linde\n")
    with pytest.raises(ExtractError, match="vestigingscode"):
        read_location_registry(tmp_path / "n.csv")


def test_a_file_with_another_separator_than_configured_says_so(tmp_path):
    path = write_csv(tmp_path / "jh.csv", JEUGDHULP_HEADER, [jeugdhulp_row(B[0], "T1")], delimiter=";")
    with pytest.raises(ExtractError) as err:
        read_jeugdhulp(ReadOptions(path, "jeugdhulp", delimiter=","), PS, zorgtype_table())
    assert err.value.code == "wrong_delimiter" and "gescheiden door ';'" in err.value.message
    assert 'delimiter = ";"' in err.value.message
    assert read_jeugdhulp(ReadOptions(path, "jeugdhulp", delimiter="auto"), PS, zorgtype_table()).report.rows_used == 1
