"""Contacts and the services given in them, referrals, OST episodes and overdose events.

Writes go through salus.services.actions (one transaction, stock and audit included); reads of
individual records go through salus.core.access.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from salus.clients.models import Client
from salus.core.crypto import EncryptedTextField
from salus.core.models import Site


class TestResult(models.TextChoices):
    NEGATIVE = "negative", _("Negative")
    POSITIVE = "positive", _("Positive")
    INDETERMINATE = "indeterminate", _("Indeterminate")
    NOT_GIVEN = "not_given", _("Tested, result not given")


class Source(models.TextChoices):
    WEB = "web", _("Web")
    API = "api", _("API")
    IMPORT = "import", _("Import")
    SYNC = "sync", _("Offline sync")
    DEMO = "demo", _("Synthetic demo")


class Contact(models.Model):
    """A visit or outreach encounter and the services given in it.

    ``id`` may be made by the device that recorded the contact (offline outreach, retried API
    calls): posting the same id twice records one contact. ``content_hash`` tells a retry of the
    same contact from a different contact that reuses an id.
    """

    class Setting(models.TextChoices):
        FIXED_SITE = "fixed_site", _("At the site")
        OUTREACH = "outreach", _("Street outreach")
        MOBILE = "mobile", _("Mobile unit")
        HOME = "home", _("Home or private place")
        PRISON = "prison", _("Prison or detention")
        OTHER = "other", _("Other")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # No index of their own: contact_client_time and contact_site_time start with these
    # columns, and each index costs every insert (services/migrations/0002).
    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="contacts", db_index=False)
    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="contacts", db_index=False)
    staff = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    occurred_at = models.DateTimeField(_("date and time"))
    # The contact's date in the program's time zone: what periods and indicators count by.
    date = models.DateField(_("date"))
    setting = models.CharField(_("setting"), max_length=20, choices=Setting.choices, default=Setting.FIXED_SITE)

    syringes_given = models.PositiveIntegerField(_("syringes and needles given"), default=0)
    syringes_returned = models.PositiveIntegerField(_("syringes returned"), default=0)
    other_equipment_given = models.PositiveIntegerField(_("other injecting equipment given"), default=0)
    condoms_given = models.PositiveIntegerField(_("condoms given"), default=0)
    naloxone_kits_given = models.PositiveIntegerField(_("naloxone kits given"), default=0)
    education = models.BooleanField(_("information and education"), default=False)

    # Plain flags let indicators count tests in SQL; the results themselves are encrypted.
    hiv_tested = models.BooleanField(_("HIV test done"), default=False)
    hiv_result_given = models.BooleanField(_("HIV result given to the client"), default=False)
    hiv_result = EncryptedTextField(_("HIV test result"), blank=True, default="")
    hcv_tested = models.BooleanField(_("HCV test done"), default=False)
    hcv_result_given = models.BooleanField(_("HCV result given to the client"), default=False)
    hcv_result = EncryptedTextField(_("HCV test result"), blank=True, default="")
    # "on_art", "not_on_art" or blank; encrypted because it reveals HIV status.
    art_status = EncryptedTextField(_("ART status"), blank=True, default="")

    sti_screened = models.BooleanField(_("STI screening"), default=False)
    tb_screened = models.BooleanField(_("TB screening"), default=False)
    hbv_vaccinated = models.BooleanField(_("hepatitis B vaccination"), default=False)
    wound_care = models.BooleanField(_("wound care"), default=False)

    # Events that overdose-risk prompts need (salus.care); blank when not asked.
    released_from_detention_on = models.DateField(_("released from prison or detention on"), null=True, blank=True)
    left_treatment_on = models.DateField(_("left OST, detox or an abstinence period on"), null=True, blank=True)
    overdose_since_last_contact = models.BooleanField(_("overdose since the last contact"), null=True, blank=True)
    uses_alone = models.BooleanField(_("often uses alone"), null=True, blank=True)
    mixes_depressants = models.BooleanField(
        _("mixes opioids with benzodiazepines, alcohol or other depressants"), null=True, blank=True
    )

    notes = EncryptedTextField(_("notes"), blank=True, default="")
    source = models.CharField(max_length=10, choices=Source.choices, default=Source.WEB)
    content_hash = models.CharField(max_length=64, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("contact")
        verbose_name_plural = _("contacts")
        indexes = [
            # Indicators: contacts in a period at a set of sites.
            models.Index(fields=["date", "site"], name="contact_date_site"),
            # A client's timeline, newest first.
            models.Index(fields=["client", "-occurred_at"], name="contact_client_time"),
            # The site's day.
            models.Index(fields=["site", "-occurred_at"], name="contact_site_time"),
        ]

    def __str__(self) -> str:
        return f"{self.date} {self.site_id}"


class ReferralService(models.TextChoices):
    OST = "ost", _("Opioid substitution treatment")
    HIV_CARE = "hiv_care", _("HIV care and treatment")
    HIV_TESTING = "hiv_testing", _("HIV testing")
    PREP = "prep", _("HIV pre-exposure prophylaxis")
    HCV_CARE = "hcv_care", _("Hepatitis C care and treatment")
    TB = "tb", _("TB diagnosis and treatment")
    STI = "sti", _("STI care")
    DRUG_TREATMENT = "drug_treatment", _("Other drug treatment")
    MENTAL_HEALTH = "mental_health", _("Mental health")
    PRIMARY_CARE = "primary_care", _("Primary or emergency health care")
    SRH = "srh", _("Sexual and reproductive health")
    LEGAL = "legal", _("Legal aid")
    HOUSING = "housing", _("Housing")
    SOCIAL = "social", _("Social support")
    OTHER = "other", _("Other")


class Referral(models.Model):
    class Status(models.TextChoices):
        MADE = "made", _("Made")
        ATTENDED = "attended", _("Attended")
        NOT_ATTENDED = "not_attended", _("Not attended")
        LOST = "lost", _("Lost to follow-up")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="referrals")
    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="referrals", db_index=False)
    contact = models.ForeignKey(Contact, null=True, blank=True, on_delete=models.SET_NULL, related_name="referrals")
    made_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    service = models.CharField(_("referred to"), max_length=20, choices=ReferralService.choices)
    made_on = models.DateField(_("made on"))
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.MADE)
    outcome_on = models.DateField(_("outcome date"), null=True, blank=True)
    note = EncryptedTextField(_("note"), blank=True, default="")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("referral")
        verbose_name_plural = _("referrals")
        indexes = [
            # Coordinators' follow-up list: open referrals at a site, oldest first.
            models.Index(fields=["site", "status", "made_on"], name="referral_open"),
        ]

    def __str__(self) -> str:
        return f"{self.service} {self.made_on}"


class OSTEpisode(models.Model):
    class Medication(models.TextChoices):
        METHADONE = "methadone", _("Methadone")
        BUPRENORPHINE = "buprenorphine", _("Buprenorphine")
        OTHER = "other", _("Other")

    class EndReason(models.TextChoices):
        COMPLETED = "completed", _("Completed as planned")
        VOLUNTARY = "voluntary", _("Left by choice")
        TRANSFERRED = "transferred", _("Transferred to another service")
        DISCHARGED = "discharged", _("Discharged by the service")
        DETAINED = "detained", _("Imprisoned or detained")
        DIED = "died", _("Died")
        LOST = "lost", _("Lost to follow-up")
        OTHER = "other", _("Other")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="ost_episodes")
    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="ost_episodes")
    medication = models.CharField(_("medication"), max_length=20, choices=Medication.choices)
    start_date = models.DateField(_("start date"))
    end_date = models.DateField(_("end date"), null=True, blank=True)
    end_reason = models.CharField(_("end reason"), max_length=20, choices=EndReason.choices, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    source = models.CharField(max_length=10, choices=Source.choices, default=Source.WEB)

    class Meta:
        verbose_name = _("OST episode")
        verbose_name_plural = _("OST episodes")
        indexes = [
            # OST on a census date: episodes started by then and not ended before.
            models.Index(fields=["start_date", "end_date"], name="ost_active"),
        ]

    def __str__(self) -> str:
        return f"{self.medication} {self.start_date}"

    def active_on(self, day) -> bool:
        return self.start_date <= day and (self.end_date is None or self.end_date >= day)


class OSTDose(models.Model):
    class Phase(models.TextChoices):
        INDUCTION = "induction", _("Induction")
        MAINTENANCE = "maintenance", _("Maintenance")
        REDUCING = "reducing", _("Reducing")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    episode = models.ForeignKey(OSTEpisode, on_delete=models.CASCADE, related_name="doses", db_index=False)
    date = models.DateField(_("date"))
    dose_mg = models.DecimalField(_("dose (mg)"), max_digits=7, decimal_places=2)
    phase = models.CharField(_("phase"), max_length=20, choices=Phase.choices)
    take_home_doses = models.PositiveSmallIntegerField(_("take-home doses"), default=0)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        verbose_name = _("OST dose")
        verbose_name_plural = _("OST doses")
        ordering = ["date"]
        indexes = [models.Index(fields=["episode", "-date"], name="ostdose_latest")]

    def __str__(self) -> str:
        return f"{self.date} {self.dose_mg} mg"


class OverdoseEvent(models.Model):
    class Involvement(models.TextChoices):
        EXPERIENCED = "experienced", _("Experienced it")
        WITNESSED = "witnessed", _("Witnessed it")

    class Outcome(models.TextChoices):
        SURVIVED = "survived", _("Survived")
        DIED = "died", _("Died")
        UNKNOWN = "unknown", _("Unknown")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # The client who reports it (who experienced or witnessed it).
    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="overdoses")
    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="overdoses")
    contact = models.ForeignKey(Contact, null=True, blank=True, on_delete=models.SET_NULL, related_name="overdoses")
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    date = models.DateField(_("date"))
    involvement = models.CharField(_("involvement"), max_length=12, choices=Involvement.choices)
    naloxone_given = models.BooleanField(_("naloxone given"), default=False)
    naloxone_kits_used = models.PositiveSmallIntegerField(_("naloxone kits used"), default=0)
    outcome = models.CharField(_("outcome"), max_length=10, choices=Outcome.choices, default=Outcome.UNKNOWN)
    emergency_called = models.BooleanField(_("emergency services called"), default=False)
    details = EncryptedTextField(_("details"), blank=True, default="")

    class Meta:
        verbose_name = _("overdose event")
        verbose_name_plural = _("overdose events")
        indexes = [models.Index(fields=["date", "site"], name="overdose_date_site")]

    def __str__(self) -> str:
        return f"{self.date} {self.outcome}"
