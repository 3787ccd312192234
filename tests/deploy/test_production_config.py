"""hub/config.py refuses unsafe production setups, naming each setting, and accepts a proper one."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from hub import create_app
from hub.config import DEFAULT_SECRET, DEFAULTS
from shared.errors import ConfigError

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"

PRODUCTION = {
    "ENV": "production",
    "SECRET_KEY": "q8Jw3vT0zY1mN5bC7xK2rL9pD4sF6gH0aE3uI8oV",
    "SQLALCHEMY_DATABASE_URI": "postgresql+psycopg2://jeugdhub:pw@db:5432/jeugdhub",
    "CELERY_BROKER_URL": "redis://redis:6379/0",
    "SESSION_COOKIE_SECURE": True,
    "PREFERRED_URL_SCHEME": "https",
}


def _refused(config: dict) -> ConfigError:
    with pytest.raises(ConfigError) as info:
        create_app(config)
    return info.value


def test_a_proper_production_config_starts():
    app = create_app(dict(PRODUCTION))
    assert app.config["ENV"] == "production"
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["REMEMBER_COOKIE_SECURE"] is True  # follows the session cookie


@pytest.mark.parametrize(
    "override, setting",
    [
        ({"SECRET_KEY": DEFAULT_SECRET}, "HUB_SECRET_KEY"),
        ({"SECRET_KEY": ""}, "HUB_SECRET_KEY"),
        ({"SECRET_KEY": "short-but-not-default"}, "HUB_SECRET_KEY"),
        ({"SQLALCHEMY_DATABASE_URI": None}, "HUB_SQLALCHEMY_DATABASE_URI"),  # → the SQLite default
        ({"SQLALCHEMY_DATABASE_URI": "sqlite:////tmp/hub.sqlite"}, "HUB_SQLALCHEMY_DATABASE_URI"),
        ({"SQLALCHEMY_DATABASE_URI": "mysql://db/jeugdhub"}, "HUB_SQLALCHEMY_DATABASE_URI"),
        ({"CELERY_BROKER_URL": None}, "HUB_CELERY_BROKER_URL"),
        ({"CELERY_BROKER_URL": "memory://"}, "HUB_CELERY_BROKER_URL"),
        ({"SESSION_COOKIE_SECURE": False}, "HUB_SESSION_COOKIE_SECURE"),
        ({"SESSION_COOKIE_SECURE": "false"}, "HUB_SESSION_COOKIE_SECURE"),
        ({"PREFERRED_URL_SCHEME": "http"}, "HUB_PREFERRED_URL_SCHEME"),
        ({"ADMIN_TOKEN": "admin"}, "HUB_ADMIN_TOKEN"),
        ({"COMBINE_PAUSE_FILE": "/tmp/pause"}, "HUB_COMBINE_PAUSE_FILE"),
        ({"PASSWORD_HASH_METHOD": "pbkdf2:sha256:1"}, "HUB_PASSWORD_HASH_METHOD"),
        ({"PASSWORD_HASH_METHOD": "scrypt:1024:8:1"}, "HUB_PASSWORD_HASH_METHOD"),
        ({"PASSWORD_HASH_METHOD": "plain"}, "HUB_PASSWORD_HASH_METHOD"),
        ({"DEBUG": True}, "HUB_DEBUG"),
        ({"TESTING": True}, "HUB_TESTING"),
    ],
)
def test_each_unsafe_production_setting_is_refused_by_name(override, setting):
    error = _refused({**PRODUCTION, **override})
    assert error.code == "unsafe_config"
    assert setting in error.message
    assert error.details["settings"] == [setting]
    assert error.exit_code == 78


@pytest.mark.parametrize("method", ["scrypt", "scrypt:32768:8:1", "pbkdf2:sha256:600000", "pbkdf2:sha512:1000000"])
def test_strong_password_hashes_pass(method):
    assert create_app({**PRODUCTION, "PASSWORD_HASH_METHOD": method}).config["PASSWORD_HASH_METHOD"] == method


def test_all_problems_are_named_at_once():
    error = _refused({"ENV": "production"})
    assert set(error.details["settings"]) == {
        "HUB_SECRET_KEY", "HUB_SQLALCHEMY_DATABASE_URI", "HUB_CELERY_BROKER_URL", "HUB_SESSION_COOKIE_SECURE",
        "HUB_PREFERRED_URL_SCHEME",
    }
    assert error.message.startswith("De hub weigert te starten in productie")


def test_secret_never_appears_in_the_message():
    secret = "s" * 20
    error = _refused({**PRODUCTION, "SECRET_KEY": secret})
    assert secret not in error.message and secret not in str(error.to_dict())


def test_an_unknown_environment_name_is_refused():
    # "prod" would otherwise run without any production check.
    error = _refused({**PRODUCTION, "ENV": "prod"})
    assert error.details == {"setting": "HUB_ENV"}


def test_development_defaults_still_start(tmp_path):
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'h.sqlite'}"}, instance_path=tmp_path)
    assert app.config["ENV"] == "development"
    # No key in the source signs sessions: the hub made its own (tests/deploy/test_secret_key.py).
    assert app.config["SECRET_KEY"] != DEFAULT_SECRET and len(app.config["SECRET_KEY"]) >= 32


@pytest.mark.parametrize("setting, value", [("DISCLOSURE_THRESHOLD", 4), ("DISCLOSURE_P_PERCENT", 5),
                                            ("DISCLOSURE_DOMINANCE_K", 90), ("DISCLOSURE_COST_INSIDER_RULE", False),
                                            ("DISCLOSURE_MIN_DENOMINATOR", 10)])
def test_looser_disclosure_rules_are_refused_in_every_environment(setting, value):
    for env in ("development", "production"):
        error = _refused({**PRODUCTION, "ENV": env, setting: value})
        assert error.code == "unsafe_config" and setting in error.message


# --- through the environment, as the compose file and systemd pass it -------------------------


def _clear_hub_env(monkeypatch):
    import os

    for name in list(os.environ):
        if name.startswith("HUB_"):
            monkeypatch.delenv(name)


def test_environment_strings_get_their_setting_type(monkeypatch, tmp_path):
    _clear_hub_env(monkeypatch)
    monkeypatch.setenv("HUB_SQLALCHEMY_DATABASE_URI", f"sqlite:///{tmp_path / 'h.sqlite'}")
    monkeypatch.setenv("HUB_SESSION_COOKIE_SECURE", "False")  # a truthy string without coercion
    monkeypatch.setenv("HUB_DISCLOSURE_THRESHOLD", "15")
    monkeypatch.setenv("HUB_DISCLOSURE_COUNT_INSIDER_RULE", "ja")
    app = create_app(instance_path=tmp_path)
    assert app.config["SESSION_COOKIE_SECURE"] is False
    assert app.config["DISCLOSURE_THRESHOLD"] == 15
    assert app.config["DISCLOSURE_COUNT_INSIDER_RULE"] is True


@pytest.mark.parametrize("name, value", [("HUB_SESSION_COOKIE_SECURE", "misschien"), ("HUB_CELERY_SWEEP_SECONDS", "1m")])
def test_unreadable_environment_values_are_refused_by_name(monkeypatch, tmp_path, name, value):
    _clear_hub_env(monkeypatch)
    monkeypatch.setenv("HUB_SQLALCHEMY_DATABASE_URI", f"sqlite:///{tmp_path / 'h.sqlite'}")
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError) as info:
        create_app(instance_path=tmp_path)
    assert name in info.value.message and info.value.details == {"setting": name}


def _env_file(path: Path) -> dict[str, str]:
    values = {}
    for line in path.read_text().splitlines():
        m = re.match(r"^([A-Z][A-Z0-9_]*)=(.*)$", line)
        if m:
            values[m.group(1)] = m.group(2)
    return values


def test_the_sample_env_file_is_refused_until_its_secrets_are_filled_in(monkeypatch):
    """deploy/hub.env.example is production-shaped; copied unchanged it must not start."""
    sample = _env_file(DEPLOY / "hub.env.example")
    assert sample["HUB_ENV"] == "production"
    _clear_hub_env(monkeypatch)
    for name, value in sample.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError) as info:
        create_app()
    assert info.value.details["settings"] == ["HUB_SECRET_KEY"]

    monkeypatch.setenv("HUB_SECRET_KEY", "x7" * 24)
    app = create_app()
    assert app.config["PREFERRED_URL_SCHEME"] == "https" and app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql+psycopg2://")


def test_every_setting_is_explained_in_the_sample_env_file():
    text = (DEPLOY / "hub.env.example").read_text()
    documented = set(re.findall(r"^#?\s?HUB_([A-Z][A-Z0-9_]*)=", text, flags=re.M))
    assert documented, "no HUB_ settings found"
    missing = sorted(set(DEFAULTS) - documented)
    assert not missing, f"settings without an explanation in deploy/hub.env.example: {missing}"
    unknown = sorted(documented - set(DEFAULTS) - {"DEBUG", "TESTING"})
    assert not unknown, f"deploy/hub.env.example names settings hub/config.py does not have: {unknown}"
    # Each setting line is preceded by at least one comment line explaining it.
    lines = text.splitlines()
    for i, line in enumerate(lines):
        if re.match(r"^#?\s?HUB_[A-Z0-9_]+=", line):
            j = i - 1
            while j >= 0 and re.match(r"^#?\s?HUB_[A-Z0-9_]+=", lines[j]):
                j -= 1
            assert j >= 0 and lines[j].startswith("#") and len(lines[j].strip("# ")) > 10, f"unexplained: {line}"


# config.get("X") or config["X"], but not an assignment config["X"] = …
SETTING_READ = re.compile(r"""config(?:\.get\(\s*["']([A-Z][A-Z0-9_]+)["']|\[\s*["']([A-Z][A-Z0-9_]+)["']\s*\](?!\s*=[^=]))""")
#: Keys that Flask, Flask-SQLAlchemy, Flask-WTF or Flask-Login define themselves.
FRAMEWORK_KEYS = {"TESTING", "DEBUG", "SERVER_NAME", "APPLICATION_ROOT", "SQLALCHEMY_ECHO", "WTF_CSRF_ENABLED",
                  "WTF_CSRF_TIME_LIMIT", "LOGIN_DISABLED", "SQLALCHEMY_BINDS", "PERMANENT_SESSION_LIFETIME"}


def test_every_setting_the_hub_reads_has_a_default():
    hub = Path(__file__).resolve().parents[2] / "hub"
    read: dict[str, str] = {}
    for path in hub.rglob("*.py"):
        for groups in SETTING_READ.findall(path.read_text()):
            read.setdefault(groups[0] or groups[1], str(path.relative_to(hub.parent)))
    assert "DISCLOSURE_THRESHOLD" in read  # the scan itself works
    undocumented = {name: where for name, where in read.items() if name not in DEFAULTS and name not in FRAMEWORK_KEYS}
    assert not undocumented, f"settings read by the hub without a default in hub/config.py: {undocumented}"
