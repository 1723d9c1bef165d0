from rest_framework import serializers

from xinye.common.api import ScopedReadOnlyViewSet

from . import selectors
from .models import Station


class StationSerializer(serializers.ModelSerializer):
    division = serializers.SlugRelatedField(slug_field="code", read_only=True)

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
            "opening_hours",
            "capacity",
            "status",
            "verified_on",
        ]


class StationViewSet(ScopedReadOnlyViewSet):
    """Service stations the caller manages or oversees."""

    serializer_class = StationSerializer

    def scoped_queryset(self, scope):
        return selectors.station_list(scope=scope, search=self.request.query_params.get("q", ""))
