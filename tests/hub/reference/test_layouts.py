"""The DUO layouts: the three real files, and small files in the documented VO-pupil and SWV layouts."""

from __future__ import annotations

import shutil
from collections import Counter

import pytest

from hub.reference.layouts import count_of, detect_layout, parse, swv_code_of, vestigingscode_of, RowError
from hub.reference.reading import read_csv
from shared.errors import ExtractError

from .conftest import BO_FILE, EXAM_FILE, PUPIL_FILE

REGION_CHECK = {  # SOURCES.md: locations in the historical file with pupils in 2025
    "0356": 17, "0321": 22, "0353": 10, "0331": 9, "1961": 33,
    "0392": 49, "0473": 4, "0377": 15, "0397": 9,
    "0453": 23, "0375": 12, "0396": 13,
}


def _parse(path, **kw):
    return parse(read_csv(path), **kw)


# --- the real files ------------------------------------------------------------------------


def test_real_bo_registry(real_parsed):
    p = real_parsed(BO_FILE)
    assert (p.layout, p.encoding, p.delimiter) == ("bo_vestigingen", "cp1252", ";")
    assert p.rows_read == 6122
    assert p.rows_read == p.rows_used + len(p.rejected) + len(p.excluded)
    assert p.rows_used == 6122 and not p.rejected
    assert len(p.vestigingen) == 6122
    v = p.vestigingen["32JK00"]
    assert v["gemeentecode"] == "1699" and v["bevoegd_gezag_nummer"] == "20091" and v["soort"] == "BO"
    assert v["denominatie"] == "Algemeen bijzonder" and v["plaatsnaam"] == "ALTEVEER GEM NOORDENVELD"
    # Windows-1252 decoded, not mangled
    assert any("’t Kompas" in (x.get("naam") or "") for x in p.vestigingen.values())
    # A blank GEMEENTENAAM (' ') is not carried, so it cannot erase a known name.
    assert "gemeentenaam" not in p.vestigingen["32LY00"]
    assert len(p.gemeenten) == 342


def test_real_historical_pupil_file(real_parsed):
    p = real_parsed(PUPIL_FILE)
    assert (p.layout, p.encoding) == ("po_leerlingen_historisch", "utf-8-sig")
    assert p.rows_read == 9737
    assert p.rows_read == p.rows_used + len(p.rejected) + len(p.excluded)
    assert not p.rejected
    assert p.excluded_summary() == {"gemeente onbekend (9999)": 5}
    soorten = Counter(v["soort"] for v in p.vestigingen.values())
    assert set(soorten) == {"BO", "SBO", "SO", "VSO", "SO/VSO"}
    # unpadded gemeentecode 285 → 0285
    assert p.vestigingen["00AO00"]["gemeentecode"] == "0285"
    assert all(len(v["gemeentecode"]) == 4 for v in p.vestigingen.values())
    # LEERLINGEN_2024 is stored as jaar 2024 (1 October 2024, schooljaar 2024-2025)
    assert p.pupil_counts[("00AO00", 2025)] == (86, False)
    assert p.pupil_counts[("00AO00", 1996)] == (31, False)


def test_real_historical_file_masked_counts(real_parsed):
    p = real_parsed(PUPIL_FILE)
    masked = [k for k, (n, m) in p.pupil_counts.items() if m]
    assert len(masked) == 762  # every '<5' in the file
    assert all(p.pupil_counts[k][0] is None for k in masked)
    assert all(n is not None and n > 0 for n, m in p.pupil_counts.values() if not m)


def test_region_check_of_sources_md(real_parsed):
    p = real_parsed(PUPIL_FILE)
    per_gemeente = Counter()
    for code, v in p.vestigingen.items():
        if (code, 2025) in p.pupil_counts:
            per_gemeente[v["gemeentecode"]] += 1
    assert {g: per_gemeente[g] for g in REGION_CHECK} == REGION_CHECK


def test_real_exam_file_as_vo_registry(real_parsed):
    p = real_parsed(EXAM_FILE)
    assert (p.layout, p.encoding) == ("vo_examens", "utf-8")
    assert p.rows_read == 12782
    assert p.rows_read == p.rows_used + len(p.rejected) + len(p.excluded)
    assert not p.rejected  # every gemeentenaam, including 'S-GRAVENHAGE and SÚDWEST-FRYSLÂN, resolves
    assert len(p.vestigingen) == 1236
    assert all(v["soort"] == "VO" for v in p.vestigingen.values())
    assert p.vestigingen["00AH00"]["gemeentecode"] == "0153"  # ENSCHEDE
    assert p.vestigingen["00AH00"]["onderwijstypen"] == {"HAVO", "VWO"}
    assert not p.pupil_counts  # exam candidates are no pupil counts


def test_layout_comes_from_the_header_not_the_name(duo_dir, tmp_path):
    disguised = tmp_path / "02.-alle-schoolvestigingen-basisonderwijs.csv"
    shutil.copy(EXAM_FILE, disguised)
    assert _parse(disguised).layout == "vo_examens"


def test_unknown_header_is_unusable(write_csv):
    path = write_csv("iets.csv", ["A", "B", "C"], [["1", "2", "3"]])
    with pytest.raises(ExtractError) as info:
        _parse(path)
    assert info.value.code == "unknown_layout"


# --- field rules -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("brin", "vest", "expected"),
    [("32JK", "32JK00", "32JK00"), ("32JK", "0", "32JK00"), ("32JK", "1", "32JK01"), ("32JK", "12", "32JK12"),
     (None, "32jk03", "32JK03"), ("", " 32JK04 ", "32JK04")],
)
def test_vestigingscode_normalised(brin, vest, expected):
    assert vestigingscode_of(brin, vest, "BRIN NUMMER", "VESTIGINGSNUMMER") == expected


@pytest.mark.parametrize(
    ("brin", "vest", "column"),
    [("32JK", "123", "VESTIGINGSNUMMER"), ("32JK", "33AB00", "VESTIGINGSNUMMER"), ("3JK", "0", "BRIN NUMMER"),
     (None, "7", "VESTIGINGSNUMMER"), ("32JK", "", "VESTIGINGSNUMMER"), (None, "32JK0X", "VESTIGINGSNUMMER")],
)
def test_malformed_vestigingscode_rejected(brin, vest, column):
    with pytest.raises(RowError) as info:
        vestigingscode_of(brin, vest, "BRIN NUMMER", "VESTIGINGSNUMMER")
    assert info.value.column == column


def test_counts():
    assert count_of("<5", "X") == (None, True)
    assert count_of(" < 5 ", "X") == (None, True)
    assert count_of("17", "X") == (17, False)
    assert count_of("", "X") == (None, False)
    with pytest.raises(RowError):
        count_of("12,5", "X")


@pytest.mark.parametrize("raw", ["PO-27-01", "PO2701", "po 27-01", "PO 27.01", "PO_27_01"])
def test_swv_code_spellings(raw):
    assert swv_code_of(raw, "ADMINISTRATIENUMMER") == "PO2701"


@pytest.mark.parametrize("raw", ["PO-2701-1", "XX2701", "2701", ""])
def test_bad_swv_code(raw):
    with pytest.raises(RowError):
        swv_code_of(raw, "ADMINISTRATIENUMMER")


# --- rejects carry line, column and reason -------------------------------------------------------


def test_rejected_rows_name_line_column_and_rule(write_csv):
    header = ["INSTELLINGSCODE", "VESTIGINGSCODE", "NAAM_VESTIGING", "SOORT_VESTIGING", "DENOMINATIE_VESTIGING",
              "BEVOEGD_GEZAG_NUMMER", "GEMEENTECODE_VESTIGING", "GEMEENTENAAM_VESTIGING", "LEERLINGEN_2024", "LEERLINGEN_2025"]
    rows = [
        ["11AA", "11AA00", "Goed", "BO", "Openbaar", "1", "356", "NIEUWEGEIN", "100", "<5"],
        ["11AA", "11AA0X", "Fout", "BO", "Openbaar", "1", "356", "NIEUWEGEIN", "100", "90"],
        ["11AB", "11AB00", "Fout", "MBO", "Openbaar", "1", "356", "NIEUWEGEIN", "100", "90"],
        ["11AC", "11AC00", "Fout", "BO", "Openbaar", "1", "GM35X", "NIEUWEGEIN", "100", "90"],
        ["11AD", "11AD00", "Fout", "BO", "Openbaar", "1", "356", "NIEUWEGEIN", "veel", "90"],
        ["11AE", "11AE00", "te kort"],
        ["11AF", "11AF00", "Onbekend", "SO", "onbekend", "0", "9999", "ONBEKEND", "0", "0"],
    ]
    p = _parse(write_csv("06-mini.csv", header, rows, encoding="utf-8-sig"))
    assert (p.rows_read, p.rows_used, len(p.rejected), len(p.excluded)) == (7, 1, 5, 1)
    got = [(r.line, r.column) for r in p.rejected]
    assert got == [(3, "VESTIGINGSCODE"), (4, "SOORT_VESTIGING"), (5, "GEMEENTECODE_VESTIGING"),
                   (6, "LEERLINGEN_2024"), (7, None)]
    assert "geen BRIN + 2 cijfers" in p.rejected[0].reason
    assert p.excluded[0].line == 8
    assert p.pupil_counts == {("11AA00", 2024): (100, False), ("11AA00", 2025): (None, True)}


def test_a_file_without_any_usable_row_is_unusable(write_csv):
    header = ["INSTELLINGSCODE", "VESTIGINGSCODE", "NAAM_VESTIGING", "SOORT_VESTIGING", "GEMEENTECODE_VESTIGING",
              "LEERLINGEN_2025"]
    path = write_csv("slecht.csv", header, [["11AA", "XX", "a", "BO", "356", "1"], ["11AA", "YY", "b", "BO", "356", "1"]])
    with pytest.raises(ExtractError) as info:
        _parse(path)
    assert info.value.code == "no_usable_rows"
    assert "regel 2" in info.value.message and "VESTIGINGSCODE" in info.value.message


# --- VO pupils per location (documented layout, old and new names) ----------------------------

OLD_VO_HEADER = (
    ["BRIN NUMMER", "VESTIGINGSNUMMER", "INSTELLINGSNAAM VESTIGING", "PLAATSNAAM VESTIGING", "GEMEENTENUMMER",
     "GEMEENTENAAM", "PROVINCIE VESTIGING", "ONDERWIJSTYPE VO EN LEER- OF VERBLIJFSJAAR", "OPLEIDINGSNAAM"]
    + [f"LEER- OF VERBLIJFSJAAR {j} - {s}" for j in range(1, 7) for s in ("MAN", "VROUW")]
)


def _old_row(brin, nr, otype, counts, gemeente="356", naam="Cals College"):
    return [brin, nr, naam, "NIEUWEGEIN", gemeente, "NIEUWEGEIN", "Utrecht", otype, "x"] + counts + ["0"] * (12 - len(counts))


def test_vo_pupils_old_names_summed_per_location(write_csv):
    rows = [
        _old_row("00VY", "0", "HAVO lj 4-5", ["10", "12", "11", "9"]),
        _old_row("00VY", "0", "VWO lj 4-6", ["5", "<5", "7", "8"]),
        _old_row("00VY", "4", "VMBO TL lj 3-4", ["20", "20"]),
    ]
    p = _parse(write_csv("01.-leerlingen-vo-per-vestiging-naar-onderwijstype-2024.csv", OLD_VO_HEADER, rows, "cp1252"))
    assert p.layout == "vo_leerlingen" and p.encoding in ("utf-8", "cp1252")
    assert (p.rows_read, p.rows_used) == (3, 3)
    # 42 + 20 (+ a masked part: lower bound, flagged) ; zero-padded location number
    assert p.pupil_counts == {("00VY00", 2024): (62, True), ("00VY04", 2024): (40, False)}
    assert p.vestigingen["00VY04"]["gemeentecode"] == "0356" and p.vestigingen["00VY04"]["soort"] == "VO"
    assert p.context == "jaar=2024" and "bestandsnaam" in p.notes[0]


def test_vo_pupils_new_names_with_total_and_year_column(write_csv):
    header = ["PEILJAAR", "INSTELLINGSCODE", "VESTIGINGSCODE", "INSTELLINGSNAAM VESTIGING", "GEMEENTENUMMER",
              "GEMEENTENAAM", "ONDERWIJSTYPE VO", "OPLEIDINGSNAAM", "AANTAL LEERLINGEN"]
    rows = [
        ["2023", "00VY", "00VY00", "Cals", "0356", "NIEUWEGEIN", "HAVO", "HAVO", "300"],
        ["2023", "00VY", "00VY00", "Cals", "0356", "NIEUWEGEIN", "VWO", "VWO", "<5"],
        ["2024-2025", "00VY", "00VY00", "Cals", "0356", "NIEUWEGEIN", "HAVO", "HAVO", "310"],
        ["2024", "00VY", "00VY01", "Cals", "0356", "NIEUWEGEIN", "VWO", "VWO", "<5"],
        ["2024", "00VY", "00VY1", "Cals", "0356", "NIEUWEGEIN", "VWO", "VWO", "5"],
    ]
    p = _parse(write_csv("vo.csv", header, rows))
    assert p.layout == "vo_leerlingen"
    assert p.pupil_counts == {("00VY00", 2023): (300, True), ("00VY00", 2024): (310, False), ("00VY01", 2024): (None, True)}
    assert [(r.line, r.column) for r in p.rejected] == [(6, "VESTIGINGSCODE")]
    assert p.context == ""


def test_vo_pupils_without_any_year_needs_jaar(write_csv):
    rows = [_old_row("00VY", "0", "HAVO lj 4-5", ["10"])]
    path = write_csv("leerlingen-vo.csv", OLD_VO_HEADER, rows)
    with pytest.raises(ExtractError) as info:
        _parse(path)
    assert info.value.code == "missing_year" and "--jaar" in info.value.message
    assert _parse(path, jaar=2022).pupil_counts == {("00VY00", 2022): (10, False)}


# --- samenwerkingsverband membership ---------------------------------------------------------


def test_swv_file_new_names_and_dashed_numbers(write_csv):
    header = ["ADMINISTRATIENUMMER", "SAMENWERKINGSVERBAND PASSEND ONDERWIJS PO", "INSTELLINGSCODE", "VESTIGINGSCODE"]
    rows = [
        ["PO-26-07", "SWV Lek", "04DA", "04DA00"],
        ["PO2607", "SWV Lek", "05AB", "05AB01"],
        ["VO-26-07", "SWV Lek", "06AB", "06AB00"],  # a VO number in the PO column
        ["PO-26", "SWV Lek", "07AB", "07AB00"],
    ]
    p = _parse(write_csv("swv.csv", header, rows))
    assert p.layout == "swv_vestigingen"
    assert p.memberships == {("04DA00", "PO"): "PO2607", ("05AB01", "PO"): "PO2607"}
    assert p.samenwerkingsverbanden == {"PO2607": ("SWV Lek", "PO")}
    assert [(r.line, r.column) for r in p.rejected] == [(4, "ADMINISTRATIENUMMER"), (5, "ADMINISTRATIENUMMER")]


def test_swv_file_old_names_unpadded_number(write_csv):
    header = ["ADMINISTRATIENUMMER", "SAMENWERKINGSVERBAND PASSEND ONDERWIJS VO", "BRIN NUMMER", "VESTIGINGSNUMMER"]
    rows = [["VO2607", "SWV VO Lek", "00VY", "0"], ["VO-26-07", "SWV VO Lek", "00VY", "4"]]
    p = _parse(write_csv("swv-vo.csv", header, rows, encoding="utf-8-sig"))
    assert p.memberships == {("00VY00", "VO"): "VO2607", ("00VY04", "VO"): "VO2607"}


def test_detect_layout_of_each_header():
    assert detect_layout(["INSTELLINGSCODE", "VESTIGINGSCODE", "ADMINISTRATIENUMMER"]) == "swv_vestigingen"
    assert detect_layout(["BRIN NUMMER", "VESTIGINGSNUMMER", "GEMEENTENUMMER", "DENOMINATIE", "VESTIGINGSNAAM"]) == "bo_vestigingen"
    with pytest.raises(ExtractError):
        detect_layout(["INSTELLINGSCODE", "NAAM", "PLAATS"])
