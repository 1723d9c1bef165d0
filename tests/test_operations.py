"""Running it for real (issue 11, "What must be true" 3): a production server (`xinye serve`: gunicorn and
WhiteNoise), /healthz for database, cache and worker, structured logs with a request id, settings validated
at start with clear messages."""

from __future__ import annotations

import json
import logging
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from django.db import connection

from xinye.common import health, jobs
from xinye.common.requests import JsonFormatter, RequestIdFilter

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.django_db


def test_healthz_reports_database_cache_and_worker(client, monkeypatch):
    body = client.get("/healthz").json()
    assert body["database"]["ok"] and body["cache"]["ok"]
    if not body["worker"]["ok"]:
        assert body["status"] == "degraded"
    jobs.worker_beat()
    response = client.get("/healthz")
    assert response.status_code == 200 and response.json()["status"] == "ok"
    assert response["Cache-Control"].startswith("max-age=0")

    def down():
        raise ConnectionError("the database is down")

    monkeypatch.setattr(health, "_database", down)
    response = client.get("/healthz")
    assert response.status_code == 503 and response.json()["status"] == "fail"
    assert response.json()["database"] == {"ok": False, "error": "ConnectionError"}


def test_every_response_has_a_request_id_and_only_a_trusted_proxy_may_set_it(client, settings):
    first = client.get("/accounts/login/")
    assert len(first["X-Request-ID"]) == 32
    forged = client.get("/accounts/login/", HTTP_X_REQUEST_ID="chosen-by-client-1")
    assert forged["X-Request-ID"] != "chosen-by-client-1"
    settings.XINYE_TRUSTED_PROXIES = ["127.0.0.1"]
    assert client.get("/accounts/login/", HTTP_X_REQUEST_ID="edge-7f3a9c21")["X-Request-ID"] == "edge-7f3a9c21"
    bad = client.get("/accounts/login/", HTTP_X_REQUEST_ID="no\nnewlines")
    assert bad["X-Request-ID"] != "no\nnewlines" and len(bad["X-Request-ID"]) == 32


def test_log_lines_are_json_with_the_request_id(client):
    lines: list[str] = []

    class Keep(logging.Handler):
        def emit(self, record):
            lines.append(self.format(record))

    handler = Keep()
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RequestIdFilter())
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        response = client.get("/no-such-page/\nforged line")
    finally:
        root.removeHandler(handler)
    assert response.status_code == 404
    records = [json.loads(line) for line in lines]
    mine = [r for r in records if r["request_id"] == response["X-Request-ID"]]
    assert mine and all("\n" not in line for line in lines)
    assert any(r["level"] == "WARNING" and "Not Found" in r["message"] for r in mine)


def _check(**env) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "xinye.cli", "check"],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT / "src"), **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_settings_are_validated_at_start_with_clear_messages():
    bad = [
        ({"XINYE_WORKER_PROCESSES": "two"}, "XINYE_WORKER_PROCESSES must be a whole number, not 'two'"),
        ({"XINYE_RATE_FINDER": "lots"}, "XINYE_RATE_FINDER: 'lots' is not a rate like 60/minute"),
        ({"XINYE_LOG_FORMAT": "xml"}, "XINYE_LOG_FORMAT must be json or text"),
        ({"DATABASE_URL": "mysqlx://nowhere"}, "DATABASE_URL is not a database address"),
    ]
    for env, message in bad:
        result = _check(**env)
        assert result.returncode != 0 and message in result.stderr, (env, result.stderr[-500:])
    production = {
        "XINYE_PRODUCTION": "1",
        "XINYE_SECRET_KEY": secrets.token_urlsafe(50),
        "XINYE_ALLOWED_HOSTS": "xinye.example.cn",
    }
    result = _check(**production)
    assert result.returncode != 0 and "XINYE_SMS_SENDER is the development sender" in result.stderr
    assert _check(**production, XINYE_ALLOW_CONSOLE_SMS="1").returncode == 0


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url: str):
    try:
        return urllib.request.urlopen(url, timeout=5)  # noqa: S310 - a local test server
    except urllib.error.HTTPError as exc:
        return exc


@pytest.mark.django_db(transaction=True)
def test_the_production_server_serves_pages_static_files_and_healthz(tmp_path):
    s = connection.settings_dict
    url = (
        f"sqlite:///{s['NAME']}"
        if connection.vendor == "sqlite"
        else f"postgres://{s['USER']}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"
    )
    port = _free_port()
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT / "src"),
        "DATABASE_URL": url,
        "XINYE_DEBUG": "0",
        "XINYE_SECRET_KEY": secrets.token_urlsafe(50),
        "XINYE_VAR": str(tmp_path),
        "XINYE_LOG_FORMAT": "json",
    }
    server = subprocess.Popen(
        [sys.executable, "-m", "xinye.cli", "serve", "--bind", f"127.0.0.1:{port}", "--workers", "2"],
        cwd=ROOT,
        env=env,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                health_response = urllib.request.urlopen(f"{base}/healthz", timeout=2)  # noqa: S310
                break
            except OSError:
                assert server.poll() is None, server.stderr.read()[-2000:]
                assert time.monotonic() < deadline, "the server did not start"
                time.sleep(0.5)
        assert health_response.status == 200 and json.load(health_response)["database"]["ok"]
        css = _get(f"{base}/static/xinye/app.css")
        assert css.status == 200 and css.headers["Content-Type"].startswith("text/css")
        login = _get(f"{base}/accounts/login/")
        assert login.status == 200 and len(login.headers["X-Request-ID"]) == 32
        assert (
            "gunicorn"
            in subprocess.run(["ps", "-o", "args=", "-p", str(server.pid)], capture_output=True, text=True).stdout
        )
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
