"""Shared helpers for the web view tests."""

from __future__ import annotations

UIC_PARTS = {"mother": "MA", "father": "JO", "birth_year": "1985", "sex": "M"}


def contact_post(site, contact_id, **overrides) -> dict:
    """A valid contact form body at ``site``."""
    data = {
        "contact_id": str(contact_id), "site": site.code, "occurred_at": "2026-01-15T10:30", "setting": "fixed_site",
        "syringes_given": "10", "syringes_returned": "4", "other_equipment_given": "0", "condoms_given": "5",
        "naloxone_kits_given": "1", "hiv_test_result": "", "hcv_test_result": "", "art_status": "",
        "overdose_since_last_contact": "", "uses_alone": "", "mixes_depressants": "", "notes": "",
    }
    data.update(overrides)
    return data
