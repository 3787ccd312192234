"""The use cases behind the CLI: the quality block of a built partial, the location registry, check's per-file report."""

from __future__ import annotations

from node_agent.config import load_config
from node_agent.ledger import Ledger
from node_agent.pipeline import build, check
from tests.node_agent.helpers import (
    DECLARATIES_HEADER,
    JEUGDHULP_HEADER,
    LEERLINGEN_HEADER,
    jeugdhulp_row,
    leerling_row,
    valid_bsns,
    write_csv,
)

B = valid_bsns(6, start=500_000_000)


def setup(node, registry: bool):
    data = node.parent / "data"
    write_csv(data / "jeugdhulp.csv", JEUGDHULP_HEADER, [jeugdhulp_row(B[0], "T1"), jeugdhulp_row(B[5], "T5")])
    write_csv(data / "declaraties.csv", DECLARATIES_HEADER, [["T1", "2024-09-01", "", "100", "D"],
                                                             ["T8", "2024-09-01", "", "1", "D"],
                                                             ["T5", "2024-09-01", "", "7", "D"]])
    write_csv(data / "leerlingen.csv", LEERLINGEN_HEADER, [leerling_row(B[0], "04DA00"), leerling_row(B[1], "99ZZ00"),
                                                           leerling_row(B[2], "")])
    if registry:
        (node.parent / "vestigingen.csv").write_text("VESTIGINGSCODE;NAAM\n04DA00;De Linde\n05XB01;Het Anker\n",
                                                     encoding="cp1252")
        node.write_text(node.read_text().replace('location_registry = ""', 'location_registry = "vestigingen.csv"'))
    return load_config(node)


def test_quality_block_of_a_built_partial(node):
    cfg = setup(node, registry=True)
    result = build(cfg, ["2024-2025"])
    q = result.partial.quality
    assert [f.kind for f in q.files] == ["jeugdhulp", "declaraties", "leerlingen"]
    assert all(f.balanced for f in q.files)
    assert q.unmatched_claim_lines == 1  # T8
    assert q.allocations_without_enrolment == 1  # B[5] is not in the enrolment extract
    assert q.unknown_locations == ("99ZZ00",)
    assert any("declaratieregels horen bij kinderen zonder inschrijving" in n for n in q.notes)
    entry = Ledger(cfg.log_path).built(result.envelope.digest)
    assert entry["rows"]["declaraties"] == {"read": 3, "used": 2, "rejected": 1, "excluded": 0}
    assert entry["file"] == result.path.name


def test_without_a_registry_no_location_is_called_unknown(node):
    cfg = setup(node, registry=False)
    assert build(cfg, ["2024-2025"]).partial.quality.unknown_locations == ()


def test_check_reports_pupils_per_school_year(node):
    cfg = setup(node, registry=False)
    result = check(cfg)
    assert result.usable
    leerlingen = [f for f in result.files if f["kind"] == "leerlingen"][0]
    assert leerlingen["schooljaren"] == {"2024-2025": 3}
