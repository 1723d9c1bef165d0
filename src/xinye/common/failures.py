"""Errors shown to people carry an error id, never a traceback (issue 10).

Every failure page (400, 403, 404, 500, a refused CSRF check) and every failed background job gets a short
random id; the log line with the details (and, for 500s and jobs, the traceback) carries the same id, so an
administrator finds the cause from what the user reports. The API and Open311 get JSON with the id.
"""

from __future__ import annotations

import logging
import sys
import uuid

from django.conf import settings
from django.core.exceptions import BadRequest, PermissionDenied, SuspiciousOperation
from django.http import Http404, HttpResponse, JsonResponse
from django.template import loader
from django.urls import Resolver404, resolve
from django.utils.translation import gettext as _

log = logging.getLogger("xinye.errors")

JSON_PREFIXES = ("/api/", "/open311/")


def new_error_id() -> str:
    return uuid.uuid4().hex[:12]


def _page(request, status: int, title: str, text: str, error_id: str, *, with_request: bool = True):
    if request is not None and request.path.startswith(JSON_PREFIXES):
        response = JsonResponse({"detail": text, "error_id": error_id}, status=status)
    else:
        template = loader.get_template("errors/error.html")
        context = {"status": status, "title": title, "text": text, "error_id": error_id}
        # a 500 is rendered without the request: its context processors may be what failed
        body = template.render(context, request if with_request else None)
        response = HttpResponse(body, status=status)
    response["X-Error-Id"] = error_id
    return response


def bad_request(request, exception=None):
    error_id = new_error_id()
    log.warning("error %s: 400 %s %s: %s", error_id, request.method, request.path, exception)
    return _page(request, 400, _("Bad request"), _("The request could not be understood."), error_id)


def permission_denied(request, exception=None):
    error_id = new_error_id()
    log.warning("error %s: 403 %s %s: %s", error_id, request.method, request.path, exception)
    return _page(request, 403, _("Not allowed"), _("You may not open this page."), error_id)


def page_not_found(request, exception=None):
    error_id = new_error_id()
    log.info("error %s: 404 %s %s", error_id, request.method, request.path)
    return _page(request, 404, _("Not found"), _("There is nothing here, or nothing you may see."), error_id)


def server_error(request):
    error_id = new_error_id()
    log.error("error %s: 500 %s %s", error_id, request.method, request.path, exc_info=sys.exc_info())
    text = _(
        "Something went wrong on our side; nothing you did caused it. "
        "If it happens again, tell an administrator the error id."
    )
    return _page(request, 500, _("Server error"), text, error_id, with_request=False)


def csrf_failure(request, reason=""):
    error_id = new_error_id()
    log.warning("error %s: 403 CSRF %s %s: %s", error_id, request.method, request.path, reason)
    text = _("The form had expired or came from elsewhere. Go back, reload the page and send it again.")
    return _page(request, 403, _("Not allowed"), text, error_id)


class ErrorPageMiddleware:
    """The project's own error page for 400, 403 and 404, with DEBUG on too (issue 16, item 4).

    With DEBUG on, Django answers an unknown address or a view's Http404 with its technical page, which lists
    every URL pattern of the site (and a 403 or 400 with its own bare page). Deployments and demos that run
    with DEBUG on show that page to the people trying them. This middleware answers those cases itself, in
    the language LocaleMiddleware chose (so it must come after it); with DEBUG off it gives what the
    handler404/403/400 would. An unknown address is found before any view runs (Django resolves outside
    the middlewares' process_exception), and CommonMiddleware, which comes before, still turns a 404 into
    the redirect to the address with a trailing slash. A 500 with DEBUG on keeps Django's traceback page:
    it is for the developer who runs it; the log carries the error id either way.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if settings.DEBUG:  # with DEBUG off, handler404 (the same page_not_found) answers: no second resolve
            try:
                resolve(request.path_info, getattr(request, "urlconf", None))
            except Resolver404 as exc:
                return page_not_found(request, exc)
        return self.get_response(request)

    def process_exception(self, request, exception):
        if isinstance(exception, Http404):
            return page_not_found(request, exception)
        if isinstance(exception, PermissionDenied):
            return permission_denied(request, exception)
        if isinstance(exception, (BadRequest, SuspiciousOperation)):
            return bad_request(request, exception)
        return None
