"""Stock-out days for many site-commodity pairs at once (the stock page).

Same rule as :func:`salus.stock.actions.stockout_days`: a day counts when the balance at its end
(every movement up to and including that day) is zero or less, from the first movement on. Here
the movements are summed in the database, grouped, in two queries for all pairs: the balance
before the window and the net movement of each day inside it. A site's year of contacts (one
distribution movement each) is never read row by row.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from django.db.models import Min, Q, Sum


def stockout_days_by_pair(movements, start: dt.date, end: dt.date) -> dict[tuple, int]:
    """Stock-out days from ``start`` to ``end`` (inclusive) for every (site_id, commodity_id)
    pair with a movement in ``movements`` (a StockMovement queryset, already limited to what
    the user may see). Pairs never stocked by ``end`` are absent (read: 0)."""
    upto = movements.filter(occurred_on__lte=end)
    firsts = {
        (r["site_id"], r["commodity_id"]): (r["first"], r["before"] or 0)
        for r in upto.values("site_id", "commodity_id").annotate(
            first=Min("occurred_on"), before=Sum("quantity", filter=Q(occurred_on__lt=start))
        )
    }
    daily: dict[tuple, dict[dt.date, int]] = defaultdict(dict)
    for r in (
        upto.filter(occurred_on__gte=start)
        .values("site_id", "commodity_id", "occurred_on")
        .annotate(net=Sum("quantity"))
        .order_by()
    ):
        daily[(r["site_id"], r["commodity_id"])][r["occurred_on"]] = r["net"]
    result = {}
    for pair, (first, balance) in firsts.items():
        by_day = daily.get(pair, {})
        days = 0
        day = start
        while day <= end:
            balance += by_day.get(day, 0)
            if day >= first and balance <= 0:
                days += 1
            day += dt.timedelta(days=1)
        result[pair] = days
    return result
