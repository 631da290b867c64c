from django.urls import path

from salus.core import views_auth

urlpatterns = [
    path("login/", views_auth.login_view, name="web-login"),
    path("lock/", views_auth.lock_now, name="web-lock"),
]
