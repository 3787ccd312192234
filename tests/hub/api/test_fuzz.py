"""Property-based fuzzing of the API (schemathesis, driven by hub/api/openapi.yaml) against a real hub
served on a loopback port: whatever a client sends, the hub never answers 5xx.

The hub is the seeded demo region of the page tests (releases, schools, users). Each operation is
called as the most privileged user (a regio_admin API token), as the operator (HUB_ADMIN_TOKEN, the
only way past the admin routes /rounds and /uploads) and as an anonymous client. The run is bounded
(examples per operation, no shrinking) to stay well under a minute on two cores.
"""

from __future__ import annotations

import pytest
import schemathesis
from schemathesis.checks import not_a_server_error
from schemathesis.config import SchemathesisConfig

from tests.conftest import serve_app
from tests.hub.conftest import ADMIN_TOKEN
from tests.hub.openapi_helpers import SPEC_PATH

#: Examples per operation and identity in the fuzzing phase; the coverage phase adds its boundary cases.
MAX_EXAMPLES = 15

CONFIG = SchemathesisConfig.from_dict({
    "generation": {"max-examples": MAX_EXAMPLES, "no-shrink": True, "database": "none", "mode": "all"},
    "phases": {"stateful": {"enabled": False}},
    "request-timeout": 30,
})
schema = schemathesis.openapi.from_path(SPEC_PATH, config=CONFIG)


@pytest.fixture(scope="module")
def fuzz_database(postgres_server):
    """A PostgreSQL database for the module, as in production (it refuses what SQLite lets through, e.g. NUL)."""
    name = postgres_server.create_database()
    yield postgres_server.url_for(name)
    postgres_server.drop_database(name)


@pytest.fixture(scope="module")
def fuzzed_hub(fuzz_database):
    """(base URL, regio_admin bearer token) of a seeded hub on a live server."""
    from hub.extensions import db
    from hub.services import users
    from tests.hub.conftest import make_app
    from tests.hub.web.conftest import FAST_HASH
    from tests.hub.web.seed import seed_region

    app = make_app(SQLALCHEMY_DATABASE_URI=fuzz_database, PASSWORD_HASH_METHOD=FAST_HASH)
    with app.app_context():
        db.create_all()
        seeded = seed_region()
        token = users.create_api_token(seeded.users["regio_admin"][0], label="fuzz")
    with serve_app(app) as live:
        yield live.url, token
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@schema.parametrize()
def test_no_server_error_as_regio_admin(case, fuzzed_hub):
    url, token = fuzzed_hub
    case.call_and_validate(base_url=url, headers={"Authorization": f"Bearer {token}"}, checks=[not_a_server_error])


@schema.parametrize()
def test_no_server_error_as_operator(case, fuzzed_hub):
    url, _ = fuzzed_hub
    case.call_and_validate(base_url=url, headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}, checks=[not_a_server_error])


@schema.parametrize()
def test_no_server_error_anonymous(case, fuzzed_hub):
    url, _ = fuzzed_hub
    case.call_and_validate(base_url=url, checks=[not_a_server_error])
