"""Service writes: contacts, referrals, OST episodes and doses, overdose events.

Each ``do_*`` function is one transaction: the record, its stock movements, the client's
site link and the audit row commit together or not at all.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import uuid
import zoneinfo
from dataclasses import asdict, dataclass, field
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from salus.clients.actions import ClientAttributes, link_client_to_site, widen_first_contact
from salus.clients.models import Client
from salus.core import audit, plainsql
from salus.core.models import Site
from salus.services.models import Contact, OSTDose, OSTEpisode, OverdoseEvent, Referral, TestResult
from salus.stock.actions import distribute_for_contact


class ConflictError(ValueError):
    """A contact id was reused for a different contact."""


@dataclass
class ContactServices:
    """The services given in one contact. Counts are whole numbers >= 0."""

    setting: str = Contact.Setting.FIXED_SITE
    syringes_given: int = 0
    syringes_returned: int = 0
    other_equipment_given: int = 0
    condoms_given: int = 0
    naloxone_kits_given: int = 0
    education: bool = False
    hiv_test_result: str = ""  # "" (no test) or a TestResult value
    hcv_test_result: str = ""
    art_status: str = ""  # "", "on_art", "not_on_art"
    sti_screened: bool = False
    tb_screened: bool = False
    hbv_vaccinated: bool = False
    wound_care: bool = False
    released_from_detention_on: dt.date | None = None
    left_treatment_on: dt.date | None = None
    overdose_since_last_contact: bool | None = None
    uses_alone: bool | None = None
    mixes_depressants: bool | None = None
    notes: str = ""
    referrals: list[str] = field(default_factory=list)

    def validate(self) -> dict[str, str]:
        """Return {field: message} for every invalid value (empty when valid)."""
        errors = {}
        for name in ("syringes_given", "syringes_returned", "other_equipment_given", "condoms_given", "naloxone_kits_given"):
            v = getattr(self, name)
            if not isinstance(v, int) or isinstance(v, bool) or v < 0:
                errors[name] = _("Must be a whole number, zero or more.")
            elif v > 100000:
                errors[name] = _("This number is too large for one contact.")
        for name in ("hiv_test_result", "hcv_test_result"):
            if getattr(self, name) not in ("", *TestResult.values):
                errors[name] = _("Unknown test result.")
        if self.art_status not in ("", "on_art", "not_on_art"):
            errors["art_status"] = _("Unknown ART status.")
        if self.setting not in Contact.Setting.values:
            errors["setting"] = _("Unknown setting.")
        from salus.services.models import ReferralService

        for r in self.referrals:
            if r not in ReferralService.values:
                errors["referrals"] = _("Unknown service %(code)s.") % {"code": r}
        return errors


def program_tz() -> zoneinfo.ZoneInfo:
    from salus.core.config import program_config

    return zoneinfo.ZoneInfo(program_config().timezone)


def local_date(moment: dt.datetime) -> dt.date:
    """The date of ``moment`` in the program's time zone."""
    return timezone.localtime(moment, program_tz()).date()


def _content_hash(client_id, site_id, occurred_at: dt.datetime, services: ContactServices) -> str:
    payload = json.dumps(
        [str(client_id), str(site_id), occurred_at.astimezone(dt.UTC).isoformat(), asdict(services)],
        sort_keys=True, default=str,
    )
    return hashlib.sha256(payload.encode()).hexdigest()


def _contact_fields(services: ContactServices) -> dict:
    return dict(
        setting=services.setting,
        syringes_given=services.syringes_given,
        syringes_returned=services.syringes_returned,
        other_equipment_given=services.other_equipment_given,
        condoms_given=services.condoms_given,
        naloxone_kits_given=services.naloxone_kits_given,
        education=services.education,
        hiv_tested=bool(services.hiv_test_result),
        hiv_result_given=services.hiv_test_result not in ("", TestResult.NOT_GIVEN),
        hiv_result=services.hiv_test_result,
        hcv_tested=bool(services.hcv_test_result),
        hcv_result_given=services.hcv_test_result not in ("", TestResult.NOT_GIVEN),
        hcv_result=services.hcv_test_result,
        art_status=services.art_status,
        sti_screened=services.sti_screened,
        tb_screened=services.tb_screened,
        hbv_vaccinated=services.hbv_vaccinated,
        wound_care=services.wound_care,
        released_from_detention_on=services.released_from_detention_on,
        left_treatment_on=services.left_treatment_on,
        overdose_since_last_contact=services.overdose_since_last_contact,
        uses_alone=services.uses_alone,
        mixes_depressants=services.mixes_depressants,
        notes=services.notes,
    )


def do_record_contact(
    actor,
    *,
    site: Site,
    client: Client,
    occurred_at: dt.datetime,
    services: ContactServices,
    contact_id: uuid.UUID | None = None,
    source: str = "web",
) -> tuple[Contact, bool]:
    """Record a contact, take what it gave out of stock, and audit it, in one transaction.

    ``contact_id`` makes the write idempotent: if a contact with that id exists with the same
    content, it is returned with ``created=False``; with different content, ConflictError.
    The caller checks that ``actor`` may record at ``site`` (salus.core.access.check_site).
    """
    if timezone.is_naive(occurred_at):
        occurred_at = timezone.make_aware(occurred_at, program_tz())
    digest = _content_hash(client.pk, site.pk, occurred_at, services)
    # No look-up of the id first: the INSERT is the check. A reused id fails it with an
    # IntegrityError, which undoes the write (its savepoint, inside a caller's transaction)
    # before the stored contact is read; new contacts, by far the most, save a query.
    try:
        return _record_new_contact(actor, site, client, occurred_at, services, contact_id, source, digest), True
    except IntegrityError:
        # The id is taken (a retry, or the same id posted concurrently and the other request won):
        # compare contents with the stored contact.
        if contact_id is None:
            raise
        existing = Contact.objects.filter(pk=contact_id).first()
        if existing is None:
            raise
        return _same_or_conflict(existing, digest), False


@transaction.atomic
def _record_new_contact(actor, site: Site, client: Client, occurred_at: dt.datetime, services: ContactServices,
                        contact_id: uuid.UUID | None, source: str, digest: str) -> Contact:
    contact = Contact(
        id=contact_id or uuid.uuid4(), client=client, site=site,
        staff=actor if getattr(actor, "pk", None) else None,
        occurred_at=occurred_at, date=local_date(occurred_at), source=source,
        content_hash=digest, **_contact_fields(services),
    )
    # Plain SQL (salus.core.plainsql), values prepared as by save(): every contact runs it.
    plainsql.insert([contact])
    link_client_to_site(client, site, contact.date)
    widen_first_contact(client, contact.date)
    for service in services.referrals:
        Referral.objects.create(
            client=client, site=site, contact=contact, service=service, made_on=contact.date,
            made_by=contact.staff,
        )
    # Stock last: its level rows, which every contact at the site updates too, are updated
    # among the write's last statements, at commit (docs/decisions/0005).
    distribute_for_contact(actor, contact)
    audit.record(actor, "contact.record", contact, site=site, detail={"source": source})
    return contact


def _same_or_conflict(existing: Contact, digest: str) -> Contact:
    if existing.content_hash != digest:
        raise ConflictError(_("This contact id was already used for a different contact."))
    return existing


@transaction.atomic
def do_record_contact_for_uic(actor, *, site: Site, hashes, attrs: ClientAttributes | None, occurred_at: dt.datetime,
                              services: ContactServices, contact_id=None, source: str = "api") -> tuple[Contact, bool]:
    """Find or register the client for a UIC and record the contact, in one transaction."""
    from salus.clients.actions import get_or_register_client

    if timezone.is_naive(occurred_at):
        occurred_at = timezone.make_aware(occurred_at, program_tz())
    # No seen_on: do_record_contact links the client to the site and sets the first contact date.
    client, _created = get_or_register_client(actor, site, hashes, attrs)
    return do_record_contact(
        actor, site=site, client=client, occurred_at=occurred_at, services=services,
        contact_id=contact_id, source=source,
    )


@transaction.atomic
def do_create_referral(actor, *, client: Client, site: Site, service: str, made_on: dt.date,
                       note: str = "", referral_id=None) -> Referral:
    ref = Referral.objects.create(
        id=referral_id or uuid.uuid4(), client=client, site=site, service=service, made_on=made_on, note=note,
        made_by=actor if getattr(actor, "pk", None) else None,
    )
    audit.record(actor, "referral.create", ref, site=site)
    return ref


@transaction.atomic
def do_update_referral(actor, referral: Referral, *, status: str, outcome_on: dt.date | None) -> Referral:
    if status not in Referral.Status.values:
        raise ValueError(_("Unknown referral status."))
    if status != Referral.Status.MADE and outcome_on is None:
        outcome_on = timezone.localdate()
    if outcome_on is not None and outcome_on < referral.made_on:
        raise ValueError(_("The outcome date cannot be before the referral was made."))
    referral.status = status
    referral.outcome_on = outcome_on if status != Referral.Status.MADE else None
    referral.save(update_fields=["status", "outcome_on", "updated_at"])
    audit.record(actor, "referral.update", referral, site=referral.site, detail={"status": status})
    return referral


@transaction.atomic
def do_start_ost_episode(actor, *, client: Client, site: Site, medication: str, start_date: dt.date,
                         episode_id=None, source: str = "web") -> OSTEpisode:
    if medication not in OSTEpisode.Medication.values:
        raise ValueError(_("Unknown medication."))
    if OSTEpisode.objects.filter(client=client, end_date__isnull=True).exclude(id=episode_id).exists():
        raise ValueError(_("This client already has an open OST episode; end it first."))
    ep = OSTEpisode.objects.create(
        id=episode_id or uuid.uuid4(), client=client, site=site, medication=medication, start_date=start_date,
        created_by=actor if getattr(actor, "pk", None) else None, source=source,
    )
    link_client_to_site(client, site, start_date)
    audit.record(actor, "ost.start", ep, site=site)
    return ep


@transaction.atomic
def do_end_ost_episode(actor, episode: OSTEpisode, *, end_date: dt.date, end_reason: str) -> OSTEpisode:
    if end_reason not in OSTEpisode.EndReason.values:
        raise ValueError(_("Unknown end reason."))
    if end_date < episode.start_date:
        raise ValueError(_("The end date cannot be before the start date."))
    episode.end_date, episode.end_reason = end_date, end_reason
    episode.save(update_fields=["end_date", "end_reason"])
    audit.record(actor, "ost.end", episode, site=episode.site, detail={"reason": end_reason})
    return episode


@transaction.atomic
def do_record_dose(actor, episode: OSTEpisode, *, date: dt.date, dose_mg: Decimal, phase: str,
                   take_home_doses: int = 0) -> OSTDose:
    if phase not in OSTDose.Phase.values:
        raise ValueError(_("Unknown phase."))
    if dose_mg is None or Decimal(dose_mg) < 0 or Decimal(dose_mg) > 2000:
        raise ValueError(_("The dose must be between 0 and 2000 mg."))
    if date < episode.start_date or (episode.end_date and date > episode.end_date):
        raise ValueError(_("The dose date must fall within the episode."))
    dose = OSTDose.objects.create(
        episode=episode, date=date, dose_mg=Decimal(dose_mg), phase=phase, take_home_doses=take_home_doses,
        recorded_by=actor if getattr(actor, "pk", None) else None,
    )
    audit.record(actor, "ost.dose", dose, site=episode.site)
    return dose


@transaction.atomic
def do_record_overdose(actor, *, client: Client, site: Site, date: dt.date, involvement: str,
                       naloxone_given: bool, naloxone_kits_used: int, outcome: str, emergency_called: bool,
                       details: str = "", contact: Contact | None = None, event_id=None) -> OverdoseEvent:
    if involvement not in OverdoseEvent.Involvement.values:
        raise ValueError(_("Unknown involvement."))
    if outcome not in OverdoseEvent.Outcome.values:
        raise ValueError(_("Unknown outcome."))
    if naloxone_kits_used < 0:
        raise ValueError(_("Must be a whole number, zero or more."))
    ev = OverdoseEvent.objects.create(
        id=event_id or uuid.uuid4(), client=client, site=site, contact=contact, date=date, involvement=involvement,
        naloxone_given=naloxone_given or naloxone_kits_used > 0, naloxone_kits_used=naloxone_kits_used,
        outcome=outcome, emergency_called=emergency_called, details=details,
        recorded_by=actor if getattr(actor, "pk", None) else None,
    )
    audit.record(actor, "overdose.record", ev, site=site)
    return ev
