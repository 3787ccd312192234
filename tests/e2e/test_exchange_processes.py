"""End to end over real HTTP: an SWV agent and two municipal agents, each a real ``node-agent`` process,
against the real hub app served on 127.0.0.1, run the overlap exchange side by side; the counts the hub
stores equal a direct intersection of the sets the agents kept, which are those of their submissions' cells.

The sets are read back from each agent's sealed state files (with its state key): the agents' own
pseudonyms, never sent in the clear.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from hub.demo import BackgroundServer, _set_hub_url, run_agent, run_agents
from hub.extensions import db
from hub.models.exchange import ExchangePayload, OverlapExchange
from hub.models.overlap import OverlapCount
from hub.models.submissions import Submission
from hub.services import nodes, rounds
from hub.services.submissions import load_partial
from node_agent.config import load_config
from node_agent.exchange import submission_sets
from node_agent.keys import create_pseudonym_key, create_signing_key
from node_agent.synthetic.generate import generate_region
from shared.pseudonym import new_key
from tests.hub.conftest import make_app

SCHOOLJAAR = "2024-2025"
SWV = "PO2607"
GEMEENTEN = ("0321", "0356")
MINIMUM = 10


@pytest.fixture(scope="module")
def region(tmp_path_factory) -> tuple[Path, dict]:
    root = tmp_path_factory.mktemp("lekstroom")
    return root, generate_region("lekstroom", root, schooljaren=(SCHOOLJAAR,), seed=5, scale=0.25)


@pytest.fixture
def served(tmp_path):
    from hub.reference import demo as demo_files
    from hub.services import reference as reference_service

    app = make_app(SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'hub.sqlite'}", COMBINE_IN_BACKGROUND=True)
    with app.app_context():
        db.create_all()
        reference_service.import_files(db.session, sorted(Path(demo_files.__file__).parent.glob("*.csv")))
    server = BackgroundServer(app, "127.0.0.1", 0).start()
    yield app, server.url
    server.stop()


def test_three_agent_processes_count_the_direct_intersection(region, served):
    root, manifest = region
    app, url = served
    entries = {**{c: manifest["municipalities"][c] for c in GEMEENTEN}, SWV: manifest["swvs"][SWV]}
    key = new_key()
    configs = {}
    with app.app_context():
        tokens = {code: nodes.register_node(code, entry["naam"]) for code, entry in sorted(entries.items())}
    for code, entry in sorted(entries.items()):
        config = (root / entry["config"]).resolve()
        _set_hub_url(config, url)
        create_pseudonym_key(config.parent / "keys" / "pseudonym.key", key)
        create_signing_key(config.parent / "keys" / "signing.pem")
        run_agent(config, "enrol", "--token", tokens[code])
        configs[code] = config
    with app.app_context():
        round_id = rounds.open_round(SCHOOLJAAR, expected=sorted(configs)).id
    for code in sorted(configs):
        assert "ontvangen" in run_agent(configs[code], "run", "--school-year", SCHOOLJAAR, "--no-exchange")

    outputs = run_agents([configs[c] for c in sorted(configs)], "exchange", "--timeout", "120", "--interval", "0.2")
    for out in outputs:
        assert "Uitwisseling klaar" in out, out
    assert "versleutelde set gestuurd" in outputs[0]

    with app.app_context():
        subs = {s.node.code: s for s in db.session.scalars(select(Submission).where(Submission.round_id == round_id))}
        counts = db.session.scalars(select(OverlapCount)).all()
        statuses = {x.status for x in db.session.scalars(select(OverlapExchange))}
        payloads = db.session.scalars(select(ExchangePayload)).all()
        partials = {code: load_partial(sub) for code, sub in subs.items()}
        status = rounds.round_status(round_id).to_dict()
    assert statuses == {"counted"} and payloads == []
    assert {x["label"].split(" (")[0] for x in status["exchanges"]} == {"geteld"}

    sets = {code: submission_sets(load_config(configs[code]), round_id, subs[code].id) for code in configs}
    # The sets are the populations of the cells the submissions carry.
    cell = {SWV: "leerlingen_ondersteuning", **{c: "clienten" for c in GEMEENTEN}}
    for code, partial in partials.items():
        values = {c.vestigingscode: c.value for c in partial.cells
                  if c.measure == cell[code] and c.value and c.vestigingscode != "GEEN"}
        assert {school: len(p) for school, p in sets[code].items()} == values

    found = 0
    for gemeente in GEMEENTEN:
        expected = {school: len(set(kids) & set(sets[SWV][school]))
                    for school, kids in sets[gemeente].items()
                    if school in sets[SWV] and len(kids) >= MINIMUM and len(sets[SWV][school]) >= MINIMUM}
        stored = {c.vestigingscode: c.beide for c in counts
                  if c.gemeente_submission_id == subs[gemeente].id and c.swv_submission_id == subs[SWV].id}
        assert stored == expected
        found += sum(expected.values())
    assert found > 0  # the test data has overlap to count
