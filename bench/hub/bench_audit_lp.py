"""Benchmark of the audit's LP settings (issue 13): the gate as it solves its LPs now, against a
reference setting, side by side in one run.

The settings are module attributes of hub/disclosure/lps.py. The reference (``REFERENCE``) is the
gate before the evening of 2026-12-02: when a round of the gate reveals a hidden count as at least
the threshold, every certified end in that count's family goes stale (``CARRY_WITNESSES`` False).
The gate (``GATE``) keeps every end whose point could not have the count below the threshold
(hub/disclosure/audit.py ``Provenance``). ``--older`` adds the gate of the morning of 2026-12-02:
primal simplex for every solve, also a model's first (``COLD_SIMPLEX_STRATEGY`` None), and an LP for
every unproven target side (``PROPAGATION_ROUNDS`` 0); ``--dual`` adds HiGHS' own default (dual
simplex throughout).

For every release of a demo hub (``jeugdhub demo --no-serve``, built here unless ``--dir`` names one),
``compute`` of hub/services/combine.py re-makes the release from the stored submissions, overlap counts
and earlier releases (the combine's own path: the gate and its retries for the overlap figures), once
per setting with an empty audit cache, alternating (the order turns each repetition), ``--repeat``
times. Printed per school year: median wall and CPU seconds, the LPs solved, and whether every setting
gives the stored release's digest (the same release). With ``--national M`` the national simulation of
bench/hub/bench_gate.py (``M`` municipalities) is gated the same way. Run:
``python bench/hub/bench_audit_lp.py [--dir DEMO] [--repeat 3] [--national 60] [--no-demo] [--dual] [--older]``.
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

OLDER = ("morning (primal throughout, every LP)",
         {"SIMPLEX_STRATEGY": 4, "COLD_SIMPLEX_STRATEGY": None, "PROPAGATION_ROUNDS": 0, "CARRY_WITNESSES": False})
DUAL = ("dual throughout (HiGHS default)",
        {"SIMPLEX_STRATEGY": 1, "COLD_SIMPLEX_STRATEGY": None, "PROPAGATION_ROUNDS": 0, "CARRY_WITNESSES": False})
REFERENCE = ("before (a reveal stales its family)",
             {"SIMPLEX_STRATEGY": 4, "COLD_SIMPLEX_STRATEGY": 1, "PROPAGATION_ROUNDS": 3, "CARRY_WITNESSES": False})
GATE = ("the gate", {"SIMPLEX_STRATEGY": 4, "COLD_SIMPLEX_STRATEGY": 1, "PROPAGATION_ROUNDS": 3,
                     "CARRY_WITNESSES": True})
SETTINGS = [REFERENCE, GATE]


def _use(setting: dict) -> None:
    from hub.disclosure import lps

    for name, value in setting.items():
        setattr(lps, name, value)


def _timed(fn):
    wall, cpu = time.perf_counter(), time.process_time()
    out = fn()
    return out, time.perf_counter() - wall, time.process_time() - cpu


def demo_rows(workdir: Path, repeat: int) -> list[list[str]]:
    from _demo_db import hub_env

    os.environ.update(hub_env(workdir))
    from sqlalchemy import select

    from hub import create_app
    from hub.extensions import db
    from hub.models.releases import Release
    from hub.services import combine

    app = create_app()
    rows = []
    with app.app_context():
        releases = list(db.session.scalars(select(Release).order_by(Release.id)))
        for rel in releases:
            results: dict[str, list] = {label: [] for label, _ in SETTINGS}
            for i in range(repeat):
                for label, setting in SETTINGS[::-1] if i % 2 else SETTINGS:
                    _use(setting)
                    combine._AUDIT_CACHE = None  # the process's audit cache would answer the second setting
                    got, wall, cpu = _timed(lambda: combine.compute(
                        rel.schooljaar, list(rel.submission_ids), rel.schooltypes or {},
                        combine.earlier_releases(rel.schooljaar, rel.id), held_back=rel.held_back or ()))
                    results[label].append((wall, cpu, got.audit["lps_solved_all_rounds"], got.digest == rel.digest))
            rows.append(_row(f"demo {rel.schooljaar} (publicatie {rel.id})", results))
    _use(GATE[1])
    return rows


def national_rows(municipalities: int, repeat: int) -> list[list[str]]:
    import bench_gate

    from hub.disclosure import GateConfig

    region = bench_gate.simulate(municipalities, max(200, municipalities * 24))
    results: dict[str, list] = {label: [] for label, _ in SETTINGS}
    digests: set[bytes] = set()
    for i in range(repeat):
        for label, setting in SETTINGS[::-1] if i % 2 else SETTINGS:
            _use(setting)
            (_, result, data), wall, cpu = _timed(lambda: bench_gate.gate_pipeline(region, GateConfig()))
            digests.add(data)
            results[label].append((wall, cpu, result.audit["lps_solved_all_rounds"], None))
    _use(GATE[1])
    same = len(digests) == 1
    for label in results:
        results[label] = [(w, c, n, same) for w, c, n, _ in results[label]]
    return [_row(f"national simulation, {municipalities} municipalities", results)]


def _row(label: str, results: dict[str, list]) -> list[str]:
    """Per setting "wall / CPU", then reference / gate (wall), the LPs per setting, and the same release."""
    med = lambda xs, i: statistics.median(x[i] for x in xs)  # noqa: E731
    runs = [results[name] for name, _ in SETTINGS]
    ref, gate = results[REFERENCE[0]], results[GATE[0]]
    return ([label] + [f"{med(r, 0):.1f} s / {med(r, 1):.1f} s" for r in runs]
            + [f"{med(ref, 0) / med(gate, 0):.2f}x", " / ".join(str(int(med(r, 2))) for r in runs),
               "yes" if all(x[3] for r in runs for x in r) else "NO"])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--dir", type=Path, help="an existing demo directory (jeugdhub demo --dir); default: build one")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--national", type=int, default=0, help="also gate the national simulation with M municipalities")
    ap.add_argument("--no-demo", action="store_true", help="only the national simulation (with --national)")
    ap.add_argument("--dual", action="store_true", help="also HiGHS' default, dual simplex throughout")
    ap.add_argument("--older", action="store_true", help="also the gate of the morning of 2026-12-02")
    args = ap.parse_args()
    if args.dual:
        SETTINGS.insert(1, DUAL)
    if args.older:
        SETTINGS.insert(0, OLDER)
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
    head = (["release"] + [f"{name}: wall / CPU" for name, _ in SETTINGS] + ["before / the gate (wall)",
            "LPs " + " / ".join(name.split(" (")[0] for name, _ in SETTINGS), "same release"])
    print("| " + " | ".join(head) + " |\n|" + "---|" * len(head))
    for row in rows:
        print("| " + " | ".join(row) + " |")
    return 0 if all(r[-1] == "yes" for r in rows) else 1


if __name__ == "__main__":
    raise SystemExit(main())
