"""Indicators over time (issue 15, item 2): monthly snapshots of every indicator, and the pilots compared with the
rest. The indicators themselves are data in `reports.indicators` (a registry of definitions), not rows."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from xinye.common.models import TimestampedModel


class IndicatorSnapshot(models.Model):
    """The counts behind one indicator for one month, division, platform and occupation.

    `division` is a statistical division code of a province, city, district or street ("" the whole country);
    `platform` empty means every platform (a worker on two platforms counts once there, and under each of
    them in its own rows); `occupation` "" means every occupation. Rows whose counts are both zero are not
    stored. Derived data: taking a month's snapshot again replaces that month's rows
    (`reports.services.indicator_snapshot_take`)."""

    indicator = models.CharField(_("indicator"), max_length=40)
    #: the first day of the month the snapshot stands for
    period = models.DateField(_("month"))
    division = models.CharField(_("division code"), max_length=12, blank=True)
    platform = models.ForeignKey(
        "organizations.Company",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("platform"),
    )
    occupation = models.CharField(_("occupation"), max_length=24, blank=True)
    numerator = models.BigIntegerField(_("numerator"))
    denominator = models.BigIntegerField(_("denominator"))
    #: the day the counts describe: the month's last day, or the day it was taken for the current month
    as_of = models.DateField(_("as of"))
    taken_at = models.DateTimeField(_("taken at"))

    class Meta:
        ordering = ["indicator", "division", "period"]
        verbose_name = _("indicator snapshot")
        verbose_name_plural = _("indicator snapshots")
        constraints = [
            # NULL is not equal to NULL in a unique index: "every platform" rows need their own constraint
            models.UniqueConstraint(
                fields=["indicator", "division", "occupation", "platform", "period"],
                name="indicator_snapshot_unique",
            ),
            models.UniqueConstraint(
                fields=["indicator", "division", "occupation", "period"],
                condition=Q(platform__isnull=True),
                name="indicator_snapshot_unique_all_platforms",
            ),
        ]
        indexes = [models.Index(fields=["period"], name="indicator_snapshot_period")]

    def __str__(self) -> str:
        return f"{self.indicator} {self.period:%Y-%m} {self.division or '*'}: {self.numerator}/{self.denominator}"


class Pilot(TimestampedModel):
    """A division that pilots the work from `start_on` (set by administrators); compared with the rest of the
    division above it on the pilots page."""

    division = models.OneToOneField(
        "places.Division", on_delete=models.PROTECT, related_name="pilot", verbose_name=_("division")
    )
    start_on = models.DateField(_("started on"))
    note = models.CharField(_("note"), max_length=300, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    history = HistoricalRecords(excluded_fields=["updated_at"])

    class Meta:
        ordering = ["start_on", "division__code"]
        verbose_name = _("pilot")
        verbose_name_plural = _("pilots")

    def __str__(self) -> str:
        return f"{self.division} {self.start_on:%Y-%m-%d}"


class MonthlyReport(models.Model):
    """A division's monthly report to send upward (issue 15, item 4): the month's figures of every indicator,
    their trend over the last 12 snapshots and the divisions one level below, as an .xlsx with native charts
    and a PDF in Chinese. Built by a job (`reports.tasks`) or `xinye indicators report`, and kept: building a
    month again adds a report, the earlier one stays.

    The files are stored in the database, not in MEDIA_ROOT: a report is a few hundred kilobytes, is written
    once with its row in one transaction (no file without a row, no row without its file), is served only
    through a scoped view, and so needs no shared folder between the worker that builds it and the web servers
    that serve it (workers may run on other machines: docs/operations.md); the database backup and its digests
    then hold the reports too. The list reads the sizes, never the files."""

    division = models.ForeignKey(
        "places.Division", on_delete=models.PROTECT, related_name="+", verbose_name=_("division")
    )
    #: the first day of the month reported
    period = models.DateField(_("month"))
    #: the day the month's snapshot describes
    as_of = models.DateField(_("as of"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    xlsx = models.BinaryField(_("spreadsheet"))
    pdf = models.BinaryField(_("PDF"))
    xlsx_size = models.PositiveIntegerField(default=0)
    pdf_size = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-period", "-created_at"]
        verbose_name = _("monthly report")
        verbose_name_plural = _("monthly reports")
        indexes = [models.Index(fields=["division", "period"], name="monthly_report_division")]

    def __str__(self) -> str:
        return f"{self.division_id} {self.period:%Y-%m}"
