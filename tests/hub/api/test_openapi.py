"""hub/api/openapi.yaml: a valid OpenAPI 3.1 document that documents every /api route the app has."""

from __future__ import annotations

import re

import yaml
from openapi_spec_validator import validate

from tests.hub.openapi_helpers import SPEC_PATH, spec


def test_document_is_valid_openapi_31():
    document = yaml.safe_load(SPEC_PATH.read_text(encoding="utf-8"))
    assert document["openapi"].startswith("3.1")
    validate(document)


def test_every_api_route_is_documented(app):
    documented = {
        (path, method.upper()) for path, ops in spec()["paths"].items() for method in ops if method in {"get", "post", "put", "patch", "delete"}
    }
    missing = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/"):
            continue
        path = re.sub(r"<(?:[^:>]+:)?([^>]+)>", r"{\1}", rule.rule)
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            if (path, method) not in documented:
                missing.append(f"{method} {path}")
    assert missing == []


def test_every_operation_documents_the_error_shape():
    for path, ops in spec()["paths"].items():
        for method, op in ops.items():
            if path.endswith("openapi.yaml"):
                continue
            errors = [r for s, r in op["responses"].items() if s == "default" or s.startswith(("4", "5"))]
            assert errors, f"{method.upper()} {path} documents no error response"


def test_served_document_is_the_file(client):
    response = client.get("/api/v1/openapi.yaml")
    assert response.status_code == 200 and response.mimetype == "application/yaml"
    assert response.get_data(as_text=True) == SPEC_PATH.read_text(encoding="utf-8")
