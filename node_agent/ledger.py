"""The node's append-only log of what it built, who approved it and where it went.

JSON lines, appended with ``O_APPEND`` under an exclusive lock. Each entry carries the SHA-256 of
the previous line (``prev``), so removing or editing an entry breaks the chain and ``node-agent
log`` says where. Entries hold dates, school years, digests, row counts, names and hub receipts —
never a BSN, a pseudonym or a key.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from shared.errors import ConfigError

GENESIS = "0" * 64
EVENTS = ("built", "approved", "enrolled", "uploaded", "upload_refused", "exchange_blinded", "exchange_reblinded")


@dataclass(frozen=True)
class ChainProblem:
    line: int
    message: str


def _now() -> str:
    return datetime.now(timezone.utc).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


def _line_hash(raw: bytes) -> str:
    return hashlib.sha256(raw.rstrip(b"\n")).hexdigest()


class Ledger:
    def __init__(self, path: Path):
        self.path = Path(path)

    def append(self, event: str, **data: Any) -> dict[str, Any]:
        if event not in EVENTS:
            raise ValueError(f"unknown ledger event {event}")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            with open(self.path, "rb") as fh:
                lines = fh.read().splitlines()
            prev = _line_hash(lines[-1]) if lines else GENESIS
            entry = {"seq": len(lines) + 1, "at": _now(), "event": event, **data, "prev": prev}
            raw = json.dumps(entry, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode("utf-8") + b"\n"
            os.write(fd, raw)
            os.fsync(fd)
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)
        return entry

    def entries(self) -> list[dict[str, Any]]:
        if not self.path.exists():
            return []
        out = []
        for n, raw in enumerate(self.path.read_bytes().splitlines(), start=1):
            try:
                out.append(json.loads(raw))
            except json.JSONDecodeError:
                raise ConfigError(
                    f"{self.path}: regel {n} van het logboek is geen geldige JSON; het logboek is beschadigd.",
                    code="ledger_corrupt",
                ) from None
        return out

    def verify(self) -> list[ChainProblem]:
        """Every broken link in the chain (empty list = intact)."""
        if not self.path.exists():
            return []
        problems = []
        prev = GENESIS
        for n, raw in enumerate(self.path.read_bytes().splitlines(), start=1):
            try:
                entry = json.loads(raw)
            except json.JSONDecodeError:
                problems.append(ChainProblem(n, "geen geldige JSON"))
                prev = _line_hash(raw)
                continue
            if entry.get("prev") != prev:
                problems.append(ChainProblem(n, "keten verbroken: een eerdere regel is gewijzigd of verwijderd"))
            if entry.get("seq") != n:
                problems.append(ChainProblem(n, f"volgnummer {entry.get('seq')} hoort {n} te zijn"))
            prev = _line_hash(raw)
        return problems

    def approved(self, digest: str) -> dict[str, Any] | None:
        for entry in reversed(self.entries()):
            if entry.get("event") == "approved" and entry.get("digest") == digest:
                return entry
        return None

    def built(self, digest: str) -> dict[str, Any] | None:
        for entry in reversed(self.entries()):
            if entry.get("event") == "built" and entry.get("digest") == digest:
                return entry
        return None
