"""Background jobs of the reports app: a division's monthly report (issue 15, item 4)."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.urls import reverse

from xinye.accounts.scope import Scope, scope_for
from xinye.common.jobs import job

from . import services


@job("indicator_report", timeout=10 * 60)
def indicator_report(j, *, report, division: str, period: str, operator: bool = False) -> str:
    """Build and keep the report as the user who asked for it (their scope now: a role taken away since the
    request refuses the job); `operator`: queued by the schedule (services.monthly_reports_queue), which reads
    every division as it is. Views never set it."""
    user = get_user_model().objects.filter(pk=j.created_by_id).first()
    scope = Scope(user_id=None, is_admin=True) if operator else scope_for(user)
    try:
        kept = services.monthly_report_create(
            scope=scope,
            division_code=division,
            period=services.period_parse(period),
            user=user,
            progress=report,
        )
    except PermissionDenied:
        raise services.ReportError("you may no longer make reports for this division") from None
    return f"{reverse('indicator_reports')}?{urlencode({'division': division})}#report-{kept.pk}"
