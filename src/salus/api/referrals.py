"""Referrals: GET/POST /referrals, PATCH /referrals/{referral_id} (status and outcome)."""

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
from salus.services.actions import do_create_referral, do_update_referral, local_date
from salus.services.models import Referral, ReferralService

router = Router(tags=["referrals"])

if TYPE_CHECKING:
    # The codes are read from the models' choices when the module loads, which a type checker
    # cannot follow: to it they are strings. Requests are validated against the Literal.
    ServiceCode = str
    StatusCode = str
else:
    ServiceCode = Literal[tuple(ReferralService.values)]
    StatusCode = Literal[tuple(Referral.Status.values)]


class ReferralOut(Schema):
    id: uuid.UUID
    client: uuid.UUID
    site: str
    contact: uuid.UUID | None = Field(description="The contact the referral was made in, if any.")
    service: str
    made_on: dt.date
    status: str
    outcome_on: dt.date | None
    note: str


class ReferralIn(StrictIn):
    client: uuid.UUID
    site: str = Field(max_length=40)
    service: ServiceCode
    made_on: dt.date | None = Field(None, description="Default: today in the program's time zone.")
    note: str = Field("", max_length=2000)


class ReferralUpdate(StrictIn):
    status: StatusCode
    outcome_on: dt.date | None = Field(None, description="Default: today when the status is not 'made'.")


def serialise_referral(ref: Referral) -> dict:
    return {
        "id": ref.id, "client": ref.client_id, "site": ref.site.code, "contact": ref.contact_id,
        "service": ref.service, "made_on": ref.made_on, "status": ref.status, "outcome_on": ref.outcome_on,
        "note": ref.note,
    }


@router.get("/referrals", response={200: Page[ReferralOut], **ERRORS})
def list_referrals(request, params: Query[ListParams], status: StatusCode | None = None):
    """Referrals made at the user's sites, newest first; dates filter ``made_on``."""
    user = request.auth
    access.require(user, "referral.manage")
    check_dates(params)
    qs = filter_site(access.referrals(user), user, params.site)
    if params.date_from:
        qs = qs.filter(made_on__gte=params.date_from)
    if params.date_to:
        qs = qs.filter(made_on__lte=params.date_to)
    if status:
        qs = qs.filter(status=status)
    return page(qs.order_by("-made_on", "id"), params, serialise_referral)


@router.post("/referrals", response={201: ReferralOut, **ERRORS})
def create_referral(request, payload: ReferralIn):
    """Refer a client (seen at the user's sites) to a service."""
    user = request.auth
    site = site_for_write(user, payload.site, "referral.manage")
    client = client_for_write(user, payload.client)
    today = local_date(timezone.now())
    made_on = payload.made_on or today
    check_not_future("made_on", made_on, today)
    ref = do_create_referral(user, client=client, site=site, service=payload.service, made_on=made_on,
                             note=payload.note)
    return 201, serialise_referral(ref)


@router.patch("/referrals/{referral_id}", response={200: ReferralOut, **ERRORS})
def update_referral(request, referral_id: uuid.UUID, payload: ReferralUpdate):
    """Record what came of a referral: attended, not attended, lost to follow-up (or back to made)."""
    user = request.auth
    access.require(user, "referral.manage")
    ref = access.get_referral_for_user(user, referral_id)
    access.check_site(user, ref.site, "referral.manage")
    check_not_future("outcome_on", payload.outcome_on, local_date(timezone.now()))
    if payload.outcome_on is not None and payload.outcome_on < ref.made_on:
        raise invalid("outcome_on", _("The outcome date cannot be before the referral was made."))
    ref = do_update_referral(user, ref, status=payload.status, outcome_on=payload.outcome_on)
    return serialise_referral(ref)
