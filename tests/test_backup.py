"""Backups (issue 11, "What must be true" 4): `xinye backup DIR` and `xinye restore DIR` round-trip the whole
database (SQLite by its online backup API, PostgreSQL by pg_dump) and the uploaded files: every table's row
count and the checksum of its rows are identical; a database that holds data is refused without --force."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from django.db import connection

from xinye.common.backup import table_digests

ROOT = Path(__file__).resolve().parent.parent


def _url(name: str) -> str:
    s = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{name}"
    return f"postgres://{s['USER']}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{name}"


def _xinye(*args, database: str, media: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "DATABASE_URL": database, "XINYE_MEDIA_ROOT": str(media)}
    return subprocess.run(
        [sys.executable, "-m", "xinye.cli", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600
    )


DIGESTS = (
    "import django, json; django.setup(); from xinye.common.backup import table_digests; "
    "print(json.dumps(table_digests()))"
)


def _digests_of(name: str) -> dict:
    """Every table's row count and checksum in another database, read by another process."""
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "DATABASE_URL": _url(name),
           "DJANGO_SETTINGS_MODULE": "xinye.config.settings"}  # fmt: skip
    done = subprocess.run([sys.executable, "-c", DIGESTS], cwd=ROOT, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout)


@pytest.mark.django_db(transaction=True)
def test_backup_and_restore_round_trip_every_table_and_the_photos(live_demo, tmp_path):
    media = tmp_path / "media"
    (media / "demands" / "2026").mkdir(parents=True)
    photo = os.urandom(5000)
    (media / "demands" / "2026" / "photo.jpg").write_bytes(photo)
    here = _url(connection.settings_dict["NAME"])

    made = _xinye("backup", str(tmp_path / "b1"), database=here, media=media)
    assert made.returncode == 0, made.stderr[-2000:]
    manifest = json.loads((tmp_path / "b1" / "manifest.json").read_text())
    assert manifest["tables"] == table_digests()  # the backup holds exactly what the database holds
    assert manifest["tables"]["people_person"]["rows"] > 1000
    assert any(t.startswith("people_historical") and d["rows"] for t, d in manifest["tables"].items())

    if connection.vendor == "sqlite":
        new_name = str(tmp_path / "restored.sqlite3")
    else:
        new_name = f"xinye_restore_{uuid.uuid4().hex[:8]}"
        with connection.cursor() as cursor:
            cursor.execute(f'CREATE DATABASE "{new_name}"')
    try:
        restored = _xinye("restore", str(tmp_path / "b1"), database=_url(new_name), media=tmp_path / "media2")
        assert restored.returncode == 0, restored.stderr[-2000:]
        assert "every digest as in the backup" in restored.stdout
        assert _digests_of(new_name) == manifest["tables"]  # every table: same row count, same checksum
        assert (tmp_path / "media2" / "demands" / "2026" / "photo.jpg").read_bytes() == photo

        again = _xinye("restore", str(tmp_path / "b1"), database=_url(new_name), media=tmp_path / "media2")
        assert again.returncode != 0 and "holds data" in again.stderr and "--force" in again.stderr
        forced = _xinye("restore", str(tmp_path / "b1"), "--force", database=_url(new_name), media=tmp_path / "media2")
        assert forced.returncode == 0, forced.stderr[-2000:]
        assert _digests_of(new_name) == manifest["tables"]
    finally:
        if connection.vendor != "sqlite":
            with connection.cursor() as cursor:
                cursor.execute(f'DROP DATABASE IF EXISTS "{new_name}" WITH (FORCE)')

    refused = _xinye("backup", str(tmp_path / "b1"), database=here, media=media)
    assert refused.returncode != 0 and "is not empty" in refused.stderr
