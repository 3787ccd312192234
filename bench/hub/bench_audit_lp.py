"""Benchmark of the audit's LP solver setting (issue 13): HiGHS' primal simplex (what the gate uses,
hub/disclosure/lps.py ``SIMPLEX_STRATEGY``) against its dual simplex (HiGHS' own default), side by side.

For every release of a demo hub (``jeugdhub demo --no-serve``, built here unless ``--dir`` names one),
``compute`` of hub/services/combine.py re-makes the release from the stored submissions, overlap counts
and earlier releases (the combine's own path: the gate and its retries for the overlap figures), once
per setting with an empty audit cache, alternating (the order flips each repetition), ``--repeat`` times. Printed per school year: median wall and CPU seconds,
the LPs solved, and whether both settings give the stored release's digest (the same release).
With ``--national M`` the national simulation of bench/hub/bench_gate.py (``M`` municipalities) is
gated the same way. Run: ``python bench/hub/bench_audit_lp.py [--dir DEMO] [--repeat 3] [--national 60] [--no-demo]``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

SETTINGS = (("dual (HiGHS default)", 1), ("primal (the gate)", 4))


def _timed(fn):
    wall, cpu = time.perf_counter(), time.process_time()
    out = fn()
    return out, time.perf_counter() - wall, time.process_time() - cpu


def demo_rows(workdir: Path, repeat: int) -> list[list[str]]:
    from _demo_db import hub_env

    os.environ.update(hub_env(workdir))
    from sqlalchemy import select

    from hub import create_app
    from hub.disclosure import lps
    from hub.extensions import db
    from hub.models.releases import Release
    from hub.services import combine

    app = create_app()
    rows = []
    with app.app_context():
        releases = list(db.session.scalars(select(Release).order_by(Release.id)))
        for rel in releases:
            results: dict[int, list] = {s: [] for _, s in SETTINGS}
            for i in range(repeat):
                for _, strategy in SETTINGS[::-1] if i % 2 else SETTINGS:
                    lps.SIMPLEX_STRATEGY = strategy
                    combine._AUDIT_CACHE = None  # the process's audit cache would answer the second setting
                    got, wall, cpu = _timed(lambda: combine.compute(
                        rel.schooljaar, list(rel.submission_ids), rel.schooltypes or {},
                        combine.earlier_releases(rel.schooljaar, rel.id), held_back=rel.held_back or ()))
                    results[strategy].append((wall, cpu, got.audit["lps_solved_all_rounds"], got.digest == rel.digest))
            rows.append(_row(f"demo {rel.schooljaar} (publicatie {rel.id})", results))
    lps.SIMPLEX_STRATEGY = SETTINGS[-1][1]
    return rows


def national_rows(municipalities: int, repeat: int) -> list[list[str]]:
    import bench_gate

    from hub.disclosure import GateConfig, lps, release_bytes

    region = bench_gate.simulate(municipalities, max(200, municipalities * 24))
    results: dict[int, list] = {s: [] for _, s in SETTINGS}
    digests: dict[int, set[bytes]] = {s: set() for _, s in SETTINGS}
    for i in range(repeat):
        for _, strategy in SETTINGS[::-1] if i % 2 else SETTINGS:
            lps.SIMPLEX_STRATEGY = strategy
            (_, result, data), wall, cpu = _timed(lambda: bench_gate.gate_pipeline(region, GateConfig()))
            digests[strategy].add(data)
            results[strategy].append((wall, cpu, result.audit["lps_solved_all_rounds"], None))
    lps.SIMPLEX_STRATEGY = SETTINGS[-1][1]
    same = len(digests[1] | digests[4]) == 1
    for strategy in results:
        results[strategy] = [(w, c, n, same) for w, c, n, _ in results[strategy]]
    return [_row(f"national simulation, {municipalities} municipalities", results)]


def _row(label: str, results: dict[int, list]) -> list[str]:
    (dual, primal) = (results[s] for _, s in SETTINGS)
    med = lambda xs, i: statistics.median(x[i] for x in xs)  # noqa: E731
    return [label, f"{med(dual, 0):.1f} s / {med(dual, 1):.1f} s", f"{med(primal, 0):.1f} s / {med(primal, 1):.1f} s",
            f"{med(dual, 0) / med(primal, 0):.2f}x", f"{int(med(dual, 2))} / {int(med(primal, 2))}",
            "yes" if all(x[3] for x in dual + primal) else "NO"]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--dir", type=Path, help="an existing demo directory (jeugdhub demo --dir); default: build one")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--national", type=int, default=0, help="also gate the national simulation with M municipalities")
    ap.add_argument("--no-demo", action="store_true", help="only the national simulation (with --national)")
    args = ap.parse_args()
    workdir = args.dir
    if args.no_demo:
        if not args.national:
            ap.error("--no-demo needs --national M")
        rows = []
    elif workdir is None:
        from _demo_db import run_demo

        workdir = Path(tempfile.mkdtemp(prefix="bench-audit-lp-"))
        seconds, _, _ = run_demo(workdir, timeout=1800)
        print(f"demo built in {seconds:.0f} s in {workdir}")
    if not args.no_demo:
        rows = demo_rows(workdir, args.repeat)
    if args.national:
        rows += national_rows(args.national, args.repeat)
    print(f"\n{args.repeat} alternating repetitions per setting; load average {os.getloadavg()[0]:.1f}\n")
    head = ["release", "dual: wall / CPU", "primal: wall / CPU", "dual / primal (wall)", "LPs dual / primal",
            "same release"]
    print("| " + " | ".join(head) + " |\n|" + "---|" * len(head))
    for row in rows:
        print("| " + " | ".join(row) + " |")
    return 0 if all(r[-1] == "yes" for r in rows) else 1


if __name__ == "__main__":
    raise SystemExit(main())
