"""The PSI-CA core: counts equal a direct intersection, foreign, replayed and malformed sets are
refused, the hub sees only blinded points, and a restarted node blinds and re-blinds alike."""

from __future__ import annotations

import base64
import json
import random

import nacl.bindings as sodium
import pytest

from shared import psi
from shared.errors import ConfigError, PayloadError, PsiError, SchemaVersionError
from shared.psi import BLINDED, REBLINDED, Exchange

EX = Exchange("Regio Lekstroom", 7, "r7-PO2701-0356", "PO2701", "0356")
SWV, GEMEENTE = EX.swv, EX.gemeente


def _pseudonyms(rng: random.Random, n: int) -> list[bytes]:
    return [rng.randbytes(32) for _ in range(n)]


def _transport(payload: psi.PsiSets) -> psi.PsiSets:
    """Through the hub: canonical bytes out, a checked payload back."""
    return psi.decode_sets(psi.encode_sets(payload))


def _exchange(swv_sets, gemeente_sets, exchange=EX, **options):
    """The whole protocol; returns the counts and everything the hub saw."""
    swv_state, gemeente_state = psi.new_state(exchange, exchange.swv), psi.new_state(exchange, exchange.gemeente)
    swv_blinded = psi.blind(swv_state, swv_sets, **options)
    gemeente_blinded = psi.blind(gemeente_state, gemeente_sets, **options)
    swv_set, gemeente_set = _transport(swv_blinded.payload), _transport(gemeente_blinded.payload)
    swv_double, _ = psi.reblind(gemeente_state, swv_set)
    gemeente_double, _ = psi.reblind(swv_state, gemeente_set)
    seen = {"swv_set": swv_set, "gemeente_set": gemeente_set,
            "swv_set_double": _transport(swv_double), "gemeente_set_double": _transport(gemeente_double)}
    counts = psi.count_exchange(exchange, **seen)
    return counts, seen, (swv_blinded.left_out, gemeente_blinded.left_out)


def _error(excinfo) -> str:
    return excinfo.value.code


# --- counts ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_counts_equal_a_direct_intersection(seed):
    rng = random.Random(seed)
    swv, gemeente = {}, {}
    for i, (n_swv, n_gemeente, shared) in enumerate([(120, 40, 25), (60, 30, 0), (35, 35, 35), (200, 12, 12),
                                                     (80, 9, 9), (15, 60, 10)]):
        both = _pseudonyms(rng, shared)
        swv[f"{10 + i}AB00"] = both + _pseudonyms(rng, n_swv - shared)
        gemeente[f"{10 + i}AB00"] = both + _pseudonyms(rng, n_gemeente - shared)
    swv["30XY00"] = _pseudonyms(rng, 50)  # only the SWV has this school
    gemeente["31XY00"] = _pseudonyms(rng, 50)  # only the municipality has this one

    counts, _, (swv_left_out, gemeente_left_out) = _exchange(swv, gemeente)

    minimum = psi.DEFAULT_MIN_SET_SIZE
    expected = {code: len(set(swv[code]) & set(gemeente[code])) for code in swv.keys() & gemeente.keys()
                if len(swv[code]) >= minimum and len(gemeente[code]) >= minimum}
    assert counts == expected
    assert counts["12AB00"] == 35 and counts["11AB00"] == 0 and "14AB00" not in counts
    assert swv_left_out == {} and gemeente_left_out == {"14AB00": 9}


def test_the_minimum_set_size_leaves_small_schools_out_and_reports_them():
    rng = random.Random(4)
    ten, nine = _pseudonyms(rng, 10), _pseudonyms(rng, 9)
    sets = {"10AA00": ten, "10AA01": nine, "10AA02": [], "10AA03": nine + nine[:1]}  # a duplicate counts once

    blinded = psi.blind(psi.new_state(EX, SWV), sets)

    assert set(blinded.payload.sets) == {"10AA00"}
    assert blinded.left_out == {"10AA01": 9, "10AA02": 0, "10AA03": 9}
    assert psi.blind(psi.new_state(EX, SWV), sets, min_set_size=9).left_out == {"10AA02": 0}


def test_padding_hides_the_exact_size_and_never_changes_a_count():
    rng = random.Random(5)
    both = _pseudonyms(rng, 11)
    swv = {"10AA00": both + _pseudonyms(rng, 22), "10AA01": _pseudonyms(rng, 17)}
    gemeente = {"10AA00": both + _pseudonyms(rng, 3), "10AA01": _pseudonyms(rng, 40)}

    for pad_block in (1, 7, 16, 64):
        counts, seen, _ = _exchange(swv, gemeente, pad_block=pad_block)
        assert counts == {"10AA00": 11, "10AA01": 0}
        sizes = seen["swv_set"].sizes()
        assert all(n % pad_block == 0 for n in sizes.values())
        assert all(n - len(swv[code]) < pad_block for code, n in sizes.items())
    assert _exchange(swv, gemeente, pad_block=1)[1]["swv_set"].sizes() == {"10AA00": 33, "10AA01": 17}


def test_intersection_counts_is_a_pure_count_per_school_both_sides_have():
    a = {"10AA00": [b"p", b"q", b"r"], "10AA01": [b"s"], "10AA02": [b"t"]}
    b = {"10AA00": (b"q", b"r", b"z"), "10AA01": [b"x"], "10AA09": [b"t"]}

    assert psi.intersection_counts(a, b) == {"10AA00": 2, "10AA01": 0}
    assert psi.intersection_counts(a, {}) == {}


# --- replayed, foreign and malformed sets ----------------------------------------------------------


def _blinded(exchange=EX, node=SWV, seed=6, n=20):
    rng = random.Random(seed)
    return psi.blind(psi.new_state(exchange, node), {"10AA00": _pseudonyms(rng, n)}).payload


@pytest.mark.parametrize("other", [
    Exchange(EX.region, 8, EX.exchange_id, SWV, GEMEENTE),  # the same exchange id in another round
    Exchange(EX.region, 7, "r7-PO2701-0356-b", SWV, GEMEENTE),  # another exchange of this round
])
def test_a_set_from_another_round_or_exchange_is_refused(other):
    replayed = _transport(_blinded(other))

    with pytest.raises(PsiError) as excinfo:
        psi.reblind(psi.new_state(EX, GEMEENTE), replayed)
    assert _error(excinfo) == "psi_replay"
    assert excinfo.value.http_status == 400


def test_an_answer_to_another_set_is_refused_at_the_hub():
    rng = random.Random(7)
    sets = {"10AA00": _pseudonyms(rng, 20)}
    _, seen, _ = _exchange(sets, sets)
    _, older, _ = _exchange(sets, sets)  # a run of the same exchange with other scalars

    with pytest.raises(PsiError) as excinfo:
        psi.count_exchange(EX, **{**seen, "swv_set_double": older["swv_set_double"]})
    assert _error(excinfo) == "psi_replay"


def test_a_foreign_set_is_refused():
    stranger = Exchange(EX.region, EX.round_id, EX.exchange_id, SWV, "0344")  # same ids, another municipality
    gemeente_state = psi.new_state(EX, GEMEENTE)

    for payload in (_blinded(stranger, node="0344"), _blinded(EX, node=GEMEENTE)):  # a stranger's, its own
        with pytest.raises(PsiError) as excinfo:
            psi.reblind(gemeente_state, _transport(payload))
        assert _error(excinfo) == "psi_foreign_set"
    with pytest.raises(PsiError) as excinfo:
        psi.new_state(EX, "0344")
    assert _error(excinfo) == "psi_foreign_set"


def test_a_set_bound_to_another_region_or_party_fails_its_digest():
    for other in (Exchange("Regio Elders", 7, EX.exchange_id, SWV, GEMEENTE),
                  Exchange(EX.region, 7, EX.exchange_id, "PO2702", GEMEENTE)):
        payload = _transport(_blinded(other, node=GEMEENTE))
        with pytest.raises(PsiError) as excinfo:
            psi.verify_sets(EX, payload, sender=GEMEENTE, step=BLINDED)
        assert _error(excinfo) == "psi_digest_mismatch"


def test_an_edited_header_or_point_fails_the_digest():
    payload = _blinded(Exchange(EX.region, 6, EX.exchange_id, SWV, GEMEENTE))
    edited = {**payload.to_dict(), "round_id": 7}  # an old set passed off as this round's
    with pytest.raises(PsiError) as excinfo:
        psi.verify_sets(EX, psi.PsiSets.from_dict(edited), sender=SWV, step=BLINDED)
    assert _error(excinfo) == "psi_digest_mismatch"

    payload = _blinded()
    points = list(payload.sets["10AA00"])
    points[0] = _blinded(seed=99).sets["10AA00"][0]
    swapped = psi.PsiSets(payload.round_id, payload.exchange_id, payload.node, payload.step,
                          {"10AA00": tuple(sorted(points))}, payload.digest)
    with pytest.raises(PsiError) as excinfo:
        psi.verify_sets(EX, swapped, sender=SWV, step=BLINDED)
    assert _error(excinfo) == "psi_digest_mismatch"


def test_a_set_in_the_wrong_step_is_refused():
    rng = random.Random(8)
    swv_state, gemeente_state = psi.new_state(EX, SWV), psi.new_state(EX, GEMEENTE)
    gemeente_blinded = psi.blind(gemeente_state, {"10AA00": _pseudonyms(rng, 20)}).payload
    double, _ = psi.reblind(swv_state, gemeente_blinded)

    with pytest.raises(PsiError) as excinfo:
        psi.reblind(gemeente_state, double)  # sent back to be blinded a third time
    assert _error(excinfo) == "psi_wrong_step"


def test_a_set_below_the_minimum_is_refused_on_receipt():
    small = _blinded(n=20)
    points = {"10AA00": small.sets["10AA00"][:5]}
    payload = psi.make_sets(EX, node=SWV, step=BLINDED, sets=points)

    with pytest.raises(PsiError) as excinfo:
        psi.reblind(psi.new_state(EX, GEMEENTE), _transport(payload))
    assert _error(excinfo) == "psi_set_too_small"
    psi.reblind(psi.new_state(EX, GEMEENTE), payload, min_set_size=5)


def _torsion_added() -> bytes:
    order_two = (2**255 - 19 - 1).to_bytes(32, "little")  # (0, -1)
    return sodium.crypto_core_ed25519_add(psi.hash_to_group(EX, "10AA00", bytes(32)), order_two)


@pytest.mark.parametrize("point, code", [
    (b"\x01" + bytes(31), "psi_identity_point"),
    ((2**255 - 19 - 1).to_bytes(32, "little"), "psi_bad_point"),  # the point of order 2
    (_torsion_added(), "psi_bad_point"),  # on the curve, outside the prime-order subgroup
    (b"\xff" * 32, "psi_bad_point"),  # y ≥ p: not canonical
    (b"\x01" + bytes(30) + b"\x80", "psi_bad_point"),  # the identity with a sign bit: not canonical
    (bytes(32), "psi_bad_point"),
], ids=["identity", "order-2", "torsion", "y-not-reduced", "signed-identity", "zero"])
def test_an_invalid_point_is_refused(point, code):
    valid = _blinded(n=20).sets["10AA00"]
    payload = psi.make_sets(EX, node=SWV, step=BLINDED, sets={"10AA00": valid[:15] + (point,)})

    with pytest.raises(PsiError) as excinfo:
        psi.reblind(psi.new_state(EX, GEMEENTE), _transport(payload))
    assert _error(excinfo) == code
    assert excinfo.value.details["school"] == "10AA00"
    with pytest.raises(PsiError) as excinfo:
        psi.verify_sets(EX, payload, sender=SWV, step=BLINDED, check_points=True)
    assert _error(excinfo) == code
    assert not psi.is_valid_point(point)


def _mutated(**changes) -> dict:
    d = _blinded().to_dict()
    d.update(changes)
    return d


def _points(n=2) -> list[bytes]:
    return list(_blinded().sets["10AA00"][:n])


@pytest.mark.parametrize("d", [
    _mutated(extra=1),
    _mutated(format="jeugdhub.signed-partial"),
    _mutated(round_id=7.0),
    _mutated(round_id=True),
    _mutated(exchange_id="met spatie"),
    _mutated(node="GM0356"),
    _mutated(step="tripled"),
    _mutated(source_digest="ab" * 32),  # a blinded set answers nothing
    _mutated(digest="xyz"),
    _mutated(sets=[]),
    _mutated(sets={"10AA0": base64.b64encode(b"".join(_points())).decode()}),
    _mutated(sets={"10AA00": "!!not base64!!"}),
    _mutated(sets={"10AA00": ""}),
    _mutated(sets={"10AA00": base64.b64encode(b"".join(_points()) + b"x").decode()}),
    _mutated(sets={"10AA00": base64.b64encode(b"".join(sorted(_points(), reverse=True))).decode()}),
    _mutated(sets={"10AA00": base64.b64encode(_points(1)[0] * 2).decode()}),
], ids=["extra-key", "format", "float-round", "bool-round", "exchange-id", "node", "step", "source",
        "digest", "sets-list", "school-code", "base64", "empty-set", "ragged", "unsorted", "duplicate"])
def test_a_malformed_payload_is_refused_with_a_stable_code(d):
    with pytest.raises(PsiError) as excinfo:
        psi.decode_sets(json.dumps(d).encode())
    assert _error(excinfo) == "psi_bad_payload"
    assert "field" in excinfo.value.details


def test_another_group_or_version_is_refused():
    for d in (_mutated(group="ristretto255"), _mutated(format_version=2)):
        with pytest.raises(SchemaVersionError):
            psi.PsiSets.from_dict(d)
    with pytest.raises(PayloadError) as excinfo:
        psi.decode_sets(b"{not json")
    assert _error(excinfo) == "psi_bad_payload"


def test_bad_input_and_settings_are_refused():
    state = psi.new_state(EX, SWV)
    with pytest.raises(PsiError) as excinfo:
        psi.blind(state, {"10AA00": [b"short"] * 12})
    assert _error(excinfo) == "psi_bad_input" and excinfo.value.details == {"school": "10AA00", "index": 0}
    with pytest.raises(PsiError) as excinfo:
        psi.blind(state, {"Nergens": [bytes(32)] * 12})
    assert _error(excinfo) == "psi_bad_input"
    for option in ({"min_set_size": 0}, {"pad_block": 0}, {"pad_block": True}):
        with pytest.raises(ConfigError):
            psi.blind(state, {}, **option)
    with pytest.raises(PsiError) as excinfo:
        Exchange("Regio", 1, "r1", "0356", "PO2701")  # parties swapped
    assert _error(excinfo) == "psi_bad_payload" and excinfo.value.details == {"field": "swv"}


# --- what the hub sees -----------------------------------------------------------------------------


def test_the_hub_sees_no_value_it_could_invert_to_a_pseudonym():
    rng = random.Random(9)
    both = _pseudonyms(rng, 30)
    swv, gemeente = {"10AA00": both + _pseudonyms(rng, 30)}, {"10AA00": both + _pseudonyms(rng, 10)}

    counts, seen, _ = _exchange(swv, gemeente)
    again, seen_again, _ = _exchange(swv, gemeente)

    pseudonyms = set(swv["10AA00"]) | set(gemeente["10AA00"])
    hashed = {psi.hash_to_group(EX, "10AA00", p) for p in pseudonyms}
    single = set(seen["swv_set"].sets["10AA00"]) | set(seen["gemeente_set"].sets["10AA00"])
    double = set(seen["swv_set_double"].sets["10AA00"]) | set(seen["gemeente_set_double"].sets["10AA00"])
    assert counts == again == {"10AA00": 30}
    assert not double & single and not double & hashed and not single & hashed
    assert not single & pseudonyms and not double & pseudonyms
    wire = b"".join(psi.encode_sets(p) for p in seen.values())
    for value in pseudonyms | hashed:
        assert value not in wire and base64.b64encode(value) not in wire
    # fresh scalars: the same pupils give entirely different points in another run
    def points(payloads, *names):
        return set().union(*(payloads[name].sets["10AA00"] for name in names))

    assert not single & points(seen_again, "swv_set", "gemeente_set")
    assert not double & points(seen_again, "swv_set_double", "gemeente_set_double")


def test_hashes_are_separated_by_school_round_and_exchange():
    pseudonym = random.Random(10).randbytes(32)
    others = [Exchange(EX.region, 8, EX.exchange_id, SWV, GEMEENTE),
              Exchange(EX.region, 7, "r7-PO2701-0344", SWV, "0344"),
              Exchange("Regio Elders", 7, EX.exchange_id, SWV, GEMEENTE)]
    points = {psi.hash_to_group(EX, "10AA00", pseudonym), psi.hash_to_group(EX, "10AA01", pseudonym)}
    points |= {psi.hash_to_group(other, "10AA00", pseudonym) for other in others}

    assert len(points) == 5 and all(psi.is_valid_point(p) for p in points)
    assert psi.hash_to_group(EX, "10AA00", pseudonym) == psi.hash_to_group(EX, "10AA00", pseudonym)


def test_the_hub_counts_only_what_both_doubly_blinded_sets_share():
    """A doubly blinded set compared with a singly blinded one matches nothing."""
    rng = random.Random(11)
    sets = {"10AA00": _pseudonyms(rng, 20)}
    _, seen, _ = _exchange(sets, sets)

    assert psi.intersection_counts(seen["swv_set_double"].sets, seen["gemeente_set_double"].sets) == {"10AA00": 20}
    assert psi.intersection_counts(seen["swv_set"].sets, seen["gemeente_set"].sets) == {"10AA00": 0}
    assert psi.intersection_counts(seen["swv_set_double"].sets, seen["gemeente_set"].sets) == {"10AA00": 0}


# --- the node's state across a restart ---------------------------------------------------------------


def test_a_restarted_node_blinds_and_reblinds_alike():
    rng = random.Random(12)
    key = psi.new_state_key()
    swv_sets, gemeente_sets = {"10AA00": _pseudonyms(rng, 25)}, {"10AA00": _pseudonyms(rng, 13)}
    gemeente_state = psi.new_state(EX, GEMEENTE)
    gemeente_blinded = psi.blind(gemeente_state, gemeente_sets).payload
    stored = psi.seal_state(gemeente_state, key)  # saved mid-exchange, before the peer's set arrived
    swv_set = _transport(psi.blind(psi.new_state(EX, SWV), swv_sets).payload)

    answer, after = psi.reblind(gemeente_state, swv_set)
    restarted = psi.open_state(stored, key, exchange=EX, node=GEMEENTE)

    assert restarted == gemeente_state
    assert psi.encode_sets(psi.blind(restarted, gemeente_sets).payload) == psi.encode_sets(gemeente_blinded)
    assert psi.encode_sets(psi.reblind(restarted, swv_set)[0]) == psi.encode_sets(answer)

    reopened = psi.open_state(psi.seal_state(after, key), key, exchange=EX)  # saved after re-blinding
    assert reopened.reblinded == swv_set.digest
    assert psi.reblind(reopened, swv_set)[0] == answer  # the same set again: the same answer
    other = _transport(psi.blind(psi.new_state(EX, SWV), swv_sets).payload)
    with pytest.raises(PsiError) as excinfo:
        psi.reblind(reopened, other)  # another set in the same exchange: refused, no oracle
    assert _error(excinfo) == "psi_already_reblinded"


def test_the_sealed_state_keeps_its_secret_and_its_exchange():
    state = psi.new_state(EX, SWV)
    key = psi.new_state_key()
    blob = psi.seal_state(state, key)

    assert state.seed not in blob and base64.b64encode(state.seed) not in blob
    assert state.scalar not in blob and "seed" not in repr(state) and state.seed.hex() not in repr(state)
    assert psi.seal_state(state, key) != blob  # a fresh nonce each time
    for wrong in (psi.new_state_key(), ):
        with pytest.raises(PsiError) as excinfo:
            psi.open_state(blob, wrong)
        assert _error(excinfo) == "psi_bad_state"
    tampered = blob[:-1] + bytes([blob[-1] ^ 1])
    for bad in (tampered, b"not a state", blob[:30]):
        with pytest.raises(PsiError) as excinfo:
            psi.open_state(bad, key)
        assert _error(excinfo) == "psi_bad_state"
    with pytest.raises(PsiError) as excinfo:
        psi.open_state(blob, key, exchange=Exchange(EX.region, 8, EX.exchange_id, SWV, GEMEENTE))
    assert _error(excinfo) == "psi_replay"
    with pytest.raises(PsiError) as excinfo:
        psi.open_state(blob, key, node=GEMEENTE)
    assert _error(excinfo) == "psi_foreign_set"
    with pytest.raises(ConfigError):
        psi.seal_state(state, b"short")


# --- converters ----------------------------------------------------------------------------------------


def test_every_payload_type_round_trips():
    rng = random.Random(13)
    state = psi.new_state(EX, GEMEENTE)
    blinded = psi.blind(state, {"10AA00": _pseudonyms(rng, 12), "10AA01": _pseudonyms(rng, 30)}).payload
    double, after = psi.reblind(psi.new_state(EX, SWV), blinded)

    assert Exchange.from_dict(EX.to_dict()) == EX
    for payload in (blinded, double):
        assert psi.PsiSets.from_dict(payload.to_dict()) == payload
        assert psi.decode_sets(psi.encode_sets(payload)) == payload
        assert psi.encode_sets(psi.decode_sets(psi.encode_sets(payload))) == psi.encode_sets(payload)
    assert psi.BlindingState.from_dict(after.to_dict()) == after
    assert psi.BlindingState.from_dict(state.to_dict()).scalar == state.scalar
    assert double.step == REBLINDED and double.source_digest == blinded.digest and blinded.source_digest is None
