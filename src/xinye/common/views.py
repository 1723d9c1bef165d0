"""Helpers shared by views: 404 for anything out of scope, pagination."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.http import Http404


def get_or_404(getter, **kwargs):
    """Call a selector's *_get; a missing or out-of-scope object becomes a 404."""
    try:
        return getter(**kwargs)
    except Exception as exc:  # DoesNotExist of any model, or a bad primary key
        if exc.__class__.__name__ in {"DoesNotExist", "ValueError", "ValidationError"}:
            raise Http404 from exc
        raise


def paginate(request, queryset, per_page: int = 50):
    return Paginator(queryset, per_page).get_page(request.GET.get("page"))
