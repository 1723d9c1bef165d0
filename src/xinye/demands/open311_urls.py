"""Open311 GeoReport v2 under /open311/v2/: every resource takes a format suffix (.json or .xml)."""

from django.urls import re_path

from . import open311

app_name = "open311"

FMT = r"\.(?P<fmt>[^/.]+)$"
ID = r"(?P<{}>[-\w]{{1,40}})"

urlpatterns = [
    re_path(r"^discovery" + FMT, open311.discovery, name="discovery"),
    re_path(r"^services" + FMT, open311.service_list, name="services"),
    re_path(r"^services/" + ID.format("code") + FMT, open311.service_definition, name="service"),
    re_path(r"^requests" + FMT, open311.request_list, name="requests"),
    re_path(r"^requests/" + ID.format("request_id") + FMT, open311.request_detail, name="request"),
    re_path(r"^tokens/" + ID.format("token") + FMT, open311.token_detail, name="token"),
    re_path(r"^servicerequestupdates" + FMT, open311.update_list, name="updates"),
    re_path(r"", open311.not_found),  # anything else: an Open311 error, not an HTML page
]
