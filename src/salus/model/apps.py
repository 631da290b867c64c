from django.apps import AppConfig


class ModelConfig(AppConfig):
    """The impact model's Django face (the web page); the numerical core imports no Django."""

    name = "salus.model"
    label = "impact"
