"""`xinye serve`: the web tier in production: gunicorn, static files by WhiteNoise, logs to standard error."""

from __future__ import annotations

import os
import sys

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = (
        "Serve Xinye with gunicorn (several processes sharing the database and its cache, or Redis when "
        "XINYE_REDIS_URL is set). Collects the static files first (WhiteNoise serves them, compressed). The web "
        "tier keeps nothing of its own: run it on as many machines as needed behind a proxy (docs/operations.md)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--bind", default=os.environ.get("XINYE_BIND", "127.0.0.1:8000"), help="address:port")
        parser.add_argument(
            "--workers",
            type=int,
            default=int(os.environ.get("XINYE_WEB_PROCESSES", "0") or 0),
            help="processes (default: 2 per core plus 1, at most 9)",
        )
        parser.add_argument("--threads", type=int, default=1, help="threads per process (default 1)")
        parser.add_argument("--timeout", type=int, default=60, help="seconds a request may take (default 60)")
        parser.add_argument("--no-collectstatic", action="store_true", help="the static files are collected already")
        parser.add_argument("--dry-run", action="store_true", help="print the server's command line and stop")

    def handle(self, *args, **o):
        try:
            import gunicorn  # noqa: F401
        except ImportError as exc:
            raise CommandError("gunicorn is not installed: pip install 'xinye' brings it") from exc
        workers = o["workers"] or min(9, 2 * (os.cpu_count() or 1) + 1)
        argv = [
            sys.executable,
            "-m",
            "gunicorn",
            "xinye.config.wsgi:application",
            "--bind",
            o["bind"],
            "--workers",
            str(workers),
            "--threads",
            str(o["threads"]),
            "--timeout",
            str(o["timeout"]),
            "--graceful-timeout",
            "30",
            "--max-requests",
            "5000",
            "--max-requests-jitter",
            "500",
            "--error-logfile",
            "-",
            "--forwarded-allow-ips",
            ",".join(settings.XINYE_TRUSTED_PROXIES) or "127.0.0.1",
            "--worker-tmp-dir",
            "/dev/shm" if os.path.isdir("/dev/shm") else "/tmp",
        ]
        if o["dry_run"]:
            self.stdout.write(" ".join(argv))
            return
        if not o["no_collectstatic"]:
            call_command("collectstatic", "--noinput", verbosity=0)
        sys.stdout.flush()
        sys.stderr.flush()
        os.execv(sys.executable, argv)  # the server replaces this process (signals go straight to it)
