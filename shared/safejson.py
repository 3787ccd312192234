"""JSON with a bounded nesting depth: the one parser for JSON that arrives from outside.

``json.loads`` recurses once per nesting level, so ``[[[[…]]]]`` a few thousand levels deep raises
``RecursionError`` (a server error, not a user's mistake), and even a depth that parses can exhaust
the stack of code that walks the result. :func:`loads` refuses such input with a
:class:`~shared.errors.PayloadError` (``json_too_deep``, HTTP 400) before parsing it. Nothing the
project exchanges comes near the limit: a partial is five levels deep.
"""

from __future__ import annotations

import json
import re
from typing import Any

from shared.errors import PayloadError

MAX_DEPTH = 32

_ESCAPE = re.compile(r"\\.", re.S)  # an escape inside a string (so \" cannot end it)
_STRING = re.compile(r'"[^"]*"')  # a string once its escapes are gone: brackets inside it do not nest
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")
_PAIR = re.compile(r"\[\]|\{\}")


def too_deep(text: str, max_depth: int = MAX_DEPTH) -> bool:
    """Whether the JSON ``text`` nests arrays and objects more than ``max_depth`` levels deep.

    Linear in the size of the text, in C (regular expressions), with no recursion: the brackets
    outside strings are kept, then one innermost pair per level is removed per round. Text that is
    not JSON may give any answer; :func:`json.loads` rejects it afterwards.
    """
    brackets = _NOT_BRACKET.sub("", _STRING.sub("", _ESCAPE.sub("", text)))
    for _ in range(max_depth):
        if not brackets:
            return False
        shorter = _PAIR.sub("", brackets)
        if shorter == brackets:
            return False  # unbalanced: not JSON, for json.loads to say so
        brackets = shorter
    return bool(brackets) and _PAIR.search(brackets) is not None


def loads(text: str | bytes, *, max_depth: int = MAX_DEPTH) -> Any:
    """``json.loads`` that raises PayloadError (``json_too_deep``) for nesting over ``max_depth``.

    Other errors are json.loads' own (``json.JSONDecodeError``, a ValueError; ``UnicodeDecodeError``
    for bytes that are not UTF-8), so callers keep their own messages for them.
    """
    if isinstance(text, (bytes, bytearray)):
        text = bytes(text).decode("utf-8")
    if too_deep(text, max_depth):
        raise _too_deep(max_depth)
    try:
        return json.loads(text)
    except RecursionError:  # pragma: no cover — too_deep() stops this first; kept as the last line of defence
        raise _too_deep(max_depth) from None


def _too_deep(max_depth: int) -> PayloadError:
    return PayloadError(f"De JSON is te diep genest (meer dan {max_depth} niveaus)", code="json_too_deep",
                        details={"max_depth": max_depth})
