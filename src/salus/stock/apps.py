from django.apps import AppConfig


class StockConfig(AppConfig):
    name = "salus.stock"
    label = "stock"
