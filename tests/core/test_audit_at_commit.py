"""Audit events are chained when their write commits (salus.core.backends.chain)."""

from __future__ import annotations

import threading
import uuid

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


def _level_update(site, code: str, delta: int):
    """The arguments of ``salus_update_last`` for a stock level, as the stock actions give them."""
    from salus.stock.actions import _level_update_sql, _site_key

    return ("stock_level", str(site.pk), code), _level_update_sql(), [delta, _site_key(site), code]


def _syringes(site) -> int:
    from salus.stock.models import StockLevel

    return StockLevel.objects.get(site=site, commodity_id="syringe").quantity


def _receive(site, quantity=100):
    import datetime as dt

    from salus.stock.actions import do_record_stock_movement
    from salus.stock.models import Commodity

    commodity, _ = Commodity.objects.get_or_create(code="syringe", defaults={"name": "Syringe", "category": "x"})
    do_record_stock_movement("test", site=site, commodity=commodity, kind="receipt", quantity=quantity,
                             occurred_on=dt.date(2025, 1, 1))


@pytest.mark.django_db
def test_hot_row_updates_run_at_the_end_and_go_with_their_savepoint(program):
    _receive(program.site_a)
    with transaction.atomic():
        connection.salus_update_last(*_level_update(program.site_a, "syringe", -5))
        assert _syringes(program.site_a) == 100  # not yet: among the write's last statements
        with pytest.raises(ValueError), transaction.atomic():
            connection.salus_update_last(*_level_update(program.site_a, "syringe", -50))
            raise ValueError
        audit.record("test", "test.took")
    assert _syringes(program.site_a) == 95
    assert audit.verify().ok


@pytest.mark.django_db(transaction=True)
def test_a_hot_row_update_that_finds_no_row_fails_the_whole_write(program):
    _receive(program.site_a)
    before = AuditEvent.objects.count()
    with pytest.raises(DatabaseError), transaction.atomic():
        connection.salus_update_last(*_level_update(program.site_a, "syringe", -5))
        connection.salus_update_last(*_level_update(program.site_b, "syringe", -5))  # no such level
        audit.record("test", "test.took")
    assert _syringes(program.site_a) == 100
    assert AuditEvent.objects.count() == before


@pytest.mark.django_db(transaction=True)
def test_a_write_refused_at_commit_leaves_nothing_and_the_connection_usable(program):
    """A deferred foreign-key check fails at COMMIT, which on PostgreSQL is sent together with
    the audit rows: the whole write is undone and the error is Django's."""
    from django.db import IntegrityError

    from salus.stock.models import StockMovement

    _receive(program.site_a)
    before = AuditEvent.objects.count()
    table = connection.ops.quote_name(StockMovement._meta.db_table)
    site_key = StockMovement._meta.get_field("site").get_db_prep_value(program.site_a.pk, connection)
    with pytest.raises(IntegrityError), transaction.atomic():
        with connection.cursor() as cur:
            cur.execute(
                f"INSERT INTO {table} (id, site_id, commodity_id, kind, quantity, occurred_on, at, note) "
                "VALUES (%s, %s, 'no_such_commodity', 'adjustment', 1, %s, %s, '')",
                [StockMovement._meta.pk.get_db_prep_value(uuid.uuid4(), connection), site_key, "2025-01-01",
                 "2025-01-01 00:00:00+00:00"],
            )
        connection.salus_update_last(*_level_update(program.site_a, "syringe", -5))
        audit.record("test", "test.refused")
    assert _syringes(program.site_a) == 100
    assert AuditEvent.objects.count() == before
    assert not StockMovement.objects.filter(commodity_id="no_such_commodity").exists()
    audit.record("test", "test.after")
    assert audit.verify().ok
