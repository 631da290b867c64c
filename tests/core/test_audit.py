"""The audit log's hash chain."""

from django.db import connection

from salus.core import audit
from salus.core.models import AuditEvent


def test_it_verifies_an_untouched_chain(program, record_contact):
    record_contact(program.site_a)
    result = audit.verify()
    assert result.ok and result.checked == AuditEvent.objects.count()


def _raw(sql, params=()):
    with connection.cursor() as cur:
        for trig in ("audit_no_update", "audit_no_delete"):
            # Append-only triggers (if installed) must be dropped to simulate an attacker with
            # direct database access.
            if connection.vendor == "sqlite":
                cur.execute(f"DROP TRIGGER IF EXISTS {trig}")
        if connection.vendor == "postgresql":
            # Django's deferred foreign-key checks would block ALTER TABLE inside the test's
            # transaction: run them now.
            cur.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cur.execute("ALTER TABLE core_auditevent DISABLE TRIGGER USER")
        cur.execute(sql, params)
        if connection.vendor == "postgresql":
            cur.execute("ALTER TABLE core_auditevent ENABLE TRIGGER USER")


def test_it_detects_a_changed_row(program, record_contact):
    record_contact(program.site_a)
    ev = AuditEvent.objects.order_by("seq")[1]
    _raw("UPDATE core_auditevent SET actor_name = 'someone else' WHERE seq = %s", [ev.seq])
    result = audit.verify()
    assert not result.ok and result.first_bad_seq == ev.seq


def test_it_detects_a_deleted_row(program, record_contact):
    record_contact(program.site_a)
    ev = AuditEvent.objects.order_by("seq")[2]
    _raw("DELETE FROM core_auditevent WHERE seq = %s", [ev.seq])
    assert not audit.verify().ok


def test_it_detects_a_truncated_log(program, record_contact):
    record_contact(program.site_a)
    last = AuditEvent.objects.order_by("-seq").first()
    _raw("DELETE FROM core_auditevent WHERE seq = %s", [last.seq])
    assert not audit.verify().ok
