"""Request hygiene shared by every page and API call: input no honest client sends is refused with a 400 (or a
413 when it is too large) before any view, authentication backend or database sees it."""

from __future__ import annotations

import base64
import binascii
import json
import logging

from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.db import DataError
from django.http import HttpResponse, JsonResponse
from django.http.multipartparser import MultiPartParserError
from django.utils.translation import gettext as _

logger = logging.getLogger(__name__)

#: the HTTP methods Xinye answers; anything else (TRACE, CONNECT, made-up ones) is a 405
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})

#: JSON deeper than this is refused (no API body of Xinye nests more than a few levels)
MAX_JSON_DEPTH = 32

_JSON_TYPES = ("application/json", "+json")

PLAIN = "text/plain; charset=utf-8"


class BadRequest(Exception):
    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.message = message
        self.status = status


def _error_response(request, exc: BadRequest) -> HttpResponse:
    """JSON for the API and Open311 (their clients parse errors), plain text for pages."""
    if request.path.startswith("/open311/"):
        return JsonResponse([{"code": exc.status, "description": exc.message}], status=exc.status, safe=False)
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": exc.message}, status=exc.status)
    return HttpResponse(exc.message, status=exc.status, content_type="text/plain; charset=utf-8")


def _check_headers(request) -> None:
    for key, value in request.META.items():
        if key.startswith("HTTP_") and isinstance(value, str) and "\x00" in value:
            raise BadRequest(_("The header %(name)s holds a NUL character.") % {"name": key[5:]})
    auth = request.META.get("HTTP_AUTHORIZATION", "")
    scheme, _sep, token = auth.strip().partition(" ")
    if scheme.lower() == "basic" and token:
        try:
            decoded = base64.b64decode(token.strip(), validate=True)
        except (binascii.Error, ValueError):
            return  # the authentication class answers a malformed header with its own 401
        if b"\x00" in decoded:
            raise BadRequest(_("The user name or password holds a NUL character."))


def _check_params(request) -> None:
    if "\x00" in request.path:
        raise BadRequest(_("The address holds a NUL character."))
    params = [request.GET]
    content_type = request.META.get("CONTENT_TYPE", "")
    if request.method in ("POST", "PUT", "PATCH") and not any(t in content_type for t in _JSON_TYPES):
        params.append(request.POST)
    for p in params:
        for key, values in p.lists():
            if "\x00" in key or any("\x00" in v for v in values if isinstance(v, str)):
                raise BadRequest(_("The parameter %(name)s holds a NUL character.") % {"name": repr(key)})


def _check_json(request) -> None:
    content_type = request.META.get("CONTENT_TYPE", "").split(";")[0].strip().lower()
    if not (content_type == "application/json" or content_type.endswith("+json")):
        return
    body = request.body
    if not body:
        return
    try:
        data = json.loads(body)
    except RecursionError as exc:
        raise BadRequest(_("The JSON body is nested too deeply.")) from exc
    except ValueError:
        return  # not JSON (or not UTF-8): the view's parser answers that with its own 400
    stack = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if depth > MAX_JSON_DEPTH:
            raise BadRequest(_("The JSON body is nested more than %(n)d levels deep.") % {"n": MAX_JSON_DEPTH})
        if isinstance(value, str):
            if "\x00" in value:
                raise BadRequest(_("A text in the JSON body holds a NUL character."))
        elif isinstance(value, dict):
            for k, v in value.items():
                if "\x00" in k:
                    raise BadRequest(_("A name in the JSON body holds a NUL character."))
                stack.append((v, depth + 1))
        elif isinstance(value, list):
            stack.extend((v, depth + 1) for v in value)


class RequestHygieneMiddleware:
    """Refuse, before anything else reads them:

    - NUL characters in the address, query string, form fields, any header, the user name or password of
      HTTP Basic authentication, and any key or text of a JSON body (PostgreSQL cannot store or compare them,
      and no honest client sends them);
    - JSON bodies nested deeper than MAX_JSON_DEPTH (Python's parser would overflow its recursion limit);
    - bodies over DATA_UPLOAD_MAX_MEMORY_SIZE (413) and forms over DATA_UPLOAD_MAX_NUMBER_FIELDS or
      DATA_UPLOAD_MAX_NUMBER_FILES fields, or damaged multipart bodies (400).
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.method not in METHODS:
            # TRACE echoes the request (cookies included) back; CONNECT and made-up methods have no use here
            response = _error_response(request, BadRequest(_("This method is not allowed."), status=405))
            response["Allow"] = ", ".join(sorted(METHODS))
            return response
        try:
            _check_headers(request)
            _check_params(request)
            _check_json(request)
        except BadRequest as exc:
            return _error_response(request, exc)
        except RequestDataTooBig:
            return _error_response(request, BadRequest(_("The request is too large."), status=413))
        except (SuspiciousOperation, MultiPartParserError):
            return _error_response(request, BadRequest(_("The request could not be read (too many fields?).")))
        return self.get_response(request)

    def process_exception(self, request, exception):
        """A value the database refuses (too long for its column, out of range, not storable) is bad input
        that slipped past a form's checks: a 400 that says so, not a 500. Logged, so the check gets added."""
        if isinstance(exception, DataError):
            logger.warning("database refused a value on %s: %s", request.path, exception)
            return _error_response(request, BadRequest(_("A value is too long or not valid; nothing was saved.")))
        return None


#: the former name (settings of older deployments)
RejectNulMiddleware = RequestHygieneMiddleware
