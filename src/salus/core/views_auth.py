"""Signing in and out: password with lockout, the TOTP second factor, "lock now".

The log-in is two steps for a user with a second factor: the password step keeps only the
user's id in the session (``salus_2fa_pending``), and the session is logged in after the code
is checked. Every refusal shows the same message, whatever the reason.
"""

from __future__ import annotations

import time

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model, login, logout
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.views import LoginView
from django.shortcuts import redirect, render, resolve_url
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from salus.core import auth, crypto

PENDING_KEY = "salus_2fa_pending"
SETUP_KEY = "salus_totp_setup"
# How long the code step waits after a correct password, in seconds.
PENDING_SECONDS = 300

REFUSED = gettext_lazy(
    "The log-in name or password is not right, or the account is locked for a while after "
    "too many attempts. Try again, or ask an administrator."
)


class SalusAuthenticationForm(AuthenticationForm):
    error_messages = {
        "invalid_login": REFUSED,
        "inactive": REFUSED,
    }


class CodeForm(forms.Form):
    code = forms.CharField(
        label=gettext_lazy("Six-digit code from your authenticator app"),
        max_length=10,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )


def _next_url(request) -> str:
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return resolve_url(settings.LOGIN_REDIRECT_URL)


class SalusLoginView(LoginView):
    template_name = "core/login.html"
    authentication_form = SalusAuthenticationForm
    redirect_authenticated_user = True

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx["timed_out"] = self.request.GET.get("timeout") == "1"
        return ctx

    def form_valid(self, form):
        user = form.get_user()
        if auth.has_totp(user):
            self.request.session.cycle_key()
            self.request.session[PENDING_KEY] = {
                "user": str(user.pk),
                "backend": user.backend,
                "until": int(time.time()) + PENDING_SECONDS,
                "next": self.get_redirect_url(),
            }
            return redirect("security-totp-verify")
        auth.do_record_login_success(user)
        return super().form_valid(form)


login_view = SalusLoginView.as_view()


def totp_verify(request):
    """The second log-in step: the code from the user's authenticator app."""
    if request.user.is_authenticated:
        return redirect(settings.LOGIN_REDIRECT_URL)
    pending = request.session.get(PENDING_KEY)
    if not pending or pending.get("until", 0) < time.time():
        request.session.pop(PENDING_KEY, None)
        return redirect("web-login")
    user = get_user_model().objects.filter(pk=pending["user"], is_active=True).first()
    if user is None or not auth.has_totp(user):
        request.session.pop(PENDING_KEY, None)
        return redirect("web-login")
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if not auth.is_locked(user) and auth.do_accept_totp(user, form.cleaned_data["code"]):
            request.session.pop(PENDING_KEY, None)
            auth.do_record_login_success(user)
            login(request, user, backend=pending["backend"])
            return redirect(pending.get("next") or resolve_url(settings.LOGIN_REDIRECT_URL))
        if not auth.is_locked(user) and auth.do_record_login_failure(user, "totp"):
            request.session.pop(PENDING_KEY, None)
        form.add_error(None, REFUSED)
    return render(request, "core/totp_verify.html", {"form": form})


@login_required
def totp_setup(request):
    """Set up the second factor: scan the QR code, type one code to prove it works.

    The new secret waits in the session (encrypted) until the code is right; only then is it
    stored on the account.
    """
    user = request.user
    if auth.has_totp(user):
        return render(request, "core/totp_setup.html", {"already": True})
    token = request.session.get(SETUP_KEY)
    try:
        secret = crypto.decrypt(token, "session.totp_setup") if token else ""
    except crypto.DecryptionError:
        # Made with a field key that was rotated away since: start the set-up again.
        secret = ""
    if not secret:
        secret = auth.new_totp_secret()
        request.session[SETUP_KEY] = crypto.encrypt(secret, "session.totp_setup")
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        step = auth.matching_step(secret, form.cleaned_data["code"])
        if step is not None:
            auth.do_enable_totp(user, user, secret, step)
            request.session.pop(SETUP_KEY, None)
            messages.success(request, _("Two-step log-in is on for your account."))
            return redirect(settings.LOGIN_REDIRECT_URL)
        form.add_error("code", _("That code is not right. Check the time on your phone and try again."))
    uri = auth.provisioning_uri(user, secret)
    return render(
        request,
        "core/totp_setup.html",
        {
            "form": form,
            "qr": auth.qr_data_uri(uri),
            # Grouped in fours so it can be typed into an app by hand.
            "secret_groups": [secret[i : i + 4] for i in range(0, len(secret), 4)],
            "required": auth.totp_required(user),
        },
    )


@require_POST
def lock_now(request):
    """End the session at once (the "lock now" button); the next person sees the log-in page."""
    logout(request)
    return redirect("web-login")
