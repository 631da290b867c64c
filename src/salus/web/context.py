"""Template context shared by every page."""

from __future__ import annotations

from django.urls import NoReverseMatch, reverse
from django.utils import translation

from salus.core import access


def salus_context(request):
    from salus.core.config import program_config

    cfg = program_config()
    user = getattr(request, "user", None)
    return {
        "program_name": cfg.program_name,
        "synthetic": cfg.synthetic,
        # Times on screen are shown in the program's zone, as dates are counted in it.
        "program_tz": cfg.timezone,
        "is_rtl": translation.get_language_bidi(),
        "salus_can": Capabilities(user),
        "nav_items": nav_items(request, user),
    }


def nav_items(request, user) -> list[dict]:
    """The menu entries ``user`` may use, in the order of salus.web.nav.NAV.

    An entry whose URL does not resolve (a screen not installed) is left out rather than
    breaking every page.
    """
    from salus.web.nav import NAV

    if user is None or not user.is_authenticated:
        return []
    items = []
    path = getattr(request, "path", "")
    for url_name, label, capability in NAV:
        if not access.can(user, capability):
            continue
        try:
            url = reverse(url_name)
        except NoReverseMatch:
            continue
        current = path == url if url == "/" else path.startswith(url)
        items.append({"url": url, "label": label, "current": current})
    return items


class Capabilities:
    """Lets templates ask ``{% if salus_can.contact_record %}`` for ``contact.record``."""

    def __init__(self, user):
        self.user = user

    def __getitem__(self, name: str) -> bool:
        return access.can(self.user, name.replace("_", ".", 1))

    def __getattr__(self, name: str) -> bool:
        if name.startswith("__"):
            raise AttributeError(name)
        return self[name]
