"""Signing in safely: lockout after repeated failures and the TOTP second factor.

Lockout: after ``LOCKOUT_THRESHOLD`` wrong passwords (or wrong second-factor codes) in a row an
account is locked for ``LOCKOUT_MINUTES``. While locked, even the right password is refused, and
the message never says whether the log-in name exists or whether it is locked: a guesser learns
nothing. Unknown names still cost one password hash, so timing does not tell either.

Second factor: time-based one-time codes (RFC 6238, pyotp). The secret is stored encrypted with
the field keys (salus.core.crypto). Administrators must set it up before they can use anything
else (:class:`RequireAdminTOTPMiddleware`).
"""

from __future__ import annotations

import datetime as dt
import hmac
import time

import pyotp
import segno
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.db import transaction
from django.db.models import F, Q
from django.shortcuts import redirect
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from salus.core import audit, crypto

LOCKOUT_THRESHOLD = 5
LOCKOUT_MINUTES = 15
# The encryption context of User.totp_secret (binds the ciphertext to that column).
TOTP_CONTEXT = "core.User.totp_secret"
TOTP_ISSUER = "Salus"
# The audit actor of a refused log-in: not the account's owner, as far as anyone knows.
ATTEMPT = "log-in attempt"


def is_locked(user, now: dt.datetime | None = None) -> bool:
    now = now or timezone.now()
    return user.locked_until is not None and user.locked_until > now


@transaction.atomic
def do_record_login_failure(user, reason: str = "password") -> bool:
    """Count one failed log-in for ``user``; lock the account when the threshold is reached.

    Returns True if this failure locked the account. The counter is incremented in SQL so two
    concurrent guesses both count.
    """
    User = get_user_model()
    User.objects.filter(pk=user.pk).update(failed_logins=F("failed_logins") + 1)
    user.refresh_from_db(fields=["failed_logins", "locked_until"])
    locked = False
    if user.failed_logins >= LOCKOUT_THRESHOLD:
        user.locked_until = timezone.now() + dt.timedelta(minutes=LOCKOUT_MINUTES)
        user.failed_logins = 0
        User.objects.filter(pk=user.pk).update(locked_until=user.locked_until, failed_logins=0)
        locked = True
    # The actor is unknown (whoever typed at the log-in page); the account is the object.
    audit.record(ATTEMPT, "auth.lock" if locked else "auth.failure", user, detail={"reason": reason})
    return locked


@transaction.atomic
def do_record_login_success(user) -> None:
    """Reset the failure counter and note the log-in in the audit log."""
    get_user_model().objects.filter(pk=user.pk).update(failed_logins=0, locked_until=None)
    user.failed_logins, user.locked_until = 0, None
    audit.record(user, "auth.login", user)


class LockoutBackend(ModelBackend):
    """Django's password check plus the lockout. Never says why a log-in was refused."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        User = get_user_model()
        if username is None:
            username = kwargs.get(User.USERNAME_FIELD)
        if username is None or password is None:
            return None
        user = User._default_manager.filter(**{User.USERNAME_FIELD: username}).first()
        if user is None:
            # Spend the same time as a real check so that timing does not reveal the name.
            User().set_password(password)
            return None
        if is_locked(user):
            user.check_password(password)
            audit.record(ATTEMPT, "auth.refused_locked", user)
            return None
        if user.check_password(password) and self.user_can_authenticate(user):
            # The failure counter is reset when the whole log-in succeeds (second factor too).
            return user
        do_record_login_failure(user, "password")
        return None


# --- TOTP -----------------------------------------------------------------------------------


def new_totp_secret() -> str:
    return pyotp.random_base32()


def has_totp(user) -> bool:
    return bool(getattr(user, "totp_secret", ""))


def totp_for(user) -> pyotp.TOTP | None:
    if not has_totp(user):
        return None
    return pyotp.TOTP(crypto.decrypt(user.totp_secret, TOTP_CONTEXT))


def matching_step(secret: str, code: str, now: float | None = None) -> int | None:
    """The TOTP time step (30-second counter since the epoch) whose code is ``code``, looking
    at the current step and one either side for phone clocks that drift; None if none matches.
    Spaces and other non-digits typed with the code are ignored."""
    code = "".join(ch for ch in (code or "") if ch.isdigit())
    if len(code) != 6:
        return None
    totp = pyotp.TOTP(secret)
    current = int((time.time() if now is None else now) // totp.interval)
    # Later steps first, so the freshest matching step is the one recorded.
    for step in (current + 1, current, current - 1):
        if hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def code_is_valid(secret: str, code: str) -> bool:
    """Whether ``code`` is a current code for ``secret`` (used while setting up, before the
    secret is stored; log-ins use :func:`do_accept_totp`, which also refuses replays)."""
    return matching_step(secret, code) is not None


@transaction.atomic
def do_accept_totp(user, code: str, now: float | None = None) -> bool:
    """Accept ``code`` as ``user``'s second factor, once: True only if it matches a step later
    than the last accepted one. The check and the record are one conditional UPDATE, so two
    concurrent log-ins with the same code cannot both succeed."""
    totp = totp_for(user)
    step = matching_step(totp.secret, code, now) if totp else None
    if step is None:
        return False
    User = get_user_model()
    fresh = Q(totp_last_step__isnull=True) | Q(totp_last_step__lt=step)
    if not User.objects.filter(fresh, pk=user.pk).update(totp_last_step=step):
        audit.record(ATTEMPT, "auth.totp_replayed", user)
        return False
    user.totp_last_step = step
    return True


def provisioning_uri(user, secret: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=user.username, issuer_name=TOTP_ISSUER)


def qr_data_uri(uri: str) -> str:
    """An SVG QR code as a data: URI (allowed by the CSP's img-src; nothing leaves the server)."""
    return segno.make(uri, error="m").svg_data_uri(scale=5, border=2)


@transaction.atomic
def do_enable_totp(actor, user, secret: str, step: int | None = None) -> None:
    """Store ``secret`` as ``user``'s second factor. ``step`` is the time step of the code that
    proved the set-up worked: that code is then spent and cannot also open a log-in."""
    user.totp_secret = crypto.encrypt(secret, TOTP_CONTEXT)
    user.totp_last_step = step
    get_user_model().objects.filter(pk=user.pk).update(totp_secret=user.totp_secret, totp_last_step=step)
    audit.record(actor, "auth.totp_enabled", user)


@transaction.atomic
def do_reset_totp(actor, user) -> None:
    """Remove a user's second factor (lost phone); an administrator must set it up again."""
    user.totp_secret = ""
    get_user_model().objects.filter(pk=user.pk).update(totp_secret="")
    audit.record(actor, "auth.totp_reset", user)


@transaction.atomic
def do_unlock(actor, user) -> None:
    get_user_model().objects.filter(pk=user.pk).update(failed_logins=0, locked_until=None)
    audit.record(actor, "auth.unlock", user)


def totp_required(user) -> bool:
    """Administrators must have a second factor; others may choose one."""
    return getattr(user, "role", "") == "admin"


class RequireAdminTOTPMiddleware:
    """Send an administrator without a second factor to set one up before anything else.

    Only the set-up page itself, signing out, the language switch and static files stay open.
    The API (bearer tokens) is not a session and is not affected.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if (
            user is not None
            and user.is_authenticated
            and totp_required(user)
            and not has_totp(user)
            and not request.path.startswith(settings.STATIC_URL)
            and not request.path.startswith("/api/")
        ):
            allowed = {reverse("security-totp-setup"), reverse("web-lock")}
            try:
                allowed.add(reverse("set_language"))
            except NoReverseMatch:  # the language switch is optional
                pass
            if request.path not in allowed:
                return redirect("security-totp-setup")
        return self.get_response(request)
