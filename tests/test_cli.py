"""The `xinye` console script carries every command. Issue #2."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest

XINYE = shutil.which("xinye") or os.path.join(os.path.dirname(os.sys.executable), "xinye")


def _run(*args, **env):
    return subprocess.run([XINYE, *args], capture_output=True, text=True, env={**os.environ, **env}, check=False)


def test_help_lists_django_and_xinye_commands():
    out = _run("--help")
    assert out.returncode == 0
    for command in ("migrate", "places", "demo", "runserver"):
        assert command in out.stdout


def test_places_help_shows_import_and_locate():
    out = _run("places", "--help")
    assert out.returncode == 0 and "import" in out.stdout and "locate" in out.stdout


@pytest.mark.django_db
def test_an_unknown_city_fails_with_a_message_and_exit_status(tmp_path):
    out = _run(
        "places", "import", "--city", "9999", XINYE_VAR=str(tmp_path), DATABASE_URL=f"sqlite:///{tmp_path}/x.sqlite3"
    )
    assert out.returncode == 1
    assert "unknown city code '9999'; nothing was written" in out.stderr
