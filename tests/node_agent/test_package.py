"""Building, signing and spooling a partial: reproducible bytes, file name, header."""

from __future__ import annotations

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

import shared
from node_agent.package import build_partial, created_at, file_name, write_spool
from shared.partial import Cell, CostCell, DataQuality
from shared.signing import SignedEnvelope

CELLS = [Cell("04DA00", "2024-2025", "leerlingen", "", 10), Cell("GEEN", "2024-2025", "clienten", "", 0)]
COSTS = [CostCell("04DA00", "2024-2025", "totaal", 500, 2, 300, 200, 0, 500)]


def test_created_at_honours_source_date_epoch(monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    assert created_at() == "2023-11-14T22:13:20Z"
    monkeypatch.delenv("SOURCE_DATE_EPOCH")
    assert created_at().endswith("Z") and len(created_at()) == 20


def test_same_input_same_bytes(tmp_path, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    key = Ed25519PrivateKey.from_private_bytes(bytes(32))
    outputs = []
    for sub in ("a", "b"):
        p = build_partial("0356", ["2024-2025"], {"2024-2025": "2024-10-01"}, list(reversed(CELLS)), COSTS, DataQuality())
        path, env = write_spool(p, key, tmp_path / sub)
        outputs.append((path.name, path.read_bytes()))
    assert outputs[0] == outputs[1]
    name, data = outputs[0]
    env = SignedEnvelope.from_bytes(data)
    partial = env.verify(key.public_key())
    assert name == f"0356-2024-2025-{env.digest[:12]}.partial.json"
    assert partial.header.agent_version == shared.__version__
    assert partial.header.created_at == "2023-11-14T22:13:20Z"
    assert list(partial.cells) == sorted(CELLS)
    assert not list((tmp_path / "a").glob(".tmp-*"))


def test_file_name_lists_all_school_years():
    p = build_partial("0356", ["2024-2025", "2023-2024"], {"2023-2024": "2023-10-01", "2024-2025": "2024-10-01"},
                      [], [], DataQuality())
    env = type("E", (), {"digest": "abcdef0123456789"})()
    assert file_name(p, env) == "0356-2023-2024_2024-2025-abcdef012345.partial.json"
