"""API of community-based branch formation: plans (read), forming (a background job), approval."""

from __future__ import annotations

from django.http import Http404
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response

from xinye.common.api import LabelledModelSerializer, ScopedReadOnlyViewSet
from xinye.common.jobs import job_submit
from xinye.places.models import Division, Level

from . import community_planning
from .models import CommunityPlan


class CommunityPlanSerializer(LabelledModelSerializer):
    division = serializers.SlugRelatedField(slug_field="code", read_only=True, allow_null=True)
    stats = serializers.SerializerMethodField()
    branches = serializers.SerializerMethodField()
    unplaced = serializers.SerializerMethodField()

    class Meta:
        model = CommunityPlan
        fields = ["id", "division", "status", "params", "created_at", "decided_at", "stats", "branches", "unplaced"]

    def get_stats(self, obj) -> dict:
        return obj.plan.get("stats", {})

    def get_branches(self, obj) -> list[dict]:
        return obj.plan.get("branches", [])

    def get_unplaced(self, obj) -> list[dict]:
        return obj.plan.get("unplaced", [])


def _rules():
    from .community_planning import community_rules

    return community_rules()


class FormSerializer(serializers.Serializer):
    """Figures default to the rule set's; a floor below it or a cap above it is refused; a cap below the floor
    is raised to the floor."""

    division = serializers.RegexField(r"^\d{4,9}$", help_text="code of a city, district or street")
    radius_km = serializers.FloatField(
        required=False, min_value=0.1, max_value=50, help_text="work radius in km (default: the rule set's)"
    )
    floor = serializers.IntegerField(
        required=False,
        min_value=_rules().min_formal_members,
        max_value=_rules().branch_cap,
        help_text="formal members a branch needs (default and least: the rule set's)",
    )
    cap = serializers.IntegerField(
        required=False,
        min_value=_rules().min_formal_members,
        max_value=_rules().branch_cap,
        help_text="members a branch may have (default and most: the rule set's); raised to the floor if below it",
    )

    def validate(self, attrs):
        from xinye.common.errors import InputError

        from .community_planning import community_params

        floor = attrs.get("floor")
        cap = attrs.get("cap")
        if floor is not None and cap is not None and cap < floor:
            cap = floor
        try:
            attrs.update(community_params(floor=floor, cap=cap, radius_km=attrs.get("radius_km")))
        except InputError as exc:  # the rules changed since this process started
            raise serializers.ValidationError({e.column: [e.message] for e in exc.errors}) from exc
        return attrs


class DecisionSerializer(serializers.Serializer):
    note = serializers.CharField(required=False, allow_blank=True, max_length=2000, default="")


JobSerializer = inline_serializer("JobStarted", {"job": serializers.IntegerField(), "status": serializers.CharField()})


class CommunityPlanViewSet(ScopedReadOnlyViewSet):
    """Community-based branch plans of the caller's divisions (organizers and administrators)."""

    serializer_class = CommunityPlanSerializer

    def scoped_queryset(self, scope):
        qs = CommunityPlan.objects.select_related("division").order_by("-created_at")
        if scope.is_admin:
            return qs
        if not scope.division_prefixes:
            return qs.none()
        from django.db.models import Q

        q = Q(pk__in=[])
        for p in scope.division_prefixes:
            q |= Q(division__code__startswith=p)
        return qs.filter(q)

    @extend_schema(request=FormSerializer, responses={202: JobSerializer})
    @action(detail=False, methods=["post"])
    def form(self, request):
        """Form branches for a division as a background job; poll /jobs/{id}/ for progress."""
        from xinye.accounts.scope import request_scope

        data = FormSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        scope = request_scope(request)
        code = data.validated_data["division"]
        division = Division.objects.filter(code=code, level__in=[Level.CITY, Level.COUNTY, Level.STREET]).first()
        if division is None or not (scope.is_admin or any(code.startswith(p) for p in scope.division_prefixes)):
            raise Http404
        j = job_submit(
            kind="community_plan",
            user=request.user,
            params={
                "division_code": code,
                "radius_km": data.validated_data["radius_km"],
                "floor": data.validated_data["floor"],
                "cap": data.validated_data["cap"],
            },
        )
        return Response({"job": j.pk, "status": j.status}, status=status.HTTP_202_ACCEPTED)

    @extend_schema(request=DecisionSerializer, responses=CommunityPlanSerializer)
    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        return self._decide(request, approve=True)

    @extend_schema(request=DecisionSerializer, responses=CommunityPlanSerializer)
    @action(detail=True, methods=["post"])
    def reject(self, request, pk=None):
        return self._decide(request, approve=False)

    def _decide(self, request, *, approve: bool):
        plan = self.get_object()
        note = DecisionSerializer(data=request.data)
        note.is_valid(raise_exception=True)
        try:
            if approve:
                community_planning.community_plan_approve(
                    plan=plan, user=request.user, note=note.validated_data["note"]
                )
            else:
                community_planning.community_plan_reject(plan=plan, user=request.user, note=note.validated_data["note"])
        except community_planning.CommunityPlanError as exc:
            return Response({"detail": str(exc)}, status=status.HTTP_409_CONFLICT)
        plan.refresh_from_db()
        return Response(CommunityPlanSerializer(plan).data)
