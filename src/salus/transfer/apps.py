from django.apps import AppConfig


class TransferConfig(AppConfig):
    name = "salus.transfer"
    label = "transfer"
