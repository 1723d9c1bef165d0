"""Django's admin application with Xinye's admin site (issue 10: it asks for the second factor)."""

from django.contrib.admin.apps import AdminConfig


class XinyeAdminConfig(AdminConfig):
    default_site = "xinye.accounts.second_factor.XinyeAdminSite"
