"""The node's two secrets on disk: the Ed25519 signing key and the pseudonymisation key.

Both files are created with mode 0600 and are never overwritten. The pseudonymisation key file
holds the key as hex on one line, so a region that shares one key can hand it over as text.
"""

from __future__ import annotations

import base64
import binascii
import os
import stat
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from shared.errors import ConfigError
from shared.pseudonym import MIN_KEY_BYTES, Pseudonymiser, new_key
from shared.signing import generate_signing_key, read_private_key, write_private_key, write_secret_file


def parse_pseudonym_key(data: bytes, source: str) -> bytes:
    """Hex or base64 text, or raw bytes; at least 256 bits."""
    text = data.strip()
    key: bytes | None = None
    try:
        decoded = text.decode("ascii")
    except UnicodeDecodeError:
        decoded = None
    if decoded is not None:
        if len(decoded) >= 2 * MIN_KEY_BYTES and all(c in "0123456789abcdefABCDEF" for c in decoded):
            key = bytes.fromhex(decoded)
        else:
            try:
                candidate = base64.b64decode(decoded, validate=True)
            except (binascii.Error, ValueError):
                candidate = b""
            if len(candidate) >= MIN_KEY_BYTES:
                key = candidate
    if key is None:
        key = data
    if len(key) < MIN_KEY_BYTES:
        raise ConfigError(
            f"{source}: de pseudonimiseringssleutel is korter dan 256 bits; gebruik de sleutel die de regio heeft "
            "gemaakt met 'node-agent init' (64 hexadecimale tekens).",
            code="weak_pseudonym_key",
            details={"file": source},
        )
    return key


def create_pseudonym_key(path: Path, imported: bytes | None = None) -> None:
    key = imported if imported is not None else new_key()
    write_secret_file(path, key.hex().encode("ascii") + b"\n")


def create_signing_key(path: Path) -> Ed25519PrivateKey:
    key = generate_signing_key()
    write_private_key(key, path)
    return key


def _check_private(path: Path) -> None:
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        raise ConfigError(
            f"Sleutelbestand {path} bestaat niet; maak de sleutels met 'node-agent init'.",
            code="missing_key",
            details={"file": str(path)},
        ) from None
    if os.name == "posix" and mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise ConfigError(
            f"Sleutelbestand {path} is leesbaar voor anderen; maak het alleen leesbaar voor de eigenaar: chmod 600 {path}",
            code="key_permissions",
            details={"file": str(path)},
        )


def load_pseudonymiser(path: Path) -> Pseudonymiser:
    _check_private(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"Sleutelbestand {path} is niet leesbaar ({exc.strerror})", code="missing_key") from None
    return Pseudonymiser(parse_pseudonym_key(data, str(path)))


def load_signing_key(path: Path) -> Ed25519PrivateKey:
    _check_private(path)
    return read_private_key(path)
