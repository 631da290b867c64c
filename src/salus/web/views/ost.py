"""OST episodes and doses, and overdose events, recorded from the client's page."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from salus.core import access
from salus.services.actions import (
    do_end_ost_episode,
    do_record_dose,
    do_record_overdose,
    do_start_ost_episode,
)
from salus.web.forms import OSTDoseForm, OSTEndForm, OSTStartForm, OverdoseForm
from salus.web.views.common import check_posted_site, requires, working_sites


def _form_page(request, heading, form, **context):
    return render(request, "web/simple_form.html", {"form": form, "heading": heading, **context})


@requires("ost.manage")
def ost_start(request, client_id):
    client = access.get_client_for_user(request.user, client_id)
    sites = working_sites(request.user)
    if request.method != "POST":
        return _form_page(request, _("Start an OST episode"), OSTStartForm(sites=sites), client=client)
    check_posted_site(request, "ost.manage")
    form = OSTStartForm(request.POST, sites=sites)
    if form.is_valid():
        try:
            do_start_ost_episode(request.user, client=client, site=form.site_obj(),
                                 medication=form.cleaned_data["medication"], start_date=form.cleaned_data["start_date"])
        except ValueError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, _("OST episode started."))
            return redirect("web-client", client_id=client.id)
    return _form_page(request, _("Start an OST episode"), form, client=client)


@requires("ost.manage")
def ost_dose(request, episode_id):
    episode = access.get_ost_episode_for_user(request.user, episode_id)
    if request.method != "POST":
        return _form_page(request, _("Record an OST dose"), OSTDoseForm(), episode=episode, client=episode.client)
    form = OSTDoseForm(request.POST)
    if form.is_valid():
        d = form.cleaned_data
        try:
            do_record_dose(request.user, episode, date=d["date"], dose_mg=d["dose_mg"], phase=d["phase"],
                           take_home_doses=d["take_home_doses"])
        except ValueError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, _("Dose recorded."))
            return redirect("web-client", client_id=episode.client_id)
    return _form_page(request, _("Record an OST dose"), form, episode=episode, client=episode.client)


@requires("ost.manage")
def ost_end(request, episode_id):
    episode = access.get_ost_episode_for_user(request.user, episode_id)
    if request.method != "POST":
        return _form_page(request, _("End the OST episode"), OSTEndForm(), episode=episode, client=episode.client)
    form = OSTEndForm(request.POST)
    if form.is_valid():
        try:
            do_end_ost_episode(request.user, episode, end_date=form.cleaned_data["end_date"],
                               end_reason=form.cleaned_data["end_reason"])
        except ValueError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, _("OST episode ended."))
            return redirect("web-client", client_id=episode.client_id)
    return _form_page(request, _("End the OST episode"), form, episode=episode, client=episode.client)


@requires("overdose.record")
def overdose_new(request, client_id):
    client = access.get_client_for_user(request.user, client_id)
    sites = working_sites(request.user)
    if request.method != "POST":
        return _form_page(request, _("Record an overdose event"), OverdoseForm(sites=sites), client=client)
    check_posted_site(request, "overdose.record")
    form = OverdoseForm(request.POST, sites=sites)
    if form.is_valid():
        d = form.cleaned_data
        try:
            do_record_overdose(
                request.user, client=client, site=form.site_obj(), date=d["date"], involvement=d["involvement"],
                naloxone_given=d["naloxone_given"], naloxone_kits_used=d["naloxone_kits_used"], outcome=d["outcome"],
                emergency_called=d["emergency_called"], details=d["details"].strip(),
            )
        except ValueError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, _("Overdose event recorded."))
            return redirect("web-client", client_id=client.id)
    return _form_page(request, _("Record an overdose event"), form, client=client)
