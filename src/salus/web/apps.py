from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "salus.web"
    label = "web"
