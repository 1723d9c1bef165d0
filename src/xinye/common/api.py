"""Base classes for the REST API: read-only viewsets whose queryset comes from a scoped selector, and query
parameters validated like a body (a bad value is a 400 naming the parameter, never silently ignored)."""

from __future__ import annotations

from django.utils.translation import gettext as _
from rest_framework import serializers, viewsets
from rest_framework.exceptions import ValidationError

from xinye.accounts.scope import request_scope


def query_params(request, serializer_class: type[serializers.Serializer]) -> dict:
    """The request's query parameters validated by `serializer_class` (its fields are the parameters; a
    ListField may repeat, any other parameter is given once). Raises ValidationError (a 400)."""
    qp = request.query_params
    fields = serializer_class().fields
    data = {}
    for name, field in fields.items():
        if name not in qp:
            continue
        values = qp.getlist(name)
        if isinstance(field, serializers.ListField):
            data[name] = values
        elif len(values) > 1:
            raise ValidationError({name: [_("Give this parameter once.")]})
        else:
            data[name] = values[0]
    s = serializer_class(data=data)
    s.is_valid(raise_exception=True)
    return s.validated_data


class SearchQuery(serializers.Serializer):
    q = serializers.CharField(required=False, allow_blank=True, max_length=100, help_text="name contains")


class ScopedReadOnlyViewSet(viewsets.ReadOnlyModelViewSet):
    """Subclasses implement `scoped_queryset(scope)`; anything outside it is a 404. A list's query parameters
    are validated by `query_serializer_class` and available as `self.query`."""

    query_serializer_class: type[serializers.Serializer] | None = None

    def scoped_queryset(self, scope):  # pragma: no cover - abstract
        raise NotImplementedError

    @property
    def query(self) -> dict:
        if not hasattr(self, "_query"):
            cls = self.query_serializer_class if self.action == "list" else None
            self._query = query_params(self.request, cls) if cls is not None else {}
        return self._query

    def get_queryset(self):
        return self.scoped_queryset(request_scope(self.request))
