"""The compose stack without Docker: the same commands, in production mode, on real PostgreSQL and Redis.

migrate (``jeugdhub db upgrade``) → web (gunicorn with compose's arguments) → worker and beat
(Celery on Redis), configured from ``deploy/hub.env.example`` with only the secret filled in and
the service addresses pointed at the test servers.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest
import yaml

from tests.conftest import REPO_ROOT, _stop_process, free_port, wait_until

DEPLOY = REPO_ROOT / "deploy"


def _sample_env() -> dict[str, str]:
    values = {}
    for line in (DEPLOY / "hub.env.example").read_text().splitlines():
        m = re.match(r"^(HUB_[A-Z0-9_]+)=(.*)$", line)
        if m:
            values[m[1]] = m[2]
    return values


def _command(name: str) -> list[str]:
    return yaml.safe_load((DEPLOY / "compose.yaml").read_text())["services"][name]["command"]


def _script(name: str) -> str:
    path = Path(sys.executable).with_name(name)
    return str(path) if path.exists() else name


@pytest.fixture
def production_env(postgres_db, redis_url) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HUB_")}
    env.update(_sample_env())
    assert env["HUB_ENV"] == "production"
    env["HUB_SECRET_KEY"] = "k" * 48
    env["HUB_SQLALCHEMY_DATABASE_URI"] = postgres_db
    env["HUB_CELERY_BROKER_URL"] = redis_url
    env["HUB_CELERY_SWEEP_SECONDS"] = "1"  # the beat sweep, every second, so the test sees it run
    return env


def test_production_stack_migrates_serves_and_runs_tasks(production_env, celery_worker_factory, tmp_path):
    # 1. migrate, exactly as the compose service.
    migrate = _command("migrate")
    result = subprocess.run([_script(migrate[0]), *migrate[1:]], env=production_env, cwd=tmp_path,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr

    # 2. web: compose's gunicorn command, bound to a loopback port, one worker.
    web = _command("web")
    port = free_port()
    args = list(web[1:])
    args[args.index("--bind") + 1] = f"127.0.0.1:{port}"
    args[args.index("--workers") + 1] = "1"
    web_log = tmp_path / "web.log"
    with web_log.open("wb") as log:
        gunicorn = subprocess.Popen([_script("gunicorn"), *args], env=production_env, cwd=tmp_path,
                                    stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    # 3. beat and worker on the same Redis (beat first: it needs no worker, and starting it now
    #    overlaps the processes' start-up).
    beat_cmd = [a if not a.startswith("--schedule=") else f"--schedule={tmp_path / 'beat-schedule'}"
                for a in _command("beat")]
    beat_log = tmp_path / "beat.log"
    with beat_log.open("wb") as log:
        beat = subprocess.Popen([sys.executable, "-m", *beat_cmd], env=production_env, cwd=tmp_path,
                                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    try:
        worker = celery_worker_factory(production_env["HUB_SQLALCHEMY_DATABASE_URI"],
                                       production_env["HUB_CELERY_BROKER_URL"],
                                       **{k: v for k, v in production_env.items() if k.startswith("HUB_")})

        # The compose healthcheck's own code, pointed at our port.
        health_code = yaml.safe_load((DEPLOY / "compose.yaml").read_text())["services"]["web"]["healthcheck"]["test"][-1]
        health_code = health_code.replace("127.0.0.1:8000", f"127.0.0.1:{port}")

        def listening() -> bool:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/health", timeout=5) as response:
                    return response.status == 200
            except OSError:
                return False

        wait_until(listening, 120, "gunicorn", web_log, gunicorn)
        check = subprocess.run([sys.executable, "-c", health_code], capture_output=True, text=True, timeout=60)
        assert check.returncode == 0, check.stderr
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/health", timeout=10) as response:
            body = json.load(response)
        assert body == {"status": "ok", "database": "ok", "broker": "ok"}

        # Beat → Redis → worker: the periodic sweep runs in the worker.
        worker.wait_for_log(r"Task hub\.sweep_pending\[[0-9a-f-]+\] succeeded", timeout=90)
        assert gunicorn.poll() is None and beat.poll() is None, beat_log.read_text(errors="replace")
    finally:
        _stop_process(beat)
        _stop_process(gunicorn)
