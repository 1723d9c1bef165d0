from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import serializers

from xinye.common.api import LabelledModelSerializer, ScopedReadOnlyViewSet

from .models import Division


class DivisionSerializer(LabelledModelSerializer):
    parent = serializers.SlugRelatedField(slug_field="code", read_only=True, allow_null=True)

    class Meta:
        model = Division
        fields = ["code", "name", "level", "parent", "lat", "lon"]


class DivisionQuery(serializers.Serializer):
    parent = serializers.RegexField(r"^\d{2,12}$", required=False, help_text="code of the parent division")
    q = serializers.CharField(
        required=False, allow_blank=True, max_length=100, help_text="name contains, or code starts with"
    )


@extend_schema_view(list=extend_schema(parameters=[DivisionQuery]))
class DivisionViewSet(ScopedReadOnlyViewSet):
    """Administrative divisions (public reference data)."""

    serializer_class = DivisionSerializer
    lookup_field = "code"
    lookup_value_regex = r"\d{2,12}"
    query_serializer_class = DivisionQuery

    def scoped_queryset(self, scope):
        qs = Division.objects.select_related("parent").order_by("code")
        if self.action == "list":
            params = self.query
            if params.get("q"):
                from django.db.models import Q

                qs = qs.filter(Q(name__contains=params["q"]) | Q(code__startswith=params["q"]))
            elif params.get("parent"):
                qs = qs.filter(parent__code=params["parent"])
            else:
                qs = qs.filter(parent__isnull=True)
        return qs
