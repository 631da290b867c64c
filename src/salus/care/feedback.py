"""Abuse limits of the anonymous community feedback form.

The form is open without log-in, so it is limited:
- per hashed client address: ``PER_ADDRESS`` submissions per ``WINDOW`` per site;
- per site: ``PER_SITE`` submissions per ``WINDOW`` (a flood from many addresses);
- size: each text field at most salus.care.actions.MAX_TEXT characters and the whole request
  at most ``MAX_BODY_BYTES``;
- a honeypot field that people never see (hidden by the stylesheet) but form-filling robots do;
- Django's CSRF protection, as on every form.

Addresses are never stored: a row's key is an HMAC (with the program's secret key) of the
window, the site and the address, so rows cannot be tied to an address nor followed from one
window to the next.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac

from django.conf import settings
from django.db import transaction
from django.db.models import F

from salus.care.models import FeedbackThrottle

WINDOW = dt.timedelta(hours=1)
PER_ADDRESS = 5
PER_SITE = 200
MAX_BODY_BYTES = 16 * 1024
HONEYPOT_FIELD = "website"


def _window_start(now: dt.datetime) -> dt.datetime:
    seconds = int(WINDOW.total_seconds())
    epoch = int(now.timestamp())
    return dt.datetime.fromtimestamp(epoch - epoch % seconds, tz=dt.UTC)


def _key(window: dt.datetime, site_id, address: str) -> str:
    msg = f"feedback|{window.isoformat()}|{site_id}|{address}".encode()
    return hmac.new(settings.SECRET_KEY.encode(), msg, hashlib.sha256).hexdigest()


@transaction.atomic
def allow_submission(site, address: str, now: dt.datetime) -> bool:
    """Count one submission from ``address`` at ``site``; False if over a limit (then nothing
    more is counted, so a blocked sender does not push the site's count up)."""
    window = _window_start(now)
    FeedbackThrottle.objects.filter(window_start__lt=now - dt.timedelta(days=1)).delete()
    keys = {"address": _key(window, site.pk, address or "?"), "site": _key(window, site.pk, "*")}
    rows = {name: FeedbackThrottle.objects.select_for_update().get_or_create(
        key=key, defaults={"window_start": window})[0] for name, key in keys.items()}
    if rows["address"].count >= PER_ADDRESS or rows["site"].count >= PER_SITE:
        return False
    FeedbackThrottle.objects.filter(key__in=keys.values()).update(count=F("count") + 1)
    return True
