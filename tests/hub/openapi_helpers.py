"""Validate test responses against hub/api/openapi.yaml (the response schema of path+method+status)."""

from __future__ import annotations

import functools
import re
from pathlib import Path
from typing import Any

import jsonschema
import yaml

SPEC_PATH = Path(__file__).resolve().parents[2] / "hub" / "api" / "openapi.yaml"


@functools.lru_cache(maxsize=1)
def spec() -> dict[str, Any]:
    return yaml.safe_load(SPEC_PATH.read_text(encoding="utf-8"))


def _match_path(path: str) -> str:
    for template in spec()["paths"]:
        pattern = "^" + re.sub(r"\{[^}]+\}", r"[^/]+", template) + "$"
        if re.match(pattern, path):
            return template
    raise AssertionError(f"{path} is not documented in openapi.yaml")


def _resolve(obj: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in obj:
        node: Any = spec()
        for part in obj["$ref"].removeprefix("#/").split("/"):
            node = node[part]
        obj = node
    return obj


def response_schema(method: str, path: str, status: int, content_type: str = "application/json") -> dict[str, Any]:
    template = _match_path(path.split("?")[0])
    operation = spec()["paths"][template].get(method.lower())
    assert operation is not None, f"{method} {template} is not documented"
    responses = operation["responses"]
    key = str(status) if str(status) in responses else "default"
    assert key in responses, f"{method} {template} does not document status {status}"
    response = _resolve(responses[key])
    content = response.get("content", {})
    assert content_type in content, f"{method} {template} {status} does not document {content_type}"
    return content[content_type]["schema"]


def assert_matches_openapi(response, method: str, path: str) -> Any:
    """Validate a Flask test-client (or httpx) response against the documented schema; returns its JSON."""
    status = response.status_code
    ctype = response.headers.get("Content-Type", "").split(";")[0]
    schema = response_schema(method, path, status, ctype)
    if ctype != "application/json":
        return None
    body = response.get_json() if hasattr(response, "get_json") else response.json()
    # Resolve "#/components/..." references against the whole document.
    wrapped = {**schema, "components": spec()["components"]}
    jsonschema.validate(body, wrapped, cls=jsonschema.Draft202012Validator, format_checker=jsonschema.FormatChecker())
    return body
