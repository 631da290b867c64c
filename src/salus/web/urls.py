from django.contrib.auth import views as auth_views
from django.urls import path
from django.views.generic import TemplateView

urlpatterns = [
    path("login/", auth_views.LoginView.as_view(template_name="web/login.html"), name="web-login"),
    path("", TemplateView.as_view(template_name="web/home.html"), name="web-home"),
]
