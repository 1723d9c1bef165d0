import math

from django.conf import settings
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from xinye.common.api import (
    LabelField,
    LabelledModelSerializer,
    LabelsField,
    ScopedReadOnlyViewSet,
    SearchQuery,
    query_params,
)
from xinye.common.ratelimit import AnonThrottle, own_limit

from . import navigation, selectors
from .models import Amenity, Station, StationKind


class StationSerializer(LabelledModelSerializer):
    division = serializers.SlugRelatedField(slug_field="code", read_only=True, allow_null=True)
    amenities_labels = LabelsField(Amenity, source="amenities", help_text="the amenities' labels, in order")

    class Meta:
        model = Station
        fields = [
            "id",
            "name",
            "kind",
            "operator_name",
            "lat",
            "lon",
            "division",
            "amenities",
            "amenities_labels",
            "opening_hours",
            "capacity",
            "contact_phone",
            "address",
            "status",
            "verified_on",
        ]


@extend_schema_view(list=extend_schema(parameters=[SearchQuery]))
class StationViewSet(ScopedReadOnlyViewSet):
    """Service stations the caller manages or oversees."""

    serializer_class = StationSerializer
    query_serializer_class = SearchQuery

    def scoped_queryset(self, scope):
        return selectors.station_list(scope=scope, search=self.query.get("q", ""))


class NearestQuery(serializers.Serializer):
    lat = serializers.FloatField(min_value=-90, max_value=90, help_text="WGS-84 latitude")
    lon = serializers.FloatField(min_value=-180, max_value=180, help_text="WGS-84 longitude")
    amenity = serializers.ListField(
        child=serializers.ChoiceField(choices=Amenity.choices), required=False, default=list
    )
    open_now = serializers.BooleanField(required=False, default=False)
    limit = serializers.IntegerField(min_value=1, max_value=50, required=False, default=5)


class RoutesSerializer(serializers.Serializer):
    amap = serializers.URLField(help_text="Amap's route page (GCJ-02); opens the app on a phone that has it")
    baidu = serializers.URLField(help_text="Baidu Maps' route page (BD-09, coord_type=bd09ll)")
    tencent = serializers.URLField(help_text="Tencent Maps' route page (GCJ-02)")


class NearestStationSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="station.pk")
    name = serializers.CharField(source="station.name")
    address = serializers.CharField(source="station.address")
    contact_phone = serializers.CharField(source="station.contact_phone")
    kind = serializers.CharField(source="station.kind")
    kind_label = LabelField(StationKind, source="station.kind")
    lat = serializers.FloatField(source="station.lat")
    lon = serializers.FloatField(source="station.lon")
    amenities = serializers.ListField(source="station.amenities", child=serializers.CharField())
    amenities_labels = LabelsField(Amenity, source="station.amenities")
    opening_hours = serializers.CharField(source="station.opening_hours")
    open_now = serializers.BooleanField()
    distance_m = serializers.FloatField()
    minutes_ebike = serializers.FloatField()
    minutes_walk = serializers.FloatField()
    routes = RoutesSerializer(help_text="links opening the route from the point asked about in each map app")


class NearestThrottle(AnonThrottle):
    """Callers without login, by client address in the shared store (XINYE_RATES["api"])."""

    scope = "nearest"


class NearestStationsView(APIView):
    """The nearest stations in service, for workers on the road: no login needed."""

    permission_classes = [AllowAny]
    authentication_classes: list = []
    throttle_classes = [NearestThrottle]

    @classmethod
    def as_view(cls, **initkwargs):
        # NearestThrottle is this endpoint's limit: the middleware's general budget does not count it again
        return own_limit(super().as_view(**initkwargs))

    @extend_schema(parameters=[NearestQuery], responses=NearestStationSerializer(many=True))
    def get(self, request):
        d = _plain_query(request.query_params) or query_params(request, NearestQuery)
        found = selectors.station_nearest(
            lat=d["lat"], lon=d["lon"], amenities=d["amenity"], open_now=d["open_now"], limit=d["limit"]
        )
        origin = (d["lat"], d["lon"])
        return Response([nearest_item(r, origin) for r in found])


_AMENITIES = frozenset(Amenity.values)
_KIND_LABELS = dict(StationKind.choices)
_AMENITY_LABELS = dict(Amenity.choices)


def _label(labels: dict, code) -> str:
    """As LabelField gives it: the label in the active language, or a code it does not know as it is."""
    return "" if code is None or code == "" else str(labels.get(code, code))


_BOOLS = {"true": True, "false": False, "1": True, "0": False}


def _plain_query(qp) -> dict | None:
    """The common, well-formed finder query read without building a serializer: each value exactly as
    NearestQuery would take it. Anything else (a value out of range, a repeated parameter, a spelling of a
    boolean other than true/false/1/0) gives None, and NearestQuery decides and words the error."""
    try:
        (lat,), (lon,) = qp.getlist("lat"), qp.getlist("lon")
        lat, lon = float(lat), float(lon)
    except ValueError:
        return None
    if not (math.isfinite(lat) and math.isfinite(lon) and -90 <= lat <= 90 and -180 <= lon <= 180):
        return None
    amenities = qp.getlist("amenity")
    if not _AMENITIES.issuperset(amenities):
        return None
    open_now = qp.getlist("open_now") or ["false"]
    limit = qp.getlist("limit") or ["5"]
    if len(open_now) != 1 or open_now[0] not in _BOOLS or len(limit) != 1 or not limit[0].isascii():
        return None
    if not limit[0].isdigit() or not 1 <= int(limit[0]) <= 50:
        return None
    return {"lat": lat, "lon": lon, "amenity": amenities, "open_now": _BOOLS[open_now[0]], "limit": int(limit[0])}


def nearest_item(r: dict, origin: tuple[float, float]) -> dict:
    """One answer of the finder API, as NearestStationSerializer documents it, built directly: the serializer's
    field copies cost more than the search itself (issue 11, item 5; tests/test_finder_index.py compares both)."""
    s = r["station"]
    links = navigation.route_links(
        lat=s.lat,
        lon=s.lon,
        name=s.name,
        origin=origin,
        source=settings.XINYE_MAP_APP_SOURCE,
        tencent_key=settings.XINYE_TENCENT_MAP_KEY,
    )
    return {
        "id": s.pk,
        "name": s.name,
        "address": s.address,
        "contact_phone": s.contact_phone,
        "kind": s.kind,
        "kind_label": _label(_KIND_LABELS, s.kind),
        "lat": float(s.lat),
        "lon": float(s.lon),
        "amenities": [str(a) for a in s.amenities],
        "amenities_labels": [_label(_AMENITY_LABELS, a) for a in s.amenities],
        "opening_hours": s.opening_hours,
        "open_now": bool(r["open_now"]),
        "distance_m": float(r["distance_m"]),
        "minutes_ebike": float(r["minutes_ebike"]),
        "minutes_walk": float(r["minutes_walk"]),
        "routes": dict(links),
    }
