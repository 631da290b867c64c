"""Finding a client by UIC, the client's page, and recording a contact."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect, render
from django.template import TemplateDoesNotExist
from django.template.loader import select_template
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from salus.clients.actions import find_by_hashes
from salus.clients.models import Substance
from salus.core import access, audit
from salus.services.actions import ConflictError, do_record_contact, do_record_contact_for_uic
from salus.services.models import TestResult
from salus.web.forms import ContactForm, UICForm, sign_hashes, unsign_hashes
from salus.web.views.common import check_posted_site, requires, today, working_sites

CARE_PANEL = "care/client_panel.html"
SUBSTANCE_LABELS = dict(Substance.choices)
RESULT_LABELS = dict(TestResult.choices)


def contact_form_for(user, data=None, registering: bool = False) -> ContactForm:
    """The contact form offering the user's own sites and, with clinical.record, test results."""
    return ContactForm(
        data, sites=working_sites(user), registering=registering, clinical=access.can(user, "clinical.record"),
    )


@requires("client.view")
def find_client(request):
    """Find a client from the parts of their UIC (POST only, so the code never enters a URL).

    Found and visible: go to the client's page. Otherwise offer the contact form that registers
    them; whether the code exists at another site is not revealed.
    """
    if request.method != "POST":
        return render(request, "web/find_client.html", {"form": UICForm()})
    form = UICForm(request.POST)
    if not form.is_valid():
        return render(request, "web/find_client.html", {"form": form})
    client = find_by_hashes(form.hashes)
    if client is not None and access.clients(request.user).filter(id=client.id).exists():
        return redirect("web-client", client_id=client.id)
    if not access.can(request.user, "client.register") or not access.can(request.user, "contact.record"):
        return render(request, "web/find_client.html", {"form": UICForm(), "not_found": True})
    contact_form = contact_form_for(request.user, registering=True)
    return render(request, "web/contact_form.html", {
        "form": contact_form, "token": sign_hashes(form.hashes), "registering": True,
    })


@require_POST
@requires("client.register")
def register_contact(request):
    """Register the client of a signed UIC token and record their first contact here."""
    access.require(request.user, "contact.record")
    hashes = unsign_hashes(request.POST.get("token", ""))
    if hashes is None:
        messages.error(request, _("The search has expired. Please enter the code again."))
        return redirect("web-client-find")
    check_posted_site(request, "contact.record")
    form = contact_form_for(request.user, request.POST, registering=True)
    context = {"form": form, "token": request.POST["token"], "registering": True}
    if not form.is_valid():
        return render(request, "web/contact_form.html", context)
    try:
        contact, _created = do_record_contact_for_uic(
            request.user, site=form.site_obj(), hashes=hashes, attrs=form.attributes(),
            occurred_at=form.cleaned_data["occurred_at"], services=form.services(),
            contact_id=form.cleaned_data["contact_id"], source="web",
        )
    except (ConflictError, ValueError) as exc:
        form.add_error(None, str(exc))
        return render(request, "web/contact_form.html", context)
    messages.success(request, _("Contact recorded."))
    return redirect("web-client", client_id=contact.client_id)


@requires("contact.record")
def record_contact(request, client_id):
    """Record a contact for a client the user can see."""
    client = access.get_client_for_user(request.user, client_id)
    if request.method != "POST":
        return render(request, "web/contact_form.html", {
            "form": contact_form_for(request.user), "client": client, "care_panel": care_panel_available(),
        })
    check_posted_site(request, "contact.record")
    form = contact_form_for(request.user, request.POST)
    context = {"form": form, "client": client, "care_panel": care_panel_available()}
    if not form.is_valid():
        return render(request, "web/contact_form.html", context)
    try:
        do_record_contact(
            request.user, site=form.site_obj(), client=client, occurred_at=form.cleaned_data["occurred_at"],
            services=form.services(), contact_id=form.cleaned_data["contact_id"], source="web",
        )
    except (ConflictError, ValueError) as exc:
        form.add_error(None, str(exc))
        return render(request, "web/contact_form.html", context)
    messages.success(request, _("Contact recorded."))
    return redirect("web-client", client_id=client.id)


def care_panel_available() -> bool:
    try:
        select_template([CARE_PANEL])
    except TemplateDoesNotExist:
        return False
    return True


@requires("client.view")
def client_page(request, client_id):
    """The client's timeline at the user's sites; clinical fields only with clinical.view."""
    user = request.user
    try:
        client = access.get_client_for_user(user, client_id)
    except access.NotVisible:
        kept = access.kept_record_for(user, client_id)
        if kept is None:
            raise
        return redirect("web-client", client_id=kept.id)
    audit.record(user, "client.view", client)
    contacts = list(access.contacts(user).filter(client=client).order_by("-occurred_at").prefetch_related("referrals"))
    for c in contacts:
        access.redact_clinical(user, c)
        # Labels for the template, kept on the contact it shows.
        c.hiv_label = RESULT_LABELS.get(c.hiv_result, c.hiv_result)  # type: ignore[attr-defined]
        c.hcv_label = RESULT_LABELS.get(c.hcv_result, c.hcv_result)  # type: ignore[attr-defined]
    episodes = list(access.ost_episodes(user).filter(client=client).order_by("-start_date").prefetch_related("doses"))
    for ep in episodes:
        # For the template, kept on the episode it shows.
        ep.recent_doses = sorted(ep.doses.all(), key=lambda d: d.date, reverse=True)[:5]  # type: ignore[attr-defined]
    return render(request, "web/client.html", {
        "client": client,
        "contacts": contacts,
        "referrals": access.referrals(user).filter(client=client).order_by("-made_on"),
        "episodes": episodes,
        "open_episode": next((e for e in episodes if e.end_date is None), None),
        "overdoses": access.overdoses(user).filter(client=client).order_by("-date"),
        "care_panel": care_panel_available(),
        "today": today(),
        "substances": [SUBSTANCE_LABELS.get(s, s) for s in client.substances or []],
    })
