"""Contacts, one row per contact, for administrators (``export.individual``).

No raw UIC exists to export (only its keyed hash is stored, and that is not exported either):
``client_id`` is the client's UUID, stable across exports. HIV and HCV results and ART status
are included: only administrators hold ``export.individual``, and an analysis of testing needs
them. Every export writes an audit row with its row count.
"""

from __future__ import annotations

import datetime as dt

from salus.core import access

COLUMNS = (
    "contact_id", "client_id", "date", "site", "area", "setting", "sex", "birth_year", "injects",
    "syringes_given", "syringes_returned", "other_equipment_given", "condoms_given",
    "naloxone_kits_given", "education", "hiv_test_result", "hcv_test_result", "art_status",
    "referrals", "source",
)
HELP = "Contacts and their services, one row per contact (administrators only)"


def _yes_no(value: bool | None) -> str:
    return "" if value is None else ("yes" if value else "no")


def rows(user, *, since: dt.date | None = None, until: dt.date | None = None):
    """Yield one tuple per contact the user may see, oldest first."""
    qs = access.contacts(user).select_related("site__area", "client").prefetch_related("referrals")
    if since:
        qs = qs.filter(date__gte=since)
    if until:
        qs = qs.filter(date__lte=until)
    for c in qs.order_by("date", "id").iterator(chunk_size=2000):
        yield (
            c.id, c.client_id, c.date.isoformat(), c.site.code, c.site.area.path, c.setting, c.client.sex,
            c.client.birth_year or "", _yes_no(c.client.injects), c.syringes_given, c.syringes_returned,
            c.other_equipment_given, c.condoms_given, c.naloxone_kits_given, _yes_no(c.education),
            c.hiv_result, c.hcv_result, c.art_status, " ".join(sorted(r.service for r in c.referrals.all())),
            c.source,
        )
