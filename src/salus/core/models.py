"""The organisation: areas, sites, staff and their roles, API tokens and the audit log."""

from __future__ import annotations

import uuid

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _

from salus.core.roles import Role


class Area(models.Model):
    """An administrative area. Areas nest: country > province > district.

    ``code`` is unique among siblings; the full ``path`` (codes from the top joined by ``/``,
    e.g. ``XL/NORTH/N1``) is unique in the program and is how files and the CLI name an area.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    code = models.CharField(_("code"), max_length=40)
    name = models.CharField(_("name"), max_length=200)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children", db_index=False
    )
    # Denormalised path of codes from the top; kept in step by salus.core.actions.
    path = models.CharField(max_length=400, unique=True, editable=False)
    depth = models.PositiveSmallIntegerField(default=0, editable=False)

    class Meta:
        verbose_name = _("area")
        verbose_name_plural = _("areas")
        ordering = ["path"]
        constraints = [
            models.UniqueConstraint(fields=["parent", "code"], name="area_code_unique_in_parent"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.path})"

    def subtree_q(self, prefix: str = "") -> models.Q:
        """A Q matching this area and every area below it (on a model reached by ``prefix``)."""
        return models.Q(**{f"{prefix}path": self.path}) | models.Q(
            **{f"{prefix}path__startswith": self.path + "/"}
        )


class Site(models.Model):
    """A place or team that gives services: a fixed NSP, an outreach team, an OST clinic..."""

    class Kind(models.TextChoices):
        FIXED_NSP = "fixed_nsp", _("Fixed needle-syringe program")
        DROP_IN = "drop_in", _("Drop-in centre")
        OUTREACH = "outreach", _("Outreach team")
        MOBILE = "mobile", _("Mobile unit")
        OST_CLINIC = "ost_clinic", _("OST clinic")
        PHARMACY = "pharmacy", _("Pharmacy")
        PRISON = "prison", _("Prison program")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    code = models.CharField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=200)
    area = models.ForeignKey(Area, on_delete=models.PROTECT, related_name="sites")
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    active = models.BooleanField(_("active"), default=True)
    # A secret per site for its anonymous feedback link / QR code (no log-in needed there).
    feedback_key = models.CharField(max_length=40, blank=True, editable=False)

    class Meta:
        verbose_name = _("site")
        verbose_name_plural = _("sites")
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class User(AbstractUser):
    """A member of staff. Holds no client data; log-in name only, e-mail optional.

    ``sites`` scopes every individual record the user can reach (see salus.core.access);
    managers, analysts and administrators reach the whole organisation.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    role = models.CharField(_("role"), max_length=20, choices=Role.choices, default=Role.WORKER)
    sites = models.ManyToManyField(Site, blank=True, related_name="staff", verbose_name=_("sites"))
    # Granted one by one: the person who takes and follows rights-violation reports.
    rights_focal_person = models.BooleanField(_("rights focal person"), default=False)
    language = models.CharField(_("language"), max_length=10, blank=True)
    # Base32 TOTP secret, encrypted at rest (salus.core.crypto); blank when 2FA is not set up.
    totp_secret = models.TextField(blank=True, editable=False)
    # The 30-second TOTP time step of the last code accepted for this account: a code is
    # accepted only for a later step, so a code seen over a shoulder or in a log cannot be
    # used again, even within its validity window.
    totp_last_step = models.BigIntegerField(null=True, blank=True, editable=False)
    failed_logins = models.PositiveIntegerField(default=0, editable=False)
    locked_until = models.DateTimeField(null=True, blank=True, editable=False)
    # Not a column: the ids of the sites the user may reach, cached on the instance by
    # salus.core.access.site_ids.
    _salus_site_ids: set[uuid.UUID]

    class Meta:
        verbose_name = _("staff member")
        verbose_name_plural = _("staff")

    def __str__(self) -> str:
        return self.username


class ApiToken(models.Model):
    """A bearer token for the JSON API. Only a SHA-256 of the token is stored."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(_("name"), max_length=100)
    # First characters of the token, shown so a user can tell tokens apart; not a secret.
    prefix = models.CharField(max_length=12)
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"


class AuditEvent(models.Model):
    """One row of the append-only, hash-chained audit log.

    ``hash`` = SHA-256 over the previous row's hash and this row's canonical content, so that
    changing, inserting or deleting a row breaks the chain (``salus audit verify``).
    Rows never hold raw UICs, results or notes: they name objects by their opaque ids.
    """

    seq = models.BigAutoField(primary_key=True)
    at = models.DateTimeField(db_index=True)
    actor = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    actor_name = models.CharField(max_length=150, blank=True)
    action = models.CharField(max_length=60)
    object_type = models.CharField(max_length=60, blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    site_code = models.CharField(max_length=40, blank=True)
    ip = models.CharField(max_length=64, blank=True)
    detail = models.JSONField(default=dict, blank=True)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64, unique=True)

    class Meta:
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")
        indexes = [
            # The coordinators' viewer: events about one site, newest first.
            models.Index(fields=["site_code", "-at"], name="audit_site_at"),
            # "Who looked at this record?"
            models.Index(fields=["object_type", "object_id"], name="audit_object"),
        ]

    def __str__(self) -> str:
        return f"{self.seq} {self.action} {self.object_type}:{self.object_id}"


class AuditHead(models.Model):
    """The hash of the newest audit row; locked by writers so the chain never forks."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    last_hash = models.CharField(max_length=64)

    def __str__(self) -> str:
        return self.last_hash


class PopulationSizeEstimate(models.Model):
    """A population size estimate (PSE) for an area and year: the population-level denominator.

    Coverage is never computed for an area below the one holding the PSE, and PSEs of different
    years are never added (docs/indicators.md).
    """

    class Population(models.TextChoices):
        PWID = "pwid", _("People who inject drugs")
        OPIOID_DEPENDENT = "opioid_dependent", _("People with opioid dependence")
        PWID_HIV = "pwid_hiv", _("People who inject drugs living with HIV")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    area = models.ForeignKey(Area, on_delete=models.PROTECT, related_name="population_estimates", db_index=False)
    population = models.CharField(_("population"), max_length=20, choices=Population.choices)
    year = models.PositiveSmallIntegerField(_("year"))
    estimate = models.PositiveIntegerField(_("estimate"))
    low = models.PositiveIntegerField(_("low"), null=True, blank=True)
    high = models.PositiveIntegerField(_("high"), null=True, blank=True)
    method = models.CharField(_("method"), max_length=200, blank=True)
    source = models.CharField(_("source"), max_length=400, blank=True)

    class Meta:
        verbose_name = _("population size estimate")
        verbose_name_plural = _("population size estimates")
        constraints = [
            models.UniqueConstraint(fields=["area", "population", "year"], name="pse_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.area.path} {self.population} {self.year}: {self.estimate}"


# Aggregates kept when individual records are purged or erased (salus.core.retention).
from salus.core.retention import RetainedAggregate  # noqa: E402,F401
