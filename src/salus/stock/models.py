"""Commodities and their stock at each site.

Every change of stock is a :class:`StockMovement`; :class:`StockLevel` is the running balance,
updated in the same transaction as the movement. A level may go below zero: recording what was
given to a client is never refused for lack of recorded stock. A negative level is flagged for
the coordinator to reconcile with an adjustment.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from salus.core.models import Site


class Commodity(models.Model):
    class Category(models.TextChoices):
        INJECTING = "injecting", _("Injecting equipment")
        NALOXONE = "naloxone", _("Naloxone")
        CONDOMS = "condoms", _("Condoms and lubricant")
        TESTS = "tests", _("Test kits")
        OTHER = "other", _("Other")

    code = models.SlugField(_("code"), max_length=40, primary_key=True)
    name = models.CharField(_("name"), max_length=120)
    unit = models.CharField(_("unit"), max_length=40, default="piece")
    category = models.CharField(_("category"), max_length=20, choices=Category.choices)
    # Tracked commodities count toward stock-out days (STOCKOUT_DAYS).
    tracked = models.BooleanField(_("tracked for stock-outs"), default=True)

    class Meta:
        verbose_name = _("commodity")
        verbose_name_plural = _("commodities")
        ordering = ["category", "code"]

    def __str__(self) -> str:
        return self.name


class StockMovement(models.Model):
    class Kind(models.TextChoices):
        RECEIPT = "receipt", _("Receipt")
        DISTRIBUTION = "distribution", _("Given in a contact")
        ADJUSTMENT = "adjustment", _("Adjustment (count, loss, expiry)")
        TRANSFER_OUT = "transfer_out", _("Sent to another site")
        TRANSFER_IN = "transfer_in", _("Received from another site")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="stock_movements", db_index=False)
    commodity = models.ForeignKey(Commodity, on_delete=models.PROTECT, related_name="movements")
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    # Signed: receipts positive, distributions negative, adjustments either.
    quantity = models.IntegerField(_("quantity"))
    occurred_on = models.DateField(_("date"))
    at = models.DateTimeField(auto_now_add=True)
    contact = models.ForeignKey(
        "services.Contact", null=True, blank=True, on_delete=models.CASCADE, related_name="stock_movements"
    )
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    note = models.CharField(_("note"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("stock movement")
        verbose_name_plural = _("stock movements")
        indexes = [
            # Daily balances and stock-out days per site and commodity.
            models.Index(fields=["site", "commodity", "occurred_on"], name="stockmove_site_day"),
        ]

    def __str__(self) -> str:
        return f"{self.occurred_on} {self.commodity_id} {self.quantity:+d}"


class StockLevel(models.Model):
    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="stock_levels", db_index=False)
    commodity = models.ForeignKey(Commodity, on_delete=models.PROTECT, related_name="levels")
    quantity = models.IntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["site", "commodity"], name="stocklevel_unique")]

    def __str__(self) -> str:
        return f"{self.site_id} {self.commodity_id} {self.quantity}"

    @property
    def needs_reconciling(self) -> bool:
        return self.quantity < 0
