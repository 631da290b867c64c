from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "salus.core"
    label = "core"
