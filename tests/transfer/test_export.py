"""Exports of individual records: administrators only, audited, no UIC, formulas neutralised."""

from __future__ import annotations

import csv
import os
import stat

import pytest
from django.core.exceptions import PermissionDenied

from salus.core.actions import do_save_site
from salus.core.models import AuditEvent
from salus.services.models import Contact
from salus.transfer.exporters import contacts as contact_export
from salus.transfer.exporting import run_export


def read(path):
    with open(path, encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def test_an_admin_exports_contacts_with_results_and_no_uic(program, record_contact, tmp_path):
    c = record_contact(program.site_a, raw_uic="MAJO1985M", syringes_given=10, hiv_test_result="positive",
                       referrals=["hiv_care"])
    record_contact(program.site_b, raw_uic="ABCD1990F")
    path = tmp_path / "contacts.csv"
    assert run_export("contacts", program.admin, str(path)) == 2
    rows = read(path)
    assert list(rows[0]) == list(contact_export.COLUMNS)
    mine = next(r for r in rows if r["contact_id"] == str(c.id))
    assert mine["client_id"] == str(c.client_id)
    assert (mine["site"], mine["area"], mine["syringes_given"], mine["hiv_test_result"], mine["referrals"]) == (
        "NA1", "XL/NORTH/N1", "10", "positive", "hiv_care")
    text = path.read_text()
    assert "MAJO" not in text and c.client.uic_hash not in text
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    event = AuditEvent.objects.get(action="export.contacts")
    assert event.actor == program.admin and event.detail["rows"] == 2


@pytest.mark.parametrize("who", ["worker_a", "coordinator_a", "clinician_a", "manager", "analyst"])
def test_only_administrators_export_individual_records(program, who, tmp_path):
    with pytest.raises(PermissionDenied):
        run_export("contacts", program.users()[who], str(tmp_path / "x.csv"))
    assert not (tmp_path / "x.csv").exists()
    assert not AuditEvent.objects.filter(action__startswith="export.").exists()


def test_exported_cells_cannot_run_as_formulas(program, record_contact, tmp_path):
    site, _ = do_save_site("test", code="=HYPERLINK(1)", name="x", area=program.area_a, kind="drop_in")
    record_contact(site)
    path = tmp_path / "c.csv"
    run_export("contacts", program.admin, str(path))
    assert read(path)[0]["site"] == "'=HYPERLINK(1)"


def test_the_date_range_bounds_the_export(program, record_contact, tmp_path):
    import datetime as dt

    for day in (1, 10, 20):
        record_contact(program.site_a, when=dt.date(2025, 3, day))
    path = tmp_path / "c.csv"
    n = run_export("contacts", program.admin, str(path), since=dt.date(2025, 3, 5), until=dt.date(2025, 3, 15))
    assert n == 1 and read(path)[0]["date"] == "2025-03-10"
    assert Contact.objects.count() == 3


def test_an_admin_exports_ost_episodes(program, tmp_path):
    import datetime as dt
    from decimal import Decimal

    from salus.clients.actions import do_register_client
    from salus.services.actions import do_record_dose, do_start_ost_episode

    client, _ = do_register_client("test", program.site_a, raw_uic="MAJO1985M")
    ep = do_start_ost_episode("test", client=client, site=program.site_a, medication="methadone",
                              start_date=dt.date(2025, 1, 1))
    do_record_dose("test", ep, date=dt.date(2025, 1, 1), dose_mg=Decimal("20"), phase="induction")
    do_record_dose("test", ep, date=dt.date(2025, 1, 2), dose_mg=Decimal("25"), phase="induction")
    path = tmp_path / "ost.csv"
    assert run_export("ost", program.admin, str(path)) == 1
    row = read(path)[0]
    assert (row["client_id"], row["medication"], row["doses_recorded"], row["last_dose_date"], row["last_dose_mg"]) == (
        str(client.id), "methadone", "2", "2025-01-02", "25.00")
    assert AuditEvent.objects.get(action="export.ost").detail["rows"] == 1
