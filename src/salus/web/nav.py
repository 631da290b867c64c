"""The navigation menu, declared as data: (URL name, label, capability needed).

Each package adds its own screens here; the menu shows an entry only to users who hold its
capability (salus.core.roles).
"""

from django.utils.translation import gettext_lazy as _

NAV: list[tuple[str, object, str]] = [
    ("web-home", _("Today"), "contact.view"),
]
