"""Dashboards, indicator pages and printable reports, under /reports/."""

from django.urls import path

from salus.reports import views

urlpatterns = [
    path("indicators/", views.indicators_home, name="indicators-home"),
    path("indicators/download/", views.indicators_download, name="indicators-download"),
    path("dashboard/", views.dashboard, name="reports-dashboard"),
    path("program-report/", views.program_report, name="reports-program-report"),
]
