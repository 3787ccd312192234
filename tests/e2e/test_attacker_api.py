"""An outside attacker given exactly what the API returns to the most privileged role narrows no hidden cell.

A synthetic region is built through the real agents and the real gate (as in test_agent_to_hub.py),
with the demo's provider → consortium table, so the release has care-intensity and consortium cells;
the attacker then reads ``/api/v1/releases/{id}/cells`` and the school list ``/api/v1/scholen`` with a
regio admin's API token, and bounds every hidden count with LPs over what those answers say and the
documented inequalities between distinct counts, knowing the groupings and the consortium table
(tests/hub/disclosure/attacker.py). Every hidden cell must keep at least ``threshold`` possible values.

The same attacker, handed what the API used to return (each hidden cell's reason, here taken from the
admin's audit view), does narrow cells: that is the leak this guards against, and it shows the attack
has teeth.
"""

from __future__ import annotations

import re

import pandas as pd
import pytest

from hub.demo import demo_consortia_csv
from hub.extensions import db
from hub.services import consortia
from hub.services import users as user_service
from hub.services.releases import audit_cells
from hub.services.rounds import round_tables
from node_agent.keys import create_pseudonym_key, create_signing_key
from node_agent.synthetic.generate import generate_region
from shared.groupings import Groupings
from tests.e2e.test_agent_to_hub import agent, hub_cli
from tests.hub.conftest import make_app
from tests.hub.disclosure.attacker import PUBLIC_COLUMNS, Attack, group_parents, narrowed

SCHOOLJAAR = "2024-2025"


@pytest.fixture(scope="module")
def published(tmp_path_factory):
    """A region's current release as the API serves it: (app, headers, release id, the round's tables as
    the attacker's keyword arguments)."""
    root = tmp_path_factory.mktemp("attack")
    manifest = generate_region("ijmond", root, schooljaren=(SCHOOLJAAR,), seed=11, scale=0.25)
    app = make_app(SQLALCHEMY_DATABASE_URI=f"sqlite:///{root / 'hub.sqlite'}", CELERY_BROKER_URL="memory://")
    with app.app_context():
        db.create_all()
        consortia.import_csv(demo_consortia_csv(), "consortia-synthetisch.csv")
        tables = round_tables()  # what the round gives the nodes, and what any reader of the documentation knows
    known = {"groupings": Groupings.from_dict(tables["groupings"]), "consortia": tables["consortia"]}
    assert known["consortia"]
    configs = []
    for code, entry in manifest["municipalities"].items():
        config = root / entry["config"]
        create_signing_key(config.parent / "keys" / "signing.pem")
        create_pseudonym_key(config.parent / "keys" / "pseudonym.key")
        token = re.search(r"^([A-Za-z0-9_-]{40,})$", hub_cli(app, "node", "add", code, "--naam", entry["naam"]), re.M).group(1)
        assert agent(app, config, "enrol", "--token", token).exit_code == 0
        configs.append(config)
    hub_cli(app, "round", "open", SCHOOLJAAR)
    for config in configs:
        result = agent(app, config, "run", "--school-year", SCHOOLJAAR)
        assert result.exit_code == 0, result.output
    hub_cli(app, "round", "combine", "1")
    with app.app_context():
        user_service.add_user("regio@example.nl", "een-lang-wachtwoord-voor-de-test", "regio_admin")
        token = user_service.create_api_token("regio@example.nl", "aanvaller")
    client = app.test_client()
    headers = {"Authorization": f"Bearer {token}"}
    releases = client.get(f"/api/v1/releases?schooljaar={SCHOOLJAAR}&current=true", headers=headers).get_json()["releases"]
    assert len(releases) == 1
    return app, headers, releases[0]["id"], known


def _api_view(app, headers, release_id) -> tuple[pd.DataFrame, dict[str, str]]:
    client = app.test_client()
    response = client.get(f"/api/v1/releases/{release_id}/cells", headers=headers)
    assert response.status_code == 200
    cells = response.get_json()["cells"]
    schools = client.get(f"/api/v1/scholen?schooljaar={SCHOOLJAAR}", headers=headers).get_json()["scholen"]
    mapping = pd.DataFrame([{"vestigingscode": s["vestigingscode"], "schooltype": s["schooltype"]} for s in schools])
    return pd.DataFrame(cells), group_parents(mapping)


def test_the_api_tells_nothing_about_a_hidden_cell_but_that_it_is_hidden(published):
    app, headers, release_id, _ = published
    cells, _ = _api_view(app, headers, release_id)
    assert sorted(cells.columns) == sorted(PUBLIC_COLUMNS)
    # The round's tables reached the agents: the release has care-intensity and consortium cells.
    assert {"clienten_zorgintensiteit", "clienten_consortium"} <= set(cells["measure"])
    assert set(cells["status"]) == {"published", "suppressed"}
    assert cells.loc[cells["status"] == "suppressed", "value"].isna().all()


def test_an_attacker_with_the_api_answers_narrows_no_hidden_cell(published):
    app, headers, release_id, known = published
    cells, parent = _api_view(app, headers, release_id)
    attack = Attack([cells], parent, **known)
    hidden = [k for k in attack.hidden if k[3] != "kosten"]
    assert len(hidden) > 200  # a real region: many hidden cells to try
    assert attack.A_ub.shape[0] > 500  # the inequalities between distinct counts are in the attack
    assert narrowed(attack) == []


def test_the_same_attacker_narrows_cells_when_the_api_tells_why_a_cell_is_hidden(published):
    app, headers, release_id, known = published
    cells, parent = _api_view(app, headers, release_id)
    with app.app_context():
        internal = pd.DataFrame(audit_cells(release_id))
    told = cells.merge(internal[["level", "unit", "schooljaar", "measure", "category", "reason"]], how="left",
                       on=["level", "unit", "schooljaar", "measure", "category"])
    found = narrowed(Attack([told], parent, **known))
    assert found, "the reasons the API used to return narrow hidden cells"
