"""BSN canonicalisation and keyed-hash pseudonyms (HMAC-SHA-256, domain-separated).

A BSN is canonicalised to 9 digits (spreadsheets strip leading zeros), checked with the
elfproef, and hashed with a node-held key of at least 256 bits. The message is a versioned
domain prefix plus the BSN, so a pseudonym for this purpose can never equal a hash made for
another. Plain SHA-256 would be useless: every valid BSN hashes in seconds.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from shared.errors import ConfigError

DOMAIN_PREFIX = b"jeugdhub/bsn-pseudonym/v1\x00"
KEY_BYTES = 32  # 256 bits
MIN_KEY_BYTES = 32

#: The reserved test range (BSNs issued for software testing).
TEST_RANGE = (999_900_006, 999_999_990)
PLACEHOLDERS = frozenset({"000000000", "999999999"})
#: The elfproef's weight per digit, first to last.
ELFPROEF_WEIGHTS = (9, 8, 7, 6, 5, 4, 3, 2, -1)


class BsnRejected(ValueError):
    """Why a value is not a usable BSN; ``reason`` is a stable code, the message never holds the value."""

    def __init__(self, reason: str, message: str):
        super().__init__(message)
        self.reason = reason


def elfproef(digits: str) -> bool:
    """The BSN eleven test: 9·d1 + 8·d2 + … + 2·d8 − 1·d9 ≡ 0 (mod 11), and not all zero."""
    if len(digits) != 9 or not (digits.isascii() and digits.isdigit()):
        return False
    total = sum(int(d) * w for d, w in zip(digits, ELFPROEF_WEIGHTS))
    return total % 11 == 0 and total != 0


def canonical_bsn(raw: object, *, allow_test_range: bool = False) -> str:
    """Nine digits, zero-padded, elfproef-checked; raises :class:`BsnRejected` otherwise.

    Accepts what spreadsheets make of a BSN: ints, floats like ``12345672.0``, surrounding
    spaces. The error message deliberately omits the value.
    """
    if raw is None:
        raise BsnRejected("bsn_missing", "BSN ontbreekt")
    if isinstance(raw, float):
        if raw != raw or not raw.is_integer():  # NaN or a fraction
            raise BsnRejected("bsn_missing" if raw != raw else "bsn_format", "BSN is geen geheel getal")
        raw = int(raw)
    text = str(raw).strip()
    if text.endswith(".0") and text[:-2].isdigit():
        text = text[:-2]
    if not text:
        raise BsnRejected("bsn_missing", "BSN ontbreekt")
    if not (text.isascii() and text.isdigit()):  # str.isdigit alone also takes "²" and "１" (full width)
        raise BsnRejected("bsn_format", "BSN bevat andere tekens dan cijfers")
    if len(text) > 9:
        raise BsnRejected("bsn_format", "BSN heeft meer dan 9 cijfers")
    text = text.zfill(9)
    if text in PLACEHOLDERS:
        raise BsnRejected("bsn_placeholder", "BSN is een opvulwaarde (000000000 of 999999999)")
    if not elfproef(text):
        raise BsnRejected("bsn_elfproef", "BSN voldoet niet aan de elfproef")
    if not allow_test_range and TEST_RANGE[0] <= int(text) <= TEST_RANGE[1]:
        raise BsnRejected("bsn_test_range", "BSN ligt in de gereserveerde testreeks (testdata is niet toegestaan)")
    return text


def new_key() -> bytes:
    """A fresh pseudonymisation key from the operating system's CSPRNG."""
    return secrets.token_bytes(KEY_BYTES)


class Pseudonymiser:
    """Turns canonical BSNs into pseudonyms. Holds the key; never prints it."""

    __slots__ = ("_key",)

    def __init__(self, key: bytes):
        if not isinstance(key, (bytes, bytearray)) or len(key) < MIN_KEY_BYTES:
            raise ConfigError(
                "De pseudonimiseringssleutel moet minstens 256 bits (32 bytes) zijn",
                code="weak_pseudonym_key",
            )
        self._key = bytes(key)

    def __repr__(self) -> str:  # never show the key
        return "Pseudonymiser(<key hidden>)"

    def pseudonym(self, canonical: str) -> bytes:
        """The 32-byte pseudonym of one canonical BSN."""
        return hmac.new(self._key, DOMAIN_PREFIX + canonical.encode("ascii"), hashlib.sha256).digest()

    def pseudonymise_many(self, canonicals) -> dict[str, bytes]:
        """Pseudonyms for distinct BSNs, each hashed once (:meth:`pseudonyms`, keyed by BSN)."""
        distinct = list(dict.fromkeys(canonicals))
        return dict(zip(distinct, self.pseudonyms(distinct)))

    def pseudonyms(self, canonicals) -> list[bytes]:
        """The pseudonym of each canonical BSN, in order (a BSN given twice is hashed twice).

        HMAC(K, m) = H((K ⊕ opad) ‖ H((K ⊕ ipad) ‖ m)) (RFC 2104). The keyed inner state (with the
        domain prefix already absorbed) and the keyed outer state are built once and copied per BSN,
        directly on hashlib objects: the ``hmac`` wrapper's per-copy overhead would halve throughput.
        ``pseudonym`` (via ``hmac.new``) gives the same bytes; the tests hold the two together.
        """
        block = self._key if len(self._key) <= 64 else hashlib.sha256(self._key).digest()
        block = block.ljust(64, b"\0")
        inner = hashlib.sha256(bytes(b ^ 0x36 for b in block))
        inner.update(DOMAIN_PREFIX)
        outer = hashlib.sha256(bytes(b ^ 0x5C for b in block))
        inner_copy, outer_copy = inner.copy, outer.copy
        out: list[bytes] = []
        append = out.append
        for bsn in canonicals:
            h = inner_copy()
            h.update(bsn.encode("ascii"))
            o = outer_copy()
            o.update(h.digest())
            append(o.digest())
        return out
