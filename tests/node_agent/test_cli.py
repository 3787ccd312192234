"""The ``node-agent`` commands end to end on small extracts: messages, exit codes, no tracebacks."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from node_agent.cli import AgentContext, main
from node_agent.config import load_config
from shared.signing import SignedEnvelope
from tests.node_agent.helpers import (
    DECLARATIES_HEADER,
    JEUGDHULP_HEADER,
    LEERLINGEN_HEADER,
    invalid_bsn,
    jeugdhulp_row,
    leerling_row,
    valid_bsns,
    write_csv,
)

B = valid_bsns(8, start=300_000_000)


def write_data(config: Path) -> None:
    data = config.parent / "data"
    write_csv(data / "jeugdhulp.csv", JEUGDHULP_HEADER, [
        jeugdhulp_row(B[0], "T1"), jeugdhulp_row(B[1], "T2", "48"), jeugdhulp_row(invalid_bsn(B[2]), "T3"),
        jeugdhulp_row(B[3], "T4", reden="13"),
    ], delimiter=";")
    write_csv(data / "declaraties.csv", DECLARATIES_HEADER, [
        ["T1", "2024-09-01", "", "12000", "D"], ["T2", "2024-09-01", "", "5000", "D"], ["T9", "2024-09-01", "", "1", "D"],
    ])
    write_csv(data / "leerlingen.csv", LEERLINGEN_HEADER, [
        leerling_row(B[0], "04DA00"), leerling_row(B[1], "04DA00"), leerling_row(B[4], ""),
        leerling_row(B[5], "05XB01", woongemeente="0344"),
    ])


def invoke(config: Path, *args: str, transport=None, env=None):
    obj = AgentContext(config_path=config, transport=transport)
    return CliRunner(env=env).invoke(main, ["--config", str(config), *args], obj=obj)


def spool_file(config: Path) -> Path:
    files = sorted((config.parent / "spool").glob("*.partial.json"))
    assert len(files) == 1
    return files[0]


def test_init_makes_owner_only_keys_and_never_overwrites(tmp_path, node):
    keys = node.parent / "keys"
    assert {p.name for p in keys.iterdir()} == {"signing.pem", "pseudonym.key"}
    for p in keys.iterdir():
        assert p.stat().st_mode & 0o777 == 0o600
    assert load_config(node).gemeentecode == "0356"
    before = {p.name: p.read_bytes() for p in keys.iterdir()}
    config_before = node.read_bytes()
    again = invoke(node, "init", "--gemeentecode", "0356")
    assert again.exit_code == 0 and "niets gewijzigd" in again.stdout
    other = invoke(node, "init", "--gemeentecode", "0344")
    assert other.exit_code == 78 and "hoort bij gemeente 0356" in other.stderr and "Traceback" not in other.output
    assert {p.name: p.read_bytes() for p in keys.iterdir()} == before and node.read_bytes() == config_before
    # a config made elsewhere (e.g. by the demo generator): init adds only the missing keys
    (keys / "signing.pem").unlink()
    made = invoke(node, "init")
    assert made.exit_code == 0 and "Ondertekensleutel aangemaakt" in made.stdout
    assert (keys / "pseudonym.key").read_bytes() == before["pseudonym.key"] and node.read_bytes() == config_before


def test_init_needs_a_gemeentecode_for_a_new_config(tmp_path):
    result = invoke(tmp_path / "x" / "node-agent.toml", "init")
    assert result.exit_code == 78 and "--gemeentecode" in result.stderr
    assert not (tmp_path / "x").exists()


def test_init_imports_a_shared_pseudonym_key(tmp_path):
    shared_key = tmp_path / "regio.key"
    shared_key.write_text("ab" * 32 + "\n")
    config = tmp_path / "n" / "node-agent.toml"
    result = invoke(config, "init", "--gemeentecode", "0321", "--import-pseudonym-key", str(shared_key))
    assert result.exit_code == 0, result.output
    assert "geïmporteerd" in result.stdout
    assert bytes.fromhex((config.parent / "keys/pseudonym.key").read_text()) == bytes.fromhex("ab" * 32)


def test_check_reports_per_file_with_reasons_lines_and_columns(node):
    write_data(node)
    result = invoke(node, "check")
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "jeugdhulp: jeugdhulp.csv (CSV, UTF-8, scheidingsteken ';')" in out
    assert "gelezen 4  gebruikt 2  afgekeurd 1  uitgesloten 1" in out
    assert "bsn_elfproef (kolom bsn): BSN voldoet niet aan de elfproef — 1 regel(s): 4" in out
    assert "reden_wijziging_13 (kolom reden_wijziging)" in out
    assert "toewijzing_onbekend (kolom toewijzingnummer)" in out and "regel(s): 4" in out
    assert "andere_woongemeente (kolom woongemeente)" in out
    as_json = json.loads(invoke(node, "check", "--json").stdout)
    assert as_json["usable"] is True
    files = {f["kind"]: f for f in as_json["files"]}
    assert files["jeugdhulp"]["rejected"] == [{"reason": "bsn_elfproef", "column": "bsn",
                                               "message": "BSN voldoet niet aan de elfproef", "rows": 1, "lines": [4]}]
    for f in as_json["files"]:
        assert f["rows_read"] == f["rows_used"] + f["rows_rejected"] + f["rows_excluded"]


def test_check_exits_non_zero_when_a_file_is_unusable(node):
    write_data(node)
    leerlingen = node.parent / "data/leerlingen.csv"
    leerlingen.write_text(leerlingen.read_text().replace("woongemeente", "gemeente"))
    result = invoke(node, "check")
    assert result.exit_code == 65
    assert "leerlingen: leerlingen.csv — ONBRUIKBAAR" in result.stdout
    assert "verplichte kolom 'woongemeente' ontbreekt" in result.stdout
    assert "jeugdhulp: jeugdhulp.csv (CSV" in result.stdout  # the other files are still checked
    run = invoke(node, "run", "--school-year", "2024-2025")
    assert run.exit_code == 65 and "woongemeente" in run.stderr and "Traceback" not in run.output


def test_run_inspect_approve_log(node, monkeypatch):
    write_data(node)
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    result = invoke(node, "run", "--school-year", "2024-2025")
    assert result.exit_code == 0, result.output
    assert "Geen hub ingesteld" in result.stdout
    path = spool_file(node)
    table = invoke(node, "inspect", str(path))
    assert table.exit_code == 0 and "Handtekening geldig" in table.stdout
    assert "Aanbiedernamen" in table.stdout and "98000001  Aanbieder BV" in table.stdout
    csv_out = invoke(node, "inspect", str(path), "--format", "csv")
    lines = csv_out.stdout.splitlines()
    assert lines[0] == "vestigingscode,schooljaar,measure,category,value"
    assert "04DA00,2024-2025,leerlingen,,2" in lines
    assert "GEEN,2024-2025,leerlingen,,1" in lines
    assert "04DA00,2024-2025,kosten,totaal,17000" in lines
    assert "04DA00,2024-2025,jeugdbescherming,,1" in lines
    assert "Handtekening geldig" in csv_out.stderr
    envelope = SignedEnvelope.from_bytes(path.read_bytes())
    partial_cells = len(envelope.verify(load_key(node).public_key()).cells)
    assert len(lines) - 1 == partial_cells + len(envelope.verify(load_key(node).public_key()).cost_cells)
    approve = invoke(node, "approve", str(path), "--by", "Marieke  de Vries")
    assert approve.exit_code == 0 and "Marieke de Vries" in approve.stdout
    log = invoke(node, "log")
    assert log.exit_code == 0
    assert "gemaakt" in log.stdout and "goedgekeurd" in log.stdout and "Keten intact (2 regel(s))" in log.stdout
    assert "jeugdhulp 4=2+1+1" in log.stdout


def test_inspect_without_a_file_shows_the_newest_partial_in_the_spool(node):
    empty = invoke(node, "inspect")
    assert empty.exit_code == 66 and "nog geen deelresultaat" in empty.stderr and "Traceback" not in empty.output
    write_data(node)
    assert invoke(node, "run", "--school-year", "2024-2025").exit_code == 0
    older = spool_file(node)
    os.utime(older, (1_600_000_000, 1_600_000_000))
    older.rename(older.with_name("0-" + older.name))  # so that the next run writes a second file
    assert invoke(node, "run", "--school-year", "2024-2025").exit_code == 0
    [newest] = [f for f in older.parent.glob("*.partial.json") if not f.name.startswith("0-")]
    result = invoke(node, "inspect")
    assert result.exit_code == 0 and f": {newest.name}" in result.stderr and "Handtekening geldig" in result.stdout


def load_key(config: Path):
    from node_agent.keys import load_signing_key

    return load_signing_key(config.parent / "keys/signing.pem")


def test_same_input_and_key_give_identical_bytes(node, monkeypatch):
    write_data(node)
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    assert invoke(node, "run", "--school-year", "2024-2025").exit_code == 0
    first = spool_file(node).read_bytes()
    spool_file(node).unlink()
    assert invoke(node, "run", "--school-year", "2024-2025").exit_code == 0
    assert spool_file(node).read_bytes() == first


def test_inspect_detects_tampering(node):
    write_data(node)
    assert invoke(node, "run", "--school-year", "2024-2025").exit_code == 0
    path = spool_file(node)
    env = json.loads(path.read_bytes())
    payload = base64.b64decode(env["payload"]).replace(b'"leerlingen","",2]', b'"leerlingen","",3]')
    env["payload"] = base64.b64encode(payload).decode()
    tampered = path.with_name("tampered.partial.json")
    tampered.write_text(json.dumps(env))
    result = invoke(node, "inspect", str(tampered))
    assert result.exit_code == 77
    assert "handtekening klopt niet" in result.stderr.lower() and "Traceback" not in result.output
    assert invoke(node, "approve", str(tampered), "--by", "X").exit_code == 77


def test_log_detects_a_removed_entry(node):
    write_data(node)
    for _ in range(2):
        assert invoke(node, "run", "--school-year", "2024-2025").exit_code == 0
    log_path = node.parent / "node-agent-log.jsonl"
    lines = log_path.read_text().splitlines()
    log_path.write_text(lines[1] + "\n")
    result = invoke(node, "log")
    assert result.exit_code == 65 and "keten" in result.stderr.lower()


class FakeHub:
    """Just enough of the hub's wire contract to see what the agent sends."""

    def __init__(self):
        self.submissions: list[bytes] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.url.path == "/api/v1/rounds":
            return httpx.Response(200, json={"rounds": [
                {"id": 4, "schooljaar": "2024-2025", "peildatum": "2024-10-01", "status": "open"},
                {"id": 5, "schooljaar": "2025-2026", "peildatum": "2025-10-01", "status": "open"}]})
        if request.url.path == "/api/v1/rounds/4/submissions":
            self.submissions.append(request.content)
            status = "duplicate" if self.submissions.count(request.content) > 1 else "accepted"
            return httpx.Response(201, json={"submission_id": len(self.submissions), "round_id": 4,
                                             "digest": "x", "status": status})
        if request.url.path == "/api/v1/nodes/enrol":
            return httpx.Response(201, json={"gemeentecode": "0356", "gemeentenaam": "Nieuwegein", "key_id": "k"})
        return httpx.Response(404, json={"error": {"code": "not_found", "message": "?"}})


def with_hub(config: Path, require_approval: bool) -> None:
    text = config.read_text().replace('url = ""', 'url = "https://hub.example.nl"')
    if require_approval:
        text = text.replace("require_approval = false", "require_approval = true")
    config.write_text(text)


def test_upload_waits_for_approval(node):
    write_data(node)
    with_hub(node, require_approval=True)
    hub = FakeHub()
    transport = httpx.MockTransport(hub)
    run = invoke(node, "run", "--school-year", "2024-2025", transport=transport)
    assert run.exit_code == 0 and "wacht op goedkeuring" in run.stdout and hub.submissions == []
    path = spool_file(node)
    refused = invoke(node, "upload", str(path), transport=transport)
    assert refused.exit_code == 75 and "nog niet goedgekeurd" in refused.stderr
    assert invoke(node, "approve", str(path), "--by", "Jan Jansen").exit_code == 0
    done = invoke(node, "upload", str(path), transport=transport)
    assert done.exit_code == 0, done.output
    assert "Geüpload naar ronde 4 (2024-2025): ontvangen" in done.stdout
    assert hub.submissions == [path.read_bytes()]
    events = [json.loads(x)["event"] for x in (node.parent / "node-agent-log.jsonl").read_text().splitlines()]
    assert events == ["built", "approved", "uploaded"]


def test_run_uploads_without_approval_and_offline_does_not(node):
    write_data(node)
    with_hub(node, require_approval=False)
    hub = FakeHub()
    transport = httpx.MockTransport(hub)
    assert invoke(node, "run", "--school-year", "2024-2025", "--offline", transport=transport).exit_code == 0
    assert hub.submissions == []
    result = invoke(node, "run", "--school-year", "2024-2025", transport=transport)
    assert result.exit_code == 0, result.output
    assert len(hub.submissions) == 1
    rounds = invoke(node, "rounds", transport=transport)
    assert "ronde 4: schooljaar 2024-2025" in rounds.stdout
    enrol = invoke(node, "enrol", "--token", "abc", transport=transport)
    assert enrol.exit_code == 0 and "Nieuwegein" in enrol.stdout


def test_user_mistakes_exit_cleanly(tmp_path, node):
    missing = invoke(tmp_path / "nope.toml", "check")
    assert missing.exit_code == 78 and "bestaat niet" in missing.stderr and "Traceback" not in missing.output
    write_data(node)
    bad_year = invoke(node, "run", "--school-year", "2024/2025")
    assert bad_year.exit_code == 65 and "JJJJ-JJJJ" in bad_year.stderr
    no_year = invoke(node, "run", "--school-year", "2019-2020")
    assert no_year.exit_code == 65 and "2019-2020" in no_year.stderr
    # a directory where a file should be: an OSError, reported with the path
    (node.parent / "data/leerlingen.csv").unlink()
    (node.parent / "data/leerlingen.csv").mkdir()
    unreadable = invoke(node, "check")
    assert unreadable.exit_code == 74 and "leerlingen.csv" in unreadable.stderr
    assert "Traceback" not in unreadable.output
    no_file = invoke(node, "inspect", str(tmp_path / "none.partial.json"))
    assert no_file.exit_code == 65 and "bestaat niet" in no_file.stderr


def test_agent_never_imports_hub_dependencies():
    code = (
        "import sys, node_agent.cli, node_agent.pipeline, node_agent.upload, node_agent.read, node_agent.pseudonymise,"
        " node_agent.aggregate\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in {'flask', 'celery', 'sqlalchemy', 'redis', 'hub'})\n"
        "print(bad); sys.exit(1 if bad else 0)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            cwd=Path(__file__).resolve().parents[2])
    assert result.returncode == 0, result.stdout + result.stderr


def test_console_script_is_installed_next_to_this_python():
    from shared.scripts import console_script, scripts_dir

    script = console_script("node-agent")
    assert script == str(scripts_dir() / "node-agent"), "pip install -e '.[agent]' into this Python first"
    result = subprocess.run([script, "--help"], capture_output=True, text=True)
    assert result.returncode == 0 and "init" in result.stdout and "inspect" in result.stdout


def test_python_dash_m_node_agent_is_the_same_command_line():
    result = subprocess.run([sys.executable, "-m", "node_agent", "--help"], capture_output=True, text=True)
    assert result.returncode == 0 and "Usage: node-agent" in result.stdout and "inspect" in result.stdout


def test_enrolment_read_in_a_worker_process_gives_the_same_partial(node, monkeypatch):
    import node_agent.pipeline as pipeline

    write_data(node)
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    assert invoke(node, "run", "--school-year", "2024-2025").exit_code == 0
    in_thread = spool_file(node).read_bytes()
    spool_file(node).unlink()
    monkeypatch.setattr(pipeline, "WORKER_PROCESS_MIN_BYTES", 0)
    assert pipeline._use_worker_process(node.parent / "data/leerlingen.csv")
    assert invoke(node, "run", "--school-year", "2024-2025").exit_code == 0
    assert spool_file(node).read_bytes() == in_thread
    # an unusable enrolment file raised in the worker still reaches the user as one clean message
    leerlingen = node.parent / "data/leerlingen.csv"
    leerlingen.write_text(leerlingen.read_text().replace("woongemeente", "gemeente"))
    result = invoke(node, "run", "--school-year", "2024-2025")
    assert result.exit_code == 65 and "woongemeente" in result.stderr and "Traceback" not in result.output


# --- the agent at a samenwerkingsverband --------------------------------------------------------------


def swv_node(tmp_path: Path) -> Path:
    from tests.node_agent.helpers import ONDERSTEUNING_HEADER, ondersteuning_row

    config = tmp_path / "swv" / "node-agent.toml"
    result = invoke(config, "init", "--swv-code", "PO-26-07")
    assert result.exit_code == 0, result.output
    write_csv(config.parent / "data" / "ondersteuning.csv", ONDERSTEUNING_HEADER, [
        ondersteuning_row(B[0], "04DA00", "TLV SO categorie laag"), ondersteuning_row(B[0], "04DA00", "arrangement"),
        ondersteuning_row(B[1], "04DA00", "arrangement"), ondersteuning_row(B[2], "09ZZ00", "opp"),
        ondersteuning_row(invalid_bsn(B[3]), "04DA00", "lwoo"), ondersteuning_row(B[4], "", "thuiszitter"),
    ], delimiter=";")
    return config


def test_an_swv_agent_inits_checks_and_counts_offline(tmp_path, monkeypatch):
    config = swv_node(tmp_path)
    cfg = load_config(config)
    assert (cfg.kind, cfg.node, cfg.gemeentecode) == ("swv", "PO2607", "") and list(cfg.extracts) == ["ondersteuning"]
    check = invoke(config, "check")
    assert check.exit_code == 0, check.output
    assert "Controle van het extract voor samenwerkingsverband PO2607" in check.stdout
    assert "gelezen 6  gebruikt 4  afgekeurd 1  uitgesloten 1" in check.stdout
    assert "zonder_vestiging (kolom vestigingscode)" in check.stdout and "scholen in het bestand: 2" in check.stdout
    assert json.loads(invoke(config, "check", "--json").stdout)["swv_code"] == "PO2607"
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    run = invoke(config, "run", "--school-year", "2024-2025", "--offline")
    assert run.exit_code == 0, run.output
    path = spool_file(config)
    assert path.name.startswith("PO2607-2024-2025-")
    table = invoke(config, "inspect", str(path))
    assert "Samenwerkingsverband PO2607; schooljaren 2024-2025; peildata 2024-2025: 2024-10-01" in table.stdout
    assert "declaratieregels" not in table.stdout and "één keer per schooljaar" in table.stdout
    lines = invoke(config, "inspect", str(path), "--format", "csv").stdout.splitlines()
    assert set(lines[1:]) == {
        "04DA00,2024-2025,leerlingen_ondersteuning,,2", "04DA00,2024-2025,leerlingen_ondersteuning_soort,arrangement,1",
        "04DA00,2024-2025,leerlingen_ondersteuning_soort,tlv-so,1", "09ZZ00,2024-2025,leerlingen_ondersteuning,,1",
        "09ZZ00,2024-2025,leerlingen_ondersteuning_soort,opp,1"}
    partial = SignedEnvelope.from_bytes(path.read_bytes()).verify(load_key(config).public_key())
    assert partial.header.kind == "swv" and partial.quality.notes  # counted without the hub's school list


class SwvHub(FakeHub):
    """A hub that lists the SWV's schools with its round (and takes the submission)."""

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.url.path == "/api/v1/rounds":
            assert request.headers["X-Jeugdhub-Node"] == "PO2607"
            return httpx.Response(200, json={"rounds": [{"id": 4, "schooljaar": "2024-2025", "peildatum": "2024-10-01",
                                                         "status": "open", "schools": ["04DA00", "05XB01"]}]})
        if request.url.path == "/api/v1/nodes/enrol":
            body = json.loads(request.content)
            assert body["swv_code"] == "PO2607" and "gemeentecode" not in body
            return httpx.Response(201, json={"swv_code": "PO2607", "naam": "SWV PO Lekstroom", "key_id": "k"})
        return super().__call__(request)


def test_an_swv_agent_counts_the_schools_the_round_lists_and_uploads(tmp_path):
    config = swv_node(tmp_path)
    with_hub(config, require_approval=False)
    hub = SwvHub()
    transport = httpx.MockTransport(hub)
    enrol = invoke(config, "enrol", "--token", "abc", transport=transport)
    assert enrol.exit_code == 0 and "SWV PO Lekstroom (PO2607)" in enrol.stdout
    result = invoke(config, "run", "--school-year", "2024-2025", transport=transport)
    assert result.exit_code == 0, result.output
    assert "ondersteuning: gelezen 6, gebruikt 3, afgekeurd 1, uitgesloten 2" in result.stdout
    [sent] = hub.submissions
    partial = SignedEnvelope.from_bytes(sent).verify(load_key(config).public_key())
    cells = {(c.vestigingscode, c.measure, c.category): c.value for c in partial.cells}
    assert cells[("05XB01", "leerlingen_ondersteuning", "")] == 0  # a school of the SWV without support
    assert not any(v == "09ZZ00" for v, _, _ in cells)  # another SWV's school: excluded by rule
    assert partial.quality.notes == ()


def test_an_swv_config_has_only_its_extract(tmp_path):
    config = swv_node(tmp_path)
    config.write_text(config.read_text() + '\n[extracts.jeugdhulp]\npath = "x.csv"\n')
    result = invoke(config, "check")
    assert result.exit_code == 78 and "jeugdhulp" in result.stderr and "samenwerkingsverband" in result.stderr
    both = invoke(tmp_path / "b" / "node-agent.toml", "init", "--gemeentecode", "0356", "--swv-code", "PO2607")
    assert both.exit_code == 78 and "niet allebei" in both.stderr


def test_the_log_says_an_upload_receipt_in_dutch():
    from node_agent.cli import _describe

    entry = {"at": "2026-12-03T10:00:00+00:00", "event": "uploaded", "digest": "ab" * 32, "hub": "https://hub.example",
             "round": 3, "receipt": {"status": "accepted", "submission_id": 7}}
    line = _describe(entry)
    assert "ontvangen (inzending 7)" in line and "accepted" not in line
    entry["receipt"]["status"] = "duplicate"
    assert "was al ontvangen (inzending 7)" in _describe(entry)
