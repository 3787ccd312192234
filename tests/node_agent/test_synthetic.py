"""Tests for the synthetic data: shipped DUO extract, determinism, realism, fault manifest, the large generator."""

from __future__ import annotations

import csv
import hashlib
import json
from collections import Counter
from datetime import date, datetime
from itertools import zip_longest
from pathlib import Path

import pytest
from click.testing import CliRunner

from node_agent.synthetic import extract_duo
from node_agent.synthetic.__main__ import main as synthetic_cli
from node_agent.synthetic.generate import SCHOOLS_CSV, break_elfproef, draw_bsns, generate_region, load_schools
from node_agent.synthetic.large import generate_large_municipality
from shared.codes import is_vestigingscode
from shared.pseudonym import TEST_RANGE, canonical_bsn, elfproef

REPO = Path(__file__).resolve().parents[2]
DUO_DIR = REPO.parent / "shared" / "data" / "duo"


# --- the shipped extract ------------------------------------------------------------------------


def test_shipped_extract_is_reproduced_from_duo_files(tmp_path):
    result = CliRunner().invoke(extract_duo.main, [str(DUO_DIR), str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "schools.csv").read_bytes() == SCHOOLS_CSV.read_bytes()


def test_extract_cli_names_missing_duo_file(tmp_path):
    result = CliRunner().invoke(extract_duo.main, [str(tmp_path), str(tmp_path / "out")])
    assert result.exit_code == 2
    assert extract_duo.PUPIL_FILE in result.output


def test_shipped_extract_covers_every_region_municipality():
    schools = load_schools()
    per_municipality = Counter(s.gemeentecode for s in schools if s.rol == "regio")
    for region, members in extract_duo.REGIONS.items():
        for code in members:
            assert per_municipality[code] > 0, (region, code)
    # the 2025 location counts SOURCES.md lists for the historical (non-VO) file
    non_vo_2025 = Counter(s.gemeentecode for s in schools if s.soort != "VO" and s.leerlingen[2025] > 0
                          and s.rol == "regio")
    assert non_vo_2025["0356"] == 17 and non_vo_2025["0392"] == 49 and non_vo_2025["0453"] == 23
    assert all(is_vestigingscode(s.vestigingscode) for s in schools)
    assert len({s.vestigingscode for s in schools}) == len(schools)
    assert {s.soort for s in schools} >= {"BO", "SBO", "SO/VSO", "VO"}


def test_shipped_extract_marks_masked_and_estimated_counts():
    rows = list(csv.DictReader(SCHOOLS_CSV.open(encoding="utf-8")))
    masked = [r for r in rows if r["gemaskeerd"]]
    assert masked, "the DUO file has <5 counts in these municipalities"
    for r in masked:
        for year in r["gemaskeerd"].split():
            assert r[f"leerlingen_{year}"] == str(extract_duo.MASKED_VALUE)
    assert {r["bron"] for r in rows if r["soort"] == "VO"} == {"geschat"}
    assert {r["bron"] for r in rows if r["soort"] != "VO"} == {"duo"}


# --- BSNs ---------------------------------------------------------------------------------------


def test_drawn_bsns_are_valid_distinct_and_outside_the_test_range():
    import numpy as np

    bsns = draw_bsns(np.random.default_rng(3), 5000)
    assert len(set(bsns)) == 5000
    assert all(elfproef(b) and canonical_bsn(b) == b for b in bsns)
    assert not any(TEST_RANGE[0] <= int(b) <= TEST_RANGE[1] for b in bsns)
    assert any(b.startswith("0") for b in bsns)
    assert not any(elfproef(break_elfproef(b)) for b in bsns[:500])


# --- reading the generated files back (independently of the agent) ------------------------------


def _read_extract(config: dict, base: Path, kind: str) -> list[dict[str, str]]:
    """Rows of one extract with the data dictionary's column names, all values as text."""
    spec = config["extracts"][kind]
    path = base / spec["path"]
    mapping = spec["columns"]
    if spec["format"] == "xlsx":
        from openpyxl import load_workbook

        ws = load_workbook(path, read_only=True).active
        it = ws.iter_rows(values_only=True)
        header = next(it)
        rows = []
        for values in it:
            rec = {}
            for h, v in zip_longest(header, values):  # trailing empty cells are not stored
                if isinstance(v, datetime):
                    v = v.date().isoformat()
                rec[mapping[h]] = "" if v is None else str(v)
            rows.append(rec)
        return rows
    with path.open(encoding=spec["encoding"], newline="") as fh:
        return [{mapping[k]: v for k, v in rec.items()} for rec in csv.DictReader(fh, delimiter=spec["delimiter"])]


def _date(text: str) -> date:
    if len(text) == 10 and text[2] == "-":
        return datetime.strptime(text, "%d-%m-%Y").date()
    return date.fromisoformat(text[:10])


def _load_region(root: Path, manifest: dict):
    import tomllib

    out = {}
    for code, entry in manifest["municipalities"].items():
        config_path = root / entry["config"]
        config = tomllib.loads(config_path.read_text(encoding="utf-8"))
        base = config_path.parent
        out[code] = {kind: _read_extract(config, base, kind) for kind in ("leerlingen", "jeugdhulp", "declaraties")}
    return out


def _vestiging(rec: dict) -> str:
    if "vestigingscode" in rec:
        return rec["vestigingscode"]
    if rec["vestigingsnummer"] == "":
        return rec["brin"]
    return rec["brin"] + rec["vestigingsnummer"].zfill(2)


@pytest.fixture(scope="module")
def ijmond(tmp_path_factory):
    root = tmp_path_factory.mktemp("ijmond")
    manifest = generate_region("ijmond", root, seed=11, scale=0.12)
    return root, manifest, _load_region(root, manifest)


def test_every_region_municipality_gets_three_extracts_and_a_config(ijmond):
    root, manifest, _ = ijmond
    assert set(manifest["municipalities"]) == set(extract_duo.REGIONS["ijmond"])
    assert json.loads((root / "manifest.json").read_text(encoding="utf-8")) == manifest
    styles_seen = set()
    for entry in manifest["municipalities"].values():
        assert (root / entry["config"]).is_file()
        for f in entry["files"].values():
            assert (root / f["path"]).stat().st_size > 0
        styles_seen.add(entry["style"])
    assert len(styles_seen) == 3  # three municipalities, three export shapes


def test_manifest_counts_match_the_files(ijmond):
    _, manifest, data = ijmond
    for code, entry in manifest["municipalities"].items():
        files = entry["files"]
        leerlingen, jeugdhulp, declaraties = data[code]["leerlingen"], data[code]["jeugdhulp"], data[code]["declaraties"]
        assert len(leerlingen) == files["leerlingen"]["rows"]
        assert len(jeugdhulp) == files["jeugdhulp"]["rows"]
        assert len(declaraties) == files["declaraties"]["rows"]

        fl = files["leerlingen"]["faults"]
        assert sum(not elfproef(r["bsn"].zfill(9)) for r in leerlingen) == fl["bsn_elfproef"]
        assert sum(len(r["bsn"]) < 9 for r in leerlingen) == fl["bsn_voorloopnul_weg"]
        assert sum(r["woongemeente"].zfill(4) != code for r in leerlingen) == fl["andere_woongemeente"]
        codes = [_vestiging(r) for r in leerlingen]
        assert sum(c == "" for c in codes) == fl["geen_vestiging"] > 0
        malformed = fl.get("vestigingscode_ongeldig", 0) + fl.get("brin_ongeldig", 0)
        assert sum(c != "" and not is_vestigingscode(c) for c in codes) == malformed > 0

        fj = files["jeugdhulp"]["faults"]
        assert sum(not elfproef(r["bsn"].zfill(9)) for r in jeugdhulp) == fj["bsn_elfproef"]
        assert sum(len(r["bsn"]) < 9 for r in jeugdhulp) == fj["bsn_voorloopnul_weg"]
        assert sum(r["reden_wijziging"] == "13" for r in jeugdhulp) == fj["reden_wijziging_13"]
        assert sum(bool(r["einddatum"]) and _date(r["einddatum"]) < _date(r["ingangsdatum"])
                   for r in jeugdhulp) == fj["einddatum_voor_ingangsdatum"]
        nummers = [r["toewijzingnummer"] for r in jeugdhulp]
        assert len(set(nummers)) == len(nummers)

        fd = files["declaraties"]["faults"]
        known = set(nummers)
        assert sum(r["toewijzingnummer"] not in known for r in declaraties) == fd["toewijzing_onbekend"] > 0
        assert sum(r["debet_credit"] == "C" for r in declaraties) == fd["credit_regels"]
        assert files["leerlingen"]["rejected"] == fl["bsn_elfproef"] + fl["andere_woongemeente"] + malformed
        assert files["jeugdhulp"]["excluded"] == fj["reden_wijziging_13"]


def test_care_rates_are_realistic(ijmond):
    _, manifest, data = ijmond
    pupils = clients = 0
    for entry in manifest["municipalities"].values():
        for year in entry["truth"].values():
            pupils += year["leerlingen"]
            clients += year["clienten"]
    assert 0.08 <= clients / pupils <= 0.12

    # special education has far more care than regular schools (computed from the files themselves)
    by_soort = Counter()
    with_care = Counter()
    for code, files in data.items():
        careful = {r["bsn"].zfill(9) for r in files["jeugdhulp"]}
        for r in files["leerlingen"]:
            kind = "special" if r["onderwijssoort"] in ("SBO", "SO", "VSO") else r["onderwijssoort"]
            by_soort[kind] += 1
            with_care[kind] += r["bsn"].zfill(9) in careful
    assert with_care["special"] / by_soort["special"] > 2 * with_care["BO"] / by_soort["BO"]


def test_care_mix_referrers_and_providers_are_realistic(ijmond):
    _, _, data = ijmond
    allocations = [r for files in data.values() for r in files["jeugdhulp"] if r["reden_wijziging"] != "13"]
    cats = Counter(r["productcategorie"] for r in allocations)
    top = [c for c, _ in cats.most_common(4)]
    assert "45" in top and "54" in top and "31" in top
    assert cats["43"] < cats["45"] / 5  # residential care is rare
    assert cats["48"] > 0  # jeugdbescherming exists
    assert all(r["verwijzer"] == "04" for r in allocations if r["productcategorie"] == "48"
               and r["verwijzer"] not in ("08",))
    verwijzers = Counter(r["verwijzer"] for r in allocations if r["productcategorie"] not in ("31", "42", "47", "48"))
    assert verwijzers.most_common(1)[0][0] == "02"  # the GP refers most
    agbs = Counter(r["aanbieder_agb"] for r in allocations)
    assert 20 <= len(agbs) <= 40 and all(len(a) == 8 and a.isdigit() for a in agbs)
    assert any(r["productcode"] == "54D01" for r in allocations)  # dyslexia under 54


def test_pupils_attend_schools_outside_their_municipality(ijmond):
    _, _, data = ijmond
    schools = {s.vestigingscode: s for s in load_schools()}
    elsewhere = neighbours = 0
    for code, files in data.items():
        for r in files["leerlingen"]:
            school = schools.get(_vestiging(r))
            if school is None:
                continue
            elsewhere += school.gemeentecode != code
            neighbours += school.rol == "buur"
    assert elsewhere > 0 and neighbours > 0


def test_children_persist_across_years_and_move_on_to_secondary(ijmond):
    _, manifest, data = ijmond
    years = {}
    for files in data.values():
        for r in files["leerlingen"]:
            years.setdefault(r["bsn"].zfill(9), []).append((_date(r["peildatum"]), r["onderwijssoort"]))
    multi = [v for v in years.values() if len(v) == 3]
    assert len(multi) > 0.5 * len(years)
    assert any([s for _, s in sorted(v)][:2] == ["BO", "VO"] for v in multi)


def test_same_seed_gives_identical_files_and_other_seed_differs(tmp_path):
    def digest(root: Path) -> dict[str, str]:
        return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
                for p in sorted(root.rglob("*")) if p.is_file()}

    generate_region("zuid-kennemerland", tmp_path / "a", seed=5, scale=0.03)
    generate_region("zuid-kennemerland", tmp_path / "b", seed=5, scale=0.03)
    generate_region("zuid-kennemerland", tmp_path / "c", seed=6, scale=0.03)
    a, b, c = digest(tmp_path / "a"), digest(tmp_path / "b"), digest(tmp_path / "c")
    assert a == b
    assert a.keys() == c.keys() and a != c


def test_region_cli_writes_manifest_and_rejects_unknown_region(tmp_path):
    runner = CliRunner()
    result = runner.invoke(synthetic_cli, ["region", "lekstroom", str(tmp_path), "--scale", "0.02", "--seed", "3"])
    assert result.exit_code == 0, result.output
    manifest = json.loads((tmp_path / "manifest.json").read_text(encoding="utf-8"))
    assert set(manifest["municipalities"]) == {"0356", "0321", "0353", "0331", "1961"}
    assert "Leerplicht_peildata.csv" in (tmp_path / "0356-nieuwegein" / "node-agent.toml").read_text(encoding="utf-8")
    raw = (tmp_path / "0356-nieuwegein" / "Toewijzingen_Jeugdwet.csv").read_bytes()
    assert b"\r\n" in raw and b";" in raw.splitlines()[0]
    assert (tmp_path / "0321-houten" / "leerlingen.csv").read_bytes().startswith(b"\xef\xbb\xbf")
    bad = runner.invoke(synthetic_cli, ["region", "atlantis", str(tmp_path / "x")])
    assert bad.exit_code == 2


# --- the large municipality ---------------------------------------------------------------------


def test_large_municipality_has_exact_sizes_and_consistent_links(tmp_path):
    info = generate_large_municipality(tmp_path, enrolments=2_000, allocations=600, claim_lines=5_000, seed=2)
    assert (info["enrolments"], info["allocations"], info["claim_lines"]) == (2_000, 600, 5_000)
    with (tmp_path / "leerlingen.csv").open(encoding="utf-8") as fh:
        leerlingen = list(csv.DictReader(fh))
    with (tmp_path / "jeugdhulp.csv").open(encoding="utf-8") as fh:
        jeugdhulp = list(csv.DictReader(fh))
    with (tmp_path / "declaraties.csv").open(encoding="utf-8") as fh:
        declaraties = list(csv.DictReader(fh))
    assert (len(leerlingen), len(jeugdhulp), len(declaraties)) == (2_000, 600, 5_000)
    assert all(canonical_bsn(r["bsn"]) == r["bsn"] for r in leerlingen + jeugdhulp)
    assert all(r["vestigingscode"] == "" or is_vestigingscode(r["vestigingscode"]) for r in leerlingen)
    enrolled = {r["bsn"] for r in leerlingen}
    assert {r["bsn"] for r in jeugdhulp} <= enrolled
    by_nr = {r["toewijzingnummer"]: r for r in jeugdhulp}
    assert len(by_nr) == 600
    starts: dict[str, list[str]] = {}
    for r in jeugdhulp:
        starts.setdefault(r["bsn"], []).append(r["ingangsdatum"])
        assert not r["einddatum"] or r["einddatum"] >= r["ingangsdatum"]
    assert all(len(set(s)) == len(s) for s in starts.values())  # no two allocations of a child start the same day
    for r in declaraties:
        alloc = by_nr[r["toewijzingnummer"]]
        assert alloc["productcategorie"] != "31"
        assert alloc["ingangsdatum"] <= r["periode_begin"] <= r["periode_einde"]
        assert not alloc["einddatum"] or r["periode_einde"] <= alloc["einddatum"]
        assert int(r["bedrag_eurocent"]) > 0 and r["debet_credit"] in ("D", "C")


def test_large_municipality_is_deterministic(tmp_path):
    generate_large_municipality(tmp_path / "a", enrolments=500, allocations=100, claim_lines=800, seed=9)
    generate_large_municipality(tmp_path / "b", enrolments=500, allocations=100, claim_lines=800, seed=9)
    for name in ("leerlingen.csv", "jeugdhulp.csv", "declaraties.csv", "node-agent.toml"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()


# --- the agent on the synthetic region ----------------------------------------------------------


def test_agent_check_reports_exactly_the_injected_faults(tmp_path):
    """Every export shape is readable by the agent with the generated config, its report matches the manifest,
    and its pupil and client totals match the manifest's truth."""
    from node_agent.config import load_config
    from node_agent.keys import create_pseudonym_key, create_signing_key
    from node_agent.pipeline import build, check

    manifest = generate_region("lekstroom", tmp_path, seed=4, scale=0.03)
    for code, entry in manifest["municipalities"].items():
        config_path = tmp_path / entry["config"]
        keys = config_path.parent / "keys"
        keys.mkdir()
        create_signing_key(keys / "signing.pem")
        create_pseudonym_key(keys / "pseudonym.key")
        report = check(load_config(config_path)).to_dict()
        assert report["usable"], (code, report)
        for f in report["files"]:
            expected = entry["files"][f["kind"]]
            assert f["rows_read"] == expected["rows"], (code, f["kind"])
            assert {r["reason"]: r["rows"] for r in f["rejected"]} == expected["rejected_by_reason"], (code, f["kind"])
            assert {r["reason"]: r["rows"] for r in f["excluded"]} == expected["excluded_by_reason"], (code, f["kind"])
            assert f["rows_used"] == expected["rows"] - expected["rejected"] - expected["excluded"]
        partial = build(load_config(config_path), manifest["schooljaren"]).partial
        for jaar, truth in entry["truth"].items():
            totals = {m: sum(c.value for c in partial.cells if c.schooljaar == jaar and c.measure == m)
                      for m in ("leerlingen", "clienten")}
            assert totals == truth, (code, jaar)


def test_the_regions_swvs_have_support_extracts_the_agent_accounts_for_as_the_manifest_says(tmp_path):
    from node_agent.config import load_config
    from node_agent.keys import create_pseudonym_key, create_signing_key
    from node_agent.pipeline import _options, check
    from node_agent.read import read_ondersteuning
    from node_agent.ondersteuning import count_support
    from node_agent.keys import load_pseudonymiser
    from shared.codes import default_peildatum

    manifest = generate_region("lekstroom", tmp_path, schooljaren=("2024-2025",), seed=4, scale=0.1)
    assert set(manifest["swvs"]) == {"PO2607", "VO2607"}
    region_key = bytes(range(32))
    for code, entry in manifest["swvs"].items():
        config_path = tmp_path / entry["config"]
        keys = config_path.parent / "keys"
        create_signing_key(keys / "signing.pem")
        create_pseudonym_key(keys / "pseudonym.key", region_key)
        cfg = load_config(config_path)
        assert cfg.kind == "swv" and cfg.node == code
        expected = entry["files"]["ondersteuning"]
        [f] = check(cfg).to_dict()["files"]
        assert f["rows_read"] == expected["rows"], code
        assert {r["reason"]: r["rows"] for r in f["rejected"]} == expected["rejected_by_reason"], code
        # Without the hub's school list only the rows without a school are excluded; with it, the other SWV's too.
        assert {r["reason"]: r["rows"] for r in f["excluded"]} == {"zonder_vestiging": expected["faults"]["zonder_vestiging"]}
        support = read_ondersteuning(_options(cfg, cfg.extract("ondersteuning")), load_pseudonymiser(cfg.pseudonym_key),
                                     schools=entry["schools"])
        assert {k: v.count for k, v in support.report.excluded.items()} == expected["excluded_by_reason"], code
        cells = count_support(support.data, {"2024-2025": default_peildatum("2024-2025")}, entry["schools"])
        totals = {c.vestigingscode: c.value for c in cells if c.measure == "leerlingen_ondersteuning"}
        assert set(totals) == set(entry["schools"])
        pupils = {s.vestigingscode: s.leerlingen[2024] * 0.1 for s in load_schools() if s.vestigingscode in totals}
        share = sum(totals.values()) / sum(pupils.values())
        assert 0.12 < share < 0.25, (code, share)  # about 17 % of the pupils, special schools far more
        special = [c for c in totals if next(s for s in load_schools() if s.vestigingscode == c).soort in ("SBO", "SO/VSO")]
        if special:
            assert sum(totals[c] for c in special) / sum(pupils[c] for c in special) > 0.4, code
    # The pupils the municipalities have are the same children (same BSNs): the overlap step links them.
    leerlingen = (tmp_path / manifest["municipalities"]["0321"]["files"]["leerlingen"]["path"]).read_text(encoding="utf-8-sig")
    ondersteuning = (tmp_path / manifest["swvs"]["PO2607"]["files"]["ondersteuning"]["path"]).read_text(encoding="utf-8")
    municipal = {line.split(",")[0] for line in leerlingen.splitlines()[1:]}
    assert len(municipal & {line.split(";")[0] for line in ondersteuning.splitlines()[1:]}) > 20


def test_the_swvs_leave_the_municipalities_files_as_they_were(tmp_path):
    def files(root: Path) -> dict[str, bytes]:
        return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*"))
                if p.is_file() and "-swv" not in str(p) and p.name != "manifest.json"}

    generate_region("ijmond", tmp_path / "a", schooljaren=("2024-2025",), seed=2, scale=0.03)
    generate_region("ijmond", tmp_path / "b", schooljaren=("2024-2025",), seed=2, scale=0.03, swvs=False)
    assert files(tmp_path / "a") == files(tmp_path / "b")
    assert not list((tmp_path / "b").glob("*-swv"))
