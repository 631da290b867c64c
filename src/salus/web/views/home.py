"""The site's day: what happened today at the user's sites and what needs doing."""

from __future__ import annotations

import datetime as dt

from django.contrib.auth.decorators import login_required
from django.db.models import Count, Q, Sum
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse

from salus.core import access
from salus.core.config import program_config
from salus.services.models import Referral
from salus.web.views.common import today


@login_required
def home(request):
    """Today's contacts by service, referrals due for follow-up and stock to reconcile.

    People without access to individual records (analysts) go to the indicators instead.
    """
    user = request.user
    if not access.sees_individual_records(user):
        try:
            return redirect(reverse("indicators-home"))
        except NoReverseMatch:
            return render(request, "web/aggregate_home.html")
    day = today()
    todays = access.contacts(user).filter(date=day)
    totals = todays.aggregate(
        contacts=Count("id"),
        clients=Count("client", distinct=True),
        syringes=Sum("syringes_given"),
        syringes_returned=Sum("syringes_returned"),
        other_equipment=Sum("other_equipment_given"),
        condoms=Sum("condoms_given"),
        naloxone=Sum("naloxone_kits_given"),
        hiv_tests=Count("id", filter=Q(hiv_tested=True)),
        hcv_tests=Count("id", filter=Q(hcv_tested=True)),
        education=Count("id", filter=Q(education=True)),
    )
    due_before = day - dt.timedelta(days=program_config().referral_follow_up_days)
    referrals_due = access.referrals(user).filter(status=Referral.Status.MADE, made_on__lte=due_before).count()
    negative_stock = []
    if access.can(user, "stock.view"):
        negative_stock = list(access.stock_levels(user).filter(quantity__lt=0).order_by("site__code", "commodity__code"))
    by_site = (
        todays.values("site__code", "site__name").annotate(n=Count("id")).order_by("site__code")
    )
    return render(request, "web/home.html", {
        "day": day, "totals": {k: v or 0 for k, v in totals.items()}, "referrals_due": referrals_due,
        "negative_stock": negative_stock, "by_site": list(by_site),
        "recent": access.contacts(user).filter(date=day).order_by("-occurred_at")[:10],
    })
