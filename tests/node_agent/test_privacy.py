"""Privacy scan: nothing the agent writes or prints carries a BSN, a pseudonym or a key.

Runs init/check/run/inspect/approve/upload/log on extracts with known BSNs and scans every file the
agent produced (all but its two key files and the input extracts) and all its output.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from pathlib import Path

import httpx
from click.testing import CliRunner
from cryptography.hazmat.primitives import serialization

from node_agent.cli import AgentContext, main
from node_agent.keys import load_signing_key
from shared.pseudonym import DOMAIN_PREFIX, elfproef
from tests.node_agent.helpers import (
    DECLARATIES_HEADER,
    JEUGDHULP_HEADER,
    LEERLINGEN_HEADER,
    jeugdhulp_row,
    leerling_row,
    valid_bsns,
    write_csv,
)

BSNS = valid_bsns(12, start=400_000_000)
ZERO_BSN = next(b for b in valid_bsns(300, start=10_000_000) if b.startswith("0"))
NINE_DIGITS = re.compile(rb"(?<![0-9A-Za-z+/])\d{9}(?![0-9A-Za-z+/=])")


def forms(raw: bytes) -> list[bytes]:
    return [raw, raw.hex().encode(), raw.hex().upper().encode(), base64.b64encode(raw),
            base64.urlsafe_b64encode(raw), base64.b64encode(raw).rstrip(b"=")]


def test_nothing_the_agent_produces_holds_a_bsn_pseudonym_or_key(tmp_path, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    config = tmp_path / "node" / "node-agent.toml"
    outputs: list[bytes] = []

    class Hub:
        def __call__(self, request: httpx.Request) -> httpx.Response:
            outputs.append(request.content)  # what left the machine counts too
            outputs.append(str(dict(request.headers)).encode())
            if request.url.path == "/api/v1/rounds":
                return httpx.Response(200, json={"rounds": [
                    {"id": 1, "schooljaar": "2024-2025", "peildatum": "2024-10-01", "status": "open"}]})
            return httpx.Response(201, json={"submission_id": 1, "round_id": 1, "digest": "d", "status": "accepted"})

    def cli(*args: str):
        obj = AgentContext(config_path=config, transport=httpx.MockTransport(Hub()))
        result = CliRunner().invoke(main, ["--config", str(config), *args], obj=obj)
        outputs.extend([result.stdout.encode(), result.stderr.encode()])
        return result

    assert cli("init", "--gemeentecode", "0356", "--hub-url", "https://hub.example.nl").exit_code == 0
    data = config.parent / "data"
    # valid BSNs in every role: used, rejected for another reason, duplicated, linked, unlinked, zero-stripped
    write_csv(data / "jeugdhulp.csv", JEUGDHULP_HEADER, [
        jeugdhulp_row(BSNS[0], "T1"), jeugdhulp_row(BSNS[1], "T2", "51"), jeugdhulp_row(BSNS[2], "T3", "99"),
        jeugdhulp_row(BSNS[3], "T4", reden="13"), jeugdhulp_row(BSNS[4], "T5", start="2024-13-01"),
        jeugdhulp_row(BSNS[10], "T6"), jeugdhulp_row(ZERO_BSN.lstrip("0"), "T7"),
    ])
    write_csv(data / "declaraties.csv", DECLARATIES_HEADER, [
        ["T1", "2024-09-01", "", "123456", "D"], ["T2", "2024-10-01", "", "99999", "D"], ["T7", "2024-10-01", "", "5", "D"],
    ])
    write_csv(data / "leerlingen.csv", LEERLINGEN_HEADER, [
        leerling_row(BSNS[0], "04DA00"), leerling_row(BSNS[1], "04DA00"), leerling_row(BSNS[5], ""),
        leerling_row(BSNS[6], "05XB01", woongemeente="0344"), leerling_row(BSNS[7], "05XB01", geboortedatum="x"),
        leerling_row(BSNS[0], "05XB01"), leerling_row(ZERO_BSN.lstrip("0"), "05XB01"),
    ])
    assert cli("check").exit_code == 0
    assert cli("check", "--json").exit_code == 0
    assert cli("run", "--school-year", "2024-2025", "--offline").exit_code == 0
    partial = next((config.parent / "spool").glob("*.partial.json"))
    assert cli("inspect", str(partial)).exit_code == 0
    assert cli("inspect", str(partial), "--format", "csv").exit_code == 0
    assert cli("approve", str(partial), "--by", "A. Ambtenaar").exit_code == 0
    assert cli("upload", str(partial)).exit_code == 0
    assert cli("log").exit_code == 0
    assert cli("log", "--json").exit_code == 0
    cli("run", "--school-year", "1999-2000")  # an error path prints too

    keys = config.parent / "keys"
    pseudonym_key = bytes.fromhex((keys / "pseudonym.key").read_text().strip())
    signing = load_signing_key(keys / "signing.pem")
    signing_raw = signing.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw,
                                        serialization.NoEncryption())
    forbidden: list[bytes] = []
    for bsn in BSNS + [ZERO_BSN]:
        forbidden.append(bsn.encode())
        digest = hmac.new(pseudonym_key, DOMAIN_PREFIX + bsn.encode(), hashlib.sha256).digest()
        forbidden.extend(forms(digest))
        forbidden.extend(forms(digest[:16]))
    forbidden.extend(forms(pseudonym_key))
    forbidden.extend(forms(signing_raw))
    forbidden.append((keys / "signing.pem").read_bytes().split(b"\n")[1])

    produced = [p for p in config.parent.rglob("*") if p.is_file() and p.parent not in (keys, data)]
    assert {p.name for p in produced} >= {"node-agent.toml", "node-agent-log.jsonl", partial.name}
    blobs = [(str(p), p.read_bytes()) for p in produced]
    # the signed payload is base64 inside the envelope: scan it decoded as well
    import json

    blobs.append(("payload", base64.b64decode(json.loads(partial.read_bytes())["payload"])))
    blobs.extend((f"output {i}", out) for i, out in enumerate(outputs))
    for name, blob in blobs:
        for needle in forbidden:
            assert needle not in blob, f"{name} contains a BSN, pseudonym or key"
        for number in NINE_DIGITS.findall(blob):
            assert not elfproef(number.decode()), f"{name} contains a 9-digit number passing the elfproef"
