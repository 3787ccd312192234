"""DUO reference data: reading DUO's CSV files (layout from the header), and the shipped demo files.

Parsing lives in :mod:`hub.reference.layouts`; storing in :mod:`hub.services.reference`.
"""

from __future__ import annotations

from pathlib import Path

DEMO_DIR = Path(__file__).with_name("demo")


def demo_files() -> list[Path]:
    """The demo region's reference files in import order: later files update the fields they carry,
    so the BO registry (full current names, addresses) comes after the historical count file."""
    order = ("06.", "02.", "duo_examen", "01.", "swv-")
    files = [p for p in DEMO_DIR.iterdir() if p.suffix == ".csv"]
    return sorted(files, key=lambda p: (next((i for i, o in enumerate(order) if p.name.startswith(o)), len(order)), p.name))
