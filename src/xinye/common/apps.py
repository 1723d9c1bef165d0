from django.apps import AppConfig
from django.core.signals import setting_changed


def _configure_import_limits(**kwargs) -> None:
    """The pure readers in algorithms/tabular.py take their caps from the settings (also under
    override_settings in tests)."""
    from django.conf import settings

    from xinye.algorithms import tabular

    if kwargs.get("setting") not in (None, "XINYE_IMPORT_MAX_ROWS", "XINYE_IMPORT_MAX_BYTES"):
        return
    tabular.configure(
        max_rows=getattr(settings, "XINYE_IMPORT_MAX_ROWS", None),
        max_bytes=getattr(settings, "XINYE_IMPORT_MAX_BYTES", None),
    )


class CommonConfig(AppConfig):
    name = "xinye.common"
    label = "common"

    def ready(self) -> None:
        _configure_import_limits()
        setting_changed.connect(_configure_import_limits, dispatch_uid="xinye-import-limits")
