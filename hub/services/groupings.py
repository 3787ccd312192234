"""The hub's groupings table: the default (shared/groupings.py) or the deployment's ``GROUPINGS_FILE``.

The file is a JSON object in the ``Groupings.to_dict`` form. It is read once per app and checked
as a whole (every fine category in exactly one group); a bad file stops the hub at start with the
rule it breaks, never a half-applied table. The same table goes to the nodes with every round
(hub/services/rounds.py) and to the gate, which binds each group to its parts (hub/disclosure/tables.py).
"""

from __future__ import annotations

import json
from pathlib import Path

from flask import current_app

from shared.errors import ConfigError
from shared.groupings import DEFAULT_GROUPINGS, Groupings

_EXTENSION_KEY = "jeugdhub.groupings"


def load_file(path: str | Path) -> Groupings:
    """Read and check a groupings file."""
    try:
        raw = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"GROUPINGS_FILE {path}: niet te lezen ({exc.strerror})", code="bad_groupings") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ConfigError(f"GROUPINGS_FILE {path}: geen geldige JSON ({exc})", code="bad_groupings") from None
    return Groupings.from_dict(raw)


def init_app(app) -> None:
    """Load the table at app creation (a bad file fails the start, not a combine)."""
    path = app.config.get("GROUPINGS_FILE")
    app.extensions[_EXTENSION_KEY] = load_file(path) if path else DEFAULT_GROUPINGS


def current() -> Groupings:
    return current_app.extensions.get(_EXTENSION_KEY, DEFAULT_GROUPINGS)
