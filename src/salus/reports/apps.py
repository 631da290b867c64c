from django.apps import AppConfig


class ReportsConfig(AppConfig):
    name = "salus.reports"
    label = "reports"
