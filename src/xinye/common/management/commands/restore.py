"""`xinye restore DIR [--force]`: restore a backup made by `xinye backup`, and prove it by its digests."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from xinye.common.backup import BackupError, restore


class Command(BaseCommand):
    help = (
        "Restore a backup folder into the configured database and media folder. Refuses a database that holds "
        "data unless --force (which replaces it). Checks every table's row count and digest against the backup."
    )

    def add_arguments(self, parser):
        parser.add_argument("directory", type=Path, help="a folder made by xinye backup")
        parser.add_argument("--force", action="store_true", help="replace a database that holds data")

    def handle(self, *args, directory: Path, force: bool, **o):
        try:
            result = restore(directory, force=force)
        except BackupError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            f"restored {result['tables']} tables ({result['rows']} rows, every digest as in the backup) and "
            f"{result['media']} uploaded file(s)"
        )
