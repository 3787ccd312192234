"""The README's commands as a newcomer types them: every ``jeugdhub`` and ``node-agent`` command exists
with the options it is shown with, every subcommand answers ``--help``, and the block that tries the
agent on its own runs as written (in a temporary directory instead of ``/tmp/zk``)."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
from pathlib import Path

import click
import pytest

from hub.cli.main import main as hub_main
from node_agent.cli import main as agent_main
from shared.scripts import console_script, scripts_dir

ROOT = Path(__file__).resolve().parents[1]
READMES = [ROOT / "README.md", ROOT / "node_agent" / "README.md"]

def _hub_group() -> click.Group:
    """``jeugdhub`` with every command the app adds (hub.cli.init_app, Flask-Migrate's ``db``)."""
    from tests.hub.conftest import make_app

    app = make_app(SQLALCHEMY_DATABASE_URI="sqlite://")
    return click.Group("jeugdhub", commands={**hub_main.commands, **app.cli.commands})


GROUPS = {"jeugdhub": _hub_group(), "node-agent": agent_main}


def _blocks(path: Path) -> list[list[str]]:
    """The ``sh`` code blocks of a Markdown file, as lists of command lines (comments stripped)."""
    blocks = re.findall(r"```sh\n(.*?)```", path.read_text(encoding="utf-8"), re.S)
    return [[line.split("  #")[0].strip() for line in b.splitlines() if line.strip() and not line.startswith("#")]
            for b in blocks]


def _commands() -> list[tuple[str, list[str]]]:
    """(README name, argv) of every jeugdhub / node-agent command in the READMEs' shell blocks."""
    out = []
    for path in READMES:
        for block in _blocks(path):
            for line in block:
                for part in line.split("&&"):
                    argv = shlex.split(part.split(" # ")[0])
                    if argv and argv[0] in GROUPS:
                        out.append((path.name, argv))
    return out


def _resolve(argv: list[str]) -> tuple[click.Command, list[str], list[str]]:
    """The click command an argv names, the path of subcommand names, and the words after it."""
    command: click.Command = GROUPS[argv[0]]
    path = [argv[0]]
    words = argv[1:]
    while isinstance(command, click.Group) and words and not words[0].startswith("-"):
        name = words[0]
        assert name in command.commands, f"`{' '.join(argv)}`: {' '.join(path)} has no subcommand {name}"
        command = command.commands[name]
        path.append(name)
        words = words[1:]
    return command, path, words


COMMANDS = _commands()


def test_the_readmes_show_commands_of_both_programs():
    shown = {argv[0] for _, argv in COMMANDS}
    assert shown == {"jeugdhub", "node-agent"}
    assert len(COMMANDS) > 20


@pytest.mark.parametrize("readme, argv", COMMANDS, ids=[" ".join(a) for _, a in COMMANDS])
def test_every_readme_command_exists_with_its_options(readme, argv):
    command, path, words = _resolve(argv)
    known = {"--help"} | {opt for param in command.params for opt in (*param.opts, *param.secondary_opts)}
    for word in words:
        if word.startswith("--"):
            assert word.split("=")[0] in known, f"{readme}: `{' '.join(path)}` has no option {word}"


@pytest.mark.parametrize("path", sorted({tuple(_resolve(a)[1]) for _, a in COMMANDS}), ids=" ".join)
def test_every_readme_subcommand_answers_help(path):
    script = console_script(path[0])
    assert script, f"{path[0]} is not installed next to this Python"
    result = subprocess.run([script, *path[1:], "--help"], capture_output=True, text=True, timeout=60,
                            env={**os.environ, "HUB_SQLALCHEMY_DATABASE_URI": "sqlite://"})
    assert result.returncode == 0, result.stderr
    assert "Usage:" in result.stdout and "Traceback" not in result.stderr


def test_the_try_the_agent_alone_block_runs_as_written(tmp_path):
    block = next(b for b in _blocks(ROOT / "README.md") if any("demo-data" in line for line in b))
    script = "set -euo pipefail\n" + "\n".join(line.replace("/tmp/zk", str(tmp_path / "zk")) for line in block)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HUB_", "VIRTUAL_ENV"))}
    env["PATH"] = "/usr/bin:/bin"  # what a newcomer has: only the activation line puts the scripts on PATH
    activate = ROOT / ".venv" / "bin" / "activate"
    if not activate.exists() or scripts_dir() != activate.parent:
        # Not the README's .venv (a developer's own environment): activate this Python's scripts instead.
        script = script.replace(". .venv/bin/activate", f'export PATH="{scripts_dir()}:$PATH"')
    result = subprocess.run(["bash", "-c", script], cwd=ROOT, capture_output=True, text=True, env=env, timeout=600)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "Traceback" not in result.stderr
    assert "vestigingscode,schooljaar,measure,category,value" in result.stdout
