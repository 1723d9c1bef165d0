"""Request hygiene shared by every page and API call."""

from __future__ import annotations

from django.http import HttpResponseBadRequest

PLAIN = "text/plain; charset=utf-8"


class RejectNulMiddleware:
    """Refuse addresses, query strings and form fields holding NUL characters: PostgreSQL cannot store or compare them,
    and no honest client sends them."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if "\x00" in request.path:
            return HttpResponseBadRequest("the address holds a NUL character", content_type=PLAIN)
        for params in (request.GET, request.POST) if request.method == "POST" else (request.GET,):
            for key, values in params.lists():
                if "\x00" in key or any("\x00" in v for v in values):
                    # plain text: the parameter's name is the client's, and must not be read as HTML
                    return HttpResponseBadRequest(f"parameter {key!r} holds a NUL character", content_type=PLAIN)
        return self.get_response(request)
