from django.apps import AppConfig


class CommonConfig(AppConfig):
    name = "xinye.common"
    label = "common"
