"""The station finder: a phone page, no login, from the browser's location or a chosen community."""

from __future__ import annotations

from django.shortcuts import render

from xinye.places.models import Division, Level
from xinye.places.selectors import county_boundaries

from . import selectors
from .models import Amenity

STANDARD = ["water", "microwave", "charging", "toilet", "seats", "air_conditioning"]


def finder(request):
    city = request.GET.get("city", "4403")
    street = request.GET.get("street", "")
    community = request.GET.get("community", "")
    wanted = [a for a in request.GET.getlist("amenity") if a in Amenity.values]
    open_now = request.GET.get("open_now") == "1"
    lat = lon = None
    error = ""
    try:
        if request.GET.get("lat") and request.GET.get("lon"):
            lat, lon = float(request.GET["lat"]), float(request.GET["lon"])
            if not (-90 <= lat <= 90 and -180 <= lon <= 180):
                raise ValueError
    except ValueError:
        lat = lon = None
        error = "location"
    place = None
    if lat is None and community:
        place = Division.objects.filter(code=community, level=Level.COMMUNITY, lat__isnull=False).first()
        if place:
            lat, lon = place.lat, place.lon
    results = (
        selectors.station_nearest(lat=lat, lon=lon, amenities=wanted, open_now=open_now, limit=8)
        if lat is not None
        else []
    )
    labels = dict(Amenity.choices)
    for r in results:
        r["amenity_labels"] = [labels.get(a, a) for a in r["station"].amenities]
    points = [{"value": [r["station"].lon, r["station"].lat], "name": r["station"].name} for r in results]
    geo = None
    if results:
        geo = {
            "type": "FeatureCollection",
            "features": [
                {"type": "Feature", "properties": {"name": c.name}, "geometry": c.boundary}
                for c in county_boundaries(code_prefix=city)
            ],
        }
    return render(
        request,
        "stations/finder.html",
        {
            "streets": Division.objects.filter(level=Level.STREET, code__startswith=city).select_related("parent"),
            "street": street,
            "community": community,
            "city": city,
            "communities": Division.objects.filter(level=Level.COMMUNITY, parent__code=street) if street else [],
            "amenities": [(a, label) for a, label in Amenity.choices],
            "wanted": wanted,
            "open_now": open_now,
            "results": results,
            "searched": lat is not None,
            "error": error,
            "map": {"geo": geo, "points": points, "me": [lon, lat] if lat is not None else None},
        },
    )
