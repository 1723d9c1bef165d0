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
