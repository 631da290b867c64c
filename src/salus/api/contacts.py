"""Contacts: GET/POST /contacts, GET /contacts/{contact_id}.

A contact's JSON uses the field names of the contacts CSV (docs/api.md lists them). The raw
UIC (``uic``) is write-only: it is hashed on arrival and is never stored, echoed or logged.

A POSTed contact may carry its own ``id`` (a UUID made by the device), so that a retried
request records one contact: new id -> 201; same id and same content -> 200 with the contact
already recorded; same id and different content -> 409.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import TYPE_CHECKING, Literal

from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema

from salus.api.errors import ApiError, invalid
from salus.api.schemas import (
    ERRORS,
    ErrorOut,
    ListParams,
    Page,
    StrictIn,
    check_dates,
    check_not_future,
    filter_site,
    page,
    site_for_write,
)
from salus.clients import uic as uicmod
from salus.clients.actions import ClientAttributes
from salus.core import access, audit
from salus.services.actions import (
    ContactServices,
    do_record_contact_for_uic,
    local_date,
    program_tz,
)
from salus.services.models import Contact, ReferralService

router = Router(tags=["contacts"])

TestResultCode = Literal["", "negative", "positive", "indeterminate", "not_given"]
SexCode = Literal["F", "M", "T", "X"]
SettingCode = Literal["fixed_site", "outreach", "mobile", "home", "prison", "other"]
ArtStatus = Literal["", "on_art", "not_on_art"]
# A referral in a contact: blank, or a ReferralService code.
if TYPE_CHECKING:
    # The codes are read from the model's choices when the module loads, which a type checker
    # cannot follow: to it they are strings. Requests are validated against the Literal.
    ReferralCode = str
else:
    ReferralCode = Literal["", *ReferralService.values]
# Per-contact ceiling on any count; larger numbers are typing mistakes (matches ContactServices).
MAX_COUNT = 100_000
# When a contact gives only its date, it is placed at noon in the program's time zone, so the
# date stays the same whatever the clock and a retry hashes to the same content.
DEFAULT_TIME = dt.time(12, 0)


def _count(description: str):
    return Field(0, ge=0, le=MAX_COUNT, description=description)


class ContactIn(StrictIn):
    id: uuid.UUID | None = Field(None, description="Optional UUID made by the device; makes retries safe.")
    date: dt.date | None = Field(None, description="Date of the contact in the program's time zone.")
    time: dt.time | None = Field(None, description="Local time of the contact (HH:MM), with `date`.")
    occurred_at: dt.datetime | None = Field(None, description="Full ISO 8601 date and time, instead of date/time.")
    site: str = Field(max_length=40, description="Site code.")
    uic: str = Field(min_length=1, max_length=64, description="Raw UIC; write-only, never returned.")
    sex: SexCode | None = None
    birth_year: int | None = Field(None, ge=1900, le=2100)
    injects: bool | None = None
    setting: SettingCode = "fixed_site"
    syringes_given: int = _count("Syringes and needles given.")
    syringes_returned: int = _count("Used syringes returned.")
    other_equipment_given: int = _count("Other injecting equipment given.")
    condoms_given: int = _count("Condoms given.")
    naloxone_kits_given: int = _count("Naloxone kits given.")
    education: bool = False
    hiv_test_result: TestResultCode = ""
    hcv_test_result: TestResultCode = ""
    art_status: ArtStatus = ""
    sti_screened: bool = False
    tb_screened: bool = False
    hbv_vaccinated: bool = False
    wound_care: bool = False
    released_from_detention_on: dt.date | None = None
    left_treatment_on: dt.date | None = None
    overdose_since_last_contact: bool | None = None
    uses_alone: bool | None = None
    mixes_depressants: bool | None = None
    referral_to: ReferralCode = ""
    notes: str = Field("", max_length=4000)


class ContactOut(Schema):
    id: uuid.UUID
    client: uuid.UUID
    site: str
    date: dt.date
    time: str = Field(description="Local time HH:MM in the program's time zone.")
    occurred_at: dt.datetime
    sex: str
    birth_year: int | None
    injects: bool
    setting: str
    syringes_given: int
    syringes_returned: int
    other_equipment_given: int
    condoms_given: int
    naloxone_kits_given: int
    education: bool
    hiv_tested: bool
    hcv_tested: bool
    hiv_test_result: str = Field(description="Blank unless the user may see clinical results.")
    hcv_test_result: str = Field(description="Blank unless the user may see clinical results.")
    art_status: str = Field(description="Blank unless the user may see clinical results.")
    sti_screened: bool
    tb_screened: bool
    hbv_vaccinated: bool
    wound_care: bool
    released_from_detention_on: dt.date | None
    left_treatment_on: dt.date | None
    overdose_since_last_contact: bool | None
    uses_alone: bool | None
    mixes_depressants: bool | None
    referral_to: str
    notes: str
    source: str


class ContactCreated(ContactOut):
    created: bool = Field(description="False when this id was already recorded with the same content.")


def serialise_contact(user, contact: Contact, referral_services: list[str] | None = None) -> dict:
    """The contact as the API shows it to ``user`` (clinical fields blank without clinical.view).

    ``referral_services``: the codes of the contact's referrals when the caller already knows
    them (a contact it has just recorded); otherwise they are read from ``contact.referrals``.
    """
    access.redact_clinical(user, contact)
    local = timezone.localtime(contact.occurred_at, program_tz())
    if referral_services is None:
        referral = next(iter(sorted(contact.referrals.all(), key=lambda r: (r.service, str(r.id)))), None)
        referral_to = referral.service if referral else ""
    else:
        referral_to = min(referral_services, default="")
    client = contact.client
    return {
        "id": contact.id, "client": contact.client_id, "site": contact.site.code, "date": contact.date,
        # In UTC, as read back from the database (a contact just recorded holds the moment in
        # the program's time zone).
        "time": local.strftime("%H:%M"), "occurred_at": contact.occurred_at.astimezone(dt.UTC),
        "sex": client.sex, "birth_year": client.birth_year, "injects": client.injects,
        "setting": contact.setting,
        "syringes_given": contact.syringes_given, "syringes_returned": contact.syringes_returned,
        "other_equipment_given": contact.other_equipment_given, "condoms_given": contact.condoms_given,
        "naloxone_kits_given": contact.naloxone_kits_given, "education": contact.education,
        "hiv_tested": contact.hiv_tested, "hcv_tested": contact.hcv_tested,
        "hiv_test_result": contact.hiv_result, "hcv_test_result": contact.hcv_result,
        "art_status": contact.art_status,
        "sti_screened": contact.sti_screened, "tb_screened": contact.tb_screened,
        "hbv_vaccinated": contact.hbv_vaccinated, "wound_care": contact.wound_care,
        "released_from_detention_on": contact.released_from_detention_on,
        "left_treatment_on": contact.left_treatment_on,
        "overdose_since_last_contact": contact.overdose_since_last_contact,
        "uses_alone": contact.uses_alone, "mixes_depressants": contact.mixes_depressants,
        "referral_to": referral_to,
        "notes": contact.notes, "source": contact.source,
    }


def _occurred_at(payload: ContactIn) -> dt.datetime:
    """The moment of the contact from ``occurred_at`` or ``date`` (+ ``time``), made aware."""
    tz = program_tz()
    if payload.occurred_at is not None:
        if payload.time is not None:
            raise invalid("time", _("Give either occurred_at or date and time, not both."))
        moment = payload.occurred_at
        if timezone.is_naive(moment):
            moment = timezone.make_aware(moment, tz)
        field = "occurred_at"
    else:
        if payload.date is None:
            raise invalid("date", _("This field is required."))
        if payload.time is not None and payload.time.tzinfo is not None:
            raise invalid("time", _("Give the local time without an offset, or use occurred_at."))
        moment = timezone.make_aware(dt.datetime.combine(payload.date, payload.time or DEFAULT_TIME), tz)
        field = "date"
    try:
        # Years near 1 or 9999 cannot be moved between time zones; they are typing mistakes.
        day = local_date(moment)
        moment.astimezone(dt.UTC)
    except (OverflowError, ValueError):
        raise invalid(field, _("This date is too far in the past.") if moment.year < 1000
                      else _("This date is in the future.")) from None
    if payload.date is not None and day != payload.date:
        raise invalid("date", _("The date does not match occurred_at."))
    return moment


def _services(payload: ContactIn) -> ContactServices:
    services = ContactServices(
        setting=payload.setting,
        syringes_given=payload.syringes_given, syringes_returned=payload.syringes_returned,
        other_equipment_given=payload.other_equipment_given, condoms_given=payload.condoms_given,
        naloxone_kits_given=payload.naloxone_kits_given, education=payload.education,
        hiv_test_result=payload.hiv_test_result, hcv_test_result=payload.hcv_test_result,
        art_status=payload.art_status, sti_screened=payload.sti_screened, tb_screened=payload.tb_screened,
        hbv_vaccinated=payload.hbv_vaccinated, wound_care=payload.wound_care,
        released_from_detention_on=payload.released_from_detention_on,
        left_treatment_on=payload.left_treatment_on,
        overdose_since_last_contact=payload.overdose_since_last_contact,
        uses_alone=payload.uses_alone, mixes_depressants=payload.mixes_depressants,
        notes=payload.notes, referrals=[payload.referral_to] if payload.referral_to else [],
    )
    errors = services.validate()
    if errors:
        name, message = next(iter(errors.items()))
        raise invalid("referral_to" if name == "referrals" else name, message)
    return services


def hash_uic(raw: str) -> uicmod.UICHashes:
    """Hash a raw UIC from a request; an invalid code is a 422 on ``uic`` (code not repeated)."""
    try:
        return uicmod.hash_raw(raw)
    except uicmod.InvalidUIC as exc:
        raise invalid("uic", str(exc)) from None


@router.get("/contacts", response={200: Page[ContactOut], **ERRORS})
def list_contacts(request, params: Query[ListParams]):
    """Contacts at the user's sites, newest first; filter by site code and date range."""
    user = request.auth
    access.require(user, "contact.view")
    check_dates(params)
    qs = filter_site(access.contacts(user), user, params.site)
    if params.date_from:
        qs = qs.filter(date__gte=params.date_from)
    if params.date_to:
        qs = qs.filter(date__lte=params.date_to)
    qs = qs.prefetch_related("referrals").order_by("-occurred_at", "id")
    return page(qs, params, lambda c: serialise_contact(user, c))


@router.get("/contacts/{contact_id}", response={200: ContactOut, **ERRORS})
def get_contact(request, contact_id: uuid.UUID):
    """One contact at the user's sites (404 otherwise). Audited as ``contact.view``."""
    user = request.auth
    access.require(user, "contact.view")
    contact = access.get_contact_for_user(user, contact_id)
    audit.record(user, "contact.view", contact, site=contact.site, detail={"via": "api"})
    return serialise_contact(user, contact)


@router.post("/contacts", response={200: ContactCreated, 201: ContactCreated, 409: ErrorOut, **ERRORS})
def create_contact(request, payload: ContactIn):
    """Record a contact for the client with this UIC (registered if new) and take what was given
    out of the site's stock, in one transaction. Idempotent when ``id`` is given."""
    user = request.auth
    site = site_for_write(user, payload.site, "contact.record")
    clinical = payload.hiv_test_result or payload.hcv_test_result or payload.art_status
    if clinical and not access.can(user, "clinical.record"):
        raise ApiError(403, _("Your role does not allow recording test results."), "hiv_test_result")
    occurred_at = _occurred_at(payload)
    today = local_date(timezone.now())
    check_not_future("occurred_at" if payload.occurred_at else "date", local_date(occurred_at), today)
    check_not_future("released_from_detention_on", payload.released_from_detention_on, today)
    check_not_future("left_treatment_on", payload.left_treatment_on, today)
    services = _services(payload)
    hashes = hash_uic(payload.uic)
    # In the default recipe sex and birth year are part of the code itself.
    if payload.sex is not None and hashes.sex is not None and payload.sex != hashes.sex:
        raise invalid("sex", _("Does not match the sex code in the UIC."))
    if payload.birth_year is not None and hashes.birth_year is not None and payload.birth_year != hashes.birth_year:
        raise invalid("birth_year", _("Does not match the year of birth in the UIC."))
    attrs = ClientAttributes(sex=payload.sex, birth_year=payload.birth_year, injects=payload.injects)
    contact, created = do_record_contact_for_uic(
        user, site=site, hashes=hashes, attrs=attrs, occurred_at=occurred_at, services=services,
        contact_id=payload.id, source="api",
    )
    if created:
        # The contact just written, as written: site, client and referrals are the objects and
        # codes of this request, checked above (access.check_site), so no read-back is needed.
        body = serialise_contact(user, contact, services.referrals)
    else:
        # A retry: show the stored contact, read through the access layer.
        body = serialise_contact(user, access.contacts(user).prefetch_related("referrals").get(pk=contact.pk))
    body["created"] = created
    return (201 if created else 200), body
