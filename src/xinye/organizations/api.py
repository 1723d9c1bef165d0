from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field, extend_schema_view
from rest_framework import serializers

from xinye.common.api import ScopedReadOnlyViewSet
from xinye.common.disclosure import suppress_small

from . import selectors
from .models import BusinessUnit, Company, CompanyKind, Organization, OrgKind


@extend_schema_field(
    {
        "oneOf": [{"type": "integer"}, {"type": "string", "enum": ["<5"]}],
        "description": "current members; 1 to 4 shown as <5 outside the caller's scope (a member's own branch)",
    }
)
class MemberCountField(serializers.Field):
    def __init__(self, **kwargs):
        super().__init__(source="*", read_only=True, **kwargs)

    def to_representation(self, org):
        return suppress_small(org.member_count, in_scope=bool(getattr(org, "counts_in_scope", False)))


class OrganizationSerializer(serializers.ModelSerializer):
    member_count = MemberCountField()
    division = serializers.SlugRelatedField(slug_field="code", read_only=True)
    community = serializers.SlugRelatedField(slug_field="code", read_only=True)

    class Meta:
        model = Organization
        fields = [
            "id",
            "name",
            "kind",
            "parent",
            "anchor_kind",
            "company",
            "business_units",
            "community",
            "division",
            "founded_on",
            "term_started_on",
            "term_ends_on",
            "member_count",
        ]


@extend_schema_view(
    list=extend_schema(
        parameters=[
            OpenApiParameter("q", str, description="name contains"),
            OpenApiParameter("kind", str, enum=[c for c, _ in OrgKind.choices]),
        ]
    )
)
class OrganizationViewSet(ScopedReadOnlyViewSet):
    """Organizations (committees, general branches, branches) visible to the caller."""

    serializer_class = OrganizationSerializer

    def scoped_queryset(self, scope):
        p = self.request.query_params
        kind = p.get("kind", "") if p.get("kind", "") in dict(OrgKind.choices) else ""
        return (
            selectors.organization_list(scope=scope, search=p.get("q", ""), kind=kind)
            .prefetch_related("business_units")
            .order_by("id")
        )


class BusinessUnitSerializer(serializers.ModelSerializer):
    class Meta:
        model = BusinessUnit
        fields = ["id", "key", "name", "kind", "parent", "since_version", "until_version", "valid_until"]


class CompanySerializer(serializers.ModelSerializer):
    unit_count = serializers.IntegerField(read_only=True)

    class Meta:
        model = Company
        fields = ["id", "name", "short_name", "kind", "is_platform", "unit_count"]


@extend_schema_view(
    list=extend_schema(
        parameters=[
            OpenApiParameter("q", str, description="name contains"),
            OpenApiParameter("kind", str, enum=[c for c, _ in CompanyKind.choices]),
        ]
    )
)
class CompanyViewSet(ScopedReadOnlyViewSet):
    """Platform and fleet companies visible to the caller."""

    serializer_class = CompanySerializer

    def scoped_queryset(self, scope):
        p = self.request.query_params
        kind = p.get("kind", "") if p.get("kind", "") in dict(CompanyKind.choices) else ""
        return selectors.company_list(scope=scope, search=p.get("q", ""), kind=kind)
