"""Security middleware: response headers and the inactivity timeout."""

from __future__ import annotations

import time

from django.conf import settings
from django.contrib.auth import logout
from django.shortcuts import redirect, resolve_url

from salus.core import audit

# No inline script or style anywhere: every script and stylesheet is a vendored static file.
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)


class SecurityHeadersMiddleware:
    """CSP, no-store on everything an authenticated user sees, the request IP for the audit."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        token = audit.current_ip.set(request.META.get("REMOTE_ADDR", ""))
        try:
            response = self.get_response(request)
        finally:
            audit.current_ip.reset(token)
        response.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        response.setdefault("Referrer-Policy", "same-origin")
        response.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
        path = request.path
        if not path.startswith(settings.STATIC_URL):
            # Pages may show a client; a shared phone's browser cache must not keep them.
            response["Cache-Control"] = "no-store"
        return response


class IdleTimeoutMiddleware:
    """Log a web session out after SALUS_SESSION_IDLE_MINUTES without a request."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and hasattr(request, "session"):
            now = int(time.time())
            last = request.session.get("salus_last_seen")
            idle = settings.SALUS_SESSION_IDLE_MINUTES * 60
            if last is not None and now - last > idle:
                logout(request)
                if request.path.startswith("/api/"):
                    return self.get_response(request)
                return redirect(f"{resolve_url(settings.LOGIN_URL)}?timeout=1")
            request.session["salus_last_seen"] = now
        return self.get_response(request)
