"""Round trips and canonical encoding of the partial."""

import pytest

from shared.errors import PayloadError, SchemaVersionError
from shared.partial import (
    Cell,
    CostCell,
    DataQuality,
    FileQuality,
    Partial,
    PartialHeader,
    decode_partial,
    encode_partial,
)


def make_partial(**over) -> Partial:
    header = PartialHeader(
        gemeentecode="0356",
        schooljaren=("2024-2025",),
        peildata={"2024-2025": "2024-10-01"},
        created_at="2025-01-01T00:00:00Z",
        agent_version="0.1.0",
    )
    cells = (
        Cell("04DA00", "2024-2025", "leerlingen", "", 120),
        Cell("04DA00", "2024-2025", "clienten", "", 11),
        Cell("GEEN", "2024-2025", "leerlingen", "", 3),
    )
    costs = (CostCell("04DA00", "2024-2025", "totaal", 1_234_500, 11, 400_000, 200_000, 0),)
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
    data = encode_partial(p).replace(b'"schema_version":1', b'"schema_version":99')
    with pytest.raises(SchemaVersionError):
        decode_partial(data)


def test_float_in_quality_block_is_refused():
    bad = make_partial(quality=DataQuality(unmatched_claim_lines=1.5))
    with pytest.raises(PayloadError):
        encode_partial(bad)


def test_non_string_category_is_refused():
    with pytest.raises(PayloadError):
        encode_partial(make_partial(cells=(Cell("04DA00", "2024-2025", "clienten_zorgtype", 1.5, 1),)))
