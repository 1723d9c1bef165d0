from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DemandsConfig(AppConfig):
    name = "xinye.demands"
    label = "demands"
    verbose_name = _("Demands")

    def ready(self) -> None:
        from . import tasks  # noqa: F401  (registers the background jobs)
