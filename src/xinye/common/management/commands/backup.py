"""`xinye backup DIR`: the database and the uploaded files, with a manifest of every table's digest."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from xinye.common.backup import BackupError, backup


class Command(BaseCommand):
    help = (
        "Back up the database (SQLite: online backup API; PostgreSQL: pg_dump custom format, one snapshot) and "
        "the uploaded files into a new folder, with manifest.json (row counts and SHA-256 of every table). "
        "Safe while the site serves."
    )

    def add_arguments(self, parser):
        parser.add_argument("directory", type=Path, help="a new (or empty) folder")

    def handle(self, *args, directory: Path, **o):
        try:
            manifest = backup(directory)
        except BackupError as exc:
            raise CommandError(str(exc)) from exc
        rows = sum(t["rows"] for t in manifest["tables"].values())
        self.stdout.write(
            f"backed up {len(manifest['tables'])} tables ({rows} rows) and {len(manifest['media'])} uploaded "
            f"file(s) to {directory}"
        )
