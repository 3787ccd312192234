"""Round trips and canonical encoding of the partial."""

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

import shared.partial as partial_module
from shared.errors import PayloadError, SchemaVersionError
from shared.partial import (
    COST_ABS_SCHEMA_VERSION,
    SCHEMA_VERSION,
    SUPPORTED_SCHEMA_VERSIONS,
    Cell,
    CostCell,
    DataQuality,
    FileQuality,
    Partial,
    PartialHeader,
    ProviderNames,
    decode_partial,
    encode_partial,
    validate_partial,
)


def make_header(schema_version: int = SCHEMA_VERSION, kind: str = "gemeente") -> PartialHeader:
    return PartialHeader(
        node="PO2607" if kind == "swv" else "0356",
        kind=kind,
        schooljaren=("2024-2025",),
        peildata={"2024-2025": "2024-10-01"},
        created_at="2025-01-01T00:00:00Z",
        agent_version="0.1.0",
        schema_version=schema_version,
    )


def make_partial(**over) -> Partial:
    header = make_header()
    cells = (
        Cell("04DA00", "2024-2025", "leerlingen", "", 120),
        Cell("04DA00", "2024-2025", "clienten", "", 11),
        Cell("GEEN", "2024-2025", "leerlingen", "", 3),
    )
    costs = (CostCell("04DA00", "2024-2025", "totaal", 1_234_500, 11, 400_000, 200_000, 0, 1_234_500),)
    quality = DataQuality(files=(FileQuality("l.csv", "leerlingen", 10, 7, {"bsn_elfproef": 2}, {"x": 1}),))
    return Partial(**{"header": header, "cells": cells, "cost_cells": costs, "quality": quality, **over})


def test_round_trip_is_identity():
    p = make_partial()
    again = decode_partial(encode_partial(p))
    assert encode_partial(again) == encode_partial(p)
    assert set(again.cells) == set(p.cells)
    assert again.cost_cells == p.cost_cells


def test_encoding_ignores_cell_order():
    p = make_partial()
    shuffled = make_partial(cells=tuple(reversed(p.cells)))
    assert encode_partial(p) == encode_partial(shuffled)


def test_file_quality_balance():
    fq = FileQuality("l.csv", "leerlingen", 10, 7, {"bsn_elfproef": 2}, {"x": 1})
    assert fq.balanced and fq.rows_rejected == 2 and fq.rows_excluded == 1


@pytest.mark.parametrize(
    "cell",
    [
        Cell("04DA0", "2024-2025", "leerlingen", "", 1),  # malformed location
        Cell("04DA00", "2023-2024", "leerlingen", "", 1),  # year not in header
        Cell("04DA00", "2024-2025", "onzin", "", 1),  # unknown measure
        Cell("04DA00", "2024-2025", "leerlingen", "x", 1),  # category on a plain measure
        Cell("04DA00", "2024-2025", "leerlingen", "", -1),  # negative count
    ],
)
def test_invalid_cells_are_refused(cell):
    with pytest.raises(PayloadError):
        encode_partial(make_partial(cells=(cell,)))


def test_floats_are_refused():
    with pytest.raises(PayloadError):
        encode_partial(make_partial(cells=(Cell("04DA00", "2024-2025", "leerlingen", "", 1.5),)))


def test_unknown_schema_version():
    p = make_partial()
    data = encode_partial(p).replace(b'"schema_version":%d' % SCHEMA_VERSION, b'"schema_version":99')
    with pytest.raises(SchemaVersionError):
        decode_partial(data)


def test_float_in_quality_block_is_refused():
    bad = make_partial(quality=DataQuality(unmatched_claim_lines=1.5))
    with pytest.raises(PayloadError):
        encode_partial(bad)


def test_non_string_category_is_refused():
    with pytest.raises(PayloadError):
        encode_partial(make_partial(cells=(Cell("04DA00", "2024-2025", "clienten_zorgtype", 1.5, 1),)))


# --- the door: every field typed and within plausibility bounds ---------------------------------


def _decode(mutate) -> Partial:
    """Decode a hand-made payload as the hub receives it (the shared encoder would refuse it)."""
    from shared.partial import canonical_json

    obj = make_partial().to_dict()
    mutate(obj)
    return decode_partial(canonical_json(obj))


def _refused(mutate, code: str, field: str) -> PayloadError:
    with pytest.raises(PayloadError) as err:
        _decode(mutate)
    assert (err.value.code, err.value.details.get("field")) == (code, field), err.value.message
    return err.value


def _cell(obj, measure, category=""):
    return next(c for c in obj["cells"] if c[2] == measure and c[3] == category)


def test_a_count_beyond_int64_or_the_ceiling_is_refused():
    from shared.partial import MAX_COUNT

    def huge(obj):
        obj["cells"].append(["04DA00", "2024-2025", "clienten_zorgtype", "ambulant", 10**20])

    err = _refused(huge, "cell_out_of_range", "cells[3].value")
    assert err.http_status == 400 and "04DA00" in err.message
    _refused(lambda o: _cell(o, "leerlingen").__setitem__(4, MAX_COUNT + 1), "cell_out_of_range", "cells[1].value")
    _decode(lambda o: _cell(o, "leerlingen").__setitem__(4, MAX_COUNT))  # the ceiling itself is allowed


@pytest.mark.parametrize(
    "index, value, field",
    [
        (3, 10**20, "value"),
        (3, -(10**20), "value"),
        (5, 10**13, "top1"),
        (4, 10**7, "contributors"),
    ],
)
def test_a_cost_field_out_of_range_is_refused(index, value, field):
    _refused(lambda o: o["cost_cells"][0].__setitem__(index, value), "cell_out_of_range", f"cost_cells[0].{field}")


@pytest.mark.parametrize(
    "mutate, field",
    [
        (lambda o: _cell(o, "clienten").__setitem__(4, 121), "cells[0].value"),  # more clients than pupils
        (lambda o: o["cells"].append(["04DA00", "2024-2025", "clienten_zorgtype", "ambulant", 12]), "cells[3].value"),
        (lambda o: o["cells"].append(["04DA00", "2024-2025", "nieuwe_clienten", "", 12]), "cells[3].value"),
        (lambda o: o["cells"].append(["04DA00", "2024-2025", "jeugdbescherming", "", 121]), "cells[3].value"),
        # no clienten cell: the pupils bound the breakdown directly
        (lambda o: o["cells"].append(["GEEN", "2024-2025", "clienten_aanbieder", "12345678", 4]), "cells[3].value"),
        (lambda o: o["cost_cells"][0].__setitem__(4, 121), "cost_cells[0].contributors"),  # more payees than pupils
        (lambda o: o["cost_cells"][0].__setitem__(6, 400_001), "cost_cells[0].top2"),  # top2 > top1
        (lambda o: o["cost_cells"][0].__setitem__(slice(5, 7), [0, 0]), "cost_cells[0].top1"),  # paid, no largest
        (lambda o: o["cost_cells"][0].__setitem__(6, -1), "cost_cells[0].top2"),  # absolute amounts are >= 0
        (lambda o: o["cost_cells"][0].__setitem__(8, 1_234_499), "cost_cells[0].abs_sum"),  # below |value|
        (lambda o: o["cost_cells"][0].__setitem__(8, 1_234_501), "cost_cells[0].abs_sum"),  # odd refund
        (lambda o: o["cost_cells"][0].__setitem__(8, 1_234_502), "cost_cells[0].abs_sum"),  # a refund, no negatives
        (lambda o: o["cost_cells"][0].__setitem__(7, 1), "cost_cells[0].abs_sum"),  # a negative child, no refund
        (lambda o: o["cost_cells"][0].__setitem__(slice(3, 9), [550_000, 11, 400_000, 200_000, 0, 550_000]),
         "cost_cells[0].abs_sum"),  # below top1 + top2
        (lambda o: o["cost_cells"][0].__setitem__(slice(3, 9), [2_400_002, 11, 400_000, 200_000, 0, 2_400_002]),
         "cost_cells[0].abs_sum"),  # above top1 + 10 x top2
        (lambda o: o["cost_cells"][0].__setitem__(slice(3, 9), [-1_234_500, 11, 400_000, 200_000, 10, 1_234_500]),
         "cost_cells[0].abs_sum"),  # all refunded, yet one child counted as paid
    ],
)
def test_cells_that_contradict_each_other_are_refused(mutate, field):
    _refused(mutate, "cell_inconsistent", field)


def test_a_cost_cell_with_refunds_passes_the_door():
    # 11 children: 10 paid 120_000 each, one refunded 30_000; the largest absolute amounts are 120_000 twice
    refund = ["04DA00", "2024-2025", "totaal", 1_170_000, 11, 120_000, 120_000, 1, 1_230_000]
    p = _decode(lambda o: o["cost_cells"].__setitem__(0, refund))
    assert p.cost_cells[0].abs_sum == 1_230_000 and p.cost_cells[0].to_list() == refund
    largest_is_a_refund = ["04DA00", "2024-2025", "ambulant", -400_000, 2, 500_000, 100_000, 1, 600_000]
    _decode(lambda o: o["cost_cells"].append(largest_is_a_refund))


# --- schema 1: cost cells without absolute amounts ----------------------------------------------------


OLD_COSTS = (
    CostCell("04DA00", "2024-2025", "totaal", 1_234_500, 11, 400_000, 200_000, 0),
    CostCell("04DA00", "2024-2025", "ambulant", 250_000, 3, 200_000, 100_000, 1),  # a refund of 50_000
)


def test_a_schema_1_partial_still_decodes_and_encodes_as_it_was():
    assert {1, COST_ABS_SCHEMA_VERSION} <= SUPPORTED_SCHEMA_VERSIONS and SCHEMA_VERSION >= COST_ABS_SCHEMA_VERSION
    old = make_partial(header=make_header(1), cost_cells=OLD_COSTS)
    data = encode_partial(old)
    assert b'"schema_version":1' in data and b"[\"04DA00\",\"2024-2025\",\"totaal\",1234500,11,400000,200000,0]" in data
    again = decode_partial(data)
    assert again.header.schema_version == 1 and all(c.abs_sum is None and not c.has_abs for c in again.cost_cells)
    assert encode_partial(again) == data
    assert decode_partial(data, strict=False).cost_cells == again.cost_cells


def test_a_schema_1_cost_cell_keeps_its_own_checks():
    from shared.partial import canonical_json

    obj = make_partial(header=make_header(1), cost_cells=OLD_COSTS).to_dict()
    obj["cost_cells"][0][3] = 500_000  # below top1 + top2 without credits
    with pytest.raises(PayloadError) as err:
        decode_partial(canonical_json(obj))
    assert (err.value.code, err.value.details["field"]) == ("cell_inconsistent", "cost_cells[0].value")


@pytest.mark.parametrize("version, row", [
    (1, ["04DA00", "2024-2025", "totaal", 1_234_500, 11, 400_000, 200_000, 0, 1_234_500]),
    (SCHEMA_VERSION, ["04DA00", "2024-2025", "totaal", 1_234_500, 11, 400_000, 200_000, 0]),
])
def test_cost_cells_must_have_the_fields_of_their_schema(version, row):
    from shared.partial import canonical_json

    obj = make_partial(header=make_header(version), cost_cells=()).to_dict()
    obj["cost_cells"] = [row]
    with pytest.raises(PayloadError) as err:
        decode_partial(canonical_json(obj))
    assert (err.value.code, err.value.details["field"]) == ("bad_cell", "cost_cells[0]")
    obj["cost_cells"] = [row + [0, 0]]
    with pytest.raises(PayloadError) as err:
        decode_partial(canonical_json(obj))
    assert err.value.code == "bad_cell"  # neither 10 nor 11 fields is a cost cell of any schema


def test_a_long_category_is_refused():
    # release_cells.category holds 80 characters: a longer one would fail every combine on PostgreSQL
    long = ["04DA00", "2024-2025", "clienten_aanbieder", "x" * 81, 1]
    _refused(lambda o: o["cells"].append(long), "bad_cell", "cells[3].category")


@pytest.mark.parametrize(
    "mutate, field",
    [
        (lambda q: q["files"][0].__setitem__("rows_read", "abc"), "quality.files[0].rows_read"),
        (lambda q: q["files"][0].__setitem__("rows_used", True), "quality.files[0].rows_used"),
        (lambda q: q["files"][0].__setitem__("rejected", {"<script>alert(1)</script>": "zz"}), "quality.files[0].rejected"),
        (lambda q: q["files"][0].__setitem__("rejected", {"bsn_elfproef": "zz"}), "quality.files[0].rejected.bsn_elfproef"),
        (lambda q: q["files"][0].__setitem__("excluded", {"x": -1}), "quality.files[0].excluded.x"),
        (lambda q: q["files"][0].__setitem__("excluded", [["x", 1]]), "quality.files[0].excluded"),
        (lambda q: q["files"][0].__setitem__("rows_used", 8), "quality.files[0].rows_read"),  # 8 + 2 + 1 != 10
        (lambda q: q["files"][0].__setitem__("kind", "anders"), "quality.files[0].kind"),
        (lambda q: q["files"][0].__setitem__("name", "x" * 256), "quality.files[0].name"),
        (lambda q: q["files"][0].__setitem__("name", 7), "quality.files[0].name"),
        (lambda q: q["files"][0].__setitem__("extra", 1), "quality.files[0].extra"),
        (lambda q: q["files"][0].pop("rows_read"), "quality.files[0].rows_read"),
        (lambda q: q.__setitem__("files", "abc"), "quality.files"),
        (lambda q: q.__setitem__("unmatched_claim_lines", 10**20), "quality.unmatched_claim_lines"),
        (lambda q: q.__setitem__("allocations_without_enrolment", -1), "quality.allocations_without_enrolment"),
        (lambda q: q.__setitem__("unknown_locations", ["<b>"]), "quality.unknown_locations[0]"),
        (lambda q: q.__setitem__("notes", ["x" * 1001]), "quality.notes[0]"),
        (lambda q: q.__setitem__("notes", [{"a": 1}]), "quality.notes[0]"),
        (lambda q: q.__setitem__("anders", 1), "quality.anders"),
    ],
)
def test_the_quality_block_is_typed(mutate, field):
    _refused(lambda o: mutate(o["quality"]), "bad_quality", field)


def test_a_quality_block_that_is_not_an_object_is_refused():
    _refused(lambda o: o.__setitem__("quality", ["abc"]), "bad_quality", "quality")


@pytest.mark.parametrize(
    "mutate, field",
    [
        (lambda h: h.__setitem__("schooljaren", [2024]), "header.schooljaren[0]"),
        (lambda h: h.__setitem__("peildata", {"2024-2025": "gisteren"}), "header.peildata.2024-2025"),
        (lambda h: h.__setitem__("peildata", {"2023-2024": "2023-10-01"}), "header.peildata.2023-2024"),
        (lambda h: h.__setitem__("agent_version", "x" * 65), "header.agent_version"),
        (lambda h: h.__setitem__("created_at", ["2025"]), "header.created_at"),
    ],
)
def test_header_fields_are_typed(mutate, field):
    _refused(lambda o: mutate(o["header"]), "bad_partial", field)


def test_an_unhashable_cell_field_is_a_payload_error():
    _refused(lambda o: o["cells"].append(["04DA00", ["2024-2025"], "clienten", "", 1]), "bad_cell", "cells[3].schooljaar")


def test_lenient_decoding_skips_plausibility_but_not_int64():
    """What the hub uses to re-read a submission a release was already built from (see hub.services.submissions)."""
    from shared.partial import canonical_json

    obj = make_partial().to_dict()
    _cell(obj, "clienten")[4] = 121  # implausible, but fits the combine
    obj["quality"] = {"files": "junk"}
    data = canonical_json(obj)
    with pytest.raises(PayloadError):
        decode_partial(data)
    assert _cell(decode_partial(data, strict=False).to_dict(), "clienten")[4] == 121
    _cell(obj, "clienten")[4] = 2**63
    with pytest.raises(PayloadError) as err:
        decode_partial(canonical_json(obj), strict=False)
    assert err.value.code == "cell_out_of_range"


# --- the provider-name block -----------------------------------------------------------------------

_PROVIDER_CELLS = (
    Cell("04DA00", "2024-2025", "clienten_aanbieder", "98114406", 4),
    Cell("04DA00", "2024-2025", "clienten_aanbieder", "98060412", 2),
)


def _with_names(names: dict) -> Partial:
    return make_partial(cells=make_partial().cells + _PROVIDER_CELLS, providers=ProviderNames(names))


def test_provider_names_round_trip():
    p = _with_names({"98114406": "Kennemer Kind & Jeugd", "98060412": "Lekstroom Jeugd & Gezin"})
    data = encode_partial(p)
    again = decode_partial(data)
    assert again.providers == p.providers
    assert again.providers.get("98114406") == "Kennemer Kind & Jeugd"
    assert encode_partial(again) == data
    assert list(p.to_dict()["providers"]) == ["98060412", "98114406"]  # key-sorted
    assert ProviderNames.from_dict(p.providers.to_dict()) == p.providers


def test_a_partial_without_names_encodes_as_before_the_block_existed():
    """No "providers" key when empty: an older partial decodes, and one without names keeps its bytes."""
    p = make_partial()
    data = encode_partial(p)
    assert b"providers" not in data
    assert decode_partial(data).providers == ProviderNames()
    assert not decode_partial(data).providers


def test_a_name_for_a_provider_without_a_cell_is_refused():
    """The block cannot carry a provider the cells do not name: it is no side channel."""
    p = make_partial(cells=make_partial().cells + _PROVIDER_CELLS[:1],
                     providers=ProviderNames({"98114406": "Kennemer", "98060412": "Lekstroom"}))
    with pytest.raises(PayloadError) as err:
        encode_partial(p)
    assert (err.value.code, err.value.details["field"]) == ("bad_providers", "providers.98060412")


@pytest.mark.parametrize(
    "names, field",
    [
        ({"98114406": ""}, "providers.98114406"),
        ({"98114406": "x" * 201}, "providers.98114406"),
        ({"98114406": "Zorg\nEen"}, "providers.98114406"),
        ({"98114406": "Zorg\u202eEen"}, "providers.98114406"),  # a right-to-left override
        ({"98114406": " Zorg"}, "providers.98114406"),
        ({"98114406": "=HYPERLINK(1)"}, "providers.98114406"),
        ({"98114406": "98114406"}, "providers.98114406"),  # a bare code is no name
        ({"98114406": "AGB 98114406"}, "providers.98114406"),
        ({"98114406": 7}, "providers.98114406"),
        ({"9811440": "Zorg"}, "providers"),  # not an AGB code: not echoed in the field
        ({"<script>": "Zorg"}, "providers"),
    ],
)
def test_provider_names_are_checked_at_the_door(names, field):
    def mutate(obj):
        obj["cells"].extend(c.to_list() for c in _PROVIDER_CELLS)
        obj["providers"] = names

    err = _refused(mutate, "bad_providers", field)
    assert "<script>" not in err.message


def test_a_providers_block_that_is_not_an_object_is_refused():
    def mutate(obj):
        obj["cells"].extend(c.to_list() for c in _PROVIDER_CELLS)
        obj["providers"] = [["98114406", "Zorg"]]

    _refused(mutate, "bad_providers", "providers")


def test_the_longest_name_and_plain_punctuation_pass():
    p = _with_names({"98114406": "x" * 200, "98060412": "Kinderpraktijk Ruimte & Rêve (locatie 2)"})
    assert decode_partial(encode_partial(p)).providers == p.providers


def test_lenient_decoding_drops_an_unusable_providers_block():
    from shared.partial import canonical_json

    obj = make_partial().to_dict()
    obj["cells"].extend(c.to_list() for c in _PROVIDER_CELLS)
    obj["providers"] = {"98114406": "=1+1"}
    data = canonical_json(obj)
    with pytest.raises(PayloadError):
        decode_partial(data)
    assert decode_partial(data, strict=False).providers == ProviderNames()
    obj["providers"] = "junk"
    assert decode_partial(canonical_json(obj), strict=False).providers == ProviderNames()


# --- the shortcuts of validate_partial accept exactly what the cell-by-cell checks accept -----------

_BAD = {"vest": ["04DA0", "geen", 7], "year": ["2023-2024", 2024], "measure": ["onzin", "kosten", True],
        "category": ["x" * 81, "a\x00", 3], "int": [True, -1, 2**63, 10**12 + 1, 1_000_001]}


def _mostly(good: list, bad: list) -> st.SearchStrategy:
    return st.sampled_from(good * 6 + bad)


_count_cell = st.builds(
    lambda v, y, mc, n: Cell(v, y, mc[0], mc[1], n),
    _mostly(["04DA00", "05XB01", "GEEN"], _BAD["vest"]),
    _mostly(["2024-2025"], _BAD["year"]),
    _mostly([("leerlingen", ""), ("clienten", ""), ("clienten_zorgtype", "ambulant"), ("leerlingen_ondersteuning", ""),
             ("leerlingen_ondersteuning_soort", "arrangement")],
            [(m, "") for m in _BAD["measure"]] + [("clienten_zorgtype", c) for c in _BAD["category"] + [""]]
            + [("leerlingen_ondersteuning_soort", "ambulant")]),
    st.one_of(st.integers(0, 200), st.integers(0, 200), st.sampled_from(_BAD["int"])),
)


def _cost_cell(v: str, category: str, amounts: list[int], change: tuple[int, object] | None,
               with_abs: bool = True) -> CostCell:
    """A cost cell as the agent computes it from per-child net amounts, one field maybe replaced
    (``with_abs=False``: as a schema-1 agent did, largest positive amounts and no ``abs_sum``)."""
    nonzero = sorted((a for a in amounts if a), key=abs, reverse=True)
    if with_abs:
        top = [abs(a) for a in nonzero] + [0, 0]
        fields = [sum(nonzero), len(nonzero), top[0], top[1], sum(a < 0 for a in nonzero), sum(map(abs, nonzero))]
    else:
        pos = sorted((a for a in nonzero if a > 0), reverse=True) + [0, 0]
        fields = [sum(nonzero), len(nonzero), pos[0], pos[1], sum(a < 0 for a in nonzero)]
    if change is not None and change[0] < len(fields):
        fields[change[0]] = change[1]
    return CostCell(v, "2024-2025", category, *fields)


_cost = st.builds(
    _cost_cell,
    _mostly(["04DA00", "05XB01", "GEEN"], _BAD["vest"]),
    _mostly(["totaal", "ambulant"], ["", "x" * 81, 3]),
    st.lists(st.sampled_from([-300, -50, 0, 50, 120, 300]), max_size=4),
    st.one_of(st.none(), st.tuples(st.integers(0, 5), st.one_of(st.integers(-3, 6), st.sampled_from([-300, 50, 400]),
                                                                 st.sampled_from(_BAD["int"])))),
)


_old_cost = st.builds(
    lambda v, category, amounts, change: _cost_cell(v, category, amounts, change, with_abs=False),
    _mostly(["04DA00", "05XB01", "GEEN"], _BAD["vest"]),
    _mostly(["totaal", "ambulant"], ["", "x" * 81, 3]),
    st.lists(st.sampled_from([-300, -50, 0, 50, 120, 300]), max_size=4),
    st.one_of(st.none(), st.tuples(st.integers(0, 4), st.one_of(st.integers(-3, 6), st.sampled_from([-300, 50, 400]),
                                                                 st.sampled_from(_BAD["int"])))),
)


def _outcome(check):
    try:
        check()
    except PayloadError as exc:
        return exc.code, exc.message
    return None


def _key(c) -> tuple:
    return (c.vestigingscode, c.schooljaar, c.measure, c.category)


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@example([], [CostCell("04DA00", "2024-2025", "totaal", 250, 2, 300, 100, 1)], True, 1)  # top2 with one positive
@example([], [CostCell("04DA00", "2024-2025", "totaal", 10**12, 2, 10**12 + 1, 0, 1)], True, 1)  # top1 too large
@example([], [CostCell("04DA00", "2024-2025", "totaal", 100, 2, 300, 50, 0)], True, 1)  # value below top1 + top2
@example([], [CostCell("04DA00", "2024-2025", "totaal", -30, 2, 0, 0, 5)], False, 1)  # negatives > contributors
@example([], [CostCell("04DA00", "2024-2025", "totaal", 250, 2, 300, 50, 1, 350)], True, 2)  # a refund of 50
@example([], [CostCell("04DA00", "2024-2025", "totaal", 250, 2, 300, 50, 1, 352)], True, 2)  # abs_sum off by two
@example([], [CostCell("04DA00", "2024-2025", "totaal", 250, 2, 300, 50, 1)], True, 2)  # no abs_sum in schema 2
@example([], [CostCell("04DA00", "2024-2025", "totaal", 250, 2, 300, 50, 1, -3)], False, 2)  # negative abs_sum
@example(  # one more than the pupils
    [Cell("04DA00", "2024-2025", "leerlingen", "", 5), Cell("04DA00", "2024-2025", "clienten_zorgtype", "ambulant", 6)],
    [CostCell("04DA00", "2024-2025", "totaal", 300, 6, 100, 50, 0, 300)],
    True,
    2,
)
@given(
    st.one_of(st.lists(_count_cell, max_size=6, unique_by=_key), st.lists(_count_cell, max_size=6)),
    st.one_of(st.lists(_cost, max_size=6, unique_by=_key), st.lists(_cost, max_size=6),
              st.lists(_old_cost, max_size=6, unique_by=_key)),
    st.booleans(),
    st.sampled_from(sorted(SUPPORTED_SCHEMA_VERSIONS)),
)
def test_the_validation_shortcuts_change_no_outcome(monkeypatch_module, cells, costs, strict, version):
    p = make_partial(header=make_header(version), cells=tuple(cells), cost_cells=tuple(costs))
    _same_outcome_both_ways(monkeypatch_module, p, strict)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(st.lists(_count_cell, max_size=6, unique_by=_key), st.lists(_count_cell, max_size=6)), st.booleans())
def test_the_validation_shortcuts_change_no_outcome_for_an_swv(monkeypatch_module, cells, strict):
    p = make_partial(header=make_header(kind="swv"), cells=tuple(cells), cost_cells=(),
                     quality=DataQuality(files=(FileQuality("o.csv", "ondersteuning", 1, 1),)))
    _same_outcome_both_ways(monkeypatch_module, p, strict)


def _same_outcome_both_ways(monkeypatch_module, p: Partial, strict: bool) -> None:
    fast = _outcome(lambda: validate_partial(p, strict=strict))
    with monkeypatch_module.context() as m:
        m.setattr(partial_module, "_plain_counts", lambda *a: None)
        m.setattr(partial_module, "_plain_costs", lambda *a: False)
        m.setattr(partial_module, "_within_parts", lambda *a: False)
        slow = _outcome(lambda: validate_partial(p, strict=strict))
    assert fast == slow


@pytest.fixture(scope="module")
def monkeypatch_module():
    with pytest.MonkeyPatch.context() as m:
        yield m


# --- an SWV's partial -------------------------------------------------------------------------------


def swv_partial(**over) -> Partial:
    cells = (
        Cell("04DA00", "2024-2025", "leerlingen_ondersteuning", "", 21),
        Cell("04DA00", "2024-2025", "leerlingen_ondersteuning_soort", "arrangement", 14),
        Cell("04DA00", "2024-2025", "leerlingen_ondersteuning_soort", "tlv-sbo", 7),
        Cell("05XB01", "2024-2025", "leerlingen_ondersteuning", "", 0),
    )
    quality = DataQuality(files=(FileQuality("o.csv", "ondersteuning", 24, 21, {"soort_onbekend": 2},
                                             {"vestiging_buiten_swv": 1}),))
    return Partial(**{"header": make_header(kind="swv"), "cells": cells, "quality": quality, **over})


def test_an_swv_partial_names_itself_by_swv_code_and_round_trips():
    p = swv_partial()
    data = encode_partial(p)
    header = decode_partial(data).header
    assert header.kind == "swv" and header.node == "PO2607"
    assert b'"swv_code":"PO2607"' in data and b"gemeentecode" not in data
    assert encode_partial(decode_partial(data)) == data


def test_a_municipality_header_encodes_as_it_always_did():
    assert b'"gemeentecode":"0356"' in encode_partial(make_partial()) and b"swv_code" not in encode_partial(make_partial())


def _swv_cells(*extra: Cell) -> tuple[Cell, ...]:
    return swv_partial().cells + extra


@pytest.mark.parametrize(
    "partial,code,field",
    [
        # an SWV sends support cells only, at schools, without costs
        (swv_partial(cells=_swv_cells(Cell("04DA00", "2024-2025", "leerlingen", "", 300))), "measure_not_for_node",
         "cells[4].measure"),
        (swv_partial(cost_cells=(CostCell("04DA00", "2024-2025", "totaal", 100, 1, 100, 0, 0, 100),)),
         "measure_not_for_node", "cost_cells[0]"),
        (swv_partial(cells=_swv_cells(Cell("GEEN", "2024-2025", "leerlingen_ondersteuning", "", 2))), "bad_cell",
         "cells[4].vestigingscode"),
        # a municipality sends none of them
        (make_partial(cells=make_partial().cells + (Cell("04DA00", "2024-2025", "leerlingen_ondersteuning", "", 2),)),
         "measure_not_for_node", "cells[3].measure"),
        # the soort groups are the code list's and add up to the total exactly
        (swv_partial(cells=_swv_cells(Cell("05XB01", "2024-2025", "leerlingen_ondersteuning_soort", "ambulant", 0))),
         "bad_cell", "cells[4].category"),
        (swv_partial(cells=_swv_cells(Cell("05XB01", "2024-2025", "leerlingen_ondersteuning_soort", "opp", 0),
                                      Cell("06XC00", "2024-2025", "leerlingen_ondersteuning_soort", "opp", 3))),
         "cell_inconsistent", "cells"),
        (swv_partial(cells=(Cell("04DA00", "2024-2025", "leerlingen_ondersteuning", "", 22),) + swv_partial().cells[1:]),
         "cell_inconsistent", "cells"),
        (swv_partial(cells=(Cell("04DA00", "2024-2025", "leerlingen_ondersteuning", "", 13),) + swv_partial().cells[1:]),
         "cell_inconsistent", "cells[1].value"),
        # the quality block's files are the SWV's extract
        (swv_partial(quality=DataQuality(files=(FileQuality("j.csv", "jeugdhulp", 1, 1),))), "bad_quality",
         "quality.files[0].kind"),
        (make_partial(quality=DataQuality(files=(FileQuality("o.csv", "ondersteuning", 1, 1),))), "bad_quality",
         "quality.files[0].kind"),
    ],
)
def test_what_a_node_of_each_kind_may_send(partial, code, field):
    with pytest.raises(PayloadError) as err:
        encode_partial(partial)
    assert err.value.code == code and err.value.details["field"] == field


def test_a_header_names_its_sender_once_and_by_the_field_of_its_kind():
    obj = swv_partial().to_dict()
    obj["header"]["gemeentecode"] = "0356"
    with pytest.raises(PayloadError, match="precies één"):
        Partial.from_dict(obj)
    del obj["header"]["gemeentecode"]
    obj["header"]["swv_code"] = "0356"
    with pytest.raises(PayloadError) as err:
        Partial.from_dict(obj)
    assert err.value.details["field"] == "header.swv_code"
    obj = make_partial().to_dict()
    obj["header"]["gemeentecode"] = "PO2607"
    with pytest.raises(PayloadError) as err:
        Partial.from_dict(obj)
    assert err.value.details["field"] == "header.gemeentecode"


def test_the_lenient_decode_still_keeps_each_kind_to_its_measures():
    """What the hub may combine: a re-read of a stored submission refuses the other kind's measures too."""
    obj = make_partial().to_dict()
    obj["cells"].append(["04DA00", "2024-2025", "leerlingen_ondersteuning", "", 2])
    with pytest.raises(PayloadError) as err:
        Partial.from_dict(obj, strict=False)
    assert err.value.code == "measure_not_for_node"
