from django.apps import AppConfig


class ClientsConfig(AppConfig):
    name = "salus.clients"
    label = "clients"
