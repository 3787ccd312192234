"""A deliberately simple stand-in for hub.disclosure, used only while testing CORE in isolation.

It follows the CONTRACTS.md frames (sum per level; threshold + rounding for counts; cost cells
rounded to €100) so the combine code can be tested against the contract. It is NOT the gate.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field

import pandas as pd

THRESHOLD = 10


@dataclass
class FakeConfig:
    threshold: int = THRESHOLD

    @classmethod
    def from_app_config(cls, cfg) -> "FakeConfig":
        return cls(int(cfg.get("DISCLOSURE_THRESHOLD", THRESHOLD)))


@dataclass
class FakeResult:
    release: pd.DataFrame
    audit: dict = field(default_factory=dict)


KEYS = ["schooljaar", "measure", "category"]
SUMS = ["value", "contributors", "top1", "top2", "negatives"]


def combine_cells(contributions: pd.DataFrame, schools: pd.DataFrame) -> pd.DataFrame:
    frame = contributions.merge(schools, on="vestigingscode", how="left")
    frame["schooltype"] = frame["schooltype"].fillna("onbekend")
    parts = []
    for level, unit_col in (("vestiging", "vestigingscode"), ("schooltype", "schooltype"), ("regio", None)):
        f = frame.copy()
        f["unit"] = f[unit_col] if unit_col else "regio"
        g = f.groupby(["unit", *KEYS], sort=True).agg(
            value=("value", "sum"), contributors=("contributors", "sum"), top1=("top1", "max"),
            top2=("top2", "max"), negatives=("negatives", "sum"), nodes=("node", "nunique"),
        ).reset_index()  # fmt: skip
        g.insert(0, "level", level)
        parts.append(g)
    return pd.concat(parts, ignore_index=True)


def apply_gate(combined: pd.DataFrame, config: FakeConfig, history=()) -> FakeResult:
    rel = combined[["level", "unit", "schooljaar", "measure", "category"]].copy()
    small = combined["contributors"] < config.threshold
    rounded = (combined["value"] // 5 * 5).where(combined["measure"] != "kosten", combined["value"] // 10000 * 10000)
    rel["status"] = ["suppressed_primary" if s else "published" for s in small]
    rel["value"] = pd.array([None if s else int(v) for s, v in zip(small, rounded)], dtype="Int64")
    rel["reason"] = ["threshold" if s else None for s in small]
    rel["flags"] = ["" for _ in small]
    return FakeResult(rel.reset_index(drop=True), {"cells": int(len(rel)), "history": len(list(history))})


def release_bytes(release: pd.DataFrame) -> bytes:
    rows = [[None if pd.isna(v) else (int(v) if k == "value" else str(v)) for k, v in r.items()] for r in release.to_dict("records")]
    return json.dumps(rows, sort_keys=True).encode()


def install(monkeypatch) -> None:
    """Make ``from hub.disclosure import …`` resolve to this module's functions."""
    import hub.disclosure as disclosure

    for name, obj in (("GateConfig", FakeConfig), ("combine_cells", combine_cells), ("apply_gate", apply_gate), ("release_bytes", release_bytes)):
        monkeypatch.setattr(disclosure, name, obj, raising=False)


def digest_of(release: pd.DataFrame) -> str:
    return hashlib.sha256(release_bytes(release)).hexdigest()
