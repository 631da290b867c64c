"""The anonymous client registry. No name, phone, address or ID number field exists, by design."""

from __future__ import annotations

import uuid

from django.db import models
from django.utils.translation import gettext_lazy as _

from salus.core.models import Site


class Sex(models.TextChoices):
    FEMALE = "F", _("Female")
    MALE = "M", _("Male")
    TRANSGENDER = "T", _("Transgender / gender-diverse")
    NOT_RECORDED = "X", _("Not recorded")


class Substance(models.TextChoices):
    HEROIN = "heroin", _("Heroin or other street opioids")
    OPIUM = "opium", _("Opium")
    METHADONE = "methadone", _("Methadone (not prescribed)")
    BUPRENORPHINE = "buprenorphine", _("Buprenorphine (not prescribed)")
    TRAMADOL = "tramadol", _("Tramadol or other pharmaceutical opioids")
    FENTANYL = "fentanyl", _("Fentanyl or analogues")
    METHAMPHETAMINE = "methamphetamine", _("Methamphetamine")
    STIMULANTS = "stimulants", _("Cocaine or other stimulants")
    BENZODIAZEPINES = "benzodiazepines", _("Benzodiazepines")
    ALCOHOL = "alcohol", _("Alcohol")
    CANNABIS = "cannabis", _("Cannabis")
    OTHER = "other", _("Other")


class Client(models.Model):
    """One anonymous person, known only by the keyed hash of their UIC.

    A client is not owned by a site: the same person may use several. Which sites may see the
    client is recorded in :class:`ClientSite` and enforced by salus.core.access.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    uic_hash = models.CharField(max_length=64, unique=True, editable=False)
    sex = models.CharField(_("sex"), max_length=1, choices=Sex.choices, default=Sex.NOT_RECORDED)
    birth_year = models.PositiveSmallIntegerField(_("year of birth"), null=True, blank=True)
    injects = models.BooleanField(_("injects drugs"), default=False)
    substances = models.JSONField(_("main substances"), default=list, blank=True)
    first_contact_date = models.DateField(_("first contact"), null=True, blank=True)
    consent_follow_up = models.BooleanField(_("consents to follow-up"), default=False)
    registered_at = models.DateTimeField(auto_now_add=True)
    registered_site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="+")
    # Set when a coordinator merges this record into another; merged records keep no services.
    merged_into = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="merged_from"
    )

    class Meta:
        verbose_name = _("client")
        verbose_name_plural = _("clients")

    def __str__(self) -> str:
        # Never the UIC: a short opaque reference is enough to talk about a record.
        return self.reference

    @property
    def reference(self) -> str:
        return str(self.id)[:8].upper()


class ClientSite(models.Model):
    """A site where a client has been served: the basis of per-site access to the client."""

    # "Which sites may see this client?" uses the foreign key's own index on client; the
    # site's look-ups use client_site_unique, which starts with it (clients/migrations/0003).
    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="site_links")
    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="client_links", db_index=False)
    first_seen = models.DateField()
    last_seen = models.DateField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["site", "client"], name="client_site_unique")]

    def __str__(self) -> str:
        return f"{self.client_id} @ {self.site_id}"


class UICNeighbourKey(models.Model):
    """HMAC of the client's UIC with one component blanked: finds one-component typos."""

    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="neighbour_keys", db_index=False)
    position = models.PositiveSmallIntegerField()
    key = models.CharField(max_length=64)

    class Meta:
        indexes = [
            # Possible duplicates: other clients sharing a neighbour key.
            models.Index(fields=["key"], name="uicneighbour_key"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["client", "position"], name="uicneighbour_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.client_id} #{self.position}"


class DuplicateDismissal(models.Model):
    """A coordinator's decision that two look-alike records are different people."""

    client_a = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="+", db_index=False)
    client_b = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="+")
    decided_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["client_a", "client_b"], name="dup_dismissal_unique")]

    def __str__(self) -> str:
        return f"{self.client_a_id} / {self.client_b_id}"
