"""{% map_config %}: the base-map config (tile layers, datum, attribution) as a json_script block that
static/xinye/charts.js reads; {"tiles": null} when the deployment configures none."""

from django import template
from django.conf import settings
from django.utils.html import json_script

from xinye.places.maps import page_config

register = template.Library()


@register.simple_tag
def map_config():
    return json_script(page_config(getattr(settings, "XINYE_MAP", None)), "map-config")
