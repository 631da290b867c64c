"""Audit events chained, and hot rows updated, when their write commits: their locks are held only at the end.

The audit log is one hash chain (``salus.core.audit``): appending an event reads the newest
hash and moves it, under a lock on the chain's head that lasts until the transaction ends. If
events were chained where they happen, a write that records an event early (a client
registered) would hold the head through every statement after it, and every other write in the
program would wait that long: on PostgreSQL the whole program's writes went one at a time at
the pace of the slowest. And a write that locked the head early and a stock level later could
deadlock with one that locked them the other way round.

So a write's events wait in a list on its database connection and are chained in the last
statements before its ``COMMIT``: lock the head, insert the events in the order they happened,
move the head, commit. The head is then always the last lock a write takes, held for a few
statements, and no writer waits for another lock while holding it (no deadlock through it).

Rows that many writes update, the stock levels of a site, wait the same way
(``salus_update_last``): they are updated just before the chain, in one order, so each stays
locked only for the write's last round trips (two on PostgreSQL: ``salus.core.audit.chain``).
See docs/decisions/0005.

"The end of a write" is the end of its outermost transaction; under Django's test cases (which
wrap every test in transactions of their own and never commit) it is the end of the outermost
block that is not the test case's. Events recorded inside a savepoint that is rolled back are
dropped with it, as Django drops ``on_commit`` callbacks; a rolled-back transaction drops all.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db import DatabaseError

if TYPE_CHECKING:
    # What the mixin is mixed into, so that the wrapper's own attributes are known.
    from django.db.backends.base.base import BaseDatabaseWrapper as _WrapperBase
else:
    _WrapperBase = object


class ChainAtCommit(_WrapperBase):
    """A mixin for Django's ``DatabaseWrapper`` classes (see the module docstring)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # For the write in progress: (savepoint ids active when recorded, event) and
        # (savepoint ids, order key, sql, params) of the hot-row updates.
        self.salus_audit_pending: list[tuple[tuple, object]] = []
        self.salus_updates_pending: list[tuple[tuple, tuple, str, list]] = []

    # Called by salus.core.audit.record and by writers of hot rows --------------------------

    def _salus_can_defer(self) -> bool:
        """Whether an enclosing block will run this write's last statements when it ends."""
        blocks = self.atomic_blocks
        first_own = next((i for i, b in enumerate(blocks) if not getattr(b, "_from_testcase", False)), None)
        if first_own is None:
            return False
        if first_own > 0:
            # Nested in a test case's blocks: its end is seen only if it has a savepoint
            # (savepoint_commit below). ``savepoint_ids`` has one entry per block but the
            # outermost one (or per block, when the outermost began with autocommit off).
            offset = len(blocks) - len(self.savepoint_ids)
            if self.savepoint_ids[first_own - offset] is None:
                return False
        return True

    def salus_audit_defer(self, event) -> bool:
        """Keep ``event`` to be chained when the current write ends; False if no enclosing
        block will chain it (the caller then chains it at once)."""
        if not self._salus_can_defer():
            return False
        self.salus_audit_pending.append((tuple(self.savepoint_ids), event))
        return True

    def salus_update_last(self, order_key: tuple, sql: str, params: list) -> None:
        """Run ``sql``, an UPDATE of exactly one existing row that many writes update (a stock
        level), among the write's last statements: in ``order_key`` order (one lock order for
        every write), just before the audit chain, so that the row stays locked only for the
        write's last round trips. Outside a write it runs at once."""
        if not self._salus_can_defer():
            from salus.core import audit

            audit.update_one_row(sql, params)
            return
        self.salus_updates_pending.append((tuple(self.savepoint_ids), order_key, sql, params))

    def _salus_last_statements(self, commit=None) -> None:
        from salus.core import audit

        events, self.salus_audit_pending = self.salus_audit_pending, []
        updates, self.salus_updates_pending = self.salus_updates_pending, []
        if not events and not updates:
            return
        try:
            audit.chain(
                [event for _sids, event in events],
                updates=[(sql, params) for _sids, _key, sql, params in sorted(updates, key=lambda u: u[1])],
                commit=commit,
            )
        except DatabaseError:
            raise
        except Exception as exc:
            # Django rolls a failed commit back only on DatabaseError; anything else would leave
            # the transaction open on a connection about to return to autocommit.
            raise DatabaseError("the last statements of this write could not be run") from exc

    def _salus_drop(self, sid=None) -> None:
        """Forget what was recorded inside savepoint ``sid`` (everything if None)."""
        if sid is None:
            self.salus_audit_pending, self.salus_updates_pending = [], []
            return
        self.salus_audit_pending = [p for p in self.salus_audit_pending if sid not in p[0]]
        self.salus_updates_pending = [p for p in self.salus_updates_pending if sid not in p[0]]

    # Transaction ends -------------------------------------------------------------------------

    def commit(self):
        # The COMMIT itself may join the last round trip (audit.chain).
        self._salus_last_statements(commit=getattr(self.connection, "commit", None))
        super().commit()

    def rollback(self):
        self._salus_drop()
        super().rollback()

    def savepoint_commit(self, sid):
        if (self.salus_audit_pending or self.salus_updates_pending) and all(
            getattr(b, "_from_testcase", False) for b in self.atomic_blocks
        ):
            # The outermost block of the write (inside a test case's blocks) is ending.
            self._salus_last_statements()
        super().savepoint_commit(sid)

    def savepoint_rollback(self, sid):
        self._salus_drop(sid)
        super().savepoint_rollback(sid)

    def close(self):
        self._salus_drop()
        super().close()
