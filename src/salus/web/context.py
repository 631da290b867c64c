"""Template context shared by every page."""

from __future__ import annotations

from django.utils import translation

from salus.core import access


def salus_context(request):
    from salus.core.config import program_config

    cfg = program_config()
    user = getattr(request, "user", None)
    return {
        "program_name": cfg.program_name,
        "synthetic": cfg.synthetic,
        "is_rtl": translation.get_language_bidi(),
        "salus_can": Capabilities(user),
    }


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
