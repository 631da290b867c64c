"""Overdose events reported by clients: GET/POST /overdoses."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import TYPE_CHECKING, Literal

from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema

from salus.api.errors import invalid
from salus.api.schemas import (
    ERRORS,
    ListParams,
    Page,
    StrictIn,
    check_dates,
    check_not_future,
    client_for_write,
    filter_site,
    page,
    site_for_write,
)
from salus.core import access
from salus.services.actions import do_record_overdose, local_date
from salus.services.models import OverdoseEvent

router = Router(tags=["overdoses"])

if TYPE_CHECKING:
    # The codes are read from the models' choices when the module loads, which a type checker
    # cannot follow: to it they are strings. Requests are validated against the Literal.
    InvolvementCode = str
    OutcomeCode = str
else:
    InvolvementCode = Literal[tuple(OverdoseEvent.Involvement.values)]
    OutcomeCode = Literal[tuple(OverdoseEvent.Outcome.values)]


class OverdoseOut(Schema):
    id: uuid.UUID
    client: uuid.UUID
    site: str
    contact: uuid.UUID | None
    date: dt.date
    involvement: str
    naloxone_given: bool
    naloxone_kits_used: int
    outcome: str
    emergency_called: bool
    details: str


class OverdoseIn(StrictIn):
    client: uuid.UUID
    site: str = Field(max_length=40)
    date: dt.date
    involvement: InvolvementCode
    naloxone_given: bool = False
    naloxone_kits_used: int = Field(0, ge=0, le=50)
    outcome: OutcomeCode = "unknown"
    emergency_called: bool = False
    details: str = Field("", max_length=4000)
    contact: uuid.UUID | None = Field(None, description="The contact in which it was reported.")


def serialise_overdose(ev: OverdoseEvent) -> dict:
    return {
        "id": ev.id, "client": ev.client_id, "site": ev.site.code, "contact": ev.contact_id, "date": ev.date,
        "involvement": ev.involvement, "naloxone_given": ev.naloxone_given,
        "naloxone_kits_used": ev.naloxone_kits_used, "outcome": ev.outcome,
        "emergency_called": ev.emergency_called, "details": ev.details,
    }


@router.get("/overdoses", response={200: Page[OverdoseOut], **ERRORS})
def list_overdoses(request, params: Query[ListParams]):
    """Overdose events recorded at the user's sites, newest first."""
    user = request.auth
    access.require(user, "overdose.record")
    check_dates(params)
    qs = filter_site(access.overdoses(user), user, params.site)
    if params.date_from:
        qs = qs.filter(date__gte=params.date_from)
    if params.date_to:
        qs = qs.filter(date__lte=params.date_to)
    return page(qs.order_by("-date", "id"), params, serialise_overdose)


@router.post("/overdoses", response={201: OverdoseOut, **ERRORS})
def record_overdose(request, payload: OverdoseIn):
    """Record an overdose a client experienced or witnessed."""
    user = request.auth
    site = site_for_write(user, payload.site, "overdose.record")
    client = client_for_write(user, payload.client)
    check_not_future("date", payload.date, local_date(timezone.now()))
    contact = None
    if payload.contact is not None:
        contact = access.contacts(user).filter(pk=payload.contact, client=client).first()
        if contact is None:
            raise invalid("contact", _("No such contact for this client at your sites."))
    ev = do_record_overdose(
        user, client=client, site=site, date=payload.date, involvement=payload.involvement,
        naloxone_given=payload.naloxone_given, naloxone_kits_used=payload.naloxone_kits_used,
        outcome=payload.outcome, emergency_called=payload.emergency_called, details=payload.details,
        contact=contact,
    )
    return 201, serialise_overdose(ev)
