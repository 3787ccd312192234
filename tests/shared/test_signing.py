"""Signing round trip, tampering, wrong keys."""

import pytest

from shared.errors import PayloadError, PayloadTooLarge, SignatureError
from shared.signing import SignedEnvelope, generate_signing_key, key_id, load_public_key, public_key_pem, sign_partial
from tests.shared.test_partial import make_partial


def test_round_trip_and_determinism():
    key = generate_signing_key()
    env = sign_partial(make_partial(), key)
    data = env.to_bytes()
    assert sign_partial(make_partial(), key).to_bytes() == data  # Ed25519 is deterministic
    back = SignedEnvelope.from_bytes(data)
    partial = back.verify(load_public_key(public_key_pem(key)))
    assert partial.header.node == "0356"
    assert back.key_id == key_id(key)


def test_tampered_payload_is_detected():
    key = generate_signing_key()
    env = sign_partial(make_partial(), key)
    forged = SignedEnvelope(env.key_id, env.payload.replace(b"120", b"121"), env.signature)
    with pytest.raises(SignatureError):
        SignedEnvelope.from_bytes(forged.to_bytes()).verify(key.public_key())


def test_other_key_is_refused():
    env = sign_partial(make_partial(), generate_signing_key())
    with pytest.raises(SignatureError):
        env.verify(generate_signing_key().public_key())


def test_same_key_id_but_different_signature():
    key, other = generate_signing_key(), generate_signing_key()
    env = sign_partial(make_partial(), other)
    forged = SignedEnvelope(key_id(key), env.payload, env.signature)
    with pytest.raises(SignatureError):
        forged.verify(key.public_key())


@pytest.mark.parametrize("data", [b"", b"not json", b"{}", b'{"format":"jeugdhub.signed-partial"}', b"[1,2]"])
def test_garbage_is_a_payload_error(data):
    with pytest.raises(PayloadError):
        SignedEnvelope.from_bytes(data)


def test_size_limit():
    with pytest.raises(PayloadTooLarge):
        SignedEnvelope.from_bytes(b"x" * 101, max_bytes=100)
