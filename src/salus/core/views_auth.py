"""Signing in and out. Lockout, second factor and "lock now" build on these views."""

from __future__ import annotations

from django.contrib.auth import logout
from django.contrib.auth.views import LoginView
from django.shortcuts import redirect
from django.views.decorators.http import require_POST


class SalusLoginView(LoginView):
    template_name = "core/login.html"
    redirect_authenticated_user = True


login_view = SalusLoginView.as_view()


@require_POST
def lock_now(request):
    """End the session at once (the "lock now" button); the next person sees the log-in page."""
    logout(request)
    return redirect("web-login")
