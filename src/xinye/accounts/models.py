"""Roles: who may see what. A role is scoped to a division subtree or an organization subtree."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from xinye.common.models import TimestampedModel


class RoleKind(models.TextChoices):
    ADMIN = "admin", _("Administrator")
    ORGANIZER = "organizer", _("Organizer")
    ORG_STAFF = "org_staff", _("Organization staff")
    SECRETARY = "secretary", _("Branch secretary")
    MEMBER = "member", _("Member")
    STATION_OPERATOR = "station_operator", _("Station operator")


class Role(TimestampedModel):
    """One role of a user. Organizers are scoped to `division` (and everything below it); organization
    staff and secretaries to `organization` (and its subtree); members to their own person record;
    station operators to the stations of `operator_name`."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="roles")
    kind = models.CharField(_("role"), max_length=20, choices=RoleKind.choices)
    division = models.ForeignKey("places.Division", on_delete=models.PROTECT, null=True, blank=True)
    organization = models.ForeignKey("organizations.Organization", on_delete=models.PROTECT, null=True, blank=True)
    operator_name = models.CharField(_("station operator"), max_length=200, blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["user", "kind"]

    def __str__(self) -> str:
        return f"{self.user}: {self.get_kind_display()}"


class AuditEvent(models.Model):
    """One entry of the audit log (append-only): a sign-in, a failed sign-in, a sign-out, or a read of
    sensitive fields (a full phone number, party status outside one's own organizations, a hidden demand's
    identity). A read names its subjects by model and id, never the value read; a list page writes one
    entry per field naming how many subjects it showed (`count`) and their ids (`subject_ids`)."""

    class Kind(models.TextChoices):
        SIGN_IN = "sign_in", _("Signed in")
        SIGN_IN_FAILED = "sign_in_failed", _("Sign-in failed")
        SIGN_OUT = "sign_out", _("Signed out")
        READ = "read", _("Sensitive read")

    class Field(models.TextChoices):
        FULL_PHONE = "full_phone", _("Full phone number")
        PARTY_STATUS = "party_status", _("Party status outside one's own organizations")
        HIDDEN_IDENTITY = "hidden_identity", _("Identity of a hidden demand")

    at = models.DateTimeField(_("when"), db_index=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    #: the user name (as typed, for a failed sign-in); kept when the user is deleted
    username = models.CharField(_("user name"), max_length=150, blank=True, db_index=True)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices, db_index=True)
    field = models.CharField(_("what"), max_length=20, choices=Field.choices, blank=True)
    subject_type = models.CharField(_("subject"), max_length=40, blank=True)
    subject_ids = models.TextField(_("subject ids"), blank=True)
    count = models.PositiveIntegerField(_("count"), default=0)
    path = models.CharField(_("request path"), max_length=300, blank=True)
    address = models.CharField(_("client address"), max_length=45, blank=True)

    class Meta:
        ordering = ["-at", "-pk"]
        verbose_name = _("audit event")
        verbose_name_plural = _("audit log")

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.username} {self.kind} {self.field}"


class AccountChange(models.Model):
    """One change to a user account or its roles (issue 12, item 2), append-only: who did what to whom, when.
    The role is described as it was (kind and scope as text), so the entry reads the same after a revocation."""

    class Action(models.TextChoices):
        INVITED = "invited", _("Invited")
        GRANTED = "granted", _("Role given")
        CHANGED = "changed", _("Role changed")
        REVOKED = "revoked", _("Role revoked")
        DEACTIVATED = "deactivated", _("Account deactivated")
        REACTIVATED = "reactivated", _("Account reactivated")
        NEW_LINK = "new_link", _("New sign-in link")
        PASSWORD_SET = "password_set", _("Password set at first sign-in")

    at = models.DateTimeField(_("when"), auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    actor_name = models.CharField(_("by"), max_length=150, blank=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="account_changes")
    action = models.CharField(_("what"), max_length=16, choices=Action.choices)
    role_kind = models.CharField(_("role"), max_length=20, choices=RoleKind.choices, blank=True)
    role_scope = models.CharField(_("scope"), max_length=300, blank=True)
    before = models.CharField(_("before"), max_length=300, blank=True)

    class Meta:
        ordering = ["-at", "-pk"]
        verbose_name = _("account change")
        verbose_name_plural = _("account changes")

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor_name} {self.action} {self.user_id}"


class UserSession(models.Model):
    """A signed-in session of a user, recorded at sign-in so that "my account" can list them and end the
    others. The session itself lives in Django's session store; a row whose session is gone is not shown."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="signed_in_sessions")
    session_key = models.CharField(max_length=40, unique=True)
    started_at = models.DateTimeField(_("signed in"), auto_now_add=True)
    user_agent = models.CharField(_("browser"), max_length=200, blank=True)
    address = models.CharField(_("client address"), max_length=45, blank=True)

    class Meta:
        ordering = ["-started_at"]

    def __str__(self) -> str:
        return f"{self.user_id} {self.started_at:%Y-%m-%d %H:%M}"
