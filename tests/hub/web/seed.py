"""A seeded demo region for page, export and browser tests: reference data, two school years of
releases (with many small, suppressed cells) and one user per role.

Suppressed cells are stored WITH a canary value (the real store keeps none): any canary that shows up
in a page, chart, CSV, XLSX or PDF proves a leak in the web layer, whatever the gate does.
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass, field
from datetime import date

from hub.extensions import db
from hub.models.consortia import Consortium, ConsortiumMember
from hub.models.reference import Gemeente, PupilCount, Samenwerkingsverband, SwvMembership, Vestiging
from hub.models.releases import Release, ReleaseCell
from hub.models.rounds import Round
from hub.services import users
from shared.codes import CLIENT_ZORGTYPES, VERWIJZERS

YEARS = ("2023-2024", "2024-2025")
PASSWORD = "correct-horse-battery-staple"
THRESHOLD = 10
#: Canary values for suppressed cells: distinctive numbers that no published figure equals.
CANARIES = (987_653, 876_541, 765_431, 654_329, 543_217, 432_109, 321_091, 219_871)

GEMEENTEN = {"0356": "Nieuwegein", "0321": "Houten", "0353": "IJsselstein"}
SWVS = {"PO2701": ("Passend Primair Lekstroom", "PO"), "VO2702": ("Voortgezet Lekstroom", "VO")}
AGBS = ("11000001", "11000002", "11000003", "11000004", "11000005", "11000006")
#: The consortium table: name → member AGB codes, created in this order (ids 1, 2); the seeded consortium
#: user has scope 1. 11000002 and 11000004 belong to no consortium.
CONSORTIA = {"Lek": ("11000001", "11000006"), "Vaart": ("11000003", "11000005")}
AGE_BANDS = ("4-5", "6-8", "9-11", "12-14")

#: (vestigingscode, naam, type, gemeente, swv, pupils): a mix of big and very small schools.
SCHOOLS = (
    ("10AA00", "De Linde", "BO", "0356", "PO2701", 420),
    ("10AB00", "Het Kompas", "BO", "0356", "PO2701", 310),
    ("10AC00", "De Regenboog", "BO", "0321", "PO2701", 260),
    ("10AD00", "Klein Duimpje", "BO", "0321", "PO2701", 45),
    ("10AE00", "De Vlinder", "BO", "0353", "PO2701", 180),
    ("10AF00", "Zonnewijzer", "BO", "0353", "PO2701", 15),
    ("20BA00", "De Brug (SBO)", "SBO", "0356", "PO2701", 150),
    ("20BB00", "Het Anker (SBO)", "SBO", "0321", "PO2701", 95),
    ("30CA00", "De Steiger (SO)", "SO", "0356", "PO2701", 60),
    ("40DA00", "Lekstroom College", "VO", "0356", "VO2702", 900),
    ("40DB00", "Houtens Lyceum", "VO", "0321", "VO2702", 640),
)


@dataclass
class Seeded:
    schools: tuple = SCHOOLS
    users: dict[str, tuple[str, str]] = field(default_factory=dict)  # role → (email, password)
    release_ids: dict[str, int] = field(default_factory=dict)
    published: dict[tuple, int] = field(default_factory=dict)  # (level, unit, jaar, measure, category) → value
    suppressed: set = field(default_factory=set)


def _round5(x: int) -> int:
    return 5 * int((x + 2.5) // 5)


def _school_cells(rng: random.Random, code: str, pupils: int, jaar: str, boost: float):
    """True (unrounded) values for one school: a dict key → value."""
    rate = min(0.35, max(0.03, rng.gauss(0.13 * boost, 0.04)))
    clients = int(round(pupils * rate))
    cells = {("leerlingen", ""): pupils, ("clienten", ""): clients}
    for zt in CLIENT_ZORGTYPES[:5]:
        cells[("clienten_zorgtype", zt)] = int(clients * rng.uniform(0.05, 0.6))
    new = int(clients * rng.uniform(0.3, 0.5))
    cells[("nieuwe_clienten", "")] = new
    for code_v in list(VERWIJZERS)[:4]:
        cells[("nieuwe_clienten_verwijzer", code_v)] = int(new * rng.uniform(0.05, 0.4))
    for band in AGE_BANDS:
        cells[("nieuwe_clienten_leeftijd", band)] = int(new * rng.uniform(0.05, 0.4))
    for agb in AGBS:
        cells[("clienten_aanbieder", agb)] = int(clients * rng.uniform(0.02, 0.5))
    cells[("kosten", "totaal")] = clients * rng.randint(350_000, 900_000)
    cells[("jeugdbescherming", "")] = int(clients * 0.05)
    # Care-intensity groups and consortia from a generator of their own, so the cells above stay as they were.
    own = random.Random(f"{code}|{jaar}")
    for group in ("basis", "specialistisch", "verblijf-crisis"):
        cells[("clienten_zorgintensiteit", group)] = int(clients * own.uniform(0.05, 0.8))
    for consortium in (*CONSORTIA, "andere aanbieders"):
        cells[("clienten_consortium", consortium)] = int(clients * own.uniform(0.05, 0.7))
    return cells


#: The SWV whose node takes part: its schools have support cells (VO2702 does not take part).
SUPPORT_SWV = "PO2701"


def _support_cells(code: str, pupils: int, jaar: str) -> dict:
    """An SWV's true support counts at one of its schools: ~17 % of the pupils, more TLVs at SBO/SO schools."""
    own = random.Random(f"support|{code}|{jaar}")
    special = code[:2] in ("20", "30")
    shares = ({"tlv-so": 0.6, "tlv-sbo": 0.3, "arrangement": 0.05, "opp": 0.05} if special else
              {"tlv-sbo": 0.08, "arrangement": 0.55, "opp": 0.3, "thuiszitter": 0.02, "tlv-so": 0.05})
    total = int(round(pupils * (0.9 if special else 0.17)))
    groups = {g: int(total * share * own.uniform(0.8, 1.2)) for g, share in shares.items()}
    return {("leerlingen_ondersteuning", ""): sum(groups.values()),
            **{("leerlingen_ondersteuning_soort", g): n for g, n in groups.items()}}


def _overlap_cells(code: str, cells: dict, jaar: str) -> dict:
    """The overlap figures at a school of the participating SWV (as if its overlap was counted): "both"
    about a third of the smaller side, more at SBO/SO schools; a few clients of municipalities not
    compared. None for the school whose overlap was not counted (10AB00) and where a side is below 10."""
    support, clients = cells[("leerlingen_ondersteuning", "")], cells[("clienten", "")]
    if code == "10AB00" or support < THRESHOLD or clients < THRESHOLD:
        return {}
    own = random.Random(f"overlap|{code}|{jaar}")
    compared = clients - own.randint(0, min(4, clients - THRESHOLD))
    both = int(min(support, compared) * (0.7 if code[:2] in ("20", "30") else own.uniform(0.2, 0.45)))
    return {("ondersteuning_en_jeugdhulp", ""): both, ("ondersteuning_zonder_jeugdhulp", ""): support - both,
            ("jeugdhulp_zonder_ondersteuning", ""): compared - both, ("ondersteuning_vergeleken", ""): support,
            ("clienten_vergeleken", ""): compared}


def _add_cells(seeded: Seeded, release_id: int, level: str, unit: str, jaar: str, cells: dict, rng: random.Random):
    rows = []
    canary = iter(CANARIES * 1000)
    for (measure, category), value in sorted(cells.items()):
        key = (level, unit, jaar, measure, category)
        count_for_threshold = value if measure != "kosten" else cells[("clienten", "")]
        # Primary threshold, plus some secondary suppression on small-ish cells to exercise both statuses.
        suppressed = count_for_threshold < THRESHOLD or (measure == "clienten_aanbieder" and value < 15)
        if suppressed:
            seeded.suppressed.add(key)
            rows.append(dict(release_id=release_id, level=level, unit=unit, schooljaar=jaar, measure=measure,
                             category=category, status="suppressed_primary" if value < THRESHOLD else "suppressed_secondary",
                             value=next(canary), reason="threshold" if value < THRESHOLD else "complementary", flags=""))
        else:
            shown = _round5(value) if measure != "kosten" else 10_000 * round(value / 10_000)
            seeded.published[key] = shown
            rows.append(dict(release_id=release_id, level=level, unit=unit, schooljaar=jaar, measure=measure,
                             category=category, status="published", value=shown, reason=None, flags=""))
    db.session.execute(ReleaseCell.__table__.insert(), rows)


def _swv_submission(round_id: int, jaar: str) -> int:
    """The support cells' source: a submission of the SWV's node (a placeholder envelope: pages read only who sent)."""
    from hub.models.nodes import Node
    from hub.models.submissions import Submission

    node = db.session.query(Node).filter_by(code=SUPPORT_SWV).one_or_none()
    if node is None:
        node = Node(code=SUPPORT_SWV, kind="swv", naam=SWVS[SUPPORT_SWV][0])
        db.session.add(node)
        db.session.flush()
    digest = hashlib.sha256(f"{SUPPORT_SWV}|{jaar}".encode()).hexdigest()
    sub = Submission(round_id=round_id, node_id=node.id, key_id="1" * 16, digest=digest, payload_digest=digest,
                     envelope=b"{}", size_bytes=2)
    db.session.add(sub)
    db.session.flush()
    return sub.id


def seed_region(with_users: bool = True) -> Seeded:
    rng = random.Random(20241001)
    seeded = Seeded()
    for code, naam in GEMEENTEN.items():
        db.session.add(Gemeente(code=code, naam=naam))
    for code, (naam, sector) in SWVS.items():
        db.session.add(Samenwerkingsverband(code=code, naam=naam, sector=sector))
    for code, naam, stype, gem, swv, pupils in SCHOOLS:
        db.session.add(Vestiging(vestigingscode=code, instellingscode=code[:4], naam=naam, soort=stype,
                                 bevoegd_gezag_nummer="41000", bevoegd_gezag_naam="Stichting Lekstroom Scholen",
                                 gemeentecode=gem, gemeentenaam=GEMEENTEN[gem], plaatsnaam=GEMEENTEN[gem], swv_code=swv,
                                 active=True))
    db.session.flush()  # PostgreSQL checks the foreign keys of what follows at once
    for code, naam, stype, gem, swv, pupils in SCHOOLS:
        db.session.add(SwvMembership(vestigingscode=code, sector=SWVS[swv][1], swv_code=swv))
        for jaar in YEARS:
            db.session.add(PupilCount(vestigingscode=code, jaar=int(jaar[:4]), leerlingen=int(pupils * 1.15),
                                      masked=False, source="test"))
    db.session.flush()
    for version, jaar in enumerate(YEARS, start=1):
        rnd = Round(schooljaar=jaar, peildatum=date(int(jaar[:4]), 10, 1), status="closed", expected_nodes=sorted(GEMEENTEN))
        db.session.add(rnd)
        db.session.flush()
        release = Release(round_id=rnd.id, version=1, schooljaar=jaar, digest=hashlib.sha256(jaar.encode()).hexdigest(),
                          submission_ids=[], audit={}, schooltypes={s[0]: s[2] for s in SCHOOLS})
        db.session.add(release)
        db.session.flush()
        totals: dict[str, dict] = {}
        boost = 1.0 + 0.1 * version
        for code, _, stype, _, swv, pupils in SCHOOLS:
            cells = _school_cells(rng, code, pupils, jaar, boost)
            if swv == SUPPORT_SWV:
                cells.update(_support_cells(code, pupils, jaar))
                cells.update(_overlap_cells(code, cells, jaar))
            _add_cells(seeded, release.id, "vestiging", code, jaar, cells, rng)
            for unit, level in ((stype, "schooltype"), ("regio", "regio")):
                agg = totals.setdefault(f"{level}:{unit}", {})
                for k, v in cells.items():
                    agg[k] = agg.get(k, 0) + v
        for key, cells in totals.items():
            level, unit = key.split(":")
            _add_cells(seeded, release.id, level, unit, jaar, cells, rng)
        rnd.current_release_id = release.id
        seeded.release_ids[jaar] = release.id
        release.submission_ids = [_swv_submission(rnd.id, jaar)]
    for naam, agbs in CONSORTIA.items():
        consortium = Consortium(naam=naam)
        db.session.add(consortium)
        db.session.flush()
        for agb in agbs:
            db.session.add(ConsortiumMember(consortium_id=consortium.id, aanbieder_agb=agb, aanbieder_naam=""))
    db.session.commit()
    if with_users:
        for role, scope in (("regio_admin", None), ("gemeente", "0356"), ("swv", "PO2701"), ("consortium", "1"),
                            ("school", "10AA00")):
            email = f"{role.replace('_', '-')}@example.nl"
            users.add_user(email, PASSWORD, role, scope, naam=f"Test {role}")
            seeded.users[role] = (email, PASSWORD)
    return seeded


#: A provider that served pupils of the region but whose only cell is suppressed (added by add_node_names).
HIDDEN_AGB = "11000099"


def add_node_names(seeded: Seeded, names_per_node: dict[str, dict[str, str]]) -> None:
    """Submissions of the nodes ``names_per_node`` names (gemeentecode → AGB code → name) in every seeded
    release, carrying those provider names, plus a suppressed provider cell of :data:`HIDDEN_AGB` at
    10AA00 in every school year. The envelopes are placeholders: the pages read only the names."""
    from hub.models.nodes import Node
    from hub.models.submissions import Submission

    for jaar, release_id in seeded.release_ids.items():
        release = db.session.get(Release, release_id)
        ids = []
        for code, names in sorted(names_per_node.items()):
            node = db.session.query(Node).filter_by(code=code).one_or_none()
            if node is None:
                node = Node(code=code, naam=GEMEENTEN.get(code, code))
                db.session.add(node)
                db.session.flush()
            digest = hashlib.sha256(f"{code}|{jaar}".encode()).hexdigest()
            sub = Submission(round_id=release.round_id, node_id=node.id, key_id="0" * 16, digest=digest,
                             payload_digest=digest, envelope=b"{}", size_bytes=2, provider_names=dict(names))
            db.session.add(sub)
            db.session.flush()
            ids.append(sub.id)
        release.submission_ids = sorted(set(release.submission_ids or ()) | set(ids))
        db.session.execute(ReleaseCell.__table__.insert(), [dict(
            release_id=release_id, level="vestiging", unit="10AA00", schooljaar=jaar, measure="clienten_aanbieder",
            category=HIDDEN_AGB, status="suppressed_primary", value=CANARIES[0], reason="threshold", flags="")])
        seeded.suppressed.add(("vestiging", "10AA00", jaar, "clienten_aanbieder", HIDDEN_AGB))
    db.session.commit()
