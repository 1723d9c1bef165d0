"""The `xinye` console script: every Django management command and Xinye's own.

xinye --help            list every command
xinye migrate           Django's commands work as with manage.py
xinye places import --city 4403
xinye demo --city 4403 --workers 50000 --seed 1
"""

from __future__ import annotations

import os
import sys


def main(argv: list[str] | None = None) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "xinye.config.settings")
    from django.conf import settings
    from django.core.exceptions import ImproperlyConfigured
    from django.core.management import execute_from_command_line

    argv = list(sys.argv if argv is None else argv)
    argv[0] = "xinye"
    if len(argv) == 1 or argv[1] in {"-h", "--help"}:
        argv[1:] = ["help"]
    try:
        settings.VAR_DIR.mkdir(parents=True, exist_ok=True)
    except ImproperlyConfigured as exc:  # e.g. the development secret key with debug off: refuse to start
        sys.stderr.write(f"xinye: {exc}\n")
        raise SystemExit(2) from None
    execute_from_command_line(argv)


if __name__ == "__main__":
    main()
