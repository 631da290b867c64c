"""The audit log: append-only in the database, the coordinators' viewer and its scope."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction
from django.test import Client

from salus.core import audit, auditseal
from salus.core.models import AuditEvent


def test_it_refuses_to_change_an_audit_row(program, record_contact):
    record_contact(program.site_a)
    ev = AuditEvent.objects.order_by("seq").first()
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AuditEvent.objects.filter(pk=ev.pk).update(actor_name="someone else")
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        with connection.cursor() as cur:
            cur.execute("UPDATE core_auditevent SET action = 'x' WHERE seq = %s", [ev.seq])
    assert AuditEvent.objects.get(pk=ev.pk).actor_name == ev.actor_name


def test_it_refuses_to_delete_an_audit_row(program, record_contact):
    record_contact(program.site_a)
    n = AuditEvent.objects.count()
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AuditEvent.objects.all().delete()
    assert AuditEvent.objects.count() == n and audit.verify().ok


def test_it_refuses_to_delete_a_staff_member_with_audit_rows(program):
    """Deleting a user would rewrite their audit rows: deactivate accounts instead."""
    from salus.core.auth import do_record_login_success

    do_record_login_success(program.worker_a)
    with pytest.raises(DatabaseError), transaction.atomic():
        program.worker_a.delete()


def test_it_puts_the_triggers_back_after_migrate(db):
    auditseal.remove(connection)
    assert not auditseal.installed(connection)
    call_command("migrate", interactive=False, verbosity=0)
    assert auditseal.installed(connection)


def _viewer(user, query=""):
    client = Client()
    client.force_login(user)
    return client.get("/security/audit/" + query)


def _seqs(response) -> set[int]:
    return {ev.seq for ev in response.context["page"]}


def test_it_shows_a_coordinator_only_their_sites_events(program, record_contact):
    a = record_contact(program.site_a, "MAJO1985M")
    b = record_contact(program.site_b, "FATI1990F")
    response = _viewer(program.coordinator_a, "?action=contact.record")
    assert response.status_code == 200
    shown = {ev.object_id for ev in response.context["page"]}
    assert str(a.pk) in shown and str(b.pk) not in shown


def test_it_shows_managers_every_event(program, record_contact):
    a = record_contact(program.site_a, "MAJO1985M")
    b = record_contact(program.site_b, "FATI1990F")
    shown = {ev.object_id for ev in _viewer(program.manager, "?action=contact.record").context["page"]}
    assert {str(a.pk), str(b.pk)} <= shown


def test_it_filters_by_record_and_site(program, record_contact):
    a = record_contact(program.site_a, "MAJO1985M")
    record_contact(program.site_a, "FATI1990F")
    page = _viewer(program.manager, f"?object_id={a.pk}").context["page"]
    assert {ev.object_id for ev in page} == {str(a.pk)}
    page = _viewer(program.manager, "?site=SB1").context["page"]
    assert all(ev.site_code == "SB1" for ev in page)


def test_it_records_who_read_the_log(program):
    _viewer(program.coordinator_a, "?action=client")
    ev = AuditEvent.objects.filter(action="audit.view").latest("seq")
    assert ev.actor_name == "coordinator_a" and ev.detail["filters"] == {"action": "client"}


def test_it_refuses_the_log_to_workers_and_analysts(program):
    assert _viewer(program.worker_a).status_code == 403
    assert _viewer(program.analyst).status_code == 403


def test_it_reports_missing_triggers_and_tampering_from_the_command(program, record_contact, capsys):
    from salus.core.cli import cmd_audit_verify

    record_contact(program.site_a)
    assert cmd_audit_verify(None) == 0
    auditseal.remove(connection)
    assert cmd_audit_verify(None) == 1
    assert "triggers missing" in capsys.readouterr().err
    # With the triggers gone, a raw edit goes through, and the hash chain catches it.
    with connection.cursor() as cur:
        cur.execute("UPDATE core_auditevent SET actor_name = 'someone else' WHERE seq = (SELECT MIN(seq) FROM core_auditevent)")
    assert cmd_audit_verify(None) == 1
    assert "AUDIT LOG DAMAGED" in capsys.readouterr().err
