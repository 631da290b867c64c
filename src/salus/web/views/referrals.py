"""Referrals waiting for follow-up and recording their outcome."""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from salus.core import access
from salus.core.config import program_config
from salus.services.actions import do_update_referral
from salus.services.models import Referral
from salus.web.forms import ReferralUpdateForm
from salus.web.views.common import is_htmx, requires, today


def follow_up_cutoff() -> dt.date:
    """Referrals made on or before this date and still open are due for follow-up."""
    return today() - dt.timedelta(days=program_config().referral_follow_up_days)


@requires("referral.manage")
def referral_list(request):
    """Open referrals at the user's sites: those due for follow-up, or all with ?show=open."""
    show_all = request.GET.get("show") == "open"
    cutoff = follow_up_cutoff()
    qs = access.referrals(request.user).filter(status=Referral.Status.MADE).order_by("made_on", "site__code")
    if not show_all:
        qs = qs.filter(made_on__lte=cutoff)
    rows = [(r, ReferralUpdateForm(referral=r, prefix=str(r.id))) for r in qs[:300]]
    return render(request, "web/referrals.html", {
        "rows": rows, "show_all": show_all, "cutoff": cutoff, "today": today(), "days": program_config().referral_follow_up_days,
    })


@require_POST
@requires("referral.manage")
def referral_update(request, referral_id):
    """Record a referral's outcome. htmx gets the updated card back; a plain form post goes
    back to the page it came from."""
    referral = access.get_referral_for_user(request.user, referral_id)
    form = ReferralUpdateForm(request.POST, referral=referral, prefix=str(referral.id))
    if form.is_valid():
        try:
            do_update_referral(request.user, referral, status=form.cleaned_data["status"],
                               outcome_on=form.cleaned_data["outcome_on"])
        except ValueError as exc:
            form.add_error(None, str(exc))
    if is_htmx(request):
        return render(request, "web/partials/referral.html", {
            "referral": referral, "form": form, "cutoff": follow_up_cutoff(), "today": today(),
        })
    if form.errors:
        return render(request, "web/referral_update.html", {"referral": referral, "form": form, "today": today()})
    messages.success(request, _("Referral updated."))
    back = request.POST.get("back")
    if back == "client":
        return redirect("web-client", client_id=referral.client_id)
    return redirect("web-referrals")
