from drf_spectacular.utils import extend_schema, extend_schema_field, extend_schema_view
from rest_framework import serializers

from xinye.common.api import LabelledModelSerializer, ScopedReadOnlyViewSet, SearchQuery
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


class OrganizationSerializer(LabelledModelSerializer):
    member_count = MemberCountField()
    division = serializers.SlugRelatedField(slug_field="code", read_only=True, allow_null=True)
    community = serializers.SlugRelatedField(slug_field="code", read_only=True, allow_null=True)

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


class OrganizationQuery(SearchQuery):
    kind = serializers.ChoiceField(choices=OrgKind.choices, required=False)


@extend_schema_view(list=extend_schema(parameters=[OrganizationQuery]))
class OrganizationViewSet(ScopedReadOnlyViewSet):
    """Organizations (committees, general branches, branches) visible to the caller."""

    serializer_class = OrganizationSerializer
    query_serializer_class = OrganizationQuery

    def scoped_queryset(self, scope):
        p = self.query
        return (
            selectors.organization_list(scope=scope, search=p.get("q", ""), kind=p.get("kind", ""))
            .prefetch_related("business_units")
            .order_by("id")
        )


class BusinessUnitSerializer(LabelledModelSerializer):
    class Meta:
        model = BusinessUnit
        fields = ["id", "key", "name", "kind", "parent", "since_version", "until_version", "valid_until"]


class CompanySerializer(LabelledModelSerializer):
    unit_count = serializers.IntegerField(read_only=True)

    class Meta:
        model = Company
        fields = ["id", "name", "short_name", "kind", "is_platform", "unit_count"]


class CompanyQuery(SearchQuery):
    kind = serializers.ChoiceField(choices=CompanyKind.choices, required=False)


@extend_schema_view(list=extend_schema(parameters=[CompanyQuery]))
class CompanyViewSet(ScopedReadOnlyViewSet):
    """Platform and fleet companies visible to the caller."""

    serializer_class = CompanySerializer
    query_serializer_class = CompanyQuery

    def scoped_queryset(self, scope):
        p = self.query
        return selectors.company_list(scope=scope, search=p.get("q", ""), kind=p.get("kind", ""))
