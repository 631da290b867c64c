"""Translation marker for the model's user-visible strings.

The numerical core must run without Django settings (on a worker, in the CLI before setup),
so ``gettext`` here uses Django's translation machinery only when settings are configured
and returns the text unchanged otherwise. Mark strings with ``_("...")`` and keep
placeholders inside the string (``_("%(n)s samples") % {"n": n}``), never concatenated.
"""

from __future__ import annotations


def gettext(message: str) -> str:
    """Translate ``message`` when Django is configured; otherwise return it unchanged."""
    try:
        from django.conf import settings  # noqa: PLC0415 - optional at run time

        if settings.configured:
            from django.utils.translation import gettext as django_gettext  # noqa: PLC0415

            return django_gettext(message)
    except ImportError:
        pass
    return message


_ = gettext


def gettext_noop(message: str) -> str:
    """Mark a module-level string for extraction; translate it with ``_`` where it is shown."""
    return message
