"""Shared test fixtures: real Redis, PostgreSQL, Celery worker, a live hub server and Chromium.

The services are Debian's own binaries, started by the tests themselves on loopback ports; a
missing binary is a test FAILURE with an install hint, never a skip. Under ``CI=true`` every skip
is turned into a failure too (see :func:`pytest_runtest_makereport`), so a green CI run means
every test really ran.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest

pytest_plugins = ["pytester"]  # tests/test_fixtures.py runs inner pytest sessions

REPO_ROOT = Path(__file__).resolve().parents[1]
INSTALL_HINT = "install it with `make test` (it runs apt-get for the missing Debian packages)"
PG_BIN = Path(os.environ.get("JEUGDHUB_PG_BIN", "/usr/lib/postgresql/15/bin"))
CHROMIUM = Path(os.environ.get("JEUGDHUB_CHROMIUM", "/usr/bin/chromium"))

#: Fixtures that start a real service; tests using them get the ``services`` / ``browser`` mark.
SERVICE_FIXTURES = {"redis_server", "redis_url", "postgres_server", "postgres_db", "celery_worker_factory"}
BROWSER_FIXTURES = {"chromium_path", "chromium_args"}


# --------------------------------------------------------------------------------------------
# CI: a skip is a failure
# --------------------------------------------------------------------------------------------


def _ci() -> bool:
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def _skip_reason(longrepr: Any) -> str:
    reason = str(longrepr[2]) if isinstance(longrepr, tuple) and len(longrepr) == 3 else str(longrepr)
    return reason.removeprefix("Skipped: ")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Iterator[None]:
    """With ``CI=true`` a skipped test fails: CI must prove that every test ran.

    Expected failures (``xfail``) keep their own outcome; only real skips are converted.
    """
    outcome = yield
    report = outcome.get_result()
    if _ci() and report.skipped and not hasattr(report, "wasxfail"):
        report.outcome = "failed"
        report.longrepr = f"skipped under CI=true, which counts as a failure: {_skip_reason(report.longrepr)}"


@pytest.hookimpl(hookwrapper=True)
def pytest_make_collect_report(collector: pytest.Collector) -> Iterator[None]:
    """With ``CI=true`` a module-level skip (``pytest.importorskip``, ``allow_module_level``) fails too."""
    outcome = yield
    report = outcome.get_result()
    if _ci() and report.skipped:
        report.outcome = "failed"
        report.longrepr = f"module skipped under CI=true, which counts as a failure: {_skip_reason(report.longrepr)}"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark tests by the services they use, so ``-m "not services and not browser"`` gives a fast loop."""
    for item in items:
        names = set(getattr(item, "fixturenames", ()))
        if names & SERVICE_FIXTURES:
            item.add_marker(pytest.mark.services)
        if names & BROWSER_FIXTURES:
            item.add_marker(pytest.mark.browser)


# --------------------------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------------------------


def free_port() -> int:
    """A loopback TCP port nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def require_binary(path: str | Path, package: str) -> str:
    """The absolute path of a binary, or a test failure naming the Debian package to install."""
    found = shutil.which(str(path)) if not os.path.isabs(str(path)) else (str(path) if os.path.exists(path) else None)
    if not found:
        pytest.fail(f"{path} not found: the Debian package `{package}` is missing; {INSTALL_HINT}", pytrace=False)
    return found


def wait_until(check: Callable[[], bool], timeout: float, what: str, log: Path | None = None,
               proc: subprocess.Popen | None = None) -> None:
    """Poll ``check`` until it is true; fail with the log's tail when time runs out or ``proc`` died."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        if proc is not None and proc.poll() is not None:
            pytest.fail(f"{what}: process exited with {proc.returncode}\n{_tail(log)}", pytrace=False)
        time.sleep(0.05)
    pytest.fail(f"{what}: not ready after {timeout:.0f} s\n{_tail(log)}", pytrace=False)


def _tail(log: Path | None, lines: int = 40) -> str:
    if log is None or not log.exists():
        return ""
    return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])


def _set_pdeathsig() -> None:
    import ctypes

    PR_SET_PDEATHSIG = 1
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def _die_with_parent() -> Callable[[], None] | None:
    """A preexec_fn giving the child SIGTERM when pytest dies, so a killed run leaves no servers.

    The signal fires when the *thread* that started the child ends, so it is only used from the
    main thread (a test may restart Redis from a helper thread that ends right after).
    """
    return _set_pdeathsig if threading.current_thread() is threading.main_thread() else None


def _stop_process(proc: subprocess.Popen | None, sig: int = signal.SIGTERM, timeout: float = 15) -> None:
    if proc is None or proc.poll() is not None:
        return
    proc.send_signal(sig)
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(5)


# --------------------------------------------------------------------------------------------
# Redis
# --------------------------------------------------------------------------------------------


@dataclass
class RedisServer:
    """A real ``redis-server`` on loopback; tests ``stop()`` and ``start()`` it to simulate an outage."""

    binary: str
    port: int
    directory: Path
    proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    @property
    def log_path(self) -> Path:
        return self.directory / "redis.log"

    def command(self, *words: str) -> str:
        """Send one inline command and return the first reply line (``+PONG``, ``:3`` …)."""
        with socket.create_connection(("127.0.0.1", self.port), timeout=2) as s:
            s.sendall((" ".join(words) + "\r\n").encode())
            reply = b""
            while not reply.endswith(b"\r\n"):
                chunk = s.recv(4096)
                if not chunk:
                    break
                reply += chunk
        return reply.decode().strip()

    def ping(self) -> bool:
        try:
            return self.command("PING") == "+PONG"
        except OSError:
            return False

    def start(self) -> None:
        if self.running:
            return
        log = self.log_path.open("ab")
        self.proc = subprocess.Popen(
            [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", str(self.directory), "--daemonize", "no", "--protected-mode", "yes"],
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, preexec_fn=_die_with_parent(),
        )
        log.close()
        wait_until(self.ping, 20, f"redis-server on port {self.port}", self.log_path, self.proc)

    def stop(self) -> None:
        """Stop the server (an outage); data is gone, as after a real restart without persistence."""
        _stop_process(self.proc)
        self.proc = None

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def flush(self) -> None:
        assert self.command("FLUSHALL") == "+OK"


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    """One real Redis for the whole session (``.url``, ``.stop()``, ``.start()``, ``.flush()``)."""
    server = RedisServer(require_binary("redis-server", "redis-server"), free_port(), tmp_path_factory.mktemp("redis"))
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def redis_url(redis_server: RedisServer) -> str:
    """The session's Redis, running and empty for this test (restarted if an earlier test stopped it)."""
    redis_server.start()
    redis_server.flush()
    return redis_server.url


# --------------------------------------------------------------------------------------------
# PostgreSQL
# --------------------------------------------------------------------------------------------


@dataclass
class PostgresServer:
    """A throw-away PostgreSQL 15 cluster on loopback with trust authentication (tests only)."""

    port: int
    root: Path
    proc: subprocess.Popen | None = None
    user: str = "postgres"

    @property
    def url(self) -> str:
        """URL of the maintenance database ``postgres``; tests use :func:`postgres_db` for their own."""
        return self.url_for("postgres")

    def url_for(self, database: str) -> str:
        return f"postgresql+psycopg2://{self.user}@127.0.0.1:{self.port}/{database}"

    @property
    def log_path(self) -> Path:
        return self.root / "postgres.log"

    def connect(self, database: str = "postgres"):
        import psycopg2

        conn = psycopg2.connect(host="127.0.0.1", port=self.port, user=self.user, dbname=database, connect_timeout=3)
        conn.autocommit = True
        return conn

    def ready(self) -> bool:
        try:
            self.connect().close()
            return True
        except Exception:  # noqa: BLE001 - any connection error means "not yet"
            return False

    def create_database(self) -> str:
        name = "test_" + uuid.uuid4().hex[:12]
        with contextlib.closing(self.connect()) as conn, conn.cursor() as cur:
            cur.execute(f'CREATE DATABASE "{name}"')
        return name

    def drop_database(self, name: str) -> None:
        with contextlib.closing(self.connect()) as conn, conn.cursor() as cur:
            cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _as_postgres_user() -> tuple[list[str], Callable[[Path], None]]:
    """PostgreSQL refuses to run as root: as root, run it as the ``postgres`` system user."""
    if os.geteuid() != 0:
        return [], lambda path: None  # not root: run as ourselves (_die_with_parent covers it)
    try:
        pw = pwd.getpwnam("postgres")
    except KeyError:
        pytest.fail(f"running as root but there is no `postgres` user: the `postgresql` package is missing; "
                    f"{INSTALL_HINT}", pytrace=False)
    setpriv = require_binary("setpriv", "util-linux")
    # setpriv execs in place (no forked parent), so signals reach the postmaster itself.
    # Changing credentials clears a parent-death signal set earlier, so setpriv sets it afterwards.
    prefix = [setpriv, f"--reuid={pw.pw_uid}", f"--regid={pw.pw_gid}", "--init-groups", "--pdeathsig=TERM", "--"]

    def chown(path: Path) -> None:
        os.chown(path, pw.pw_uid, pw.pw_gid)

    return prefix, chown


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """One real PostgreSQL 15 cluster for the session, listening on 127.0.0.1 only."""
    initdb = require_binary(PG_BIN / "initdb", "postgresql")
    postgres = require_binary(PG_BIN / "postgres", "postgresql")
    prefix, chown = _as_postgres_user()
    # Not under pytest's tmp dir: that is private to root (0700) and the postgres user must reach it.
    root = Path(tempfile.mkdtemp(prefix="jeugdhub-pg-"))
    chown(root)
    server = PostgresServer(port=free_port(), root=root)
    data = root / "data"
    env = {**os.environ, "LC_ALL": "C.UTF-8", "LANG": "C.UTF-8"}
    init = subprocess.run(
        [*prefix, initdb, "-D", str(data), "-U", server.user, "--auth=trust", "--encoding=UTF8",
         "--locale=C.UTF-8", "--no-sync"],
        cwd=root, env=env, capture_output=True, text=True,
    )
    if init.returncode != 0:
        shutil.rmtree(root, ignore_errors=True)
        pytest.fail(f"initdb failed ({init.returncode}):\n{init.stdout}\n{init.stderr}", pytrace=False)
    log = server.log_path.open("ab")
    chown(server.log_path)
    # fsync and friends off: a test cluster is thrown away, durability costs only time here.
    server.proc = subprocess.Popen(
        [*prefix, postgres, "-D", str(data), "-p", str(server.port), "-k", str(root),
         "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off", "-c", "synchronous_commit=off",
         "-c", "full_page_writes=off", "-c", "max_connections=200", "-c", "log_min_messages=warning"],
        cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
        preexec_fn=None if prefix else _die_with_parent(),
    )
    log.close()
    try:
        wait_until(server.ready, 60, f"PostgreSQL on port {server.port}", server.log_path, server.proc)
        yield server
    finally:
        _stop_process(server.proc, signal.SIGINT)  # SIGINT = fast shutdown
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def postgres_db(postgres_server: PostgresServer) -> Iterator[str]:
    """A fresh, empty database for this test (SQLAlchemy URL); dropped afterwards."""
    name = postgres_server.create_database()
    try:
        yield postgres_server.url_for(name)
    finally:
        postgres_server.drop_database(name)


# --------------------------------------------------------------------------------------------
# Celery worker
# --------------------------------------------------------------------------------------------


@dataclass
class CeleryWorker:
    """A real ``celery -A hub.worker worker`` process (solo pool: the task runs in this very pid)."""

    proc: subprocess.Popen
    log_path: Path
    name: str
    env: dict[str, str] = field(repr=False, default_factory=dict)

    @property
    def pid(self) -> int:
        return self.proc.pid

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def wait_for_log(self, pattern: str, timeout: float = 60) -> re.Match:
        """Wait until the worker's log matches ``pattern`` (a regex); fail with the log otherwise."""
        found: list[re.Match] = []

        def check() -> bool:
            m = re.search(pattern, self.log_text())
            if m:
                found.append(m)
            return bool(m)

        wait_until(check, timeout, f"celery worker log /{pattern}/", self.log_path, self.proc)
        return found[0]

    def kill(self, sig: int = signal.SIGKILL) -> None:
        """Send ``sig`` (default SIGKILL: the worker dies mid-task, nothing is acknowledged)."""
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            if sig in (signal.SIGKILL, signal.SIGTERM, signal.SIGQUIT):
                self.proc.wait(30)

    def terminate(self) -> None:
        _stop_process(self.proc, signal.SIGTERM, timeout=20)

    @property
    def alive(self) -> bool:
        return self.proc.poll() is None


@pytest.fixture
def celery_worker_factory(tmp_path: Path) -> Iterator[Callable[..., CeleryWorker]]:
    """Start real Celery workers: ``celery_worker_factory(database_url, broker_url, **env) -> CeleryWorker``.

    Each worker imports ``hub.worker`` (the production entry point) with the given ``HUB_*``
    environment, consumes ``queues`` (default ``celery``, the combine worker's; ``archives`` is the
    archive worker's) with one solo process, and is stopped after the test.
    """
    workers: list[CeleryWorker] = []

    def start(database_url: str, broker_url: str, *, result_backend: str | None = None,
              ready_timeout: float = 90, queues: str = "celery", **extra_env: str) -> CeleryWorker:
        name = f"test-{uuid.uuid4().hex[:8]}@localhost"
        log_path = tmp_path / f"celery-{len(workers)}.log"
        env = {k: v for k, v in os.environ.items() if not k.startswith("HUB_")}
        env.update({
            "HUB_SQLALCHEMY_DATABASE_URI": database_url,
            "HUB_CELERY_BROKER_URL": broker_url,
            # The tests' own key: a worker without one would make and keep one in the instance folder.
            "HUB_SECRET_KEY": "test-secret-key-not-for-production-0123456789",
            "PYTHONUNBUFFERED": "1",
        })
        if result_backend:
            env["HUB_CELERY_RESULT_BACKEND"] = result_backend
        env.update({k if k.startswith("HUB_") else f"HUB_{k}": str(v) for k, v in extra_env.items()})
        log = log_path.open("ab")
        proc = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "hub.worker", "worker", "--pool=solo", "--concurrency=1",
             "-Q", queues, "-n", name, "--loglevel=INFO", "--without-gossip", "--without-mingle",
             "--without-heartbeat"],
            cwd=REPO_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            preexec_fn=_die_with_parent(),
        )
        log.close()
        worker = CeleryWorker(proc=proc, log_path=log_path, name=name, env=env)
        workers.append(worker)
        # Celery logs "<name> ready." once it consumes from the broker.
        worker.wait_for_log(re.escape(name) + r" ready\.", timeout=ready_timeout)
        return worker

    yield start
    for worker in workers:
        worker.terminate()


# --------------------------------------------------------------------------------------------
# Live server and browser
# --------------------------------------------------------------------------------------------


@dataclass
class LiveServer:
    """A hub app served by werkzeug on a loopback port, in a thread of the test process."""

    url: str
    port: int
    server: Any = field(repr=False)
    thread: threading.Thread = field(repr=False)

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(10)


@contextlib.contextmanager
def serve_app(app: Any) -> Iterator[LiveServer]:
    """Serve ``app`` (a Flask app) on ``http://127.0.0.1:<free port>`` until the block ends."""
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, app, threaded=True)
    port = server.socket.getsockname()[1]
    thread = threading.Thread(target=server.serve_forever, name=f"live-server-{port}", daemon=True)
    thread.start()
    live = LiveServer(url=f"http://127.0.0.1:{port}", port=port, server=server, thread=thread)
    try:
        yield live
    finally:
        live.stop()


@pytest.fixture
def live_server_factory() -> Iterator[Callable[[Any], LiveServer]]:
    """``live_server_factory(app) -> LiveServer``; every server is shut down after the test."""
    stack = contextlib.ExitStack()
    with stack:
        yield lambda app: stack.enter_context(serve_app(app))


@pytest.fixture
def live_server(request: pytest.FixtureRequest, live_server_factory) -> LiveServer:
    """Serve the ``app`` fixture of the requesting test module (define one there)."""
    try:
        app = request.getfixturevalue("app")
    except pytest.FixtureLookupError:
        pytest.fail("live_server needs an `app` fixture (a hub Flask app) in the test's conftest/module",
                    pytrace=False)
    return live_server_factory(app)


@pytest.fixture(scope="session")
def chromium_path() -> str:
    """Debian's Chromium (``/usr/bin/chromium``); a failure, not a skip, when it is missing."""
    path = require_binary(CHROMIUM, "chromium")
    require_binary("chromedriver", "chromium-driver")
    return path


@pytest.fixture(scope="session")
def chromium_args() -> list[str]:
    """Launch flags for headless Chromium on a machine with a closed network (and as root)."""
    args = ["--headless", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"]
    if os.geteuid() == 0:
        args.append("--no-sandbox")  # Chromium's sandbox refuses to run as root
    return args
