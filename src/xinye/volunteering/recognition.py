"""Recognition (issue 14, item 6): commendations such as outstanding member, star rider or model post are
nominated, approved (or declined) by the organization, shown on the person's page and counted in the
indicators.

A commendation names a person or a team, the organization that awards it (which approves it) and a year.
Who may nominate and who may decide is `accounts.policy` (`may_nominate`, `may_decide_commendation`); who
sees one is `commendations_q`, and an "outstanding member" commendation says that its holder is a Party
member, so it is shown only to those who may see the holder's party status (`commendation_visible`).
Everything is in history.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _t
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from xinye.common.models import TimestampedModel


class CommendationKind(models.TextChoices):
    OUTSTANDING_MEMBER = "outstanding_member", _("Outstanding member")
    STAR_RIDER = "star_rider", _("Star rider")
    MODEL_POST = "model_post", _("Model post")
    OUTSTANDING_VOLUNTEER = "outstanding_volunteer", _("Outstanding volunteer")
    OTHER = "other", _("Other commendation")


#: kinds that say their holder is a Party member (shown only where party status may be seen)
PARTY_KINDS = (CommendationKind.OUTSTANDING_MEMBER,)


class CommendationStatus(models.TextChoices):
    NOMINATED = "nominated", _("Nominated")
    APPROVED = "approved", _("Approved")
    DECLINED = "declined", _("Declined")


class Commendation(TimestampedModel):
    kind = models.CharField(_("kind"), max_length=24, choices=CommendationKind.choices)
    title = models.CharField(_("title"), max_length=120)
    year = models.PositiveSmallIntegerField(_("year"))
    person = models.ForeignKey(
        "people.Person", on_delete=models.CASCADE, null=True, blank=True, related_name="commendations"
    )
    team = models.ForeignKey(
        "volunteering.Team", on_delete=models.CASCADE, null=True, blank=True, related_name="commendations"
    )
    organization = models.ForeignKey(
        "organizations.Organization",
        on_delete=models.PROTECT,
        related_name="commendations",
        verbose_name=_("awarded by"),
    )
    #: where the holder works (the person's community, the team's place): for scoping
    division = models.ForeignKey("places.Division", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    reason = models.TextField(_("what they did"))
    status = models.CharField(
        _("status"), max_length=10, choices=CommendationStatus.choices, default=CommendationStatus.NOMINATED
    )
    nominated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(_("decided on"), null=True, blank=True)
    decision_note = models.CharField(_("note"), max_length=300, blank=True)
    history = HistoricalRecords(excluded_fields=["updated_at"])

    class Meta:
        app_label = "volunteering"
        ordering = ["-year", "-created_at", "pk"]
        verbose_name = _("commendation")
        verbose_name_plural = _("commendations")
        constraints = [
            models.CheckConstraint(
                condition=Q(person__isnull=False, team__isnull=True) | Q(person__isnull=True, team__isnull=False),
                name="commendation_person_or_team",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.title} ({self.year})"

    @property
    def holder(self):
        return self.person or self.team


class NotAllowed(Exception):
    """The user may not do this (a 404 on pages)."""


class Refused(ValueError):
    """A request that cannot be carried out, with a message for the user."""


def commendation_nominate(
    *, scope, user, kind: str, title: str, year: int, organization, reason: str, person=None, team=None
) -> Commendation:
    from xinye.accounts import policy

    if (person is None) == (team is None):
        raise Refused(_t("Choose one person or one team."))
    if not policy.may_nominate(scope, organization):
        raise NotAllowed
    if kind not in CommendationKind.values:
        raise Refused(_t("Choose the kind of commendation."))
    if kind in PARTY_KINDS and not policy.is_visible_member(scope, person):  # never a hidden membership's say
        raise Refused(_t("An outstanding member commendation goes to a member of the Party."))
    reason = (reason or "").strip()
    if not reason:
        raise Refused(_t("Say what they did."))
    this_year = timezone.localdate().year
    if not 2000 <= int(year) <= this_year + 1:
        raise Refused(_t("The year must be between 2000 and next year."))
    division = (
        person.work_community
        if person is not None
        else (team.division if team is not None and team.division_id else None)
    )
    c = Commendation(
        kind=kind,
        title=(title or "").strip()[:120] or f"{year}{CommendationKind(kind).label}",
        year=int(year),
        person=person,
        team=team,
        organization=organization,
        division=division or organization.division,
        reason=reason,
        nominated_by=user,
    )
    c._change_reason = "nominated"
    c.save()
    return c


def commendation_decide(*, scope, user, commendation: Commendation, approve: bool, note: str = "") -> Commendation:
    """Approve or decline a nomination once; a second decision is refused (two people deciding at once: the
    row is locked)."""
    from xinye.accounts import policy

    with transaction.atomic():
        c = Commendation.objects.select_for_update(of=("self",)).get(pk=commendation.pk)
        if not policy.may_decide_commendation(scope, c, user):
            raise NotAllowed
        if c.status != CommendationStatus.NOMINATED:
            raise Refused(_t("This nomination was decided already."))
        c.status = CommendationStatus.APPROVED if approve else CommendationStatus.DECLINED
        c.decided_by, c.decided_at, c.decision_note = user, timezone.now(), (note or "").strip()[:300]
        c._change_reason = "approved" if approve else "declined"
        c.save()
        return c


def approved_counts(*, scope, year: int | None = None) -> dict[str, int]:
    """Approved commendations the viewer may see, by kind (for the indicators)."""
    from django.db.models import Count

    from xinye.accounts import policy

    qs = Commendation.objects.filter(policy.commendations_q(scope), status=CommendationStatus.APPROVED)
    if year is not None:
        qs = qs.filter(year=year)
    return dict(qs.values_list("kind").annotate(n=Count("id")).values_list("kind", "n"))
