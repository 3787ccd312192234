"""Where this Python's console scripts live (``node-agent``, ``jeugdhub``), independent of ``PATH``.

A virtual environment or a pyenv build puts them next to the interpreter; that directory is not on
``PATH`` until the environment is activated (or ``pyenv rehash`` ran), so callers look there first.
"""

from __future__ import annotations

import shutil
import sys
import sysconfig
from pathlib import Path


def scripts_dir() -> Path:
    """The directory pip installs this interpreter's console scripts into."""
    return Path(sysconfig.get_path("scripts"))


def console_script(name: str) -> str | None:
    """The absolute path of console script ``name`` for this Python, else the one ``PATH`` finds, else None."""
    for candidate in (scripts_dir() / name, Path(sys.executable).parent / name):
        if candidate.is_file():
            return str(candidate)
    return shutil.which(name)


def activation_hint() -> str:
    """A shell line that puts this Python's scripts on ``PATH`` (empty when they are already there)."""
    directory = scripts_dir()
    activate = directory / "activate"
    on_path = shutil.which("node-agent") == str(directory / "node-agent")
    if on_path:
        return ""
    if activate.is_file():
        return f". {activate}"
    return f'export PATH="{directory}:$PATH"'
