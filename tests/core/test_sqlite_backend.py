"""The SQLite backend queues writers on a file lock instead of SQLite's sleeping busy handler."""

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


@pytest.mark.django_db
def test_it_releases_the_lock_on_rollback(tmp_path):
    db = tmp_path / "t.sqlite3"
    a, b = _wrapper(db), _wrapper(db)
    a.ensure_connection()
    a._start_transaction_under_autocommit()
    a.rollback()
    done = threading.Event()

    def writer():
        b.ensure_connection()
        b._start_transaction_under_autocommit()
        b.rollback()
        done.set()

    threading.Thread(target=writer).start()
    assert done.wait(2), "a rolled-back transaction must free the write lock"
    a.close()
    b.close()


def test_it_takes_no_lock_for_an_in_memory_database():
    w = DatabaseWrapper(dict(connections["default"].settings_dict, NAME=":memory:"), alias="mem-test")
    assert w._salus_lock_path() is None
