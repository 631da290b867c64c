"""SQLite with writers queued by the kernel instead of SQLite's sleeping busy handler.

SQLite lets one writer at a time hold the database. When a second writer finds it taken, SQLite's
busy handler sleeps and retries with growing pauses (up to 100 ms each), so under many
concurrent writers a few requests wait far longer than the work takes: the tail latency of
recording contacts grows to seconds. Here every write transaction first takes an exclusive
``flock`` on ``<database>.write-lock``: waiting writers sleep in the kernel and wake the moment the
lock is free, in arrival order, and SQLite never sees two writers at once. Readers (WAL) are not
affected. In-memory databases (the test suite) need no lock. Audit events are chained at commit
(``salus.core.backends.chain``).

A write outside any transaction (Django saves one row, or runs ``QuerySet.update()``, in
autocommit mode without BEGIN) takes the same lock for its one statement; otherwise it would
meet a busy database in SQLite's sleeping busy handler, which under a steady stream of writers
can keep it waiting for seconds.
"""

from __future__ import annotations

import contextlib
import fcntl
import os

from django.db.backends.sqlite3 import base

from salus.core.backends.chain import ChainAtCommit

# Statements that write, as Django's SQLite backend writes them.
_WRITES = ("INSERT", "UPDATE", "DELETE", "REPLACE")


def write_lock_path(database_name: str | None) -> str | None:
    """The lock file every writer of the database file ``database_name`` holds; None in memory."""
    name = str(database_name or "")
    if not name or name == ":memory:" or name.startswith("file:") or "mode=memory" in name:
        return None
    return name + ".write-lock"


@contextlib.contextmanager
def holding_write_lock(database_name: str | None, held_here: bool = False):
    """Hold the write lock of ``database_name`` (no writer anywhere runs meanwhile) for the
    block; ``held_here``: the calling thread holds it already (a second hold would wait for
    itself)."""
    path = write_lock_path(database_name)
    if path is None or held_here:
        yield
        return
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # releases the lock


class _QueuedCursor(base.SQLiteCursorWrapper):
    """Django's cursor; a write statement run in autocommit mode holds the write lock."""

    salus_db: DatabaseWrapper

    def _autocommit_write(self, query: str) -> bool:
        db = self.salus_db
        return not db.in_atomic_block and not db._salus_locked and query.lstrip()[:7].upper().startswith(_WRITES)

    def _queued(self, run, query, params):
        """Run ``run(query, params)``, under the write lock when it is an autocommit write."""
        if not self._autocommit_write(query):
            return run(query, params)
        self.salus_db._salus_acquire()
        try:
            return run(query, params)
        finally:
            self.salus_db._salus_release()

    def execute(self, query, params=None):
        return self._queued(super().execute, query, params)

    def executemany(self, query, param_list):
        return self._queued(super().executemany, query, param_list)


class DatabaseWrapper(ChainAtCommit, base.DatabaseWrapper):
    _salus_lock_fd: int | None = None
    _salus_locked = False

    def create_cursor(self, name=None):
        if self._salus_lock_path() is None:
            return super().create_cursor(name)
        cursor = self.connection.cursor(factory=_QueuedCursor)
        cursor.salus_db = self
        return cursor

    def _salus_lock_path(self) -> str | None:
        return write_lock_path(self.settings_dict.get("NAME"))

    def _salus_acquire(self) -> None:
        path = self._salus_lock_path()
        if path is None:
            return
        if self._salus_lock_fd is None:
            self._salus_lock_fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        fcntl.flock(self._salus_lock_fd, fcntl.LOCK_EX)
        self._salus_locked = True

    def _salus_release(self) -> None:
        if self._salus_locked and self._salus_lock_fd is not None:
            fcntl.flock(self._salus_lock_fd, fcntl.LOCK_UN)
        self._salus_locked = False

    def _start_transaction_under_autocommit(self):
        self._salus_acquire()
        try:
            super()._start_transaction_under_autocommit()  # type: ignore[misc]  # private: not in the stubs
        except BaseException:
            self._salus_release()
            raise

    def _commit(self):
        try:
            return super()._commit()  # type: ignore[misc]  # private: not in the stubs
        finally:
            self._salus_release()

    def _rollback(self):
        try:
            return super()._rollback()  # type: ignore[misc]  # private: not in the stubs
        finally:
            self._salus_release()

    def _close(self):
        try:
            return super()._close()  # type: ignore[misc]  # private: not in the stubs
        finally:
            self._salus_release()
            if self._salus_lock_fd is not None:
                os.close(self._salus_lock_fd)
                self._salus_lock_fd = None
