"""People (workers and members), their occupations, platforms, work area, consent and memberships.

Privacy: a person's work area is a community and an H3 cell (resolution 8, about 0.7 km2), never a
GPS track. Phone numbers are shown masked except to roles that need them.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from xinye.common.models import TimestampedModel
from xinye.common.text import mask_phone

#: H3 resolution of a work cell: about 0.74 km2, coarse enough to say "where they work", not "where they are".
WORK_CELL_RESOLUTION = 8


class Occupation(models.TextChoices):
    COURIER = "courier", _("Express courier")
    DELIVERY_RIDER = "delivery_rider", _("Food-delivery rider")
    RIDE_HAILING_DRIVER = "ride_hailing_driver", _("Ride-hailing driver")
    TRUCK_DRIVER = "truck_driver", _("Truck driver")
    OTHER = "other", _("Other")


class Person(TimestampedModel):
    name = models.CharField(_("name"), max_length=100)
    phone = models.CharField(_("phone"), max_length=20, blank=True)
    occupation = models.CharField(_("occupation"), max_length=24, choices=Occupation.choices)
    platforms = models.ManyToManyField(
        "organizations.Company", blank=True, related_name="workers", verbose_name=_("platforms")
    )
    employer = models.ForeignKey(
        "organizations.Company",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="employees",
        verbose_name=_("employer / fleet"),
    )
    business_unit = models.ForeignKey(
        "organizations.BusinessUnit",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="people",
        verbose_name=_("business unit"),
    )
    work_community = models.ForeignKey(
        "places.Division",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="workers",
        verbose_name=_("work community"),
    )
    work_cell = models.BigIntegerField(_("work cell (H3)"), null=True, blank=True, db_index=True)
    #: a keyed hash of the ID-card number when a roster gave one (the number itself is never stored)
    id_hash = models.CharField(_("ID-card hash"), max_length=64, blank=True, db_index=True)
    union_name = models.CharField(_("trade union"), max_length=200, blank=True)
    union_since = models.DateField(_("union member since"), null=True, blank=True)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="person"
    )
    #: the person withdrew consent: nothing processes them any more (liaison runs, contact lists, exports)
    consent_withdrawn_at = models.DateTimeField(_("consent withdrawn"), null=True, blank=True)
    #: the person's personal fields were erased at their request; the row stays as an anonymous count
    erased_at = models.DateTimeField(_("erased"), null=True, blank=True)
    history = HistoricalRecords(m2m_fields=[platforms], excluded_fields=["updated_at"])

    class Meta:
        ordering = ["id"]
        verbose_name = _("person")
        verbose_name_plural = _("people")

    def __str__(self) -> str:
        return self.name

    @property
    def is_processable(self) -> bool:
        """False once the person withdrew consent or was erased (see `rights.processable_q`)."""
        return self.consent_withdrawn_at is None and self.erased_at is None

    @property
    def masked_phone(self) -> str:
        return mask_phone(self.phone)

    @property
    def is_union_member(self) -> bool:
        return bool(self.union_name)


class ConsentRecord(TimestampedModel):
    """What a person agreed to be stored and who may see it, and when (and whether withdrawn)."""

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="consents")
    purpose = models.CharField(_("purpose"), max_length=200)
    scope = models.TextField(_("what is stored and who sees it"))
    policy_version = models.CharField(_("policy version"), max_length=20, default="1")
    channel = models.CharField(_("channel"), max_length=40, default="web")
    given_at = models.DateTimeField(_("given at"))
    withdrawn_at = models.DateTimeField(_("withdrawn at"), null=True, blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["-given_at"]


class MembershipStatus(models.TextChoices):
    FORMAL = "formal", _("Formal member")
    PROBATIONARY = "probationary", _("Probationary member")


class Membership(TimestampedModel):
    """A person's membership: status, the branch they belong to, and, if floating, where it is held.

    `organization` is the branch the member belongs to here (empty: in no branch yet). A floating member's
    membership is held elsewhere: `home_organization` and `home_place` say where, as text.
    """

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="memberships")
    organization = models.ForeignKey(
        "organizations.Organization",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="memberships",
        verbose_name=_("branch"),
    )
    status = models.CharField(_("status"), max_length=14, choices=MembershipStatus.choices)
    joined_on = models.DateField(_("joined on"), null=True, blank=True)
    floating = models.BooleanField(_("floating"), default=False)
    home_organization = models.CharField(_("home organization"), max_length=200, blank=True)
    home_place = models.CharField(_("home place"), max_length=200, blank=True)
    since = models.DateField(_("since"))
    until = models.DateField(_("until"), null=True, blank=True)
    last_contact_on = models.DateField(_("last contact"), null=True, blank=True)
    certificate_from = models.DateField(_("activity certificate valid from"), null=True, blank=True)
    certificate_until = models.DateField(_("activity certificate valid until"), null=True, blank=True)
    activity_organizations = models.ManyToManyField(
        "organizations.Organization",
        blank=True,
        related_name="floating_participants",
        verbose_name=_("also takes part in activities of"),
    )
    history = HistoricalRecords(excluded_fields=["updated_at"], m2m_fields=[activity_organizations])

    class Meta:
        ordering = ["person", "-since"]
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")

    def __str__(self) -> str:
        return f"{self.person} ({self.get_status_display()})"


class ReportStatus(models.TextChoices):
    PENDING = "pending", _("Waiting for confirmation")
    CONFIRMED = "confirmed", _("Confirmed")
    REJECTED = "rejected", _("Not confirmed")


class CommunityReport(TimestampedModel):
    """A worker reporting to the community where they work ("向社区报到"), from a phone, with consent.

    Anyone may report without signing in, so a pending report writes nothing about anyone: it holds what was
    said (`phone`, `reported`) and the consent given (its text, version, channel and time). Only when the
    community's organizer confirms it is the person matched by phone or created, the report applied to them
    and the consent recorded for them (`person`, `consent`). A rejected report keeps no personal data.
    Confirmed reports count in the indicators.
    """

    person = models.ForeignKey(
        Person, on_delete=models.CASCADE, null=True, blank=True, related_name="community_reports"
    )
    community = models.ForeignKey(
        "places.Division", on_delete=models.PROTECT, related_name="reports", verbose_name=_("community")
    )
    consent = models.ForeignKey(ConsentRecord, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    status = models.CharField(_("status"), max_length=10, choices=ReportStatus.choices, default=ReportStatus.PENDING)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    note = models.CharField(_("note"), max_length=300, blank=True)
    tracking_code = models.CharField(max_length=12, unique=True)
    #: the phone number as reported (digits); the person with it is looked up only on confirmation
    phone = models.CharField(_("phone"), max_length=20, blank=True)
    #: what the worker reported (name, occupation, platform_ids, union_name, union_since), applied on confirmation
    reported = models.JSONField(_("reported"), default=dict, blank=True)
    #: the consent as given: the text the worker agreed to, its version, the channel and the time
    consent_scope = models.TextField(_("what is stored and who sees it"), blank=True)
    consent_policy_version = models.CharField(_("policy version"), max_length=20, default="1")
    consent_channel = models.CharField(_("channel"), max_length=40, default="web")
    consent_given_at = models.DateTimeField(_("consent given at"), null=True, blank=True)
    # what was said is personal data: it is erased from a rejected report, so history does not keep it
    history = HistoricalRecords(excluded_fields=["phone", "reported"])

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("report to the community")
        verbose_name_plural = _("reports to the community")

    def __str__(self) -> str:
        return f"{self.reported.get('name') or self.person or '-'} -> {self.community}"

    @property
    def name(self) -> str:
        return (self.reported or {}).get("name", "")

    @property
    def masked_phone(self) -> str:
        return mask_phone(self.phone)

    @property
    def occupation_label(self) -> str:
        code = (self.reported or {}).get("occupation", "")
        return str(dict(Occupation.choices).get(code, code))


class TransferStatus(models.TextChoices):
    REQUESTED = "requested", _("Requested")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")


class MembershipTransfer(TimestampedModel):
    """Moving a membership between organizations: requested, then approved (applied) or rejected."""

    membership = models.ForeignKey(Membership, on_delete=models.CASCADE, related_name="transfers")
    from_organization = models.ForeignKey(
        "organizations.Organization", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    from_text = models.CharField(_("from (outside)"), max_length=200, blank=True)
    to_organization = models.ForeignKey(
        "organizations.Organization", on_delete=models.PROTECT, related_name="incoming_transfers", verbose_name=_("to")
    )
    reason = models.CharField(_("reason"), max_length=300)
    status = models.CharField(
        _("status"), max_length=10, choices=TransferStatus.choices, default=TransferStatus.REQUESTED
    )
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["-created_at"]


class PhoneCode(models.Model):
    """A one-time code sent to a phone to prove it is the worker's (see `people.rights`).

    Neither the phone nor the code is stored: both are keyed hashes. A row exists for every request, also
    for phones Xinye does not know (nothing is sent to those), so that answers never tell them apart.
    """

    phone_hash = models.CharField(max_length=64, db_index=True)
    code_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    attempts = models.PositiveSmallIntegerField(default=0)
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"code {self.pk} ({self.created_at:%Y-%m-%d %H:%M})"


class RecruitStage(models.TextChoices):
    """The steps of joining the Party (Detailed Rules for the Recruitment of Party Members, 2014)."""

    APPLICANT = "applicant", _("Applicant")
    ACTIVIST = "activist", _("Activist")
    TARGET = "target", _("Development target")
    PROBATIONARY = "probationary", _("Probationary member")
    FORMAL = "formal", _("Formal member")
    STOPPED = "stopped", _("Stopped")


class Recruit(TimestampedModel):
    """A worker on the way into the Party (issue 12, item 5), with the date of each step; the branch that
    handles it. Admission makes a probationary membership of that branch; becoming formal makes it formal."""

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="recruitments")
    organization = models.ForeignKey(
        "organizations.Organization", on_delete=models.PROTECT, related_name="recruits", verbose_name=_("branch")
    )
    stage = models.CharField(_("stage"), max_length=14, choices=RecruitStage.choices, default=RecruitStage.APPLICANT)
    applied_on = models.DateField(_("applied on"))
    talked_on = models.DateField(_("talked with on"), null=True, blank=True)
    activist_on = models.DateField(_("activist since"), null=True, blank=True)
    target_on = models.DateField(_("development target since"), null=True, blank=True)
    admitted_on = models.DateField(_("admitted (probationary) on"), null=True, blank=True)
    formal_on = models.DateField(_("formal member since"), null=True, blank=True)
    stopped_on = models.DateField(_("stopped on"), null=True, blank=True)
    note = models.CharField(_("note"), max_length=300, blank=True)
    history = HistoricalRecords(excluded_fields=["updated_at"])

    class Meta:
        ordering = ["-applied_on", "pk"]
        verbose_name = _("recruitment")
        verbose_name_plural = _("recruitments")
        constraints = [
            models.UniqueConstraint(
                fields=["person"],
                condition=~models.Q(stage__in=["formal", "stopped"]),
                name="one_open_recruitment",
            )
        ]

    def __str__(self) -> str:
        return f"{self.person} ({self.get_stage_display()})"


class UnionApplicationStatus(models.TextChoices):
    PENDING = "pending", _("Waiting for an answer")
    ACCEPTED = "accepted", _("Accepted")
    DECLINED = "declined", _("Declined")


class UnionApplication(TimestampedModel):
    """A worker asks to join the trade union (issue 12, item 6), on the community report's page; once the
    report is confirmed the application reaches the organizers of the worker's community, who answer it.
    Accepted: the person's union and date are set."""

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="union_applications")
    report = models.ForeignKey(
        CommunityReport, on_delete=models.SET_NULL, null=True, blank=True, related_name="union_applications"
    )
    status = models.CharField(
        _("status"), max_length=10, choices=UnionApplicationStatus.choices, default=UnionApplicationStatus.PENDING
    )
    union_name = models.CharField(_("trade union"), max_length=200, blank=True)
    note = models.CharField(_("answer"), max_length=300, blank=True)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    answered_at = models.DateTimeField(_("answered at"), null=True, blank=True)
    history = HistoricalRecords(excluded_fields=["updated_at"])

    class Meta:
        ordering = ["status", "-created_at"]
        verbose_name = _("trade union application")
        verbose_name_plural = _("trade union applications")

    def __str__(self) -> str:
        return f"{self.person} ({self.get_status_display()})"


class FloatingRequestStatus(models.TextChoices):
    PENDING = "pending", _("To be registered")
    REGISTERED = "registered", _("Registered")
    DECLINED = "declined", _("Declined")


class FloatingRequest(TimestampedModel):
    """A worker said, reporting to their community (with its own consent), that they are a Party member whose
    membership is held elsewhere (issue 12, item 6). Once the report is confirmed this asks the community's
    organizers to register them as a floating member (the registration form opens filled in), and tells the
    home organization when it is on record: its staff and secretaries see the request too."""

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="floating_requests")
    report = models.ForeignKey(
        CommunityReport, on_delete=models.SET_NULL, null=True, blank=True, related_name="floating_requests"
    )
    party_status = models.CharField(_("status"), max_length=14, choices=MembershipStatus.choices)
    home_organization = models.CharField(_("home organization"), max_length=200)
    home_org = models.ForeignKey(
        "organizations.Organization",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="members_reported_elsewhere",
        verbose_name=_("home organization on record"),
    )
    status = models.CharField(
        _("state"), max_length=10, choices=FloatingRequestStatus.choices, default=FloatingRequestStatus.PENDING
    )
    membership = models.ForeignKey(Membership, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    note = models.CharField(_("note"), max_length=300, blank=True)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    answered_at = models.DateTimeField(_("answered at"), null=True, blank=True)
    history = HistoricalRecords(excluded_fields=["updated_at"])

    class Meta:
        ordering = ["status", "-created_at"]
        verbose_name = _("floating member request")
        verbose_name_plural = _("floating member requests")

    def __str__(self) -> str:
        return f"{self.person} ({self.get_status_display()})"
