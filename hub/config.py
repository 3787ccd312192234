"""Hub configuration: defaults, then ``HUB_*`` environment variables, then a test mapping.

Every setting is explained in ``deploy/hub.env.example``. In production (``HUB_ENV=production``)
the hub refuses to start with the default secret, on SQLite, or without TLS-related settings.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Mapping

from flask import Flask

from shared.errors import ConfigError

DEFAULT_SECRET = "dev-only-not-secret"

DEFAULTS: dict[str, Any] = {
    "ENV": "development",
    "SECRET_KEY": DEFAULT_SECRET,
    # Embedded default: a SQLite file in the instance folder, tasks run in-process.
    "SQLALCHEMY_DATABASE_URI": None,  # filled in by load() from the instance path
    "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
    "CELERY_BROKER_URL": None,  # None → tasks run eagerly in-process
    "CELERY_RESULT_BACKEND": None,
    "CELERY_SWEEP_SECONDS": 60,
    "MAX_CONTENT_LENGTH": 64 * 1024 * 1024,  # largest accepted upload (a signed partial)
    "REQUEST_MAX_SKEW_SECONDS": 300,  # agents' signed requests must be this fresh
    "PREFERRED_URL_SCHEME": "http",
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    "SESSION_COOKIE_SECURE": False,
    "REGION_NAME": "Regio",
    # Disclosure control (shared/spec/disclosure-control.md); stricter is allowed, looser is refused.
    "DISCLOSURE_THRESHOLD": 10,
    "DISCLOSURE_ROUNDING_BASE": 5,
    "DISCLOSURE_P_PERCENT": 10,
    "DISCLOSURE_DOMINANCE_N": 2,
    "DISCLOSURE_DOMINANCE_K": 85,
    "DISCLOSURE_COST_INSIDER_RULE": True,
    "DISCLOSURE_COUNT_INSIDER_RULE": False,
    "DISCLOSURE_MIN_DENOMINATOR": 20,
    "DISCLOSURE_COST_ROUNDING_EUROCENT": 100_00,  # publish cost sums rounded to €100
}

#: The floors below which a deployment may not go (disclosure-control.md).
FLOORS = {"DISCLOSURE_THRESHOLD": 5, "DISCLOSURE_ROUNDING_BASE": 5}


def load(app: Flask, test_config: Mapping[str, Any] | None) -> None:
    app.config.from_mapping(DEFAULTS)
    if test_config is None:
        app.config.from_prefixed_env("HUB")
    else:
        app.config.from_mapping(test_config)
    if not app.config.get("SQLALCHEMY_DATABASE_URI"):
        Path(app.instance_path).mkdir(parents=True, exist_ok=True)
        app.config["SQLALCHEMY_DATABASE_URI"] = "sqlite:///" + os.path.join(app.instance_path, "hub.sqlite")
    check(app.config)


def check(cfg: Mapping[str, Any]) -> None:
    """Refuse unsafe settings: looser-than-floor disclosure rules always, weak production setups."""
    for name, floor in FLOORS.items():
        if int(cfg[name]) < floor:
            raise ConfigError(f"{name}={cfg[name]} ligt onder de ondergrens {floor}", code="unsafe_config")
    if cfg.get("ENV") != "production":
        return
    problems = []
    if not cfg.get("SECRET_KEY") or cfg["SECRET_KEY"] == DEFAULT_SECRET or len(str(cfg["SECRET_KEY"])) < 32:
        problems.append("HUB_SECRET_KEY must be set to a random value of at least 32 characters")
    if str(cfg.get("SQLALCHEMY_DATABASE_URI", "")).startswith("sqlite"):
        problems.append("HUB_SQLALCHEMY_DATABASE_URI must point to PostgreSQL in production")
    if not cfg.get("CELERY_BROKER_URL"):
        problems.append("HUB_CELERY_BROKER_URL must point to Redis in production")
    if not cfg.get("SESSION_COOKIE_SECURE"):
        problems.append("HUB_SESSION_COOKIE_SECURE must be true (the hub is served over TLS)")
    if cfg.get("PREFERRED_URL_SCHEME") != "https":
        problems.append("HUB_PREFERRED_URL_SCHEME must be https")
    if problems:
        raise ConfigError("Refusing to start in production: " + "; ".join(problems), code="unsafe_config")
