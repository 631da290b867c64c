"""Roles and what each may do, declared as data in one place.

A capability is a plain string. Code asks ``access.can(user, "contact.record")``, never
``user.role == ...``, so that the whole permission model reads from the table below and the
docs (docs/roles.md) and the permission-matrix tests are checked against it.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    WORKER = "worker", _("Outreach / peer worker")
    COORDINATOR = "coordinator", _("Site coordinator")
    CLINICIAN = "clinician", _("Clinician (OST)")
    MANAGER = "manager", _("Program manager")
    ANALYST = "analyst", _("Data analyst")
    ADMIN = "admin", _("Administrator")


# What every capability means; a test fails if a role names one that is not described here.
CAPABILITIES: dict[str, str] = {
    "client.view": "See individual client records (UIC hash never shown) at the user's sites",
    "client.register": "Register a new client from a UIC",
    "client.merge": "Find possible duplicate clients and merge them",
    "contact.record": "Record a contact and the services given in it",
    "contact.view": "See contacts at the user's sites",
    "clinical.view": "See HIV and HCV results and ART status (field compartment)",
    "clinical.record": "Record HIV and HCV results (peer testers may record without seeing them)",
    "referral.manage": "Make referrals and record their outcome",
    "ost.manage": "Open and close OST episodes and record doses",
    "overdose.record": "Record overdose events",
    "stock.view": "See stock levels and movements at the user's sites",
    "stock.manage": "Record stock receipts and adjustments",
    "indicators.view": "See aggregate indicators and dashboards",
    "indicators.unsuppressed": "See aggregate counts without small-cell suppression inside the system",
    "export.aggregate": "Export aggregate indicators (DHIS2, ADX, CSV), always suppressed",
    "export.individual": "Export individual-level records (logged)",
    "import.data": "Import CSV files",
    "audit.view": "See the audit log of the user's sites",
    "model.use": "Use the impact and cost-effectiveness model",
    "care.view": "See overdose-risk prompts and client goals at the user's sites",
    "care.high_risk_list": "See the list of clients with active high-risk windows at the user's sites",
    "rights.report": "Take a rights-violation report from a client",
    "rights.view": "See rights-violation reports (needs the rights focal person grant too)",
    "feedback.view": "See community feedback and record responses",
    "users.manage": "Create users, reset passwords, revoke tokens",
    "org.manage": "Manage areas, sites, commodities and program settings",
}

_FRONTLINE = {
    "client.view", "client.register", "contact.record", "contact.view", "clinical.record",
    "referral.manage", "overdose.record", "stock.view", "care.view", "rights.report",
}

ROLE_CAPABILITIES: dict[str, frozenset[str]] = {
    Role.WORKER: frozenset(_FRONTLINE),
    Role.COORDINATOR: frozenset(
        _FRONTLINE
        | {
            "client.merge", "clinical.view", "stock.manage", "indicators.view",
            "indicators.unsuppressed", "export.aggregate", "audit.view", "care.high_risk_list",
            "feedback.view", "import.data", "rights.view",
        }
    ),
    Role.CLINICIAN: frozenset(_FRONTLINE | {"clinical.view", "ost.manage", "care.high_risk_list"}),
    Role.MANAGER: frozenset(
        _FRONTLINE
        | {
            "client.merge", "clinical.view", "ost.manage", "stock.manage", "indicators.view",
            "indicators.unsuppressed", "export.aggregate", "audit.view", "care.high_risk_list",
            "feedback.view", "import.data", "model.use", "rights.view",
        }
    ),
    # Aggregates only: no capability that reaches an individual record.
    Role.ANALYST: frozenset({"indicators.view", "export.aggregate", "model.use"}),
    Role.ADMIN: frozenset(CAPABILITIES),
}

# Roles that reach every site of the organisation rather than only their own.
ORG_WIDE_ROLES = frozenset({Role.MANAGER, Role.ANALYST, Role.ADMIN})

# Roles that see individual records at all (analysts never do).
INDIVIDUAL_RECORD_ROLES = frozenset(
    {Role.WORKER, Role.COORDINATOR, Role.CLINICIAN, Role.MANAGER, Role.ADMIN}
)
