"""Builders for hub tests: partials, signed envelopes, enrolled nodes, signed request headers."""

from __future__ import annotations

import base64
import time
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from shared.codes import default_peildatum
from shared.messages import (
    HEADER_KEY_ID,
    HEADER_NODE,
    HEADER_SIGNATURE,
    HEADER_TIMESTAMP,
    EnrolmentRequest,
    request_signing_bytes,
)
from shared.partial import Cell, CostCell, DataQuality, FileQuality, Partial, PartialHeader
from shared.signing import generate_signing_key, key_id, public_key_pem, sign_partial

SCHOOLJAAR = "2024-2025"


def make_partial(
    gemeentecode: str = "0356",
    schooljaren: tuple[str, ...] = (SCHOOLJAAR,),
    *,
    scale: int = 1,
    created_at: str = "2024-11-01T10:00:00Z",
    peildata: dict[str, str] | None = None,
) -> Partial:
    """A small but realistic partial: two schools + the GEEN bucket, counts and costs."""
    cells: list[Cell] = []
    cost_cells: list[CostCell] = []
    for jaar in schooljaren:
        for i, school in enumerate(("01AB00", "02CD00", "GEEN")):
            pupils = (200 + 50 * i) * scale
            clients = (30 + 7 * i) * scale
            cells += [
                Cell(school, jaar, "leerlingen", "", pupils),
                Cell(school, jaar, "clienten", "", clients),
                Cell(school, jaar, "clienten_zorgtype", "ambulant", clients - 5),
                Cell(school, jaar, "clienten_zorgtype", "jeugd-ggz", 5),
            ]
            value = 1_000_000 * scale + i
            cost_cells.append(CostCell(school, jaar, "totaal", value, clients, 90_000, 80_000, 0, value))
    return Partial(
        header=PartialHeader(
            node=gemeentecode,
            schooljaren=tuple(schooljaren),
            peildata=peildata if peildata is not None else {j: default_peildatum(j).isoformat() for j in schooljaren},
            created_at=created_at,
            agent_version="test",
        ),
        cells=tuple(cells),
        cost_cells=tuple(cost_cells),
        quality=DataQuality(files=(FileQuality("jeugdhulp.csv", "jeugdhulp", 100, 97, {"bad_bsn": 2}, {"age": 1}),)),
    )


#: The SWV of the factories' schools (make_partial's 01AB00 and 02CD00, and a third of its own).
SWV_CODE = "PO2607"
SWV_SCHOOLS = ("01AB00", "02CD00", "03EF00")


def add_swv(code: str = SWV_CODE, schools: tuple[str, ...] = SWV_SCHOOLS, naam: str = "SWV PO Lekstroom (test)") -> None:
    """The reference data's SWV and its memberships (as a DUO import would store them; needs an app context)."""
    from hub.extensions import db
    from hub.models.reference import Samenwerkingsverband, SwvMembership

    db.session.add(Samenwerkingsverband(code=code, naam=naam, sector=code[:2]))
    db.session.add_all(SwvMembership(vestigingscode=v, sector=code[:2], swv_code=code) for v in schools)
    db.session.commit()


def make_swv_partial(code: str = SWV_CODE, schooljaren: tuple[str, ...] = (SCHOOLJAAR,),
                     groups: dict[str, dict[str, int]] | None = None, created_at: str = "2024-11-01T10:00:00Z") -> Partial:
    """An SWV's partial as its agent sends it: per school a total (0 included) and its soort groups (> 0)."""
    groups = groups if groups is not None else {
        "01AB00": {"arrangement": 30, "opp": 12, "tlv-sbo": 11}, "02CD00": {"arrangement": 22, "lwoo": 0},
        "03EF00": {}}
    cells = []
    for jaar in schooljaren:
        for school, by_group in groups.items():
            cells.append(Cell(school, jaar, "leerlingen_ondersteuning", "", sum(by_group.values())))
            cells += [Cell(school, jaar, "leerlingen_ondersteuning_soort", g, n) for g, n in by_group.items() if n]
    header = PartialHeader(node=code, kind="swv", schooljaren=tuple(schooljaren),
                           peildata={j: default_peildatum(j).isoformat() for j in schooljaren},
                           created_at=created_at, agent_version="test")
    rows = sum(c.value for c in cells if c.measure == "leerlingen_ondersteuning")
    return Partial(header=header, cells=tuple(cells),
                   quality=DataQuality(files=(FileQuality("ondersteuning.csv", "ondersteuning", rows + 1, rows,
                                                          {"soort_onbekend": 1}),)))


def with_own_school(partial: Partial, school: str = "09XY00", pupils: int = 40) -> Partial:
    """``partial`` plus a school that only this municipality's children attend, whose rare cells are 0
    (the issue's late municipality: its school pinned by the change in the totals)."""
    extra = tuple(
        cell
        for jaar in partial.header.schooljaren
        for cell in (
            Cell(school, jaar, "leerlingen", "", pupils),
            Cell(school, jaar, "clienten", "", 0),
            Cell(school, jaar, "clienten_zorgtype", "ambulant", 0),
            Cell(school, jaar, "clienten_zorgtype", "jeugd-ggz", 0),
        )
    )
    return Partial(header=partial.header, cells=partial.cells + extra, cost_cells=partial.cost_cells,
                   quality=partial.quality)


@dataclass
class EnrolledNode:
    code: str  # the node's gemeentecode (or SWV code)
    key: Ed25519PrivateKey

    @property
    def key_id(self) -> str:
        return key_id(self.key)

    def envelope(self, partial: Partial | None = None, **kwargs) -> bytes:
        default = make_swv_partial if self.code[:2] in ("PO", "VO") else make_partial
        return sign_partial(partial or default(self.code, **kwargs), self.key).to_bytes()

    def headers(self, method: str, path: str, body: bytes = b"", *, timestamp: int | None = None) -> dict[str, str]:
        return signed_headers(self.code, self.key, method, path, body, timestamp=timestamp)


def signed_headers(
    gemeentecode: str, key: Ed25519PrivateKey, method: str, path: str, body: bytes = b"", *, timestamp: int | None = None
) -> dict[str, str]:
    ts = int(time.time()) if timestamp is None else timestamp
    signature = key.sign(request_signing_bytes(method, path, ts, body))
    return {
        HEADER_NODE: gemeentecode,
        HEADER_KEY_ID: key_id(key),
        HEADER_TIMESTAMP: str(ts),
        HEADER_SIGNATURE: base64.b64encode(signature).decode("ascii"),
    }


def enrol_node(gemeentecode: str, naam: str | None = None) -> EnrolledNode:
    """Register and enrol through the services (needs an app context)."""
    from hub.services import nodes

    token = nodes.register_node(gemeentecode, naam or (None if gemeentecode[:2] in ("PO", "VO") else f"Gemeente {gemeentecode}"))
    key = generate_signing_key()
    nodes.enrol(EnrolmentRequest(token, gemeentecode, public_key_pem(key), "test"))
    return EnrolledNode(gemeentecode, key)


def signed_payload(node: EnrolledNode, obj: dict) -> tuple[bytes, bytes]:
    """(envelope bytes, payload) for a hand-made partial dict, correctly signed by ``node``: what a
    node can send that the shared encoder would refuse to build."""
    from shared.partial import canonical_json
    from shared.signing import SIGNING_CONTEXT, SignedEnvelope

    payload = canonical_json(obj)
    return SignedEnvelope(node.key_id, payload, node.key.sign(SIGNING_CONTEXT + payload)).to_bytes(), payload


def store_unchecked(node: EnrolledNode, round_id: int, mutate) -> int:
    """Store a signed submission straight in the database, past the door's checks (as one accepted
    before those checks existed); ``mutate`` changes the partial's dict first. Returns its id."""
    import hashlib

    from hub.extensions import db
    from hub.models.submissions import SUBMISSION_CURRENT, Submission
    from hub.services import nodes, submissions

    obj = make_partial(node.code).to_dict()
    mutate(obj)
    envelope, payload = signed_payload(node, obj)
    owner = nodes.get_node(node.code)
    submissions.supersede_current(round_id, owner.id)
    sub = Submission(
        round_id=round_id, node_id=owner.id, key_id=node.key_id, digest=hashlib.sha256(envelope).hexdigest(),
        payload_digest=hashlib.sha256(payload).hexdigest(), envelope=envelope, size_bytes=len(envelope),
        status=SUBMISSION_CURRENT, quality=obj.get("quality", {}), cell_count=len(obj["cells"]) + len(obj["cost_cells"]),
    )  # fmt: skip
    db.session.add(sub)
    db.session.commit()
    return sub.id


def add_overlap_count(round_id: int, vestigingscode: str, swv_submission_id: int, gemeente_submission_id: int,
                      beide: int):
    """An overlap count as the exchange's matcher stores it (hub/models/overlap.py), for the two submissions
    (needs an app context). The tests give the true intersection of their fixtures' sets."""
    from hub.extensions import db
    from hub.models.overlap import OverlapCount
    from hub.models.submissions import Submission

    swv, gemeente = db.session.get(Submission, swv_submission_id), db.session.get(Submission, gemeente_submission_id)
    row = OverlapCount(round_id=round_id, vestigingscode=vestigingscode, swv_node_id=swv.node_id,
                       gemeente_node_id=gemeente.node_id, swv_submission_id=swv.id, gemeente_submission_id=gemeente.id,
                       beide=beide)
    db.session.add(row)
    db.session.commit()
    return row
