"""End to end, in-process: the real agent CLI (``node-agent``) against the real hub app.

A synthetic region is generated; each municipality's agent makes its keys, enrols with the token
the hub admin got from ``jeugdhub node add``, builds, signs and uploads its partial over
``httpx.WSGITransport`` (the agent's real HTTP client, no network); one municipality works offline
and its file is uploaded by the admin. The hub combines with the real disclosure gate.

The app queues its combine tasks on an in-memory broker with no worker (as when the worker is
down): the uploads must not depend on it, and one explicit ``jeugdhub round combine`` catches up.
The eager in-process path is covered by tests/hub/api and tests/hub/test_tasks.py.
"""

from __future__ import annotations

import io
import re
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from hub.extensions import db
from node_agent.cli import AgentContext
from node_agent.cli import main as agent_main
from node_agent.keys import create_pseudonym_key, create_signing_key
from node_agent.synthetic.generate import generate_region
from tests.hub.conftest import ADMIN_TOKEN, make_app
from tests.hub.openapi_helpers import assert_matches_openapi

SCHOOLJAAR = "2024-2025"


@pytest.fixture(scope="module")
def region(tmp_path_factory) -> tuple[Path, dict]:
    root = tmp_path_factory.mktemp("lekstroom")
    manifest = generate_region("ijmond", root, schooljaren=(SCHOOLJAAR,), seed=3, scale=0.2)
    return root, manifest


@pytest.fixture
def hub(tmp_path):
    app = make_app(SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'hub.sqlite'}", CELERY_BROKER_URL="memory://")
    with app.app_context():
        db.create_all()
    return app


def hub_cli(app, *args: str) -> str:
    result = app.test_cli_runner().invoke(args=list(args))
    assert result.exit_code == 0, result.output
    return result.output


def agent(app, config: Path, *args: str):
    obj = AgentContext(config_path=config, transport=httpx.WSGITransport(app=app))
    return CliRunner().invoke(agent_main, ["--config", str(config), *args], obj=obj)


def test_region_enrols_uploads_and_gets_a_release(hub, region, tmp_path):
    root, manifest = region
    municipalities = manifest["municipalities"]
    configs = {}
    for code, entry in municipalities.items():
        config = root / entry["config"]
        keys = config.parent / "keys"
        if not (keys / "signing.pem").exists():
            create_signing_key(keys / "signing.pem")
            create_pseudonym_key(keys / "pseudonym.key")
        configs[code] = config
        token = re.search(r"^([A-Za-z0-9_-]{40,})$", hub_cli(hub, "node", "add", code, "--naam", entry["naam"]), re.M).group(1)
        result = agent(hub, config, "enrol", "--token", token)
        assert result.exit_code == 0, result.output
    assert "Ronde 1 geopend" in hub_cli(hub, "round", "open", SCHOOLJAAR)

    online, offline_code = sorted(configs)[:-1], sorted(configs)[-1]
    for code in online:
        result = agent(hub, configs[code], "run", "--school-year", SCHOOLJAAR)
        assert result.exit_code == 0, result.output
        assert "ontvangen" in result.output
    result = agent(hub, configs[offline_code], "run", "--school-year", SCHOOLJAAR, "--offline")
    assert result.exit_code == 0, result.output
    spool_file = Path(re.search(r"Deelresultaat gemaakt: (\S+)", result.output).group(1))

    client = hub.test_client()
    form = {"round_id": "1", "file": (io.BytesIO(spool_file.read_bytes()), spool_file.name)}
    response = client.post("/api/v1/uploads", data=form, headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
                           content_type="multipart/form-data")  # fmt: skip
    assert response.status_code == 201, response.get_json()

    # The same file again from the agent itself: stored once.
    result = agent(hub, configs[offline_code], "upload", str(spool_file), "--round", "1")
    assert result.exit_code == 0 and "was al ontvangen" in result.output

    status = client.get("/api/v1/rounds/1", headers={"Authorization": f"Bearer {ADMIN_TOKEN}"})
    body = assert_matches_openapi(status, "GET", "/api/v1/rounds/1")
    assert body["missing"] == [] and body["submitted"] == sorted(configs)
    assert body["pending"] is True and body["current_release"] is None

    assert "nieuwe release" in hub_cli(hub, "round", "combine", "1")
    assert "al actueel" in hub_cli(hub, "round", "combine", "1")
    body = client.get("/api/v1/rounds/1", headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}).get_json()
    assert body["pending"] is False and body["current_release"]["version"] == 1

    admin = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    releases = client.get(f"/api/v1/releases?schooljaar={SCHOOLJAAR}&current=true", headers=admin)
    current = assert_matches_openapi(releases, "GET", "/api/v1/releases")["releases"]
    assert len(current) == 1 and current[0]["nodes"] == sorted(configs)
    cells = client.get(f"/api/v1/releases/{current[0]['id']}/cells?level=regio&measure=leerlingen", headers=admin)
    regio = assert_matches_openapi(cells, "GET", f"/api/v1/releases/{current[0]['id']}/cells")["cells"]
    assert len(regio) == 1 and regio[0]["status"] == "published" and regio[0]["value"] > 0

    # The providers' names come from the nodes' partials (no consortium table was uploaded here): every
    # published provider shows the synthetic provider's name, none shows its code as its name.
    from node_agent.synthetic.providers import PROVIDERS

    coverage = client.get(f"/api/v1/aanbieders?schooljaar={SCHOOLJAAR}", headers=admin)
    shown = [p for s in assert_matches_openapi(coverage, "GET", "/api/v1/aanbieders")["scholen"] for p in s["aanbieders"]]
    names = {p.agb: p.naam for p in PROVIDERS}
    assert shown and all(p["aanbieder_naam"] == names[p["aanbieder_agb"]] for p in shown)

    # The release is reproducible from the stored submissions.
    assert "Gelijk" in hub_cli(hub, "release", "rebuild", str(current[0]["id"]))

    # A revoked node is refused by the hub, and the agent reports it without a traceback.
    hub_cli(hub, "node", "revoke", online[0])
    result = agent(hub, configs[online[0]], "rounds")
    assert result.exit_code != 0 and "node_revoked" in result.output + (result.stderr if hasattr(result, "stderr") else "")
    assert "Traceback" not in result.output
