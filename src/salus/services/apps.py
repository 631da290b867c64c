from django.apps import AppConfig


class ServicesConfig(AppConfig):
    name = "salus.services"
    label = "services"
