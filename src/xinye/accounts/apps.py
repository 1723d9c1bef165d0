from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "xinye.accounts"
    label = "accounts"
    verbose_name = _("Accounts")

    def ready(self):
        from . import (
            audit,  # noqa: F401  (connects the sign-in signals to the audit log)
            users,  # noqa: F401  (records each sign-in's session for "my account")
        )
