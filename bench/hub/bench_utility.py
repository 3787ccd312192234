"""How much of the per-school picture the releases show, for the demo region and for bench_gate.py's
national simulation: the share of cells published, how many of seven indicators each school answers
from its own cells, and the share of the numbers on its factsheet that are visible.

Run: ``python bench/hub/bench_utility.py [--quick | --municipalities N --locations M] [--only demo|national]
[--dir DEMO_DIR] [--json OUT] [--compare BEFORE.json [--after AFTER.json]] [--check]``. The demo is built
with ``jeugdhub demo --no-serve`` into a temporary directory (``--dir`` reuses one built before); the
national region is bench_gate.py's ``simulate`` through ``combine_cells`` + ``apply_gate`` (342
municipalities and 8,000 locations unless told otherwise; ``--quick``: 15 and 350). The exit code is
0 whenever it ran; with ``--check`` it is 1 when a source misses a target (the median school answers
≥ 6 of 7 indicators; the median factsheet shows ≥ 70 % of its numbers).

Every name below is read from the release, so measures and factsheet sections added later are counted:

*Cells.* Every cell of the current release of each school year (demo: ``release_cells`` of the
rounds' current releases; national: the gate's release frame), with the status a reader gets
(frames.py): ``published`` or not. Shares are published / all cells, per school year (the cell's
``schooljaar``), level (vestiging, schooltype, regio and any other level present) and measure; "all
years" pools the current releases. A release holds every category of a line, zero or not (a zero is
hidden like any small count), so a share is of the cells a reader finds, not of the non-zero ones. It
leaves hidden provider cells out altogether (gate.py), so ``clienten_aanbieder`` is 100 % of what is
listed; for the simulation a line under the table gives the share of the combined cells (pre-gate).
The national run also prints a warning when the gate's audit leaves a cell unproven (``failed``).

*Schools.* The locations (not ``GEEN``) at level vestiging in the latest school year whose published
``leerlingen`` cell of that year is ≥ 200; where that cell is hidden, the DUO pupil count the hub holds
(demo) or the simulation's true count (national) decides, so a gate that hides more does not shrink
the population. A school's *own cells* are the published cells of the latest period (every current
release whose period ends in the latest school year, so a pooled period ending then counts) at any
level whose name starts with ``vestiging`` with the school as unit, of any measure and category.

*Indicators* (answered when the school's own cells hold): clients per 100 pupils — ``clienten`` and
``leerlingen`` published for the same period and category (also for a variant ``clienten_X`` /
``leerlingen_X``); care mix — a published ``clienten_zorgtype*`` or ``clienten_zorgintensiteit*``
cell; referrer mix — ``nieuwe_clienten_verwijzer*``; age at referral — ``nieuwe_clienten_leeftijd*``;
providers or consortium — ``clienten_aanbieder*`` or ``clienten_consortium*``; costs — ``kosten`` (or a
variant ``kosten_X``) with category ``totaal`` (or ``totaal`` + separator + group) published; cost per
client — that kosten cell and the matching clienten cell (same variant, period and group) published.

*Factsheet numbers.* Per school, ``factsheet(...)`` + ``factsheet_to_dict(...)`` of
hub/services/indicators.py for the latest school year as the operator (a regio admin's Access), the
JSON the API returns. Its hidden value is ``null`` (with ``"status": "suppressed"`` on a count, or the
rate's ``small_denominator``); the JSON has no "afgeschermd" text, that is the page's. A *number on the
factsheet* is one figure slot, counted where it appears (a cell shown twice counts twice, as a reader
sees it twice): (a) each count object ``{"value", "status"}`` — visible when published, hidden
otherwise, not counted when ``absent`` (the school or type had no cells that year); (b) each leaf named
``per_100``, ``ondergrens_95``, ``bovengrens_95``, ``clienten`` (a provider's count), ``aantal``,
``value``, ``*_procent``, ``*_euro``, ``hhi*`` or ``verschil*`` — visible when a number, hidden when
null. Not counted: the funnel (its mean is the type rate already counted; its points are other
schools, listed only when published; its limits are computed from the mean), ``release_id``,
``duo_leerlingen`` (DUO's public count, never gated), ``aantal_gepubliceerde_aanbieders`` (a length),
texts and booleans, a dict whose status is ``absent``, ``verschil*`` when the school has no cells the
year before, ``dekking_procent`` when DUO has no count, and providers the gate hid (the factsheet does
not list them, so they have no slot). Reported two ways: all these numbers, and the school's own (without
``schooltype_*`` and ``regio_*``). Keys the walk cannot classify are printed, so a new section gets a
rule instead of being skipped silently. The counting is in bench/hub/_utility.py; this script gets the two
sources, prints (``--compare``: every figure as before → after) and writes the JSON.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
# This checkout's hub, not the one the virtual environment was installed from.
sys.path[:0] = [str(ROOT), str(HERE)]

import pandas as pd  # noqa: E402

from _utility import (  # noqa: E402
    INDICATORS, TARGET_ANSWERS, TARGET_VISIBLE, latest_schooljaar, level_order, measure_order, public_cells, summarise,
)
from hub.disclosure.frames import PUBLIC_COLUMNS, VESTIGING  # noqa: E402
from shared.codes import CLIENTEN_AANBIEDER, LEERLINGEN  # noqa: E402

QUICK = (15, 350)


# --- the two sources -----------------------------------------------------------------------------


def demo_source(workdir: Path | None) -> dict:
    """The demo region: built afresh (or read from ``workdir``), read through the hub's services."""
    from sqlalchemy import select

    from hub.demo import create_demo_app
    from hub.extensions import db
    from hub.indicators import figures as fig
    from hub.models.releases import ReleaseCell
    from hub.services import indicators as svc
    from hub.services import releases as release_service

    with tempfile.TemporaryDirectory(prefix="bench-utility-") as tmp:
        if workdir is None:
            from _demo_db import run_demo

            workdir = Path(tmp) / "demo"
            wall, _, _ = run_demo(workdir)
            print(f"demo built in {wall:.1f} s", flush=True)
        app = create_demo_app(workdir)
        with app.app_context():
            current = release_service.current_releases()
            rows = db.session.execute(select(*(getattr(ReleaseCell, c) for c in PUBLIC_COLUMNS))
                                      .where(ReleaseCell.release_id.in_([r.id for r in current]))).all()
            cells = public_cells(pd.DataFrame.from_records(rows, columns=PUBLIC_COLUMNS))
            latest = latest_schooljaar(cells["schooljaar"].unique())
            data = svc.load()
            duo = {code: n for code, (n, _) in fig.duo_lookup(data.pupils(latest)).items() if n is not None}
            figures = summarise(cells, latest, duo, "DUO pupil count (1 October)", data)
    figures["label"] = f"demo region ({len(current)} current releases: " + ", ".join(
        f"{r.schooljaar} v{r.version}" for r in sorted(current, key=lambda r: r.schooljaar)) + ")"
    return figures


def national_source(municipalities: int, locations: int) -> dict:
    """bench_gate.py's simulated region through combine_cells + apply_gate (no database)."""
    import secrets

    from bench_gate import simulate
    from hub import create_app
    from hub.disclosure import GateConfig, apply_gate, combine_cells
    from hub.indicators.cells import ReleaseCells
    from hub.services import indicators as svc

    t = time.perf_counter()
    region = simulate(municipalities, locations)
    combined = combine_cells(region.contributions, region.schools)
    config = GateConfig()
    result = apply_gate(combined, config)
    print(f"national: {len(region.contributions):,} contribution rows → {len(result.release):,} cells gated in "
          f"{time.perf_counter() - t:.1f} s; audit {result.audit}", flush=True)
    cells = public_cells(result.release)
    latest = latest_schooljaar(cells["schooljaar"].unique())
    truth = combined[(combined["level"] == VESTIGING) & (combined["measure"] == LEERLINGEN)
                     & (combined["schooljaar"] == latest) & (combined["category"] == "")]
    true_pupils = dict(zip(truth["unit"], truth["value"].astype(int)))
    codes = region.schools["vestigingscode"]
    schools = pd.DataFrame({"vestigingscode": codes, "naam": codes, "schooltype": region.schools["schooltype"]})
    for column in svc.SCHOOL_COLUMNS:
        if column not in schools:
            schools[column] = None
    data = svc.RegionData(
        cells=ReleaseCells.from_rows(cells[PUBLIC_COLUMNS].itertuples(index=False, name=None)),
        releases={j: i for i, j in enumerate(sorted(cells["schooljaar"].unique()), 1)},
        schools=schools[list(svc.SCHOOL_COLUMNS)], swv_members={}, swv_names={}, provider_names={},
        provider_consortium={}, min_denominator=config.min_denominator,
        _pupils={int(j[:4]): pd.DataFrame(columns=["vestigingscode", "leerlingen", "masked"])
                 for j in cells["schooljaar"].unique()},
    )
    with tempfile.TemporaryDirectory(prefix="bench-utility-") as tmp:
        # Only for the funnel's keyed order (current_app's SECRET_KEY): the factsheet reads no database here.
        app = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://", "SECRET_KEY": secrets.token_hex(16),
                          "CELERY_BROKER_URL": None}, instance_path=tmp)
        with app.app_context():
            figures = summarise(cells, latest, true_pupils, "simulation's true pupil count", data)
    # The release leaves some hidden cells out altogether (a hidden provider cell would still say that the
    # provider served a pupil there): against the combined cells, what share of those lines is published.
    figures["left_out"] = []
    by_year = combined.groupby(["schooljaar", "level", "measure"]).size()
    pooled = combined.groupby(["level", "measure"]).size()
    for period, counts in [(j, by_year.loc[j]) for j in by_year.index.levels[0]] + [("all", pooled)]:
        table = figures["published"].get(period, {})
        for (level, measure), total in counts.items():
            shown, listed = table.get(level, {}).get(measure, [0, 0])
            if total > listed:
                figures["left_out"].append({"period": period, "level": level, "measure": measure,
                                            "published": shown, "combined": int(total)})
    figures["audit"] = result.audit
    figures["label"] = (f"national simulation ({municipalities} municipalities, {locations:,} locations, "
                        f"{len(figures['schooljaren'])} school years)")
    figures["scale"] = {"municipalities": municipalities, "locations": locations}
    return figures


# --- printing ------------------------------------------------------------------------------------

#: "Not comparing" (``None`` is a figure: not computable).
_NONE = object()


def pct(x: float | None) -> str:
    return "–" if x is None else f"{100 * x:.1f} %"


def _num(x) -> str:
    return "–" if x is None else f"{x:g}"


def _share(pair, with_counts: bool = True) -> str:
    if not pair or not pair[1]:
        return "–"
    return f"{pct(pair[0] / pair[1])} ({pair[0]:,}/{pair[1]:,})" if with_counts else pct(pair[0] / pair[1])


def _old(before: dict | None, *path):
    """The before figure at ``path`` (None when it has none), or _NONE when not comparing."""
    if before is None:
        return _NONE
    for key in path:
        before = before.get(key) if isinstance(before, dict) else None
    return before


def _pair(after, before, fmt) -> str:
    return fmt(after) if before is _NONE else f"{fmt(before)} → {fmt(after)}"


def _table(headers: list[str], rows: list[list[str]]) -> None:
    print("| " + " | ".join(headers) + " |\n|" + "---|" * len(headers))
    for row in rows:
        print("| " + " | ".join(row) + " |")


def _level_totals(table: dict, level: str) -> list[int] | None:
    lines = (table or {}).get(level)
    return [sum(p[0] for p in lines.values()), sum(p[1] for p in lines.values())] if lines else None


def print_cells(after: dict, before: dict | None, period: str) -> None:
    table = after["published"].get(period, {})
    old = _old(before, "published", period)
    compare = old is not _NONE
    old_table = (old or {}) if compare else {}
    levels = level_order(list(table) + list(old_table))
    measures = measure_order({m for lines in list(table.values()) + list(old_table.values()) for m in lines})
    title = f"school year {period}" if period != "all" else f"all years ({', '.join(after['schooljaren'])})"
    print(f"\n### Cells published, {title}" + (" (before → after)" if compare else ""))
    rows = []
    for measure in measures + ["all measures"]:
        row = [measure]
        for level in levels:
            if measure == "all measures":
                a, b = _level_totals(table, level), (_level_totals(old_table, level) if compare else _NONE)
            else:
                a, b = table.get(level, {}).get(measure), (_old(old_table, level, measure) if compare else _NONE)
            row.append(_pair(a, b, lambda p: _share(p, not compare)))
        rows.append(row)
    _table(["measure"] + levels, rows)
    if "left_out" not in after and any(CLIENTEN_AANBIEDER in lines for lines in table.values()):
        print(f"{CLIENTEN_AANBIEDER}: the release lists published provider cells only, so its share is of the "
              "listed cells")
    place = {lv: i for i, lv in enumerate(levels)}
    earlier = {(x["period"], x["level"], x["measure"]): x for x in (_old(before, "left_out") or [])} if compare else {}
    for line in sorted((x for x in after.get("left_out", []) if x["period"] == period),
                       key=lambda x: (place.get(x["level"], len(place)), x["measure"])):
        b = earlier.get((period, line["level"], line["measure"]))
        print(f"{line['measure']} at {line['level']}: the release lists published cells only; of the combined cells "
              + _pair([line["published"], line["combined"]], ([b["published"], b["combined"]] if b else None)
                      if compare else _NONE, _share))


def print_indicators(after: dict, before: dict | None) -> None:
    s, sb = after["schools"], _old(before, "schools")
    sb = None if sb is _NONE else sb
    print(f"\n### Indicators answered from the school's own cells ({after['latest']}; "
          f"schools ≥ {s['min_pupils']} pupils)")
    print(f"schools: {_pair(s['selected'], _old(sb, 'selected'), _num)}; chosen by the {s['fallback']} because their "
          f"leerlingen cell is hidden: {_pair(s['by_fallback'], _old(sb, 'by_fallback'), _num)}")

    def share(figures, key):
        return figures["answered"].get(key, 0) / figures["selected"] if figures and figures["selected"] else None

    _table(["indicator", "schools answering", "share"],
           [[label, _pair(s["answered"][key], _old(sb, "answered", key), _num),
             _pair(share(s, key), share(sb, key) if sb else _NONE, pct)] for key, label, _ in INDICATORS])
    print()
    old_dist = _old(sb, "distribution")
    _table(["indicators answered"] + [str(k) for k in range(len(s["distribution"]))],
           [["schools"] + [_pair(n, old_dist if old_dist in (_NONE, None) else old_dist[k], _num)
                           for k, n in enumerate(s["distribution"])]])
    print(f"median {_pair(s['median'], _old(sb, 'median'), _num)} of {len(INDICATORS)}; "
          f"answering ≥ {TARGET_ANSWERS}: {_pair(s['share_ge_6'], _old(sb, 'share_ge_6'), pct)}")


def print_factsheets(after: dict, before: dict | None) -> None:
    f, fb = after["factsheet"], _old(before, "factsheet")
    fb = None if fb is _NONE else fb
    print(f"\n### Numbers on the factsheet that are visible ({f['schools']} factsheets, {after['latest']})")
    rows = [[label] + [_pair(f[key][q], _old(fb, key, q), pct) for q in ("q1", "median", "q3", "min", "max")]
            for key, label in (("visible_share", "all numbers (without the funnel)"),
                               ("own_visible_share", "the school's own numbers"))]
    _table(["numbers", "Q1", "median", "Q3", "min", "max"], rows)
    n = f["numbers_per_sheet"]
    print(f"numbers per factsheet: median {_pair(n['median'], _old(fb, 'numbers_per_sheet', 'median'), _num)} "
          f"(Q1 {_num(n['q1'])}, Q3 {_num(n['q3'])}); all factsheets pooled: "
          f"{_pair(f['pooled_share'], _old(fb, 'pooled_share'), pct)} visible")
    if f["unclassified_keys"]:
        print(f"WARNING: factsheet keys with numbers or nulls the walk does not classify (not counted): "
              f"{', '.join(f['unclassified_keys'])}")


def print_source(name: str, after: dict, before: dict | None) -> None:
    print(f"\n## {name}: {after['label']}" + (f"\n(before: {before['label']})" if before else ""))
    failed = after.get("audit", {}).get("failed")
    if failed:
        print(f"WARNING: the gate's audit left {failed} hidden cell(s) unproven: the hub would not publish "
              "this release")
    for period in (after["latest"], "all"):
        print_cells(after, before, period)
    print_indicators(after, before)
    print_factsheets(after, before)
    print("targets: " + "; ".join(f"{label}: {'met' if ok else 'MISSED'}" for label, ok in targets(after)))


def targets(figures: dict) -> list[tuple[str, bool]]:
    median, visible = figures["schools"]["median"], figures["factsheet"]["visible_share"]["median"]
    return [(f"median school answers ≥ {TARGET_ANSWERS} of {len(INDICATORS)} ({_num(median)})",
             median is not None and median >= TARGET_ANSWERS),
            (f"median factsheet ≥ {TARGET_VISIBLE * 100:.0f} % visible ({pct(visible)})",
             visible is not None and visible >= TARGET_VISIBLE)]


def _plain(value):
    """numpy scalars in the gate's audit dict → plain numbers for JSON."""
    return value.item() if hasattr(value, "item") else str(value)


def _commit() -> str | None:
    try:
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True,
                              check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--only", choices=("demo", "national"), help="run one source only")
    ap.add_argument("--dir", type=Path, help="read a demo built before (jeugdhub demo --no-serve --dir DIR)")
    ap.add_argument("--municipalities", type=int, default=342)
    ap.add_argument("--locations", type=int, default=8000)
    ap.add_argument("--quick", action="store_true",
                    help=f"national simulation of {QUICK[0]} municipalities, {QUICK[1]} locations")
    ap.add_argument("--json", type=Path, help="write every figure to this file")
    ap.add_argument("--compare", type=Path, metavar="BEFORE.json", help="print each figure as before → after")
    ap.add_argument("--after", type=Path, metavar="AFTER.json",
                    help="with --compare: take 'after' from this file, run nothing")
    ap.add_argument("--check", action="store_true", help="exit 1 when a source misses a target")
    args = ap.parse_args()
    if args.quick:
        args.municipalities, args.locations = QUICK
    before = json.loads(args.compare.read_text()) if args.compare else None
    if args.after:
        if not before:
            ap.error("--after needs --compare")
        report = json.loads(args.after.read_text())
    else:
        report = {"date": date.today().isoformat(), "commit": _commit(), "sources": {}}
        if args.only in (None, "demo"):
            t = time.perf_counter()
            report["sources"]["demo"] = demo_source(args.dir)
            report["sources"]["demo"]["seconds"] = round(time.perf_counter() - t, 1)
        if args.only in (None, "national"):
            t = time.perf_counter()
            report["sources"]["national"] = national_source(args.municipalities, args.locations)
            report["sources"]["national"]["seconds"] = round(time.perf_counter() - t, 1)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, indent=1, sort_keys=True, default=_plain) + "\n")
    print(f"\n# Utility: {report['date']}, commit {report['commit']}"
          + (f" (before: {before['date']}, commit {before['commit']})" if before else ""))
    missed = False
    for name, figures in report["sources"].items():
        old = before["sources"].get(name) if before else None
        if before is not None and old is None:
            print(f"\n(no '{name}' in {args.compare}: printed without a comparison)")
        print_source(name, figures, old)
        missed |= not all(ok for _, ok in targets(figures))
    return 1 if args.check and missed else 0


if __name__ == "__main__":
    sys.exit(main())
