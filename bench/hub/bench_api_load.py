"""Load benchmark of the hub as deploy/ runs it (issue 13): gunicorn with its workers and
``hub:create_app()`` (deploy/compose.yaml's web command) on a loopback port, against the seeded demo
database (built by ``jeugdhub demo --no-serve``), under C concurrent clients, side by side with its
reference: the same requests from ONE client in the same run.

Endpoints: a factsheet (``/api/v1/scholen/<code>`` and the page ``/scholen/<code>``) and the overview
(``/api/v1/scholen`` and the page ``/overzicht``), logged in as the demo's regio admin (one login;
every client carries its session cookie). The factsheets are a spread of the region's schools, not one:
``--schools`` codes (default 20) taken evenly from the overview sorted by school type, gemeente and
code, so every type and gemeente is in; client i's request j asks for code (i + j) mod that number, so
at any moment the clients ask for different schools and each client visits several. Before the
measured phases each school is asked for once (the first request after a start or a publication,
which fills the caches; its p50/p95 are printed below the table). Bounded: C × N requests per endpoint and a hard time cap
per phase; loopback only; the server is stopped at the end. Target: p95 ≤ 100 ms under 20 clients.

Run: ``python bench/hub/bench_api_load.py [--clients 20] [--requests 25] [--workers 3]``.
"""

from __future__ import annotations

import argparse
import re
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


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_gunicorn(workdir: Path, port: int, workers: int, log: Path) -> subprocess.Popen:
    cmd = [sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}", "--workers", str(workers),
           "--timeout", "120", "--access-logfile", "-", "hub:create_app()"]
    # The charts the workers share start empty every run (hub/cache.py): the first request for a school
    # draws them, as after a new publication.
    env = {**hub_env(workdir), "HUB_CACHE_DIR": str(log.parent / "chart-cache")}
    return subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT)


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


def measure(url: str, cookies: httpx.Cookies, path: str | list[str], clients: int, per_client: int, cap: float) -> dict:
    """``clients`` threads, each ``per_client`` requests one after the other; stops at ``cap`` seconds.

    ``path`` may be a list: client i's request j asks for ``path[(i + j) % len(path)]`` (its uncounted
    first request for ``path[i % len(path)]``)."""
    paths = path if isinstance(path, list) else [path]
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    deadline = time.monotonic() + cap
    barrier = threading.Barrier(clients)

    def client(i: int) -> None:
        with httpx.Client(base_url=url, cookies=cookies, timeout=30) as c:
            c.get(paths[i % len(paths)])  # its connection open and the worker warm; not counted
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
    return {"n": len(latencies), "errors": len(errors), "p50": statistics.median(latencies) * 1000,
            "p95": q[94] * 1000, "p99": q[98] * 1000, "rps": len(latencies) / wall}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--clients", type=int, default=20)
    ap.add_argument("--requests", type=int, default=25, help="requests per client and endpoint")
    ap.add_argument("--single", type=int, default=50, help="requests of the single-client reference")
    ap.add_argument("--workers", type=int, default=3, help="gunicorn workers (deploy/compose.yaml: 3)")
    ap.add_argument("--schools", type=int, default=20, help="factsheets of this many schools, spread over the region")
    ap.add_argument("--cap", type=float, default=60.0, help="hard time cap per phase, seconds")
    ap.add_argument("--dir", type=Path, help="demo work directory to reuse (made by jeugdhub demo)")
    args = ap.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench-api-") as tmp:
        workdir = args.dir or Path(tmp) / "demo"
        if args.dir and (workdir / "hub.sqlite").exists() and (workdir / "password").exists():
            password = (workdir / "password").read_text().strip()
        else:
            print(f"building the demo database in {workdir} (jeugdhub demo --no-serve) …", flush=True)
            _, out, _ = run_demo(workdir)
            password = demo_password(out)
            (workdir / "password").write_text(password + "\n")
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        proc = start_gunicorn(workdir, port, args.workers, Path(tmp) / "gunicorn.log")
        try:
            wait_up(url, proc)
            cookies = login(url, password)
            with httpx.Client(base_url=url, cookies=cookies, timeout=30) as c:
                scholen = c.get("/api/v1/scholen").json()["scholen"]
            codes = spread(scholen, args.schools)
            paths = [("factsheet (API)", [f"/api/v1/scholen/{c}" for c in codes]),
                     ("factsheet (page)", [f"/scholen/{c}" for c in codes]),
                     ("overview (API)", "/api/v1/scholen"), ("overview (page)", "/overzicht")]
            rows = []
            first = {}
            for name, path in paths:
                # Each address once, one client: the first request after a publication (or a start)
                # computes and draws what the cache then keeps; reported apart, below the table.
                n_paths = len(path) if isinstance(path, list) else 1
                first[name] = measure(url, cookies, path, 1, n_paths, args.cap) if n_paths > 1 else None
                single = measure(url, cookies, path, 1, args.single, args.cap)
                load = measure(url, cookies, path, args.clients, args.requests, args.cap)
                rows.append((name, path, single, load))
        finally:
            proc.terminate()
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()

    print(f"\ngunicorn --workers {args.workers} hub:create_app() on 127.0.0.1, demo database (SQLite); "
          f"{args.clients} clients × {args.requests} requests against 1 client × {args.single}; "
          f"factsheets of {len(codes)} schools")
    print(f"| endpoint | 1 client p50 / p95 / p99 ms | 1 client req/s | {args.clients} clients p50 / p95 / p99 ms "
          f"| {args.clients} clients req/s | errors | p95 ≤ {TARGET_P95_MS:.0f} ms |")
    print("|---|---|---|---|---|---|---|")
    missed = []
    for name, path, s, l in rows:
        ok = l["p95"] <= TARGET_P95_MS and l["errors"] == 0
        if not ok:
            missed.append(name)
        shown = path[0].replace(codes[0], "<code>") if isinstance(path, list) else path
        print(f"| {name} `{shown}` | {s['p50']:.1f} / {s['p95']:.1f} / {s['p99']:.1f} "
              f"| {s['rps']:.0f} | {l['p50']:.1f} / {l['p95']:.1f} / {l['p99']:.1f} | {l['rps']:.0f} "
              f"| {l['errors']} (of {l['n'] + l['errors']}) | {'met' if ok else 'MISSED'} |")
    for name, f in first.items():
        if f is not None:
            print(f"{name}: first request for each of {f['n']} schools, 1 client (after its uncounted warm-up "
                  f"request): p50 {f['p50']:.1f} ms, p95 {f['p95']:.1f} ms")
    if missed:
        print(f"target missed: {', '.join(missed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
