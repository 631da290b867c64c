"""The audit log viewer: who did or saw what, filtered, newest first.

Coordinators see the events of their sites; managers and administrators see every event
(scope from salus.core.access.audit_events). Reading the log is itself recorded.
"""

from __future__ import annotations

import datetime as dt

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _

from salus.core import access, audit

PAGE_SIZE = 100


class AuditFilterForm(forms.Form):
    action = forms.CharField(label=_("Action starts with"), required=False, max_length=60)
    actor = forms.CharField(label=_("Staff log-in name"), required=False, max_length=150)
    object_id = forms.CharField(label=_("Record id"), required=False, max_length=64)
    site = forms.CharField(label=_("Site code"), required=False, max_length=40)
    since = forms.DateField(label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    until = forms.DateField(label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"}))


def filtered_events(user, data: dict):
    """The user's visible events narrowed by the filter values in ``data`` (cleaned form data)."""
    qs = access.audit_events(user)
    if data.get("action"):
        qs = qs.filter(action__startswith=data["action"])
    if data.get("actor"):
        qs = qs.filter(actor_name=data["actor"])
    if data.get("object_id"):
        qs = qs.filter(object_id=data["object_id"])
    if data.get("site"):
        qs = qs.filter(site_code=data["site"])
    if data.get("since"):
        qs = qs.filter(at__date__gte=data["since"])
    if data.get("until"):
        qs = qs.filter(at__date__lte=data["until"])
    return qs.order_by("-seq")


@login_required
def audit_log(request):
    access.require(request.user, "audit.view")
    form = AuditFilterForm(request.GET or None)
    data = form.cleaned_data if form.is_valid() else {}
    page = Paginator(filtered_events(request.user, data), PAGE_SIZE).get_page(request.GET.get("page"))
    used = {k: (v.isoformat() if isinstance(v, dt.date) else v) for k, v in data.items() if v}
    audit.record(request.user, "audit.view", object_type="auditlog", detail={"filters": used, "page": page.number})
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "core/audit_log.html",
        {"form": form, "page": page, "query": query.urlencode()},
    )
