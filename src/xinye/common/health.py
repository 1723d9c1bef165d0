"""`/healthz`: what a load balancer or a monitor asks (issue 11).

JSON with the database (a query and its time), the shared cache (a write and a read) and the background
worker (its last heartbeat, written every minute by the worker's recovery schedule). 200 when the web tier
can serve (database and cache answer); 503 when not. A worker that has not beaten for 3 minutes makes the
status "degraded" (still 200: the pages work, jobs wait). Nothing personal; no sign-in. It counts against
the anonymous budget per address like any page (300/minute: a load balancer polling every second stays far
below it).
"""

from __future__ import annotations

import time
import uuid

from django.core.cache import cache
from django.db import connection
from django.http import JsonResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache

WORKER_LATE_SECONDS = 180


def _check(fn) -> dict:
    started = time.perf_counter()
    try:
        fn()
    except Exception as exc:  # a health check reports every failure rather than raising
        return {"ok": False, "error": type(exc).__name__}
    return {"ok": True, "ms": round(1000 * (time.perf_counter() - started), 1)}


def _database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


def _cache() -> None:
    key = f"xinye:healthz:{uuid.uuid4().hex}"
    cache.set(key, "1", timeout=10)
    if cache.get(key) != "1":
        raise RuntimeError("the cache did not keep a value")
    cache.delete(key)


def health() -> dict:
    from .jobs import worker_last_beat

    database = _check(_database)
    shared = _check(_cache) if database["ok"] or "Redis" in type(cache).__name__ else {"ok": False, "error": "database"}
    worker: dict = {"ok": False, "last_beat_seconds_ago": None}
    try:
        beat = worker_last_beat()
    except Exception as exc:  # the cache is down: already reported
        worker["error"] = type(exc).__name__
    else:
        if beat is not None:
            age = (timezone.now() - beat).total_seconds()
            worker = {"ok": age < WORKER_LATE_SECONDS, "last_beat_seconds_ago": round(age)}
    status = "ok" if database["ok"] and shared["ok"] and worker["ok"] else "degraded"
    if not (database["ok"] and shared["ok"]):
        status = "fail"
    return {"status": status, "database": database, "cache": shared, "worker": worker}


@never_cache
def healthz(request):
    body = health()
    return JsonResponse(body, status=503 if body["status"] == "fail" else 200)
