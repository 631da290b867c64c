"""Possible duplicate client records (UICs one component apart): merge or dismiss."""

from __future__ import annotations

from django.contrib import messages
from django.db.models import Count
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from salus.clients import uic as uicmod
from salus.clients.actions import (
    MergeError,
    do_dismiss_duplicate,
    do_merge_clients,
    possible_duplicates,
)
from salus.core import access
from salus.web.views.common import requires


@requires("client.merge")
def duplicate_list(request):
    """Pairs where both records are visible to the user, with what tells them apart."""
    visible = access.clients(request.user)
    # Organisation-wide roles see every record: no need to send every id to the database.
    scope = None if access.site_ids(request.user) is None else visible.values("id")
    candidates = possible_duplicates(client_ids=scope)
    shown = {c.id for a, b, _pos in candidates for c in (a, b)}
    visible_ids = set(visible.filter(id__in=shown).values_list("id", flat=True))
    pairs = [(a, b, pos) for a, b, pos in candidates if a.id in visible_ids and b.id in visible_ids]
    ids = {c.id for a, b, _pos in pairs for c in (a, b)}
    counts = dict(
        access.contacts(request.user).filter(client_id__in=ids).values_list("client_id").annotate(n=Count("id"))
    )
    components = uicmod.recipe()
    rows = []
    for a, b, pos in pairs:
        # Read by the template beside the record's own fields.
        a.contact_count, b.contact_count = counts.get(a.id, 0), counts.get(b.id, 0)  # type: ignore[attr-defined]
        label = components[pos].label if pos < len(components) else str(pos)
        rows.append({"a": a, "b": b, "sides": [(a, b), (b, a)], "differs": label})
    return render(request, "web/duplicates.html", {"rows": rows})


def _pair(request):
    keep = access.get_client_for_user(request.user, request.POST.get("keep"))
    other = access.get_client_for_user(request.user, request.POST.get("other"))
    return keep, other


@require_POST
@requires("client.merge")
def duplicate_merge(request):
    """Merge ``other`` into ``keep``; both must be visible to the user."""
    keep, other = _pair(request)
    try:
        do_merge_clients(request.user, keep=keep, merge=other)
    except MergeError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("Records merged into %(ref)s.") % {"ref": keep.reference})
    return redirect("web-duplicates")


@require_POST
@requires("client.merge")
def duplicate_dismiss(request):
    """Record that the two records are different people."""
    keep, other = _pair(request)
    do_dismiss_duplicate(request.user, keep, other)
    messages.success(request, _("Marked as different people."))
    return redirect("web-duplicates")
