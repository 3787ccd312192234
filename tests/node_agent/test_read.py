"""Reading extracts: every validation rule with its line and column, every file variant, the accounting identity."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from node_agent.read import (
    REASONS,
    ReadOptions,
    check_bsn,
    parse_date_text,
    read_declaraties,
    read_jeugdhulp,
    read_leerlingen,
)
from shared.codes import zorgtype_table
from shared.errors import ExtractError
from shared.pseudonym import BsnRejected, Pseudonymiser, canonical_bsn
from tests.node_agent.helpers import (
    DECLARATIES_HEADER,
    JEUGDHULP_HEADER,
    LEERLINGEN_HEADER,
    invalid_bsn,
    jeugdhulp_row,
    leerling_row,
    valid_bsns,
    write_csv,
    write_xlsx,
)

KEY = bytes(range(32))
PS = Pseudonymiser(KEY)
B = valid_bsns(20)


def jh(path: Path, rows, **kw):
    write_csv(path, JEUGDHULP_HEADER, rows, **kw)
    return read_jeugdhulp(ReadOptions(path, "jeugdhulp"), PS, zorgtype_table())


def ll(path: Path, rows, gemeente="0356", header=LEERLINGEN_HEADER, **kw):
    write_csv(path, header, rows, **kw)
    return read_leerlingen(ReadOptions(path, "leerlingen"), PS, gemeente)


def issues(report, kind="rejected"):
    return {code: list(map(int, i.all_lines())) for code, i in getattr(report, kind).items()}


# --- every rule: the reason, its line (header = line 1) and its column ----------------------------

JEUGDHULP_RULES = [
    ("bsn_missing", dict(bsn="")),
    ("bsn_format", dict(bsn="12345678A")),
    ("bsn_format", dict(bsn="1234567890")),
    ("bsn_placeholder", dict(bsn="000000000")),
    ("bsn_placeholder", dict(bsn="999999999")),
    ("bsn_elfproef", dict(bsn=invalid_bsn(B[5]))),
    ("bsn_test_range", dict(bsn="999900006")),
    ("geboortedatum_ontbreekt", dict(geboortedatum="")),
    ("geboortedatum_ongeldig", dict(geboortedatum="2015-02-30")),
    ("toewijzingnummer_ontbreekt", dict(nr="")),
    ("toewijzingnummer_dubbel", dict(nr="T1")),
    ("productcategorie_onbekend", dict(cat="99")),
    ("productcode_te_lang", dict(productcode="123456")),
    ("aanbieder_agb_ontbreekt", dict(agb="")),
    ("aanbieder_agb_ongeldig", dict(agb="9800001")),
    ("verwijzer_onbekend", dict(verwijzer="07")),
    ("ingangsdatum_ontbreekt", dict(start="")),
    ("ingangsdatum_ongeldig", dict(start="01/09/2024")),
    ("einddatum_ongeldig", dict(end="2024-13-01")),
    ("einddatum_voor_ingangsdatum", dict(start="2024-09-01", end="2024-08-31")),
    ("ingangsdatum_voor_geboorte", dict(start="2014-01-01")),
]


def _jh_row(nr="T2", bsn=None, start="2024-09-01", end="", **kw):
    return jeugdhulp_row(bsn if bsn is not None else B[1], nr, kw.pop("cat", "45"), start, end, **kw)


@pytest.mark.parametrize("reason,change", JEUGDHULP_RULES, ids=[f"{r}-{i}" for i, (r, _) in enumerate(JEUGDHULP_RULES)])
def test_jeugdhulp_rule(tmp_path, reason, change):
    rows = [jeugdhulp_row(B[0], "T1"), _jh_row(**change), jeugdhulp_row(B[2], "T3")]
    e = jh(tmp_path / "jh.csv", rows)
    assert issues(e.report) == {reason: [3]}
    assert e.report.rows_read == 3 and e.report.rows_used == 2
    column, message = REASONS[reason]
    assert e.report.rejected[reason].column == column and e.report.rejected[reason].message == message
    assert column in JEUGDHULP_HEADER


def test_jeugdhulp_exclusions_are_counted_by_rule(tmp_path):
    path = tmp_path / "jh.csv"
    rows = [jeugdhulp_row(B[0], "T1"), jeugdhulp_row(B[1], "T2", reden="13"), [""] * 11, jeugdhulp_row(B[2], "T3")]
    e = read_jeugdhulp(ReadOptions(write_csv(path, JEUGDHULP_HEADER, rows), "jeugdhulp"), PS, zorgtype_table())
    assert issues(e.report, "excluded") == {"reden_wijziging_13": [3], "lege_regel": [4]}
    assert e.report.rows_read == 4 and e.report.rows_used == 2 and e.report.rows_rejected == 0
    assert list(e.excluded_numbers) == ["T2"]


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


def test_test_range_allowed_with_the_switch(tmp_path):
    path = write_csv(tmp_path / "jh.csv", JEUGDHULP_HEADER, [jeugdhulp_row("999900006", "T1")])
    e = read_jeugdhulp(ReadOptions(path, "jeugdhulp"), PS, zorgtype_table(), allow_test_bsn=True)
    assert e.report.rows_used == 1


DECLARATIE_RULES = [
    ("toewijzingnummer_ontbreekt", ["", "2024-09-01", "", "100", "D"]),
    ("toewijzing_onbekend", ["TX", "2024-09-01", "", "100", "D"]),
    ("toewijzing_afgekeurd", ["TBAD", "2024-09-01", "", "100", "D"]),
    ("toewijzing_verwijderd", ["TDEL", "2024-09-01", "", "100", "D"]),
    ("periode_begin_ontbreekt", ["T1", "", "", "100", "D"]),
    ("periode_begin_ongeldig", ["T1", "2024-09-31", "", "100", "D"]),
    ("periode_einde_ongeldig", ["T1", "2024-09-01", "x", "100", "D"]),
    ("periode_einde_voor_begin", ["T1", "2024-09-10", "2024-09-01", "100", "D"]),
    ("bedrag_ontbreekt", ["T1", "2024-09-01", "", "", "D"]),
    ("bedrag_ongeldig", ["T1", "2024-09-01", "", "12.50", "D"]),
    ("debet_credit_ongeldig", ["T1", "2024-09-01", "", "100", "X"]),
]


@pytest.fixture
def allocations(tmp_path):
    rows = [jeugdhulp_row(B[0], "T1"), jeugdhulp_row(invalid_bsn(B[1]), "TBAD"), jeugdhulp_row(B[2], "TDEL", reden="13")]
    return jh(tmp_path / "jh.csv", rows)


@pytest.mark.parametrize("reason,row", DECLARATIE_RULES, ids=[r for r, _ in DECLARATIE_RULES])
def test_declaraties_rule(tmp_path, allocations, reason, row):
    path = write_csv(tmp_path / "d.csv", DECLARATIES_HEADER, [["T1", "2024-09-01", "", "100", "D"], row])
    e = read_declaraties(ReadOptions(path, "declaraties"), allocations)
    kind = "excluded" if reason == "toewijzing_verwijderd" else "rejected"
    assert issues(e.report, kind) == {reason: [3]}
    assert e.report.rows_read == 2 and e.report.rows_used == 1


def test_declaraties_amounts_credits_and_euro_decimal_comma(tmp_path, allocations):
    header = ["toewijzingnummer", "periode_begin", "bedrag", "debet_credit"]
    rows = [["T1", "01-09-2024", "1.234,5", "D"], ["T1", "2024-09-01", "12,50", "C"], ["T1", "2024-09-01", "7.05", ""],
            ["T1", "2024-09-01", "€ 3", "D"], ["T1", "2024-09-01", "1,234", "D"]]
    e = read_declaraties(ReadOptions(write_csv(tmp_path / "d.csv", header, rows, delimiter=";"), "declaraties"), allocations)
    # thousands separators are ambiguous between layouts, so they are rejected rather than guessed
    assert issues(e.report) == {"bedrag_ongeldig": [2, 6]}
    assert list(e.data["bedrag_eurocent"]) == [-1250, 705, 300]
    assert list(e.data["allocation"]) == [0, 0, 0]


LEERLINGEN_RULES = [
    ("bsn_elfproef", dict(bsn=invalid_bsn(B[7]))),
    ("geboortedatum_ontbreekt", dict(geboortedatum="")),
    ("peildatum_ontbreekt", dict(peildatum="")),
    ("peildatum_ongeldig", dict(peildatum="1-okt-2024")),
    ("peildatum_afwijkend", dict(peildatum="2024-10-02")),
    ("vestigingscode_ongeldig", dict(vestiging="4DA00")),
    ("onderwijssoort_onbekend", dict(soort="HAVO")),
    ("woongemeente_ontbreekt", dict(woongemeente="")),
    ("woongemeente_ongeldig", dict(woongemeente="Nieuwegein")),
    ("andere_woongemeente", dict(woongemeente="0344")),
    ("buurtcode_ongeldig", dict(buurt="BU123")),
    ("leerling_dubbel", dict(bsn=B[0])),
]


@pytest.mark.parametrize("reason,change", LEERLINGEN_RULES, ids=[r for r, _ in LEERLINGEN_RULES])
def test_leerlingen_rule(tmp_path, reason, change):
    bsn = change.pop("bsn", B[1])
    vest = change.pop("vestiging", "04DA00")
    rows = [leerling_row(B[0], "04DA00"), leerling_row(bsn, vest, **change), leerling_row(B[2], "04DA01"),
            leerling_row(B[3], "")]
    e = ll(tmp_path / "l.csv", rows)
    assert issues(e.report) == {reason: [3]}
    assert e.report.rows_read == 4 and e.report.rows_used == 3
    assert REASONS[reason][0] in LEERLINGEN_HEADER


def test_brin_plus_vestigingsnummer(tmp_path):
    header = ["bsn", "geboortedatum", "peildatum", "brin", "vestigingsnummer", "woongemeente"]
    rows = [[B[0], "2015-01-01", "2024-10-01", "04da", "0", "356"], [B[1], "2015-01-01", "2024-10-01", "4DA", "1", "0356"],
            [B[2], "2015-01-01", "2024-10-01", "04DA", "x", "0356"], [B[3], "2015-01-01", "2024-10-01", "", "", "0356"],
            [B[4], "2015-01-01", "2024-10-01", "04DA", "", "0356"], [B[5], "2015-01-01", "2024-10-01", "04DA", "12", "GM0356"]]
    e = ll(tmp_path / "l.csv", rows, header=header)
    assert issues(e.report) == {"brin_ongeldig": [3], "vestigingsnummer_ongeldig": [4, 6]}
    assert list(e.data["vestigingscode"]) == ["04DA00", "GEEN", "04DA12"]


def test_no_school_is_a_bucket_not_a_rejection(tmp_path):
    e = ll(tmp_path / "l.csv", [leerling_row(B[0], ""), leerling_row(B[1], "geen"), leerling_row(B[2], "04da00")])
    assert e.report.rows_used == 3
    assert list(e.data["vestigingscode"]) == ["GEEN", "GEEN", "04DA00"]


def test_missing_required_column_names_file_column_and_remedy(tmp_path):
    path = write_csv(tmp_path / "leerlingen.csv", ["BSN_leerling", "geboortedatum", "peildatum", "vestigingscode", "woongemeente"],
                     [[B[0], "2015-01-01", "2024-10-01", "04DA00", "0356"]])
    with pytest.raises(ExtractError) as err:
        read_leerlingen(ReadOptions(path, "leerlingen", config_source="node-agent.toml"), PS, "0356")
    assert err.value.code == "missing_column"
    msg = err.value.message
    assert "leerlingen.csv" in msg and "'bsn'" in msg and "[extracts.leerlingen.columns]" in msg
    assert B[0] not in msg
    assert err.value.exit_code != 0


def test_missing_alternative_columns(tmp_path):
    path = write_csv(tmp_path / "d.csv", ["toewijzingnummer", "periode_begin"], [["T1", "2024-09-01"]])
    with pytest.raises(ExtractError, match="bedrag_eurocent of bedrag"):
        read_declaraties(ReadOptions(path, "declaraties"), jh(tmp_path / "jh.csv", [jeugdhulp_row(B[0], "T1")]))


def test_column_mapping_and_case_insensitive_headers(tmp_path):
    header = ["BSN_kind", "Geboortedatum", "Toewijzingnummer", "Productcategorie", "AGB-code", "Begindatum"]
    path = write_csv(tmp_path / "jh.csv", header, [[B[0], "05-05-2015", "T1", "4", "98000001", "01-09-2024"]], delimiter=";")
    opts = ReadOptions(path, "jeugdhulp", columns={"BSN_kind": "bsn", "AGB-code": "aanbieder_agb", "begindatum": "ingangsdatum"})
    e = read_jeugdhulp(opts, PS, zorgtype_table({"04": "ambulant"}))
    assert e.report.rows_used == 1
    assert e.data["zorgtype"][0] == "ambulant"
    assert e.data["ingangsdatum"][0] == pd.Timestamp("2024-09-01")


# --- file variants ---------------------------------------------------------------------------------


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


def test_leading_zeros_stripped_by_a_spreadsheet_are_padded_back(tmp_path):
    zero = next(b for b in valid_bsns(200, start=10_000_000) if b.startswith("0"))
    e = ll(tmp_path / "l.csv", [leerling_row(zero.lstrip("0"), "04DA00"), leerling_row(zero.lstrip("0") + ".0", "04DA01")])
    # both rows are the same child: the second is a duplicate of the first
    assert e.report.rows_used == 1 and issues(e.report) == {"leerling_dubbel": [3]}
    assert e.data["pseudonym"][0] == PS.pseudonym(zero)


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


@pytest.mark.parametrize(
    "text,expected",
    [("2024-09-01", "2024-09-01"), ("01-09-2024", "2024-09-01"), ("1-9-2024", "2024-09-01"),
     ("2024-09-01 00:00:00", "2024-09-01"), ("2024-02-29", "2024-02-29"), ("2023-02-29", None),
     ("31-04-2024", None), ("2024/09/01", None), ("", None), ("1850-01-01", None)],
)
def test_dates(text, expected):
    got = parse_date_text(text)
    assert (str(got) if not np.isnat(got) else None) == expected


# --- BSN checks equal shared.canonical_bsn; accounting holds for any rows ---------------------------

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


row_strategy = st.fixed_dictionaries(
    {
        "bsn": st.sampled_from(B[:6] + [invalid_bsn(B[0]), "", "999999999"]),
        "nr": st.sampled_from(["T1", "T2", "T3", ""]),
        "cat": st.sampled_from(["45", "51", "99", "", "48"]),
        "start": st.sampled_from(["2024-09-01", "01-10-2024", "2024-02-30", ""]),
        "end": st.sampled_from(["", "2025-01-01", "2024-01-01"]),
        "reden": st.sampled_from(["", "", "13"]),
        "agb": st.sampled_from(["98000001", "123"]),
    }
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(row_strategy, max_size=25), st.lists(st.tuples(st.sampled_from(["T1", "T2", "T3", "T9", ""]),
                                                         st.sampled_from(["2024-09-01", "x"]),
                                                         st.sampled_from(["100", "-5", "1,5"]),
                                                         st.sampled_from(["D", "C", "", "?"])), max_size=25))
def test_accounting_identity_for_random_rows(tmp_path, rows, claims):
    jrows = [jeugdhulp_row(r["bsn"], r["nr"], r["cat"], r["start"], r["end"], agb=r["agb"], reden=r["reden"]) for r in rows]
    e = jh(tmp_path / "jh.csv", jrows)
    r = e.report
    assert r.rows_read == len(rows) == r.rows_used + r.rows_rejected + r.rows_excluded
    assert len(e.data) == r.rows_used
    all_lines = sorted(np.concatenate([i.all_lines() for i in list(r.rejected.values()) + list(r.excluded.values())]
                                      + [e.data["line"].to_numpy()]).tolist())
    assert all_lines == list(range(2, len(rows) + 2))  # every line exactly once
    path = write_csv(tmp_path / "d.csv", ["toewijzingnummer", "periode_begin", "bedrag_eurocent", "debet_credit"],
                     [list(c) for c in claims])
    d = read_declaraties(ReadOptions(path, "declaraties"), e)
    q = d.report.to_quality()
    assert q.rows_read == len(claims) and q.balanced


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
    import hashlib
    import hmac

    from node_agent.read import pseudonymise
    from shared.pseudonym import DOMAIN_PREFIX

    ints = np.array([int(B[0]), int(B[1]), int(B[0]), 12345672], dtype=np.int64)
    got = pseudonymise(ints, Pseudonymiser(key), batch=2)
    expected = [hmac.new(key, DOMAIN_PREFIX + f"{i:09d}".encode(), hashlib.sha256).digest() for i in ints]
    assert list(got) == expected
