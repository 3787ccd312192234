"""Fixtures for the reference-data tests: the real DUO files and a writer for small synthetic files."""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import pytest

REPO_ROOT = Path(__file__).resolve().parents[3]
DUO_DIR = REPO_ROOT.parent / "shared" / "data" / "duo"
BO_FILE = DUO_DIR / "02.-alle-schoolvestigingen-basisonderwijs.csv"
PUPIL_FILE = DUO_DIR / "06.-historisch-overzicht-aantal-leerlingen-per-schoolvestiging.csv"
EXAM_FILE = DUO_DIR / "duo_examen_raw_all.csv"


@pytest.fixture(scope="session")
def duo_dir() -> Path:
    """The real DUO files (CI has them next to the repository); missing them is a failure, not a skip."""
    for f in (BO_FILE, PUPIL_FILE, EXAM_FILE):
        assert f.is_file(), f"real DUO file missing: {f} (the tests need ../shared/data/duo)"
    return DUO_DIR


@pytest.fixture
def write_csv(tmp_path) -> Callable[..., Path]:
    """Write rows as a DUO-style CSV: ``;``, CRLF, in the given encoding (BOM with ``utf-8-sig``)."""

    def write(name: str, header: list[str], rows: list[list[str]], encoding: str = "utf-8", delimiter: str = ";") -> Path:
        lines = [delimiter.join(header)] + [delimiter.join(r) for r in rows]
        path = tmp_path / name
        path.write_bytes(("\r\n".join(lines) + "\r\n").encode(encoding))
        return path

    return write


@pytest.fixture(scope="session")
def real_parsed(duo_dir):
    """Parse each real file once per session (the parsers are pure; tests must not mutate the result)."""
    from hub.reference.layouts import parse
    from hub.reference.reading import read_csv

    cache: dict = {}

    def get(path: Path):
        if path not in cache:
            cache[path] = parse(read_csv(path))
        return cache[path]

    return get
