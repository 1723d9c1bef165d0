"""Base classes for the REST API: read-only viewsets whose queryset comes from a scoped selector."""

from __future__ import annotations

from rest_framework import viewsets

from xinye.accounts.scope import request_scope


class ScopedReadOnlyViewSet(viewsets.ReadOnlyModelViewSet):
    """Subclasses implement `scoped_queryset(scope)`; anything outside it is a 404."""

    def scoped_queryset(self, scope):  # pragma: no cover - abstract
        raise NotImplementedError

    def get_queryset(self):
        return self.scoped_queryset(request_scope(self.request))
