"""Request ids and structured logs (issue 11).

Every request gets an id: the one a trusted front proxy sent in X-Request-ID when it is a plain token, else a
new one. It is sent back in X-Request-ID, and every log line written while the request is handled carries it
(`RequestIdFilter`), so the proxy's, the web tier's and an error tracker's records of one request meet.
`JsonFormatter` writes one JSON object per line (XINYE_LOG_FORMAT=json, the default in production).
"""

from __future__ import annotations

import contextvars
import json
import logging
import re
import time
import uuid

from django.core.signals import request_finished

_request_id: contextvars.ContextVar[str] = contextvars.ContextVar("xinye_request_id", default="")
_user_id: contextvars.ContextVar[str] = contextvars.ContextVar("xinye_user_id", default="")
TOKEN = re.compile(r"^[A-Za-z0-9._-]{8,64}$")
access = logging.getLogger("xinye.request")


def current_request_id() -> str:
    return _request_id.get()


class RequestIdMiddleware:
    """First in the chain: gives the request its id, answers with it, and logs one line per request at INFO
    (method, path without the query string, status, duration; the user's id, never a name)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        incoming = request.META.get("HTTP_X_REQUEST_ID", "")
        rid = incoming if TOKEN.match(incoming) and _from_trusted_proxy(request) else uuid.uuid4().hex
        request.request_id = rid
        _request_id.set(rid)  # kept until the response is finished: Django logs "Not Found" after the middleware
        _user_id.set("")
        started = time.perf_counter()
        response = self.get_response(request)
        user = getattr(request, "user", None)
        if user is not None and getattr(user, "is_authenticated", False):
            _user_id.set(str(user.pk))
        response["X-Request-ID"] = rid
        if access.isEnabledFor(logging.INFO):
            ms = round(1000 * (time.perf_counter() - started), 1)
            access.info(
                "%s %s %s %.1f ms",
                request.method,
                request.path,
                response.status_code,
                ms,
                extra={"status": response.status_code, "duration_ms": ms},
            )
        return response


def _clear(**kwargs) -> None:
    _request_id.set("")
    _user_id.set("")


request_finished.connect(_clear, dispatch_uid="xinye-request-id-clear")


def _from_trusted_proxy(request) -> bool:
    from .ratelimit import _ip, _trusted, trusted_proxies

    nets = trusted_proxies()
    return bool(nets) and _trusted(_ip(request.META.get("REMOTE_ADDR", "") or ""), nets)


class RequestIdFilter(logging.Filter):
    """Puts the current request's id (and the signed-in user's id) on every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = getattr(record, "request_id", "") or _request_id.get()
        record.user_id = getattr(record, "user_id", "") or _user_id.get()
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time (UTC), level, logger, message, request_id, user_id, and the traceback
    under "exc" when there is one. JSON escapes every control character: nothing can forge a line."""

    EXTRA = ("status", "duration_ms", "error_id", "job")

    def format(self, record: logging.LogRecord) -> str:
        out = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + f".{int(record.msecs):03d}Z",
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", "") or _request_id.get(),
        }
        user = getattr(record, "user_id", "") or _user_id.get()
        if user:
            out["user_id"] = user
        for key in self.EXTRA:
            if hasattr(record, key):
                out[key] = getattr(record, key)
        if record.exc_info:
            out["exc"] = self.formatException(record.exc_info)
        return json.dumps(out, ensure_ascii=False, default=str)
