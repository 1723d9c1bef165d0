"""Background jobs of the demands app. Importing this module registers them."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.urls import reverse

from xinye.common.jobs import job
from xinye.common.models import Job

from . import liaison


@job("liaison_assign", timeout=30 * 60)
def liaison_assign(
    j,
    *,
    report,
    division_code: str = "",
    organization_id: int | None = None,
    max_km: float = liaison.DEFAULT_MAX_KM,
    **_stored,
) -> str:
    """Assign the workers of a division (or of an organization's area) to its members; the result (counts,
    workers left without a liaison) is kept in the job's parameters under "result" for the result page."""
    user = get_user_model().objects.filter(pk=j.created_by_id).first()
    area = liaison.area_from_params(scope=None, division_code=division_code, organization_id=organization_id)
    result = liaison.liaison_assign_run(
        area=area, user=user, max_km=float(max_km), progress=report, reason=f"liaison assignment, job #{j.pk}"
    )
    Job.objects.filter(pk=j.pk).update(params={**j.params, "result": result})
    return reverse("liaison_run", args=[j.pk])
