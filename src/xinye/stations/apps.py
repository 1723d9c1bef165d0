from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class StationsConfig(AppConfig):
    name = "xinye.stations"
    label = "stations"
    verbose_name = _("Stations")

    def ready(self) -> None:
        from . import tasks  # noqa: F401  (registers the background jobs)
