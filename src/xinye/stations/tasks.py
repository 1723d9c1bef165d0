"""Background jobs of the stations app."""

from __future__ import annotations

from django.urls import reverse

from xinye.common.jobs import job

from . import planning
from .models import PlacementRun


@job("station_placement", timeout=30 * 60)
def station_placement(j, *, report, run_id: int) -> str:
    report("workers and stations", 0, 1)
    planning.placement_compute(PlacementRun.objects.select_related("division").get(pk=run_id), progress=report)
    return reverse("station_placement_detail", args=[run_id])
