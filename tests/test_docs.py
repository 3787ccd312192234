"""The documentation cannot rot silently: every repository path it names exists.

Checked files: ``docs/*.md`` and the root ``README.md``. In each, every inline code span outside
fenced blocks that looks like a path (no spaces, a ``/`` in it, not a URL, not an API route; see
``_is_path``) must exist in the repository; a span with ``*`` must match at least one file. Paths the agent or a run creates (``spool/``,
``keys/``, ``demo-run/`` …) are named in ``NOT_IN_REPOSITORY``. Relative Markdown links must resolve
too, and no document may send readers outside the repository (``../shared``).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = sorted((ROOT / "docs").glob("*.md")) + [ROOT / "README.md"]

#: Prefixes of paths that are not files of the repository: an agent's working directory, files a
#: run or an install creates, and temporary directories used in examples.
NOT_IN_REPOSITORY = (
    "spool/", "keys/", "state/", "data/", "demo-run/", ".venv/", "build/", "instance/", "/tmp/",
)

_FENCE = re.compile(r"^(```|~~~).*?^\1[ \t]*$", re.S | re.M)
_CODE_SPAN = re.compile(r"(`+)(.+?)\1", re.S)
_LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")


def _prose(path: Path) -> str:
    """The file without fenced code blocks (commands and sample output, not references)."""
    return _FENCE.sub("", path.read_text(encoding="utf-8"))


def _is_path(span: str) -> bool:
    """A file or directory reference: ``a/b.ext``, ``a/b/``, or anything under a top-level entry.

    Slashed codes that are no paths (``SO/VSO``, ``jeugdhub/bsn-pseudonym/v1``) have neither an
    extension nor a trailing slash nor an existing first component.
    """
    if not span or any(c.isspace() for c in span) or "/" not in span:
        return False
    if "://" in span or span.startswith("/"):  # URLs, API routes and absolute paths
        return False
    if span.startswith(NOT_IN_REPOSITORY):
        return False
    first, last = span.split("/", 1)[0], span.rstrip("/").rsplit("/", 1)[-1]
    return span.endswith("/") or "." in last or (ROOT / first).exists()


def repository_paths(path: Path) -> list[str]:
    spans = (m.group(2).strip() for m in _CODE_SPAN.finditer(_prose(path)))
    return sorted({s.rstrip(".,;:") for s in spans if _is_path(s.rstrip(".,;:"))})


def _exists(reference: str) -> bool:
    if "*" in reference or "?" in reference:
        return any(ROOT.glob(reference.rstrip("/")))
    return (ROOT / reference).exists()


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_repository_path_in_backticks_exists(doc: Path):
    missing = [p for p in repository_paths(doc) if not _exists(p)]
    assert not missing, f"{doc.relative_to(ROOT)} names paths that do not exist: {missing}"


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_relative_link_resolves(doc: Path):
    broken = []
    for target in _LINK.findall(_prose(doc)):
        if "://" in target or target.startswith(("#", "mailto:")):
            continue
        if not (doc.parent / target.split("#", 1)[0]).exists():
            broken.append(target)
    assert not broken, f"{doc.relative_to(ROOT)} links to missing files: {broken}"


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_document_points_outside_the_repository(doc: Path):
    assert "../shared" not in doc.read_text(encoding="utf-8"), f"{doc.relative_to(ROOT)} points readers to ../shared"


def test_the_checks_see_the_documents_and_their_paths():
    """Guards the guard: the docs exist, and the extraction finds what it must."""
    names = {p.name for p in DOCS}
    assert {"README.md", "architecture.md", "disclosure-control.md", "partial-format.md", "data-dictionary.md"} <= names
    found = repository_paths(ROOT / "docs" / "architecture.md")
    assert "hub/disclosure/gate.py" in found and "shared/partial.py" in found
    assert _is_path("hub/nope.py") and not _exists("hub/nope.py")
    assert not _is_path("node-agent inspect") and not _is_path("/api/v1/releases") and not _is_path("spool/x.json")
    assert not _is_path("SO/VSO") and _is_path("hub/models/") and _is_path(".ci/run")
