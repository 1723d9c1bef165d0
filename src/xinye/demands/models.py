"""Demands of workers and the people who see them through; liaisons between members and workers.

A demand moves through statuses (see services.TRANSITIONS); every change is a DemandEvent with who, when
and a note. `version` is bumped by every change so that two people changing one demand at once cannot
overwrite each other (optimistic concurrency: the second is told and loses nothing).
"""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.utils import translation
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from xinye.common.concurrency import Versioned
from xinye.common.models import TimestampedModel


class BodyKind(models.TextChoices):
    UNION = "union", _("Trade union")
    HR_OFFICE = "hr_office", _("Human-resources and social-security office")
    PLATFORM = "platform", _("Platform company contact")
    STREET_OFFICE = "street_office", _("Street office")
    OTHER = "other", _("Other body")


class Category(Versioned, TimestampedModel):
    """A kind of demand (data: the list can be changed without code). `due_days`: the handling target."""

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name_en = models.CharField(_("name (English)"), max_length=100)
    name_zh = models.CharField(_("name (Chinese)"), max_length=100)
    description_en = models.CharField(_("description (English)"), max_length=300, blank=True)
    description_zh = models.CharField(_("description (Chinese)"), max_length=300, blank=True)
    group = models.CharField(_("group"), max_length=40, blank=True)
    due_days = models.PositiveSmallIntegerField(_("days to resolve"), default=3, validators=[MinValueValidator(1)])
    order = models.PositiveSmallIntegerField(default=0)
    active = models.BooleanField(_("active"), default=True)
    history = HistoricalRecords(excluded_fields=["updated_at"])

    class Meta:
        ordering = ["order", "code"]
        verbose_name = _("demand category")
        verbose_name_plural = _("demand categories")

    @property
    def name(self) -> str:
        return self.name_zh if translation.get_language() == "zh-hans" else self.name_en

    @property
    def description(self) -> str:
        return self.description_zh if translation.get_language() == "zh-hans" else self.description_en

    def __str__(self) -> str:
        return self.name


class ResponsibleBody(TimestampedModel):
    """A body that handles some categories of demands in an area: a union, a human-resources office, a
    platform company's contact, a street office. Its handlers are users."""

    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("kind"), max_length=20, choices=BodyKind.choices)
    division = models.ForeignKey(
        "places.Division", on_delete=models.PROTECT, related_name="+", verbose_name=_("area served")
    )
    company = models.ForeignKey(
        "organizations.Company", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    contact_phone = models.CharField(_("contact phone"), max_length=20, blank=True)
    handlers = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="demand_bodies")
    history = HistoricalRecords(m2m_fields=[handlers], excluded_fields=["updated_at"])

    class Meta:
        ordering = ["name"]
        verbose_name = _("responsible body")
        verbose_name_plural = _("responsible bodies")

    def __str__(self) -> str:
        return self.name


class RoutingRule(TimestampedModel):
    """Demands of `category` from inside `division` (any area when empty) go to `body`. The most specific
    area wins. Without a rule a demand goes to the worker's branch or community."""

    category = models.ForeignKey(Category, on_delete=models.CASCADE, related_name="rules")
    division = models.ForeignKey("places.Division", on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    body = models.ForeignKey(ResponsibleBody, on_delete=models.CASCADE, related_name="rules")
    history = HistoricalRecords(excluded_fields=["updated_at"])

    class Meta:
        verbose_name = _("routing rule")


class DemandStatus(models.TextChoices):
    SUBMITTED = "submitted", _("Submitted")
    ACCEPTED = "accepted", _("Accepted")
    IN_PROGRESS = "in_progress", _("In progress")
    RESOLVED = "resolved", _("Resolved")
    CLOSED = "closed", _("Closed")
    REJECTED = "rejected", _("Rejected")
    DUPLICATE = "duplicate", _("Duplicate (merged)")
    REOPENED = "reopened", _("Reopened")


#: what a handler's button says: a verb for the move, never the status it leads to (issue 16, defect 11)
STATUS_ACTIONS = {
    DemandStatus.SUBMITTED: _("Return to submitted"),
    DemandStatus.ACCEPTED: _("Accept"),
    DemandStatus.IN_PROGRESS: _("Start handling"),
    DemandStatus.RESOLVED: _("Mark resolved"),
    DemandStatus.CLOSED: _("Close"),
    DemandStatus.REJECTED: _("Decline"),
    DemandStatus.DUPLICATE: _("Merge as duplicate"),
    DemandStatus.REOPENED: _("Reopen"),
}

#: who did it, as stored in DemandEvent.actor_label (codes) -> what a page shows
ACTOR_LABELS = {
    "submitter": _("the submitter"),
    "member": _("a member"),
    "system": _("the system"),
}


def status_label(code: str) -> str:
    """A demand status code in the active language (the code itself when unknown)."""
    try:
        return str(DemandStatus(code).label)
    except ValueError:
        return code


def actor_label_display(code: str) -> str:
    """A stored actor label ("submitter", "system", a role code) in the active language."""
    from xinye.accounts.models import RoleKind

    if code in ACTOR_LABELS:
        return str(ACTOR_LABELS[code])
    try:
        return str(RoleKind(code).label)
    except ValueError:
        return code


OPEN_STATUSES = (DemandStatus.SUBMITTED, DemandStatus.ACCEPTED, DemandStatus.IN_PROGRESS, DemandStatus.REOPENED)


class Channel(models.TextChoices):
    WEB = "web", _("Phone page")
    MEMBER = "member", _("Entered by a member")
    OPEN311 = "open311", _("Open311 client")


class Demand(TimestampedModel):
    tracking_code = models.CharField(_("tracking code"), max_length=12, unique=True)
    #: a hash of the key the form (or an Open311 client) sent: a resubmission of one form makes one demand
    idempotency_key = models.CharField(max_length=64, null=True, blank=True, unique=True, editable=False)
    category = models.ForeignKey(Category, on_delete=models.PROTECT, related_name="demands", verbose_name=_("category"))
    description = models.TextField(_("description"), max_length=4000)
    status = models.CharField(
        _("status"), max_length=12, choices=DemandStatus.choices, default=DemandStatus.SUBMITTED, db_index=True
    )
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices, default=Channel.WEB)
    #: the worker, when known (not for anonymous demands)
    person = models.ForeignKey(
        "people.Person", on_delete=models.SET_NULL, null=True, blank=True, related_name="demands"
    )
    #: who entered it: the worker's own account, or a member on the worker's behalf
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    anonymous = models.BooleanField(_("anonymous"), default=False)
    hide_from_platform = models.BooleanField(_("identity hidden from the platform company"), default=False)
    #: the platform company the demand concerns (its contact may handle it; see hide_from_platform)
    company = models.ForeignKey(
        "organizations.Company",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("platform concerned"),
    )
    community = models.ForeignKey(
        "places.Division",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("community"),
    )
    #: a place (WGS-84) rounded to about 100 m: a work area, never a track
    lat = models.FloatField(null=True, blank=True)
    lon = models.FloatField(null=True, blank=True)
    address = models.CharField(_("place"), max_length=200, blank=True)
    organization = models.ForeignKey(
        "organizations.Organization",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="demands",
        verbose_name=_("handled by (organization)"),
    )
    body = models.ForeignKey(
        ResponsibleBody,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="demands",
        verbose_name=_("handled by (body)"),
    )
    #: where it was first routed (its handlers keep seeing it after escalation)
    origin_organization = models.ForeignKey(
        "organizations.Organization", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    escalation_level = models.PositiveSmallIntegerField(_("escalations"), default=0)
    due_at = models.DateTimeField(_("due"), db_index=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    merged_into = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="merged", verbose_name=_("merged into")
    )
    collective = models.BooleanField(_("collective demand"), default=False)
    rating = models.PositiveSmallIntegerField(_("rating"), null=True, blank=True)
    rating_note = models.CharField(_("rating note"), max_length=500, blank=True)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["due_at", "pk"]
        verbose_name = _("demand")
        verbose_name_plural = _("demands")

    def __str__(self) -> str:
        return f"{self.tracking_code} ({self.category_id})"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def reference(self) -> str:
        """The demand's public number (pages for handlers, Open311, notes). The tracking code is a secret
        of the submitter: whoever holds it may close, reopen and rate the demand."""
        return f"D{self.pk}"


class DemandEvent(models.Model):
    """One change of a demand: who, when, from and to which status, and a note. Append-only."""

    class Kind(models.TextChoices):
        SUBMITTED = "submitted", _("Submitted")
        STATUS = "status", _("Status changed")
        NOTE = "note", _("Note")
        ROUTED = "routed", _("Routed")
        ESCALATED = "escalated", _("Escalated")
        MERGED = "merged", _("Merged")
        RATED = "rated", _("Rated")

    demand = models.ForeignKey(Demand, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    from_status = models.CharField(max_length=12, blank=True)
    to_status = models.CharField(max_length=12, blank=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True)
    #: "submitter", "system" or the actor's role, shown to the submitter instead of a name
    actor_label = models.CharField(max_length=40, blank=True)
    note = models.TextField(blank=True, max_length=2000)
    #: the submitter (tracking page, Open311) sees the event
    public = models.BooleanField(default=True)
    #: ... and its note: a handler's note typed with a status change is internal unless they tick the box
    #: (issue 16, item 2); accounts.policy.submitter_note decides from both
    note_public = models.BooleanField(default=True)
    at = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        return f"{self.demand_id} {self.kind} {self.from_status}->{self.to_status}"

    @property
    def from_status_label(self) -> str:
        return status_label(self.from_status) if self.from_status else ""

    @property
    def to_status_label(self) -> str:
        return status_label(self.to_status) if self.to_status else ""


def _attachment_path(instance, filename: str) -> str:
    return f"demands/{instance.demand.tracking_code}/{instance.sha256[:16]}.{instance.extension}"


class Attachment(TimestampedModel):
    demand = models.ForeignKey(Demand, on_delete=models.CASCADE, related_name="attachments")
    file = models.FileField(upload_to=_attachment_path)
    content_type = models.CharField(max_length=40)
    extension = models.CharField(max_length=5)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)


class ApiKey(TimestampedModel):
    """An Open311 API key; requests made with it act as `user` (and see what that user may see)."""

    name = models.CharField(max_length=100)
    key_hash = models.CharField(max_length=64, unique=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    active = models.BooleanField(default=True)

    def __str__(self) -> str:
        return self.name


# ---------------------------------------------------------------- liaisons


class LiaisonQuota(TimestampedModel):
    """How many workers each member of a branch keeps in touch with (default 5 to 10)."""

    organization = models.OneToOneField("organizations.Organization", on_delete=models.CASCADE, related_name="+")
    min_load = models.PositiveSmallIntegerField(_("at least"), default=5)
    max_load = models.PositiveSmallIntegerField(_("at most"), default=10)
    history = HistoricalRecords(excluded_fields=["updated_at"])


class LiaisonPair(TimestampedModel):
    """A member who keeps in touch with a worker, from `since` until `until` (open while empty)."""

    member = models.ForeignKey("people.Person", on_delete=models.CASCADE, related_name="liaison_workers")
    worker = models.ForeignKey("people.Person", on_delete=models.CASCADE, related_name="liaisons")
    since = models.DateField(_("since"))
    until = models.DateField(_("until"), null=True, blank=True)
    history = HistoricalRecords(excluded_fields=["updated_at"])

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["worker"], condition=models.Q(until__isnull=True), name="one_liaison")
        ]


class ContactChannel(models.TextChoices):
    IN_PERSON = "in_person", _("In person")
    PHONE = "phone", _("Phone call")
    MESSAGE = "message", _("Message (WeChat etc.)")
    STATION = "station", _("At a station")


class Contact(TimestampedModel):
    """A member's contact with a worker they keep in touch with."""

    member = models.ForeignKey("people.Person", on_delete=models.CASCADE, related_name="contacts_made")
    worker = models.ForeignKey("people.Person", on_delete=models.CASCADE, related_name="contacts")
    on = models.DateField(_("date"))
    channel = models.CharField(_("channel"), max_length=10, choices=ContactChannel.choices)
    note = models.CharField(_("note"), max_length=500, blank=True)
    follow_up_on = models.DateField(_("follow up on"), null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")

    class Meta:
        ordering = ["-on", "-pk"]
