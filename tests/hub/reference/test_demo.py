"""The shipped demo reference files: reproducible from the real DUO files, faithful to their format,
and consistent with the synthetic generator's schools."""

from __future__ import annotations

import csv
from collections import Counter

from hub.reference import DEMO_DIR, demo_files
from hub.reference.demo import make_demo
from hub.reference.layouts import parse
from hub.reference.reading import read_csv

from .conftest import BO_FILE, EXAM_FILE, PUPIL_FILE, REPO_ROOT

SYNTH_SCHOOLS = REPO_ROOT / "node_agent" / "synthetic" / "schools.csv"


def test_make_demo_reproduces_the_shipped_files(duo_dir, tmp_path):
    from click.testing import CliRunner

    args = [str(duo_dir), "--out", str(tmp_path), "--gemeenten", str(tmp_path / "gemeenten.csv")]
    result = CliRunner().invoke(make_demo.main, args)
    assert result.exit_code == 0, result.output
    for shipped in demo_files():
        assert (tmp_path / shipped.name).read_bytes() == shipped.read_bytes(), f"{shipped.name} differs: rerun make_demo"
    assert (tmp_path / "gemeenten.csv").read_bytes() == (DEMO_DIR.parent / "gemeenten.csv").read_bytes()


def test_real_subsets_keep_the_original_format(real_parsed):
    for real in (BO_FILE, PUPIL_FILE, EXAM_FILE):
        demo = DEMO_DIR / real.name
        real_lines = real.read_bytes().split(b"\r\n")
        demo_bytes = demo.read_bytes()
        demo_lines = demo_bytes.split(b"\r\n")
        assert demo_lines[0] == real_lines[0]  # same header, BOM included
        assert demo_bytes.endswith(b"\r\n") and b"\n" not in demo_bytes.replace(b"\r\n", b"")
        assert set(demo_lines[1:-1]) <= set(real_lines[1:])  # rows unchanged, byte for byte
        real_p, demo_p = real_parsed(real), parse(read_csv(demo))
        assert (demo_p.layout, demo_p.encoding) == (real_p.layout, real_p.encoding)


def test_demo_covers_the_member_municipalities_fully(real_parsed):
    full = real_parsed(PUPIL_FILE)
    demo = parse(read_csv(DEMO_DIR / PUPIL_FILE.name))
    for gemeente in make_demo.MEMBERS:
        want = {c for c, v in full.vestigingen.items() if v["gemeentecode"] == gemeente}
        got = {c for c, v in demo.vestigingen.items() if v["gemeentecode"] == gemeente}
        assert want == got and want, gemeente


def test_synthetic_files_are_labelled():
    for name in ("swv-po-vestigingen.csv", "swv-vo-vestigingen.csv"):
        p = parse(read_csv(DEMO_DIR / name))
        assert p.samenwerkingsverbanden and all("(synthetisch)" in n for n, _ in p.samenwerkingsverbanden.values())
    readme = (DEMO_DIR / "README.md").read_text(encoding="utf-8")
    assert readme.count("**SYNTHETIC**") == 2
    for path in DEMO_DIR.glob("01.-leerlingen-vo-*.csv"):
        assert all("(synthetisch)" in row["OPLEIDINGSNAAM"] for row in csv.DictReader(path.open(encoding="cp1252"), delimiter=";"))


def test_consistent_with_the_synthetic_generators_schools():
    """Every school the generator uses is in the reference data, and the VO counts match its estimates."""
    assert SYNTH_SCHOOLS.is_file(), "node_agent/synthetic/schools.csv is missing"
    with SYNTH_SCHOOLS.open(encoding="utf-8", newline="") as fh:
        schools = list(csv.DictReader(fh))
    parsed = {p.name: parse(read_csv(p)) for p in demo_files()}
    known = set().union(*(p.vestigingen for p in parsed.values()))
    assert {s["vestigingscode"] for s in schools} <= known
    vo_counts = {}
    for p in parsed.values():
        if p.layout == "vo_leerlingen":
            vo_counts.update(p.pupil_counts)
    in_06 = set(parsed[PUPIL_FILE.name].vestigingen)
    vo = [s for s in schools if s["soort"] == "VO" and s["vestigingscode"] not in in_06]
    assert vo
    for s in vo:
        for jaar in make_demo.VO_YEARS:
            expected = int(s[f"leerlingen_{jaar}"])
            got = vo_counts.get((s["vestigingscode"], jaar))
            assert (got[0] if got else 0) == expected, (s["vestigingscode"], jaar)
    # BO/SBO/SO/VSO counts come from the same real 06 rows.
    counts_06 = parsed[PUPIL_FILE.name].pupil_counts
    for s in schools:
        if s["bron"] == "duo":
            masked = s["gemaskeerd"].split()
            for jaar in make_demo.VO_YEARS:
                n, m = counts_06.get((s["vestigingscode"], jaar), (0, False))
                assert m == (str(jaar) in masked)
                if not m:
                    assert n == int(s[f"leerlingen_{jaar}"])
    assert Counter(s["vestigingscode"] for s in schools if s["soort"] != "VO").most_common(1)[0][1] == 1
