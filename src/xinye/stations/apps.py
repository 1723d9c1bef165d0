from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class StationsConfig(AppConfig):
    name = "xinye.stations"
    label = "stations"
    verbose_name = _("Stations")

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from . import tasks  # noqa: F401  (registers the background jobs)
        from .models import Station
        from .selectors import stations_changed

        post_save.connect(stations_changed, sender=Station, dispatch_uid="xinye-finder-index")
        post_delete.connect(stations_changed, sender=Station, dispatch_uid="xinye-finder-index-delete")
