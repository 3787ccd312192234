"""Column resolution: required columns and alternatives, the config mapping, case-insensitive headers."""

from __future__ import annotations

import pandas as pd
import pytest

from node_agent.read import ReadOptions, read_declaraties, read_jeugdhulp, read_leerlingen
from shared.codes import zorgtype_table
from shared.errors import ExtractError
from tests.node_agent.helpers import B, PS, jeugdhulp_row, jh, write_csv


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
