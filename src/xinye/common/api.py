"""Base classes for the REST API: read-only viewsets whose queryset comes from a scoped selector, and query
parameters validated like a body (a bad value is a 400 naming the parameter, never silently ignored)."""

from __future__ import annotations

from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
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


@extend_schema_field(OpenApiTypes.STR)
class LabelField(serializers.Field):
    """The label of a code in the request's language (issue 16: a reader sees 已提交, a program keeps
    `submitted`). `source` names the code; `choices` is a Django `Choices` class or (code, label) pairs."""

    def __init__(self, choices, **kwargs):
        self.labels = dict(choices.choices if hasattr(choices, "choices") else choices)
        kwargs.setdefault("read_only", True)
        super().__init__(**kwargs)

    def to_representation(self, value):
        return "" if value is None or value == "" else str(self.labels.get(value, value))


@extend_schema_field({"type": "array", "items": {"type": "string"}})
class LabelsField(LabelField):
    """The labels of a list of codes (e.g. a station's amenities), in the same order; a value that is no code
    (a custom amenity) as it is."""

    def to_representation(self, value):
        return [LabelField.to_representation(self, v) for v in value or ()]


class LabelledModelSerializer(serializers.ModelSerializer):
    """A model serializer that gives, next to each field with choices, its label: `status` and `status_label`;
    for a list of codes `amenities` and `amenities_labels`. The codes stay for programs."""

    def get_fields(self):
        out = {}
        for name, field in super().get_fields().items():
            out[name] = field
            if isinstance(field, serializers.ChoiceField) and not isinstance(field, serializers.MultipleChoiceField):
                out[f"{name}_label"] = LabelField(field.choices.items(), source=field.source or name)
            elif isinstance(field, serializers.ListField) and isinstance(field.child, serializers.ChoiceField):
                out[f"{name}_labels"] = LabelsField(field.child.choices.items(), source=field.source or name)
        return out


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
