"""The agent's side of the overlap exchange against the real hub app (in-process over
``httpx.WSGITransport``): sets from the very run that built the submission, sealed 0600 files, a
restart mid-round that sends the same bytes, and the clean-up once counted and once the round closes."""

from __future__ import annotations

import re
import stat
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from hub.extensions import db
from hub.models.exchange import ExchangePayload
from hub.models.overlap import OverlapCount
from hub.services import nodes, rounds
from node_agent import exchange as agent_exchange
from node_agent.upload import HubClient
from shared.errors import ServiceUnavailable
from shared.partial import Partial
from tests.hub.conftest import make_app
from tests.hub.factories import add_swv
from tests.node_agent.helpers import (
    JEUGDHULP_HEADER, LEERLINGEN_HEADER, ONDERSTEUNING_HEADER, jeugdhulp_row, leerling_row, ondersteuning_row,
    valid_bsns, write_csv,
)
from tests.node_agent.test_cli import invoke

SCHOOLJAAR = "2024-2025"
SWV = "PO2607"
BSN = valid_bsns(120)
CLIENTS_A = BSN[:30]  # clients of 0356 at 04DA00
SUPPORT_A = BSN[10:35]  # the SWV's support pupils at 04DA00: 20 of them are clients
CLIENTS_B = BSN[40:45]  # five clients at 05DB00: below the minimum, never sent


@pytest.fixture
def hub(tmp_path):
    app = make_app(SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'hub.sqlite'}")
    with app.app_context():
        db.create_all()
        add_swv(SWV, ("04DA00", "05DB00"))
    return app


def _init(root: Path, flag: str, code: str, key: Path, transport, hub_app, *extra: str) -> Path:
    config = root / "node-agent.toml"
    result = invoke(config, "init", flag, code, "--hub-url", "http://hub.test", "--import-pseudonym-key", str(key),
                    *extra)
    assert result.exit_code == 0, result.output
    with hub_app.app_context():
        token = nodes.register_node(code, None if code == SWV else "Nieuwegein")
    result = invoke(config, "enrol", "--token", token, transport=transport)
    assert result.exit_code == 0, result.output
    return config


@pytest.fixture
def region(hub, tmp_path):
    transport = httpx.WSGITransport(app=hub)
    key = tmp_path / "region.key"
    key.write_text("ab" * 32 + "\n")
    gemeente = _init(tmp_path / "0356", "--gemeentecode", "0356", key, transport, hub, "--declaraties", "")
    data = gemeente.parent / "data"
    write_csv(data / "jeugdhulp.csv", JEUGDHULP_HEADER,
              [jeugdhulp_row(b, f"T{i}") for i, b in enumerate(CLIENTS_A + CLIENTS_B)])
    write_csv(data / "leerlingen.csv", LEERLINGEN_HEADER,
              [leerling_row(b, "04DA00") for b in BSN[:40]] + [leerling_row(b, "05DB00") for b in BSN[40:60]])
    swv = _init(tmp_path / SWV, "--swv-code", SWV, key, transport, hub)
    write_csv(swv.parent / "data" / "ondersteuning.csv", ONDERSTEUNING_HEADER,
              [ondersteuning_row(b, "04DA00") for b in SUPPORT_A] + [ondersteuning_row(b, "05DB00") for b in BSN[60:75]])
    with hub.app_context():
        round_id = rounds.open_round(SCHOOLJAAR, expected=[SWV, "0356"]).id
    return {"transport": transport, "gemeente": gemeente, "swv": swv, "round": round_id, "hub": hub}


def run(region, who: str, *args: str):
    result = invoke(region[who], *args, transport=region["transport"])
    assert result.exit_code == 0, result.output
    return result.stdout


def exchange(region, who: str) -> str:
    return run(region, who, "exchange", "--timeout", "0", "--interval", "0.05")


def _partial(config: Path, out: str) -> Partial:
    return _open(config, Path(re.search(r"Deelresultaat gemaakt: (\S+)", out).group(1)))


def _open(config: Path, path: Path) -> Partial:
    from node_agent.config import load_config
    from node_agent.pipeline import open_envelope

    return open_envelope(load_config(config), path)[1]


def test_a_run_keeps_the_sets_of_its_own_cells_and_ties_them_to_the_submission(region):
    out = run(region, "gemeente", "run", "--school-year", SCHOOLJAAR, "--exchange-timeout", "0")
    assert "wacht op inzending van PO2607" in out  # no exchange before both submitted
    run(region, "swv", "run", "--school-year", SCHOOLJAAR, "--no-exchange")
    out = run(region, "gemeente", "run", "--school-year", SCHOOLJAAR, "--exchange-timeout", "0")
    assert "Overlap tellen" in out and "versleutelde set gestuurd voor 1 school" in out
    submission = int(re.search(r"inzending (\d+)", out).group(1))
    from node_agent.config import load_config

    cfg = load_config(region["gemeente"])
    sets = agent_exchange.submission_sets(cfg, region["round"], submission)
    clienten = {c.vestigingscode: c.value for c in _partial(region["gemeente"], out).cells if c.measure == "clienten"}
    # Exactly the children of the clienten cells, at every school.
    assert {school: len(p) for school, p in sets.items()} == {k: v for k, v in clienten.items() if v}
    assert not list(cfg.psi_dir.glob("build-*.sets"))  # replaced by the submission's file
    for path in list(cfg.psi_dir.iterdir()) + [cfg.psi_state_key]:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    # Nothing on disk shows a pseudonym in the clear.
    pseudonyms = {p for ps in sets.values() for p in ps}
    for path in cfg.psi_dir.iterdir():
        blob = path.read_bytes()
        assert not any(p in blob or p.hex().encode() in blob for p in pseudonyms)


def test_the_exchange_survives_restarts_and_counts_the_direct_intersection(region, monkeypatch):
    sent: list[bytes] = []
    real = HubClient.send_sets
    crash = {"blinded": 1, "reblinded": 1}

    def flaky(self, round_id, exchange_id, step, payload):
        sent.append(payload)
        if crash.get(step):  # the agent dies after sealing its state, before the hub has the set
            crash[step] -= 1
            raise ServiceUnavailable("weg", code="hub_unreachable")
        return real(self, round_id, exchange_id, step, payload)

    monkeypatch.setattr(HubClient, "send_sets", flaky)
    run(region, "gemeente", "run", "--school-year", SCHOOLJAAR, "--no-exchange")
    run(region, "swv", "run", "--school-year", SCHOOLJAAR, "--no-exchange")
    exchange(region, "gemeente")  # blinds, the send fails
    out = exchange(region, "gemeente")  # restarted: the same bytes, now received
    assert "versleutelde set gestuurd" in out
    assert sent[0] == sent[1]
    with region["hub"].app_context():
        stored = db.session.scalars(select(ExchangePayload.data)).all()
    assert stored == [sent[1]]
    out = exchange(region, "swv")  # blinds; its re-blinding fails once
    assert "versleutelde set gestuurd voor 1 school" in out
    out = exchange(region, "swv")  # restarted: re-blinds alike
    assert sent[3] == sent[4] and "herversleuteld" in out
    out = exchange(region, "gemeente")
    assert "geteld (1 school)" in out and "Uitwisseling klaar" in out
    with region["hub"].app_context():
        counts = [(c.vestigingscode, c.beide) for c in db.session.scalars(select(OverlapCount))]
        payloads = db.session.scalars(select(ExchangePayload)).all()
    assert counts == [("04DA00", len(set(CLIENTS_A) & set(SUPPORT_A)))] == [("04DA00", 20)]
    assert payloads == []
    from node_agent.config import load_config

    for who in ("gemeente", "swv"):
        cfg = load_config(region[who])
        if who == "swv":
            exchange(region, who)  # learns that it was counted
        assert not list(cfg.psi_dir.glob("exchange-*.state"))  # deleted once counted
        assert list(cfg.psi_dir.glob("round-*.sets"))  # kept while the round is open
    with region["hub"].app_context():
        rounds.close_round(region["round"])
    out = exchange(region, "gemeente")
    assert "Ronde" in out and "verwijderd" in out
    assert not list(load_config(region["gemeente"]).psi_dir.glob("*.sets"))
