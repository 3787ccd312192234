"""A seeded demo hub for the hub benchmarks: built by ``jeugdhub demo --no-serve`` itself (the demo's
own code path), from this checkout, into a work directory; and the environment that points another
hub process (gunicorn) at it with the demo's settings (hub/demo.py: ``demo_config``, its instance
folder and the secret key the demo made there)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
#: The CLI from this checkout (the console script may belong to another one).
JEUGDHUB = [sys.executable, "-c", "from hub.cli.main import main; main()"]


def run_demo(workdir: Path, on_line=None, timeout: float = 600) -> tuple[float, str, list[tuple[float, str]]]:
    """Run ``jeugdhub demo --no-serve --dir workdir --port 0``; (wall seconds, stdout, stderr lines
    with the seconds since start at which each arrived). Raises on a non-zero exit or the timeout."""
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("HUB_")}, "PYTHONUNBUFFERED": "1"}
    # The demo's agents run as the ``node-agent`` console script, which imports the checkout the virtual
    # environment was installed from; PYTHONPATH makes them (and the hub) this checkout's.
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT)] + [p for p in [os.environ.get("PYTHONPATH")] if p])
    start = time.monotonic()
    proc = subprocess.Popen([*JEUGDHUB, "demo", "--no-serve", "--dir", str(workdir), "--port", "0"],
                            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    lines: list[tuple[float, str]] = []
    try:
        for line in proc.stderr:  # the step counter: one line per step, as it starts
            lines.append((time.monotonic() - start, line.rstrip("\n")))
            if on_line:
                on_line(lines[-1])
            if time.monotonic() - start > timeout:
                raise TimeoutError(f"jeugdhub demo ran longer than {timeout} s")
        out = proc.stdout.read()
        rc = proc.wait(timeout=max(1.0, timeout - (time.monotonic() - start)))
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    wall = time.monotonic() - start
    if rc != 0:
        raise RuntimeError(f"jeugdhub demo failed (exit {rc}): " + "\n".join(l for _, l in lines[-20:]))
    return wall, out, lines


def demo_password(stdout: str) -> str:
    found = re.search(r"wachtwoord voor alle demogebruikers: ([^)\s]+)\)", stdout)
    if not found:
        raise RuntimeError("the demo printed no password")
    return found.group(1)


def hub_env(workdir: Path) -> dict[str, str]:
    """The environment of a hub process on the demo's database, as the demo configured its own."""
    workdir = workdir.resolve()
    env = {k: v for k, v in os.environ.items() if not k.startswith("HUB_")}
    env.update({
        "HUB_ENV": "development",  # production refuses SQLite; the demo is a development hub
        "HUB_SQLALCHEMY_DATABASE_URI": "sqlite:///" + str(workdir / "hub.sqlite"),
        "HUB_REGION_NAME": "Lekstroom",
        "HUB_DEMO_SKIP_MFA": "true",
        # The key the demo made in its instance folder, so every worker signs sessions alike.
        "HUB_SECRET_KEY": (workdir / "secret_key").read_text().strip(),
        "MPLCONFIGDIR": "/tmp/matplotlib",
    })
    return env
