"""salus.core.kept: an answer kept for a while, counted by one thread at a time."""

import threading
import time

import pytest
from django.core.cache import cache

from salus.core.kept import kept


@pytest.fixture(autouse=True)
def empty_cache():
    cache.clear()
    yield
    cache.clear()


def test_an_answer_is_counted_once_and_kept():
    calls = []
    assert kept("k", 60, lambda: calls.append(1) or 42) == 42
    assert kept("k", 60, lambda: calls.append(1) or 43) == 42
    assert calls == [1]


def test_an_answer_of_none_is_kept_too():
    calls = []
    assert kept("none", 60, lambda: calls.append(1)) is None
    assert kept("none", 60, lambda: calls.append(1)) is None
    assert calls == [1]


def test_a_thread_asking_while_another_counts_waits_for_its_answer():
    started, release = threading.Event(), threading.Event()
    calls = []

    def slow():
        calls.append("slow")
        started.set()
        release.wait(10)
        return "counted"

    answers = []
    first = threading.Thread(target=lambda: answers.append(kept("same", 60, slow)))
    first.start()
    assert started.wait(10)
    second = threading.Thread(target=lambda: answers.append(kept("same", 60, lambda: calls.append("fast") or "again")))
    second.start()
    time.sleep(0.2)  # the second thread is at the lock by now (without it, it would count at once)
    release.set()
    first.join(10)
    second.join(10)
    assert calls == ["slow"]
    assert answers == ["counted", "counted"]


def bucket(key):
    import hashlib

    from salus.core.kept import LOCK_BUCKETS

    return int(hashlib.sha256(key.encode()).hexdigest()[:8], 16) % LOCK_BUCKETS


def test_other_keys_do_not_wait():
    assert bucket("one") != bucket("two")  # answers in one bucket of lock files do wait
    started, release = threading.Event(), threading.Event()

    def slow():
        started.set()
        release.wait(10)
        return 1

    first = threading.Thread(target=lambda: kept("one", 60, slow))
    first.start()
    assert started.wait(10)
    try:
        assert kept("two", 60, lambda: 2) == 2
    finally:
        release.set()
        first.join(10)


def test_a_failed_count_keeps_nothing_and_the_next_asker_counts():
    def fails():
        raise RuntimeError("the database went away")

    with pytest.raises(RuntimeError):
        kept("failing", 60, fails)
    assert kept("failing", 60, lambda: "now") == "now"


def test_the_cache_is_in_files_of_the_data_directory_for_the_owner_only(settings):
    """The server's processes share one cache (settings.CACHES), and only its owner reads it."""
    import stat
    from pathlib import Path

    location = Path(settings.CACHES["default"]["LOCATION"])
    assert settings.CACHES["default"]["BACKEND"].endswith(".FileBasedCache")
    assert location.parent == settings.SALUS_HOME
    kept("owner-only", 60, lambda: [1, 2, 3])
    assert stat.S_IMODE(location.stat().st_mode) == 0o700
    files = list(location.iterdir())
    assert files
    assert {stat.S_IMODE(f.stat().st_mode) for f in files} == {0o600}


def test_an_answer_worked_out_within_another_in_the_same_bucket_does_not_wait_for_it():
    """The outer answer holds its bucket's lock file; the inner one, in the same bucket, must
    not wait for it (the same thread holds it)."""
    inner = next(f"inner-{n}" for n in range(10_000) if bucket(f"inner-{n}") == bucket("outer"))
    answers = []
    worker = threading.Thread(target=lambda: answers.append(kept("outer", 60, lambda: kept(inner, 60, lambda: 7) + 1)))
    worker.start()
    worker.join(10)
    assert answers == [8]


# Works an answer out in a process of its own, as a server's worker would.
WORKER = """
import os, sys, time
import django
django.setup()
from salus.core.kept import kept

def work():
    with open(sys.argv[1], "a") as log:
        log.write(f"{os.getpid()}\\n")
    time.sleep(3)
    return os.getpid()

print(kept("shared-by-processes", 60, work))
"""


def test_a_process_asking_while_another_works_the_answer_out_waits_for_it(tmp_path):
    import os
    import subprocess
    import sys

    log = tmp_path / "worked"
    env = os.environ | {"SALUS_HOME": str(tmp_path / "home"), "SALUS_TEST_KEEP_HOME": "1",
                        "DJANGO_SETTINGS_MODULE": "salus.test_settings"}
    workers = [subprocess.Popen([sys.executable, "-c", WORKER, str(log)], env=env, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True) for _ in range(2)]
    answers = [w.communicate(timeout=60) for w in workers]
    assert [w.returncode for w in workers] == [0, 0], answers
    worked = log.read_text().split()
    assert len(worked) == 1  # without the lock file, both would: they start together
    assert {out.strip() for out, _err in answers} == {worked[0]}


def test_a_cache_that_cannot_be_read_or_written_only_loses_the_saving(monkeypatch, caplog):
    def broken(*args, **kwargs):
        raise OSError("No space left on device")

    monkeypatch.setattr(cache, "set", broken)
    assert kept("unwritable", 60, lambda: "worked out") == "worked out"
    monkeypatch.setattr(cache, "get", broken)
    assert kept("unreadable", 60, lambda: "worked out again") == "worked out again"
    assert "could not be written" in caplog.text and "could not be read" in caplog.text
