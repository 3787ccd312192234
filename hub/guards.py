"""Request guards shared by the API and the pages: a user's mistake in a URL, a form field, a query
value or a JSON body is a 4xx, never a server error.

- ``<int:…>`` in every route only matches numbers the database can hold (int64): a larger number is
  simply not found (404), instead of an OverflowError from the database driver.
- :func:`int_field` parses an integer from a form or query value, with the same bound (400).
- :func:`query_value` reads an optional query parameter; present but empty is an error (400), not
  "absent": ``?schooljaar=`` must not silently mean "the latest year".
- :func:`json_body` is the request's JSON object through :mod:`shared.safejson` (bounded nesting).
- A NUL character in the path, a query value or a form field is refused before any view runs (400):
  PostgreSQL cannot store or even compare a string holding one, so it would surface as a server error.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, request
from werkzeug.routing import IntegerConverter

from shared import safejson
from shared.errors import InputError, PayloadError

#: The largest id any table can hold (a signed 64-bit integer: SQLite's INTEGER, PostgreSQL's BIGINT).
INT64_MAX = 2**63 - 1


class Int64Converter(IntegerConverter):
    """Werkzeug's ``int`` converter, bounded to what the database can hold; beyond it the URL does not match."""

    def __init__(self, map, fixed_digits: int = 0, min: int | None = 0, max: int | None = INT64_MAX,
                 signed: bool = False) -> None:
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)


def init_app(app: Flask) -> None:
    """Before any blueprint adds its routes: converters are looked up when a rule is added."""
    app.url_map.converters["int"] = Int64Converter
    app.before_request(refuse_nul)


_FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def refuse_nul() -> None:
    """InputError (400) when the path, a query parameter or a form field holds a NUL character."""
    fields = list(request.args.items(multi=True))
    if request.mimetype in _FORM_TYPES:
        fields += list(request.form.items(multi=True))
    if "\x00" in request.path or any("\x00" in key or "\x00" in value for key, value in fields):
        raise InputError("De aanvraag bevat een ongeldig teken (NUL); verwijder het en probeer het opnieuw",
                         code="invalid_input")


def int_field(name: str, value: str | None) -> int:
    """A whole number from a form or query value, within int64; InputError (400) otherwise."""
    try:
        number = int(str(value).strip())
    except (TypeError, ValueError):
        raise InputError(f"'{name}' moet een geheel getal zijn", code="invalid_input") from None
    if not 0 <= number <= INT64_MAX:
        raise InputError(f"'{name}' valt buiten het bereik van geldige nummers", code="invalid_input")
    return number


def query_value(name: str) -> str | None:
    """An optional query parameter: None when absent, its value when given, InputError when empty."""
    value = request.args.get(name)
    if value is None:
        return None
    if not value.strip():
        raise InputError(f"Queryparameter '{name}' is leeg; laat hem weg of geef een waarde", code="invalid_input",
                         details={"parameter": name})
    return value


def json_body() -> dict[str, Any]:
    """The request's JSON object (Content-Type application/json), nested at most safejson.MAX_DEPTH deep."""
    body = None
    if request.is_json:
        try:
            body = safejson.loads(request.get_data(cache=True))
        except (UnicodeDecodeError, ValueError):
            body = None
    if not isinstance(body, dict):
        raise PayloadError("Verwacht een JSON-object als inhoud", code="bad_request")
    return body
