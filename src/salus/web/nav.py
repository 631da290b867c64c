"""The navigation menu, declared as data: (URL name, label, capability needed).

Each package adds its own screens here; the menu shows an entry only to users who hold its
capability (salus.core.roles). Entries whose URL does not resolve are skipped.
"""

from django.utils.translation import gettext_lazy as _

NAV: list[tuple[str, object, str]] = [
    ("web-home", _("Today"), "contact.view"),
    ("web-client-find", _("Find a client"), "client.view"),
    ("web-referrals", _("Referrals"), "referral.manage"),
    ("web-stock", _("Stock"), "stock.view"),
    ("web-duplicates", _("Possible duplicates"), "client.merge"),
    ("model-home", _("Impact model"), "model.use"),
    ("reports-dashboard", _("Dashboard"), "indicators.view"),
    ("indicators-home", _("Indicators"), "indicators.view"),
    ("care-high-risk", _("High-risk windows"), "care.high_risk_list"),
    ("care-rights-list", _("Rights violations"), "rights.report"),
    ("care-feedback-list", _("Community feedback"), "feedback.view"),
    ("care-summary", _("Care summary"), "indicators.view"),
    ("security-audit-log", _("Audit log"), "audit.view"),
]
