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


def test_other_keys_do_not_wait():
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
