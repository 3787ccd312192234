"""Fixtures for the agent's tests: an initialised node in a temporary folder."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from node_agent.cli import main


@pytest.fixture
def node(tmp_path: Path) -> Path:
    """A node folder after ``node-agent init --gemeentecode 0356``; returns the config path."""
    config = tmp_path / "node-agent.toml"
    result = CliRunner().invoke(main, ["--config", str(config), "init", "--gemeentecode", "0356"])
    assert result.exit_code == 0, result.output
    return config
