"""Agent benchmark: ``node-agent run`` against a DuckDB reference on one large municipality, plus pseudonymisation speed.

Run: ``python bench/agent/run_bench.py [--repeat 3] [--out bench/out] [--enrolments 1000000]``. Generates the
large municipality once (cached in ``bench/out/large``; by default 1,000,000 enrolment rows, 300,000 allocations and
3,000,000 claim lines), then measures side by side, alternating, several repetitions each:

(a) ``node-agent run --offline`` as a subprocess: wall time, CPU time and peak resident memory (psutil polling,
    process tree);
(b) ``bench/agent/reference_duckdb.py`` as a subprocess: the same cells in DuckDB SQL (no validation, no pseudonyms);
(c) ``Pseudonymiser.pseudonyms`` (what the readers call, once per distinct BSN) against a bare
    ``hmac.new(key, msg, sha256).digest()`` loop, same BSNs.

Before timing it byte-compiles ``node_agent/`` and ``shared/`` as ``pip install`` would (``--no-bytecode``: not).
It checks that the agent's cells equal the reference's exactly (the large files have no faults) and prints medians,
ratios and the targets: agent peak ≤ 1.5 GB RSS, agent wall ≤ 1.5 × DuckDB, pseudonymisation ≥ 80 % of the bare
loop. Results are also written to ``OUT/agent-bench.json``.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import hmac
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

import psutil

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
sys.path.insert(0, str(REPO))

from node_agent.synthetic.large import generate_large_municipality  # noqa: E402
from shared.pseudonym import DOMAIN_PREFIX, Pseudonymiser, new_key  # noqa: E402
from shared.scripts import console_script  # noqa: E402

TARGET_RSS = 1.5 * 1024**3
TARGET_WALL_RATIO = 1.5
TARGET_PSEUDO_RATIO = 0.80


def measure(cmd: list[str], env: dict[str, str] | None = None, interval: float = 0.02) -> dict:
    """Run a command: wall seconds, CPU seconds (user + system) and peak RSS of the whole process tree.

    RSS is sampled every ``interval`` s; CPU time comes from the kernel's accounting of reaped children, so it is
    exact and, unlike wall time, hardly affected by other load on the machine.
    """
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    ps = psutil.Process(proc.pid)
    peak = 0
    while proc.poll() is None:
        try:
            rss = ps.memory_info().rss + sum(c.memory_info().rss for c in ps.children(recursive=True))
            peak = max(peak, rss)
        except psutil.Error:
            pass
        time.sleep(interval)
    out, err = proc.communicate()
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({proc.returncode}):\n{err.decode(errors='replace')[-3000:]}")
    return {"wall": wall, "cpu": cpu, "peak_rss": peak, "stdout": out.decode(errors="replace")}


def ensure_data(out: Path, enrolments: int, allocations: int, claim_lines: int, seed: int) -> tuple[Path, dict]:
    data = out / "large"
    info_path = data / "large.json"
    wanted = {"enrolments": enrolments, "allocations": allocations, "claim_lines": claim_lines, "seed": seed}
    if info_path.exists():
        info = json.loads(info_path.read_text(encoding="utf-8"))
        if all(info.get(k) == v for k, v in wanted.items()):
            return data, info
        shutil.rmtree(data)
    t0 = time.perf_counter()
    info = generate_large_municipality(data, enrolments=enrolments, allocations=allocations,
                                       claim_lines=claim_lines, seed=seed)
    print(f"generated {data} in {time.perf_counter() - t0:.1f} s")
    return data, info


def ensure_keys(data: Path) -> None:
    from node_agent.keys import create_pseudonym_key, create_signing_key

    keys = data / "keys"
    keys.mkdir(exist_ok=True)
    if not (keys / "signing.pem").exists():
        create_signing_key(keys / "signing.pem")
    if not (keys / "pseudonym.key").exists():
        create_pseudonym_key(keys / "pseudonym.key")


def agent_cells(data: Path, spool_file: Path):
    from node_agent.keys import load_signing_key
    from shared.signing import SignedEnvelope

    key = load_signing_key(data / "keys" / "signing.pem")
    partial = SignedEnvelope.from_bytes(spool_file.read_bytes()).verify(key.public_key())
    counts = {c.key: c.value for c in partial.cells}
    costs = {c.key: (c.value, c.contributors, c.top1, c.top2, c.negatives, c.abs_sum) for c in partial.cost_cells}
    return counts, costs, partial


def compare(name: str, agent: dict, ref: dict) -> list[str]:
    problems = []
    only_a, only_r = set(agent) - set(ref), set(ref) - set(agent)
    differ = sorted(k for k in set(agent) & set(ref) if agent[k] != ref[k])
    if only_a:
        problems.append(f"{name}: {len(only_a)} cells only in the agent, e.g. {sorted(only_a)[:3]}")
    if only_r:
        problems.append(f"{name}: {len(only_r)} cells only in the reference, e.g. {sorted(only_r)[:3]}")
    if differ:
        problems.append(f"{name}: {len(differ)} cells differ, e.g. "
                        + "; ".join(f"{k}: agent {agent[k]} ref {ref[k]}" for k in differ[:3]))
    return problems


def distinct_bsns(data: Path) -> list[str]:
    with (data / "leerlingen.csv").open(encoding="utf-8", newline="") as fh:
        return list(dict.fromkeys(row["bsn"] for row in csv.DictReader(fh)))


def bench_pseudonyms(bsns: list[str], repeat: int) -> dict:
    key = new_key()
    pseudonymiser = Pseudonymiser(key)
    bare_times, many_times = [], []
    for _ in range(repeat):
        t0 = time.perf_counter()
        for b in bsns:
            hmac.new(key, DOMAIN_PREFIX + b.encode("ascii"), hashlib.sha256).digest()
        bare_times.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        out = pseudonymiser.pseudonyms(bsns)
        many_times.append(time.perf_counter() - t0)
        assert len(out) == len(bsns)
    bare, many = statistics.median(bare_times), statistics.median(many_times)
    return {"bsns": len(bsns), "bare_s": bare, "many_s": many, "bare_per_s": len(bsns) / bare,
            "many_per_s": len(bsns) / many, "ratio": bare / many, "bare_runs": bare_times, "many_runs": many_times}


def compile_agent() -> None:
    """Byte-compile the agent's own modules, as ``pip install`` does for an installed agent: where
    PYTHONDONTWRITEBYTECODE is set (this machine, the deploy image) an editable checkout would otherwise
    compile them again on every run, which an installed agent never does."""
    import compileall

    for package in ("node_agent", "shared"):
        compileall.compile_dir(str(REPO / package), quiet=1)


def main() -> None:
    parser = argparse.ArgumentParser(description="node-agent benchmark against a DuckDB reference")
    parser.add_argument("--out", type=Path, default=REPO / "bench" / "out")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--enrolments", type=int, default=1_000_000)
    parser.add_argument("--allocations", type=int, default=300_000)
    parser.add_argument("--claim-lines", type=int, default=3_000_000)
    parser.add_argument("--seed", type=int, default=20241001)
    parser.add_argument("--duckdb-threads", type=int, default=None,
                        help="DuckDB threads (default: DuckDB's own, all CPUs); 1 compares single-threaded work")
    parser.add_argument("--school-year", dest="schooljaren", action="append",
                        help="default: every school year in the generated data")
    parser.add_argument("--no-bytecode", action="store_true",
                        help="do not byte-compile node_agent/ and shared/ first (see compile_agent)")
    args = parser.parse_args()

    data, info = ensure_data(args.out, args.enrolments, args.allocations, args.claim_lines, args.seed)
    ensure_keys(data)
    if not args.no_bytecode:
        compile_agent()
    jaren = args.schooljaren or info["schooljaren"]
    year_args = [a for j in jaren for a in ("--school-year", j)]
    node_agent = console_script("node-agent")
    agent_cmd = ([node_agent] if node_agent else [sys.executable, "-m", "node_agent"]) + \
        ["--config", str(data / "node-agent.toml"), "run", "--offline", *year_args]
    ref_cmd = [sys.executable, str(HERE / "reference_duckdb.py"), str(data), *year_args]
    if args.duckdb_threads:
        ref_cmd += ["--threads", str(args.duckdb_threads)]
    env = {**os.environ, "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    spool = data / "spool"

    print(f"data: {info['enrolments']:,} enrolment rows, {info['allocations']:,} allocations, "
          f"{info['claim_lines']:,} claim lines; school years {', '.join(jaren)}; {args.repeat} repetitions; "
          f"{psutil.cpu_count()} CPUs; DuckDB threads {args.duckdb_threads or 'default'}")
    runs = {"agent": [], "duckdb": []}
    last_spool = None
    for i in range(args.repeat):
        if spool.exists():
            shutil.rmtree(spool)
        a = measure(agent_cmd, env)
        spooled = sorted(spool.glob("*"))
        last_spool = spooled[-1] if spooled else None
        r = measure(ref_cmd, env)
        runs["agent"].append(a)
        runs["duckdb"].append(r)
        print(f"  run {i + 1}: agent {a['wall']:.2f} s wall, {a['cpu']:.2f} s CPU, {a['peak_rss'] / 2**20:.0f} MiB; "
              f"duckdb {r['wall']:.2f} s wall, {r['cpu']:.2f} s CPU, {r['peak_rss'] / 2**20:.0f} MiB")

    # correctness: the agent's signed partial against the reference, computed once more in-process
    sys.path.insert(0, str(HERE))
    from reference_duckdb import compute

    ref_counts, ref_costs = compute(data, jaren)
    if last_spool is None:
        raise SystemExit("node-agent run wrote no file into the spool directory")
    a_counts, a_costs, partial = agent_cells(data, last_spool)
    problems = compare("count cells", a_counts, ref_counts) + compare("cost cells", a_costs, ref_costs)
    rejected = {f.kind: f.rows_rejected + f.rows_excluded for f in partial.quality.files}
    if any(rejected.values()):
        problems.append(f"the agent rejected or excluded rows of a clean file: {rejected}")

    pseudo = bench_pseudonyms(distinct_bsns(data), max(args.repeat, 3))

    agent_wall = statistics.median(r["wall"] for r in runs["agent"])
    duck_wall = statistics.median(r["wall"] for r in runs["duckdb"])
    agent_cpu = statistics.median(r["cpu"] for r in runs["agent"])
    duck_cpu = statistics.median(r["cpu"] for r in runs["duckdb"])
    agent_rss = statistics.median(r["peak_rss"] for r in runs["agent"])
    duck_rss = statistics.median(r["peak_rss"] for r in runs["duckdb"])
    wall_ratio = agent_wall / duck_wall
    checks = {
        "agent_peak_rss": agent_rss <= TARGET_RSS,
        "wall_ratio": wall_ratio <= TARGET_WALL_RATIO,
        "pseudonymisation": pseudo["ratio"] >= TARGET_PSEUDO_RATIO,
        "cells_equal": not problems,
    }
    print()
    print(f"{'(medians)':24}{'wall':>12}{'CPU':>12}{'peak RSS':>14}")
    print(f"{'node-agent run':24}{agent_wall:>10.2f} s{agent_cpu:>10.2f} s{agent_rss / 2**20:>10.0f} MiB")
    print(f"{'DuckDB reference':24}{duck_wall:>10.2f} s{duck_cpu:>10.2f} s{duck_rss / 2**20:>10.0f} MiB")
    print(f"wall ratio agent / DuckDB: {wall_ratio:.2f} (target ≤ {TARGET_WALL_RATIO})  "
          f"{'OK' if checks['wall_ratio'] else 'MISSED'};  CPU ratio {agent_cpu / duck_cpu:.2f} "
          f"(load average {os.getloadavg()[0]:.1f} on {psutil.cpu_count()} CPUs)")
    print(f"agent peak RSS: {agent_rss / 2**30:.2f} GiB (target ≤ 1.5 GiB)  "
          f"{'OK' if checks['agent_peak_rss'] else 'MISSED'}")
    print(f"pseudonymisation: Pseudonymiser.pseudonyms {pseudo['many_per_s']:,.0f}/s, bare HMAC loop "
          f"{pseudo['bare_per_s']:,.0f}/s over {pseudo['bsns']:,} BSNs; ratio {pseudo['ratio']:.2f} "
          f"(target ≥ {TARGET_PSEUDO_RATIO})  {'OK' if checks['pseudonymisation'] else 'MISSED'}")
    print(f"cells: {len(a_counts):,} count cells, {len(a_costs):,} cost cells; "
          + ("identical to the DuckDB reference  OK" if not problems else "DIFFERENT:"))
    for p in problems:
        print("  " + p)
    result = {
        "data": info, "schooljaren": jaren, "repeat": args.repeat, "cpus": psutil.cpu_count(),
        "duckdb_threads": args.duckdb_threads,
        "load_average": os.getloadavg(),
        "agent": {"median_wall_s": agent_wall, "median_cpu_s": agent_cpu, "median_peak_rss": agent_rss,
                  "runs": [{k: v for k, v in r.items() if k != "stdout"} for r in runs["agent"]]},
        "duckdb": {"median_wall_s": duck_wall, "median_cpu_s": duck_cpu, "median_peak_rss": duck_rss,
                   "runs": [{k: v for k, v in r.items() if k != "stdout"} for r in runs["duckdb"]]},
        "wall_ratio": wall_ratio, "pseudonymisation": pseudo, "cells": {"count": len(a_counts), "cost": len(a_costs)},
        "problems": problems, "checks": checks,
    }
    (args.out / "agent-bench.json").write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    sys.exit(0 if all(checks.values()) else 1)


if __name__ == "__main__":
    main()
