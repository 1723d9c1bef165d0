from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import serializers

from xinye.accounts import policy
from xinye.accounts.scope import request_scope
from xinye.common.api import ScopedReadOnlyViewSet

from . import selectors
from .models import Membership, Occupation, Person


class MembershipSerializer(serializers.ModelSerializer):
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


class PersonSerializer(serializers.ModelSerializer):
    phone = serializers.SerializerMethodField()
    work_community = serializers.SlugRelatedField(slug_field="code", read_only=True)
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


@extend_schema_view(
    list=extend_schema(
        parameters=[
            OpenApiParameter("q", str, description="name contains"),
            OpenApiParameter("occupation", str, enum=[c for c, _ in Occupation.choices]),
            OpenApiParameter("members", bool, description="only people with a current membership"),
        ]
    )
)
class PersonViewSet(ScopedReadOnlyViewSet):
    """Workers and members visible to the caller. Phone numbers are masked for most roles."""

    serializer_class = PersonSerializer

    def scoped_queryset(self, scope):
        p = self.request.query_params
        occupation = p.get("occupation", "")
        if occupation not in dict(Occupation.choices):
            occupation = ""
        return selectors.person_list(
            scope=scope,
            search=p.get("q", ""),
            occupation=occupation,
            members_only=p.get("members") in ("1", "true", "True"),
        ).prefetch_related("platforms", "memberships__organization__division")
