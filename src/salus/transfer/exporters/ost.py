"""OST episodes, one row per episode, for administrators (``export.individual``).

``client_id`` is the client's UUID (no UIC is stored). The last dose recorded is included so
that retention and dosing can be analysed without a second file.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.db.models import Count, Max

from salus.core import access
from salus.services.models import OSTDose

COLUMNS = (
    "episode_id", "client_id", "site", "area", "medication", "start_date", "end_date", "end_reason",
    "doses_recorded", "last_dose_date", "last_dose_mg",
)
HELP = "OST episodes, one row per episode (administrators only)"


def rows(user, *, since: dt.date | None = None, until: dt.date | None = None):
    """Yield one tuple per episode the user may see; ``since``/``until`` bound the start date."""
    qs = access.ost_episodes(user).select_related("site__area").annotate(
        n_doses=Count("doses"), last_dose=Max("doses__date")
    )
    if since:
        qs = qs.filter(start_date__gte=since)
    if until:
        qs = qs.filter(start_date__lte=until)
    for ep in qs.order_by("start_date", "id").iterator(chunk_size=2000):
        last_mg: Decimal | str = ""
        if ep.last_dose:
            dose = OSTDose.objects.filter(episode_id=ep.id, date=ep.last_dose).order_by("-id").first()
            last_mg = dose.dose_mg if dose else ""
        yield (
            ep.id, ep.client_id, ep.site.code, ep.site.area.path, ep.medication, ep.start_date.isoformat(),
            ep.end_date.isoformat() if ep.end_date else "", ep.end_reason, ep.n_doses,
            ep.last_dose.isoformat() if ep.last_dose else "", last_mg,
        )
