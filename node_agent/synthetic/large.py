"""One large, clean municipality for the benchmark: numpy-vectorised, written in chunks (1M/300k/3M rows in seconds).

The files use the data dictionary's own column names (UTF-8, ``,``, ISO dates, eurocent) and contain no faults, so
the agent must use every row and its cells must equal a reference computed straight from the files.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from node_agent.synthetic.generate import EXTRACT_DATE, MONTHLY_TARIFF, VERWIJZER_MIX, draw_bsns, load_schools
from node_agent.synthetic.providers import PROVIDERS
from node_agent.synthetic.styles import STANDARD, write_config

GEMEENTECODE = "0344"
NAAM = "Grootstad"
CHUNK = 250_000
NO_SCHOOL_SHARE = 0.003

#: (productcategorie, productcode, weight, months low, months high)
MIX = (
    ("45", "45A01", 0.26, 2, 12), ("32", "32A01", 0.07, 2, 10), ("54", "54001", 0.20, 3, 14),
    ("54", "54D01", 0.07, 6, 14), ("31", "31001", 0.14, 1, 8), ("41", "41A01", 0.08, 4, 18),
    ("40", "40A01", 0.03, 4, 20), ("43", "43A01", 0.02, 4, 20), ("46", "46A01", 0.01, 1, 3),
    ("53", "53A01", 0.01, 2, 10), ("55", "55A01", 0.03, 4, 16), ("", "", 0.01, 2, 10),
    ("42", "42A01", 0.03, 4, 18), ("48", "48A01", 0.03, 6, 24), ("47", "47A01", 0.01, 6, 12),
)


def _dates(days: np.ndarray) -> np.ndarray:
    """Days since 1970-01-01 → ISO strings (vectorised)."""
    return days.astype("datetime64[D]").astype(str)


def _day(iso: str) -> int:
    return int(np.datetime64(iso, "D").astype(np.int64))


def generate_large_municipality(out_dir, enrolments: int = 1_000_000, allocations: int = 300_000,
                                claim_lines: int = 3_000_000, seed: int = 20241001,
                                first_year: int = 2020, n_years: int = 5) -> dict:
    """Write ``leerlingen.csv``, ``jeugdhulp.csv``, ``declaraties.csv``, ``node-agent.toml`` and ``large.json``."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng([seed, 7])
    years = np.arange(first_year, first_year + n_years)
    schooljaren = [f"{y}-{y + 1}" for y in years]

    # --- children: every child is enrolled in each year (ages 4..17 over the whole period) ---
    n_children = -(-enrolments // n_years)
    bsn = np.array(draw_bsns(rng, n_children, set()))
    age0 = rng.integers(4, 18 - n_years + 1, n_children)
    birth = np.array([_day(f"{first_year}-10-01")] * n_children) - age0 * 365 - rng.integers(0, 365, n_children)
    schools = load_schools()
    bo = [s for s in schools if s.soort in ("BO", "SBO", "SO", "SO/VSO")]
    vo = [s for s in schools if s.soort in ("VO", "VSO")]

    def pick(options, n):
        w = np.array([max(1, s.leerlingen[2024]) for s in options], dtype=float)
        return rng.choice(len(options), size=n, p=w / w.sum())

    bo_idx, vo_idx = pick(bo, n_children), pick(vo, n_children)
    bo_codes = np.array([s.vestigingscode for s in bo])
    bo_soort = np.array(["BO" if s.soort == "BO" else "SBO" if s.soort == "SBO" else "SO" for s in bo])
    vo_codes = np.array([s.vestigingscode for s in vo])
    vo_soort = np.array(["VO" if s.soort == "VO" else "VSO" for s in vo])
    no_school = rng.random(n_children) < NO_SCHOOL_SHARE
    buurt = np.char.add(f"BU{GEMEENTECODE}", np.char.zfill(rng.integers(100, 1000, n_children).astype(str), 4))

    path_l = out / "leerlingen.csv"
    written = 0
    with path_l.open("w", encoding="utf-8", newline="") as fh:
        fh.write("bsn,geboortedatum,peildatum,vestigingscode,onderwijssoort,woongemeente,buurtcode\n")
        for i, year in enumerate(years):
            take = min(n_children, enrolments - written)
            if take <= 0:
                break
            age = age0[:take] + i
            is_bo = age <= 11
            code = np.where(is_bo, bo_codes[bo_idx[:take]], vo_codes[vo_idx[:take]])
            soort = np.where(is_bo, bo_soort[bo_idx[:take]], vo_soort[vo_idx[:take]])
            code = np.where(no_school[:take], "", code)
            soort = np.where(no_school[:take], "GEEN", soort)
            frame = pd.DataFrame({"bsn": bsn[:take], "geboortedatum": _dates(birth[:take]),
                                  "peildatum": f"{year}-10-01", "vestigingscode": code, "onderwijssoort": soort,
                                  "woongemeente": GEMEENTECODE, "buurtcode": buurt[:take]})
            frame.to_csv(fh, header=False, index=False, lineterminator="\n")
            written += take

    # --- allocations: concentrated on a quarter of the children, start dates strictly increasing per child ---
    carers = rng.choice(n_children, size=max(1, n_children // 4), replace=False)
    child = np.sort(carers[rng.integers(0, len(carers), allocations)])
    lo_day, hi_day = _day(f"{first_year - 1}-08-01"), _day(f"{years[-1] + 1}-07-31")
    start = rng.integers(lo_day, hi_day + 1, allocations)
    order = np.lexsort((start, child))
    child, start = child[order], start[order]
    # within a child: s'_i = max_{j<=i}(s_j - j) + i makes starts strictly increasing (no ties for "first start")
    group_start = np.r_[0, np.flatnonzero(np.diff(child)) + 1]
    rank = np.arange(allocations) - np.repeat(group_start, np.diff(np.r_[group_start, allocations]))
    key = child.astype(np.int64) * 10**7 + (start - rank)  # child-major so the running max stays in its group
    start = (np.maximum.accumulate(key) - child.astype(np.int64) * 10**7) + rank
    w = np.array([m[2] for m in MIX])
    kind = rng.choice(len(MIX), size=allocations, p=w / w.sum())
    cat = np.array([m[0] for m in MIX])[kind]
    pcode = np.array([m[1] for m in MIX])[kind]
    months = rng.integers(np.array([m[3] for m in MIX])[kind], np.array([m[4] for m in MIX])[kind] + 1)
    end = start + (months * 30.44).astype(np.int64)
    open_ended = (end > _day(EXTRACT_DATE.isoformat())) & (rng.random(allocations) < 0.6)
    verwijzer = np.empty(allocations, dtype=object)
    for k, (c, code, *_rest) in enumerate(MIX):
        sel = kind == k
        values, vw = zip(*VERWIJZER_MIX["dyslexie" if code == "54D01" else c])
        verwijzer[sel] = np.array(values)[rng.choice(len(values), size=int(sel.sum()), p=np.array(vw) / sum(vw))]
    providers_for = {}
    agb = np.empty(allocations, dtype=object)
    naam = np.empty(allocations, dtype=object)
    for family in np.unique(pcode):
        sel = pcode == family
        c = "dyslexie" if family == "54D01" else family[:2]
        options = providers_for.setdefault(c, [p for p in PROVIDERS if c in p.categorieen] or
                                           [p for p in PROVIDERS if "" in p.categorieen])
        pw = np.array([p.size for p in options])
        chosen = rng.choice(len(options), size=int(sel.sum()), p=pw / pw.sum())
        agb[sel] = np.array([p.agb for p in options])[chosen]
        naam[sel] = np.array([p.naam for p in options])[chosen]
    toew = np.char.add("G", np.char.zfill(np.arange(1, allocations + 1).astype(str), 8))
    path_j = out / "jeugdhulp.csv"
    with path_j.open("w", encoding="utf-8", newline="") as fh:
        fh.write("bsn,geboortedatum,toewijzingnummer,productcategorie,productcode,aanbieder_agb,aanbieder_naam,"
                 "verwijzer,ingangsdatum,einddatum,reden_wijziging\n")
        for a in range(0, allocations, CHUNK):
            s = slice(a, a + CHUNK)
            frame = pd.DataFrame({
                "bsn": bsn[child[s]], "geboortedatum": _dates(birth[child[s]]), "toewijzingnummer": toew[s],
                "productcategorie": cat[s], "productcode": pcode[s], "aanbieder_agb": agb[s],
                "aanbieder_naam": naam[s], "verwijzer": verwijzer[s], "ingangsdatum": _dates(start[s]),
                "einddatum": np.where(open_ended[s], "", _dates(end[s])), "reden_wijziging": "",
            })
            frame.to_csv(fh, header=False, index=False, lineterminator="\n")

    # --- claim lines: monthly, on claimable allocations (not wijkteam), weighted by duration ---
    claimable = np.flatnonzero(cat != "31")
    last_claim_day = min(_day(f"{years[-1] + 1}-07-31"), _day(EXTRACT_DATE.isoformat()))
    c_end = np.minimum(end, last_claim_day)
    start_m = start.astype("datetime64[D]").astype("datetime64[M]")
    end_m = c_end.astype("datetime64[D]").astype("datetime64[M]")
    n_months = np.maximum(1, (end_m - start_m).astype(np.int64) + 1)
    pw = n_months[claimable].astype(float)
    alloc_of_line = np.sort(claimable[rng.choice(len(claimable), size=claim_lines, p=pw / pw.sum())])
    offset = (rng.random(claim_lines) * n_months[alloc_of_line]).astype(np.int64)
    month = start_m[alloc_of_line] + offset
    p_begin = np.maximum(month.astype("datetime64[D]").astype(np.int64), start[alloc_of_line])
    p_end = np.minimum((month + 1).astype("datetime64[D]").astype(np.int64) - 1, c_end[alloc_of_line])
    p_end = np.maximum(p_end, p_begin)
    tariff = np.array([MONTHLY_TARIFF.get(m[0], 0) for m in MIX])[kind][alloc_of_line] * 100
    amount = np.maximum(1, (tariff * rng.lognormal(0.0, 0.3, claim_lines)).astype(np.int64))
    credit = rng.random(claim_lines) < 0.01
    path_d = out / "declaraties.csv"
    with path_d.open("w", encoding="utf-8", newline="") as fh:
        fh.write("toewijzingnummer,periode_begin,periode_einde,bedrag_eurocent,debet_credit\n")
        for a in range(0, claim_lines, CHUNK):
            s = slice(a, a + CHUNK)
            frame = pd.DataFrame({"toewijzingnummer": toew[alloc_of_line[s]], "periode_begin": _dates(p_begin[s]),
                                  "periode_einde": _dates(p_end[s]), "bedrag_eurocent": amount[s],
                                  "debet_credit": np.where(credit[s], "C", "D")})
            frame.to_csv(fh, header=False, index=False, lineterminator="\n")

    files = {"leerlingen": {"path": path_l}, "jeugdhulp": {"path": path_j}, "declaraties": {"path": path_d}}
    config = write_config(STANDARD, out, GEMEENTECODE, NAAM, files)
    info = {"gemeentecode": GEMEENTECODE, "naam": NAAM, "seed": seed, "schooljaren": schooljaren,
            "enrolments": int(written), "allocations": int(allocations), "claim_lines": int(claim_lines),
            "children": int(n_children), "config": config.name}
    (out / "large.json").write_text(json.dumps(info, indent=2) + "\n", encoding="utf-8")
    return info
