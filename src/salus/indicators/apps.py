from django.apps import AppConfig


class IndicatorsConfig(AppConfig):
    name = "salus.indicators"
    label = "indicators"
