"""Load benchmark of the hub as deploy/ runs it (issue 13): gunicorn with ``hub:create_app()`` and the
options of deploy/compose.yaml's web command, on a loopback port, against the seeded demo database
(built by ``jeugdhub demo --no-serve``), under C concurrent clients, side by side with its reference:
the same requests from ONE client in the same run.

``--compare`` runs two server configurations in one run, alternating, ``--repeat`` times each: the sync
workers deploy/ ran before (``--workers 3``, a connection per request) and deploy/compose.yaml's
command as it is now; every figure is the median over the repetitions, and each repetition's p95s are
printed with the machine's load average (1 minute) at its start and end, since another process on the
machine changes them more than anything the hub does. ``--config LABEL='gunicorn options'`` adds a
configuration of one's own (e.g. other thread counts).

Endpoints: a factsheet (``/api/v1/scholen/<code>`` and the page ``/scholen/<code>``) and the overview
(``/api/v1/scholen`` and the page ``/overzicht``), logged in as the demo's regio admin (one login;
every client carries its session cookie). The factsheets are a spread of the region's schools, not one:
``--schools`` codes (default 20) taken evenly from the overview sorted by school type, gemeente and
code, so every type and gemeente is in; client i's request j asks for code (i + j) mod that number, so
at any moment the clients ask for different schools and each client visits several. Before the
measured phases each school is asked for once (the first request after a start or a publication,
which fills the caches; its p50/p95 are printed below the table), and each client asks once, uncounted,
for every address it is about to ask for, so every worker that serves it has its answers (a worker
keeps its own; a threaded worker keeps the client's connection). Bounded: C × N requests per endpoint and a hard time cap
per phase; loopback only; the server is stopped at the end. Target: p95 ≤ 100 ms under 20 clients.

Run: ``python bench/hub/bench_api_load.py [--compare] [--repeat 3] [--clients 20] [--requests 25]``.
"""

from __future__ import annotations

import argparse
import os
import re
import shlex
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _demo_db import ROOT, demo_password, hub_env, run_demo  # noqa: E402

TARGET_P95_MS = 100.0
ADMIN = "regio@demo.jeugdhub.nl"
#: The web command deploy/ ran before issue 13: three sync workers (one request, one connection at a time).
SYNC_BEFORE = ["--workers", "3", "--timeout", "120", "--access-logfile", "-"]


def deploy_options() -> list[str]:
    """deploy/compose.yaml's web command without ``gunicorn``, its ``--bind`` and the application."""
    import yaml

    command = yaml.safe_load((ROOT / "deploy" / "compose.yaml").read_text())["services"]["web"]["command"]
    argv = command if isinstance(command, list) else shlex.split(command)
    assert argv[0] == "gunicorn" and argv[-1] == "hub:create_app()", argv
    options = argv[1:-1]
    i = options.index("--bind")
    return options[:i] + options[i + 2:]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_gunicorn(workdir: Path, port: int, options: list[str], log: Path) -> subprocess.Popen:
    cmd = [sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}", *options, "hub:create_app()"]
    # The charts the workers share start empty every run (hub/cache.py): the first request for a school
    # draws them, as after a new publication.
    env = {**hub_env(workdir), "HUB_CACHE_DIR": str(log.parent / "chart-cache")}
    return subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT)


def server_cpu(proc: subprocess.Popen) -> float:
    """CPU seconds (user + system) the gunicorn master and its workers have used so far."""
    import psutil

    master = psutil.Process(proc.pid)
    total = 0.0
    for p in [master, *master.children(recursive=True)]:
        try:
            t = p.cpu_times()
            total += t.user + t.system
        except psutil.NoSuchProcess:
            pass
    return total


def wait_up(url: str, proc: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {proc.returncode}")
        try:
            if httpx.get(url + "/login", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise TimeoutError("gunicorn did not answer in time")


def login(url: str, password: str) -> httpx.Cookies:
    with httpx.Client(base_url=url, timeout=30) as c:
        token = re.search(r'name="csrf_token" value="([^"]+)"', c.get("/login").text).group(1)
        resp = c.post("/login", data={"email": ADMIN, "wachtwoord": password, "csrf_token": token})
        if resp.status_code != 302:
            raise RuntimeError(f"login failed: {resp.status_code}")
        return c.cookies


def spread(scholen: list[dict], n: int) -> list[str]:
    """``n`` vestigingscodes taken evenly from the schools sorted by type, gemeente and code."""
    ordered = sorted(scholen, key=lambda s: (s["schooltype"] or "", s["gemeentenaam"] or "", s["vestigingscode"]))
    n = max(1, min(n, len(ordered)))
    return [ordered[(k * len(ordered)) // n]["vestigingscode"] for k in range(n)]


def measure(url: str, cookies: httpx.Cookies, path: str | list[str], clients: int, per_client: int, cap: float,
            warm: bool = True) -> dict:
    """``clients`` threads, each ``per_client`` requests one after the other; stops at ``cap`` seconds.

    ``path`` may be a list: client i's request j asks for ``path[(i + j) % len(path)]``. Before the
    clock starts each client asks once, uncounted, for every address it will ask for: the worker that
    serves its connection (kept alive by a threaded worker) has then computed its answers, so what is
    measured is the cached request. ``warm=False`` (the first requests, measured apart by one client):
    only its first address, to open the connection."""
    paths = path if isinstance(path, list) else [path]
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    deadline = time.monotonic() + cap
    barrier = threading.Barrier(clients)

    def client(i: int) -> None:
        with httpx.Client(base_url=url, cookies=cookies, timeout=30) as c:
            for j in range(min(per_client, len(paths)) if warm else 1):  # its connection open, the worker warm
                c.get(paths[(i + j) % len(paths)])
            barrier.wait()
            for j in range(per_client):
                if time.monotonic() > deadline:
                    return
                t0 = time.perf_counter()
                try:
                    resp = c.get(paths[(i + j) % len(paths)])
                    ok = resp.status_code == 200
                except httpx.HTTPError as exc:
                    ok, resp = False, exc
                dt = time.perf_counter() - t0
                with lock:
                    (latencies.append(dt) if ok else errors.append(str(getattr(resp, "status_code", resp))))

    threads = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(clients)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join(cap + 35)
    wall = time.perf_counter() - start
    if not latencies:
        raise RuntimeError(f"{paths[0]}: no successful request ({errors[:3]})")
    q = statistics.quantiles(latencies, n=100, method="inclusive")
    warm_requests = clients * (min(per_client, len(paths)) if warm else 1)
    return {"n": len(latencies), "errors": len(errors), "p50": statistics.median(latencies) * 1000,
            "p95": q[94] * 1000, "p99": q[98] * 1000, "rps": len(latencies) / wall, "warm": warm_requests}


def run_config(options: list[str], workdir: Path, password: str, args, tmp: Path) -> dict:
    """One server with ``options``, started on an empty chart cache: each endpoint's first requests, its
    single-client reference and its C-client load; the load average at the start and the end."""
    load_start = os.getloadavg()[0]
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    run_dir = Path(tempfile.mkdtemp(prefix="run-", dir=tmp))
    proc = start_gunicorn(workdir, port, options, run_dir / "gunicorn.log")
    try:
        wait_up(url, proc)
        cookies = login(url, password)
        with httpx.Client(base_url=url, cookies=cookies, timeout=30) as c:
            scholen = c.get("/api/v1/scholen").json()["scholen"]
        codes = spread(scholen, args.schools)
        paths = [("factsheet (API)", [f"/api/v1/scholen/{c}" for c in codes]),
                 ("factsheet (page)", [f"/scholen/{c}" for c in codes]),
                 ("overview (API)", "/api/v1/scholen"), ("overview (page)", "/overzicht")]
        rows = {}
        for name, path in paths:
            # Each address once, one client: the first request after a publication (or a start)
            # computes and draws what the cache then keeps; reported apart, below the table.
            n_paths = len(path) if isinstance(path, list) else 1
            first = measure(url, cookies, path, 1, n_paths, args.cap, warm=False) if n_paths > 1 else None
            cpu = server_cpu(proc)
            single = measure(url, cookies, path, 1, args.single, args.cap)
            single["cpu_ms"] = (server_cpu(proc) - cpu) * 1000 / (single["n"] + single["warm"])
            cpu = server_cpu(proc)
            load = measure(url, cookies, path, args.clients, args.requests, args.cap)
            load["cpu_ms"] = (server_cpu(proc) - cpu) * 1000 / (load["n"] + load["errors"] + load["warm"])
            shown = path[0].replace(codes[0], "<code>") if isinstance(path, list) else path
            rows[name] = {"path": shown, "first": first, "single": single, "load": load}
    finally:
        proc.terminate()
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    return {"rows": rows, "schools": len(codes), "load_start": load_start, "load_end": os.getloadavg()[0]}


def _median(runs: list[dict], name: str, phase: str, key: str) -> float:
    return statistics.median(r["rows"][name][phase][key] for r in runs)


def report(label: str, options: list[str], runs: list[dict], args) -> list[str]:
    """The table of medians over ``runs`` (one configuration); returns the endpoints that missed."""
    print(f"\n### {label}: gunicorn {' '.join(options)} hub:create_app()")
    print(f"127.0.0.1, demo database (SQLite); {args.clients} clients × {args.requests} requests against 1 client × "
          f"{args.single}; factsheets of {runs[0]['schools']} schools; medians of {len(runs)} repetition(s)")
    print(f"| endpoint | 1 client p50 / p95 / p99 ms | 1 client req/s | {args.clients} clients p50 / p95 / p99 ms "
          f"| {args.clients} clients req/s | errors | p95 ≤ {TARGET_P95_MS:.0f} ms |")
    print("|---|---|---|---|---|---|---|")
    missed = []
    for name, row in runs[0]["rows"].items():
        s = {k: _median(runs, name, "single", k) for k in ("p50", "p95", "p99", "rps")}
        lo = {k: _median(runs, name, "load", k) for k in ("p50", "p95", "p99", "rps")}
        errors = sum(r["rows"][name]["load"]["errors"] for r in runs)
        total = sum(r["rows"][name]["load"]["n"] for r in runs) + errors
        ok = lo["p95"] <= TARGET_P95_MS and errors == 0
        if not ok:
            missed.append(name)
        print(f"| {name} `{row['path']}` | {s['p50']:.1f} / {s['p95']:.1f} / {s['p99']:.1f} | {s['rps']:.0f} "
              f"| {lo['p50']:.1f} / {lo['p95']:.1f} / {lo['p99']:.1f} | {lo['rps']:.0f} | {errors} (of {total}) "
              f"| {'met' if ok else 'MISSED'} |")
    for name, row in runs[0]["rows"].items():
        if row["first"] is not None:
            print(f"{name}: first request for each of {row['first']['n']} schools, 1 client (after its uncounted "
                  f"warm-up request): p50 {_median(runs, name, 'first', 'p50'):.1f} ms, "
                  f"p95 {_median(runs, name, 'first', 'p95'):.1f} ms")
    cpu = ", ".join(f"{name} {_median(runs, name, 'single', 'cpu_ms'):.1f} / {_median(runs, name, 'load', 'cpu_ms'):.1f}"
                    for name in runs[0]["rows"])
    print(f"server CPU per request (master and workers, ms; 1 client / {args.clients} clients, warm-up requests "
          f"included): {cpu}")
    for k, r in enumerate(runs, 1):
        p95s = ", ".join(f"{name} {row['load']['p95']:.0f}" for name, row in r["rows"].items())
        print(f"repetition {k} (load average {r['load_start']:.1f} → {r['load_end']:.1f}): {args.clients}-client p95 ms: {p95s}")
    return missed


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--clients", type=int, default=20)
    ap.add_argument("--requests", type=int, default=25, help="requests per client and endpoint")
    ap.add_argument("--single", type=int, default=50, help="requests of the single-client reference")
    ap.add_argument("--schools", type=int, default=20, help="factsheets of this many schools, spread over the region")
    ap.add_argument("--cap", type=float, default=60.0, help="hard time cap per phase, seconds")
    ap.add_argument("--dir", type=Path, help="demo work directory to reuse (made by jeugdhub demo)")
    ap.add_argument("--compare", action="store_true",
                    help="also the sync workers deploy/ ran before (--workers 3), alternating with deploy/'s command")
    ap.add_argument("--config", action="append", default=[], metavar="LABEL=OPTIONS",
                    help="another gunicorn configuration, e.g. 'gthread 3×4=--workers 3 --threads 4 --worker-class gthread'")
    ap.add_argument("--repeat", type=int, default=1, help="repetitions of each configuration (alternating)")
    args = ap.parse_args()

    configs = [("deploy/compose.yaml", deploy_options())]
    if args.compare:
        configs.insert(0, ("sync ×3 (deploy/ before)", SYNC_BEFORE))
    for spec in args.config:
        label, _, options = spec.partition("=")
        configs.append((label.strip(), shlex.split(options)))

    with tempfile.TemporaryDirectory(prefix="bench-api-") as tmp:
        workdir = args.dir or Path(tmp) / "demo"
        if args.dir and (workdir / "hub.sqlite").exists() and (workdir / "password").exists():
            password = (workdir / "password").read_text().strip()
        else:
            print(f"building the demo database in {workdir} (jeugdhub demo --no-serve) …", flush=True)
            _, out, _ = run_demo(workdir)
            password = demo_password(out)
            (workdir / "password").write_text(password + "\n")
        runs: dict[str, list[dict]] = {label: [] for label, _ in configs}
        for k in range(max(1, args.repeat)):
            # Alternating, and in the opposite order every other repetition: a load that grows or
            # fades during the run weighs on every configuration alike.
            for label, options in (configs if k % 2 == 0 else configs[::-1]):
                print(f"repetition {k + 1}: {label} …", file=sys.stderr, flush=True)
                runs[label].append(run_config(options, workdir, password, args, Path(tmp)))

    missed = {}
    for label, options in configs:
        missed[label] = report(label, options, runs[label], args)
    target = missed["deploy/compose.yaml"]
    if target:
        print(f"target missed (deploy/compose.yaml): {', '.join(target)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
