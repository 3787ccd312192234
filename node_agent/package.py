"""Build the partial from the cells, sign it with the node's key and put it in the spool directory.

``created_at`` honours ``SOURCE_DATE_EPOCH`` so the same input, keys and epoch give byte-identical
files (Ed25519 is deterministic).
"""

from __future__ import annotations

import os
import tempfile
from datetime import datetime, timezone
from pathlib import Path
from typing import Mapping

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

import shared
from shared.codes import NODE_GEMEENTE
from shared.errors import ConfigError
from shared.partial import CELL_ORDER, COST_CELL_ORDER, DataQuality, Partial, PartialHeader, ProviderNames
from shared.signing import SignedEnvelope, sign_partial

SUFFIX = ".partial.json"


def created_at(now: datetime | None = None) -> str:
    """ISO 8601 UTC with seconds; ``SOURCE_DATE_EPOCH`` wins for reproducible builds."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch:
        try:
            now = datetime.fromtimestamp(int(epoch), tz=timezone.utc)
        except ValueError:
            raise ConfigError("SOURCE_DATE_EPOCH moet een geheel aantal seconden zijn", code="bad_epoch") from None
    now = now or datetime.now(timezone.utc)
    return now.astimezone(timezone.utc).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


def build_partial(node: str, schooljaren, peildata, cells, cost_cells, quality: DataQuality,
                  providers: Mapping[str, str] | None = None, kind: str = NODE_GEMEENTE) -> Partial:
    """The partial of these cells; ``node`` the gemeentecode (or, with ``kind`` swv, the SWV code);
    ``providers``: AGB code → name (the aggregate's provider names)."""
    header = PartialHeader(
        node=node,
        kind=kind,
        schooljaren=tuple(sorted(schooljaren)),
        peildata=dict(peildata),
        created_at=created_at(),
        agent_version=shared.__version__,
    )
    return Partial(header=header, cells=tuple(sorted(cells, key=CELL_ORDER)),
                   cost_cells=tuple(sorted(cost_cells, key=COST_CELL_ORDER)), quality=quality,
                   providers=ProviderNames(dict(providers or {})))


def file_name(partial: Partial, envelope: SignedEnvelope) -> str:
    jaren = "_".join(sorted(partial.header.schooljaren))
    return f"{partial.header.node}-{jaren}-{envelope.digest[:12]}{SUFFIX}"


def write_spool(partial: Partial, key: Ed25519PrivateKey, spool_dir: Path) -> tuple[Path, SignedEnvelope]:
    """Sign and write atomically (temp file + rename), so a half-written partial never sits in the spool."""
    envelope = sign_partial(partial, key)
    spool_dir.mkdir(parents=True, exist_ok=True)
    target = spool_dir / file_name(partial, envelope)
    fd, tmp = tempfile.mkstemp(dir=spool_dir, prefix=".tmp-", suffix=SUFFIX)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(envelope.to_bytes())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target, envelope
