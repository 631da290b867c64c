"""The SQLite backend queues writers on a file lock instead of SQLite's sleeping busy handler.

Writes outside a transaction queue on the lock too: Django saves a single row (a token's last
use, a session) in autocommit mode, without BEGIN, and such a write must wait for the lock in
the kernel, not meet a busy database (with SQLite's busy handler: sleeping and retrying, for
seconds under a steady stream of contacts).
"""

import threading
import time

import pytest
from django.db import connections

from salus.core.backends.sqlite3.base import DatabaseWrapper


def _wrapper(path):
    settings = dict(connections["default"].settings_dict, NAME=str(path), ENGINE="salus.core.backends.sqlite3")
    # No busy timeout: without the file lock the second writer would fail at once ("database is
    # locked"); with it, the writer waits in the kernel.
    settings["OPTIONS"] = {"timeout": 0}
    w = DatabaseWrapper(settings, alias=f"lock-test-{id(settings)}")
    w.inc_thread_sharing()  # used from a second thread below
    return w


@pytest.mark.django_db
def test_it_makes_a_second_writer_wait_for_the_first_to_commit(tmp_path):
    db = tmp_path / "t.sqlite3"
    a, b = _wrapper(db), _wrapper(db)
    with a.cursor() as cur:
        cur.execute("CREATE TABLE t (x INTEGER)")
    a._start_transaction_under_autocommit()
    a.cursor().execute("INSERT INTO t VALUES (1)")
    order = []

    def second_writer():
        b.ensure_connection()
        b._start_transaction_under_autocommit()  # blocks on the lock until ``a`` commits
        order.append("b started")
        b.cursor().execute("INSERT INTO t VALUES (2)")
        b.commit()

    t = threading.Thread(target=second_writer)
    t.start()
    time.sleep(0.3)
    order.append("a commits")
    a.commit()
    t.join(5)
    assert order == ["a commits", "b started"]
    with a.cursor() as cur:
        cur.execute("SELECT count(*) FROM t")
        assert cur.fetchone()[0] == 2
    a.close()
    b.close()


def _starts_a_transaction_soon(wrapper, seconds: float = 2) -> bool:
    """Whether ``wrapper`` can begin (and roll back) a write transaction, from another thread,
    within ``seconds``: the write lock is free."""
    done = threading.Event()

    def writer():
        wrapper.ensure_connection()
        wrapper._start_transaction_under_autocommit()
        wrapper.rollback()
        done.set()

    threading.Thread(target=writer, daemon=True).start()
    return done.wait(seconds)


@pytest.mark.django_db
def test_it_releases_the_lock_on_rollback(tmp_path):
    db = tmp_path / "t.sqlite3"
    a, b = _wrapper(db), _wrapper(db)
    a.ensure_connection()
    a._start_transaction_under_autocommit()
    a.rollback()
    assert _starts_a_transaction_soon(b), "a rolled-back transaction must free the write lock"
    a.close()
    b.close()


def test_it_takes_no_lock_for_an_in_memory_database():
    w = DatabaseWrapper(dict(connections["default"].settings_dict, NAME=":memory:"), alias="mem-test")
    assert w._salus_lock_path() is None


@pytest.mark.django_db
@pytest.mark.parametrize("statement", ["INSERT INTO t VALUES (2)", "  update t SET x = x + 10", "DELETE FROM t"])
def test_it_makes_an_autocommit_write_wait_for_a_transaction(tmp_path, statement):
    db = tmp_path / "t.sqlite3"
    a, b = _wrapper(db), _wrapper(db)
    with a.cursor() as cur:
        cur.execute("CREATE TABLE t (x INTEGER)")
    a._start_transaction_under_autocommit()
    a.cursor().execute("INSERT INTO t VALUES (1)")
    order, errors = [], []

    def autocommit_writer():
        try:
            b.ensure_connection()
            assert b.get_autocommit() and not b.in_atomic_block
            b.cursor().execute(statement)  # waits for ``a`` to commit
            order.append("b wrote")
        except Exception as exc:  # reported below: the thread must not swallow it
            errors.append(exc)

    t = threading.Thread(target=autocommit_writer)
    t.start()
    time.sleep(0.3)
    order.append("a commits")
    a.commit()
    t.join(5)
    assert errors == [] and order == ["a commits", "b wrote"]
    # The lock is free again: a transaction can start at once.
    assert _starts_a_transaction_soon(a)
    a.close()
    b.close()


@pytest.mark.django_db
def test_it_lets_reads_run_while_a_transaction_writes(tmp_path):
    db = tmp_path / "t.sqlite3"
    a, b = _wrapper(db), _wrapper(db)
    with a.cursor() as cur:
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("CREATE TABLE t (x INTEGER)")
        cur.execute("INSERT INTO t VALUES (1)")
    a._start_transaction_under_autocommit()
    a.cursor().execute("INSERT INTO t VALUES (2)")
    with b.cursor() as cur:
        cur.execute("SELECT count(*) FROM t")
        assert cur.fetchone()[0] == 1  # the committed state, at once
    a.rollback()
    a.close()
    b.close()
