from django.urls import path

from salus.core import views_audit, views_auth

urlpatterns = [
    path("login/", views_auth.login_view, name="web-login"),
    path("lock/", views_auth.lock_now, name="web-lock"),
    path("login/code/", views_auth.totp_verify, name="security-totp-verify"),
    path("two-step/", views_auth.totp_setup, name="security-totp-setup"),
    path("audit/", views_audit.audit_log, name="security-audit-log"),
]
