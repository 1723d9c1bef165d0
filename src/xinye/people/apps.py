from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PeopleConfig(AppConfig):
    name = "xinye.people"
    label = "people"
    verbose_name = _("People")

    def ready(self) -> None:
        from . import tasks  # noqa: F401  (registers the background jobs)
