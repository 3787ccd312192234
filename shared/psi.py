"""Private set intersection cardinality (ECDH-PSI-CA) of pseudonyms per school, between an SWV node
and a municipal node, with the hub as an honest-but-curious matcher (docs/overlap.md).

Each side hashes its pseudonyms to the group under a context naming the exchange and the school,
multiplies them by a fresh secret scalar and sends per school a sorted set of 32-byte points; the
other side multiplies those by its own scalar and sorts again; the hub counts the equal doubly
blinded points per school (H(x)^ab = H(x)^ba) and keeps only the counts.

The group is the prime-order subgroup of edwards25519 through libsodium's ed25519 core functions
(PyNaCl has no ristretto255 bindings). Only canonical encodings of subgroup points other than the
identity are valid, so equal elements have equal bytes; libsodium's scalar multiplication refuses
every other point (the ``is_valid_point`` checks), so every point a node multiplies is validated.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
import secrets
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import Any, Iterable, Mapping

import nacl.bindings as sodium
import nacl.exceptions

from shared import safejson
from shared.codes import is_vestigingscode
from shared.errors import ConfigError, PsiError, SchemaVersionError

FORMAT = "jeugdhub.psi-sets"
FORMAT_VERSION = 1
#: The group and its hash-to-group; another (e.g. ristretto255) is a new value, never mixed with this one.
GROUP = "edwards25519-sha512-ell2"
POINT_BYTES = 32
BLINDED, REBLINDED = "blinded", "reblinded"
STEPS = (BLINDED, REBLINDED)
#: A school's set is only sent with at least this many distinct pseudonyms.
DEFAULT_MIN_SET_SIZE = 10
#: Each sent set is padded with dummy points to a multiple of this, so its exact size stays local.
DEFAULT_PAD_BLOCK = 16
MAX_SCHOOLS = 10_000
MAX_POINTS = 2_000_000  # per payload: 64 MB of points, far above any region
STATE_KEY_BYTES = sodium.crypto_aead_xchacha20poly1305_ietf_KEYBYTES

_HASH_CONTEXT = b"jeugdhub/psi-ca/v1/hash-to-group\x00"
_DIGEST_CONTEXT = b"jeugdhub/psi-ca/v1/digest\x00"
_STATE_MAGIC = b"jeugdhub/psi-state/v1\n"
_IDENTITY = b"\x01" + bytes(31)
_SWV_CODE = re.compile(r"(PO|VO)\d{4}")
_GEMEENTECODE = re.compile(r"\d{4}")
_EXCHANGE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,63}")
_HEX_DIGEST = re.compile(r"[0-9a-f]{64}")
_PAYLOAD_KEYS = frozenset(
    {"format", "format_version", "group", "round_id", "exchange_id", "node", "step", "source_digest", "sets", "digest"}
)


def _lp(data: bytes) -> bytes:
    """Length-prefixed, so no two different field lists hash alike."""
    return len(data).to_bytes(2, "big") + data


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _dumps(obj: Any) -> bytes:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def _bad(message: str, field_name: str) -> PsiError:
    return PsiError(message, code="psi_bad_payload", details={"field": field_name})


@dataclass(frozen=True)
class Exchange:
    """One comparison in a round: an SWV's sets against one municipality's."""

    region: str
    round_id: int
    exchange_id: str
    swv: str  # SWV code, e.g. PO2701
    gemeente: str  # gemeentecode, e.g. 0356

    def __post_init__(self) -> None:
        if not isinstance(self.region, str) or not (0 < len(self.region) <= 64) or not self.region.isprintable():
            raise _bad("De regio is tekst van 1 tot 64 tekens", "region")
        if not _is_int(self.round_id) or self.round_id < 0:
            raise _bad("Het ronde-id is een geheel getal ≥ 0", "round_id")
        if not isinstance(self.exchange_id, str) or not _EXCHANGE_ID.fullmatch(self.exchange_id):
            raise _bad("Het uitwisselings-id is 1 tot 64 letters, cijfers of . _ : -", "exchange_id")
        if not isinstance(self.swv, str) or not _SWV_CODE.fullmatch(self.swv):
            raise _bad("Geen SWV-code (PO of VO en 4 cijfers)", "swv")
        if not isinstance(self.gemeente, str) or not _GEMEENTECODE.fullmatch(self.gemeente):
            raise _bad("Geen gemeentecode (4 cijfers)", "gemeente")

    @property
    def parties(self) -> tuple[str, str]:
        return (self.swv, self.gemeente)

    def peer(self, node: str) -> str:
        """The other party of ``node``; a node outside this exchange is refused."""
        if node == self.swv:
            return self.gemeente
        if node == self.gemeente:
            return self.swv
        raise PsiError("Deze node neemt niet deel aan de uitwisseling", code="psi_foreign_set", details={"node": node})

    @cached_property
    def context(self) -> bytes:
        """The bytes that bind hashes and digests to this exchange."""
        fields = (GROUP, self.region, str(self.round_id), self.exchange_id, self.swv, self.gemeente)
        return b"".join(_lp(f.encode("utf-8")) for f in fields)

    def to_dict(self) -> dict[str, Any]:
        return {
            "region": self.region,
            "round_id": self.round_id,
            "exchange_id": self.exchange_id,
            "swv": self.swv,
            "gemeente": self.gemeente,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "Exchange":
        if not isinstance(d, dict) or set(d) != {"region", "round_id", "exchange_id", "swv", "gemeente"}:
            raise _bad("Een uitwisseling heeft precies region, round_id, exchange_id, swv en gemeente", "exchange")
        return cls(d["region"], d["round_id"], d["exchange_id"], d["swv"], d["gemeente"])


# --- the group ------------------------------------------------------------------------------------


def _to_group(uniform: bytes) -> bytes:
    """64 uniform bytes → a subgroup point: Elligator 2 on each half (cofactor cleared), then added,
    so the result is close to uniform in the group (one map alone reaches only half the points)."""
    return sodium.crypto_core_ed25519_add(
        sodium.crypto_core_ed25519_from_uniform(uniform[:32]), sodium.crypto_core_ed25519_from_uniform(uniform[32:])
    )


def _school_hasher(exchange: Exchange, vestigingscode: str) -> "hashlib._Hash":
    h = hashlib.sha512(_HASH_CONTEXT)
    h.update(exchange.context)
    h.update(_lp(vestigingscode.encode("ascii")))
    return h


def hash_to_group(exchange: Exchange, vestigingscode: str, pseudonym: bytes) -> bytes:
    """The group element of one pseudonym at one school in one exchange (it never leaves the node)."""
    _check_school(vestigingscode)
    _check_pseudonym(pseudonym, vestigingscode, 0)
    h = _school_hasher(exchange, vestigingscode)
    h.update(pseudonym)
    return _to_group(h.digest())


def is_valid_point(point: bytes) -> bool:
    """A canonical encoding of a subgroup point other than the identity."""
    return isinstance(point, bytes) and len(point) == POINT_BYTES and sodium.crypto_core_ed25519_is_valid_point(point)


def _point_error(point: bytes, school: str, index: int) -> PsiError:
    details = {"school": school, "index": index}
    if point == _IDENTITY:
        return PsiError(f"Punt {index} van vestiging {school} is het neutrale element",
                        code="psi_identity_point", details=details)
    return PsiError(f"Punt {index} van vestiging {school} is geen geldig groepselement",
                    code="psi_bad_point", details=details)


def _mul(scalar: bytes, point: bytes, school: str, index: int) -> bytes:
    try:
        return sodium.crypto_scalarmult_ed25519_noclamp(scalar, point)
    except nacl.exceptions.RuntimeError:  # not canonical, not in the subgroup, or of small order
        raise _point_error(point, school, index) from None


# --- a node's secret --------------------------------------------------------------------------------


@dataclass(frozen=True)
class BlindingState:
    """A node's secret for one exchange (a seed its scalar and dummies derive from) and the digest of
    the one set it re-blinded. Stays with the node: sealed in its own state directory, never sent."""

    exchange: Exchange
    node: str
    seed: bytes = field(repr=False)
    reblinded: str | None = None

    def __post_init__(self) -> None:
        self.exchange.peer(self.node)
        if not isinstance(self.seed, bytes) or len(self.seed) != 32:
            raise PsiError("De geheime toestand is beschadigd", code="psi_bad_state", details={"field": "seed"})
        if self.reblinded is not None and not _is_digest(self.reblinded):
            raise PsiError("De geheime toestand is beschadigd", code="psi_bad_state", details={"field": "reblinded"})

    @property
    def peer(self) -> str:
        return self.exchange.peer(self.node)

    @cached_property
    def scalar(self) -> bytes:
        """Uniform modulo the group order (64 bytes reduced); zero has probability 2⁻²⁵², refused anyway."""
        wide = hashlib.blake2b(self.exchange.context, key=self.seed, person=b"jh-psi-scalar").digest()
        scalar = sodium.crypto_core_ed25519_scalar_reduce(wide)
        if scalar == bytes(32):
            raise PsiError("De geheime toestand is onbruikbaar", code="psi_bad_state")
        return scalar

    def dummies(self, vestigingscode: str, count: int) -> list[bytes]:
        """Padding points: pseudorandom under the seed, so a restarted node pads exactly alike."""
        base = hashlib.blake2b(self.exchange.context + _lp(vestigingscode.encode("ascii")),
                               key=self.seed, person=b"jh-psi-dummy")
        out = []
        for i in range(count):
            h = base.copy()
            h.update(i.to_bytes(4, "big"))
            out.append(_to_group(h.digest()))
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "exchange": self.exchange.to_dict(),
            "node": self.node,
            "seed": base64.b64encode(self.seed).decode("ascii"),
            "reblinded": self.reblinded,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "BlindingState":
        if not isinstance(d, dict) or set(d) != {"exchange", "node", "seed", "reblinded"}:
            raise PsiError("De geheime toestand is beschadigd", code="psi_bad_state")
        try:
            seed = base64.b64decode(d["seed"], validate=True)
        except (binascii.Error, TypeError, ValueError):
            raise PsiError("De geheime toestand is beschadigd", code="psi_bad_state",
                           details={"field": "seed"}) from None
        return cls(Exchange.from_dict(d["exchange"]), d["node"], seed, d["reblinded"])


def new_state(exchange: Exchange, node: str) -> BlindingState:
    """A fresh secret for ``node`` in ``exchange`` (from the operating system's CSPRNG)."""
    return BlindingState(exchange, node, secrets.token_bytes(32))


def new_state_key() -> bytes:
    """A key for :func:`seal_state`; it stays on the node (e.g. in its keys directory)."""
    return secrets.token_bytes(STATE_KEY_BYTES)


def _check_state_key(key: bytes) -> None:
    if not isinstance(key, bytes) or len(key) != STATE_KEY_BYTES:
        raise ConfigError(f"De sleutel voor de PSI-toestand moet {STATE_KEY_BYTES} bytes zijn", code="psi_state_key")


def seal_state(state: BlindingState, key: bytes) -> bytes:
    """The state encrypted and authenticated (XChaCha20-Poly1305), for the node's own state directory."""
    _check_state_key(key)
    nonce = secrets.token_bytes(sodium.crypto_aead_xchacha20poly1305_ietf_NPUBBYTES)
    sealed = sodium.crypto_aead_xchacha20poly1305_ietf_encrypt(_dumps(state.to_dict()), _STATE_MAGIC, nonce, key)
    return _STATE_MAGIC + nonce + sealed


def open_state(blob: bytes, key: bytes, *, exchange: Exchange | None = None, node: str | None = None) -> BlindingState:
    """A sealed state back; with ``exchange``/``node``, one of another exchange or node is refused."""
    _check_state_key(key)
    nonce_end = len(_STATE_MAGIC) + sodium.crypto_aead_xchacha20poly1305_ietf_NPUBBYTES
    if not isinstance(blob, bytes) or not blob.startswith(_STATE_MAGIC) or len(blob) <= nonce_end:
        raise PsiError("Dit is geen opgeslagen PSI-toestand", code="psi_bad_state")
    try:
        plain = sodium.crypto_aead_xchacha20poly1305_ietf_decrypt(
            blob[nonce_end:], _STATE_MAGIC, blob[len(_STATE_MAGIC):nonce_end], key
        )
    except nacl.exceptions.CryptoError:
        raise PsiError("De PSI-toestand is niet te openen (andere sleutel of beschadigd)",
                       code="psi_bad_state") from None
    state = BlindingState.from_dict(safejson.loads(plain.decode("utf-8")))
    if exchange is not None and state.exchange != exchange:
        raise PsiError("De opgeslagen toestand hoort bij een andere ronde of uitwisseling", code="psi_replay")
    if node is not None and state.node != node:
        raise PsiError("De opgeslagen toestand hoort bij een andere node", code="psi_foreign_set")
    return state


# --- the payload ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PsiSets:
    """Per school a sorted set of blinded points, as one node sends it through the hub.

    ``step`` is ``blinded`` (the node's own sets) or ``reblinded`` (the peer's sets under this node's
    scalar too; ``source_digest`` names the set it answers). ``digest`` binds the whole payload to its
    exchange (region, round, exchange id, both parties), node and step; see :func:`sets_digest`.
    """

    round_id: int
    exchange_id: str
    node: str
    step: str
    sets: Mapping[str, tuple[bytes, ...]]
    digest: str
    source_digest: str | None = None

    def sizes(self) -> dict[str, int]:
        return {code: len(points) for code, points in sorted(self.sets.items())}

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "group": GROUP,
            "round_id": self.round_id,
            "exchange_id": self.exchange_id,
            "node": self.node,
            "step": self.step,
            "source_digest": self.source_digest,
            "sets": {code: base64.b64encode(b"".join(self.sets[code])).decode("ascii") for code in sorted(self.sets)},
            "digest": self.digest,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "PsiSets":
        """A checked payload: types, canonical form (points sorted, no duplicates) and bounds."""
        if not isinstance(d, dict) or set(d) != _PAYLOAD_KEYS:
            raise _bad(f"Een PSI-set heeft precies de velden {', '.join(sorted(_PAYLOAD_KEYS))}", "payload")
        if d["format"] != FORMAT:
            raise _bad("Geen PSI-set", "format")
        if d["format_version"] != FORMAT_VERSION or d["group"] != GROUP:
            raise SchemaVersionError("Onbekende versie of groep van de PSI-set", code="unsupported_schema")
        if not _is_int(d["round_id"]) or d["round_id"] < 0:
            raise _bad("Het ronde-id is een geheel getal ≥ 0", "round_id")
        if not isinstance(d["exchange_id"], str) or not _EXCHANGE_ID.fullmatch(d["exchange_id"]):
            raise _bad("Ongeldig uitwisselings-id", "exchange_id")
        if not isinstance(d["node"], str) or not (_SWV_CODE.fullmatch(d["node"]) or _GEMEENTECODE.fullmatch(d["node"])):
            raise _bad("De node is een SWV-code of een gemeentecode", "node")
        if d["step"] not in STEPS:
            raise _bad("De stap is blinded of reblinded", "step")
        source = d["source_digest"]
        if (source is None) != (d["step"] == BLINDED) or (source is not None and not _is_digest(source)):
            raise _bad("Alleen een herblinde set noemt de set die ze beantwoordt (64 hexadecimale tekens)",
                       "source_digest")
        if not _is_digest(d["digest"]):
            raise _bad("De digest is 64 hexadecimale tekens", "digest")
        sets = d["sets"]
        if not isinstance(sets, dict) or len(sets) > MAX_SCHOOLS:
            raise _bad(f"De sets zijn een object met hoogstens {MAX_SCHOOLS} vestigingen", "sets")
        decoded: dict[str, tuple[bytes, ...]] = {}
        total = 0
        for code, text in sets.items():
            where = f"sets.{code}" if isinstance(code, str) and len(code) <= 6 else "sets"
            if not isinstance(code, str) or not is_vestigingscode(code):
                raise _bad("Een set hoort bij een vestigingscode (BRIN + 2 cijfers)", where)
            try:
                raw = base64.b64decode(text, validate=True) if isinstance(text, str) else b""
            except (binascii.Error, ValueError):
                raw = b""
            if not raw or len(raw) % POINT_BYTES:
                raise _bad(f"Een set is base64 van een veelvoud van {POINT_BYTES} bytes", where)
            points = tuple(raw[i:i + POINT_BYTES] for i in range(0, len(raw), POINT_BYTES))
            if any(points[i] >= points[i + 1] for i in range(len(points) - 1)):
                raise _bad("De punten van een set staan niet oplopend gesorteerd of komen dubbel voor", where)
            total += len(points)
            if total > MAX_POINTS:
                raise _bad(f"Hoogstens {MAX_POINTS:,} punten per bericht".replace(",", "."), "sets")
            decoded[code] = points
        return cls(d["round_id"], d["exchange_id"], d["node"], d["step"], decoded, d["digest"], source)


def _is_digest(v: Any) -> bool:
    return isinstance(v, str) and bool(_HEX_DIGEST.fullmatch(v))


def encode_sets(payload: PsiSets) -> bytes:
    """Canonical bytes: compact, key-sorted JSON, one base64 string of sorted points per school."""
    return _dumps(payload.to_dict())


def decode_sets(data: bytes) -> PsiSets:
    try:
        obj = safejson.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise _bad("De PSI-set is geen geldige JSON", "payload") from None
    return PsiSets.from_dict(obj)


def sets_digest(exchange: Exchange, *, node: str, step: str, sets: Mapping[str, Iterable[bytes]],
                source_digest: str | None) -> str:
    """SHA-256 over the exchange's context, node, step, answered set and every school's sorted points."""
    h = hashlib.sha256(_DIGEST_CONTEXT)
    h.update(exchange.context)
    h.update(_lp(node.encode("ascii")) + _lp(step.encode("ascii")) + _lp((source_digest or "").encode("ascii")))
    for code in sorted(sets):
        points = sorted(sets[code])
        h.update(_lp(code.encode("ascii")) + len(points).to_bytes(4, "big"))
        h.update(b"".join(points))
    return h.hexdigest()


def make_sets(exchange: Exchange, *, node: str, step: str, sets: Mapping[str, Iterable[bytes]],
              source_digest: str | None = None) -> PsiSets:
    """A payload with its points sorted and its digest computed (what :func:`blind` and
    :func:`reblind` return; points are not checked here)."""
    exchange.peer(node)
    if step not in STEPS or (source_digest is None) != (step == BLINDED):
        raise _bad("Een herblinde set noemt de set die ze beantwoordt, een blinde set niet", "source_digest")
    ordered = {code: tuple(sorted(sets[code])) for code in sorted(sets)}
    if sum(len(points) for points in ordered.values()) > MAX_POINTS or len(ordered) > MAX_SCHOOLS:
        raise _bad("Te veel punten of vestigingen voor één bericht", "sets")
    for code, points in ordered.items():
        _check_school(code)
        if not points or any(not isinstance(p, bytes) or len(p) != POINT_BYTES for p in points):
            raise _bad(f"Een set bestaat uit punten van {POINT_BYTES} bytes en is niet leeg", f"sets.{code}")
        if any(points[i] == points[i + 1] for i in range(len(points) - 1)):
            raise _bad("Een punt komt dubbel voor in een set", f"sets.{code}")
    digest = sets_digest(exchange, node=node, step=step, sets=ordered, source_digest=source_digest)
    return PsiSets(exchange.round_id, exchange.exchange_id, node, step, ordered, digest, source_digest)


def verify_sets(exchange: Exchange, payload: PsiSets, *, sender: str, step: str,
                min_set_size: int = DEFAULT_MIN_SET_SIZE, source: PsiSets | None = None,
                check_points: bool = False) -> None:
    """What a receiver checks before using a payload: its round and exchange (``psi_replay``), its
    sender (``psi_foreign_set``), its step, its digest, the set it answers, each set's minimum size
    and, with ``check_points``, every point (a re-blinding node needs not: its multiplication checks)."""
    if payload.round_id != exchange.round_id or payload.exchange_id != exchange.exchange_id:
        raise PsiError("De set hoort bij een andere ronde of uitwisseling", code="psi_replay",
                       details={"round_id": payload.round_id, "exchange_id": payload.exchange_id})
    if payload.node != sender or payload.node not in exchange.parties:
        raise PsiError("De set komt niet van de verwachte node", code="psi_foreign_set", details={"node": payload.node})
    if payload.step != step:
        raise PsiError(f"Verwacht een set in stap {step}", code="psi_wrong_step", details={"step": payload.step})
    expected = sets_digest(exchange, node=payload.node, step=payload.step, sets=payload.sets,
                           source_digest=payload.source_digest)
    if payload.digest != expected:
        raise PsiError("De digest van de set klopt niet bij haar inhoud en uitwisseling", code="psi_digest_mismatch")
    if source is not None:
        if source.node != exchange.peer(sender) or source.step != BLINDED:
            raise PsiError("De beantwoorde set komt niet van de andere partij", code="psi_foreign_set")
        if payload.source_digest != source.digest:
            raise PsiError("De set beantwoordt een andere set", code="psi_replay")
        if payload.sizes() != source.sizes():
            raise _bad("De herblinde set telt per vestiging niet evenveel punten als de set die ze beantwoordt", "sets")
    for code, points in payload.sets.items():
        if len(points) < min_set_size:
            raise PsiError(f"De set van vestiging {code} is kleiner dan het minimum ({min_set_size})",
                           code="psi_set_too_small", details={"school": code, "minimum": min_set_size})
    if check_points:
        for code, points in payload.sets.items():
            for i, point in enumerate(points):
                if not sodium.crypto_core_ed25519_is_valid_point(point):
                    raise _point_error(point, code, i)


# --- the steps ----------------------------------------------------------------------------------------


def _check_school(code: Any) -> None:
    if not isinstance(code, str) or not is_vestigingscode(code):
        raise PsiError("Een set hoort bij een vestigingscode (BRIN + 2 cijfers)", code="psi_bad_input")


def _check_pseudonym(p: Any, school: str, index: int) -> None:
    if not isinstance(p, (bytes, bytearray)) or len(p) != 32:
        raise PsiError(f"Pseudoniem {index} van vestiging {school} is geen 32 bytes", code="psi_bad_input",
                       details={"school": school, "index": index})


def _check_settings(min_set_size: int, pad_block: int) -> None:
    for name, value in (("min_set_size", min_set_size), ("pad_block", pad_block)):
        if not _is_int(value) or value < 1:
            raise ConfigError(f"{name} moet een geheel getal ≥ 1 zijn", code="psi_settings")


@dataclass(frozen=True)
class Blinded:
    """What :func:`blind` made: the payload to send, and the schools left out (below the minimum,
    with their number of distinct pseudonyms: for the node's own report, never sent)."""

    payload: PsiSets
    left_out: dict[str, int]


def blind(state: BlindingState, sets: Mapping[str, Iterable[bytes]], *, min_set_size: int = DEFAULT_MIN_SET_SIZE,
          pad_block: int = DEFAULT_PAD_BLOCK) -> Blinded:
    """Step 1 on each node: per school the distinct pseudonyms hashed to the group and multiplied by
    the node's scalar, padded with dummies to a multiple of ``pad_block``, sorted. Deterministic
    given the state, so a node restarted with its sealed state sends the same bytes again."""
    _check_settings(min_set_size, pad_block)
    out: dict[str, list[bytes]] = {}
    left_out: dict[str, int] = {}
    scalar = state.scalar
    for code in sorted(sets):
        _check_school(code)
        distinct: set[bytes] = set()
        for i, pseudonym in enumerate(sets[code]):
            _check_pseudonym(pseudonym, code, i)
            distinct.add(bytes(pseudonym))
        if len(distinct) < min_set_size:
            left_out[code] = len(distinct)
            continue
        hasher = _school_hasher(state.exchange, code)
        points = []
        for i, pseudonym in enumerate(distinct):
            h = hasher.copy()
            h.update(pseudonym)
            points.append(_mul(scalar, _to_group(h.digest()), code, i))
        points.extend(state.dummies(code, -len(distinct) % pad_block))
        out[code] = points
    return Blinded(make_sets(state.exchange, node=state.node, step=BLINDED, sets=out), left_out)


def reblind(state: BlindingState, received: PsiSets, *,
            min_set_size: int = DEFAULT_MIN_SET_SIZE) -> tuple[PsiSets, BlindingState]:
    """Step 2: the peer's blinded sets multiplied by this node's scalar, each set sorted again.

    Every point is validated (libsodium refuses any but a canonical, non-identity subgroup point).
    A node re-blinds one set per exchange: the same set again gives the same answer, another is
    refused (``psi_already_reblinded``), so the node is no oracle. The returned state records it and
    is what the node seals.
    """
    verify_sets(state.exchange, received, sender=state.peer, step=BLINDED, min_set_size=min_set_size)
    if state.reblinded is not None and state.reblinded != received.digest:
        raise PsiError("Deze node heeft in deze uitwisseling al een andere set herblind", code="psi_already_reblinded")
    scalar = state.scalar
    out = {code: [_mul(scalar, p, code, i) for i, p in enumerate(points)] for code, points in received.sets.items()}
    answer = make_sets(state.exchange, node=state.node, step=REBLINDED, sets=out, source_digest=received.digest)
    return answer, replace(state, reblinded=received.digest)


def intersection_counts(a_double: Mapping[str, Iterable[bytes]],
                        b_double: Mapping[str, Iterable[bytes]]) -> dict[str, int]:
    """Per school both sides sent, how many doubly blinded points the two sets share."""
    schools = sorted(a_double.keys() & b_double.keys())
    return {code: len(set(a_double[code]).intersection(b_double[code])) for code in schools}


def count_exchange(exchange: Exchange, *, swv_set: PsiSets, gemeente_set: PsiSets, swv_set_double: PsiSets,
                   gemeente_set_double: PsiSets, min_set_size: int = DEFAULT_MIN_SET_SIZE) -> dict[str, int]:
    """Step 3 at the hub: check the four payloads belong together, then count per school.

    ``swv_set`` and ``gemeente_set`` are each side's blinded sets as the hub forwarded them;
    ``swv_set_double`` is the SWV's set re-blinded by the municipality, ``gemeente_set_double`` the
    municipality's re-blinded by the SWV. Only the returned counts are meant to be kept.
    """
    verify_sets(exchange, swv_set, sender=exchange.swv, step=BLINDED, min_set_size=min_set_size)
    verify_sets(exchange, gemeente_set, sender=exchange.gemeente, step=BLINDED, min_set_size=min_set_size)
    verify_sets(exchange, swv_set_double, sender=exchange.gemeente, step=REBLINDED, min_set_size=min_set_size,
                source=swv_set)
    verify_sets(exchange, gemeente_set_double, sender=exchange.swv, step=REBLINDED, min_set_size=min_set_size,
                source=gemeente_set)
    return intersection_counts(swv_set_double.sets, gemeente_set_double.sets)
