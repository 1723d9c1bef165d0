"""Backups and restores (issue 11): `xinye backup DIR`, `xinye restore DIR [--force]`.

A backup is a folder:
- `database.sqlite3` (SQLite, by its online backup API: a consistent copy while the site serves) or
  `database.dump` (PostgreSQL, `pg_dump --format=custom`);
- `media.tar` the uploaded files (demands' photos), when there are any;
- `manifest.json`: when, which engine, the migrations applied, and every table's row count and a SHA-256 of
  its rows, so a restore proves itself: after restoring, the same digests are computed and compared.

A restore refuses a database that holds data (any table but the framework's own bookkeeping) unless
`--force`; with `--force` it replaces it. docs/operations.md gives a schedule and retention.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
from datetime import UTC, datetime
from pathlib import Path

from django.conf import settings
from django.db import connections, transaction

from xinye.algorithms.errors import XinyeError

#: tables that a freshly migrated, empty database already fills (they do not make it "non-empty")
BOOKKEEPING = {"django_migrations", "django_content_type", "auth_permission", "xinye_cache", "django_session"}
MANIFEST = "manifest.json"


class BackupError(XinyeError):
    pass


def _engine(alias: str = "default") -> str:
    vendor = connections[alias].vendor
    if vendor not in {"sqlite", "postgresql"}:
        raise BackupError(f"backups support SQLite and PostgreSQL, not {vendor}")
    return vendor


def table_digests(alias: str = "default") -> dict[str, dict]:
    """{table: {"rows": n, "sha256": digest of its rows in key order}} for every table of the database."""
    conn = connections[alias]
    out = {}
    with conn.cursor() as cursor:
        for table in sorted(conn.introspection.table_names(cursor)):
            columns = [c.name for c in conn.introspection.get_table_description(cursor, table)]
            order = ", ".join(conn.ops.quote_name(c) for c in columns)
            cursor.execute(f"SELECT * FROM {conn.ops.quote_name(table)} ORDER BY {order}")  # noqa: S608 - names from the schema
            h = hashlib.sha256()
            n = 0
            while rows := cursor.fetchmany(2000):
                for row in rows:
                    h.update(repr(tuple(bytes(v) if isinstance(v, memoryview) else v for v in row)).encode())
                    h.update(b"\n")
                    n += 1
            out[table] = {"rows": n, "sha256": h.hexdigest()}
    return out


def holds_data(alias: str = "default") -> list[str]:
    """The tables of the database that hold rows, bookkeeping left out (empty list: an empty database)."""
    conn = connections[alias]
    full = []
    with conn.cursor() as cursor:
        for table in conn.introspection.table_names(cursor):
            if table in BOOKKEEPING or table.startswith("django_q_"):
                continue
            cursor.execute(f"SELECT 1 FROM {conn.ops.quote_name(table)} LIMIT 1")  # noqa: S608
            if cursor.fetchone():
                full.append(table)
    return sorted(full)


def _applied_migrations(alias: str) -> list[str]:
    with connections[alias].cursor() as cursor:
        cursor.execute("SELECT app, name FROM django_migrations ORDER BY app, name")
        return [f"{a}.{n}" for a, n in cursor.fetchall()]


def _pg_env(alias: str) -> tuple[list[str], dict]:
    s = connections[alias].settings_dict
    args = ["--host", s.get("HOST") or "127.0.0.1", "--port", str(s.get("PORT") or 5432)]
    if s.get("USER"):
        args += ["--username", s["USER"]]
    env = {**os.environ}
    if s.get("PASSWORD"):
        env["PGPASSWORD"] = s["PASSWORD"]
    return args, env


def _run(argv: list[str], env: dict) -> None:
    try:
        done = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)
    except FileNotFoundError as exc:
        raise BackupError(f"{argv[0]} is not installed (Debian: apt install postgresql-client)") from exc
    if done.returncode != 0:
        raise BackupError(f"{argv[0]} failed: {done.stderr.strip()[-2000:]}")


def backup(directory: Path, *, alias: str = "default") -> dict:
    """Write a backup of the database and the uploaded files into `directory` (created; must be empty)."""
    engine = _engine(alias)
    directory = Path(directory)
    if directory.exists() and any(directory.iterdir()):
        raise BackupError(f"{directory} is not empty: give a new folder for each backup")
    directory.mkdir(parents=True, exist_ok=True)
    conn = connections[alias]
    if engine == "sqlite":
        target = directory / "database.sqlite3"
        source = sqlite3.connect(conn.settings_dict["NAME"], timeout=30)
        try:
            copy = sqlite3.connect(target)
            with copy:
                source.backup(copy)  # consistent, page by page, while others keep reading and writing
            copy.close()
        finally:
            source.close()
        digests = _digests_of_sqlite(target)
        database_file = target.name
    else:
        args, env = _pg_env(alias)
        target = directory / "database.dump"
        # one snapshot for the dump and the digests: consistent while the site keeps writing
        with transaction.atomic(using=alias):
            with conn.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
                cursor.execute("SELECT pg_export_snapshot()")
                snapshot = cursor.fetchone()[0]
            _run(
                ["pg_dump", *args, "--format=custom", "--no-owner", f"--snapshot={snapshot}", "--file", str(target),
                 conn.settings_dict["NAME"]],
                env,
            )  # fmt: skip
            digests = table_digests(alias)
        database_file = target.name
    media = Path(settings.MEDIA_ROOT)
    files = []
    if media.is_dir() and any(media.rglob("*")):
        with tarfile.open(directory / "media.tar", "w") as tar:
            for path in sorted(p for p in media.rglob("*") if p.is_file()):
                rel = path.relative_to(media).as_posix()
                tar.add(path, arcname=rel)
                files.append({"path": rel, "sha256": hashlib.sha256(path.read_bytes()).hexdigest()})
    manifest = {
        "made_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "engine": engine,
        "database_file": database_file,
        "migrations": _applied_migrations(alias),
        "tables": digests,
        "media": files,
    }
    (directory / MANIFEST).write_text(json.dumps(manifest, indent=1, ensure_ascii=False), encoding="utf-8")
    return manifest


def _digests_of_sqlite(path: Path) -> dict:
    """The digests of a SQLite file, read through Django's introspection on a temporary connection."""
    from django.db import connections as conns

    alias = f"backup-{os.getpid()}-{abs(hash(str(path)))}"
    conns.settings[alias] = {**connections["default"].settings_dict, "NAME": str(path), "TEST": {}}
    try:
        return table_digests(alias)
    finally:
        conns[alias].close()
        del conns.settings[alias]
        if hasattr(conns._connections, alias):
            delattr(conns._connections, alias)


def restore(directory: Path, *, force: bool = False, alias: str = "default") -> dict:
    """Restore a backup into the configured database (and the uploaded files). Refuses a database that holds
    data unless `force`. Returns {"tables": n, "media": n} after checking every table's digest."""
    directory = Path(directory)
    manifest_path = directory / MANIFEST
    if not manifest_path.is_file():
        raise BackupError(f"{directory}: no {MANIFEST}; is this a backup folder made by xinye backup?")
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    engine = _engine(alias)
    if manifest["engine"] != engine:
        raise BackupError(f"this backup is of a {manifest['engine']} database; the configured one is {engine}")
    full = holds_data(alias)
    if full and not force:
        raise BackupError(
            f"the database holds data ({len(full)} tables, e.g. {', '.join(full[:3])}); restore into an empty "
            "database, or give --force to replace it"
        )
    conn = connections[alias]
    source = directory / manifest["database_file"]
    if engine == "sqlite":
        name = conn.settings_dict["NAME"]
        conn.close()
        src = sqlite3.connect(source)
        dst = sqlite3.connect(name, timeout=30)
        try:
            with dst:
                src.backup(dst)
        finally:
            src.close()
            dst.close()
    else:
        args, env = _pg_env(alias)
        conn.close()
        _run(
            [
                "pg_restore",
                *args,
                "--clean",
                "--if-exists",
                "--no-owner",
                "--single-transaction",
                "--dbname",
                conn.settings_dict["NAME"],
                str(source),
            ],
            env,
        )
    restored = table_digests(alias)
    wrong = sorted(t for t, d in manifest["tables"].items() if restored.get(t) != d)
    if wrong:
        raise BackupError(f"the restored database differs from the backup in {len(wrong)} table(s): {wrong[:5]}")
    media = Path(settings.MEDIA_ROOT)
    tar_path = directory / "media.tar"
    count = 0
    if tar_path.is_file():
        if force and media.exists():
            shutil.rmtree(media)
        media.mkdir(parents=True, exist_ok=True)
        with tarfile.open(tar_path) as tar:
            tar.extractall(media, filter="data")  # no absolute paths, no links out of the folder
        for f in manifest["media"]:
            if hashlib.sha256((media / f["path"]).read_bytes()).hexdigest() != f["sha256"]:
                raise BackupError(f"uploaded file {f['path']} differs from the backup")
            count += 1
    return {"tables": len(restored), "rows": sum(d["rows"] for d in restored.values()), "media": count}
