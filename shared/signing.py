"""Ed25519 node keys and the signed envelope a partial travels in.

Envelope (JSON, canonical)::

    {"format": "jeugdhub.signed-partial", "format_version": 1, "algorithm": "Ed25519",
     "key_id": "<16 hex>", "payload": "<base64 of the canonical partial>",
     "signature": "<base64 of Ed25519(SIGNING_CONTEXT + payload)>"}

The signature covers the exact payload bytes (no re-encoding on the receiving side). The key id
is the first 16 hex digits of SHA-256 over the raw public key. Ed25519 is deterministic, so the
same partial and key give byte-identical envelopes.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from shared import safejson
from shared.errors import ConfigError, PayloadError, PayloadTooLarge, SignatureError
from shared.partial import Partial, canonical_json, decode_partial, encode_partial

ENVELOPE_FORMAT = "jeugdhub.signed-partial"
ENVELOPE_VERSION = 1
SIGNING_CONTEXT = b"jeugdhub.signed-partial.v1\n"
#: Default upper bound for an envelope; a national-scale large municipality stays far below it.
MAX_ENVELOPE_BYTES = 64 * 1024 * 1024


def generate_signing_key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


def public_key_pem(key: Ed25519PrivateKey | Ed25519PublicKey) -> str:
    pub = key.public_key() if isinstance(key, Ed25519PrivateKey) else key
    return pub.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode("ascii")


def load_public_key(pem: str | bytes) -> Ed25519PublicKey:
    data = pem.encode("ascii") if isinstance(pem, str) else pem
    try:
        key = serialization.load_pem_public_key(data)
    except (ValueError, TypeError):
        raise SignatureError("De publieke sleutel is geen geldige PEM", code="bad_public_key") from None
    if not isinstance(key, Ed25519PublicKey):
        raise SignatureError("De publieke sleutel is geen Ed25519-sleutel", code="bad_public_key")
    return key


def key_id(key: Ed25519PrivateKey | Ed25519PublicKey) -> str:
    pub = key.public_key() if isinstance(key, Ed25519PrivateKey) else key
    raw = pub.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def write_private_key(key: Ed25519PrivateKey, path: Path) -> None:
    """PKCS#8 PEM, created with mode 0600 so no other user can ever read it."""
    data = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    write_secret_file(path, data)


def read_private_key(path: Path) -> Ed25519PrivateKey:
    try:
        key = serialization.load_pem_private_key(Path(path).read_bytes(), password=None)
    except FileNotFoundError:
        raise ConfigError(f"Ondertekensleutel niet gevonden: {path}", code="missing_key") from None
    except (ValueError, TypeError):
        raise ConfigError(f"Ondertekensleutel is onleesbaar: {path}", code="bad_key") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise ConfigError(f"{path} is geen Ed25519-sleutel", code="bad_key")
    return key


def write_secret_file(path: Path, data: bytes) -> None:
    """Write a file readable by its owner only; refuses to overwrite an existing one."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise ConfigError(f"{path} bestaat al; een sleutel wordt nooit overschreven", code="key_exists") from None
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
    os.chmod(path, 0o600)


@dataclass(frozen=True)
class SignedEnvelope:
    key_id: str
    payload: bytes  # canonical partial bytes
    signature: bytes

    def to_bytes(self) -> bytes:
        return canonical_json(
            {
                "format": ENVELOPE_FORMAT,
                "format_version": ENVELOPE_VERSION,
                "algorithm": "Ed25519",
                "key_id": self.key_id,
                "payload": base64.b64encode(self.payload).decode("ascii"),
                "signature": base64.b64encode(self.signature).decode("ascii"),
            }
        )

    @classmethod
    def from_bytes(cls, data: bytes, *, max_bytes: int = MAX_ENVELOPE_BYTES) -> "SignedEnvelope":
        if len(data) > max_bytes:
            raise PayloadTooLarge(f"Het bestand is groter dan {max_bytes} bytes")
        try:
            obj = safejson.loads(data.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            raise PayloadError("Dit is geen ondertekend deelresultaat (geen JSON)", code="bad_envelope") from None
        if not isinstance(obj, dict) or obj.get("format") != ENVELOPE_FORMAT:
            raise PayloadError("Dit is geen ondertekend deelresultaat", code="bad_envelope")
        if obj.get("format_version") != ENVELOPE_VERSION or obj.get("algorithm") != "Ed25519":
            raise PayloadError("Onbekende envelopversie of algoritme", code="bad_envelope")
        try:
            payload = base64.b64decode(obj["payload"], validate=True)
            signature = base64.b64decode(obj["signature"], validate=True)
            kid = obj["key_id"]
        except (KeyError, TypeError, binascii.Error):
            raise PayloadError("De envelop is onvolledig of beschadigd", code="bad_envelope") from None
        if not isinstance(kid, str):
            raise PayloadError("De envelop heeft geen geldige key_id", code="bad_envelope")
        return cls(key_id=kid, payload=payload, signature=signature)

    @property
    def digest(self) -> str:
        """SHA-256 of the payload: names the partial's content in logs and receipts."""
        return hashlib.sha256(self.payload).hexdigest()

    def verify(self, public_key: Ed25519PublicKey, *, strict: bool = True) -> Partial:
        """Check the signature, then decode the payload (``strict``: see shared.partial). Raises
        SignatureError or PayloadError."""
        if key_id(public_key) != self.key_id:
            raise SignatureError("De sleutel-id hoort niet bij deze sleutel", code="unknown_key")
        try:
            public_key.verify(self.signature, SIGNING_CONTEXT + self.payload)
        except InvalidSignature:
            raise SignatureError("De handtekening klopt niet: het bestand is gewijzigd of niet door deze node ondertekend") from None
        return decode_partial(self.payload, strict=strict)


def sign_partial(partial: Partial, key: Ed25519PrivateKey) -> SignedEnvelope:
    payload = encode_partial(partial)
    return SignedEnvelope(key_id=key_id(key), payload=payload, signature=key.sign(SIGNING_CONTEXT + payload))
