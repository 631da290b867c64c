"""The bulk insert helpers: same stored values as the ORM, literals only where they are safe."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from django.utils import timezone
from hypothesis import given, settings
from hypothesis import strategies as st

from salus.clients.models import Client
from salus.core import crypto
from salus.services.models import Contact
from salus.stock.models import StockMovement
from salus.transfer.bulk import insert_rows, new_uuids, sql_literal, uuid5_hex


@settings(max_examples=200, deadline=None)
@given(st.binary(min_size=16, max_size=16), st.text(max_size=300))
def test_uuid5_hex_is_uuid5(namespace, name):
    assert uuid5_hex(namespace, name) == uuid.uuid5(uuid.UUID(bytes=namespace), name).hex


def test_new_uuids_are_random_version_4_uuids(db):
    ids = [uuid.UUID(str(i)) for i in new_uuids(2000)]
    assert len(set(ids)) == 2000
    assert {(i.version, i.variant) for i in ids} == {(4, uuid.RFC_4122)}
    assert new_uuids(0) == []


@pytest.mark.parametrize(("value", "literal"), [
    (None, "NULL"), (0, "0"), (-12, "-12"), (True, "TRUE"), (False, "FALSE"), ("", "''"),
    ("import", "'import'"), ("2026-01-02 12:00:00.123456", "'2026-01-02 12:00:00.123456'"),
    ("0a88b31f974a41ee90fd1744dd26f004", "'0a88b31f974a41ee90fd1744dd26f004'"),
])
def test_plain_values_become_literals(value, literal):
    assert sql_literal(value) == literal


@pytest.mark.parametrize("value", [
    "it's", "a\\b", "%s", "100%", '"x"', "x;", "a\nb", "[]", "é", "x" * 101, 1.5, b"x", dt.date(2025, 1, 1),
    uuid.UUID(int=1),
])
def test_anything_else_is_bound(value):
    assert sql_literal(value) is None


def test_constants_are_stored_as_given(db, program):
    """Constants that cannot be literals are bound; either way the row holds the value."""
    now = timezone.now()
    note = "it's 100% \"quoted\"; -- not SQL"
    n = insert_rows(
        StockMovement,
        ["id", "quantity", "occurred_on"],
        [(uuid.uuid4(), -3, dt.date(2025, 1, 2)), (uuid.uuid4(), -4, dt.date(2025, 1, 3))],
        constants={"site_id": program.site_a.id, "commodity_id": "condom", "kind": "distribution", "at": now,
                   "contact_id": None, "recorded_by_id": program.worker_a.pk, "note": note},
    )
    assert n == 2
    rows = sorted(StockMovement.objects.values_list("quantity", "occurred_on", "site_id", "commodity_id", "kind",
                                                    "at", "contact_id", "recorded_by_id", "note"))
    assert rows == [
        (-4, dt.date(2025, 1, 3), program.site_a.id, "condom", "distribution", now, None, program.worker_a.pk, note),
        (-3, dt.date(2025, 1, 2), program.site_a.id, "condom", "distribution", now, None, program.worker_a.pk, note),
    ]


def test_the_bulk_encrypter_makes_what_decrypt_reads(db):
    field = Contact._meta.get_field("hiv_result")
    encrypt = field.bulk_encrypter()
    tokens = [encrypt("positive") for _ in range(50)]
    assert len(set(tokens)) == 50  # a fresh nonce each time: equal results do not show
    assert all(t.startswith(crypto.PREFIX) for t in tokens)
    assert {field.from_db_value(t, None, None) for t in tokens} == {"positive"}
    with pytest.raises(crypto.DecryptionError):  # bound to its column
        crypto.decrypt(tokens[0], "services.Contact.hcv_result")


def test_the_collector_is_paused_only_for_the_import():
    import gc

    from salus.transfer.bulk import gc_paused

    assert gc.isenabled()
    with gc_paused():
        assert not gc.isenabled()
    assert gc.isenabled()
    with pytest.raises(RuntimeError), gc_paused():
        raise RuntimeError("disk full")
    assert gc.isenabled()
    gc.disable()
    try:
        with gc_paused():
            pass
        assert not gc.isenabled()  # left as the caller had it
    finally:
        gc.enable()


def test_a_key_or_a_column_without_default_must_be_named(db):
    with pytest.raises(ValueError, match="column id must be named"):
        insert_rows(StockMovement, ["quantity"], [])
    with pytest.raises(ValueError, match="column occurred_on must be named"):
        insert_rows(StockMovement, ["id", "site_id", "commodity_id", "kind", "quantity"], [])


def test_a_name_without_a_column_is_refused(db):
    # A reverse relation (Client.site_links) is a field name but no column to write.
    with pytest.raises(ValueError, match="site_links is not a column"):
        insert_rows(Client, ["id", "site_links"], [])
