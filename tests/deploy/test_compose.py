"""deploy/ names only things that exist: compose commands, modules, settings, files, agent subcommands.

Docker does not run on the test machines, so this parses compose.yaml, the Dockerfile and the
systemd units and checks each command, module, setting and path against the installed project.
"""

from __future__ import annotations

import configparser
import os
import re
import shlex
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml

from hub.config import DEFAULTS
from shared.scripts import console_script
from tests.hub.conftest import SECRET_KEY

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
AGENT = DEPLOY / "agent"
HUB_SERVICES = ("migrate", "web", "worker", "archive-worker", "beat")
#: Environment variables the compose file may pass that are not hub settings, and who reads them.
OTHER_ENV = {"FORWARDED_ALLOW_IPS": "gunicorn", "MPLCONFIGDIR": "matplotlib", "XDG_CACHE_HOME": "fontconfig"}


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((DEPLOY / "compose.yaml").read_text())


@pytest.fixture
def clean_env(monkeypatch, tmp_path) -> dict[str, str]:
    """A development environment for subprocesses: no HUB_* from the caller, SQLite in tmp."""
    for name in list(os.environ):
        if name.startswith("HUB_"):
            monkeypatch.delenv(name)
    env = {k: v for k, v in os.environ.items() if not k.startswith("HUB_")}
    env["HUB_SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{tmp_path / 'hub.sqlite'}"
    env["HUB_SECRET_KEY"] = SECRET_KEY
    monkeypatch.setenv("HUB_SECRET_KEY", SECRET_KEY)  # for the hub imported in-process (hub.worker)
    return env


def _script(name: str) -> str:
    """The console script installed next to this Python (what the image's PATH would find)."""
    found = console_script(name)
    assert found, f"{name} is not installed (pip install -e '.[hub]')"
    return found


def _command(service: dict) -> list[str]:
    command = service["command"]
    return command if isinstance(command, list) else shlex.split(command)


# --- structure ------------------------------------------------------------------------------


def test_all_parts_are_there(compose):
    services = compose["services"]
    assert {"web", "worker", "beat", "db", "redis", "proxy", "migrate"} <= set(services)
    assert services["db"]["image"].startswith("postgres:15")
    assert services["redis"]["image"].startswith("redis:7")


def test_hub_processes_share_one_image_built_by_the_dockerfile(compose):
    services = compose["services"]
    images = {services[name]["image"] for name in HUB_SERVICES}
    builds = {(services[name]["build"]["context"], services[name]["build"]["dockerfile"]) for name in HUB_SERVICES}
    assert len(images) == 1 and len(builds) == 1
    context, dockerfile = builds.pop()
    assert (DEPLOY / context / dockerfile).resolve() == DEPLOY / "Dockerfile"


def test_only_the_tls_proxy_publishes_ports(compose):
    published = {name for name, svc in compose["services"].items() if svc.get("ports")}
    assert published == {"proxy"}
    assert sorted(compose["services"]["proxy"]["ports"]) == ["443:443", "80:80"]
    assert compose["networks"]["backend"].get("internal") is True


def test_dependencies_name_real_services_and_web_waits_for_the_migration(compose):
    services = compose["services"]
    for name, svc in services.items():
        for dep in svc.get("depends_on", {}):
            assert dep in services, f"{name} depends on unknown service {dep}"
    for name in ("web", "worker", "archive-worker", "beat"):
        assert services[name]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
        assert services[name]["depends_on"]["db"]["condition"] == "service_healthy"
        assert services[name]["depends_on"]["redis"]["condition"] == "service_healthy"
    assert services["migrate"]["restart"] == "no"


def test_long_running_services_have_healthchecks(compose):
    for name in ("web", "worker", "archive-worker", "db", "redis"):
        assert compose["services"][name]["healthcheck"]["test"], name


# --- commands -------------------------------------------------------------------------------


def test_every_hub_command_is_an_installed_executable(compose):
    for name in HUB_SERVICES:
        argv = _command(compose["services"][name])
        assert argv[0] in {"gunicorn", "celery", "jeugdhub"}, argv
        _script(argv[0])


def test_gunicorn_loads_the_app_named_in_compose_and_the_dockerfile(compose, clean_env):
    argv = _command(compose["services"]["web"])
    assert argv[0] == "gunicorn"
    app_spec = argv[-1]
    assert app_spec == "hub:create_app()"
    dockerfile_cmd = _dockerfile_cmd()
    assert dockerfile_cmd[0] == "gunicorn" and dockerfile_cmd[-1] == app_spec
    bind = argv[argv.index("--bind") + 1]
    assert bind == "0.0.0.0:8000"
    # The Dockerfile's default command: gunicorn's own parser accepts every option.
    from gunicorn.config import Config

    parsed = Config().parser().parse_args(dockerfile_cmd[1:])
    assert parsed.args == [app_spec] and parsed.bind == ["0.0.0.0:8000"]
    # compose's command: --check-config parses every option and imports the application, then exits.
    result = subprocess.run([_script("gunicorn"), "--check-config", *argv[1:]], env=clean_env, cwd=ROOT,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr


def test_web_serves_on_threads_with_keep_alive_and_the_dockerfile_runs_the_same(compose):
    # Threaded workers: the hub is thread-safe (tests/hub/web/test_charts.py, tests/hub/test_cache.py,
    # tests/hub/services/test_audit.py); bench/hub/bench_api_load.py measures the command.
    from gunicorn.config import Config

    argv = _command(compose["services"]["web"])
    assert _dockerfile_cmd() == argv
    parsed = Config().parser().parse_args(argv[1:])
    assert parsed.worker_class == "gthread" and parsed.threads > 1 and parsed.keepalive > 0
    assert parsed.workers * parsed.threads >= 16  # 20 clients at once wait for a thread briefly, if at all


def test_celery_commands_name_the_worker_module_and_real_subcommands(compose, clean_env):
    from celery import Celery
    from celery.bin.celery import celery as celery_cli

    import hub.worker

    assert isinstance(hub.worker.celery, Celery)
    assert "hub.sweep_pending" in hub.worker.celery.tasks and "hub.combine_round" in hub.worker.celery.tasks
    for name, sub in (("worker", "worker"), ("archive-worker", "worker"), ("beat", "beat")):
        argv = _command(compose["services"][name])
        assert argv[:4] == ["celery", "-A", "hub.worker", sub], argv
        assert sub in celery_cli.commands
        # Every option is one the subcommand knows.
        known = {opt for param in celery_cli.commands[sub].params for opt in param.opts}
        for word in argv[4:]:
            if word.startswith("-"):
                assert word.split("=", 1)[0] in known, f"{name}: celery {sub} has no option {word}"
    health = " ".join(compose["services"]["worker"]["healthcheck"]["test"][1:])
    assert health.startswith("celery -A hub.worker inspect ping")
    assert "inspect" in celery_cli.commands
    # The beat schedule names a task the worker has.
    schedule = hub.worker.celery.conf.beat_schedule
    assert schedule and all(entry["task"] in hub.worker.celery.tasks for entry in schedule.values())


def _option(argv: list[str], *names: str) -> str | None:
    for i, word in enumerate(argv):
        for name in names:
            if word == name:
                return argv[i + 1]
            if word.startswith(name + "="):
                return word.split("=", 1)[1]
    return None


def test_combines_and_archives_have_a_worker_each_on_their_own_queue(compose):
    """Factsheet ZIPs (minutes each) must never hold up a combine: each queue has its own worker."""
    from hub.celery_app import ARCHIVE_QUEUE, DEFAULT_QUEUE
    import hub.worker

    celery = hub.worker.celery
    router = celery.amqp.router
    routed = {name: router.route({}, name)["queue"].name for name in celery.tasks if name.startswith("hub.")}
    assert routed["hub.build_factsheet_archive"] == routed["hub.purge_factsheet_archives"] == ARCHIVE_QUEUE
    assert routed["hub.combine_round"] == routed["hub.sweep_pending"] == routed["hub.ping"] == DEFAULT_QUEUE
    consumers = {}
    for name, svc in compose["services"].items():
        argv = _command(svc) if "command" in svc else []
        if argv[:4] == ["celery", "-A", "hub.worker", "worker"]:
            queues = _option(argv, "-Q", "--queues")
            assert queues, f"{name} consumes every queue; name its queue with -Q"
            for queue in queues.split(","):
                consumers.setdefault(queue, []).append(name)
    assert consumers == {DEFAULT_QUEUE: ["worker"], ARCHIVE_QUEUE: ["archive-worker"]}
    # Its healthcheck pings the node name it runs under.
    argv = _command(compose["services"]["archive-worker"])
    node = _option(argv, "-n", "--hostname").split("@")[0]
    health = " ".join(compose["services"]["archive-worker"]["healthcheck"]["test"][1:])
    assert f"--destination {node}@$$HOSTNAME" in health  # compose's "$$" is a literal "$"
    assert "hub.purge_factsheet_archives" in {e["task"] for e in celery.conf.beat_schedule.values()}


def test_web_healthcheck_asks_a_real_route(compose, tmp_path):
    from hub import create_app

    code = compose["services"]["web"]["healthcheck"]["test"][-1]
    path = re.search(r"http://127\.0\.0\.1:8000(/[^'\"]*)", code).group(1)
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'h.sqlite'}", "SECRET_KEY": SECRET_KEY,
                      "TESTING": True})
    from hub.extensions import db

    with app.app_context():
        db.create_all()
    response = app.test_client().get(path)
    assert response.status_code == 200, response.get_data(as_text=True)


def test_migration_command_runs_against_postgres(compose, clean_env, postgres_db):
    """`jeugdhub db upgrade` (the migrate service) creates the schema on a real PostgreSQL."""
    argv = _command(compose["services"]["migrate"])
    assert argv == ["jeugdhub", "db", "upgrade"]
    env = {**clean_env, "HUB_SQLALCHEMY_DATABASE_URI": postgres_db}
    result = subprocess.run([_script("jeugdhub"), *argv[1:]], env=env, cwd=ROOT, capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr

    import sqlalchemy as sa

    from hub.models.base import Base

    engine = sa.create_engine(postgres_db)
    try:
        tables = set(sa.inspect(engine).get_table_names())
    finally:
        engine.dispose()
    assert "alembic_version" in tables
    missing = set(Base.metadata.tables) - tables
    assert not missing, f"tables in the models but not created by the migrations: {sorted(missing)}"


# --- settings and files ---------------------------------------------------------------------


def test_every_environment_variable_is_a_real_setting(compose):
    for name, svc in compose["services"].items():
        if name not in HUB_SERVICES:
            continue
        for var in svc.get("environment", {}):
            if var.startswith("HUB_"):
                assert var[4:] in DEFAULTS, f"{name}: {var} is not a setting in hub/config.py"
            else:
                assert var in OTHER_ENV, f"{name}: {var} is read by nobody we know"


def test_env_files_have_examples(compose):
    for name, svc in compose["services"].items():
        for env_file in svc.get("env_file", []):
            assert (DEPLOY / f"{env_file}.example").is_file(), f"{name}: no {env_file}.example"
    for env_file in ("hub.env", "db.env", "proxy.env"):
        assert env_file in (DEPLOY / ".gitignore").read_text(), f"{env_file} holds secrets: git-ignore it"


def test_database_settings_agree_between_the_examples():
    hub_uri = re.search(r"^HUB_SQLALCHEMY_DATABASE_URI=(.+)$", (DEPLOY / "hub.env.example").read_text(), re.M)[1]
    db_env = dict(re.findall(r"^([A-Z_]+)=(.*)$", (DEPLOY / "db.env.example").read_text(), re.M))
    assert hub_uri.startswith(f"postgresql+psycopg2://{db_env['POSTGRES_USER']}:")
    assert hub_uri.endswith(f"@db:5432/{db_env['POSTGRES_DB']}")
    broker = re.search(r"^HUB_CELERY_BROKER_URL=(.+)$", (DEPLOY / "hub.env.example").read_text(), re.M)[1]
    assert broker.startswith("redis://redis:6379")


def test_bind_mounts_exist_and_the_proxy_forwards_to_web(compose):
    for name, svc in compose["services"].items():
        for volume in svc.get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith("."):
                assert (DEPLOY / source).exists(), f"{name}: bind mount {source} does not exist"
            else:
                assert source in compose["volumes"], f"{name}: undeclared volume {source}"
    caddyfile = (DEPLOY / "proxy" / "Caddyfile").read_text()
    assert re.search(r"^\s*reverse_proxy web:8000\s*$", caddyfile, re.M)
    assert "{$JEUGDHUB_DOMAIN}" in caddyfile
    proxy_env = (DEPLOY / "proxy.env.example").read_text()
    for var in re.findall(r"\{\$([A-Z_]+)\}", caddyfile):
        assert re.search(rf"^{var}=", proxy_env, re.M), f"Caddyfile uses {var}, proxy.env.example lacks it"
    # The proxy's upload limit is not below the hub's.
    max_mb = int(re.search(r"max_size (\d+)MB", caddyfile)[1])
    assert max_mb * 1024 * 1024 >= DEFAULTS["MAX_CONTENT_LENGTH"]


def _dockerfile_lines() -> list[str]:
    text = (DEPLOY / "Dockerfile").read_text().replace("\\\n", " ")
    return [line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]


def _dockerfile_cmd() -> list[str]:
    import json

    cmd = [line for line in _dockerfile_lines() if line.startswith("CMD ")]
    assert len(cmd) == 1
    return json.loads(cmd[0][4:])


def test_dockerfile_copies_what_exists_and_runs_as_a_user():
    lines = _dockerfile_lines()
    assert lines[0] == "FROM python:3.11-slim"
    copies = [line.split()[1:-1] for line in lines if line.startswith("COPY ")]
    assert copies
    for sources in copies:
        for source in sources:
            assert (ROOT / source).exists(), f"COPY {source}: not in the repository"
    copied = {Path(s).parts[0] for sources in copies for s in sources}
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    packages = {p.rstrip("*") for p in pyproject["tool"]["setuptools"]["packages"]["find"]["include"]}
    assert packages <= copied, f"packages not copied into the image: {packages - copied}"
    assert any(re.fullmatch(r'RUN pip install "\.\[hub\]"', line) for line in lines)
    users = [line.split()[1] for line in lines if line.startswith("USER ")]
    assert users and users[-1] not in {"root", "0"}
    ignore = (DEPLOY / "Dockerfile.dockerignore").read_text()
    for source in {s for sources in copies for s in sources}:
        assert f"!{source.rstrip('/')}" in ignore, f"{source} is excluded from the build context"


# --- the agent's systemd units ----------------------------------------------------------------


def _unit(path: Path) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=False, interpolation=None, delimiters=("=",))
    parser.optionxform = str  # systemd keys are case-sensitive

    # systemd allows repeated keys; keep the last, as configparser would fail on them otherwise.
    parser.read_string(path.read_text())
    return parser


def test_agent_service_runs_a_real_node_agent_subcommand():
    from node_agent.cli import main

    unit = _unit(AGENT / "node-agent.service")
    exec_start = shlex.split(unit["Service"]["ExecStart"])
    assert exec_start[0].endswith("/node-agent")
    # The first word that is neither a group option nor its value is the subcommand.
    takes_value = {opt for param in main.params if not getattr(param, "is_flag", False) for opt in param.opts}
    words = iter(exec_start[1:])
    sub = None
    for word in words:
        if word.startswith("-"):
            if word in takes_value:
                next(words)
            continue
        sub = word
        break
    assert sub in main.commands, f"node-agent has no subcommand {sub}"
    assert sub == "run"
    rest = exec_start[exec_start.index(sub) + 1:]
    known = {opt for param in main.commands[sub].params for opt in param.opts}
    for word in rest:
        if word.startswith("-"):
            assert word in known, f"node-agent {sub} has no option {word}"
    group_known = {opt for param in main.params for opt in param.opts}
    for word in exec_start[1:exec_start.index(sub)]:
        if word.startswith("-"):
            assert word in group_known, f"node-agent has no option {word}"
    # The school year comes from the EnvironmentFile, whose example sets it.
    assert "${NODE_AGENT_SCHOOL_YEAR}" in rest
    assert re.search(r"^NODE_AGENT_SCHOOL_YEAR=\d{4}-\d{4}$", (AGENT / "node-agent.env.example").read_text(), re.M)


def test_agent_service_is_hardened_and_runs_as_its_own_user():
    service = _unit(AGENT / "node-agent.service")["Service"]
    assert service["User"] == "node-agent"
    assert service["ProtectSystem"] == "strict"
    assert service["PrivateTmp"] == "true" and service["NoNewPrivileges"] == "true"
    assert service["ProtectHome"] == "true"
    assert service["Type"] == "oneshot"


def test_agent_example_config_is_valid_and_writable_under_the_unit():
    from node_agent.config import AgentConfig, render_config

    service = _unit(AGENT / "node-agent.service")["Service"]
    writable = [Path(p) for p in service["ReadWritePaths"].split()]
    config_path = Path(shlex.split(service["ExecStart"])[2])
    example = tomllib.loads((AGENT / "agent.toml.example").read_text())
    cfg = AgentConfig.from_dict(example, config_path.parent, "agent.toml.example")
    for path in (cfg.spool_dir, cfg.log_path.parent, cfg.signing_key.parent, config_path.parent):
        assert any(path == w or w in path.parents for w in writable), f"{path} is read-only under the unit"
    assert cfg.hub_url.startswith("https://")
    # Same keys as the file `node-agent init` writes: the example cannot drift from the agent.
    template = tomllib.loads(render_config("0356"))

    def keys(d: dict, prefix: str = "") -> set[str]:
        out = set()
        for k, v in d.items():
            out.add(prefix + k)
            if isinstance(v, dict) and not k == "columns":
                out |= keys(v, prefix + k + ".")
        return out

    assert keys(example) == keys(template)


def test_agent_timer_starts_the_service():
    timer = _unit(AGENT / "node-agent.timer")
    assert timer["Timer"]["Unit"] == "node-agent.service"
    assert timer["Timer"]["OnCalendar"]
    assert timer["Timer"]["Persistent"] == "true"
    assert timer["Install"]["WantedBy"] == "timers.target"


def test_agent_install_extra_has_no_hub_dependencies():
    """The municipality installs `jeugdhub[agent]`: the unit's node-agent must not need Flask or Celery."""
    code = ("import sys, node_agent.cli; "
            "bad = sorted(m for m in ('flask', 'celery', 'sqlalchemy', 'redis', 'hub') if m in sys.modules); "
            "print(','.join(bad)); sys.exit(1 if bad else 0)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert result.returncode == 0, f"node_agent.cli imports hub-side modules: {result.stdout}{result.stderr}"


def test_the_installed_package_has_every_file_the_code_ships(tmp_path):
    """The image runs `pip install .` (not the source tree): templates, static files, migrations,
    reference CSVs and the OpenAPI file must be package data, or the container lacks them."""
    build = subprocess.run([sys.executable, "-c", "import setuptools; setuptools.setup()", "-q", "build_py",
                            "--build-lib", str(tmp_path / "lib")], cwd=ROOT, capture_output=True, text=True,
                           timeout=300)
    assert build.returncode == 0, build.stdout + build.stderr
    tracked = subprocess.run(["git", "ls-files", "hub", "shared", "node_agent"], cwd=ROOT, capture_output=True,
                             text=True, check=True).stdout.split()
    assert "hub/__init__.py" in tracked
    # Documentation and git metadata beside the code are not needed at run time.
    needed = [f for f in tracked
              if not f.endswith(".md") and not Path(f).name.startswith((".", "README"))]
    missing = [f for f in needed if not (tmp_path / "lib" / f).exists()]
    assert not missing, f"not installed by `pip install .` (add a package-data pattern in pyproject.toml): {missing}"


def test_systemd_accepts_the_agent_units_and_rates_the_service_hardened(tmp_path):
    """systemd's own checker: the units parse, ExecStart is executable, and exposure is low."""
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.fail("systemd-analyze not found: the Debian package `systemd` is missing; install it with `make test`",
                    pytrace=False)
    for name in ("node-agent.service", "node-agent.timer"):
        text = (AGENT / name).read_text()
        # Point ExecStart at the node-agent installed here (the unit names /opt/node-agent/bin/…).
        (tmp_path / name).write_text(text.replace("/opt/node-agent/bin/node-agent", _script("node-agent")))
    units = [str(tmp_path / "node-agent.service"), str(tmp_path / "node-agent.timer")]
    verify = subprocess.run([analyze, "verify", "--man=no", *units], capture_output=True, text=True, timeout=120)
    assert verify.returncode == 0 and "node-agent" not in verify.stderr, verify.stderr
    security = subprocess.run([analyze, "security", "--offline=true", "--no-pager", units[0]],
                              capture_output=True, text=True, timeout=120)
    exposure = re.search(r"Overall exposure level for node-agent\.service: ([\d.]+)", security.stdout)
    assert exposure, security.stdout + security.stderr
    assert float(exposure[1]) <= 2.0, security.stdout
