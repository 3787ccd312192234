"""shared.safejson: JSON nested too deep is a PayloadError (400), never a RecursionError (500)."""

from __future__ import annotations

import json

import pytest

from shared import safejson
from shared.errors import PayloadError


def nested(depth: int, open_: str = "[", close: str = "]") -> str:
    return open_ * depth + close * depth


def test_the_limit_itself_parses_and_one_more_level_is_refused():
    assert safejson.loads(nested(safejson.MAX_DEPTH)) is not None
    with pytest.raises(PayloadError) as info:
        safejson.loads(nested(safejson.MAX_DEPTH + 1))
    assert info.value.code == "json_too_deep" and info.value.http_status == 400


@pytest.mark.parametrize("depth", [1_000, 100_000, 1_000_000])
def test_very_deep_input_never_reaches_the_recursion_limit(depth):
    with pytest.raises(PayloadError):
        safejson.loads(nested(depth).encode())


def test_objects_and_arrays_count_alike_one_level_each():
    mixed = '{"a": [' * 20 + "1" + "]}" * 20  # 40 levels, alternating
    assert safejson.too_deep(mixed, 39) and not safejson.too_deep(mixed, 40)
    assert json.loads(mixed) == safejson.loads(mixed, max_depth=40)


def test_brackets_inside_strings_do_not_nest():
    text = json.dumps({"naam": "[" * 500 + '\\"{' * 100, "cellen": [["a]", "{b"], ["\\\\", "]]]"]]})
    assert not safejson.too_deep(text, 3)
    assert safejson.loads(text, max_depth=3) == json.loads(text)


def test_other_errors_stay_json_errors():
    with pytest.raises(json.JSONDecodeError):
        safejson.loads("{niet json")
    with pytest.raises(json.JSONDecodeError):
        safejson.loads("[[[}")  # unbalanced: not too deep, just not JSON
    with pytest.raises(UnicodeDecodeError):
        safejson.loads(b"\xff[]")
