"""Small helpers the hub services share: the clock, timezone-safe comparisons, and the one
shape of a service-owned transaction."""

from __future__ import annotations

from contextlib import contextmanager
from datetime import datetime, timezone
from typing import Iterator


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def aware(dt: datetime | None) -> datetime | None:
    """SQLite hands back naive datetimes; every stored time is UTC, so say so."""
    if dt is None or dt.tzinfo is not None:
        return dt
    return dt.replace(tzinfo=timezone.utc)


@contextmanager
def transaction() -> Iterator[None]:
    """Commit the session when the block ends normally; roll back on any exception (even a
    KeyboardInterrupt) and re-raise. Services own their transactions through this."""
    from hub.extensions import db

    try:
        yield
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
