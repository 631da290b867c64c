from django.apps import AppConfig


class CareConfig(AppConfig):
    name = "salus.care"
    label = "care"
