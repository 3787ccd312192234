"""Hub configuration: defaults, then ``HUB_*`` environment variables, then a test mapping.

Every setting is explained in ``deploy/hub.env.example`` (a test keeps the two in step). In
production (``HUB_ENV=production``) the hub refuses to start without its own secret, on SQLite,
without Redis, or without the settings that say it is served over TLS.

No environment signs sessions with a key that appears in the source: without ``HUB_SECRET_KEY``
a development or test hub makes a random key once and keeps it in its instance folder (mode 0600,
see :func:`instance_secret_key`); the key that used to be the published default is refused always.
"""

from __future__ import annotations

import os
import secrets
import stat
from pathlib import Path
from typing import Any, Mapping

from flask import Flask

from shared.errors import ConfigError

#: The key earlier versions signed sessions with when none was set. It is public, so anyone can forge
#: a session with it: refused in every environment, never a default.
DEFAULT_SECRET = "dev-only-not-secret"
PUBLISHED_SECRETS = frozenset({DEFAULT_SECRET})
#: The file in the instance folder that keeps the generated key of a development or test hub.
SECRET_KEY_FILE = "secret_key"

DEFAULTS: dict[str, Any] = {
    "ENV": "development",
    # None → a random key kept in the instance folder (development and testing only; production must set one).
    "SECRET_KEY": None,
    # Embedded default: a SQLite file in the instance folder, tasks run in-process.
    "SQLALCHEMY_DATABASE_URI": None,  # filled in by load() from the instance path
    "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
    "CELERY_BROKER_URL": None,  # None → tasks run eagerly in-process
    "CELERY_RESULT_BACKEND": None,
    "CELERY_SWEEP_SECONDS": 60,
    # Embedded mode: combine on a background thread, not inside the upload request; the jobs of
    # different keys (two rounds' combines) run on up to this many threads side by side.
    "COMBINE_IN_BACKGROUND": True,
    "BACKGROUND_WORKERS": 2,
    # The disclosure gate in this many processes of its own (0: in the combining thread). Threads share
    # one interpreter lock, so two embedded combines' gates took turns; the demo sets it to 2. A Celery
    # worker is a process already and needs none.
    "GATE_PROCESSES": 0,
    # Broker mode: wait this long before combining, so a burst of uploads shares one combine.
    "COMBINE_DELAY_SECONDS": 0,
    # A round's first publication goes out at the latest this many days after it is opened, whoever
    # is still missing (`jeugdhub round open --deadline/--deadline-days` overrides it); 0 = no deadline.
    "ROUND_DEADLINE_DAYS": 14,
    # The overlap exchange (docs/overlap.md): a school's set is sent from this many children up and
    # padded to a multiple of the block; a correction's release waits at most this long for the
    # exchanges of its new submission (a first publication waits until the round's deadline).
    "PSI_MIN_SET_SIZE": 10,
    "PSI_PAD_BLOCK": 16,
    "EXCHANGE_CORRECTION_WAIT_SECONDS": 900,
    # Factsheet ZIPs (minutes of CPU each, on their own queue): per user at most this many being made at
    # once and this many requested per 24 hours; kept this many days, then deleted by the clean-up.
    "FACTSHEET_ARCHIVE_MAX_RUNNING": 1,
    "FACTSHEET_ARCHIVE_MAX_PER_DAY": 5,
    "FACTSHEET_ARCHIVE_RETENTION_DAYS": 7,
    # An archive still queued or running after this many minutes is marked failed by the clean-up
    # (e.g. the process building it stopped), so it no longer counts against its requester's limit.
    "FACTSHEET_ARCHIVE_STALE_MINUTES": 180,
    # Seconds between clean-ups (Celery beat; without a broker the embedded sweeper); 0 = none.
    "FACTSHEET_ARCHIVE_PURGE_SECONDS": 3600,
    "AUDIT_RETENTION_DAYS": 365,  # audit lines older than this are removed daily (0 keeps everything)
    "MAX_CONTENT_LENGTH": 64 * 1024 * 1024,  # largest accepted upload (a signed partial)
    "REQUEST_MAX_SKEW_SECONDS": 300,  # agents' signed requests must be this fresh
    "PREFERRED_URL_SCHEME": "http",
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    "SESSION_COOKIE_SECURE": False,
    "REGION_NAME": "Regio",
    # Where visitors report an accessibility problem (the statement at /toegankelijkheid); None: the
    # statement points to the region's hub administrator without an address.
    "ACCESSIBILITY_CONTACT": None,
    "ACCESSIBILITY_STATEMENT_DATE": None,  # when the region last reviewed the statement, e.g. "juni 2026"
    # Disclosure control (docs/disclosure-control.md); stricter is allowed, looser is refused.
    "DISCLOSURE_THRESHOLD": 10,
    "DISCLOSURE_ROUNDING_BASE": 5,
    "DISCLOSURE_P_PERCENT": 10,
    "DISCLOSURE_DOMINANCE_N": 2,
    "DISCLOSURE_DOMINANCE_K": 85,
    "DISCLOSURE_COST_INSIDER_RULE": True,
    "DISCLOSURE_COUNT_INSIDER_RULE": False,
    "DISCLOSURE_MIN_DENOMINATOR": 20,
    "DISCLOSURE_COST_ROUNDING_EUROCENT": 100_00,  # publish cost sums rounded to €100
    "DISCLOSURE_GROUP_DISCLOSURE_PERCENT": 90,  # a category holding this share of its row is hidden
    # A JSON groupings table replacing the default (shared/groupings.py); None = the default.
    "GROUPINGS_FILE": None,
    # Flask-Login's remember-me cookie; hub.web makes it secure whenever the session cookie is.
    "REMEMBER_COOKIE_HTTPONLY": True,
    "REMEMBER_COOKIE_SECURE": False,
    # Sessions end after this many minutes without a request, and this many hours after login.
    "SESSION_IDLE_MINUTES": 30,
    "SESSION_MAX_HOURS": 8,
    # Failed logins: per client address at most this many (Flask-Limiter notation); per account this many
    # failures within this many minutes lock the account until the window ends. Wrong API tokens per address.
    "LOGIN_LIMIT_PER_ADDRESS": "20 per 10 minutes",
    "LOGIN_LOCKOUT_ATTEMPTS": 5,
    "LOGIN_LOCKOUT_MINUTES": 15,
    "TOKEN_LIMIT_PER_ADDRESS": "20 per 10 minutes",
    # Where the counters live; None → the Redis of CELERY_BROKER_URL, or memory:// without one.
    "RATELIMIT_STORAGE_URI": None,
    # Caches of the pages and the API (hub/cache.py). Rendered answers per process, at most this many MB;
    # charts shared by the workers: in this Redis (None → the Redis of CELERY_BROKER_URL), else in
    # CACHE_DIR (None → the instance folder's cache/charts), kept this many days. False: no caching.
    "CACHE_ENABLED": True,
    "CACHE_VIEW_MB": 64,
    "CACHE_REDIS_URL": None,
    "CACHE_DIR": None,
    "CACHE_CHART_DAYS": 30,
    # Roles that must use a second factor (TOTP) at login, comma-separated; empty = none.
    "MFA_REQUIRED_ROLES": "regio_admin",
    # Sign-in with the organisation's own identity provider (OpenID Connect); off without an issuer.
    "OIDC_ISSUER": None,
    "OIDC_DISCOVERY_URL": None,
    "OIDC_CLIENT_ID": None,
    "OIDC_CLIENT_SECRET": None,
    "OIDC_MFA_AMR": "mfa,otp,hwk,swk",
    "OIDC_MFA_ACR": "",
    "OIDC_PROVISIONING": "preprovisioned",
    "OIDC_ROLE_CLAIM": "hub_rol",
    "OIDC_SCOPE_CLAIM": "hub_scope",
    # Demo only: no second factor required from anyone (the login page says so); refused in production.
    "DEMO_SKIP_MFA": False,
    # Bearer token for the admin API; None switches the admin API off.
    "ADMIN_TOKEN": None,
    # Largest signed partial accepted (bytes); None → MAX_CONTENT_LENGTH.
    "SUBMISSION_MAX_BYTES": None,
    # Werkzeug password hash for user accounts; tests may use a cheap pbkdf2, production may not.
    "PASSWORD_HASH_METHOD": "scrypt",
    # Test hook only: a combine waits while this file exists (lets tests kill a worker mid-combine).
    "COMBINE_PAUSE_FILE": None,
}

ENVIRONMENTS = ("development", "testing", "production")

#: The disclosure rules' floors (and ceilings) live in one place, ``hub.disclosure.config.GateConfig``:
#: :func:`check` builds one from these settings, so the hub refuses at start-up what the gate would.
_TRUE = {"1", "true", "yes", "on", "ja"}
_FALSE = {"0", "false", "no", "off", "nee", ""}


def load(app: Flask, test_config: Mapping[str, Any] | None) -> None:
    app.config.from_mapping(DEFAULTS)
    if test_config is None:
        app.config.from_prefixed_env("HUB")
    else:
        app.config.from_mapping(test_config)
    coerce(app.config)
    if not app.config.get("SQLALCHEMY_DATABASE_URI"):
        Path(app.instance_path).mkdir(parents=True, exist_ok=True)
        app.config["SQLALCHEMY_DATABASE_URI"] = "sqlite:///" + os.path.join(app.instance_path, "hub.sqlite")
    if not app.config.get("SECRET_KEY") and app.config.get("ENV") != "production":
        # Production refuses a missing key in check(): its web containers must share one key they are given.
        app.config["SECRET_KEY"] = instance_secret_key(Path(app.instance_path))
    check(app.config)


def instance_secret_key(folder: Path) -> str:
    """The random session key kept in ``folder``, made on first use (mode 0600, never overwritten).

    Several processes may start at once (web server, worker, CLI): the key is written to a private
    temporary file and linked into place, so each process reads the same complete key.
    """
    from shared.signing import write_secret_file

    path = folder / SECRET_KEY_FILE
    try:
        if not path.exists():
            fresh = folder / f".{SECRET_KEY_FILE}.{os.getpid()}.{secrets.token_hex(4)}"
            write_secret_file(fresh, (secrets.token_urlsafe(48) + "\n").encode("ascii"))
            try:
                os.link(fresh, path)
            except FileExistsError:
                pass  # another process was first: use its key
            finally:
                fresh.unlink()
        if os.name == "posix" and path.stat().st_mode & (stat.S_IRWXG | stat.S_IRWXO):
            raise ConfigError(f"{path} is leesbaar voor anderen; maak het alleen leesbaar voor de eigenaar: chmod 600 {path}",
                              code="key_permissions", details={"file": str(path)})
        key = path.read_text(encoding="ascii").strip()
    except OSError as exc:
        raise ConfigError(f"De sessiesleutel in {folder} kan niet worden gemaakt of gelezen ({exc.strerror}); "
                          "stel HUB_SECRET_KEY in of maak de map schrijfbaar", code="secret_key_unavailable",
                          details={"file": str(path)}) from None
    if len(key) < 32:
        raise ConfigError(f"{path} bevat geen bruikbare sessiesleutel; verwijder het bestand, dan maakt de hub een nieuwe",
                          code="secret_key_unavailable", details={"file": str(path)})
    return key


def coerce(cfg: dict[str, Any]) -> None:
    """Give string values from the environment the type of their default.

    ``from_prefixed_env`` parses JSON, so ``true``/``10`` arrive typed, but ``True`` or ``ja`` stay
    strings, and the string ``"False"`` is truthy: a cookie flag must never be read that way.
    """
    for name, default in DEFAULTS.items():
        value = cfg.get(name)
        if not isinstance(value, str) or isinstance(default, str) or default is None:
            continue
        if isinstance(default, bool):
            word = value.strip().lower()
            if word not in _TRUE | _FALSE:
                raise ConfigError(f"HUB_{name}={value!r} is geen ja/nee-waarde (true of false)",
                                  code="invalid_config", details={"setting": f"HUB_{name}"})
            cfg[name] = word in _TRUE
        elif isinstance(default, int):
            try:
                cfg[name] = int(value.strip().replace("_", ""))
            except ValueError:
                raise ConfigError(f"HUB_{name}={value!r} is geen geheel getal", code="invalid_config",
                                  details={"setting": f"HUB_{name}"}) from None


def check(cfg: Mapping[str, Any]) -> None:
    """Refuse unsafe settings: looser-than-floor disclosure rules always, weak production setups."""
    env = cfg.get("ENV")
    if env not in ENVIRONMENTS:
        # A typo such as "prod" would otherwise silently skip every production check below.
        raise ConfigError(f"HUB_ENV={env!r} is onbekend; kies uit {', '.join(ENVIRONMENTS)}",
                          code="invalid_config", details={"setting": "HUB_ENV"})
    from hub.disclosure.config import GateConfig

    GateConfig.from_app_config(cfg)
    from hub.services.mfa import required_roles

    required_roles(cfg)  # an unknown role in MFA_REQUIRED_ROLES stops the start, not a login later
    days = cfg.get("ROUND_DEADLINE_DAYS", DEFAULTS["ROUND_DEADLINE_DAYS"])
    if isinstance(days, bool) or not isinstance(days, int) or days < 0:
        raise ConfigError(f"HUB_ROUND_DEADLINE_DAYS={days!r} moet een geheel aantal dagen zijn (0 = geen termijn)",
                          code="invalid_config", details={"setting": "HUB_ROUND_DEADLINE_DAYS"})
    # The overlap exchange: a smaller minimum set than 10 would weaken the threat model (docs/overlap.md).
    for name, low in (("PSI_MIN_SET_SIZE", 10), ("PSI_PAD_BLOCK", 1), ("EXCHANGE_CORRECTION_WAIT_SECONDS", 0),
                      ("BACKGROUND_WORKERS", 1), ("GATE_PROCESSES", 0)):
        value = cfg.get(name, DEFAULTS[name])
        if isinstance(value, bool) or not isinstance(value, int) or value < low:
            raise ConfigError(f"HUB_{name}={value!r} moet een geheel getal van minstens {low} zijn",
                              code="invalid_config", details={"setting": f"HUB_{name}"})
    secret = cfg.get("SECRET_KEY")
    published = [k for k in (secret, *(cfg.get("SECRET_KEY_FALLBACKS") or ())) if _as_text(k) in PUBLISHED_SECRETS]
    if published:
        # A published key lets anyone forge a session cookie (an admin's, too): never, in any environment.
        raise ConfigError("De hub weigert een openbaar bekende sessiesleutel (HUB_SECRET_KEY); laat de instelling leeg "
                          "voor een willekeurige sleutel (ontwikkeling) of kies een eigen willekeurige waarde",
                          code="unsafe_config", details={"settings": ["HUB_SECRET_KEY"]})
    if env != "production":
        return
    problems: list[tuple[str, str]] = []
    if not secret or len(str(secret)) < 32:
        problems.append(("HUB_SECRET_KEY", "moet een willekeurige waarde van minstens 32 tekens zijn"))
    if not str(cfg.get("SQLALCHEMY_DATABASE_URI") or "").startswith(("postgresql://", "postgresql+")):
        problems.append(("HUB_SQLALCHEMY_DATABASE_URI", "moet naar PostgreSQL wijzen (postgresql+psycopg2://…)"))
    if not str(cfg.get("CELERY_BROKER_URL") or "").startswith(("redis://", "rediss://")):
        problems.append(("HUB_CELERY_BROKER_URL", "moet naar Redis wijzen (redis://…)"))
    # The hub is only reached through a TLS-terminating proxy: cookies and links must say so.
    if cfg.get("SESSION_COOKIE_SECURE") is not True:
        problems.append(("HUB_SESSION_COOKIE_SECURE", "moet true zijn (de hub draait achter TLS)"))
    if cfg.get("PREFERRED_URL_SCHEME") != "https":
        problems.append(("HUB_PREFERRED_URL_SCHEME", "moet https zijn"))
    admin_token = cfg.get("ADMIN_TOKEN")
    if admin_token is not None and len(str(admin_token)) < 32:
        problems.append(("HUB_ADMIN_TOKEN", "moet leeg zijn (beheer-API uit) of minstens 32 tekens hebben"))
    if not _strong_password_hash(str(cfg.get("PASSWORD_HASH_METHOD") or "")):
        problems.append(("HUB_PASSWORD_HASH_METHOD", "moet scrypt zijn of pbkdf2:sha256 met minstens 600000 rondes"))
    limits_uri = str(cfg.get("RATELIMIT_STORAGE_URI") or "")
    if limits_uri and not limits_uri.startswith(("redis://", "rediss://")):
        problems.append(("HUB_RATELIMIT_STORAGE_URI", "moet leeg zijn (de Redis van HUB_CELERY_BROKER_URL) of naar Redis wijzen"))
    if cfg.get("DEMO_SKIP_MFA"):
        problems.append(("HUB_DEMO_SKIP_MFA", "is alleen voor de demo en moet in productie uit staan"))
    if cfg.get("COMBINE_PAUSE_FILE"):
        problems.append(("HUB_COMBINE_PAUSE_FILE", "is alleen voor tests en moet in productie leeg zijn"))
    for flag in ("DEBUG", "TESTING"):
        if cfg.get(flag):
            problems.append((f"HUB_{flag}", "moet in productie uit staan"))
    if problems:
        raise ConfigError(
            "De hub weigert te starten in productie: " + "; ".join(f"{name} {why}" for name, why in problems),
            code="unsafe_config",
            details={"settings": [name for name, _ in problems]},
        )


def _as_text(value: Any) -> Any:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else value


def _strong_password_hash(method: str) -> bool:
    """scrypt (Werkzeug's default cost or more), or pbkdf2 with OWASP's 600,000 SHA-256 iterations."""
    parts = method.split(":")
    if parts[0] == "scrypt":
        n = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else 2**15
        return n >= 2**15
    if parts[0] == "pbkdf2" and len(parts) == 3 and parts[1] in {"sha256", "sha512"} and parts[2].isdigit():
        return int(parts[2]) >= 600_000
    return False
