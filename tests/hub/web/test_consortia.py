"""The provider → consortium table upload: format, errors naming line and column, replacement as a whole."""

import pytest

from hub.services import consortia
from shared.errors import InputError


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
