"""The append-only log: hash chain, tamper detection, approvals."""

from __future__ import annotations

import json

from node_agent.ledger import GENESIS, Ledger


def test_chain_and_lookup(tmp_path):
    ledger = Ledger(tmp_path / "log.jsonl")
    ledger.append("built", digest="a" * 64, schooljaren=["2024-2025"], rows={"leerlingen": {"read": 3}})
    ledger.append("approved", digest="a" * 64, by="J. de Vries")
    ledger.append("uploaded", digest="a" * 64, hub="https://hub", round=1, receipt={"status": "accepted"})
    entries = ledger.entries()
    assert [e["event"] for e in entries] == ["built", "approved", "uploaded"]
    assert [e["seq"] for e in entries] == [1, 2, 3]
    assert entries[0]["prev"] == GENESIS
    assert ledger.verify() == []
    assert ledger.approved("a" * 64)["by"] == "J. de Vries"
    assert ledger.approved("b" * 64) is None
    assert ledger.built("a" * 64)["rows"] == {"leerlingen": {"read": 3}}
    assert oct((tmp_path / "log.jsonl").stat().st_mode & 0o777) == "0o600"


def test_editing_an_entry_breaks_the_chain(tmp_path):
    path = tmp_path / "log.jsonl"
    ledger = Ledger(path)
    for i in range(3):
        ledger.append("built", digest=str(i) * 64)
    lines = path.read_text().splitlines()
    entry = json.loads(lines[1])
    entry["digest"] = "f" * 64
    lines[1] = json.dumps(entry, sort_keys=True, separators=(",", ":"))
    path.write_text("\n".join(lines) + "\n")
    problems = ledger.verify()
    assert [p.line for p in problems] == [3]


def test_removing_an_entry_breaks_the_chain(tmp_path):
    path = tmp_path / "log.jsonl"
    ledger = Ledger(path)
    for i in range(3):
        ledger.append("built", digest=str(i) * 64)
    lines = path.read_text().splitlines()
    path.write_text(lines[0] + "\n" + lines[2] + "\n")
    assert {p.line for p in ledger.verify()} == {2}


def test_empty_log_is_intact(tmp_path):
    assert Ledger(tmp_path / "none.jsonl").verify() == []
    assert Ledger(tmp_path / "none.jsonl").entries() == []
