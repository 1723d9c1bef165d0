"""Organizations as a tree, their posts and terms; companies and their versioned business units."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords
from tree_queries.fields import TreeNodeForeignKey
from tree_queries.models import TreeNode

from xinye.common.concurrency import Versioned
from xinye.common.models import TimestampedModel


class CompanyKind(models.TextChoices):
    FOOD_DELIVERY = "food_delivery", _("Food delivery platform")
    EXPRESS = "express", _("Express courier company")
    RIDE_HAILING = "ride_hailing", _("Ride-hailing platform")
    CAR_RENTAL = "car_rental", _("Car rental / fleet company")
    FREIGHT = "freight", _("Freight platform")
    OTHER = "other", _("Other")


class Company(TimestampedModel):
    name = models.CharField(_("name"), max_length=200, unique=True)
    short_name = models.CharField(_("short name"), max_length=60, blank=True)
    kind = models.CharField(_("kind"), max_length=20, choices=CompanyKind.choices)
    is_platform = models.BooleanField(_("platform"), default=True, help_text=_("Workers take orders through it"))
    credit_code = models.CharField(_("unified social credit code"), max_length=18, blank=True)
    division = models.ForeignKey(
        "places.Division", on_delete=models.PROTECT, null=True, blank=True, verbose_name=_("registered in")
    )
    history = HistoricalRecords()

    class Meta:
        ordering = ["name"]
        verbose_name = _("company")
        verbose_name_plural = _("companies")

    def __str__(self) -> str:
        return self.short_name or self.name


class BusinessVersion(TimestampedModel):
    """One imported version of a company's business architecture."""

    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField(_("version"))
    effective_on = models.DateField(_("effective on"))
    note = models.CharField(_("note"), max_length=300, blank=True)
    summary = models.JSONField(_("changes"), default=dict, blank=True)

    class Meta:
        ordering = ["company", "number"]
        constraints = [models.UniqueConstraint(fields=["company", "number"], name="business_version_unique")]

    def __str__(self) -> str:
        return f"{self.company} v{self.number}"


class UnitKind(models.TextChoices):
    HEADQUARTERS = "headquarters", _("Headquarters")
    BUSINESS_LINE = "business_line", _("Business line")
    REGION = "region", _("Region")
    CITY = "city", _("City")
    STATION = "station", _("Station")
    FLEET = "fleet", _("Fleet")
    PARK = "park", _("Logistics park")
    TEAM = "team", _("Team")


class BusinessUnit(TreeNode, TimestampedModel):
    """A unit of a company's business architecture (headquarters -> line -> region -> city -> station).

    A unit keeps its row across versions: `key` is the company's own identifier for it, and
    `since_version`/`until_version` say in which versions it exists. A dissolved unit has
    `valid_until` set; a merged one also points at the unit it was merged into.
    """

    parent = TreeNodeForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="children", verbose_name=_("parent")
    )
    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="units", verbose_name=_("company"))
    key = models.CharField(_("key"), max_length=64)
    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("kind"), max_length=20, choices=UnitKind.choices)
    division = models.ForeignKey(
        "places.Division", on_delete=models.PROTECT, null=True, blank=True, verbose_name=_("division")
    )
    since_version = models.PositiveIntegerField(_("since version"), default=1)
    until_version = models.PositiveIntegerField(_("until version"), null=True, blank=True)
    valid_from = models.DateField(_("valid from"), null=True, blank=True)
    valid_until = models.DateField(_("valid until"), null=True, blank=True)
    merged_into = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="merged_from",
        verbose_name=_("merged into"),
    )
    history = HistoricalRecords()

    class Meta:
        ordering = ["company", "key"]
        constraints = [models.UniqueConstraint(fields=["company", "key"], name="business_unit_key_unique")]
        verbose_name = _("business unit")
        verbose_name_plural = _("business units")

    def __str__(self) -> str:
        return self.name

    @property
    def is_active(self) -> bool:
        return self.valid_until is None


class OrgKind(models.TextChoices):
    COMMITTEE = "committee", _("Primary committee")
    SECONDARY_COMMITTEE = "secondary_committee", _("Secondary committee")
    GENERAL_BRANCH = "general_branch", _("General branch")
    BRANCH = "branch", _("Branch")
    JOINT_BRANCH = "joint_branch", _("Joint branch")
    #: a street's (or community's) Party working committee: leads the community-based branches of its area
    WORKING_COMMITTEE = "working_committee", _("Working committee")
    #: leads the organizations of the platform companies of one trade in a district (the industry line)
    INDUSTRY_COMMITTEE = "industry_committee", _("Industry committee")
    #: a district's (or city's) organization department: the top of its tree
    DEPARTMENT = "department", _("Organization department")


BRANCH_KINDS = (OrgKind.BRANCH, OrgKind.JOINT_BRANCH)


class AnchorKind(models.TextChoices):
    BUSINESS_UNITS = "business_units", _("Business unit(s)")
    COMMUNITY = "community", _("Community")
    COMPANY = "company", _("Company")
    DIVISION = "division", _("Division (street, district)")


class Organization(TreeNode, TimestampedModel, Versioned):
    """A committee, general branch or branch, in a tree, anchored to what it organizes.

    The anchor is one of: business units of a company (a branch "on" a station; a joint branch on up to
    five small units), a community (community-based branches of couriers and riders), or a company as a
    whole. `term_started_on`/`term_ends_on` describe the current elected term of its committee (or
    secretary).
    """

    parent = TreeNodeForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="children", verbose_name=_("parent")
    )
    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("kind"), max_length=24, choices=OrgKind.choices)
    anchor_kind = models.CharField(_("anchored to"), max_length=20, choices=AnchorKind.choices)
    company = models.ForeignKey(
        Company,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="organizations",
        verbose_name=_("company"),
    )
    business_units = models.ManyToManyField(
        BusinessUnit, blank=True, related_name="organizations", verbose_name=_("business units")
    )
    community = models.ForeignKey(
        "places.Division",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="anchored_organizations",
        verbose_name=_("anchor community"),
    )
    division = models.ForeignKey(
        "places.Division",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="organizations",
        verbose_name=_("located in"),
    )
    founded_on = models.DateField(_("founded on"), null=True, blank=True)
    dissolved_on = models.DateField(_("dissolved on"), null=True, blank=True)
    term_years = models.PositiveSmallIntegerField(_("term (years)"), default=3)
    term_started_on = models.DateField(_("term started on"), null=True, blank=True)
    term_ends_on = models.DateField(_("term ends on"), null=True, blank=True)
    communities = models.ManyToManyField(
        "places.Division", blank=True, related_name="covering_organizations", verbose_name=_("communities covered")
    )
    history = HistoricalRecords(m2m_fields=[business_units, communities])

    class Meta:
        ordering = ["name"]
        verbose_name = _("organization")
        verbose_name_plural = _("organizations")

    def __str__(self) -> str:
        return self.name

    @property
    def is_branch(self) -> bool:
        return self.kind in BRANCH_KINDS


class PostRole(models.TextChoices):
    SECRETARY = "secretary", _("Secretary")
    DEPUTY = "deputy", _("Deputy secretary")
    COMMITTEE_MEMBER = "committee_member", _("Committee member")


class Post(Versioned, TimestampedModel):
    """A person holding a post in an organization for a term."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="posts")
    person = models.ForeignKey("people.Person", on_delete=models.PROTECT, related_name="posts")
    role = models.CharField(_("role"), max_length=20, choices=PostRole.choices)
    start_date = models.DateField(_("start"))
    end_date = models.DateField(_("end"), null=True, blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["organization", "role", "start_date"]

    def __str__(self) -> str:
        return f"{self.get_role_display()}: {self.person}"


class ProposalStatus(models.TextChoices):
    PENDING = "pending", _("Waiting for review")
    APPROVED = "approved", _("Approved and applied")
    REJECTED = "rejected", _("Rejected")
    STALE = "stale", _("Out of date")


class ReviewedPlan(TimestampedModel):
    """What every stored plan has: who made it, its review status and the decision."""

    status = models.CharField(
        _("status"), max_length=10, choices=ProposalStatus.choices, default=ProposalStatus.PENDING
    )
    created_by = models.ForeignKey("auth.User", on_delete=models.SET_NULL, null=True, related_name="+")
    decided_by = models.ForeignKey("auth.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.TextField(_("note"), blank=True)

    class Meta:
        abstract = True
        ordering = ["-created_at"]

    def decide(self, *, status: str, user, note: str = "") -> None:
        """Record the decision (the caller saves, inside its transaction)."""
        from django.utils import timezone

        self.status, self.decided_by, self.decided_at, self.decision_note = status, user, timezone.now(), note


class Proposal(ReviewedPlan):
    """A proposed organization tree for a company, made by the structure planner, reviewed by a person.

    `before` is the tree the plan was made from (so the review shows both side by side, and approval can
    refuse a plan whose starting point has changed); `plan` is the planner's output (organizations,
    findings, remaining findings, stats, unplaced members), with ids of existing organizations as strings
    and new ones as "new:...".
    """

    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="proposals")
    rules = models.CharField(_("rule set"), max_length=20, default="cpc")
    before = models.JSONField(_("tree before"))
    plan = models.JSONField(_("proposed tree"))
    history = HistoricalRecords()

    class Meta(ReviewedPlan.Meta):
        pass

    def __str__(self) -> str:
        return f"{self.company} plan #{self.pk}"


class CommunityPlan(ReviewedPlan):
    """A proposed set of community-based branches for a division (city, district or street), made by the
    formation algorithm (`xinye.algorithms.branches`), reviewed and approved like a structure proposal."""

    division = models.ForeignKey("places.Division", on_delete=models.CASCADE, related_name="community_plans")
    params = models.JSONField(_("parameters"), default=dict)
    before = models.JSONField(_("branches before"))
    plan = models.JSONField(_("proposed branches"))
    history = HistoricalRecords()

    class Meta(ReviewedPlan.Meta):
        pass

    def __str__(self) -> str:
        return f"{self.division} community plan #{self.pk}"


class ReminderKind(models.TextChoices):
    TERM_EXPIRED = "term_expired", _("Term ended: hold an election")
    TERM_DUE = "term_due", _("Term ends soon: prepare the election")
    MEMBERS_FLAGGED = "members_flagged", _("Members flagged: transfer due, out of contact or certificate ending")


class Reminder(models.Model):
    """What an organization has to do, refreshed daily by the worker (xinye.organizations.reminders): terms
    falling due, and its members' flags. Derived data: each refresh replaces the rows."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="reminders")
    kind = models.CharField(_("kind"), max_length=20, choices=ReminderKind.choices)
    due_on = models.DateField(_("due on"), null=True, blank=True)
    count = models.PositiveIntegerField(_("count"), default=0)
    refreshed_at = models.DateTimeField(_("refreshed"))

    class Meta:
        ordering = ["due_on", "organization"]
        verbose_name = _("reminder")
        verbose_name_plural = _("reminders")

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.organization}"


class Election(TimestampedModel):
    """An election of an organization's committee (or secretary) (issue 12, item 3): when it was held, which
    higher organization approved it and when; it starts a term whose length comes from the rule set."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="elections")
    held_on = models.DateField(_("held on"))
    approved_by = models.ForeignKey(
        Organization,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="approved_elections",
        verbose_name=_("approved by"),
    )
    approved_on = models.DateField(_("approved on"), null=True, blank=True)
    term_years = models.PositiveSmallIntegerField(_("term (years)"))
    term_ends_on = models.DateField(_("term ends on"))
    note = models.CharField(_("note"), max_length=300, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-held_on", "-pk"]
        verbose_name = _("election")
        verbose_name_plural = _("elections")

    def __str__(self) -> str:
        return f"{self.organization} {self.held_on}"
