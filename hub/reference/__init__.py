"""DUO reference data: reading DUO's CSV files (layout from the header), and the shipped demo files.

Parsing lives in :mod:`hub.reference.layouts`; storing in :mod:`hub.services.reference`.
"""

from __future__ import annotations

from pathlib import Path

DEMO_DIR = Path(__file__).with_name("demo")


def import_order(paths: list[Path]) -> list[Path]:
    """Registries and counts before memberships, then by name (the result does not depend on it,
    but reports read more naturally: locations first, then what refers to them)."""
    order = ("06.", "02.", "duo_examen", "01.", "swv-")
    return sorted(paths, key=lambda p: (next((i for i, o in enumerate(order) if p.name.startswith(o)), len(order)), p.name))


def demo_files() -> list[Path]:
    """The demo region's reference files in import order."""
    return import_order([p for p in DEMO_DIR.iterdir() if p.suffix == ".csv"])
