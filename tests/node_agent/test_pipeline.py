"""The use cases behind the CLI: the quality block of a built partial, the location registry, check's per-file
report, and the upload (approval, round choice, a ledger entry for every answer)."""

from __future__ import annotations

import gc

import httpx
import pytest

from node_agent.config import load_config
from node_agent.ledger import Ledger
from node_agent.pipeline import build, check, cyclic_gc_paused, upload
from shared.errors import ConfigError, ConflictError, NotFoundError
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


def test_a_built_partial_names_the_providers_of_its_cells(node):
    cfg = setup(node, registry=False)
    p = build(cfg, ["2024-2025"]).partial
    assert p.providers.to_dict() == {"98000001": "Aanbieder BV"}


def test_an_extract_without_names_builds_the_partial_without_the_block(node):
    cfg = setup(node, registry=False)
    path = cfg.extracts["jeugdhulp"].path
    rows = [r[:6] + r[7:] for r in (jeugdhulp_row(B[0], "T1"), jeugdhulp_row(B[5], "T5"))]
    write_csv(path, [h for h in JEUGDHULP_HEADER if h != "aanbieder_naam"], rows)
    result = build(cfg, ["2024-2025"])
    assert not result.partial.providers
    assert b"providers" not in result.envelope.payload


def test_without_a_registry_no_location_is_called_unknown(node):
    cfg = setup(node, registry=False)
    assert build(cfg, ["2024-2025"]).partial.quality.unknown_locations == ()


def test_the_enrolment_a_count_reads_holds_the_counted_columns_with_the_readers_values(node):
    from node_agent.keys import load_pseudonymiser
    from node_agent.pipeline import COUNTED_ENROLMENT_COLUMNS, _enrolment_for_count, _options, _required
    from node_agent.read import read_leerlingen

    cfg = setup(node, registry=False)
    opts = _options(cfg, _required(cfg, "leerlingen"))
    args = (opts, load_pseudonymiser(cfg.pseudonym_key), cfg.gemeentecode, cfg.allow_test_bsn)
    full, slim = read_leerlingen(*args), _enrolment_for_count(*args)
    assert tuple(slim.data.columns) == COUNTED_ENROLMENT_COLUMNS
    for column in COUNTED_ENROLMENT_COLUMNS:
        assert list(slim.data[column]) == list(full.data[column])
    assert slim.report.to_dict() == full.report.to_dict()


def test_check_reports_pupils_per_school_year(node):
    cfg = setup(node, registry=False)
    result = check(cfg)
    assert result.usable
    leerlingen = [f for f in result.files if f["kind"] == "leerlingen"][0]
    assert leerlingen["schooljaren"] == {"2024-2025": 3}


class Hub:
    """Open rounds (by default 4 and 6 for 2024-2025 and 5 for 2025-2026); round 6 is closed for submissions."""

    def __init__(self, rounds=((4, "2024-2025"), (5, "2025-2026"), (6, "2024-2025"))):
        self.rounds = rounds
        self.requests: list[str] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request.url.path)
        if request.url.path == "/api/v1/rounds":
            return httpx.Response(200, json={"rounds": [
                {"id": rid, "schooljaar": jaar, "peildatum": jaar[:4] + "-10-01", "status": "open"}
                for rid, jaar in self.rounds]})
        rid = int(request.url.path.split("/")[-2])
        if rid == 6:
            return httpx.Response(409, json={"error": {"code": "round_closed", "message": "ronde gesloten"}})
        return httpx.Response(201, json={"submission_id": 10 + rid, "round_id": rid, "digest": "x", "status": "accepted"})


def built(node, require_approval=False, hub_url="https://hub.example.nl"):
    text = node.read_text().replace('url = ""', f'url = "{hub_url}"')
    node.write_text(text.replace("require_approval = false", f"require_approval = {str(require_approval).lower()}"))
    cfg = setup(node, registry=False)
    return cfg, build(cfg, ["2024-2025"]).path


def events(cfg):
    return [(e["event"], e.get("round")) for e in Ledger(cfg.log_path).entries()]


def test_upload_goes_to_each_open_round_of_its_years_and_logs_every_answer(node):
    cfg, path = built(node)
    hub = Hub()
    answers = upload(cfg, path, transport=httpx.MockTransport(hub))
    first = next(answers)  # an answer is there before a later round refuses
    assert (first.round_id, first.schooljaar, first.receipt.submission_id) == (4, "2024-2025", 14)
    with pytest.raises(ConflictError) as refused:
        next(answers)
    assert refused.value.code == "round_closed"
    assert hub.requests == ["/api/v1/rounds", "/api/v1/rounds/4/submissions", "/api/v1/rounds/6/submissions"]
    assert events(cfg) == [("built", None), ("uploaded", 4), ("upload_refused", 6)]


def test_upload_to_a_named_round_does_not_ask_for_open_rounds(node):
    cfg, path = built(node)
    hub = Hub()
    [done] = upload(cfg, path, 5, transport=httpx.MockTransport(hub))
    assert (done.round_id, done.schooljaar, done.receipt.status) == (5, "", "accepted")
    assert hub.requests == ["/api/v1/rounds/5/submissions"]


def test_upload_needs_approval_before_it_contacts_the_hub(node):
    cfg, path = built(node, require_approval=True)
    hub = Hub()
    with pytest.raises(ConflictError) as refused:
        list(upload(cfg, path, transport=httpx.MockTransport(hub)))
    assert refused.value.code == "approval_required" and hub.requests == []
    Ledger(cfg.log_path).append("approved", digest=Ledger(cfg.log_path).entries()[0]["digest"], by="Jan")
    assert [d.round_id for d in upload(cfg, path, 4, transport=httpx.MockTransport(hub))] == [4]


def test_upload_without_an_open_round_sends_nothing(node):
    cfg, path = built(node)
    hub = Hub(rounds=((5, "2025-2026"),))
    with pytest.raises(NotFoundError) as none_open:
        list(upload(cfg, path, transport=httpx.MockTransport(hub)))
    assert none_open.value.code == "no_open_round" and hub.requests == ["/api/v1/rounds"]
    assert events(cfg) == [("built", None)]


def test_upload_without_a_hub_is_a_config_error(node):
    cfg = setup(node, registry=False)  # init leaves [hub] url empty
    path = build(cfg, ["2024-2025"]).path
    with pytest.raises(ConfigError) as no_hub:
        list(upload(cfg, path))
    assert no_hub.value.code == "no_hub"


def test_the_cycle_collector_is_paused_only_while_building():
    assert gc.isenabled()
    with pytest.raises(RuntimeError), cyclic_gc_paused():
        assert not gc.isenabled()
        raise RuntimeError("an unusable file")
    assert gc.isenabled()
