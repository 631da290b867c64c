"""Audit events are chained when their write commits (salus.core.backends.chain)."""

from __future__ import annotations

import threading

import pytest
from django.db import DatabaseError, connection, connections, transaction

from salus.core import audit
from salus.core.models import Area, AuditEvent


def _actions() -> list[str]:
    return list(AuditEvent.objects.order_by("seq").values_list("action", flat=True))


@pytest.mark.django_db
def test_a_writes_events_wait_for_its_end_in_the_order_they_happened():
    before = AuditEvent.objects.count()
    with transaction.atomic():
        audit.record("test", "test.first")
        audit.record("test", "test.second")
        assert AuditEvent.objects.count() == before
    assert _actions()[-2:] == ["test.first", "test.second"]
    assert audit.verify().ok


@pytest.mark.django_db
def test_an_event_outside_any_write_is_written_at_once():
    audit.record("test", "test.alone")
    assert _actions()[-1] == "test.alone"


@pytest.mark.django_db
def test_an_event_in_a_rolled_back_savepoint_is_dropped_and_the_rest_kept():
    with transaction.atomic():
        audit.record("test", "test.kept")
        with pytest.raises(ValueError), transaction.atomic():
            audit.record("test", "test.undone")
            raise ValueError
        audit.record("test", "test.after")
    actions = _actions()
    assert actions[-2:] == ["test.kept", "test.after"]
    assert "test.undone" not in actions
    assert audit.verify().ok


@pytest.mark.django_db(transaction=True)
def test_a_rolled_back_write_leaves_no_event():
    audit.record("test", "test.before")
    with pytest.raises(ValueError), transaction.atomic():
        audit.record("test", "test.undone")
        raise ValueError
    assert _actions() == ["test.before"]
    assert not connection.salus_audit_pending


@pytest.mark.django_db(transaction=True)
def test_a_failure_while_chaining_undoes_the_whole_write(monkeypatch):
    from salus.core.actions import do_ensure_area_path

    def broken(prev_hash, ev):
        raise RuntimeError("hash failed")

    monkeypatch.setattr(audit, "compute_hash", broken)
    with pytest.raises(DatabaseError):
        do_ensure_area_path("test", "XQ/NOWHERE")
    assert not Area.objects.filter(code="XQ").exists()
    assert AuditEvent.objects.count() == 0
    monkeypatch.undo()
    # The connection is usable and the chain goes on.
    do_ensure_area_path("test", "XQ/SOMEWHERE")
    assert Area.objects.filter(code="XQ").exists()
    assert audit.verify().ok


@pytest.mark.django_db(transaction=True)
def test_a_write_does_not_hold_the_chain_while_it_works():
    """While one write is still at work after recording an event, another write commits.

    Chaining at commit is what allows it: before, the first write held the chain's head from
    its event to its end and every other write waited. SQLite runs one write at a time anyway
    (its write lock is taken at BEGIN), so this is a PostgreSQL property.
    """
    if connection.vendor != "postgresql":
        pytest.skip("SQLite runs one write at a time by design")
    recorded, finish = threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def slow_write():
        try:
            with transaction.atomic():
                audit.record("test", "test.slow")
                recorded.set()
                finish.wait(30)
        except BaseException as exc:  # reported below
            errors.append(exc)
        finally:
            connections.close_all()

    slow = threading.Thread(target=slow_write)
    slow.start()
    try:
        assert recorded.wait(30)
        with connection.cursor() as cur:
            # Fail fast instead of hanging if the head is held.
            cur.execute("SET lock_timeout = '5s'")
        audit.record("test", "test.quick")
        assert _actions() == ["test.quick"]
    finally:
        finish.set()
        slow.join(30)
    assert not errors
    # In the chain in the order the writes committed.
    assert _actions() == ["test.quick", "test.slow"]
    assert audit.verify().ok
