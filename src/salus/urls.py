"""URL map. Each domain keeps its own urls module; they are all included here, once."""

from django.contrib import admin
from django.urls import include, path

from salus.api.urls import api

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
    path("indicators/", include("salus.indicators.urls")),
    path("reports/", include("salus.reports.urls")),
    path("model/", include("salus.model.urls")),
    path("care/", include("salus.care.urls")),
    path("security/", include("salus.core.urls")),
    path("", include("salus.web.urls")),
]
