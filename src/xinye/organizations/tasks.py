"""Background jobs of the organizations app."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.urls import reverse

from xinye.common.jobs import job

from . import planning
from .models import Company


@job("structure_plan", timeout=15 * 60)
def structure_plan(j, *, report, company_id: int, rules: str = "cpc") -> str:
    user = get_user_model().objects.filter(pk=j.created_by_id).first()
    report("snapshot", 0, 4)
    proposal = planning.proposal_create(
        company=Company.objects.get(pk=company_id), user=user, rules=rules, progress=report
    )
    return reverse("proposal_detail", args=[proposal.pk])


@job("community_plan", timeout=15 * 60)
def community_plan(
    j, *, report, division_code: str, radius_km: float | None = None, floor: int | None = None, cap: int | None = None
) -> str:
    from xinye.places.models import Division

    from . import community_planning

    user = get_user_model().objects.filter(pk=j.created_by_id).first()
    report("snapshot", 0, 4)
    plan = community_planning.community_plan_create(
        division=Division.objects.get(code=division_code),
        user=user,
        radius_km=radius_km,
        floor=floor,
        cap=cap,
        progress=report,
    )
    return reverse("community_plan_detail", args=[plan.pk])
