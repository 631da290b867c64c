"""Stock levels at the user's sites and recording receipts and adjustments."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from salus.core import access
from salus.stock.actions import do_record_stock_movement
from salus.stock.stockouts import stockout_days_by_pair
from salus.web.forms import StockMovementForm
from salus.web.views.common import check_posted_site, requires, today, working_sites


@requires("stock.view")
def stock_levels(request):
    """Levels per site and commodity; negative levels flagged; stock-out days this month."""
    day = today()
    month_start = day.replace(day=1)
    levels = list(
        access.stock_levels(request.user)
        .select_related("site", "commodity")
        .order_by("site__code", "commodity__category", "commodity__code")
    )
    # One grouped pass over the movements for every level, not one query per level.
    out_days = stockout_days_by_pair(access.stock_movements(request.user), month_start, day)
    for level in levels:
        level.stockout_days = (
            out_days.get((level.site_id, level.commodity_id), 0) if level.commodity.tracked else None
        )
    recent = access.stock_movements(request.user).exclude(kind="distribution").order_by("-at")[:15]
    return render(request, "web/stock.html", {
        "levels": levels, "month_start": month_start, "day": day, "recent": recent,
    })


@requires("stock.manage")
def stock_movement(request):
    """Record a receipt, an adjustment or a transfer at one of the user's sites."""
    sites = working_sites(request.user)
    if request.method != "POST":
        return render(request, "web/simple_form.html", {"form": StockMovementForm(sites=sites), "heading": _("Record a receipt or adjustment")})
    check_posted_site(request, "stock.manage")
    form = StockMovementForm(request.POST, sites=sites)
    if form.is_valid():
        d = form.cleaned_data
        try:
            do_record_stock_movement(
                request.user, site=form.site_obj(), commodity=d["commodity"], kind=d["kind"],
                quantity=d["quantity"], occurred_on=d["occurred_on"], note=d["note"],
            )
        except ValueError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, _("Stock movement recorded."))
            return redirect("web-stock")
    return render(request, "web/simple_form.html", {"form": form, "heading": _("Record a receipt or adjustment")})
