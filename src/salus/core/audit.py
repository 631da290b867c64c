"""The audit log: who did or saw what, when, from where. Append-only and hash-chained.

Call :func:`record` from action functions (writes) and from the view helpers that show an
individual record (reads). Rows are chained: each row's hash covers the previous row's hash, so a
changed, inserted or deleted row is detected by :func:`verify` (``salus audit verify``).
A write's events are chained when it commits (``salus.core.backends.chain``): its last
statements lock the chain's head, append the events and move the head, so two concurrent writes
cannot fork the chain and the head is held only for those statements.
"""

from __future__ import annotations

import contextvars
import hashlib
import json
from collections.abc import Sequence
from contextlib import nullcontext
from dataclasses import dataclass
from typing import Any

from django.db import DatabaseError, connection, models, transaction
from django.db.transaction import TransactionManagementError
from django.utils import timezone

GENESIS = "0" * 64

# The client address of the request being served, set by middleware.
current_ip: contextvars.ContextVar[str] = contextvars.ContextVar("salus_audit_ip", default="")


def _canonical(ev) -> str:
    return json.dumps(
        [
            ev.at.isoformat(),
            ev.actor_name,
            ev.action,
            ev.object_type,
            ev.object_id,
            ev.site_code,
            ev.ip,
            ev.detail,
        ],
        sort_keys=True,
        ensure_ascii=False,
        separators=(",", ":"),
        default=str,
    )


def compute_hash(prev_hash: str, ev) -> str:
    return hashlib.sha256((prev_hash + _canonical(ev)).encode()).hexdigest()


def record(
    actor,
    action: str,
    obj: models.Model | None = None,
    *,
    object_type: str = "",
    object_id: str = "",
    site=None,
    detail: dict | None = None,
):
    """Append one event. ``obj`` names the object by model name and primary key.

    Inside a write the event is chained when the write commits (and dropped if it rolls back);
    outside one it is written at once, in a transaction of its own.

    ``detail`` must not contain raw UICs, test results or free text: ids and counts only.
    """
    from salus.core.models import AuditEvent

    if obj is not None:
        # Set on every model class when it is made; None only on options not yet attached to one.
        assert obj._meta.model_name is not None
        object_type = object_type or obj._meta.model_name
        object_id = object_id or str(obj.pk)
    site_code = getattr(site, "code", site) or ""
    ev = AuditEvent(
        at=timezone.now(),
        actor=actor if getattr(actor, "pk", None) else None,
        actor_name=getattr(actor, "username", "") or (actor if isinstance(actor, str) else ""),
        action=action,
        object_type=object_type,
        object_id=object_id,
        site_code=site_code,
        ip=current_ip.get(),
        detail=json.loads(json.dumps(detail or {}, default=str)),
    )
    # No savepoint: inside a caller's transaction a failed audit row must undo the whole write.
    with transaction.atomic(savepoint=False):
        if not connection.salus_audit_defer(ev):  # type: ignore[attr-defined]  # from the project's backends (salus.core.backends.chain), unknown to the stubs' wrapper type
            chain([ev])
    return ev


def chain(events: list, updates: Sequence[tuple[str, list[Any]]] = (), commit=None) -> None:
    """Run a write's last statements, in the current transaction: ``updates`` (each an UPDATE
    of exactly one existing row, in the order given), then append ``events`` (unsaved, in the
    order they happened) to the chain, holding the head's lock from here to the transaction's
    end.

    Called by the database connection just before a write commits (``ChainAtCommit``), so
    these locks are the last a write takes and are held only for these statements. On
    PostgreSQL they go in two round trips (psycopg's pipeline mode): the updates with the
    head's lock, then the audit rows with the head's move and, given ``commit``, the COMMIT.
    """
    pipelined = bool(events) and connection.vendor == "postgresql"
    with connection.wrap_database_errors, (connection.connection.pipeline() if pipelined else nullcontext()):
        cursors = [_execute(sql, params) for sql, params in updates]
        prev_hash = _lock_head() if events else ""
        # The head's row has come back, so have the updates' counts (the first round trip).
        for cursor in cursors:
            _check_one_row(cursor)
        if events:
            for ev in events:
                ev.prev_hash = prev_hash
                # ``at`` is stored at microsecond precision, as read back, so the hash verifies.
                ev.hash = prev_hash = compute_hash(prev_hash, ev)
            _insert_and_move_head(events, prev_hash)
        if pipelined and commit is not None:
            commit()


def update_one_row(sql: str, params: list) -> None:
    """Run an UPDATE that must change exactly one row (see :func:`chain`)."""
    _check_one_row(_execute(sql, params))


def _execute(sql: str, params: list):
    cursor = connection.cursor()
    cursor.execute(sql, params)
    return cursor


def _check_one_row(cursor) -> None:
    count = cursor.rowcount
    cursor.close()
    if count != 1:
        raise DatabaseError(f"a write's last statements: an update changed {count} rows instead of one")


# Every write in Salus reads and moves the chain head, so these two statements on its one row
# are plain SQL: the ORM spends several times more CPU compiling such a query than the database
# spends running it (about 0.14 ms against 0.02 ms; docs/decisions/0004).
def _head_table() -> str:
    from salus.core.models import AuditHead

    return connection.ops.quote_name(AuditHead._meta.db_table)


def _lock_head() -> str:
    """The hash of the newest event, with the head row locked until the transaction ends
    (SELECT ... FOR UPDATE; on SQLite the transaction already holds the database's write lock).
    Creates the head on the first event."""
    from salus.core.models import AuditHead

    if connection.get_autocommit():
        raise TransactionManagementError("the audit chain can only be locked inside a transaction")
    sql = f"SELECT last_hash FROM {_head_table()} WHERE id = %s"
    if connection.features.has_select_for_update:
        sql += " FOR UPDATE"
    with connection.cursor() as cursor:
        cursor.execute(sql, [1])
        row = cursor.fetchone()
    if row is not None:
        return row[0]
    head, _ = AuditHead.objects.select_for_update().get_or_create(id=1, defaults={"last_hash": GENESIS})
    return head.last_hash


def _insert_and_move_head(events: list, new_hash: str) -> None:
    """Insert the chained ``events`` and make ``new_hash`` the head's."""
    from salus.core import plainsql

    move = f"UPDATE {_head_table()} SET last_hash = %s WHERE id = %s"
    # Values prepared as by save() (salus.core.plainsql), without compiling a query per write.
    with connection.cursor() as cursor:
        for n, batch in enumerate(plainsql.insert_batches(events)):
            insert, params = plainsql.insert_sql(batch)
            if n == 0 and connection.vendor == "postgresql":
                # One statement: a round trip fewer while the head (and the write's stock
                # levels) are locked.
                cursor.execute(f"WITH moved AS ({move}) {insert}", [new_hash, 1, *params])
            else:
                cursor.execute(insert, params)
        if connection.vendor != "postgresql":
            cursor.execute(move, [new_hash, 1])
    plainsql.saved(events)


@dataclass
class VerifyResult:
    ok: bool
    checked: int
    first_bad_seq: int | None = None
    reason: str = ""


def verify() -> VerifyResult:
    """Walk the chain from the first row; report the first row that does not fit."""
    from salus.core.models import AuditEvent, AuditHead

    prev = GENESIS
    n = 0
    for ev in AuditEvent.objects.order_by("seq").iterator(chunk_size=2000):
        n += 1
        if ev.prev_hash != prev:
            return VerifyResult(False, n, ev.seq, "row does not follow the previous row (deleted or inserted row)")
        if compute_hash(prev, ev) != ev.hash:
            return VerifyResult(False, n, ev.seq, "row content does not match its hash (changed row)")
        prev = ev.hash
    head = AuditHead.objects.filter(id=1).first()
    if head is not None and head.last_hash != prev:
        return VerifyResult(False, n, None, "the newest rows are missing (truncated log)")
    return VerifyResult(True, n)
