"""Permission matrix entries for every URL of the staff web app (see tests/permission.py).

Django's language switch (``set_language``) is open to everyone and skipped by the matrix."""

from __future__ import annotations

import datetime as dt
import uuid

from django.urls import reverse
from django.utils import timezone

from permission import EVERY_ROLE, FRONTLINE, Spec

OST_ROLES = frozenset({"clinician", "manager", "admin"})
MERGE_ROLES = frozenset({"coordinator", "manager", "admin"})
STOCK_MANAGERS = frozenset({"coordinator", "manager", "admin"})


def _contact_body(site) -> dict:
    return {
        "contact_id": str(uuid.uuid4()), "site": site.code, "occurred_at": "2026-01-15T10:30", "setting": "fixed_site",
        "syringes_given": "2", "syringes_returned": "0", "other_equipment_given": "0", "condoms_given": "0",
        "naloxone_kits_given": "0",
    }


def _client(program, record_contact, raw="MAJO1985M"):
    return record_contact(program.site_a, raw_uic=raw).client


def _episode(program, record_contact):
    from salus.services.actions import do_start_ost_episode
    from salus.services.models import OSTEpisode

    client = _client(program, record_contact)
    existing = OSTEpisode.objects.filter(client=client, end_date__isnull=True).first()
    return existing or do_start_ost_episode(
        "test", client=client, site=program.site_a, medication="methadone",
        start_date=timezone.localdate() - dt.timedelta(days=5),
    )


def _referral(program, record_contact):
    from salus.services.actions import do_create_referral

    client = _client(program, record_contact)
    return do_create_referral("test", client=client, site=program.site_a, service="tb",
                              made_on=timezone.localdate() - dt.timedelta(days=20))


def _register(program, record_contact):
    from salus.clients import uic
    from salus.web.forms import sign_hashes

    body = _contact_body(program.site_a)
    body["token"] = sign_hashes(uic.hash_raw("NEWO1990F"))
    return reverse("web-client-register"), body


def _referral_update(program, record_contact):
    referral = _referral(program, record_contact)
    prefix = str(referral.id)
    return reverse("web-referral-update", args=[referral.id]), {
        f"{prefix}-status": "attended", f"{prefix}-outcome_on": timezone.localdate().isoformat(),
    }


def _pair(program, record_contact):
    a = _client(program, record_contact, "MAJO1985M")
    b = _client(program, record_contact, "MAJO1986M")
    return {"keep": str(a.id), "other": str(b.id)}


SPECS: list[Spec] = [
    Spec("web-home", EVERY_ROLE, lambda p, rc: (reverse("web-home"), None), site_scoped=False),
    Spec("web-client-find", FRONTLINE, lambda p, rc: (reverse("web-client-find"), None), site_scoped=False),
    Spec("web-client-register", FRONTLINE, _register, method="POST"),
    Spec("web-client", FRONTLINE, lambda p, rc: (reverse("web-client", args=[_client(p, rc).id]), None)),
    Spec("web-contact-new", FRONTLINE, lambda p, rc: (reverse("web-contact-new", args=[_client(p, rc).id]), None)),
    Spec("web-overdose-new", FRONTLINE, lambda p, rc: (reverse("web-overdose-new", args=[_client(p, rc).id]), None)),
    Spec("web-ost-start", OST_ROLES, lambda p, rc: (reverse("web-ost-start", args=[_client(p, rc).id]), None)),
    Spec("web-ost-dose", OST_ROLES, lambda p, rc: (reverse("web-ost-dose", args=[_episode(p, rc).id]), None)),
    Spec("web-ost-end", OST_ROLES, lambda p, rc: (reverse("web-ost-end", args=[_episode(p, rc).id]), None)),
    Spec("web-referrals", FRONTLINE, lambda p, rc: (reverse("web-referrals"), None), site_scoped=False),
    Spec("web-referral-update", FRONTLINE, _referral_update, method="POST"),
    Spec("web-stock", FRONTLINE, lambda p, rc: (reverse("web-stock"), None), site_scoped=False),
    Spec("web-stock-movement", STOCK_MANAGERS, lambda p, rc: (reverse("web-stock-movement"), {
        "site": p.site_a.code, "commodity": "condom", "kind": "receipt", "quantity": "10",
        "occurred_on": timezone.localdate().isoformat(),
    }), method="POST"),
    Spec("web-duplicates", MERGE_ROLES, lambda p, rc: (reverse("web-duplicates"), None), site_scoped=False),
    Spec("web-duplicate-merge", MERGE_ROLES, lambda p, rc: (reverse("web-duplicate-merge"), _pair(p, rc)), method="POST"),
    Spec("web-duplicate-dismiss", MERGE_ROLES, lambda p, rc: (reverse("web-duplicate-dismiss"), _pair(p, rc)),
         method="POST"),
]
