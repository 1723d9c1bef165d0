"""Service stations ("warm homes") for outdoor workers."""

from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from xinye.common.concurrency import Versioned
from xinye.common.models import TimestampedModel


class StationKind(models.TextChoices):
    COMMUNITY_CENTRE = "community_centre", _("Community Party-mass service centre")
    UNION = "union", _("Trade-union station")
    PLATFORM = "platform", _("Platform station")
    HOST_BUSINESS = "host_business", _("Host business")


class StationStatus(models.TextChoices):
    OPEN = "open", _("In service")
    SUSPENDED = "suspended", _("Suspended")
    CLOSED = "closed", _("Closed")


class Amenity(models.TextChoices):
    SEATS = "seats", _("Rest seats")
    TOILET = "toilet", _("Toilet")
    WATER = "water", _("Drinking water")
    MICROWAVE = "microwave", _("Microwave")
    CHARGING = "charging", _("Phone charging")
    AIR_CONDITIONING = "air_conditioning", _("Air conditioning / shelter")
    FIRST_AID = "first_aid", _("First-aid kit")
    BATTERY_SWAP = "battery_swap", _("Battery swap")
    SHOWER = "shower", _("Shower")
    WASHING_MACHINE = "washing_machine", _("Washing machine")
    WIFI = "wifi", _("WiFi")
    LEGAL_AID = "legal_aid", _("Legal aid")
    MEALS = "meals", _("Discounted meals")
    MEDICINE = "medicine", _("Emergency medicine")


class Station(Versioned, TimestampedModel):
    """A rest station. Location is WGS-84 degrees plus its H3 cell (resolution 9). Saved through
    `common.concurrency.save_versioned` (the form and the import): a stale save is refused."""

    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("kind"), max_length=20, choices=StationKind.choices)
    operator_name = models.CharField(_("operator"), max_length=200)
    operator_company = models.ForeignKey(
        "organizations.Company", on_delete=models.SET_NULL, null=True, blank=True, related_name="stations"
    )
    lat = models.FloatField(_("latitude"))
    lon = models.FloatField(_("longitude"))
    h3_cell = models.BigIntegerField(_("H3 cell"), db_index=True)
    division = models.ForeignKey(
        "places.Division",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="stations",
        verbose_name=_("community"),
    )
    amenities = models.JSONField(_("amenities"), default=list, blank=True)
    opening_hours = models.CharField(_("opening hours"), max_length=255, default="24/7")
    capacity = models.PositiveIntegerField(_("capacity"), null=True, blank=True)
    contact_phone = models.CharField(_("contact phone"), max_length=20, blank=True)
    #: where a rider finds it, as people write it: "南山区粤海街道科技南十二路 2 号 1 楼" (issue 16)
    address = models.CharField(_("address"), max_length=255, blank=True)
    status = models.CharField(_("status"), max_length=12, choices=StationStatus.choices, default=StationStatus.OPEN)
    verified_on = models.DateField(_("last verified"), null=True, blank=True)
    history = HistoricalRecords(excluded_fields=["updated_at"])

    class Meta:
        ordering = ["name"]
        verbose_name = _("service station")
        verbose_name_plural = _("service stations")

    def __str__(self) -> str:
        return self.name


class PlacementRun(TimestampedModel):
    """A choice of sites for new stations in a division (computed by a background job), kept for review."""

    class Source(models.TextChoices):
        COMMUNITIES = "communities", _("Community centres without a station")
        UPLOAD = "upload", _("Uploaded list of sites")

    division = models.ForeignKey("places.Division", on_delete=models.PROTECT, related_name="+")
    k = models.PositiveIntegerField(_("new stations"))
    minutes = models.FloatField(_("minutes"))
    mode = models.CharField(_("by"), max_length=8)
    radius_m = models.FloatField(_("service radius (m)"))
    source = models.CharField(_("candidate sites"), max_length=12, choices=Source.choices)
    #: uploaded candidates: [{"id", "name", "lat", "lon"}] (WGS-84)
    candidates = models.JSONField(default=list, blank=True)
    #: the outcome: {"picks": [{"id", "name", "lat", "lon", "rank", "gain"}], "summary": {...}}
    result = models.JSONField(null=True, blank=True)
    created_by = models.ForeignKey("auth.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"placement #{self.pk} in {self.division_id}"
