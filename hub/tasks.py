"""Celery tasks: thin, named, idempotent; they take ids and call services."""

from __future__ import annotations
