"""Helpers shared by the web views."""

from __future__ import annotations

import functools

from django.contrib.auth.decorators import login_required

from salus.core import access
from salus.core.models import Site


def requires(capability: str):
    """Log-in required, then PermissionDenied (403) unless the user holds ``capability``."""

    def decorator(view):
        @login_required
        @functools.wraps(view)
        def wrapped(request, *args, **kwargs):
            access.require(request.user, capability)
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


def check_posted_site(request, capability: str) -> None:
    """Refuse (403) a POST naming a site where the user may not do ``capability``.

    Forms offer only the user's own sites, so this fires only for a crafted request; refusing it
    outright (rather than as a form error) keeps the cross-site boundary visible in tests.
    """
    code = request.POST.get("site")
    if not code:
        return
    site = Site.objects.filter(code=code).first()
    if site is not None:
        access.check_site(request.user, site, capability)


def working_sites(user) -> list:
    """The user's sites that are still active: where new records may be made."""
    return [s for s in access.sites(user) if s.active]


def is_htmx(request) -> bool:
    return request.headers.get("HX-Request") == "true"


def today():
    """Today's date in the program's time zone."""
    from django.utils import timezone

    from salus.services.actions import local_date

    return local_date(timezone.now())
