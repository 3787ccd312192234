"""Importing into the database (SQLite in memory): merging sources, idempotence, the read functions."""

from __future__ import annotations

import shutil

import pandas as pd
from sqlalchemy import func, select

from hub.extensions import db
from hub.models.reference import PupilCount, ReferenceImport, SwvMembership, Vestiging
from hub.reference import demo_files
from hub.services import reference as ref
from hub.services.reference import ImportReport

from .conftest import EXAM_FILE, PUPIL_FILE


def _counts() -> dict[str, int]:
    return {
        m.__tablename__: db.session.scalar(select(func.count()).select_from(m))
        for m in (Vestiging, PupilCount, SwvMembership, ReferenceImport)
    }


def _bump_2025(src, tmp_path, prefix: bytes, delta: int):
    """A copy of a 06 file with the 2025 count of the line starting with ``prefix`` raised by ``delta``."""
    lines = src.read_bytes().split(b"\r\n")
    idx = next(i for i, line in enumerate(lines) if line.startswith(prefix))
    fields = lines[idx].split(b";")
    fields[-1] = str(int(fields[-1]) + delta).encode()
    lines[idx] = b";".join(fields)
    out = tmp_path / src.name
    out.write_bytes(b"\r\n".join(lines))
    return out


def test_demo_import_and_reimport_is_idempotent(app):
    reports = ref.import_files(db.session, demo_files())
    assert [r.status for r in reports] == ["imported"] * len(reports)
    for r in reports:
        assert r.rows_read == r.rows_used + r.rows_rejected + r.rows_excluded
    before = _counts()
    assert before["vestigingen"] > 300 and before["pupil_counts"] > 5000
    again = ref.import_files(db.session, demo_files())
    assert [r.status for r in again] == ["unchanged"] * len(again)
    assert all("al geïmporteerd" in r.notes[-1] for r in again)
    assert _counts() == before


def test_updated_file_upserts_without_duplicates(app, tmp_path):
    src = next(p for p in demo_files() if p.name.startswith("06."))
    ref.import_files(db.session, [src])
    before = _counts()
    n_2025 = db.session.get(PupilCount, ("04DA00", 2025)).leerlingen
    assert n_2025 > 0
    # The same file with one count changed (e.g. DUO's definitive figures): only that count changes.
    updated = _bump_2025(src, tmp_path, b"04DA;04DA00;", 7)
    (report,) = ref.import_files(db.session, [updated])
    assert report.status == "imported"
    assert report.changes == {"leerlingaantallen_gewijzigd": 1}
    assert _counts() == {**before, "reference_imports": before["reference_imports"] + 1}
    assert db.session.get(PupilCount, ("04DA00", 2025)).leerlingen == n_2025 + 7


def test_later_files_update_but_never_erase_fields_they_do_not_carry(app):
    bo_registry, historical = (next(p for p in demo_files() if p.name.startswith(x)) for x in ("02.", "06."))
    ref.import_files(db.session, [bo_registry])
    v = db.session.get(Vestiging, "15QM00")
    assert (v.naam, v.adres, v.postcode, v.soort) == ("Montessorischool De Vleugel", "Mozartplantsoen 1", "3438 AG", "BO")
    ref.import_files(db.session, [historical])
    v = db.session.get(Vestiging, "15QM00")
    assert (v.adres, v.postcode, v.bevoegd_gezag_nummer) == ("Mozartplantsoen 1", "3438 AG", "41226")  # kept
    assert v.soort == "BO" and v.soort_bron == "po_leerlingen_historisch"
    assert v.naam == "Montessorischool De Vleugel"  # the registry's name outranks 06's abbreviation
    # A field the registry left empty is filled by a lower-ranked file (06's denominatie for an SBO).
    sbo = db.session.get(Vestiging, "04DA00")
    assert sbo.naam == "SSBO De Evenaar" and sbo.denominatie == "Algemeen bijzonder"


def test_the_result_does_not_depend_on_import_order(app):
    files = demo_files()
    ref.import_files(db.session, files)
    forward = ref.vestigingen(db.session)
    db.drop_all()
    db.create_all()
    ref.import_files(db.session, list(reversed(files)))
    backward = ref.vestigingen(db.session)
    pd.testing.assert_frame_equal(forward, backward)
    by_code = forward.set_index("vestigingscode")
    assert by_code.loc["04DA00", "schooltype"] == "SBO"
    # A VSO school with exam candidates stays VSO (06 states it), whatever the order.
    assert by_code.loc["18EC03", "schooltype"] == "VSO"


def test_read_functions(app):
    ref.import_files(db.session, demo_files())
    st = ref.schooltypes(db.session)
    assert list(st.columns) == ["vestigingscode", "schooltype"]
    assert set(st["schooltype"]) == {"BO", "SBO", "SO", "VSO", "SO/VSO", "VO"}
    assert st["vestigingscode"].is_unique
    pc = ref.pupil_counts(db.session, 2024)
    assert list(pc.columns) == ["vestigingscode", "leerlingen", "masked"]
    assert str(pc["leerlingen"].dtype) == "Int64"
    assert pc.loc[pc["leerlingen"].isna(), "masked"].all()  # NULL only when DUO masked it
    assert pc.set_index("vestigingscode").loc["00VY00", "leerlingen"] > 0  # VO count from the VO pupil file
    assert ref.pupil_counts_for_schooljaar(db.session, "2024-2025").equals(pc)
    nieuwegein = ref.vestigingen(db.session, ["0356"])
    assert set(nieuwegein["gemeentecode"]) == {"0356"}
    assert nieuwegein.set_index("vestigingscode").loc["00VY00", "swv_code"] == "VO2607"
    assert ref.swv_of(db.session, "04DA00") == [
        {"sector": "PO", "code": "PO2607", "naam": "SWV PO Lekstroom (synthetisch)"}
    ]
    swvs = ref.samenwerkingsverbanden(db.session)
    assert set(swvs["sector"]) == {"PO", "VO"} and (swvs["vestigingen"] > 0).all()
    status = ref.status(db.session)
    assert ref.ReferenceStatus.from_dict(status.to_dict()) == status
    assert status.jaren[-1] == 2025 and len(status.imports) == len(demo_files())


def test_masked_counts_are_stored_as_null(app, duo_dir):
    (report,) = ref.import_files(db.session, [PUPIL_FILE])
    assert report.rows_read == 9737 and report.rows_excluded == 5
    masked = db.session.scalars(select(PupilCount).where(PupilCount.masked.is_(True))).all()
    assert len(masked) == 762 and all(p.leerlingen is None for p in masked)
    v = db.session.get(Vestiging, "00AO00")
    assert v.gemeentecode == "0285" and v.soort == "VSO"


def test_unusable_file_changes_nothing(app, tmp_path):
    bad = tmp_path / "kapot.csv"
    bad.write_bytes(b"A;B;C\r\n1;2;3\r\n")
    before = _counts()
    (report,) = ref.import_files(db.session, [bad])
    assert report.status == "unusable" and report.error["code"] == "unknown_layout"
    assert report.error["message"].startswith("kapot.csv")
    assert _counts() == before
    (missing,) = ref.import_files(db.session, [tmp_path / "weg.csv"])
    assert missing.status == "unusable" and missing.error["code"] == "file_not_found"


def test_same_bytes_for_another_year_is_another_import(app, tmp_path):
    src = next(p for p in demo_files() if p.name.endswith("2024.csv"))
    a = tmp_path / "01.-leerlingen-vo-per-vestiging-naar-onderwijstype-2030.csv"
    shutil.copy(src, a)
    r1, r2 = ref.import_files(db.session, [src, a])
    assert (r1.status, r2.status) == ("imported", "imported")
    assert set(ref.pupil_counts(db.session, 2030)["vestigingscode"]) == set(ref.pupil_counts(db.session, 2024)["vestigingscode"])


def test_report_round_trip(app, duo_dir):
    (report,) = ref.import_files(db.session, [EXAM_FILE])
    assert ImportReport.from_dict(report.to_dict()) == report
    stored = db.session.scalar(select(ReferenceImport))
    assert stored.summary == report.to_dict()
    assert stored.kind == "vo_examens" and len(stored.sha256) == 64


def test_import_on_postgresql_is_idempotent(postgres_db, tmp_path):
    """The same import on the production database (real PostgreSQL, started by the fixture)."""
    from tests.hub.conftest import make_app

    pg_app = make_app(SQLALCHEMY_DATABASE_URI=postgres_db)
    with pg_app.app_context():
        db.create_all()
        reports = ref.import_files(db.session, demo_files())
        assert [r.status for r in reports] == ["imported"] * len(reports)
        before = _counts()
        src = next(p for p in demo_files() if p.name.startswith("06."))
        changed = _bump_2025(src, tmp_path, b"04DA;04DA00;", 7)
        again = ref.import_files(db.session, [*demo_files(), changed])
        assert [r.status for r in again[:-1]] == ["unchanged"] * len(reports)
        assert again[-1].status == "imported" and again[-1].changes["leerlingaantallen_gewijzigd"] == 1
        # re-applying 06 after the registry re-sets its own (abbreviated) names: updates, never inserts
        assert not any(k.endswith("_nieuw") for k in again[-1].changes)
        assert _counts() == {**before, "reference_imports": before["reference_imports"] + 1}
        pc = ref.pupil_counts(db.session, 2025)
        assert pc["vestigingscode"].is_unique and len(pc) > 250
        db.session.remove()
        db.drop_all()
