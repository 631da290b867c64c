from django.urls import path

from salus.model import views

urlpatterns = [
    path("", views.model_home, name="model-home"),
    path("report/", views.model_report, name="model-report"),
]
