"""Key files: created owner-only, never overwritten, imported in the forms a region hands them over."""

from __future__ import annotations

import base64
import os

import pytest

from node_agent.keys import create_pseudonym_key, create_signing_key, load_pseudonymiser, load_signing_key, parse_pseudonym_key
from shared.errors import ConfigError


def test_created_owner_only_and_never_overwritten(tmp_path):
    create_pseudonym_key(tmp_path / "p.key")
    create_signing_key(tmp_path / "s.pem")
    for name in ("p.key", "s.pem"):
        assert os.stat(tmp_path / name).st_mode & 0o777 == 0o600
    before = (tmp_path / "p.key").read_bytes()
    with pytest.raises(ConfigError):
        create_pseudonym_key(tmp_path / "p.key")
    with pytest.raises(ConfigError):
        create_signing_key(tmp_path / "s.pem")
    assert (tmp_path / "p.key").read_bytes() == before
    assert len(bytes.fromhex(before.decode().strip())) == 32
    load_pseudonymiser(tmp_path / "p.key")
    load_signing_key(tmp_path / "s.pem")


@pytest.mark.parametrize("encode", [lambda k: k.hex().encode(), lambda k: base64.b64encode(k), lambda k: k,
                                    lambda k: k.hex().upper().encode() + b"\r\n"])
def test_import_forms(encode):
    key = bytes(range(100, 132))
    assert parse_pseudonym_key(encode(key), "f") == key


def test_short_keys_are_refused():
    with pytest.raises(ConfigError, match="256 bits"):
        parse_pseudonym_key(b"ab" * 10, "f")


def test_keys_readable_by_others_are_refused(tmp_path):
    create_pseudonym_key(tmp_path / "p.key")
    os.chmod(tmp_path / "p.key", 0o644)
    with pytest.raises(ConfigError, match="chmod 600"):
        load_pseudonymiser(tmp_path / "p.key")
