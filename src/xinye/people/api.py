from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import serializers

from xinye.accounts import policy
from xinye.accounts.scope import request_scope
from xinye.common.api import LabelledModelSerializer, ScopedReadOnlyViewSet, SearchQuery

from . import selectors
from .models import Membership, Occupation, Person


class MembershipSerializer(LabelledModelSerializer):
    class Meta:
        model = Membership
        fields = [
            "id",
            "organization",
            "status",
            "joined_on",
            "floating",
            "home_organization",
            "home_place",
            "since",
            "until",
        ]


class PersonSerializer(LabelledModelSerializer):
    phone = serializers.SerializerMethodField()
    work_community = serializers.SlugRelatedField(slug_field="code", read_only=True, allow_null=True)
    memberships = serializers.SerializerMethodField()

    class Meta:
        model = Person
        fields = [
            "id",
            "name",
            "phone",
            "occupation",
            "platforms",
            "employer",
            "business_unit",
            "work_community",
            "work_cell",
            "union_name",
            "union_since",
            "memberships",
        ]

    def get_phone(self, obj) -> str:
        """Masked (138****1234) unless the caller's role needs the full number (accounts.policy)."""
        return policy.phone_for(request_scope(self.context["request"]), obj)

    def get_memberships(self, obj) -> list[dict]:
        """Current memberships the caller may see (accounts.policy: party status); empty otherwise."""
        scope = request_scope(self.context["request"])
        current = [m for m in obj.memberships.all() if m.until is None]
        return MembershipSerializer(policy.party_status_for(scope, obj, current) or [], many=True).data


class PersonQuery(SearchQuery):
    occupation = serializers.ChoiceField(choices=Occupation.choices, required=False)
    members = serializers.BooleanField(required=False, help_text="only people with a current membership")


@extend_schema_view(list=extend_schema(parameters=[PersonQuery]))
class PersonViewSet(ScopedReadOnlyViewSet):
    """Workers and members visible to the caller. Phone numbers are masked for most roles."""

    serializer_class = PersonSerializer
    query_serializer_class = PersonQuery

    def scoped_queryset(self, scope):
        p = self.query
        return selectors.person_list(
            scope=scope,
            search=p.get("q", ""),
            occupation=p.get("occupation", ""),
            members_only=bool(p.get("members")),
        ).prefetch_related("platforms", "memberships__organization__division")
