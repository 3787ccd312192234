"""The ``jeugdhub`` entry point: a hub that cannot start, or a database not there, is one Dutch line."""

from __future__ import annotations

import os
import subprocess

from shared.scripts import console_script


def jeugdhub(tmp_path, *args, **env):
    script = console_script("jeugdhub")
    assert script, "pip install -e '.[hub]' into this Python first"
    base = {k: v for k, v in os.environ.items() if not k.startswith("HUB_")}
    base.update({"HUB_SECRET_KEY": "x" * 40, "HUB_CACHE_DIR": str(tmp_path / "cache"),
                 "HUB_SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'hub.sqlite'}", **env})
    return subprocess.run([script, *args], capture_output=True, text=True, cwd=tmp_path, env=base, timeout=120)


def test_a_hub_production_refuses_says_why_without_a_traceback(tmp_path):
    result = jeugdhub(tmp_path, "round", "list", HUB_ENV="production")
    assert result.returncode == 78
    assert "de hub kan niet starten" in result.stderr and "unsafe_config" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout


def test_a_database_without_its_schema_says_to_upgrade(tmp_path):
    result = jeugdhub(tmp_path, "round", "list", HUB_ENV="development")
    assert result.returncode == 69
    assert "jeugdhub db upgrade" in result.stderr and "Traceback" not in result.stderr + result.stdout


def test_a_database_that_cannot_be_opened_names_the_setting(tmp_path):
    result = jeugdhub(tmp_path, "round", "list", HUB_ENV="development",
                      HUB_SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'absent' / 'hub.sqlite'}")
    assert result.returncode == 69
    assert "HUB_SQLALCHEMY_DATABASE_URI" in result.stderr and "Traceback" not in result.stderr + result.stdout


def test_the_instance_folder_is_hub_instance_path(tmp_path):
    folder = tmp_path / "region-hub"
    env = {"HUB_ENV": "development", "HUB_INSTANCE_PATH": str(folder)}
    base = {k: v for k, v in os.environ.items() if not k.startswith("HUB_")}
    result = subprocess.run([console_script("jeugdhub"), "db", "upgrade"], capture_output=True, text=True,
                            cwd=tmp_path, env={**base, **env}, timeout=120)
    assert result.returncode == 0, result.stderr
    assert (folder / "hub.sqlite").is_file() and (folder / "secret_key").is_file()
